//! The fake webhook receiver: takes any POST, answers 200 (or 503 while failing), and lets
//! the test check each delivery's signature the way a receiver would:
//! `X-Serviceusage-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>` with
//! the timestamp of `X-Serviceusage-Timestamp` (unix seconds).

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::Request;

use super::journal::{Recorded, Service};
use super::server::{Answer, Condition, Fake};

pub const TIMESTAMP: &str = "x-serviceusage-timestamp";
pub const SIGNATURE: &str = "x-serviceusage-signature";
pub const DELIVERY: &str = "x-serviceusage-delivery";

#[derive(Debug, Default)]
struct State {
    condition: Condition,
}

/// A handle on the fake; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FakeWebhookReceiver(Arc<Mutex<State>>);

impl FakeWebhookReceiver {
    pub fn set_condition(&self, condition: Condition) {
        self.0.lock().unwrap().condition = condition;
    }
}

impl Fake for FakeWebhookReceiver {
    const SERVICE: Service = Service::Webhooks;

    fn answer(&self, request: &Request) -> Answer {
        let condition = self.0.lock().unwrap().condition;
        condition.apply(|| {
            if request.method.as_str() == "POST" {
                Answer::json(200, json!({"received": true}))
            } else {
                Answer::empty(405)
            }
        })
    }
}

/// One delivery attempt as received.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub seq: usize,
    pub status: u16,
    pub event: Value,
    pub delivery_id: Option<String>,
    pub timestamp: Option<i64>,
    request: Recorded,
}

impl Delivery {
    pub fn of(request: &Recorded) -> Option<Self> {
        if !request.is(Service::Webhooks, "POST") {
            return None;
        }
        Some(Self {
            seq: request.seq,
            status: request.status,
            event: request.json(),
            delivery_id: request.header(DELIVERY).map(str::to_owned),
            timestamp: request
                .header(TIMESTAMP)
                .and_then(|t| t.trim().parse().ok()),
            request: request.clone(),
        })
    }

    /// Whether the signature header is the HMAC of `"{timestamp}.{body}"` under `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let (Some(timestamp), Some(signature)) = (
            self.request.header(TIMESTAMP),
            self.request.header(SIGNATURE),
        ) else {
            return false;
        };
        let Some(hex_digest) = signature.trim().strip_prefix("sha256=") else {
            return false;
        };
        let Ok(digest) = hex::decode(hex_digest) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(timestamp.trim().as_bytes());
        mac.update(b".");
        mac.update(&self.request.body);
        mac.verify_slice(&digest).is_ok()
    }
}
