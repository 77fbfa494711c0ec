//! The fake charge service: `POST /charge/v1/recharge?type=deduction|credit&region=` with
//! the platform admin's bearer token and `{namespace, amount, reason, region}`. It keeps a
//! balance per namespace and the amount taken under each (type, reason), takes each at
//! most once, and answers a repeat `409 {"code":1318,"msg":"duplicate reason","data":
//! {"amount":<the amount taken>}}` whatever amount the repeat carries (the service must
//! notice another amount). It declines a deduction the balance cannot cover with HTTP 400
//! and code 1309, without using up the reason.
//!
//! Knobs for the tests (every one thread-safe, behind the fake's lock): a standing
//! [`Condition`]; a delay added to every answer ([`FakeChargeService::set_delay`]); the next
//! requests taken but answered too late ([`FakeChargeService::take_then_time_out`]) or
//! answered too late without being taken ([`FakeChargeService::time_out_before_taking`]);
//! a reason taken beforehand with a chosen amount ([`FakeChargeService::seed_taken`]).
//! A request takes effect when it arrives; only its answer waits.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::Request;

use super::amount::{decimal, json_amount, minor_of};
use super::journal::{Recorded, Service};
use super::server::{bearer, query, Answer, Condition, Conditions, Fake};

const PATH: &str = "/charge/v1/recharge";

/// How late the answers of [`FakeChargeService::take_then_time_out`] and
/// [`FakeChargeService::time_out_before_taking`] come: well past the timeout
/// [`super::FakePlatform::config`] gives the service (`timeout_ms`, 1 s).
pub const PAST_TIMEOUT: Duration = Duration::from_secs(3);

/// What the fake took under one (type, reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    pub namespace: String,
    /// Ten-thousandths.
    pub amount: i64,
}

#[derive(Debug, Default)]
struct State {
    admin_token: String,
    /// Ten-thousandths per namespace; an unknown namespace holds 0.
    balances: BTreeMap<String, i64>,
    /// (type, reason) → what was taken under it.
    taken: BTreeMap<(String, String), Taken>,
    conditions: Conditions,
}

impl State {
    /// Takes `amount` under (kind, reason) whatever the balance.
    fn take(&mut self, kind: &str, namespace: &str, reason: &str, amount: i64) {
        let balance = self.balances.entry(namespace.to_owned()).or_insert(0);
        if kind == "deduction" {
            *balance -= amount;
        } else {
            *balance += amount;
        }
        self.taken.insert(
            (kind.to_owned(), reason.to_owned()),
            Taken {
                namespace: namespace.to_owned(),
                amount,
            },
        );
    }
}

/// A handle on the fake; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FakeChargeService(Arc<Mutex<State>>);

/// One payment request the fake received, as the test checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentSeen {
    pub seq: usize,
    /// `deduction` or `credit`, from the query string.
    pub kind: String,
    pub region: String,
    pub namespace: String,
    pub reason: String,
    /// Ten-thousandths; `None` if the amount was not an acceptable number.
    pub amount: Option<i64>,
    pub authorization: String,
    /// The status the fake answered, even when it answered too late for the service.
    pub status: u16,
}

impl PaymentSeen {
    /// `None` for requests that are not payments (wrong path or method).
    pub fn of(request: &Recorded) -> Option<Self> {
        if !request.is(Service::Charge, "POST") || request.path != PATH {
            return None;
        }
        let body = request.json();
        Some(Self {
            seq: request.seq,
            kind: request.query("type").unwrap_or_default().to_owned(),
            region: request.query("region").unwrap_or_default().to_owned(),
            namespace: body["namespace"].as_str().unwrap_or_default().to_owned(),
            reason: body["reason"].as_str().unwrap_or_default().to_owned(),
            amount: minor_of(&body["amount"]),
            authorization: request
                .header("authorization")
                .unwrap_or_default()
                .to_owned(),
            status: request.status,
        })
    }

    pub fn is_deduction(&self) -> bool {
        self.kind == "deduction"
    }
}

impl FakeChargeService {
    pub fn new(admin_token: &str) -> Self {
        Self(Arc::new(Mutex::new(State {
            admin_token: admin_token.to_owned(),
            ..State::default()
        })))
    }

    pub fn set_balance(&self, namespace: &str, minor: i64) {
        self.0
            .lock()
            .unwrap()
            .balances
            .insert(namespace.to_owned(), minor);
    }

    /// Ten-thousandths.
    pub fn balance(&self, namespace: &str) -> i64 {
        self.0
            .lock()
            .unwrap()
            .balances
            .get(namespace)
            .copied()
            .unwrap_or(0)
    }

    /// How every request is answered from now on (once those set for the next requests
    /// are used up).
    pub fn set_condition(&self, condition: Condition) {
        self.0.lock().unwrap().conditions.set(condition);
    }

    /// Every answer waits `delay` more before it leaves (`Duration::ZERO`: none), e.g. a
    /// delay within the service's timeout so that a test can cancel an order while its
    /// renewal's payment is on the way. The payment is taken when it arrives.
    pub fn set_delay(&self, delay: Duration) {
        self.0.lock().unwrap().conditions.set_delay(delay);
    }

