//! Signed webhook delivery: one POST of an event body to a receiver.
//!
//! What a receiver gets:
//! - `Content-Type: application/json` and the event JSON as the body;
//! - `X-Serviceusage-Timestamp: <unix seconds>` when the attempt was made;
//! - `X-Serviceusage-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`,
//!   see [`signature`]; a receiver recomputes it with the shared secret, compares in
//!   constant time, and rejects old timestamps to stop replays;
//! - `X-Serviceusage-Delivery: <delivery id>` (with [`WebhookSender::send_delivery`]): the
//!   same id on every retry of one delivery, for the receiver to drop repeats, since
//!   delivery is at least once.
//!
//! A `2xx` answer is a delivery; anything else (another status, a timeout, a refused
//! connection) is a failure the outbox retries later. A redirect is a failure too and is
//! never followed: a `307` or `308` would re-post the signed body to wherever the receiver
//! (or whoever answers in its name) points. Sent once: the outbox owns retries.
//! Neither the secret nor the URL (which may carry a receiver's key) is put in an error.

use chrono::{DateTime, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use sha2::{Digest, Sha256};

use crate::http::{BuildError, HttpClient, HttpSettings, Secret};
use crate::telemetry::Service;

/// Header with the attempt's time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Serviceusage-Timestamp";
/// Header with `sha256=<hex>` of the signed timestamp and body.
pub const SIGNATURE_HEADER: &str = "X-Serviceusage-Signature";
/// Header with the delivery's id, the same on every retry of it.
pub const DELIVERY_HEADER: &str = "X-Serviceusage-Delivery";

/// `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`, the signature header's value.
pub fn signature(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&hmac_key(secret.expose().as_bytes()).into());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The key as HMAC uses it, one SHA-256 block: hashed first if longer than the block,
/// zero-padded otherwise (RFC 2104). Done here so the MAC is built from a block-sized key,
/// which cannot fail, instead of from a slice, whose error path would never be taken.
fn hmac_key(key: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        let digest = Sha256::digest(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}

/// Why one delivery failed; every failure is retried later by the outbox.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook delivery failed: {0}")]
    Failed(String),
}

/// Posts one event body to a receiver, signed with its secret.
#[derive(Clone, Debug)]
pub struct WebhookSender {
    http: HttpClient,
}

impl WebhookSender {
    pub fn new(http: HttpSettings) -> Result<Self, BuildError> {
        Ok(Self {
            http: HttpClient::new(Service::Webhook, http)?,
        })
    }

    /// POSTs `body` (JSON) to `url` with the timestamp and signature headers; a 2xx answer
    /// is a delivery.
    pub async fn send(
        &self,
        url: &str,
        secret: &Secret,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        self.post(url, secret, body, now, None).await
    }

    /// [`send`](Self::send), plus the delivery id header a receiver dedups on.
    pub async fn send_delivery(
        &self,
        url: &str,
        secret: &Secret,
        body: &[u8],
        now: DateTime<Utc>,
        delivery: &str,
    ) -> Result<(), WebhookError> {
        self.post(url, secret, body, now, Some(delivery)).await
    }

    async fn post(
        &self,
        url: &str,
        secret: &Secret,
        body: &[u8],
        now: DateTime<Utc>,
        delivery: Option<&str>,
    ) -> Result<(), WebhookError> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| WebhookError::Failed(format!("invalid receiver url: {e}")))?;
        let timestamp = now.timestamp();
        let mut request = self
            .http
            .client()
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature(secret, timestamp, body))
            .body(body.to_vec());
        if let Some(delivery) = delivery {
            request = request.header(DELIVERY_HEADER, delivery);
        }
        let reply = self
            .http
            .send(request)
            .await
            .map_err(|e| WebhookError::Failed(e.to_string()))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(WebhookError::Failed(format!("HTTP {}", reply.status)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature(&Secret::new("key"), 1_700_000_000, br#"{"a":1}"#),
            "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
    }

    #[test]
    fn keys_longer_than_a_block_are_hashed_first() {
        // printf '42.body' | openssl dgst -sha256 -hmac "$(printf 'k%.0s' $(seq 100))"
        assert_eq!(
            signature(&Secret::new("k".repeat(100)), 42, b"body"),
            "sha256=223f2501de0aa237f5d24c2198117830bb359779c7f7dfb4fda6d5f3b08e8d79"
        );
    }
}
