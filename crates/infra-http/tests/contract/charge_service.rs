//! The charge service: what a payment sends, what each answer means (a "duplicate reason"
//! believed only for the same amount), and a retried payment taken once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use domain::consumption::ConsumptionKind;
use domain::money::Money;
use domain::payment::{MoneyKeeper, Payment, PaymentDirection, PaymentId, PaymentState};
use domain::ports::Charging;
use domain::Error;
use infra_http::{ChargeRegion, ChargeService, Secret};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::fixtures::*;

fn service(server: &MockServer) -> ChargeService {
    ChargeService::new(
        vec![ChargeRegion {
            region: north1(),
            base_url: format!("{}/", server.uri()),
            admin_token: Secret::new(ADMIN_TOKEN),
        }],
        settings(),
    )
    .unwrap()
}

/// Payment 3 of order `ord-1` (its reason `pay:ord-1:3`), pending at the charge service.
fn payment(direction: PaymentDirection, amount: &str) -> Payment {
    let now = Utc.with_ymd_and_hms(2024, 2, 15, 0, 0, 0).unwrap();
    Payment {
        id: PaymentId {
            order: order_id("ord-1"),
            seq: 3,
        },
        project: project("demo"),
        region: north1(),
        keeper: MoneyKeeper::ChargeService,
        direction,
        amount: amount.parse().unwrap(),
        consume_id: 2,
        kind: ConsumptionKind::Renew,
        period_from: now,
        period_until: Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap(),
        deferred: true,
        state: PaymentState::Pending,
        created_at: now,
        settled_at: None,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
    }
}

fn deduction(amount: &str) -> Payment {
    payment(PaymentDirection::Deduction, amount)
}

