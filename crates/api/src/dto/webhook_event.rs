//! The body of a webhook: a notification as `GET /notifications` renders it, plus its id,
//! the same for every receiver and every retry.

use domain::notification::Notification;
use serde::Serialize;

use super::notifications::NotificationJson;

#[derive(Debug, Serialize)]
pub struct WebhookEventJson {
    /// The notification's id: one event to every receiver has one id.
    pub id: u64,
    #[serde(flatten)]
    pub notification: NotificationJson,
}

impl WebhookEventJson {
    pub fn new(id: u64, notification: &Notification) -> Self {
        Self {
            id,
            notification: NotificationJson::from(notification),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::{TimeZone, Utc};
    use domain::ids::{OrderId, ProjectId, Region};
    use domain::notification::NotificationKind;
    use domain::Money;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_body_is_the_listed_notification_with_its_id() {
        let event = Notification {
            kind: NotificationKind::OrderCreated,
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            order_id: OrderId::parse("o1").unwrap(),
            time: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            amount: Some(Money::from_minor(990_000)),
            message: "created".into(),
        };
        assert_eq!(
            serde_json::to_value(WebhookEventJson::new(42, &event)).unwrap(),
            json!({"id": 42, "kind": "order_created", "project": "demo",
                   "region": "cn-north-1", "orderId": "o1",
                   "time": "2026-03-01T00:00:00.000000Z", "amount": "99.00",
                   "message": "created"})
        );
    }
}
