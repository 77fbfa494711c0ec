//! What every platform client shares: the settings (timeouts, retries), secrets that never
//! print, base-URL validation, and one request helper that retries only idempotent reads.
//!
//! Failures are described for people (operators read them in logs and 503 bodies' causes),
//! but never with a URL's query, a header or a request body: tokens travel in headers,
//! so no message built here can carry one.

use std::error::Error as _;
use std::fmt;
use std::time::{Duration, Instant};

use reqwest::{Client, RequestBuilder, StatusCode, Url};

use crate::telemetry::{self, Service};

/// Timeouts and retries every client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    /// The whole request, connect to last byte.
    pub timeout: Duration,
    /// Extra attempts for idempotent calls (GETs) after a transport error or a 5xx.
    pub retries: u32,
}

/// A secret from the configuration (an admin token, a webhook key): `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid url {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("http client: {0}")]
    Client(String),
}

/// A configured base URL, checked once at start so a typo fails the boot rather than the
/// first request: `http` or `https` with a host, no credentials, query or fragment.
/// Trailing slashes are trimmed so paths can be appended with one `/`. The scheme is
/// never guessed (the original prepended `https://`): a missing one is a configuration
/// error, because guessing wrong sends an admin token to the wrong port in clear.
pub(crate) fn parse_base_url(url: &str) -> Result<String, BuildError> {
    let trimmed = url.trim().trim_end_matches('/');
    let invalid = |reason: &str| BuildError::Url {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(invalid("is empty"));
    }
    let parsed = Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http:// or https://"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // The URL in the error would carry the credentials; show only where it points.
        return Err(BuildError::Url {
            url: parsed.host_str().unwrap_or_default().to_owned(),
            reason: "credentials in the url are not accepted; configure a token instead".to_owned(),
        });
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("a base url takes no query or fragment"));
    }
    Ok(trimmed.to_owned())
}

/// A reqwest client with the settings applied, shared by one adapter's calls to one
/// platform service.
#[derive(Clone, Debug)]
pub(crate) struct HttpClient {
    client: Client,
    settings: HttpSettings,
    service: Service,
}

impl HttpClient {
    /// Redirects are not followed: a bearer token must only ever go to the configured
    /// host, and none of the platform calls answers with one.
    pub(crate) fn new(service: Service, settings: HttpSettings) -> Result<Self, BuildError> {
        let client = Client::builder()
            .use_rustls_tls()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("serviceusage/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError::Client(e.to_string()))?;
        Ok(Self {
            client,
            settings,
            service,
        })
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Sends once. For calls that change something: a retry belongs to the caller, who
    /// knows whether repeating is safe. Counted and timed by service and outcome.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Reply, TransportError> {
        let started = Instant::now();
        let outcome = self.exchange(request).await;
        telemetry::exchanged(self.service, &outcome, started.elapsed());
        outcome
    }

    async fn exchange(&self, request: RequestBuilder) -> Result<Reply, TransportError> {
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.transport(&e))?;
        Ok(Reply {
            status,
            body: body.to_vec(),
        })
    }

    /// Sends an idempotent read, retrying `retries` extra times after a transport error
    /// or an unavailable answer (5xx, 429), waiting 100 ms × attempt in between. The last
    /// answer or error is returned as is; `what` names the call in the retry log lines.
    pub(crate) async fn get(
        &self,
        what: &str,
        request: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Reply, TransportError> {
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.send(request(&self.client)).await;
            let failure = match &outcome {
                Ok(reply) if reply.is_unavailable() => reply.status.to_string(),
                Ok(_) => return outcome,
                Err(e) => e.to_string(),
            };
            if attempt >= self.settings.retries {
                return outcome;
            }
            attempt += 1;
            log::warn!(
                "{what}: failed ({failure}); retry {attempt} of {}",
                self.settings.retries
            );
            tokio::time::sleep(Duration::from_millis(100) * attempt).await;
        }
    }

