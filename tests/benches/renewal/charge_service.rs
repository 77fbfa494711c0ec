//! A fake charge service on loopback for the charge-service renewal benchmark: it answers
//! every deduction `200 {"code":0}` after a fixed delay, many at once (the delay is awaited
//! per connection, not in the handler), and keeps what it took under each reason. A reason
//! sent again is answered as the contract says (`409`, code 1318, the amount taken), and
//! counted, so the benchmark can prove that nothing was taken twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// What the fake took under one reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    pub namespace: String,
    /// Ten-thousandths.
    pub amount: i64,
}

#[derive(Debug, Default)]
struct Ledger {
    /// reason → what was taken under it.
    taken: HashMap<String, Taken>,
    /// Reasons sent again after they were taken.
    repeats: u64,
    /// Requests that were not a readable deduction.
    refused: u64,
}

/// The running fake; dropping it stops the server.
pub struct FakeChargeService {
    server: MockServer,
    ledger: Arc<Mutex<Ledger>>,
}

/// What the fake saw, once the run is over.
#[derive(Debug)]
pub struct Tally {
    pub taken: HashMap<String, Taken>,
    pub repeats: u64,
    pub refused: u64,
}

impl FakeChargeService {
    /// Starts the fake; every answer waits `delay`.
    pub async fn start(admin_token: &str, delay: Duration) -> Self {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let book = Arc::clone(&ledger);
        let bearer = format!("Bearer {admin_token}");
        Mock::given(method("POST"))
            .and(path("/charge/v1/recharge"))
            .respond_with(move |request: &Request| {
                let answer = answer(&book, &bearer, request);
                answer.set_delay(delay)
            })
            .mount(&server)
            .await;
        Self { server, ledger }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn tally(&self) -> Tally {
        let ledger = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        Tally {
            taken: ledger.taken.clone(),
            repeats: ledger.repeats,
            refused: ledger.refused,
        }
    }
}

fn answer(book: &Mutex<Ledger>, bearer: &str, request: &Request) -> ResponseTemplate {
    let mut ledger = book.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(deduction) = read(bearer, request) else {
        ledger.refused += 1;
        return ResponseTemplate::new(400).set_body_json(json!({"code": 1, "msg": "bad request"}));
    };
    let (reason, taken) = deduction;
    if let Some(before) = ledger.taken.get(&reason) {
        let amount = before.amount;
        ledger.repeats += 1;
        return ResponseTemplate::new(409).set_body_json(json!({
            "code": 1318,
            "msg": "duplicate reason",
            "data": {"amount": json_amount(amount)},
        }));
    }
    ledger.taken.insert(reason, taken);
    ResponseTemplate::new(200).set_body_json(json!({"code": 0, "msg": "OK"}))
}

/// The reason and what a well-formed deduction asks to take.
fn read(bearer: &str, request: &Request) -> Option<(String, Taken)> {
    let authorized = request
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(bearer);
    let deduction = request
        .url
        .query_pairs()
        .any(|(key, value)| key == "type" && value == "deduction");
    if !authorized || !deduction {
        return None;
    }
    let body: Value = serde_json::from_slice(&request.body).ok()?;
    let Value::Number(amount) = body.get("amount")? else {
        return None;
    };
    Some((
        body.get("reason")?.as_str()?.to_owned(),
        Taken {
            namespace: body.get("namespace")?.as_str()?.to_owned(),
            amount: minor_of(&amount.to_string())?,
        },
    ))
}

/// A JSON number's text (`12.5`) as ten-thousandths; `None` for a negative amount, an
/// exponent or more than four decimals.
fn minor_of(text: &str) -> Option<i64> {
    if text.contains(['e', 'E', '-']) {
        return None;
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 4 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<4}").parse().ok()?;
    whole.checked_mul(10_000)?.checked_add(frac)
}

/// Ten-thousandths as an exact JSON number (`12.5`).
fn json_amount(minor: i64) -> Value {
    let text = format!("{}.{:04}", minor / 10_000, minor % 10_000);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    serde_json::from_str(text).unwrap_or(Value::Null)
}
