//! The plan catalog: query string and plan JSON.

use domain::plan::{ChargingMode, Plan};
use domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::labels;

/// `GET /plans` query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPlansQuery {
    /// Only this region's plans.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub region: Option<String>,
}

/// A plan as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanJson {
    #[schema(example = "volume-10g-monthly")]
    pub plan_id: String,
    /// `cpuquota`, `quota`, `resources`, `volume`, `bsi`, …
    #[serde(rename = "type")]
    #[schema(example = "volume")]
    pub plan_type: String,
    #[schema(example = "cn-north-1")]
    pub region: String,
    /// `prepaid` or `postpaid`.
    #[schema(schema_with = labels::charging_mode)]
    pub charging_mode: &'static str,
    /// Price of one cycle for a quantity of one.
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub price: Money,
    /// `month` or `year`.
    #[schema(schema_with = labels::cycle)]
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
