//! Rows ↔ entities. Reading parses every column with the domain's own parsers, so a row
//! the domain would never have written (a bad status code, an id with spaces) surfaces as
//! `Internal` naming the table, the row and the column, instead of leaking into a response.
//! Writing truncates times to the microsecond both backends keep.

use chrono::{DateTime, SubsecRound, Utc};

use domain::change::PaymentUpdate;
use domain::consumption::{Consumption, ConsumptionKind};
use domain::cycle::Cycle;
use domain::idempotency::{IdempotencyRecord, Remembered};
use domain::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use domain::ledger::{Balance, NewRecharge, Recharge};
use domain::notification::{Notification, NotificationKind};
use domain::order::{Order, OrderStatus, Terms};
use domain::payment::{MoneyKeeper, Payment, PaymentDirection, PaymentId, PaymentState};
use domain::plan::ChargingMode;
use domain::provisioning::{NewTask, QueuedTask, Resource, ResourceKind, TaskAction};
use domain::{Error, Money};

use crate::backend::DbTime;
use crate::error::corrupt;
use crate::repos::resources::ProvisionedResource;
use crate::repos::webhook_outbox::WebhookDelivery;
use crate::rows::balance::BalanceRow;
use crate::rows::consumption::{ConsumptionRow, NewConsumptionRow};
use crate::rows::idempotency::{IdempotencyRow, NewIdempotencyRow};
use crate::rows::notification::{NewNotificationRow, NotificationRow, MESSAGE_CHARS};
use crate::rows::order::{NewOrderRow, OrderRow, OrderState, OrderUpdate};
use crate::rows::payment::{self, NewPaymentRow, PaymentRow};
use crate::rows::recharge::{NewRechargeRow, RechargeRow};
use crate::rows::resource::ResourceRow;
use crate::rows::task::{NewTaskRow, TaskRow};
use crate::rows::webhook_delivery::DeliveryRow;

const ORDERS: &str = "DF_PURCHASE_ORDER";
const HISTORY: &str = "DF_CONSUMING_HISTORY";
const BALANCES: &str = "DF_BALANCE";
const RECHARGES: &str = "DF_RECHARGE";
const NOTIFICATIONS: &str = "DF_NOTIFICATION";
const PAYMENTS: &str = "DF_PAYMENT";
const TASKS: &str = "DF_RESOURCE_TASK";
const KEYS: &str = "DF_IDEMPOTENCY_KEY";
const RESOURCES: &str = "DF_RESOURCE";
const DELIVERIES: &str = "DF_WEBHOOK_DELIVERY";

/// CHARGING_MODE: 0 prepaid (the default of orders older than the column), 1 postpaid.
pub(crate) fn mode_code(mode: ChargingMode) -> i16 {
    match mode {
        ChargingMode::Prepaid => 0,
        ChargingMode::Postpaid => 1,
    }
}

fn mode_from_code(code: i16) -> domain::Result<ChargingMode> {
    match code {
        0 => Ok(ChargingMode::Prepaid),
        1 => Ok(ChargingMode::Postpaid),
        other => Err(Error::Internal(format!(
            "unknown charging mode code {other}"
        ))),
    }
}

/// A counter as the INT column stores it.
fn to_db_count(value: u32, what: &str) -> Result<i32, Error> {
    i32::try_from(value)
        .map_err(|_| Error::Internal(format!("{what} {value} exceeds the INT column")))
}

pub(crate) fn to_db_time(time: DateTime<Utc>) -> DbTime {
    DbTime(time.trunc_subsecs(6).naive_utc())
}

pub(crate) fn from_db_time(time: DbTime) -> DateTime<Utc> {
    time.0.and_utc()
}

/// A sequence number as the INT column stores it.
pub(crate) fn to_db_sequence(value: u32) -> Result<i32, Error> {
    i32::try_from(value)
        .map_err(|_| Error::Internal(format!("consume id {value} exceeds the INT column")))
}

/// A counter or sequence number read from its INT column.
pub(crate) fn unsigned(table: &str, key: &str, name: &str, value: i32) -> domain::Result<u32> {
    column(
        table,
        key,
        name,
        u32::try_from(value).map_err(|_| Error::Internal(format!("negative {value}"))),
    )
}

/// An auto-increment id as callers see it.
pub(crate) fn row_id(table: &str, key: &str, value: i64) -> domain::Result<u64> {
    column(
        table,
        key,
        "ID",
        u64::try_from(value).map_err(|_| Error::Internal(format!("negative {value}"))),
    )
}

