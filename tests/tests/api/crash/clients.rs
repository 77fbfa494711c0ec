//! Clients that create an order each and will not take silence for an answer: each sends
//! its request with its own `Idempotency-Key` and sends it again, with the same key, after
//! a connection error or a 5xx, until it hears a definitive answer (any other status).
//! Every answer heard along the way is kept, for the histogram a crash test reports.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::helpers::{Reply, API, IDEMPOTENCY_KEY};

/// The pause between two attempts of one client: short, so an outage is felt as many
/// answers, not as idle time.
const PAUSE: Duration = Duration::from_millis(50);
/// One attempt's limit: far longer than any answer of a service that is up, so that a
/// client never sends its key again while its first request still runs.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the service listens now: a restarted service listens on another port.
#[derive(Clone, Debug)]
pub struct Endpoint(Arc<RwLock<String>>);

impl Endpoint {
    pub fn new(address: &str) -> Self {
        Self(Arc::new(RwLock::new(address.to_owned())))
    }

    /// The service moved (restarted) to `address`.
    pub fn set(&self, address: &str) {
        *self.0.write().unwrap() = address.to_owned();
    }

    fn orders_url(&self) -> String {
        format!("{}{API}/orders", self.0.read().unwrap())
    }
}

/// What one attempt heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Heard {
    /// An HTTP status and the body's `code` (-1 when the body has none).
    Answer { status: u16, code: i64 },
    /// No answer: the connection was refused or dropped, or the attempt timed out.
    Nothing,
}

impl fmt::Display for Heard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Heard::Answer { status, code } => write!(f, "{status}/{code}"),
            Heard::Nothing => f.write_str("no answer"),
        }
    }
}

/// One client's create, once answered for sure.
#[derive(Debug)]
pub struct Answered {
    pub project: String,
    /// Every attempt, in order; the last is the definitive answer.
    pub heard: Vec<Heard>,
    /// The definitive answer.
    pub reply: Reply,
}

impl Answered {
    pub fn status(&self) -> u16 {
        self.reply.status.as_u16()
    }

    /// The order the answer names, if it names one.
    pub fn order_id(&self) -> Option<&str> {
        self.reply.data()["orderId"].as_str()
    }
}

/// How many times each answer was heard, over every attempt of every client.
#[derive(Debug, Default)]
pub struct Histogram(BTreeMap<Heard, usize>);

impl Histogram {
    pub fn of(answered: &[Answered]) -> Self {
        let mut counts = BTreeMap::new();
        for heard in answered.iter().flat_map(|a| &a.heard) {
            *counts.entry(*heard).or_insert(0) += 1;
        }
        Self(counts)
    }

    /// The server errors heard other than 503 / 3304 (the store is unavailable, which an
    /// outage of the database or a restart explains): each a fault of the service.
    pub fn faults(&self) -> Vec<(Heard, usize)> {
        self.0
            .iter()
            .filter(|(heard, _)| match heard {
                Heard::Answer { status, code } => *status >= 500 && (*status, *code) != (503, 3304),
                Heard::Nothing => false,
            })
            .map(|(heard, count)| (*heard, *count))
            .collect()
    }
}

impl fmt::Display for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(heard, count)| format!("{heard} ×{count}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Clients under way.
pub struct Fleet {
    clients: JoinSet<Answered>,
    answered: Arc<AtomicUsize>,
}

impl Fleet {
    /// Starts one client per `(project, body)`, the n-th `start_of(n)` from now; each
    /// creates with `token` and a key of its own until answered for sure, giving up
    /// (panicking) at `deadline`.
    pub fn start(
        endpoint: &Endpoint,
        token: &str,
        creates: Vec<(String, Value)>,
        start_of: impl Fn(usize) -> Duration,
        deadline: Instant,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .unwrap();
        let answered = Arc::new(AtomicUsize::new(0));
        let mut clients = JoinSet::new();
        for (n, (project, body)) in creates.into_iter().enumerate() {
            let client = Client {
                http: http.clone(),
                endpoint: endpoint.clone(),
                token: token.to_owned(),
                key: format!("crash-{project}-{}", uuid::Uuid::new_v4().simple()),
                project,
                body,
            };
            let answered = Arc::clone(&answered);
            let start = start_of(n);
            clients.spawn(async move {
                tokio::time::sleep(start).await;
                let done = client.create_until_answered(deadline).await;
                answered.fetch_add(1, Ordering::SeqCst);
                done
            });
        }
        Self { clients, answered }
    }

    /// How many clients have their definitive answer.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// Waits for every client; their answers in no particular order.
    pub async fn finish(mut self) -> Vec<Answered> {
        let mut answered = Vec::new();
        while let Some(done) = self.clients.join_next().await {
            answered.push(done.unwrap());
        }
        answered
    }
}

struct Client {
    http: reqwest::Client,
    endpoint: Endpoint,
    token: String,
    key: String,
    project: String,
    body: Value,
}

impl Client {
    async fn create_until_answered(self, deadline: Instant) -> Answered {
        let mut heard = Vec::new();
        loop {
            assert!(
                Instant::now() < deadline,
                "the client of {} heard no definitive answer in time: {heard:?}",
                self.project
            );
            match self.attempt().await {
                Some(reply) => {
                    heard.push(Heard::Answer {
                        status: reply.status.as_u16(),
                        code: reply.code(),
                    });
                    if !reply.status.is_server_error() {
                        return Answered {
                            project: self.project,
                            heard,
                            reply,
                        };
                    }
                }
                None => heard.push(Heard::Nothing),
            }
            tokio::time::sleep(PAUSE).await;
        }
    }

    /// One attempt: the reply, or `None` if none came whole.
    async fn attempt(&self) -> Option<Reply> {
        let response = self
            .http
            .post(self.endpoint.orders_url())
            .bearer_auth(&self.token)
            .header(IDEMPOTENCY_KEY, &self.key)
            .json(&self.body)
            .send()
            .await
            .ok()?;
        let status: StatusCode = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.ok()?;
        Some(Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}
