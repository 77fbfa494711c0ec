//! The values a console shows in its drop-downs (51idc's `resource_type`, `order_type`,
//! `order_state`, `account_type`), with an English and a Chinese label, built from the domain's own enums
//! and the catalog's plan types so that a console never hard-codes a list that can drift.

use std::collections::BTreeSet;

use crate::account::AccountType;
use crate::ids::PlanType;
use crate::order::OrderStatus;
use crate::order_type::OrderType;

/// One value of an enumeration, as a filter takes it, with its labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enumerated {
    /// What a filter takes and a result shows.
    pub value: String,
    /// The English label.
    pub en: String,
    /// The Chinese label.
    pub zh: String,
}

impl Enumerated {
    fn new(value: &str, en: &str, zh: &str) -> Self {
        Self {
            value: value.to_owned(),
            en: en.to_owned(),
            zh: zh.to_owned(),
        }
    }
}

/// Every order state, in the order an order goes through them.
pub fn order_states() -> Vec<Enumerated> {
    OrderStatus::ALL
        .into_iter()
        .map(|status| {
            let (en, zh) = match status {
                OrderStatus::Pending => ("Pending payment", "待支付"),
                OrderStatus::Consuming => ("In use", "使用中"),
                OrderStatus::Ending => ("Overdue, in grace period", "欠费宽限中"),
                OrderStatus::Ended => ("Ended", "已结束"),
            };
            Enumerated::new(status.label(), en, zh)
        })
        .collect()
}

/// Every order type.
pub fn order_types() -> Vec<Enumerated> {
    OrderType::ALL
        .into_iter()
        .map(|kind| {
            let (en, zh) = match kind {
                OrderType::New => ("New purchase", "新购"),
                OrderType::Switch => ("Plan switch", "变更"),
            };
            Enumerated::new(kind.label(), en, zh)
        })
        .collect()
}

/// Every account type: what a list's rows say they are, and what its `account_type`
/// filter takes (besides `all`).
pub fn account_types() -> Vec<Enumerated> {
    AccountType::ALL
        .into_iter()
        .map(|kind| {
            let (en, zh) = match kind {
                AccountType::Main => ("Main account", "主账号"),
                AccountType::Sub => ("Sub-account", "子账号"),
            };
            Enumerated::new(kind.label(), en, zh)
        })
        .collect()
}

/// The resource types of these plan types, once each, sorted: the types the platform
/// adapters know are labelled; any other type of the catalog is its own label.
pub fn resource_types(plan_types: impl IntoIterator<Item = PlanType>) -> Vec<Enumerated> {
    let distinct: BTreeSet<PlanType> = plan_types.into_iter().collect();
    distinct
        .iter()
        .map(|plan_type| {
            let value = plan_type.as_str();
            let (en, zh) = match value {
                "volume" => ("Persistent volume", "存储卷"),
                "bsi" => ("Backing service instance", "后端服务实例"),
                "cpuquota" | "quota" | "resources" => ("CPU and memory quota", "CPU与内存配额"),
                other => (other, other),
            };
            Enumerated::new(value, en, zh)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_state_and_type_is_listed_once_and_parses_back() {
        let states = order_states();
        assert_eq!(states.len(), OrderStatus::ALL.len());
        for state in &states {
            assert_eq!(
                OrderStatus::parse(&state.value).unwrap().label(),
                state.value
            );
            assert!(!state.en.is_empty() && !state.zh.is_empty());
        }
        let types = order_types();
        assert_eq!(types.len(), OrderType::ALL.len());
        for kind in &types {
            assert_eq!(OrderType::parse(&kind.value).unwrap().label(), kind.value);
        }
        let accounts = account_types();
        assert_eq!(accounts.len(), AccountType::ALL.len());
        for kind in &accounts {
            assert!(crate::account::AccountSelection::parse(Some(&kind.value)).is_ok());
            assert!(!kind.en.is_empty() && !kind.zh.is_empty());
        }
    }

    #[test]
    fn resource_types_are_distinct_sorted_and_unknown_ones_label_themselves() {
        let types = resource_types(
            ["volume", "cpuquota", "volume", "gpu"]
                .into_iter()
                .map(|t| PlanType::parse(t).unwrap()),
        );
        let values: Vec<&str> = types.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(values, ["cpuquota", "gpu", "volume"]);
        assert_eq!(types[1], Enumerated::new("gpu", "gpu", "gpu"));
        assert_eq!(types[2].zh, "存储卷");
    }
}