/// Parses one column, naming the table, row and column on failure.
fn column<T>(table: &str, key: &str, name: &str, parsed: domain::Result<T>) -> domain::Result<T> {
    parsed.map_err(|e| corrupt(table, key, format_args!("bad {name}: {e}")))
}

/// CYCLE: 0 a natural month (the default of orders older than the column), 1 a year.
pub(crate) fn cycle_code(cycle: Cycle) -> i16 {
    match cycle {
        Cycle::Month => 0,
        Cycle::Year => 1,
    }
}

fn cycle_from_code(code: i16) -> domain::Result<Cycle> {
    match code {
        0 => Ok(Cycle::Month),
        1 => Ok(Cycle::Year),
        other => Err(Error::Internal(format!("unknown cycle code {other}"))),
    }
}

/// KEEPER: 0 the local ledger (the default of orders older than the column), 1 the
/// region's charge service.
pub(crate) fn keeper_code(keeper: MoneyKeeper) -> i16 {
    match keeper {
        MoneyKeeper::LocalLedger => 0,
        MoneyKeeper::ChargeService => 1,
    }
}

fn keeper_from_code(code: i16) -> domain::Result<MoneyKeeper> {
    match code {
        0 => Ok(MoneyKeeper::LocalLedger),
        1 => Ok(MoneyKeeper::ChargeService),
        other => Err(Error::Internal(format!("unknown keeper code {other}"))),
    }
}

/// A counter or sequence number read from its INT column (negative ones are corrupt).
fn count(value: i32) -> domain::Result<u32> {
    u32::try_from(value).map_err(|_| Error::Internal(format!("negative {value}")))
}

impl TryFrom<OrderRow> for Order {
    type Error = Error;

    fn try_from(row: OrderRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        let optional_id = |name, id: Option<&str>| {
            id.map(OrderId::parse)
                .transpose()
                .map_err(|e| corrupt(ORDERS, key, format_args!("bad {name}: {e}")))
        };
        Ok(Order {
            id: column(ORDERS, key, "ORDER_ID", OrderId::parse(&row.order_id))?,
            project: column(ORDERS, key, "ACCOUNT_ID", ProjectId::parse(&row.account_id))?,
            region: column(ORDERS, key, "REGION", Region::parse(&row.region))?,
            plan_id: column(ORDERS, key, "PLAN_ID", PlanId::parse(&row.plan_id))?,
            plan_type: column(ORDERS, key, "PLAN_TYPE", PlanType::parse(&row.plan_type))?,
            mode: column(
                ORDERS,
                key,
                "CHARGING_MODE",
                mode_from_code(row.charging_mode),
            )?,
            quantities: column(
                ORDERS,
                key,
                "QUANTITIES",
                Quantity::new(i64::from(row.quantities)),
            )?,
            start_time: from_db_time(row.start_time),
            end_time: row.end_time.map(from_db_time),
            deadline_time: from_db_time(row.deadline_time),
            status: column(
                ORDERS,
                key,
                "STATUS",
                OrderStatus::from_code(row.status)
                    .ok_or_else(|| Error::Internal(format!("unknown status code {}", row.status))),
            )?,
            creator: column(ORDERS, key, "CREATOR", UserName::parse(&row.creator))?,
            resource_name: row
                .resource_name
                .as_deref()
                .map(ResourceName::parse)
                .transpose()
                .map_err(|e| corrupt(ORDERS, key, format_args!("bad RESOURCE_NAME: {e}")))?,
            last_consume_id: column(ORDERS, key, "LAST_CONSUME_ID", count(row.last_consume_id))?,
            renew_retries: column(ORDERS, key, "RENEW_RETRIES", count(row.renew_retries))?,
            last_warned_at: row.last_warned_at.map(from_db_time),
            terms: Terms {
                cycle: column(ORDERS, key, "CYCLE", cycle_from_code(row.cycle))?,
                price: column(
                    ORDERS,
                    key,
                    "PRICE",
                    Some(Money::from_minor(row.price))
                        .filter(|price| !price.is_negative())
                        .ok_or_else(|| Error::Internal(format!("negative {}", row.price))),
                )?,
                keeper: column(ORDERS, key, "KEEPER", keeper_from_code(row.keeper))?,
            },
            version: column(ORDERS, key, "VERSION", count(row.version))?,
            payment_seq: column(ORDERS, key, "PAYMENT_SEQ", count(row.payment_seq))?,
            awaiting_payment: row
                .awaiting_payment
                .map(|seq| column(ORDERS, key, "AWAITING_PAYMENT", count(seq)))
                .transpose()?,
            replaces: optional_id("REPLACES", row.replaces.as_deref())?,
            replaced_by: optional_id("REPLACED_BY", row.replaced_by.as_deref())?,
        })
    }
}

