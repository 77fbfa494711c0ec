//! Notifications: the query string and the event JSON.

use domain::ids::{OrderId, ProjectId};
use domain::notification::Notification;
use domain::page::PageRequest;
use domain::ports::NotificationFilter;
use domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::labels;
use super::list::page_request;
use super::{optional, required, rfc3339};
use crate::error::ApiError;

/// `GET /notifications` query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListNotificationsQuery {
    /// The project whose events to list.
    #[param(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "demo")]
    pub project: Option<String>,
    /// Only this order's events.
    #[param(value_type = String, required = false, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub order: Option<String>,
    /// Which page, from 1.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 4_294_967_295_i64)]
    pub page: Option<String>,
    /// Rows per page, 1 to 100; 30 when absent.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 100)]
    pub size: Option<String>,
}

impl TryFrom<ListNotificationsQuery> for (NotificationFilter, PageRequest) {
    type Error = ApiError;

    fn try_from(query: ListNotificationsQuery) -> Result<Self, ApiError> {
        let filter = NotificationFilter {
            project: required(query.project.as_deref(), ProjectId::parse)?,
            order: optional(query.order.as_deref(), OrderId::parse)?,
        };
        Ok((
            filter,
            page_request(query.page.as_deref(), query.size.as_deref())?,
        ))
    }
}

/// One event about one order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationJson {
    /// `order_created`, `order_renewed`, `order_renew_failed`, `order_ending`,
    /// `order_ended`, `order_switched` or `payment_owed`.
    #[schema(schema_with = labels::notification_kind)]
    pub kind: &'static str,
    pub project: String,
    pub region: String,
    pub order_id: String,
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T11:28:07.123456Z")]
    pub time: String,
    /// Charged (positive) or refunded (negative); absent when the event moved no money.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, pattern = "^-?[0-9]+\\.[0-9]{2,4}$", example = "99.00")]
    pub amount: Option<Money>,
    pub message: String,
}

impl From<&Notification> for NotificationJson {
    fn from(event: &Notification) -> Self {
        Self {
            kind: event.kind.label(),
            project: event.project.to_string(),
            region: event.region.to_string(),
            order_id: event.order_id.to_string(),
            time: rfc3339(&event.time),
            amount: event.amount,
            message: event.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::{TimeZone, Utc};
    use domain::ids::Region;
    use domain::notification::NotificationKind;
    use serde_json::json;

    use super::*;

    fn query(project: Option<&str>, order: Option<&str>) -> ListNotificationsQuery {
        ListNotificationsQuery {
            project: project.map(str::to_owned),
            order: order.map(str::to_owned),
            ..Default::default()
        }
    }

    fn event(amount: Option<Money>) -> Notification {
        Notification {
            kind: NotificationKind::OrderRenewed,
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            order_id: OrderId::parse("o1").unwrap(),
            time: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            amount,
            message: "renewed until 2026-04-01".into(),
        }
    }

    #[test]
    fn an_event_with_money_shows_kind_ids_time_and_amount() {
        assert_eq!(
            serde_json::to_value(NotificationJson::from(&event(Some(Money::from_minor(
                990_000
            )))))
            .unwrap(),
            json!({"kind": "order_renewed", "project": "demo", "region": "cn-north-1",
                   "orderId": "o1", "time": "2026-03-01T00:00:00.000000Z", "amount": "99.00",
                   "message": "renewed until 2026-04-01"})
        );
    }

    #[test]
    fn an_event_without_money_has_no_amount() {
        let json = serde_json::to_value(NotificationJson::from(&event(None))).unwrap();
        assert!(json.get("amount").is_none(), "{json}");
    }

    #[test]
    fn the_query_needs_a_project_and_filters_by_order_when_given() {
        let (filter, page) =
            <(NotificationFilter, PageRequest)>::try_from(query(Some("demo"), Some("o1"))).unwrap();
        assert_eq!(filter.project.as_str(), "demo");
        assert_eq!(filter.order.unwrap().as_str(), "o1");
        assert_eq!(page, PageRequest::default());
        let (filter, _) =
            <(NotificationFilter, PageRequest)>::try_from(query(Some("demo"), None)).unwrap();
        assert_eq!(filter.order, None);
        let error = <(NotificationFilter, PageRequest)>::try_from(query(Some("demo"), Some("")))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid parameters: orderId can't be blank"
        );
        let error = <(NotificationFilter, PageRequest)>::try_from(query(None, None)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid parameters: project can't be blank"
        );
    }

    #[test]
    fn a_bad_order_id_is_invalid() {
        let error = <(NotificationFilter, PageRequest)>::try_from(query(Some("demo"), Some("a b")))
            .unwrap_err();
        assert!(error.to_string().contains("orderId"), "{error}");
    }
}
