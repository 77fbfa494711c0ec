//! SKELETON: shared client settings.

use std::fmt;
use std::time::Duration;

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