impl<'a> TryFrom<&'a Order> for NewOrderRow<'a> {
    type Error = Error;

    fn try_from(order: &'a Order) -> Result<Self, Error> {
        Ok(NewOrderRow {
            order_id: order.id.as_str(),
            account_id: order.project.as_str(),
            region: order.region.as_str(),
            plan_id: order.plan_id.as_str(),
            plan_type: order.plan_type.as_str(),
            charging_mode: mode_code(order.mode),
            quantities: i32::try_from(order.quantities.get()).map_err(|_| {
                Error::Internal(format!(
                    "quantities {} exceed the INT column",
                    order.quantities.get()
                ))
            })?,
            cycle: cycle_code(order.terms.cycle),
            keeper: keeper_code(order.terms.keeper),
            start_time: to_db_time(order.start_time),
            creator: order.creator.as_str(),
            resource_name: order.resource_name.as_ref().map(ResourceName::as_str),
            replaces: order.replaces.as_ref().map(OrderId::as_str),
            state: OrderState::try_from(order)?,
        })
    }
}

impl<'a> TryFrom<&'a Order> for OrderState<'a> {
    type Error = Error;

    /// The unique-key columns follow the order's state: its name while it holds its
    /// resource, its region while it holds its project's quota there.
    fn try_from(order: &'a Order) -> Result<Self, Error> {
        Ok(OrderState {
            status: order.status.code(),
            end_time: order.end_time.map(to_db_time),
            deadline_time: to_db_time(order.deadline_time),
            last_consume_id: to_db_sequence(order.last_consume_id)?,
            renew_retries: to_db_count(order.renew_retries, "renew retries")?,
            last_warned_at: order.last_warned_at.map(to_db_time),
            price: order.terms.price.minor(),
            version: to_db_count(order.version, "version")?,
            payment_seq: to_db_count(order.payment_seq, "payment number")?,
            awaiting_payment: order
                .awaiting_payment
                .map(|seq| to_db_count(seq, "awaited payment number"))
                .transpose()?,
            replaced_by: order.replaced_by.as_ref().map(OrderId::as_str),
            active_resource_name: order
                .resource_name
                .as_ref()
                .filter(|_| order.holds_resource())
                .map(ResourceName::as_str),
            active_quota: order.holds_quota().then(|| order.region.as_str()),
        })
    }
}

/// The guarded update that turns the order, as it was at `expected_version`, into `order`.
pub(crate) fn order_update(order: &Order, expected_version: u32) -> Result<OrderUpdate<'_>, Error> {
    Ok(OrderUpdate {
        order_id: order.id.as_str(),
        expected_version: to_db_count(expected_version, "version")?,
        state: OrderState::try_from(order)?,
    })
}

impl TryFrom<ConsumptionRow> for Consumption {
    type Error = Error;

    fn try_from(row: ConsumptionRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        Ok(Consumption {
            order_id: column(HISTORY, key, "ORDER_ID", OrderId::parse(&row.order_id))?,
            consume_id: column(
                HISTORY,
                key,
                "CONSUME_ID",
                u32::try_from(row.consume_id)
                    .map_err(|_| Error::Internal(format!("negative {}", row.consume_id))),
            )?,
            project: column(
                HISTORY,
                key,
                "ACCOUNT_ID",
                ProjectId::parse(&row.account_id),
            )?,
            region: column(HISTORY, key, "REGION", Region::parse(&row.region))?,
            plan_id: column(HISTORY, key, "PLAN_ID", PlanId::parse(&row.plan_id))?,
            amount: Money::from_minor(row.consuming),
            time: from_db_time(row.consume_time),
            covered_until: from_db_time(row.deadline_time),
            kind: column(
                HISTORY,
                key,
                "KIND",
                ConsumptionKind::from_code(row.kind)
                    .ok_or_else(|| Error::Internal(format!("unknown kind code {}", row.kind))),
            )?,
        })
    }
}

impl<'a> TryFrom<&'a Consumption> for NewConsumptionRow<'a> {
    type Error = Error;

    fn try_from(row: &'a Consumption) -> Result<Self, Error> {
        Ok(NewConsumptionRow {
            order_id: row.order_id.as_str(),
            consume_id: to_db_sequence(row.consume_id)?,
            consuming: row.amount.minor(),
            consume_time: to_db_time(row.time),
            deadline_time: to_db_time(row.covered_until),
            account_id: row.project.as_str(),
            region: row.region.as_str(),
            plan_id: row.plan_id.as_str(),
            kind: row.kind.code(),
        })
    }
}

