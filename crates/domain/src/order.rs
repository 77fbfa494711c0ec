//! An order is one service instance bought from one plan by one project. Its plan never
//! changes: switching plans ends the order and opens another.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};

/// Where an order is in its life: `pending` → `consuming` → `ending` → `ended`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Created, first charge not taken.
    Pending,
    /// Paid and running.
    Consuming,
    /// Past its paid-until deadline with a renewal unpaid; still running during the grace period.
    Ending,
    /// Finished; nothing more is charged.
    Ended,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Consuming,
        OrderStatus::Ending,
        OrderStatus::Ended,
    ];

    /// The original schema's numeric code (STATUS TINYINT).
    pub fn code(self) -> i16 {
        match self {
            OrderStatus::Pending => 0,
            OrderStatus::Consuming => 5,
            OrderStatus::Ending => 10,
            OrderStatus::Ended => 15,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Consuming => "consuming",
            OrderStatus::Ending => "ending",
            OrderStatus::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.label() == text)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "status must be one of pending, consuming, ending, ended (got {text:?})"
                ))
            })
    }

    /// Whether the order may still be ended (by cancel, switch or non-payment).
    pub fn is_open(self) -> bool {
        self != OrderStatus::Ended
    }

    /// The state machine: statuses only move forward, except that a payment during the
    /// grace period brings an `ending` order back to `consuming`.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Consuming)
                | (Pending, Ended)
                | (Consuming, Ending)
                | (Consuming, Ended)
                | (Ending, Consuming)
                | (Ending, Ended)
        )
    }
}

/// One order: one service instance of a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub project: ProjectId,
    pub region: Region,
    pub plan_id: PlanId,
    pub plan_type: PlanType,
    pub quantities: Quantity,
    pub start_time: DateTime<Utc>,
    /// Set once the order has ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Paid until (prepaid), or next settlement (postpaid).
    pub deadline_time: DateTime<Utc>,
    pub status: OrderStatus,
    pub creator: UserName,
    pub resource_name: Option<ResourceName>,
    /// Sequence number of the order's latest consumption row; 0 before the first.
    pub last_consume_id: u32,
}

impl Order {
    /// The next consumption sequence number.
    pub fn next_consume_id(&self) -> Result<u32> {
        self.last_consume_id
            .checked_add(1)
            .ok_or_else(|| Error::Internal(format!("order {} has too many rows", self.id)))
    }

    /// Ends the order at `at`, checking the state machine.
    pub fn end(&mut self, at: DateTime<Utc>) -> Result<()> {
        if !self.status.can_become(OrderStatus::Ended) {
            return Err(Error::Conflict(format!(
                "order {} is already {}",
                self.id,
                self.status.label()
            )));
        }
        self.status = OrderStatus::Ended;
        self.end_time = Some(at);
        Ok(())
    }
}