    /// The next `requests` requests are carried out as usual (taken, declined or answered
    /// as a repeat), but answered only after [`PAST_TIMEOUT`]: the service gives up without
    /// knowing the outcome. Queued after other next-request conditions already set.
    pub fn take_then_time_out(&self, requests: usize) {
        self.0.lock().unwrap().conditions.set_for_next(
            requests,
            Condition::Slow {
                delay: PAST_TIMEOUT,
                carried_out: true,
            },
        );
    }

    /// The next `requests` requests take nothing and are answered (503) only after
    /// [`PAST_TIMEOUT`]. Queued after other next-request conditions already set.
    pub fn time_out_before_taking(&self, requests: usize) {
        self.0.lock().unwrap().conditions.set_for_next(
            requests,
            Condition::Slow {
                delay: PAST_TIMEOUT,
                carried_out: false,
            },
        );
    }

    /// Records `minor` (ten-thousandths) as already taken under (`kind`, `reason`) from
    /// `namespace`, as an earlier request would have (the balance moves, whatever it
    /// holds; nothing goes into the journal): a payment the service sends under that
    /// reason is then answered 1318 with this amount.
    pub fn seed_taken(&self, kind: &str, namespace: &str, reason: &str, minor: i64) {
        assert!(kind == "deduction" || kind == "credit", "{kind}");
        assert!(minor > 0, "a taken amount is positive: {minor}");
        self.0.lock().unwrap().take(kind, namespace, reason, minor);
    }

    /// Everything taken so far: (type, reason) → namespace and amount.
    pub fn taken(&self) -> BTreeMap<(String, String), Taken> {
        self.0.lock().unwrap().taken.clone()
    }

    /// The amount taken under (`kind`, `reason`), if it was.
    pub fn taken_under(&self, kind: &str, reason: &str) -> Option<i64> {
        self.0
            .lock()
            .unwrap()
            .taken
            .get(&(kind.to_owned(), reason.to_owned()))
            .map(|taken| taken.amount)
    }

    /// What the namespace's deductions took minus what its credits gave back,
    /// ten-thousandths (seeded ones included).
    pub fn net_taken(&self, namespace: &str) -> i64 {
        self.0
            .lock()
            .unwrap()
            .taken
            .iter()
            .filter(|(_, taken)| taken.namespace == namespace)
            .map(|((kind, _), taken)| {
                if kind == "deduction" {
                    taken.amount
                } else {
                    -taken.amount
                }
            })
            .sum()
    }

    fn refuse(status: u16, code: i64, msg: &str) -> Answer {
        Answer::json(status, json!({"code": code, "msg": msg}))
    }

    fn handle(&self, request: &Request) -> Answer {
        if request.url.path() != PATH || request.method.as_str() != "POST" {
            return Self::refuse(404, 1300, "no such endpoint");
        }
        let mut state = self.0.lock().unwrap();
        if bearer(request).as_deref() != Some(state.admin_token.as_str()) {
            return Self::refuse(400, 1305, "auth failed (Only admin user can deduction!)");
        }
        let kind = query(request, "type").unwrap_or_default();
        if kind != "deduction" && kind != "credit" {
            return Self::refuse(400, 1302, "type must be deduction or credit");
        }
        if query(request, "region").unwrap_or_default().is_empty() {
            return Self::refuse(400, 1302, "region missing");
        }
        let Ok(body) = request.body_json::<Value>() else {
            return Self::refuse(400, 1302, "body is not JSON");
        };
        let (Some(namespace), Some(reason), Some(amount)) = (
            body["namespace"].as_str(),
            body["reason"].as_str(),
            minor_of(&body["amount"]),
        ) else {
            return Self::refuse(400, 1302, "namespace, reason and amount are required");
        };
        if amount == 0 {
            return Self::refuse(400, 1315, "amount must be positive");
        }
        if let Some(taken) = state.taken.get(&(kind.clone(), reason.to_owned())) {
            return Answer::json(
                409,
                json!({"code": 1318, "msg": "duplicate reason", "data": {
                    "amount": json_amount(taken.amount)}}),
            );
        }
        let balance = state.balances.get(namespace).copied().unwrap_or(0);
        if kind == "deduction" && balance < amount {
            return Self::refuse(400, 1309, "failed to update balance (need recharge first.)");
        }
        state.take(&kind, namespace, reason, amount);
        let balance = state.balances.get(namespace).copied().unwrap_or(0);
        Answer::json(
            200,
            json!({"code": 0, "msg": "OK", "data": {
                "namespace": namespace, "balance": decimal(balance), "state": "active"}}),
        )
    }
}

impl Fake for FakeChargeService {
    const SERVICE: Service = Service::Charge;

    fn answer(&self, request: &Request) -> Answer {
        let (condition, delay) = self.0.lock().unwrap().conditions.take();
        condition.apply(|| self.handle(request)).later_by(delay)
    }
}