/// The balance of `project`: its row, or zero with no update time when it has none.
pub(crate) fn balance(project: &ProjectId, row: Option<BalanceRow>) -> Result<Balance, Error> {
    match row {
        None => Ok(Balance {
            project: project.clone(),
            amount: Money::ZERO,
            updated_at: None,
        }),
        Some(row) => Ok(Balance {
            project: column(
                BALANCES,
                &format!("ACCOUNT_ID={:?}", row.account_id),
                "ACCOUNT_ID",
                ProjectId::parse(&row.account_id),
            )?,
            amount: Money::from_minor(row.amount),
            updated_at: Some(from_db_time(row.update_time)),
        }),
    }
}

impl TryFrom<RechargeRow> for Recharge {
    type Error = Error;

    fn try_from(row: RechargeRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        Ok(Recharge {
            id: row.id,
            project: column(
                RECHARGES,
                key,
                "ACCOUNT_ID",
                ProjectId::parse(&row.account_id),
            )?,
            amount: Money::from_minor(row.amount),
            comment: row.comment,
            operator: column(RECHARGES, key, "OPERATOR", UserName::parse(&row.operator))?,
            time: from_db_time(row.create_time),
        })
    }
}

impl<'a> From<&'a NewRecharge> for NewRechargeRow<'a> {
    fn from(recharge: &'a NewRecharge) -> Self {
        NewRechargeRow {
            account_id: recharge.project.as_str(),
            amount: recharge.amount.minor(),
            comment: recharge.comment.as_deref(),
            operator: recharge.operator.as_str(),
            create_time: to_db_time(recharge.time),
        }
    }
}

/// The recorded form of a recharge just inserted with `id`: what was written, times as kept.
pub(crate) fn recorded(recharge: &NewRecharge, id: i64) -> Recharge {
    Recharge {
        id,
        project: recharge.project.clone(),
        amount: recharge.amount,
        comment: recharge.comment.clone(),
        operator: recharge.operator.clone(),
        time: from_db_time(to_db_time(recharge.time)),
    }
}

/// The first `chars` characters of `text`: a long message is cut rather than refused.
pub(crate) fn clip(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(end, _)| &text[..end])
}

impl TryFrom<NotificationRow> for Notification {
    type Error = Error;

    fn try_from(row: NotificationRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        Ok(Notification {
            kind: column(
                NOTIFICATIONS,
                key,
                "KIND",
                NotificationKind::from_label(&row.kind)
                    .ok_or_else(|| Error::Internal(format!("unknown kind {:?}", row.kind))),
            )?,
            project: column(
                NOTIFICATIONS,
                key,
                "ACCOUNT_ID",
                ProjectId::parse(&row.account_id),
            )?,
            region: column(NOTIFICATIONS, key, "REGION", Region::parse(&row.region))?,
            order_id: column(
                NOTIFICATIONS,
                key,
                "ORDER_ID",
                OrderId::parse(&row.order_id),
            )?,
            time: from_db_time(row.create_time),
            amount: row.amount.map(Money::from_minor),
            message: row.message,
        })
    }
}

impl<'a> From<&'a Notification> for NewNotificationRow<'a> {
    fn from(event: &'a Notification) -> Self {
        NewNotificationRow {
            account_id: event.project.as_str(),
            region: event.region.as_str(),
            order_id: event.order_id.as_str(),
            kind: event.kind.label(),
            amount: event.amount.map(Money::minor),
            message: clip(&event.message, MESSAGE_CHARS),
            create_time: to_db_time(event.time),
        }
    }
}

/// DF_PAYMENT.DIRECTION: 0 deduction, 1 credit.
pub(crate) fn direction_code(direction: PaymentDirection) -> i16 {
    match direction {
        PaymentDirection::Deduction => 0,
        PaymentDirection::Credit => 1,
    }
}

fn direction_from_code(code: i16) -> domain::Result<PaymentDirection> {
    match code {
        0 => Ok(PaymentDirection::Deduction),
        1 => Ok(PaymentDirection::Credit),
        other => Err(Error::Internal(format!("unknown direction code {other}"))),
    }
}

