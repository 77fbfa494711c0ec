//! The fakes themselves answer as the contract the service assumes (so that a failing
//! platform test points at the service, not at its fake).

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    Condition, Delivery, FakePlatform, Quota, RemotePlan, Taken, CREATOR_ANNOTATION,
    ORDER_ANNOTATION, PAST_TIMEOUT,
};

const ADMIN: &str = "admin-secret";

fn plan() -> RemotePlan {
    RemotePlan {
        id: "vol-1",
        name: "Volume",
        plan_type: "volume",
        belong: "volume",
        specification1: "10 GB",
        specification2: "",
        price: "12.5",
        region: "cn-north-1",
    }
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(Value::Null);
            (status, body)
        }
        Err(error) if error.is_timeout() => (0, Value::Null),
        Err(error) => panic!("{error}"),
    }
}

async fn pay(fakes: &FakePlatform, kind: &str, reason: &str, amount: &str) -> (u16, Value) {
    let config = fakes.config("cn-north-1", ADMIN, &[]);
    call(
        reqwest::Method::POST,
        format!(
            "{}/charge/v1/recharge?type={kind}&region=cn-north-1",
            config.charge_service
        ),
        Some(ADMIN),
        Some(
            json!({"namespace": "p", "amount": super::amount::number(amount),
                    "reason": reason, "region": "cn-north-1"}),
        ),
    )
    .await
}

/// The 1318 answer to a repeat of a reason taken with `amount`.
fn duplicate(amount: &str) -> (u16, Value) {
    (
        409,
        json!({"code": 1318, "msg": "duplicate reason",
               "data": {"amount": super::amount::number(amount)}}),
    )
}

#[tokio::test]
async fn the_charge_service_takes_a_reason_once_and_answers_a_repeat_with_the_amount_taken() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    fakes.charge.set_balance("p", 200_000);
    let (status, body) = pay(&fakes, "deduction", "pay:o:1", "12.5").await;
    assert_eq!((status, body["code"].clone()), (200, json!(0)));
    assert_eq!(
        pay(&fakes, "deduction", "pay:o:1", "12.5").await,
        duplicate("12.5")
    );
    // Whatever the repeat carries: the service must notice another amount.
    assert_eq!(
        pay(&fakes, "deduction", "pay:o:1", "3").await,
        duplicate("12.5")
    );
    // A credit under the same reason is another payment.
    assert_eq!(pay(&fakes, "credit", "pay:o:1", "2").await.0, 200);
    assert_eq!(fakes.charge.balance("p"), 95_000);
    assert_eq!(fakes.charge.net_taken("p"), 105_000);
    assert_eq!(
        fakes.charge.taken_under("deduction", "pay:o:1"),
        Some(125_000)
    );
    assert_eq!(
        fakes
            .charge
            .taken()
            .get(&("credit".into(), "pay:o:1".into())),
        Some(&Taken {
            namespace: "p".into(),
            amount: 20_000
        })
    );
    let payments = fakes.payments();
    assert_eq!(payments.len(), 4);
    assert_eq!(payments[0].amount, Some(125_000));
    assert_eq!(payments[0].authorization, format!("Bearer {ADMIN}"));
    assert_eq!(payments[1].status, 409);
}

#[tokio::test]
async fn the_charge_service_declines_with_1309_without_using_up_the_reason() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    fakes.charge.set_balance("p", 50_000);
    let (status, body) = pay(&fakes, "deduction", "pay:o:2", "10").await;
    assert_eq!((status, body["code"].clone()), (400, json!(1309)));
    assert_eq!(fakes.charge.taken_under("deduction", "pay:o:2"), None);
    fakes.charge.set_balance("p", 150_000);
    assert_eq!(pay(&fakes, "deduction", "pay:o:2", "10").await.0, 200);
    assert_eq!(fakes.charge.balance("p"), 50_000);
}

