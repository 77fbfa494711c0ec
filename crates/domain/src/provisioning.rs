//! What an order creates on the platform, by plan type. Volumes and service instances are
//! created before the order is charged (a name the platform refuses costs nothing) and
//! released when it ends; a quota is set after the charge, since setting it cannot fail
//! for a name, and reset when the order ends.

use crate::ids::PlanType;

/// The platform resource an order provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// A persistent volume (`volume` plans).
    Volume,
    /// A backing-service instance (`bsi` plans).
    ServiceInstance,
    /// The project's CPU and memory quota (`cpuquota`, `quota` and the original's
    /// `resources` plans).
    Quota,
}

impl ResourceKind {
    /// The resource a plan type provides; `None` for types that provide nothing on the
    /// platform (the order is only billed).
    pub fn of(plan_type: &PlanType) -> Option<ResourceKind> {
        match plan_type.as_str() {
            "volume" => Some(ResourceKind::Volume),
            "bsi" => Some(ResourceKind::ServiceInstance),
            "cpuquota" | "quota" | "resources" => Some(ResourceKind::Quota),
            _ => None,
        }
    }

    /// Whether the resource is created before the order is charged.
    pub fn before_charge(self) -> bool {
        matches!(self, ResourceKind::Volume | ResourceKind::ServiceInstance)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn kind(text: &str) -> Option<ResourceKind> {
        ResourceKind::of(&PlanType::parse(text).unwrap())
    }

    #[test]
    fn plan_types_map_to_their_resources() {
        assert_eq!(kind("volume"), Some(ResourceKind::Volume));
        assert_eq!(kind("bsi"), Some(ResourceKind::ServiceInstance));
        assert_eq!(kind("cpuquota"), Some(ResourceKind::Quota));
        assert_eq!(kind("quota"), Some(ResourceKind::Quota));
        assert_eq!(kind("resources"), Some(ResourceKind::Quota));
        assert_eq!(kind("gpu"), None);
    }

    #[test]
    fn only_named_resources_come_before_the_charge() {
        assert!(ResourceKind::Volume.before_charge());
        assert!(ResourceKind::ServiceInstance.before_charge());
        assert!(!ResourceKind::Quota.before_charge());
    }
}