/// DF_PAYMENT.STATE: 0 pending, 1 settled, 2 declined, 3 owed, 4 disputed.
pub(crate) fn state_code(state: PaymentState) -> i16 {
    match state {
        PaymentState::Pending => 0,
        PaymentState::Settled => 1,
        PaymentState::Declined => 2,
        PaymentState::Owed => 3,
        PaymentState::Disputed => 4,
    }
}

fn state_from_code(code: i16) -> domain::Result<PaymentState> {
    PaymentState::ALL
        .into_iter()
        .find(|state| state_code(*state) == code)
        .ok_or_else(|| Error::Internal(format!("unknown payment state code {code}")))
}

impl TryFrom<PaymentRow> for Payment {
    type Error = Error;

    fn try_from(row: PaymentRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        Ok(Payment {
            id: PaymentId {
                order: column(PAYMENTS, key, "ORDER_ID", OrderId::parse(&row.order_id))?,
                seq: column(PAYMENTS, key, "SEQ", count(row.seq))?,
            },
            project: column(
                PAYMENTS,
                key,
                "ACCOUNT_ID",
                ProjectId::parse(&row.account_id),
            )?,
            region: column(PAYMENTS, key, "REGION", Region::parse(&row.region))?,
            keeper: column(PAYMENTS, key, "KEEPER", keeper_from_code(row.keeper))?,
            direction: column(
                PAYMENTS,
                key,
                "DIRECTION",
                direction_from_code(row.direction),
            )?,
            amount: column(
                PAYMENTS,
                key,
                "AMOUNT",
                Some(Money::from_minor(row.amount))
                    .filter(|amount| amount.is_positive())
                    .ok_or_else(|| Error::Internal(format!("not positive: {}", row.amount))),
            )?,
            consume_id: column(PAYMENTS, key, "CONSUME_ID", count(row.consume_id))?,
            kind: column(
                PAYMENTS,
                key,
                "ROW_KIND",
                ConsumptionKind::from_code(row.row_kind)
                    .ok_or_else(|| Error::Internal(format!("unknown kind code {}", row.row_kind))),
            )?,
            period_from: from_db_time(row.period_from),
            period_until: from_db_time(row.period_until),
            deferred: row.deferred,
            state: column(PAYMENTS, key, "STATE", state_from_code(row.state))?,
            created_at: from_db_time(row.created_at),
            settled_at: row.settled_at.map(from_db_time),
            attempts: column(PAYMENTS, key, "ATTEMPTS", count(row.attempts))?,
            next_attempt_at: from_db_time(row.next_attempt_at),
            last_error: row.last_error,
        })
    }
}

impl<'a> TryFrom<&'a Payment> for NewPaymentRow<'a> {
    type Error = Error;

    fn try_from(payment: &'a Payment) -> Result<Self, Error> {
        Ok(NewPaymentRow {
            order_id: payment.id.order.as_str(),
            seq: to_db_count(payment.id.seq, "payment number")?,
            account_id: payment.project.as_str(),
            region: payment.region.as_str(),
            keeper: keeper_code(payment.keeper),
            direction: direction_code(payment.direction),
            amount: payment.amount.minor(),
            consume_id: to_db_sequence(payment.consume_id)?,
            row_kind: payment.kind.code(),
            period_from: to_db_time(payment.period_from),
            period_until: to_db_time(payment.period_until),
            deferred: payment.deferred,
            state: state_code(payment.state),
            created_at: to_db_time(payment.created_at),
            settled_at: payment.settled_at.map(to_db_time),
            attempts: to_db_count(payment.attempts, "attempts")?,
            next_attempt_at: to_db_time(payment.next_attempt_at),
            last_error: payment
                .last_error
                .as_deref()
                .map(|error| clip(error, payment::ERROR_CHARS)),
        })
    }
}

/// The guarded update of a payment's state; `attempts_before`, when given, guards the
/// attempts too (another settler's attempt in between makes it write nothing).
pub(crate) fn payment_update(
    update: &PaymentUpdate,
    attempts_before: Option<u32>,
) -> Result<payment::PaymentUpdate<'_>, Error> {
    Ok(payment::PaymentUpdate {
        order_id: update.id.order.as_str(),
        seq: to_db_count(update.id.seq, "payment number")?,
        expected_state: state_code(update.expected),
        expected_attempts: attempts_before
            .map(|attempts| to_db_count(attempts, "attempts"))
            .transpose()?,
        state: payment::PaymentState {
            state: state_code(update.state),
            settled_at: update.settled_at.map(to_db_time),
            attempts: to_db_count(update.attempts, "attempts")?,
            next_attempt_at: to_db_time(update.next_attempt_at),
            last_error: update
                .last_error
                .as_deref()
                .map(|error| clip(error, payment::ERROR_CHARS)),
        },
    })
}