#[tokio::test]
async fn the_charge_service_can_take_then_answer_too_late_for_the_next_requests() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    fakes.charge.set_balance("p", 200_000);
    let timeout = Duration::from_millis(fakes.config("cn-north-1", ADMIN, &[]).timeout_ms);
    assert!(
        PAST_TIMEOUT > timeout,
        "late answers come after the service gave up"
    );
    fakes.charge.take_then_time_out(2);
    assert_eq!(pay(&fakes, "deduction", "pay:o:1", "1").await.0, 0);
    assert_eq!(fakes.charge.balance("p"), 190_000, "taken though late");
    assert_eq!(pay(&fakes, "deduction", "pay:o:1", "1").await.0, 0);
    // Used up: answered at once again.
    assert_eq!(
        pay(&fakes, "deduction", "pay:o:1", "1").await,
        duplicate("1")
    );
    assert_eq!(fakes.charge.balance("p"), 190_000, "taken once");
    let statuses: Vec<u16> = fakes.payments().iter().map(|p| p.status).collect();
    assert_eq!(statuses, [200, 409, 409]);
}

#[tokio::test]
async fn the_charge_service_can_answer_too_late_without_taking_for_the_next_requests() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    fakes.charge.set_balance("p", 200_000);
    fakes.charge.time_out_before_taking(1);
    assert_eq!(pay(&fakes, "deduction", "pay:o:1", "1").await.0, 0);
    assert_eq!(fakes.charge.balance("p"), 200_000, "nothing taken");
    assert_eq!(fakes.charge.taken_under("deduction", "pay:o:1"), None);
    assert_eq!(pay(&fakes, "deduction", "pay:o:1", "1").await.0, 200);
    assert_eq!(fakes.charge.balance("p"), 190_000);
}

#[tokio::test]
async fn the_charge_service_can_answer_after_a_delay() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    fakes.charge.set_balance("p", 200_000);
    let delay = Duration::from_millis(300);
    fakes.charge.set_delay(delay);
    let started = Instant::now();
    assert_eq!(pay(&fakes, "deduction", "pay:o:1", "1").await.0, 200);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    fakes.charge.set_delay(Duration::ZERO);
    let started = Instant::now();
    assert_eq!(pay(&fakes, "deduction", "pay:o:2", "1").await.0, 200);
    assert!(started.elapsed() < delay, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_seeded_reason_answers_1318_with_its_amount() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    fakes.charge.set_balance("p", 200_000);
    fakes.charge.seed_taken("deduction", "p", "pay:o:7", 50_000);
    assert_eq!(fakes.charge.balance("p"), 150_000);
    assert_eq!(fakes.charge.net_taken("p"), 50_000);
    assert_eq!(
        pay(&fakes, "deduction", "pay:o:7", "12.5").await,
        duplicate("5")
    );
    assert_eq!(fakes.charge.balance("p"), 150_000);
    assert_eq!(fakes.payments().len(), 1, "the seed is no request");
}

#[tokio::test]
async fn a_slow_charge_service_may_still_take_the_payment() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    fakes.charge.set_balance("p", 200_000);
    fakes.charge.set_condition(Condition::Slow {
        delay: Duration::from_secs(2),
        carried_out: true,
    });
    assert_eq!(pay(&fakes, "deduction", "pay:o:3", "1").await.0, 0);
    assert_eq!(fakes.charge.balance("p"), 190_000, "taken though late");
}

