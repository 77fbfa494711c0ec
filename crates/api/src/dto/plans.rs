//! The plan catalog: query string and plan JSON.

use domain::plan::{ChargingMode, Plan};
use domain::Money;
use serde::{Deserialize, Serialize};

/// `GET /plans` query string.
#[derive(Debug, Default, Deserialize)]
pub struct ListPlansQuery {
    pub region: Option<String>,
}

/// A plan as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanJson {
    pub plan_id: String,
    #[serde(rename = "type")]
    pub plan_type: String,
    pub region: String,
    /// `prepaid` or `postpaid`.
    pub charging_mode: &'static str,
    /// Price of one cycle for a quantity of one.
    pub price: Money,
    /// `month` or `year`.
    pub cycle: &'static str,
    pub requires_resource_name: bool,
    pub description: String,
}

/// `prepaid` or `postpaid`, as plans, orders and renewal reports show a charging mode.
pub fn mode_label(mode: ChargingMode) -> &'static str {
    match mode {
        ChargingMode::Prepaid => "prepaid",
        ChargingMode::Postpaid => "postpaid",
    }
}

impl From<&Plan> for PlanJson {
    fn from(plan: &Plan) -> Self {
        Self {
            plan_id: plan.id.to_string(),
            plan_type: plan.plan_type.to_string(),
            region: plan.region.to_string(),
            charging_mode: mode_label(plan.mode),
            price: plan.price,
            cycle: plan.cycle.as_str(),
            requires_resource_name: plan.requires_resource_name,
            description: plan.description.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::cycle::Cycle;
    use domain::ids::{PlanId, PlanType, Region};
    use serde_json::json;

    use super::*;

    #[test]
    fn plan_json_has_the_contract_keys() {
        let plan = Plan {
            id: PlanId::parse("vol-m").unwrap(),
            plan_type: PlanType::parse("volume").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            mode: ChargingMode::Prepaid,
            price: Money::from_minor(125_000),
            cycle: Cycle::Month,
            requires_resource_name: true,
            description: "10 GiB volume".into(),
        };
        assert_eq!(
            serde_json::to_value(PlanJson::from(&plan)).unwrap(),
            json!({
                "planId": "vol-m", "type": "volume", "region": "cn-north-1",
                "chargingMode": "prepaid", "price": "12.50", "cycle": "month",
                "requiresResourceName": true, "description": "10 GiB volume"
            })
        );
    }
}
