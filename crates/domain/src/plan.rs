//! A plan of the catalog: what an order buys and how it is charged.

use serde::Serialize;

use crate::cycle::Cycle;
use crate::error::{Error, Result};
use crate::ids::{PlanId, PlanType, Quantity, Region};
use crate::money::Money;

/// When an order of the plan pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargingMode {
    /// Each cycle is paid when it starts.
    Prepaid,
    /// Each cycle is paid after it is used.
    Postpaid,
}

impl ChargingMode {
    /// Parses a catalog's spelling (`prepaid`, `postpaid`, any case). Errors:
    /// `InvalidParameter`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "prepaid" => Ok(ChargingMode::Prepaid),
            "postpaid" => Ok(ChargingMode::Postpaid),
            other => Err(Error::invalid(format!("unknown charging mode: {other}"))),
        }
    }
}

/// A plan as the catalog describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The id orders name the plan by.
    #[serde(rename = "planId")]
    pub id: PlanId,
    /// What kind of thing the plan sells (`volume`, `cpuquota`…): with the project, region
    /// and resource name, what makes two orders hold the same resource.
    #[serde(rename = "type")]
    pub plan_type: PlanType,
    /// Where the plan is sold; orders of the plan open in this region.
    pub region: Region,
    /// Whether orders pay each cycle before or after it.
    #[serde(rename = "chargingMode")]
    pub mode: ChargingMode,
    /// Price of one cycle for a quantity of one.
    pub price: Money,
    /// How long one paid period lasts.
    pub cycle: Cycle,
    /// Whether an order must name the platform resource it provides.
    pub requires_resource_name: bool,
    /// Free text for people choosing a plan.
    pub description: String,
}

impl Plan {
    /// The price of one cycle for `quantities` units.
    pub fn cycle_price(&self, quantities: Quantity) -> Result<Money> {
        self.price
            .checked_mul(quantities.get())
            .ok_or_else(|| Error::invalid("quantities too large for this plan's price"))
    }

    /// What an order pays when it starts: a prepaid plan pays its first cycle, a postpaid
    /// plan pays nothing up front.
    pub fn upfront_charge(&self, quantities: Quantity) -> Result<Money> {
        match self.mode {
            ChargingMode::Prepaid => self.cycle_price(quantities),
            ChargingMode::Postpaid => Ok(Money::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn plan(mode: ChargingMode, price: &str) -> Plan {
        Plan {
            id: PlanId::parse("plan-1").unwrap(),
            plan_type: PlanType::parse("volume").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            mode,
            price: price.parse().unwrap(),
            cycle: Cycle::Month,
            requires_resource_name: true,
            description: "10 GiB volume".into(),
        }
    }

    fn quantity(value: i64) -> Quantity {
        Quantity::new(value).unwrap()
    }

    #[test]
    fn cycle_price_is_the_price_times_the_quantities() {
        let plan = plan(ChargingMode::Prepaid, "12.5");
        assert_eq!(
            plan.cycle_price(quantity(1)),
            Ok(Money::from_minor(125_000))
        );
        assert_eq!(
            plan.cycle_price(quantity(3)),
            Ok(Money::from_minor(375_000))
        );
    }

    #[test]
    fn cycle_price_that_overflows_is_an_invalid_parameter() {
        let mut plan = plan(ChargingMode::Prepaid, "1");
        plan.price = Money::MAX;
        assert!(matches!(
            plan.cycle_price(quantity(2)),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn prepaid_plan_charges_its_first_cycle_up_front() {
        let plan = plan(ChargingMode::Prepaid, "99");
        assert_eq!(plan.upfront_charge(quantity(2)), Ok("198".parse().unwrap()));
    }

    #[test]
    fn postpaid_plan_charges_nothing_up_front() {
        let plan = plan(ChargingMode::Postpaid, "99");
        assert_eq!(plan.upfront_charge(quantity(2)), Ok(Money::ZERO));
    }

    #[test]
    fn charging_mode_parses_in_any_case() {
        let cases = [
            ("prepaid", ChargingMode::Prepaid),
            ("Prepaid", ChargingMode::Prepaid),
            (" postpaid ", ChargingMode::Postpaid),
            ("POSTPAID", ChargingMode::Postpaid),
        ];
        for (text, mode) in cases {
            assert_eq!(ChargingMode::parse(text), Ok(mode), "{text:?}");
        }
    }

    #[test]
    fn charging_mode_rejects_other_words() {
        for text in ["", "pre-paid", "prepay", "free"] {
            assert!(
                matches!(ChargingMode::parse(text), Err(Error::InvalidParameter(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn plan_serializes_with_the_catalogs_field_names() {
        let json = serde_json::to_value(plan(ChargingMode::Prepaid, "12.5")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "planId": "plan-1",
                "type": "volume",
                "region": "cn-north-1",
                "chargingMode": "prepaid",
                "price": "12.50",
                "cycle": "month",
                "requiresResourceName": true,
                "description": "10 GiB volume",
            })
        );
    }
}
