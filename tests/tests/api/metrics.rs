//! `/metrics` and `/readyz` of the running binary: the counters move by what the requests
//! did (an order created and cancelled: its price charged, its refund given back), HTTP
//! series are labelled by route pattern with every unknown path under one label, and the
//! jobs' gauges are there.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{minor, spawn_app, TestApp, CPU, DEMO};

/// The samples of one `/metrics` page: name and labels → value.
pub struct Page {
    text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Page {
    fn parse(text: String) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample line");
                let (name, labels) = match series.split_once('{') {
                    Some((name, labels)) => (name, labels.strip_suffix('}').expect("}")),
                    None => (series, ""),
                };
                let labels = labels
                    .split(',')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').expect("key=value");
                        (key.to_owned(), value.trim_matches('"').to_owned())
                    })
                    .collect();
                (name.to_owned(), labels, value.parse().expect("a number"))
            })
            .collect();
        Self { text, samples }
    }

    /// The sample of `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == wanted)
            .map(|(_, _, value)| *value)
    }

    /// The samples of `name`, whatever their labels.
    pub fn series(&self, name: &str) -> usize {
        self.samples.iter().filter(|(n, _, _)| n == name).count()
    }
}

/// `GET /metrics` (no token), checked to be Prometheus's text format.
pub async fn metrics(app: &TestApp) -> Page {
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    Page::parse(response.text().await.unwrap())
}

/// The page once `ready` holds of it (the jobs run beside the requests).
pub async fn metrics_once(app: &TestApp, what: &str, ready: impl Fn(&Page) -> bool) -> Page {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = metrics(app).await;
        if ready(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "no {what} in:\n{}", page.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn readyz(app: &TestApp) -> (u16, serde_json::Value) {
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

const REGION: &str = "cn-north-1";

#[tokio::test]
async fn counters_move_by_what_a_created_and_cancelled_order_did() {
    let app = spawn_app().await;
    assert_eq!(readyz(&app).await, (200, json!({"code": 0, "msg": "OK"})));

    let created = app.create_order(DEMO, "demo", CPU).await;
    created.expect(201, 0);
    let id = created.data()["orderId"].as_str().unwrap().to_owned();
    let price = minor(&created.data()["money"]);
    assert_eq!(price, 990_000);
    let cancelled = app
        .put(
            &format!("/orders/{id}"),
            DEMO,
            json!({"action": "cancel", "project": "demo"}),
        )
        .await;
    cancelled.expect(200, 0);
    let refunded = minor(&cancelled.data()["refunded"]);
    assert!(refunded > 0);

    let page = metrics(&app).await;
    let region = [("region", REGION)];
    assert_eq!(
        page.value("serviceusage_orders_created_total", &region),
        Some(1.0)
    );
    assert_eq!(
        page.value("serviceusage_orders_cancelled_total", &region),
        Some(1.0)
    );
    assert_eq!(
        page.value("serviceusage_orders_ended_total", &region),
        Some(1.0)
    );
    assert_eq!(page.series("serviceusage_orders_switched_total"), 0);
    assert_eq!(
        page.value(
            "serviceusage_money_charged_ten_thousandths_total",
            &[("region", REGION), ("kind", "new")]
        ),
        Some(price as f64)
    );
    assert_eq!(
        page.series("serviceusage_money_charged_ten_thousandths_total"),
        1
    );
    assert_eq!(
        page.value(
            "serviceusage_money_refunded_ten_thousandths_total",
            &[("region", REGION), ("kind", "end")]
        ),
        Some(refunded as f64)
    );
    let requests = |route, method, status| {
        page.value(
            "serviceusage_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(requests("/usageapi/v1/orders", "POST", "201"), Some(1.0));
    assert_eq!(
        requests("/usageapi/v1/orders/{orderId}", "PUT", "200"),
        Some(1.0)
    );
    assert_eq!(requests("/readyz", "GET", "200"), Some(1.0));
    assert_eq!(
        page.value(
            "serviceusage_http_request_duration_seconds_count",
            &[
                ("route", "/usageapi/v1/orders"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        Some(1.0)
    );
    assert!(!page.text.contains(&id), "no series names an order");
}

#[tokio::test]
async fn every_unknown_path_is_one_series() {
    let app = spawn_app().await;
    for path in [
        "/wp-login.php",
        "/usageapi/v1/no-such-thing",
        "/usageapi/v2/orders",
        "/a/b/c/d",
    ] {
        let reply = app.get(&format!("/{path}"), DEMO).await;
        reply.expect(404, 3303);
    }
    let page = metrics(&app).await;
    assert_eq!(
        page.value(
            "serviceusage_http_requests_total",
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
        ),
        Some(4.0)
    );
    for path in ["wp-login", "no-such-thing", "v2", "/a/b"] {
        assert!(!page.text.contains(path), "{path} in:\n{}", page.text);
    }
}

#[tokio::test]
async fn the_jobs_gauges_and_the_pool_are_shown() {
    let app = spawn_app().await;
    let page = metrics_once(&app, "renewal run and queue gauges", |page| {
        page.value("serviceusage_renewal_runs_total", &[]).is_some()
            && page
                .value("serviceusage_webhook_deliveries_pending", &[])
                .is_some()
    })
    .await;
    assert_eq!(
        page.value("serviceusage_renewal_overdue_orders", &[]),
        Some(0.0)
    );
    assert_eq!(
        page.value("serviceusage_renewal_run_duration_seconds_count", &[]),
        page.value("serviceusage_renewal_runs_total", &[])
    );
    for state in ["pending", "owed"] {
        for direction in ["deduction", "credit"] {
            let labels = [("state", state), ("direction", direction)];
            assert_eq!(page.value("serviceusage_payments_open", &labels), Some(0.0));
        }
    }
    assert_eq!(
        page.value(
            "serviceusage_resource_tasks_queued",
            &[("action", "release")]
        ),
        Some(0.0)
    );
    // `config/default.toml`: a pool of 8, each connection idle or in use.
    assert_eq!(
        page.value("serviceusage_db_pool_max_connections", &[]),
        Some(8.0)
    );
    let idle = page
        .value("serviceusage_db_pool_connections", &[("state", "idle")])
        .unwrap();
    let in_use = page
        .value("serviceusage_db_pool_connections", &[("state", "in_use")])
        .unwrap();
    assert!((1.0..=8.0).contains(&(idle + in_use)), "{idle} + {in_use}");
    assert!(
        page.value("serviceusage_db_pool_checkout_wait_seconds_count", &[])
            .unwrap()
            >= 1.0
    );
    assert!(page
        .text
        .contains("# HELP serviceusage_renewal_overdue_orders "));
}
