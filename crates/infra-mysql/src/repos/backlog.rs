//! How far behind the work queues are, for the server's gauges: the open payments the
//! settler still sends, the resource tasks not done, the webhook deliveries pending, and
//! the orders a renewal run should have moved on long ago. The jobs read these once per
//! run (never per scrape); each is an aggregate over one range of the queue's index.

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use domain::payment::{PaymentDirection, PaymentState};
use domain::provisioning::TaskAction;
use domain::renewal::RenewalQueue;
use domain::Result;

use crate::backend::{DbConnection, DbTime};
use crate::database::Database;
use crate::mapping::{
    action_code, direction_code, from_db_time, mode_code, state_code, to_db_time,
};
use crate::schema::{notification, payment, purchase_order, resource_task, webhook_delivery};

/// One queue's depth: how many wait, and since when the oldest has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Depth {
    pub count: u64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Depth {
    fn of((count, oldest): (i64, Option<DbTime>)) -> Self {
        Self {
            count: u64::try_from(count).unwrap_or(0),
            oldest: oldest.map(from_db_time),
        }
    }
}

/// Every queue's depth, one entry per label a gauge has (empty ones too, so a gauge falls
/// back to zero once its queue drains).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Payments the settler still sends ([`PaymentState::OPEN`]), by state and direction
    /// (credits are refunds queued for a charge service), aged from when they were recorded.
    pub payments: Vec<(PaymentState, PaymentDirection, Depth)>,
    /// Resource tasks not done (releases, quota settings), aged from when they were queued.
    pub tasks: Vec<(TaskAction, Depth)>,
    /// Webhook deliveries neither delivered nor given up, aged from their event.
    pub webhooks: Depth,
}

/// The queues' depths on the database.
#[derive(Clone, Debug)]
pub struct QueueStats {
    db: Database,
}

impl QueueStats {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Every queue's depth, in one read. Errors: `Unavailable`, `Internal`.
    pub async fn backlog(&self) -> Result<Backlog> {
        self.db
            .read(|conn| {
                let mut payments = Vec::new();
                for state in PaymentState::OPEN {
                    for direction in [PaymentDirection::Deduction, PaymentDirection::Credit] {
                        let depth = open_payments(conn, state, direction)?;
                        payments.push((state, direction, depth));
                    }
                }
                let mut tasks = Vec::new();
                for action in [TaskAction::Release, TaskAction::SyncQuota] {
                    tasks.push((action, tasks_not_done(conn, action)?));
                }
                let webhooks = pending_deliveries(conn)?;
                Ok(Backlog {
                    payments,
                    tasks,
                    webhooks,
                })
            })
            .await
    }

    /// How many orders are overdue, up to `cap`: those of each queue whose deadline is
    /// before its instant (see `RenewalQueue::overdue_before`), held ones included. One
    /// statement, bounded by `cap` rows of the renewal index.
    /// Errors: `Unavailable`, `Internal`.
    pub async fn overdue_orders(
        &self,
        cutoffs: Vec<(RenewalQueue, DateTime<Utc>)>,
        cap: u32,
    ) -> Result<u64> {
        self.db
            .read(move |conn| Ok(overdue(conn, &cutoffs, cap)?))
            .await
    }
}

fn open_payments(
    conn: &mut DbConnection,
    state: PaymentState,
    direction: PaymentDirection,
) -> QueryResult<Depth> {
    use payment::dsl;
    payment::table
        .filter(dsl::state.eq(state_code(state)))
        .filter(dsl::direction.eq(direction_code(direction)))
        .select((count_star(), min(dsl::created_at)))
        .get_result(conn)
        .map(Depth::of)
}

fn tasks_not_done(conn: &mut DbConnection, action: TaskAction) -> QueryResult<Depth> {
    use resource_task::dsl;
    resource_task::table
        .filter(dsl::done_at.is_null())
        .filter(dsl::action.eq(action_code(action)))
        .select((count_star(), min(dsl::created_at)))
        .get_result(conn)
        .map(Depth::of)
}

fn pending_deliveries(conn: &mut DbConnection) -> QueryResult<Depth> {
    use webhook_delivery::dsl;
    webhook_delivery::table
        .inner_join(notification::table)
        .filter(dsl::delivered_at.is_null())
        .filter(dsl::gave_up_at.is_null())
        .select((count_star(), min(notification::create_time)))
        .get_result(conn)
        .map(Depth::of)
}

fn overdue(
    conn: &mut DbConnection,
    cutoffs: &[(RenewalQueue, DateTime<Utc>)],
    cap: u32,
) -> QueryResult<u64> {
    use purchase_order::dsl;
    if cutoffs.is_empty() {
        return Ok(0);
    }
    let mut query = purchase_order::table.select(dsl::id).into_boxed();
    for (queue, before) in cutoffs {
        query = query.or_filter(
            dsl::charging_mode
                .eq(mode_code(queue.mode))
                .and(dsl::status.eq(queue.status.code()))
                .and(dsl::deadline_time.lt(to_db_time(*before))),
        );
    }
    let ids: Vec<i64> = query.limit(i64::from(cap)).load(conn)?;
    Ok(ids.len() as u64)
}
