//! The fake volume service: `POST /lapi/v1/namespaces/{ns}/volumes` (also accepted without
//! the namespace in the path, `POST /lapi/v1/volumes` with `namespace` in the body) with
//! `{name, size, metadata:{annotations}}`, and `DELETE
//! /lapi/v1/namespaces/{ns}/volumes/{name}`. Success is 200 only; deleting a missing volume
//! is 404. Only the platform admin's token is accepted. The service annotates a volume
//! with its creator ([`CREATOR_ANNOTATION`]) and the order that created it
//! ([`ORDER_ANNOTATION`]). Besides a standing [`Condition`], the next requests may be
//! carried out but answered too late ([`FakeVolumeService::take_then_time_out`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::Request;

use super::charge_service::PAST_TIMEOUT;
use super::journal::{Recorded, Service};
use super::server::{bearer, segments_after, Answer, Condition, Conditions, Fake};

/// The annotation naming the user who asked for the volume (the original's spelling).
pub const CREATOR_ANNOTATION: &str = "dadafoundry.io/create-by";
/// The annotation naming the order that created the volume.
pub const ORDER_ANNOTATION: &str = "serviceusage.io/order";

fn annotation(body: &Value, key: &str) -> Option<String> {
    body["metadata"]["annotations"][key]
        .as_str()
        .map(str::to_owned)
}

#[derive(Debug, Default)]
struct State {
    admin_token: String,
    /// (namespace, name) → the create body.
    volumes: BTreeMap<(String, String), Value>,
    conditions: Conditions,
}

/// A handle on the fake; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FakeVolumeService(Arc<Mutex<State>>);

fn reply(status: u16, msg: &str) -> Answer {
    Answer::json(
        status,
        json!({"code": if status == 200 { 0 } else { status }, "msg": msg}),
    )
}

/// A create or delete request the fake received.
#[derive(Clone, Debug)]
pub struct VolumeCall {
    pub seq: usize,
    pub method: String,
    pub namespace: String,
    pub name: String,
    /// The create body's `size` (GB).
    pub size: Option<i64>,
    /// A create's [`CREATOR_ANNOTATION`].
    pub creator: Option<String>,
    /// A create's [`ORDER_ANNOTATION`]: the order that created the volume.
    pub order: Option<String>,
    pub authorization: String,
    pub status: u16,
}

impl VolumeCall {
    pub fn of(request: &Recorded) -> Option<Self> {
        if request.service != Service::Volumes {
            return None;
        }
        let body = request.json();
        let path: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
        let (namespace, name) = match path.as_slice() {
            ["lapi", "v1", "namespaces", ns, "volumes"] => {
                ((*ns).to_owned(), body["name"].as_str()?.to_owned())
            }
            ["lapi", "v1", "volumes"] => (
                body["namespace"].as_str()?.to_owned(),
                body["name"].as_str()?.to_owned(),
            ),
            ["lapi", "v1", "namespaces", ns, "volumes", name] => {
                ((*ns).to_owned(), (*name).to_owned())
            }
            _ => return None,
        };
        Some(Self {
            seq: request.seq,
            method: request.method.clone(),
            namespace,
            name,
            size: body["size"].as_i64(),
            creator: annotation(&body, CREATOR_ANNOTATION),
            order: annotation(&body, ORDER_ANNOTATION),
            authorization: request
                .header("authorization")
                .unwrap_or_default()
                .to_owned(),
            status: request.status,
        })
    }
}

impl FakeVolumeService {
    pub fn new(admin_token: &str) -> Self {
        Self(Arc::new(Mutex::new(State {
            admin_token: admin_token.to_owned(),
            ..State::default()
        })))
    }

    pub fn set_condition(&self, condition: Condition) {
        self.0.lock().unwrap().conditions.set(condition);
    }

    /// The next `requests` requests are carried out (a volume created or deleted) but
    /// answered only after [`PAST_TIMEOUT`]: the service gives up without knowing.
    pub fn take_then_time_out(&self, requests: usize) {
        self.0.lock().unwrap().conditions.set_for_next(
            requests,
            Condition::Slow {
                delay: PAST_TIMEOUT,
                carried_out: true,
            },
        );
    }

    /// A volume someone else already created: creating it again is refused with 400.
    pub fn add_existing(&self, namespace: &str, name: &str) {
        self.0.lock().unwrap().volumes.insert(
            (namespace.to_owned(), name.to_owned()),
            serde_json::json!({"name": name, "size": 1}),
        );
    }

    pub fn exists(&self, namespace: &str, name: &str) -> bool {
        self.0
            .lock()
            .unwrap()
            .volumes
            .contains_key(&(namespace.to_owned(), name.to_owned()))
    }

    /// The order a volume that exists now was created by (its [`ORDER_ANNOTATION`]), if it
    /// says.
    pub fn order_of(&self, namespace: &str, name: &str) -> Option<String> {
        let state = self.0.lock().unwrap();
        let body = state
            .volumes
            .get(&(namespace.to_owned(), name.to_owned()))?;
        annotation(body, ORDER_ANNOTATION)
    }

    fn handle(&self, request: &Request) -> Answer {
        let mut state = self.0.lock().unwrap();
        if bearer(request).as_deref() != Some(state.admin_token.as_str()) {
            return reply(401, "admin token required");
        }
        let Some(segments) = segments_after(request, "/lapi/v1/") else {
            return reply(404, "no such endpoint");
        };
        let body = request.body_json::<Value>().unwrap_or(Value::Null);
        let method = request.method.as_str();
        let (namespace, name) = match (method, segments.as_slice()) {
            ("POST", ["namespaces", ns, "volumes"]) => {
                (Some((*ns).to_owned()), body["name"].as_str())
            }
            ("POST", ["volumes"]) => (
                body["namespace"].as_str().map(str::to_owned),
                body["name"].as_str(),
            ),
            ("DELETE", ["namespaces", ns, "volumes", name]) => {
                (Some((*ns).to_owned()), Some(*name))
            }
            _ => return reply(404, "no such endpoint"),
        };
        let (Some(namespace), Some(name)) = (namespace, name) else {
            return reply(400, "namespace and name are required");
        };
        let key = (namespace, name.to_owned());
        if method == "DELETE" {
            return match state.volumes.remove(&key) {
                Some(_) => reply(200, "deleted"),
                None => reply(404, "no such volume"),
            };
        }
        if body["size"].as_i64().is_none_or(|size| size <= 0) {
            return reply(400, "size must be a positive whole number of GB");
        }
        if state.volumes.contains_key(&key) {
            return reply(400, "volume already exists");
        }
        state.volumes.insert(key, body);
        reply(200, "created")
    }
}

impl Fake for FakeVolumeService {
    const SERVICE: Service = Service::Volumes;

    fn answer(&self, request: &Request) -> Answer {
        let (condition, delay) = self.0.lock().unwrap().conditions.take();
        condition.apply(|| self.handle(request)).later_by(delay)
    }
}
