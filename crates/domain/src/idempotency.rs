//! Idempotency keys: a client that did not hear the answer to a money-moving request (a
//! timeout, a lost connection, a commit whose answer never came back) sends it again with
//! the same `Idempotency-Key`, and gets the first answer instead of paying twice. The key is
//! recorded in the same transaction as the change it names, so a change and its key are
//! either both there or both not; the answer is kept beside it once it is known.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::ProjectId;

/// A client's idempotency key: 1 to 255 visible ASCII characters (Stripe's limit), e.g. a
/// UUID.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest accepted key, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Errors: `InvalidParameter` naming the header.
    pub fn parse(text: &str) -> Result<Self> {
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(Error::invalid(format!(
                "Idempotency-Key must be 1 to {} characters",
                Self::MAX_LEN
            )));
        }
        if !text.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::invalid(
                "Idempotency-Key may only contain visible ASCII characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The key as the client sent it, for the store to keep.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request made under an idempotency key: the key, the project it is kept under, and a
/// fingerprint of what was asked (the caller's digest of the method, path and body), so
/// that the same key with another request is told apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idempotency {
    /// Keys are kept per project: two projects may use the same key.
    pub project: ProjectId,
    /// The client's key.
    pub key: IdempotencyKey,
    /// Tells a repeat of the request from another request under the same key.
    pub fingerprint: String,
}

/// The record a change writes with itself: which request caused it, and what it produced
/// (`order:{id}`, `recharge:{id}`), from which a lost answer can be rebuilt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The request that caused the change.
    pub request: Idempotency,
    /// What it produced, e.g. `order:{id}`, from which a lost answer is rebuilt.
    pub result: String,
    /// When it was recorded; old keys are forgotten after a while
    /// ([`crate::ports::IdempotencyStore::forget`]).
    pub at: DateTime<Utc>,
}

/// What the store remembers of a keyed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remembered {
    /// The fingerprint of the first request, compared with a repeat's.
    pub fingerprint: String,
    /// What the first request produced (`order:{id}`, `recharge:{id}`).
    pub result: String,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The answer sent the first time (status and body), once known.
    pub answer: Option<(u16, String)>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keys_of_1_to_255_visible_characters_are_accepted() {
        for text in [
            "a",
            "7b0c1e2f-9d3a-4c51-8e6f-0a1b2c3d4e5f",
            &"k".repeat(255),
        ] {
            assert_eq!(IdempotencyKey::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn empty_long_blank_or_unprintable_keys_are_invalid() {
        for text in ["", &"k".repeat(256), "a b", "tab\t", "é", "nul\0"] {
            assert!(
                matches!(IdempotencyKey::parse(text), Err(Error::InvalidParameter(_))),
                "{text:?}"
            );
        }
    }
}