/// DF_RESOURCE_TASK.ACTION: 0 release, 1 sync quota.
pub(crate) fn action_code(action: TaskAction) -> i16 {
    match action {
        TaskAction::Release => 0,
        TaskAction::SyncQuota => 1,
    }
}

fn action_from_code(code: i16) -> domain::Result<TaskAction> {
    match code {
        0 => Ok(TaskAction::Release),
        1 => Ok(TaskAction::SyncQuota),
        other => Err(Error::Internal(format!("unknown action code {other}"))),
    }
}

/// The row queuing `task` at `at` (not yet run).
pub(crate) fn new_task(task: &NewTask, at: DateTime<Utc>) -> NewTaskRow<'_> {
    let resource = &task.resource;
    NewTaskRow {
        order_id: resource.order_id.as_str(),
        account_id: resource.project.as_str(),
        region: resource.region.as_str(),
        plan_id: resource.plan_id.as_str(),
        plan_type: resource.plan_type.as_str(),
        kind: kind_label(resource.kind),
        resource_name: resource.name.as_ref().map(ResourceName::as_str),
        creator: resource.creator.as_str(),
        action: action_code(task.action),
        created_at: to_db_time(at),
        attempts: 0,
        next_attempt_at: to_db_time(task.due_at),
    }
}

impl TryFrom<TaskRow> for QueuedTask {
    type Error = Error;

    fn try_from(row: TaskRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        Ok(QueuedTask {
            id: row_id(TASKS, key, row.id)?,
            resource: Resource {
                order_id: column(TASKS, key, "ORDER_ID", OrderId::parse(&row.order_id))?,
                project: column(TASKS, key, "ACCOUNT_ID", ProjectId::parse(&row.account_id))?,
                region: column(TASKS, key, "REGION", Region::parse(&row.region))?,
                plan_id: column(TASKS, key, "PLAN_ID", PlanId::parse(&row.plan_id))?,
                plan_type: column(TASKS, key, "PLAN_TYPE", PlanType::parse(&row.plan_type))?,
                kind: column(TASKS, key, "KIND", kind_from_label(&row.kind))?,
                name: row
                    .resource_name
                    .as_deref()
                    .map(ResourceName::parse)
                    .transpose()
                    .map_err(|e| corrupt(TASKS, key, format_args!("bad RESOURCE_NAME: {e}")))?,
                creator: column(TASKS, key, "CREATOR", UserName::parse(&row.creator))?,
            },
            action: column(TASKS, key, "ACTION", action_from_code(row.action))?,
            attempts: column(TASKS, key, "ATTEMPTS", count(row.attempts))?,
        })
    }
}

impl<'a> From<&'a IdempotencyRecord> for NewIdempotencyRow<'a> {
    fn from(record: &'a IdempotencyRecord) -> Self {
        NewIdempotencyRow {
            account_id: record.request.project.as_str(),
            idem_key: record.request.key.as_str(),
            fingerprint: &record.request.fingerprint,
            result: &record.result,
            created_at: to_db_time(record.at),
        }
    }
}

/// What the store remembers of the key `key` of a project, from its row.
pub(crate) fn remembered(key: &str, row: IdempotencyRow) -> Result<Remembered, Error> {
    let answer = match (row.status, row.body) {
        (Some(status), Some(body)) => Some((
            column(
                KEYS,
                key,
                "STATUS",
                u16::try_from(status)
                    .map_err(|_| Error::Internal(format!("negative status {status}"))),
            )?,
            body,
        )),
        _ => None,
    };
    Ok(Remembered {
        fingerprint: row.fingerprint,
        result: row.result,
        at: from_db_time(row.created_at),
        answer,
    })
}

/// KIND of DF_RESOURCE: the plan type's name for it.
pub(crate) fn kind_label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Volume => "volume",
        ResourceKind::ServiceInstance => "bsi",
        ResourceKind::Quota => "quota",
    }
}

fn kind_from_label(label: &str) -> domain::Result<ResourceKind> {
    match label {
        "volume" => Ok(ResourceKind::Volume),
        "bsi" => Ok(ResourceKind::ServiceInstance),
        "quota" => Ok(ResourceKind::Quota),
        other => Err(Error::Internal(format!("unknown resource kind {other:?}"))),
    }
}

