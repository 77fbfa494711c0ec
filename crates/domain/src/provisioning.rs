//! What an order creates on the platform, by plan type. Volumes and service instances are
//! created before the order is charged (a name the platform refuses costs nothing) and
//! released when it ends; a quota is set after the charge, since setting it cannot fail
//! for a name, and reset when the order ends.

use chrono::{DateTime, Utc};

use crate::ids::{OrderId, PlanId, PlanType, ProjectId, Region, ResourceName, UserName};
use crate::order::Order;

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

/// A platform resource as the provisioning port creates and releases it: what an order
/// provides, described without the order, so that a resource whose order was never written
/// (its creation timed out, or the process died before the commit) can still be released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The order that provides (or was to provide) it.
    pub order_id: OrderId,
    /// Whose resource it is.
    pub project: ProjectId,
    /// The region whose platform holds it.
    pub region: Region,
    /// The plan whose sizes the platform adapter reads.
    pub plan_id: PlanId,
    /// The plan's type; with the project, region and name it identifies a volume or instance.
    pub plan_type: PlanType,
    /// What the platform is asked to create or release.
    pub kind: ResourceKind,
    /// The volume's or instance's name; `None` for a quota.
    pub name: Option<ResourceName>,
    /// Who asked for it; platforms record an owner.
    pub creator: UserName,
}

impl Resource {
    /// The resource `order` provides; `None` when its plan type provides none.
    pub fn of(order: &Order) -> Option<Resource> {
        Some(Resource {
            order_id: order.id.clone(),
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            plan_type: order.plan_type.clone(),
            kind: ResourceKind::of(&order.plan_type)?,
            name: order.resource_name.clone(),
            creator: order.creator.clone(),
        })
    }
}

/// What a queued resource task does when it runs. Both re-check the store first, so a task
/// run late (or twice) never undoes what a newer order set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskAction {
    /// Release the named resource, unless an open order holds it by then.
    Release,
    /// Set the project's quota in the region to what the open quota order there provides,
    /// or to nothing when none is open.
    SyncQuota,
}

impl TaskAction {
    /// The stored name.
    pub fn label(self) -> &'static str {
        match self {
            TaskAction::Release => "release",
            TaskAction::SyncQuota => "sync-quota",
        }
    }
}

/// A task to queue, written in the transaction of the change that causes it (an outbox).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTask {
    /// What the task acts on, described without its order (see [`Resource`]).
    pub resource: Resource,
    /// What it does.
    pub action: TaskAction,
    /// When it may first run: now, or later for a safety net (see
    /// [`NewTask::release_unless_committed`]).
    pub due_at: DateTime<Utc>,
}

impl NewTask {
    /// The task that follows an order ending, or its quota changing: a volume or instance
    /// is released, a quota is set to what remains open.
    pub fn after_change(resource: Resource, now: DateTime<Utc>) -> NewTask {
        let action = match resource.kind {
            ResourceKind::Quota => TaskAction::SyncQuota,
            ResourceKind::Volume | ResourceKind::ServiceInstance => TaskAction::Release,
        };
        NewTask {
            resource,
            action,
            due_at: now,
        }
    }

    /// A release queued *before* the resource is created, due only at `due_at`: if the
    /// process dies before the order is written, it frees the resource; the commit that
    /// writes the order cancels it.
    pub fn release_unless_committed(resource: Resource, due_at: DateTime<Utc>) -> NewTask {
        NewTask {
            resource,
            action: TaskAction::Release,
            due_at,
        }
    }
}

/// A queued task, as the runner reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedTask {
    /// The queue's id, by which the runner claims and finishes it.
    pub id: u64,
    /// What the task acts on.
    pub resource: Resource,
    /// What it does.
    pub action: TaskAction,
    /// Runs so far that did not finish it.
    pub attempts: u32,
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
