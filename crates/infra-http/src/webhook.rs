//! SKELETON: signed webhook delivery.

use chrono::{DateTime, Utc};

use crate::http::{BuildError, HttpSettings, Secret};

/// Why one delivery failed; every failure is retried later by the outbox.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook delivery failed: {0}")]
    Failed(String),
}

/// Posts one event body to a receiver, signed with its secret.
#[derive(Clone, Debug)]
pub struct WebhookSender {}

impl WebhookSender {
    pub fn new(_http: HttpSettings) -> Result<Self, BuildError> {
        Ok(Self {})
    }

    /// POSTs `body` (JSON) to `url` with the timestamp and signature headers; a 2xx answer
    /// is a delivery.
    pub async fn send(
        &self,
        _url: &str,
        _secret: &Secret,
        _body: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        Err(WebhookError::Failed("SKELETON".into()))
    }
}