fn answer(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json")
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn deduct_against(template: ResponseTemplate) -> (Result<(), Error>, MockServer) {
    let server = answering(template).await;
    let result = service(&server).deduct(&deduction("12.5")).await;
    (result, server)
}

#[tokio::test]
async fn deduction_sends_the_documented_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charge/v1/recharge"))
        .and(query_param("type", "deduction"))
        .and(query_param("region", "cn-north-1"))
        .and(header(
            "Authorization",
            format!("Bearer {ADMIN_TOKEN}").as_str(),
        ))
        .and(header("Content-Type", "application/json; charset=utf-8"))
        .and(body_json(serde_json::json!({
            "namespace": "demo",
            "amount": 12.5,
            "reason": "pay:ord-1:3",
            "region": "cn-north-1",
        })))
        .respond_with(answer(
            200,
            r#"{"code":0,"msg":"OK","data":{"balance":87.5}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    service(&server).deduct(&deduction("12.5")).await.unwrap();
}

#[tokio::test]
async fn amount_travels_as_an_exact_json_number() {
    let cases = [
        ("12.5", "12.5"),
        ("100", "100"),
        ("0.0001", "0.0001"),
        ("99999999.9999", "99999999.9999"),
    ];
    for (amount, literal) in cases {
        let server = answering(answer(200, r#"{"code":0}"#)).await;
        service(&server).deduct(&deduction(amount)).await.unwrap();
        let sent = server.received_requests().await.unwrap();
        let body = String::from_utf8(sent[0].body.clone()).unwrap();
        assert!(body.contains(&format!(r#""amount":{literal},"#)), "{body}");
    }
}

#[tokio::test]
async fn credit_uses_the_credit_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(query_param("type", "credit"))
        .respond_with(answer(200, r#"{"code":0}"#))
        .expect(1)
        .mount(&server)
        .await;
    service(&server)
        .credit(&payment(PaymentDirection::Credit, "3"))
        .await
        .unwrap();
}

#[tokio::test]
async fn payment_in_the_wrong_direction_or_kept_by_the_ledger_is_internal_and_not_sent() {
    let server = answering(answer(200, r#"{"code":0}"#)).await;
    let service = service(&server);
    let credit_as_deduction = service
        .deduct(&payment(PaymentDirection::Credit, "1"))
        .await;
    assert!(matches!(credit_as_deduction, Err(Error::Internal(_))));
    let zero = service.deduct(&deduction("0")).await;
    assert!(matches!(zero, Err(Error::Internal(_))));
    let mut ledger_kept = deduction("1");
    ledger_kept.keeper = MoneyKeeper::LocalLedger;
    let ledger_kept = service.deduct(&ledger_kept).await;
    assert!(matches!(ledger_kept, Err(Error::Internal(_))));
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn duplicate_reason_with_the_same_amount_is_taken() {
    for template in [
        answer(
            409,
            r#"{"code":1318,"msg":"duplicate reason","data":{"amount":12.5}}"#,
        ),
        answer(200, r#"{"code":1318,"data":{"amount":12.50}}"#),
    ] {
        let (result, _server) = deduct_against(template).await;
        assert_eq!(result, Ok(()));
    }
}

#[tokio::test]
async fn duplicate_reason_with_another_amount_is_a_mismatch() {
    for held in ["12.4999", "125", "0", "-12.5", "\"12\""] {
        let body =
            format!(r#"{{"code":1318,"msg":"duplicate reason","data":{{"amount":{held}}}}}"#);
        let (result, _server) = deduct_against(answer(409, &body)).await;
        match result {
            Err(Error::PaymentMismatch(why)) => assert!(why.contains("pay:ord-1:3"), "{why}"),
            other => panic!("{held}: expected PaymentMismatch, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn duplicate_reason_without_an_amount_is_a_mismatch() {
    for template in [
        answer(409, r#"{"code":1318,"msg":"duplicate reason"}"#),
        answer(409, r#"{"code":1318,"data":{}}"#),
        answer(409, r#"{"code":1318,"data":{"amount":null}}"#),
        answer(409, r#"{"code":1318,"data":"12.5"}"#),
        answer(200, r#"{"code":1318}"#),
    ] {
        let (result, _server) = deduct_against(template).await;
        assert!(
            matches!(result, Err(Error::PaymentMismatch(_))),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn credit_answered_duplicate_is_checked_the_same_way() {
    let credit = payment(PaymentDirection::Credit, "3");
    let same = answering(answer(409, r#"{"code":1318,"data":{"amount":3}}"#)).await;
    assert_eq!(service(&same).credit(&credit).await, Ok(()));
    let other = answering(answer(409, r#"{"code":1318,"data":{"amount":4}}"#)).await;
    let result = service(&other).credit(&credit).await;
    assert!(
        matches!(result, Err(Error::PaymentMismatch(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn conflict_without_code_1318_is_a_refusal() {
    for template in [
        ResponseTemplate::new(409),
        answer(
            409,
            r#"{"code":1302,"msg":"conflict","data":{"amount":12.5}}"#,
        ),
        // 1318 is believed only as the documented 409 or 200.
        answer(400, r#"{"code":1318,"data":{"amount":12.5}}"#),
    ] {
        let (result, _server) = deduct_against(template).await;
        assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
    }
}

#[tokio::test]
async fn code_1309_is_insufficient_balance() {
    let (result, _server) = deduct_against(answer(
        400,
        r#"{"code":1309,"msg":"failed to update balance (need recharge first.)"}"#,
    ))
    .await;
    assert_eq!(
        result,
        Err(Error::PaymentDeclined {
            needed: Money::from_minor(125_000),
            detail: "declined by the charge service of cn-north-1".into()
        }),
        "the charge service's own words stay in the log"
    );
}

#[tokio::test]
async fn code_1309_in_a_200_is_insufficient_balance_too() {
    let (result, _server) = deduct_against(answer(200, r#"{"code":1309}"#)).await;
    assert!(
        matches!(result, Err(Error::PaymentDeclined { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn code_1309_on_a_credit_is_internal() {
    let server = answering(answer(400, r#"{"code":1309}"#)).await;
    let result = service(&server)
        .credit(&payment(PaymentDirection::Credit, "3"))
        .await;
    assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
}

#[tokio::test]
async fn server_errors_are_unknown_outcomes_sent_once() {
    for template in [
        answer(503, r#"{"code":1}"#),
        answer(500, r#"{"code":1309}"#),
        answer(502, r#"{"code":1318,"data":{"amount":12.5}}"#),
        answer(429, r#"{"code":1}"#),
    ] {
        let (result, server) = deduct_against(template).await;
        match result {
            Err(Error::DependencyUnavailable(why)) => assert!(why.contains("outcome unknown")),
            other => panic!("expected DependencyUnavailable, got {other:?}"),
        }
        assert_eq!(requests(&server).await, 1, "not retried");
    }
}

#[tokio::test]
async fn timeout_is_unavailable_and_not_retried() {
    let (result, server) = deduct_against(answer(200, r#"{"code":0}"#).set_delay(TOO_SLOW)).await;
    assert!(
        matches!(result, Err(Error::DependencyUnavailable(_))),
        "{result:?}"
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn slow_answer_within_the_timeout_is_taken() {
    let (result, _server) = deduct_against(answer(200, r#"{"code":0}"#).set_delay(SLOW)).await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn unreachable_service_is_unavailable() {
    let service = ChargeService::new(
        vec![ChargeRegion {
            region: north1(),
            base_url: dead_url(),
            admin_token: Secret::new(ADMIN_TOKEN),
        }],
        settings(),
    )
    .unwrap();
    let result = service.deduct(&deduction("1")).await;
    assert!(
        matches!(result, Err(Error::DependencyUnavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn other_refusals_are_internal() {
    for template in [
        answer(400, r#"{"code":1305,"msg":"auth failed"}"#),
        answer(404, "not found"),
    ] {
        let (result, _server) = deduct_against(template).await;
        assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
    }
}

#[tokio::test]
async fn a_200_that_cannot_be_read_is_an_unknown_outcome() {
    for template in [
        answer(200, "{not json"),
        answer(200, r#"{"code":7}"#),
        answer(200, r#"{"msg":"no code"}"#),
    ] {
        let (result, _server) = deduct_against(template).await;
        assert!(
            matches!(result, Err(Error::DependencyUnavailable(_))),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn admin_token_never_appears_in_an_error() {
    let echo = format!(r#"{{"code":1305,"msg":"token {ADMIN_TOKEN} is not an admin"}}"#);
    let (result, server) = deduct_against(answer(403, &echo)).await;
    let shown = result.unwrap_err().to_string();
    assert!(shown.contains("not an admin"), "{shown}");
    assert!(!shown.contains(ADMIN_TOKEN), "{shown}");
    let debug = format!("{:?}", service(&server));
    assert!(!debug.contains(ADMIN_TOKEN), "{debug}");
}

#[tokio::test]
async fn payment_of_a_region_without_a_charge_service_is_internal() {
    let server = MockServer::start().await;
    let mut elsewhere = deduction("1");
    elsewhere.region = region("cn-north-2");
    let result = service(&server).deduct(&elsewhere).await;
    assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
    assert_eq!(requests(&server).await, 0);
}

/// A charge service that keeps a balance and takes each (type, reason) once, answering a
/// repeat `409` with code 1318 and the amount it took, and its first request only after
/// the client has given up.
struct DedupingLedger {
    state: Arc<Mutex<LedgerState>>,
}

struct LedgerState {
    balance: Money,
    /// (type, reason) → the amount taken under it.
    taken: HashMap<(String, String), Money>,
    requests: usize,
}

/// A charge service holding `balance` that has already seen `requests` requests (the
/// first is answered late), deduplicating deductions by reason; returns its state to look
/// at and the server.
async fn deduping_ledger(balance: &str, requests: usize) -> (Arc<Mutex<LedgerState>>, MockServer) {
    let state = Arc::new(Mutex::new(LedgerState {
        balance: balance.parse().unwrap(),
        taken: HashMap::new(),
        requests,
    }));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charge/v1/recharge"))
        .respond_with(DedupingLedger {
            state: state.clone(),
        })
        .mount(&server)
        .await;
    (state, server)
}

impl Respond for DedupingLedger {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap();
        state.requests += 1;
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let amount: Money = body["amount"].to_string().parse().unwrap();
        let reason = body["reason"].as_str().unwrap().to_owned();
        let kind = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "type")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let first_request = state.requests == 1;
        let key = (kind, reason);
        let template = if let Some(held) = state.taken.get(&key) {
            answer(
                409,
                &format!(r#"{{"code":1318,"msg":"duplicate reason","data":{{"amount":{held}}}}}"#),
            )
        } else if amount > state.balance {
            answer(400, r#"{"code":1309,"msg":"need recharge first."}"#)
        } else {
            state.balance = state.balance.checked_sub(amount).unwrap();
            state.taken.insert(key, amount);
            answer(200, r#"{"code":0,"msg":"OK"}"#)
        };
        if first_request {
            template.set_delay(TOO_SLOW)
        } else {
            template
        }
    }
}

#[tokio::test]
async fn retried_deduction_with_the_same_reason_is_taken_once() {
    let (state, server) = deduping_ledger("100", 0).await;
    let service = service(&server);
    let payment = deduction("12.5");

    let first = service.deduct(&payment).await;
    assert!(
        matches!(first, Err(Error::DependencyUnavailable(_))),
        "the first attempt times out client-side: {first:?}"
    );
    assert_eq!(
        state.lock().unwrap().requests,
        1,
        "not retried inside the call"
    );
    assert_eq!(
        state.lock().unwrap().balance,
        "87.5".parse().unwrap(),
        "the server took it anyway"
    );

    service.deduct(&payment).await.unwrap();
    let state = state.lock().unwrap();
    assert_eq!(state.requests, 2);
    assert_eq!(
        state.balance,
        "87.5".parse().unwrap(),
        "taken once for two attempts"
    );
}

#[tokio::test]
async fn another_amount_sent_under_a_taken_reason_is_a_mismatch_and_moves_nothing() {
    // Past the first request: no delay.
    let (state, server) = deduping_ledger("100", 1).await;
    let service = service(&server);
    service.deduct(&deduction("12.5")).await.unwrap();

    let result = service.deduct(&deduction("20")).await;
    match result {
        Err(Error::PaymentMismatch(why)) => {
            assert!(why.contains("12.50") && why.contains("20.00"), "{why}")
        }
        other => panic!("expected PaymentMismatch, got {other:?}"),
    }
    assert_eq!(state.lock().unwrap().balance, "87.5".parse().unwrap());
}

#[tokio::test]
async fn declined_deduction_leaves_the_reason_usable() {
    // Past the first request: no delay.
    let (state, server) = deduping_ledger("10", 1).await;
    let service = service(&server);
    let payment = deduction("12.5");
    let declined = service.deduct(&payment).await;
    assert!(
        matches!(declined, Err(Error::PaymentDeclined { .. })),
        "{declined:?}"
    );
    state.lock().unwrap().balance = "20".parse().unwrap();
    service.deduct(&payment).await.unwrap();
    assert_eq!(state.lock().unwrap().balance, "7.5".parse().unwrap());
}
