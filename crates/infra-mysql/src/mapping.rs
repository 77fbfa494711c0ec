//! Rows ↔ entities. Reading parses every column with the domain's own parsers, so a row
//! the domain would never have written (a bad status code, an id with spaces) surfaces as
//! `Internal` naming the table, the row and the column, instead of leaking into a response.
//! Writing truncates times to the microsecond both backends keep.

use chrono::{DateTime, SubsecRound, Utc};

use domain::consumption::{Consumption, ConsumptionKind};
use domain::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use domain::ledger::{Balance, NewRecharge, Recharge};
use domain::notification::{Notification, NotificationKind};
use domain::order::{Order, OrderStatus};
use domain::payment::{Payment, PaymentDirection, PaymentReason};
use domain::plan::ChargingMode;
use domain::ports::{QueuedCredit, QueuedRelease};
use domain::provisioning::ResourceKind;
use domain::{Error, Money};

use crate::backend::DbTime;
use crate::error::corrupt;
use crate::repos::resources::ProvisionedResource;
use crate::repos::webhook_outbox::WebhookDelivery;
use crate::rows::balance::BalanceRow;
use crate::rows::consumption::{ConsumptionRow, NewConsumptionRow};
use crate::rows::credit::{CreditRow, NewCreditRow};
use crate::rows::notification::{NewNotificationRow, NotificationRow, MESSAGE_CHARS};
use crate::rows::order::{NewOrderRow, OrderRow};
use crate::rows::recharge::{NewRechargeRow, RechargeRow};
use crate::rows::release::ReleaseRow;
use crate::rows::resource::ResourceRow;
use crate::rows::webhook_delivery::DeliveryRow;

const ORDERS: &str = "DF_PURCHASE_ORDER";
const HISTORY: &str = "DF_CONSUMING_HISTORY";
const BALANCES: &str = "DF_BALANCE";
const RECHARGES: &str = "DF_RECHARGE";
const NOTIFICATIONS: &str = "DF_NOTIFICATION";
const CREDITS: &str = "DF_CREDIT_QUEUE";
const RELEASES: &str = "DF_RELEASE_QUEUE";
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

impl TryFrom<OrderRow> for Order {
    type Error = Error;

    fn try_from(row: OrderRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
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
            last_consume_id: column(
                ORDERS,
                key,
                "LAST_CONSUME_ID",
                u32::try_from(row.last_consume_id)
                    .map_err(|_| Error::Internal(format!("negative {}", row.last_consume_id))),
            )?,
            renew_retries: column(
                ORDERS,
                key,
                "RENEW_RETRIES",
                u32::try_from(row.renew_retries)
                    .map_err(|_| Error::Internal(format!("negative {}", row.renew_retries))),
            )?,
            last_warned_at: row.last_warned_at.map(from_db_time),
        })
    }
}

impl<'a> TryFrom<&'a Order> for NewOrderRow<'a> {
    type Error = Error;

    fn try_from(order: &'a Order) -> Result<Self, Error> {
        let resource_name = order.resource_name.as_ref().map(ResourceName::as_str);
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
            start_time: to_db_time(order.start_time),
            end_time: order.end_time.map(to_db_time),
            deadline_time: to_db_time(order.deadline_time),
            last_consume_id: to_db_sequence(order.last_consume_id)?,
            renew_retries: to_db_count(order.renew_retries, "renew retries")?,
            last_warned_at: order.last_warned_at.map(to_db_time),
            status: order.status.code(),
            creator: order.creator.as_str(),
            resource_name,
            // Only a not-ended order holds its name against others.
            active_resource_name: resource_name.filter(|_| order.status.is_open()),
        })
    }
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

/// A credit queued at `at`, due at once and not yet tried.
pub(crate) fn queued_credit(payment: &Payment, at: DbTime) -> Result<NewCreditRow<'_>, Error> {
    Ok(NewCreditRow {
        order_id: payment.reason.order.as_str(),
        consume_id: to_db_sequence(payment.reason.consume_id)?,
        account_id: payment.project.as_str(),
        region: payment.region.as_str(),
        amount: payment.amount.minor(),
        created_at: at,
        attempts: 0,
        next_attempt_at: at,
    })
}

impl TryFrom<CreditRow> for QueuedCredit {
    type Error = Error;

    fn try_from(row: CreditRow) -> Result<Self, Error> {
        let key = format!("ID={}", row.id);
        let key = key.as_str();
        Ok(QueuedCredit {
            id: row_id(CREDITS, key, row.id)?,
            payment: Payment {
                project: column(
                    CREDITS,
                    key,
                    "ACCOUNT_ID",
                    ProjectId::parse(&row.account_id),
                )?,
                region: column(CREDITS, key, "REGION", Region::parse(&row.region))?,
                amount: Money::from_minor(row.amount),
                direction: PaymentDirection::Credit,
                reason: PaymentReason {
                    order: column(CREDITS, key, "ORDER_ID", OrderId::parse(&row.order_id))?,
                    consume_id: unsigned(CREDITS, key, "CONSUME_ID", row.consume_id)?,
                },
            },
            attempts: unsigned(CREDITS, key, "ATTEMPTS", row.attempts)?,
        })
    }
}

/// A queued release with its order, read through the order's own mapping.
pub(crate) fn queued_release((row, order): (ReleaseRow, OrderRow)) -> Result<QueuedRelease, Error> {
    let key = format!("ID={}", row.id);
    let key = key.as_str();
    Ok(QueuedRelease {
        id: row_id(RELEASES, key, row.id)?,
        order: Order::try_from(order)?,
        attempts: unsigned(RELEASES, key, "ATTEMPTS", row.attempts)?,
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
    fn an_ended_order_does_not_hold_its_name() {
        let mut order = Order::try_from(order_row()).unwrap();
        assert_eq!(
            NewOrderRow::try_from(&order).unwrap().active_resource_name,
            Some("vol-1")
        );
        order.status = OrderStatus::Ended;
        let row = NewOrderRow::try_from(&order).unwrap();
        assert_eq!(row.resource_name, Some("vol-1"));
        assert_eq!(row.active_resource_name, None);
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
