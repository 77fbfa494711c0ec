//! The platform's namespaced objects, Kubernetes style, under `/api/v1/namespaces/{ns}/…`
//! and `/oapi/v1/namespaces/{ns}/…`: resource quotas, limit ranges, backing-service
//! instances. GET of a missing object is 404 (so the service POSTs the collection), PUT
//! replaces, DELETE removes. Only the platform admin's token is accepted. Besides an
//! outage ([`Condition`]), the platform may refuse every write outright
//! ([`FakeCluster::refuse_writes`]), as it refuses a quota its own policy forbids.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::Request;

use super::server::{bearer, segments_after, Answer, Condition};

/// (api prefix, namespace, resource, name) → object.
type Key = (String, String, String, String);

#[derive(Debug, Default)]
struct State {
    admin_token: String,
    objects: BTreeMap<Key, Value>,
    condition: Condition,
    /// The status every write (POST, PUT, DELETE) is refused with, if any.
    refusing: Option<u16>,
}

/// A handle on the namespaced objects of the fake platform; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FakeCluster(Arc<Mutex<State>>);

fn status(code: u16, reason: &str) -> Answer {
    Answer::json(
        code,
        json!({"kind": "Status", "apiVersion": "v1",
               "status": if code < 300 { "Success" } else { "Failure" },
               "reason": reason, "code": code}),
    )
}

impl FakeCluster {
    pub fn new(admin_token: &str) -> Self {
        Self(Arc::new(Mutex::new(State {
            admin_token: admin_token.to_owned(),
            ..State::default()
        })))
    }

    pub fn set_condition(&self, condition: Condition) {
        self.0.lock().unwrap().condition = condition;
    }

    /// From now on every write (POST, PUT, DELETE) is refused with `status` (a 4xx: the
    /// platform says no, for good) and changes nothing; `None` accepts them again.
    pub fn refuse_writes(&self, status: Option<u16>) {
        self.0.lock().unwrap().refusing = status;
    }

    /// An object as last written: `api` is `api` or `oapi`.
    pub fn object(&self, api: &str, namespace: &str, resource: &str, name: &str) -> Option<Value> {
        let key = (
            api.to_owned(),
            namespace.to_owned(),
            resource.to_owned(),
            name.to_owned(),
        );
        self.0.lock().unwrap().objects.get(&key).cloned()
    }

    /// The answer for a namespaced path, `None` for other paths.
    pub fn answer(&self, request: &Request) -> Option<Answer> {
        let path = request.url.path();
        let api = if path.starts_with("/api/v1/namespaces/") {
            "api"
        } else if path.starts_with("/oapi/v1/namespaces/") {
            "oapi"
        } else {
            return None;
        };
        let segments = segments_after(request, &format!("/{api}/v1/namespaces/"))?;
        let condition = self.0.lock().unwrap().condition;
        Some(condition.apply(|| self.handle(request, api, &segments)))
    }

    fn handle(&self, request: &Request, api: &str, segments: &[&str]) -> Answer {
        let mut state = self.0.lock().unwrap();
        if bearer(request).as_deref() != Some(state.admin_token.as_str()) {
            return status(403, "Forbidden");
        }
        let key = |name: &str| -> Key {
            (
                api.to_owned(),
                segments[0].to_owned(),
                segments[1].to_owned(),
                name.to_owned(),
            )
        };
        let method = request.method.as_str();
        if let Some(code) = state.refusing {
            if matches!(method, "POST" | "PUT" | "DELETE") {
                return status(code, "Forbidden");
            }
        }
        match (method, segments) {
            ("GET", [namespace, resource]) => {
                let items: Vec<Value> = state
                    .objects
                    .iter()
                    .filter(|((a, ns, r, _), _)| a == api && ns == namespace && r == resource)
                    .map(|(_, object)| object.clone())
                    .collect();
                Answer::json(
                    200,
                    json!({"kind": "List", "apiVersion": "v1", "items": items}),
                )
            }
            ("POST", [_, resource]) => {
                let Ok(mut object) = request.body_json::<Value>() else {
                    return status(400, "BadRequest");
                };
                let Some(name) = object["metadata"]["name"].as_str().map(str::to_owned) else {
                    return status(422, "Invalid");
                };
                if state.objects.contains_key(&key(&name)) {
                    return status(409, "AlreadyExists");
                }
                if *resource == "backingserviceinstances" && object["status"].is_null() {
                    object["status"] = json!({"phase": "Unbound"});
                }
                state.objects.insert(key(&name), object.clone());
                Answer::json(201, object)
            }
            ("GET", [_, _, name]) => match state.objects.get(&key(name)) {
                Some(object) => Answer::json(200, object.clone()),
                None => status(404, "NotFound"),
            },
            ("PUT", [_, _, name]) => {
                let Ok(object) = request.body_json::<Value>() else {
                    return status(400, "BadRequest");
                };
                match state.objects.get_mut(&key(name)) {
                    Some(stored) => {
                        *stored = object.clone();
                        Answer::json(200, object)
                    }
                    None => status(404, "NotFound"),
                }
            }
            ("DELETE", [_, _, name]) => match state.objects.remove(&key(name)) {
                Some(_) => status(200, "Deleted"),
                None => status(404, "NotFound"),
            },
            // Unbinding a backing-service instance: nothing is bound in these tests.
            ("PUT", [_, "backingserviceinstances", _, "binding"]) => status(200, "Unbound"),
            _ => status(404, "NotFound"),
        }
    }
}
