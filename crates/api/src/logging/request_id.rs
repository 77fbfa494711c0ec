//! `X-Request-Id`: the caller's when it sent a usable one, so a request can be followed
//! across the services it passes through; else a new one.

use std::sync::Arc;

use actix_web::http::header::HeaderValue;

/// The request and response header.
pub const HEADER: &str = "X-Request-Id";
/// The longest id taken from a caller.
pub const MAX_LEN: usize = 128;

/// Characters a caller's id may hold: enough for UUIDs, ULIDs, W3C trace ids and
/// `service:host:counter` styles, and nothing that needs escaping in a log line.
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')
}

/// The id a request is served and logged under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A caller's id: 1 to [`MAX_LEN`] characters of `A-Z a-z 0-9 . _ : -`; `None` for
    /// anything else.
    pub fn parse(text: &str) -> Option<RequestId> {
        let usable = (1..=MAX_LEN).contains(&text.len()) && text.chars().all(is_id_char);
        usable.then(|| RequestId(Arc::from(text)))
    }

    /// A new id: a random (version 4) UUID.
    pub fn generate() -> RequestId {
        RequestId(Arc::from(uuid::Uuid::new_v4().to_string()))
    }

    /// The caller's id in an `X-Request-Id` header, if it is usable.
    pub fn sent(header: Option<&HeaderValue>) -> Option<RequestId> {
        header
            .and_then(|value| value.to_str().ok())
            .and_then(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as the log context holds it.
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn usable_caller_ids_are_kept_as_sent() {
        let longest = "a".repeat(MAX_LEN);
        for id in [
            "x",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "01HF8Z3XJ4Q2V6K9M7N5P0R1ST",
            "gateway-7.eu:req_00042",
            "550e8400-e29b-41d4-a716-446655440000",
            &longest,
        ] {
            assert_eq!(
                RequestId::parse(id).map(|r| r.0),
                Some(Arc::from(id)),
                "{id}"
            );
        }
    }

    #[test]
    fn unusable_caller_ids_are_refused() {
        let too_long = "a".repeat(MAX_LEN + 1);
        for id in [
            "",
            &too_long,
            "has space",
            "quote\"d",
            "new\nline",
            "slash/ed",
            "semi;colon",
            "é",
            "{\"json\":1}",
        ] {
            assert_eq!(RequestId::parse(id), None, "{id:?}");
        }
    }

    #[test]
    fn a_new_id_is_a_version_4_uuid_and_usable_as_a_caller_id() {
        let first = RequestId::generate();
        let parsed = uuid::Uuid::parse_str(first.as_str()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(RequestId::parse(first.as_str()), Some(first.clone()));
        assert_ne!(RequestId::generate(), first);
    }

    #[test]
    fn a_header_gives_the_callers_id_only_when_usable() {
        let sent = HeaderValue::from_static("trace-1234");
        assert_eq!(RequestId::sent(Some(&sent)).unwrap().as_str(), "trace-1234");
        let refused = HeaderValue::from_static("no spaces please");
        assert_eq!(RequestId::sent(Some(&refused)), None);
        let opaque = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        assert_eq!(RequestId::sent(Some(&opaque)), None);
        assert_eq!(RequestId::sent(None), None);
    }
}