impl TryFrom<ResourceRow> for ProvisionedResource {
    type Error = Error;

    fn try_from(row: ResourceRow) -> Result<Self, Error> {
        let key = format!("ORDER_ID={:?}", row.order_id);
        let key = key.as_str();
        Ok(ProvisionedResource {
            order_id: column(RESOURCES, key, "ORDER_ID", OrderId::parse(&row.order_id))?,
            project: column(
                RESOURCES,
                key,
                "ACCOUNT_ID",
                ProjectId::parse(&row.account_id),
            )?,
            region: column(RESOURCES, key, "REGION", Region::parse(&row.region))?,
            kind: column(RESOURCES, key, "KIND", kind_from_label(&row.kind))?,
            name: row
                .name
                .as_deref()
                .map(ResourceName::parse)
                .transpose()
                .map_err(|e| corrupt(RESOURCES, key, format_args!("bad NAME: {e}")))?,
            created_at: from_db_time(row.created_at),
            released_at: row.released_at.map(from_db_time),
        })
    }
}

impl TryFrom<(DeliveryRow, NotificationRow)> for WebhookDelivery {
    type Error = Error;

    fn try_from((row, notification): (DeliveryRow, NotificationRow)) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        Ok(WebhookDelivery {
            id: row_id(DELIVERIES, key, row.id)?,
            endpoint: row.endpoint,
            notification_id: row_id(NOTIFICATIONS, key, row.notification_id)?,
            notification: Notification::try_from(notification)?,
            attempts: unsigned(DELIVERIES, key, "ATTEMPTS", row.attempts)?,
        })
    }
}