#[tokio::test]
async fn plans_identity_quotas_and_volumes_answer_like_the_platform() {
    let fakes = FakePlatform::start(vec![plan()], ADMIN).await;
    fakes.identity.add_user("ann", "ann-token", &["p"]);
    let config = fakes.config("cn-north-1", ADMIN, &[]);
    let get = reqwest::Method::GET;

    let (status, body) = call(
        get.clone(),
        format!(
            "{}/charge/v1/plans/vol-1?region=cn-north-1",
            config.plan_service
        ),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["price"], json!(12.5));
    let (_, unknown) = call(
        get.clone(),
        format!(
            "{}/charge/v1/plans/nope?region=cn-north-1",
            config.plan_service
        ),
        None,
        None,
    )
    .await;
    assert_eq!(unknown, json!({"code": 0, "msg": "OK"}));
    let (_, page2) = call(
        get.clone(),
        format!(
            "{}/charge/v1/plans?region=cn-north-1&page=2&size=100",
            config.plan_service
        ),
        None,
        None,
    )
    .await;
    assert_eq!(page2["data"]["total"], 1);
    assert_eq!(page2["data"]["results"], json!([]));

    let users = format!("{}/oapi/v1/users/~", config.identity_url);
    let (status, me) = call(get.clone(), users.clone(), Some("ann-token"), None).await;
    assert_eq!(
        (status, me["metadata"]["name"].clone()),
        (200, json!("ann"))
    );
    assert_eq!(call(get.clone(), users, Some("x"), None).await.0, 401);
    let project = |p: &str| format!("{}/oapi/v1/projects/{p}", config.platform_url);
    assert_eq!(
        call(get.clone(), project("p"), Some("ann-token"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(get.clone(), project("q"), Some("ann-token"), None)
            .await
            .0,
        403
    );

    let quotas = format!("{}/api/v1/namespaces/p/resourcequotas", config.platform_url);
    let quota = format!("{quotas}/standard-quota");
    assert_eq!(
        call(get.clone(), quota.clone(), Some(ADMIN), None).await.0,
        404
    );
    let object = |cpu: &str| {
        json!({"metadata": {"name": "standard-quota"},
               "spec": {"hard": {"limits.cpu": cpu, "limits.memory": "4Gi"}}})
    };
    let post = reqwest::Method::POST;
    let put = reqwest::Method::PUT;
    assert_eq!(
        call(post.clone(), quotas, Some(ADMIN), Some(object("2")))
            .await
            .0,
        201
    );
    assert_eq!(
        call(put, quota, Some(ADMIN), Some(object("4"))).await.0,
        200
    );
    assert_eq!(
        fakes.quota("p"),
        Some(Quota {
            cpu_millis: 4000,
            memory_mib: 4096
        })
    );
    assert_eq!(fakes.quota_writes("p").len(), 2);

    let volumes = format!("{}/lapi/v1/namespaces/p/volumes", config.volume_service);
    let body = json!({"name": "data-1", "size": 10, "metadata": {"annotations": {
        CREATOR_ANNOTATION: "ann", ORDER_ANNOTATION: "ord-1"}}});
    assert_eq!(
        call(post, volumes.clone(), Some(ADMIN), Some(body)).await.0,
        200
    );
    assert!(fakes.volumes.exists("p", "data-1"));
    assert_eq!(
        fakes.volumes.order_of("p", "data-1").as_deref(),
        Some("ord-1")
    );
    let delete = reqwest::Method::DELETE;
    let one = format!("{volumes}/data-1");
    assert_eq!(
        call(delete.clone(), one.clone(), Some(ADMIN), None).await.0,
        200
    );
    assert_eq!(call(delete, one, Some(ADMIN), None).await.0, 404);
    let calls = fakes.volume_calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        (calls[0].name.as_str(), calls[0].size),
        ("data-1", Some(10))
    );
    assert_eq!(
        (calls[0].creator.as_deref(), calls[0].order.as_deref()),
        (Some("ann"), Some("ord-1"))
    );
}

#[tokio::test]
async fn a_delivery_signed_as_documented_verifies() {
    let fakes = FakePlatform::start(vec![], ADMIN).await;
    let body = br#"{"id":1,"kind":"order_created"}"#;
    let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
    mac.update(b"1700000000.");
    mac.update(body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    reqwest::Client::new()
        .post(fakes.webhook_url())
        .header("X-Serviceusage-Timestamp", "1700000000")
        .header("X-Serviceusage-Signature", signature)
        .header("X-Serviceusage-Delivery", "7")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let deliveries: Vec<Delivery> = fakes.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].signed_with("secret"));
    assert!(!deliveries[0].signed_with("other"));
    assert_eq!(deliveries[0].delivery_id.as_deref(), Some("7"));
    assert_eq!(deliveries[0].timestamp, Some(1_700_000_000));
    assert_eq!(deliveries[0].event["kind"], "order_created");
}
