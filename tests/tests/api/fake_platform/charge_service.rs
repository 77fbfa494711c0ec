//! The fake charge service: `POST /charge/v1/recharge?type=deduction|credit&region=` with
//! the platform admin's bearer token and `{namespace, amount, reason, region}`. It keeps a
//! balance per namespace, takes each (type, reason) at most once (a repeat is answered 200
//! and moves nothing) and declines a deduction the balance cannot cover with HTTP 400 and
//! code 1309, without using up the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::Request;

use super::amount::{decimal, minor_of};
use super::journal::{Recorded, Service};
use super::server::{bearer, query, Answer, Condition, Fake};

const PATH: &str = "/charge/v1/recharge";

#[derive(Debug, Default)]
struct State {
    admin_token: String,
    /// Ten-thousandths per namespace; an unknown namespace holds 0.
    balances: BTreeMap<String, i64>,
    /// (type, reason) already taken.
    taken: BTreeSet<(String, String)>,
    condition: Condition,
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

    pub fn set_condition(&self, condition: Condition) {
        self.0.lock().unwrap().condition = condition;
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
        let key = (kind.clone(), reason.to_owned());
        let balance = state.balances.get(namespace).copied().unwrap_or(0);
        if !state.taken.contains(&key) {
            let after = if kind == "deduction" {
                balance - amount
            } else {
                balance + amount
            };
            if after < 0 {
                return Self::refuse(400, 1309, "failed to update balance (need recharge first.)");
            }
            state.balances.insert(namespace.to_owned(), after);
            state.taken.insert(key);
        }
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
        let condition = self.0.lock().unwrap().condition;
        condition.apply(|| self.handle(request))
    }
}
