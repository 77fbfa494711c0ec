//! Every request the fake platform receives, in arrival order across all its services, so
//! that a test can check not only what the service sent but in which order (a volume is
//! created before its charge, a quota set after it).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::Request;

/// Which fake answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Plans,
    Charge,
    /// Identity and the namespaced objects (quotas, backing-service instances).
    Platform,
    Volumes,
    Webhooks,
}

/// One request as received, with the status the fake answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Position among every request of every fake of the platform.
    pub seq: usize,
    pub service: Service,
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    /// The body as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn is(&self, service: Service, method: &str) -> bool {
        self.service == service && self.method == method
    }
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {:?} {} {}",
            self.seq, self.service, self.method, self.path
        )?;
        if !self.query.is_empty() {
            write!(f, "?{:?}", self.query)?;
        }
        write!(
            f,
            " -> {} {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        )
    }
}

/// The shared, ordered record of requests.
#[derive(Clone, Debug, Default)]
pub struct Journal(Arc<Mutex<Vec<Recorded>>>);

/// How often [`Journal::wait_for`] looks again.
const POLL: Duration = Duration::from_millis(50);

impl Journal {
    pub fn record(&self, service: Service, request: &Request, status: u16) {
        let mut entries = self.0.lock().unwrap();
        let seq = entries.len();
        entries.push(Recorded {
            seq,
            service,
            method: request.method.as_str().to_owned(),
            path: request.url.path().to_owned(),
            query: request
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: request.body.clone(),
            status,
        });
    }

    pub fn all(&self) -> Vec<Recorded> {
        self.0.lock().unwrap().clone()
    }

    /// The requests `keep` selects, in arrival order.
    pub fn filter(&self, keep: impl Fn(&Recorded) -> bool) -> Vec<Recorded> {
        self.all().into_iter().filter(|r| keep(r)).collect()
    }

    /// One line per request, for failure messages.
    pub fn describe(&self) -> String {
        self.all()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// How many requests arrived so far (a mark to look at what came after it).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The first request `found` accepts, waiting for it at most `within`: for what the
    /// service does in the background (queued credits, webhook deliveries).
    pub async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        found: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        let deadline = Instant::now() + within;
        loop {
            if let Some(hit) = self.all().into_iter().find(|r| found(r)) {
                return hit;
            }
            assert!(
                Instant::now() < deadline,
                "no request for {what} within {within:?}; received:\n{}",
                self.describe()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}
