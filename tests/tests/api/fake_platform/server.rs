//! What every fake shares: an answer (status, JSON body, delay), the outage a test may
//! switch on (for good, or for the next few requests), and the wiremock server that
//! records each request in the journal before answering it.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::journal::{Journal, Service};

/// How a fake behaves, switched by the test at any time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Condition {
    #[default]
    Up,
    /// Answers every request with 503.
    Failing,
    /// Answers only after `delay` (longer than the service's timeout). `carried_out`:
    /// whether the request still takes effect, as when a reply is lost on the way back.
    Slow { delay: Duration, carried_out: bool },
}

impl Condition {
    /// The answer under this condition: `handle` computes (and carries out) the normal
    /// one; it is not called when the request must not take effect.
    pub fn apply(self, handle: impl FnOnce() -> Answer) -> Answer {
        match self {
            Condition::Up => handle(),
            Condition::Failing => Answer::unavailable(),
            Condition::Slow {
                delay,
                carried_out: true,
            } => handle().delayed(delay),
            Condition::Slow {
                delay,
                carried_out: false,
            } => Answer::unavailable().delayed(delay),
        }
    }
}

/// The conditions of a fake that can also misbehave for a few requests only: a standing
/// [`Condition`], the conditions of the next requests (each used up by one request, in
/// arrival order, before the standing one applies again) and a delay added to every
/// answer. Kept behind the fake's own lock, so that every request uses up its own.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    standing: Condition,
    next: VecDeque<Condition>,
    delay: Duration,
}

impl Conditions {
    /// The condition of every request, once those set for the next requests are used up.
    pub fn set(&mut self, condition: Condition) {
        self.standing = condition;
    }

    /// `condition` for `requests` more requests, after those already set that way.
    pub fn set_for_next(&mut self, requests: usize, condition: Condition) {
        self.next.extend(std::iter::repeat_n(condition, requests));
    }

    /// Added to every answer's own delay; `Duration::ZERO` for none.
    pub fn set_delay(&mut self, delay: Duration) {
        self.delay = delay;
    }

    /// The condition of the request that arrives now (using up one set for the next
    /// requests, if any), and the delay to add to its answer.
    pub fn take(&mut self) -> (Condition, Duration) {
        let condition = self.next.pop_front().unwrap_or(self.standing);
        (condition, self.delay)
    }
}

/// A fake's reply.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Option<Value>,
    pub delay: Option<Duration>,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            delay: None,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: None,
            delay: None,
        }
    }

    /// The 503 of a service that is down.
    pub fn unavailable() -> Self {
        Self::json(
            503,
            serde_json::json!({"code": 503, "msg": "service unavailable (fake outage)"}),
        )
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// `extra` more before the answer leaves.
    pub fn later_by(mut self, extra: Duration) -> Self {
        if !extra.is_zero() {
            self.delay = Some(self.delay.unwrap_or_default() + extra);
        }
        self
    }

    fn template(self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        if let Some(body) = self.body {
            template = template.set_body_json(body);
        }
        if let Some(delay) = self.delay {
            template = template.set_delay(delay);
        }
        template
    }
}

/// One fake service: answers a request, possibly changing its state.
pub trait Fake: Send + Sync + 'static {
    const SERVICE: Service;

    fn answer(&self, request: &Request) -> Answer;
}

struct Recording<F> {
    fake: F,
    journal: Journal,
}

impl<F: Fake> Respond for Recording<F> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let answer = self.fake.answer(request);
        self.journal.record(F::SERVICE, request, answer.status);
        answer.template()
    }
}

/// Starts a server on a free port whose every request goes to `fake`.
pub async fn serve<F: Fake>(fake: F, journal: Journal) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Recording { fake, journal })
        .mount(&server)
        .await;
    server
}

/// The `Authorization: Bearer …` token of a request.
pub fn bearer(request: &Request) -> Option<String> {
    request
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned())
}

/// A query parameter of a request.
pub fn query(request: &Request, key: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The path's segments after `prefix` (`None` if the path does not start with it).
pub fn segments_after<'a>(request: &'a Request, prefix: &str) -> Option<Vec<&'a str>> {
    request
        .url
        .path()
        .strip_prefix(prefix)
        .map(|rest| rest.split('/').filter(|s| !s.is_empty()).collect())
}
