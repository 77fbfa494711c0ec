//! `/notifications`: the events kept for a project, newest first.

use actix_web::{get, web, HttpResponse};
use domain::page::PageRequest;
use domain::ports::NotificationFilter;

use crate::auth::Caller;
use crate::dto::list::ListJson;
use crate::dto::notifications::{ListNotificationsQuery, NotificationJson};
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::openapi::responses::{BadRequest, Forbidden, Unauthorized, Unavailable};
use crate::startup::AppState;

/// `GET /notifications?project=&order=&page=&size=`.
#[utoipa::path(
    operation_id = "list_notifications",
    tag = "notifications",
    summary = "A page of the events recorded about a project's orders, newest first",
    params(ListNotificationsQuery),
    responses(
        (status = 200, description = "A page of events.",
            body = Envelope<ListJson<NotificationJson>>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)
    ),
    security(("bearer" = []))
)]
#[get("/notifications")]
pub async fn list(
    Caller(principal): Caller,
    state: web::Data<AppState>,
    query: web::Query<ListNotificationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = <(NotificationFilter, PageRequest)>::try_from(query.into_inner())?;
    let events = state
        .usecases
        .list_notifications(&principal, filter, page)
        .await?;
    Ok(ok(ListJson::<NotificationJson>::from_page(events)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use actix_web::{test, App};
    use chrono::{TimeZone, Utc};
    use domain::ids::{OrderId, ProjectId, Region, UserName};
    use domain::notification::{Notification, NotificationKind};
    use domain::page::Page;
    use domain::ports::MockStoreHealth;
    use domain::principal::Principal;
    use serde_json::{json, Value};

    use super::*;
    use crate::routes::{query_config, serve};
    use crate::test_support::{app_state, MockPorts};

    /// `demo-token` is demo, a member of `demo` only; `admin-token` is an admin.
    fn with_identity(mut mocks: MockPorts) -> MockPorts {
        mocks.identity.expect_authenticate().returning(|token| {
            let (user, admin) = match token {
                "demo-token" => ("demo", false),
                "admin-token" => ("admin", true),
                _ => return Err(domain::Error::Unauthenticated),
            };
            Ok(Principal {
                user: UserName::parse(user).unwrap(),
                admin,
                credential: None,
            })
        });
        mocks
            .identity
            .expect_is_member()
            .returning(|principal, project| {
                Ok(principal.user.as_str() == "demo" && project.as_str() == "demo")
            });
        mocks
    }

    fn event() -> Notification {
        Notification {
            kind: NotificationKind::OrderEnding,
            project: ProjectId::parse("demo").unwrap(),
            region: Region::parse("cn-north-1").unwrap(),
            order_id: OrderId::parse("o1").unwrap(),
            time: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            amount: None,
            message: "balance 3.00 does not cover 99.00".into(),
        }
    }

    /// Calls `uri` with `token` on an app whose notification store expects `expected`
    /// (filter and page) when given, and must not be called otherwise.
    async fn call(
        token: Option<&str>,
        uri: &str,
        expected: Option<(NotificationFilter, PageRequest)>,
    ) -> (u16, Value) {
        let mut mocks = with_identity(MockPorts::default());
        if let Some((filter, page)) = expected {
            mocks
                .notifications
                .expect_list()
                .withf(move |f, p| *f == filter && *p == page)
                .times(1)
                .returning(|_, _| Ok(Page::exact(31, vec![event()])));
        }
        let state = app_state(mocks, Arc::new(MockStoreHealth::new()));
        let app =
            test::init_service(serve(App::new().app_data(state).app_data(query_config()))).await;
        let mut request = test::TestRequest::get().uri(uri);
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        (status, test::read_body_json(response).await)
    }

    fn filter(order: Option<&str>) -> NotificationFilter {
        NotificationFilter {
            project: ProjectId::parse("demo").unwrap(),
            order: order.map(|o| OrderId::parse(o).unwrap()),
        }
    }

    const PATH: &str = "/usageapi/v1/notifications";

    #[actix_web::test]
    async fn a_member_reads_a_page_of_the_projects_notifications() {
        let (status, body) = call(
            Some("demo-token"),
            &format!("{PATH}?project=demo"),
            Some((filter(None), PageRequest::default())),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"code": 0, "msg": "OK", "data": {"total": 31, "totalExact": true, "results": [
                {"kind": "order_ending", "project": "demo", "region": "cn-north-1",
                 "orderId": "o1", "time": "2026-03-01T00:00:00.000000Z",
                 "message": "balance 3.00 does not cover 99.00"}]}})
        );
    }

    #[actix_web::test]
    async fn order_page_and_size_reach_the_store() {
        let page = PageRequest::parse(Some("2"), Some("10")).unwrap();
        let (status, _) = call(
            Some("demo-token"),
            &format!("{PATH}?project=demo&order=o1&page=2&size=10"),
            Some((filter(Some("o1")), page)),
        )
        .await;
        assert_eq!(status, 200);
    }

    #[actix_web::test]
    async fn an_admin_reads_any_project() {
        let (status, _) = call(
            Some("admin-token"),
            &format!("{PATH}?project=demo"),
            Some((filter(None), PageRequest::default())),
        )
        .await;
        assert_eq!(status, 200);
    }

    #[actix_web::test]
    async fn no_token_is_401_and_a_bad_token_too() {
        for token in [None, Some("nope")] {
            let (status, body) = call(token, &format!("{PATH}?project=demo"), None).await;
            assert_eq!(
                (status, body["code"].as_u64()),
                (401, Some(3305)),
                "{token:?}"
            );
        }
    }

    #[actix_web::test]
    async fn a_non_member_is_403() {
        let (status, body) = call(Some("demo-token"), &format!("{PATH}?project=other"), None).await;
        assert_eq!((status, body["code"].as_u64()), (403, Some(3306)));
    }

    #[actix_web::test]
    async fn bad_parameters_are_400_3307() {
        for query in [
            "",
            "?project=",
            "?project=de%20mo",
            "?project=demo&order=a%20b",
            "?project=demo&page=0",
            "?project=demo&size=101",
            "?project=demo&size=x",
        ] {
            let (status, body) = call(Some("demo-token"), &format!("{PATH}{query}"), None).await;
            assert_eq!(
                (status, body["code"].as_u64()),
                (400, Some(3307)),
                "{query}: {body}"
            );
        }
    }

    #[actix_web::test]
    async fn only_get_is_allowed() {
        let mocks = MockPorts::default();
        let state = app_state(mocks, Arc::new(MockStoreHealth::new()));
        let app = test::init_service(serve(App::new().app_data(state))).await;
        let response =
            test::call_service(&app, test::TestRequest::post().uri(PATH).to_request()).await;
        assert_eq!(response.status().as_u16(), 405);
    }
}