/// A queue entry's id as the BIGINT column holds it. Ids come from the queue's own reads,
/// so one beyond the column is a caller's bug; `what` names the queue in the error.
pub(crate) fn queue_id(what: &str, id: u64) -> domain::Result<i64> {
    i64::try_from(id).map_err(|_| Error::Internal(format!("{what} id {id} exceeds BIGINT")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;

    use super::*;

    fn order_row() -> OrderRow {
        let t = to_db_time(Utc.with_ymd_and_hms(2026, 1, 31, 8, 0, 0).unwrap());
        OrderRow {
            id: 7,
            order_id: "o-1".into(),
            account_id: "p1".into(),
            region: "cn-north-1".into(),
            plan_id: "plan-a".into(),
            plan_type: "volume".into(),
            charging_mode: 0,
            quantities: 2,
            start_time: t,
            end_time: None,
            deadline_time: t,
            last_consume_id: 1,
            renew_retries: 0,
            last_warned_at: None,
            cycle: 0,
            price: 5_000,
            keeper: 0,
            version: 3,
            payment_seq: 1,
            awaiting_payment: None,
            replaces: None,
            replaced_by: None,
            status: 5,
            creator: "alice".into(),
            resource_name: Some("vol-1".into()),
        }
    }

    #[test]
    fn a_valid_order_row_converts() {
        let order = Order::try_from(order_row()).unwrap();
        assert_eq!(order.status, OrderStatus::Consuming);
        assert_eq!(order.resource_name.unwrap().as_str(), "vol-1");
    }

    #[test]
    fn an_unknown_status_code_is_internal_and_names_the_row() {
        let row = OrderRow {
            status: 3,
            ..order_row()
        };
        let error = Order::try_from(row).unwrap_err();
        let Error::Internal(text) = error else {
            panic!("expected Internal, got {error:?}")
        };
        assert!(text.contains("DF_PURCHASE_ORDER row ID=7"), "{text}");
        assert!(text.contains("STATUS"), "{text}");
    }

    #[test]
    fn a_malformed_id_is_internal() {
        let row = OrderRow {
            order_id: "has space".into(),
            ..order_row()
        };
        assert!(matches!(Order::try_from(row), Err(Error::Internal(t)) if t.contains("ORDER_ID")));
    }

    #[test]
    fn a_negative_last_consume_id_is_internal() {
        let row = OrderRow {
            last_consume_id: -1,
            ..order_row()
        };
        assert!(
            matches!(Order::try_from(row), Err(Error::Internal(t)) if t.contains("LAST_CONSUME_ID"))
        );
    }

    #[test]
    fn an_unknown_consumption_kind_is_internal() {
        let t = to_db_time(Utc.with_ymd_and_hms(2026, 1, 31, 8, 0, 0).unwrap());
        let row = ConsumptionRow {
            id: 3,
            order_id: "o-1".into(),
            consume_id: 1,
            consuming: 10,
            consume_time: t,
            deadline_time: t,
            account_id: "p1".into(),
            region: "r".into(),
            plan_id: "plan".into(),
            kind: 9,
        };
        assert!(
            matches!(Consumption::try_from(row), Err(Error::Internal(t)) if t.contains("KIND"))
        );
    }

    #[test]
    fn writing_keeps_microseconds_and_drops_nanoseconds() {
        let t = Utc.with_ymd_and_hms(2026, 1, 31, 8, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(
            from_db_time(to_db_time(t)).timestamp_subsec_nanos(),
            123_456_000
        );
    }

    #[test]
    fn an_order_holds_its_name_only_while_it_holds_its_resource() {
        let mut order = Order::try_from(order_row()).unwrap();
        assert_eq!(
            OrderState::try_from(&order).unwrap().active_resource_name,
            Some("vol-1")
        );
        order.status = OrderStatus::Pending;
        order.replaces = Some(OrderId::parse("old").unwrap());
        assert_eq!(
            OrderState::try_from(&order).unwrap().active_resource_name,
            None,
            "a pending switch target takes the name over only once paid"
        );
        order.status = OrderStatus::Ended;
        let row = NewOrderRow::try_from(&order).unwrap();
        assert_eq!(row.resource_name, Some("vol-1"));
        assert_eq!(row.state.active_resource_name, None);
    }

    #[test]
    fn only_a_quota_order_holding_its_resource_holds_its_regions_quota() {
        let mut order = Order::try_from(order_row()).unwrap();
        assert_eq!(OrderState::try_from(&order).unwrap().active_quota, None);
        order.plan_type = PlanType::parse("cpuquota").unwrap();
        order.resource_name = None;
        assert_eq!(
            OrderState::try_from(&order).unwrap().active_quota,
            Some("cn-north-1")
        );
        order.status = OrderStatus::Ended;
        assert_eq!(OrderState::try_from(&order).unwrap().active_quota, None);
    }

    #[test]
    fn an_order_round_trips_its_terms_and_guards() {
        let mut order = Order::try_from(order_row()).unwrap();
        order.terms.cycle = Cycle::Year;
        order.terms.keeper = MoneyKeeper::ChargeService;
        order.awaiting_payment = Some(2);
        order.replaced_by = Some(OrderId::parse("o-2").unwrap());
        let row = NewOrderRow::try_from(&order).unwrap();
        assert_eq!((row.cycle, row.keeper), (1, 1));
        assert_eq!(
            (row.state.price, row.state.version, row.state.payment_seq),
            (5_000, 3, 1)
        );
        assert_eq!(row.state.awaiting_payment, Some(2));
        assert_eq!(row.state.replaced_by, Some("o-2"));
    }

    #[test]
    fn unknown_cycle_and_keeper_codes_are_internal_and_name_the_column() {
        for (row, column) in [
            (
                OrderRow {
                    cycle: 2,
                    ..order_row()
                },
                "CYCLE",
            ),
            (
                OrderRow {
                    keeper: 9,
                    ..order_row()
                },
                "KEEPER",
            ),
            (
                OrderRow {
                    price: -1,
                    ..order_row()
                },
                "PRICE",
            ),
            (
                OrderRow {
                    version: -1,
                    ..order_row()
                },
                "VERSION",
            ),
        ] {
            assert!(
                matches!(Order::try_from(row), Err(Error::Internal(t)) if t.contains(column)),
                "{column}"
            );
        }
    }

    #[test]
    fn payment_codes_are_the_designs_and_round_trip() {
        let codes: Vec<i16> = PaymentState::ALL.into_iter().map(state_code).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4]);
        for state in PaymentState::ALL {
            assert_eq!(state_from_code(state_code(state)), Ok(state));
        }
        assert_eq!(direction_code(PaymentDirection::Deduction), 0);
        assert_eq!(direction_code(PaymentDirection::Credit), 1);
        assert_eq!(action_code(TaskAction::Release), 0);
        assert_eq!(action_code(TaskAction::SyncQuota), 1);
        assert!(state_from_code(5).is_err());
        assert!(direction_from_code(2).is_err());
        assert!(action_from_code(2).is_err());
    }

    #[test]
    fn every_resource_kind_reads_back_from_its_label() {
        for kind in [
            ResourceKind::Volume,
            ResourceKind::ServiceInstance,
            ResourceKind::Quota,
        ] {
            assert_eq!(kind_from_label(kind_label(kind)), Ok(kind));
        }
        assert!(kind_from_label("gpu").is_err());
    }
}