    fn transport(&self, error: &reqwest::Error) -> TransportError {
        let timed_out = error.is_timeout();
        let kind = if timed_out {
            format!("timed out after {} ms", self.settings.timeout.as_millis())
        } else if error.is_connect() {
            "connection failed".to_owned()
        } else if error.is_body() || error.is_decode() {
            "reading the answer failed".to_owned()
        } else {
            "request failed".to_owned()
        };
        // The innermost cause says why ("connection refused"); reqwest's own message
        // would repeat the URL, so it is left out.
        let mut cause = error.source();
        let mut innermost = None;
        while let Some(inner) = cause {
            innermost = Some(inner);
            cause = inner.source();
        }
        let reason = match innermost {
            Some(inner) => format!("{kind}: {inner}"),
            None => kind,
        };
        TransportError { timed_out, reason }
    }
}

/// No answer: the request failed before a status arrived (or while its body was read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TransportError {
    pub(crate) timed_out: bool,
    pub(crate) reason: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// An answer, read whole.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// Longest piece of a remote error message quoted in ours.
const QUOTE_MAX: usize = 200;

impl Reply {
    pub(crate) fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The remote is down or overloaded rather than refusing this request: worth
    /// retrying later.
    pub(crate) fn is_unavailable(&self) -> bool {
        self.status.is_server_error() || self.status == StatusCode::TOO_MANY_REQUESTS
    }

    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// `HTTP 404 Not Found`, plus the remote's own explanation when its JSON body has one
    /// (the platform's `message`, the plan and charge services' `msg`), cut short, with
    /// `secret` blanked out should the remote have echoed it.
    pub(crate) fn summary(&self, secret: Option<&str>) -> String {
        #[derive(serde::Deserialize)]
        struct Explained {
            message: Option<String>,
            msg: Option<String>,
        }
        let explanation = self
            .json::<Explained>()
            .ok()
            .and_then(|e| e.message.or(e.msg))
            .filter(|text| !text.trim().is_empty());
        match explanation {
            Some(text) => {
                let mut quoted: String = text.chars().take(QUOTE_MAX).collect();
                if let Some(secret) = secret.filter(|s| !s.is_empty()) {
                    quoted = quoted.replace(secret, "<redacted>");
                }
                format!("HTTP {}: {quoted}", self.status)
            }
            None => format!("HTTP {}", self.status),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn reason(url: &str) -> String {
        match parse_base_url(url) {
            Err(BuildError::Url { reason, .. }) => reason,
            other => panic!("{url}: expected a url error, got {other:?}"),
        }
    }

    #[test]
    fn base_url_trims_trailing_slashes() {
        assert_eq!(
            parse_base_url("https://plans.example.com//").unwrap(),
            "https://plans.example.com"
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080/prefix/").unwrap(),
            "http://127.0.0.1:8080/prefix"
        );
    }

    #[test]
    fn base_url_requires_a_scheme() {
        assert!(reason("plans.example.com").contains("relative URL"));
        assert!(reason("ftp://plans.example.com").contains("scheme"));
    }

    #[test]
    fn base_url_rejects_empty_queries_and_fragments() {
        assert_eq!(reason(""), "is empty");
        assert_eq!(reason("  / "), "is empty");
        assert!(reason("https://a.example.com/?x=1").contains("query"));
        assert!(reason("https://a.example.com/#top").contains("fragment"));
    }

    #[test]
    fn base_url_with_credentials_is_refused_without_quoting_them() {
        let error = parse_base_url("https://admin:hunter2@df.example.com").unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("credentials"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let shown = format!("{:?}", Secret::new("tok-123"));
        assert!(!shown.contains("tok-123"), "{shown}");
    }

    #[test]
    fn summary_quotes_the_remote_message_without_the_secret() {
        let reply = Reply {
            status: StatusCode::FORBIDDEN,
            body: br#"{"kind":"Status","message":"token tok-123 may not do that"}"#.to_vec(),
        };
        assert_eq!(
            reply.summary(Some("tok-123")),
            "HTTP 403 Forbidden: token <redacted> may not do that"
        );
    }

    #[test]
    fn summary_of_a_body_without_a_message_is_the_status() {
        let reply = Reply {
            status: StatusCode::BAD_GATEWAY,
            body: b"<html>oops</html>".to_vec(),
        };
        assert_eq!(reply.summary(None), "HTTP 502 Bad Gateway");
    }
}
