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
    #[serde(rename = "planId")]
    pub id: PlanId,
    #[serde(rename = "type")]
    pub plan_type: PlanType,
    pub region: Region,
    #[serde(rename = "chargingMode")]
    pub mode: ChargingMode,
    /// Price of one cycle for a quantity of one.
    pub price: Money,
    pub cycle: Cycle,
    /// Whether an order must name the platform resource it provides.
    pub requires_resource_name: bool,
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
