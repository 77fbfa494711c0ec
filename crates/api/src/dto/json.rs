//! JSON request bodies. actix reads the body under `web::JsonConfig` (size limit, content
//! type) into a `serde_json::Value`; the DTO is then deserialized from that value with
//! `serde_path_to_error`, so a wrong type is reported with the field that carries it
//! ("quantities: invalid type: string \"x\", expected i64").

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The `JsonConfig` every JSON body is read with.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|error, _req| payload_error(error).into())
}

/// Maps actix's reading errors to ours: too large is 413, too slow 408 (see
/// [`crate::body_deadline`]), anything else is a 400 bad JSON.
pub fn payload_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::Payload(e) if crate::body_deadline::is_deadline(&e) => {
            ApiError::BodyTimeout
        }
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::BodyTooLarge { limit },
        JsonPayloadError::Payload(PayloadError::Overflow) => {
            ApiError::BodyTooLarge { limit: BODY_LIMIT }
        }
        JsonPayloadError::ContentType => {
            ApiError::BadJson("Content-Type must be application/json".into())
        }
        JsonPayloadError::Deserialize(e) => ApiError::BadJson(e.to_string()),
        other => ApiError::BadJson(other.to_string()),
    }
}

/// Deserializes a DTO from an already parsed JSON value, naming the failing field. Every
/// body is a JSON object: serde would otherwise read a struct from an array, field by field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::BadJson("the body must be a JSON object".into()));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::BadJson(inner.to_string())
        } else {
            ApiError::BadJson(format!("{path}: {inner}"))
        }
    })
}

/// A JSON body of type `T`, and the body in canonical form (keys sorted, no whitespace):
/// two bodies that mean the same read the same, which is what an idempotency key's
/// fingerprint must compare.
#[derive(Debug)]
pub struct JsonBody<T>(pub T, pub String);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            let canonical = value.to_string();
            Ok(JsonBody(from_value(value)?, canonical))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        quantities: Option<i64>,
        parameters: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        resource_name: Option<String>,
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let error = from_value::<Body>(json!({"quantities": "x"}))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("parse json failed: quantities: invalid type"),
            "{error}"
        );
    }

    #[test]
    fn a_nested_wrong_type_names_its_path() {
        let error = from_value::<Body>(json!({"parameters": {"resourceName": 5}}))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("parameters.resourceName: invalid type"),
            "{error}"
        );
    }

    #[derive(Debug, Deserialize)]
    struct Defaults {
        #[serde(default)]
        first: Option<String>,
        #[serde(default)]
        second: Option<String>,
    }

    #[test]
    fn a_body_that_is_not_an_object_is_bad_json() {
        let object = from_value::<Defaults>(json!({"second": "b"})).unwrap();
        assert_eq!((object.first, object.second.as_deref()), (None, Some("b")));
        for value in [json!([1, 2]), json!(["a", "b"]), json!("a"), json!(null)] {
            let error = from_value::<Defaults>(value.clone()).unwrap_err();
            assert_eq!(
                error.to_string(),
                "parse json failed: the body must be a JSON object",
                "{value}"
            );
        }
    }

    #[test]
    fn known_fields_are_read_and_unknown_ones_ignored() {
        let body: Body = from_value(
            json!({"quantities": 2, "parameters": {"resourceName": "v1"}, "color": "red"}),
        )
        .unwrap();
        assert_eq!(body.quantities, Some(2));
        assert_eq!(
            body.parameters.unwrap().resource_name.as_deref(),
            Some("v1")
        );
    }

    #[test]
    fn overflow_is_too_large_and_the_rest_is_bad_json() {
        assert!(matches!(
            payload_error(JsonPayloadError::OverflowKnownLength {
                length: 70_000,
                limit: BODY_LIMIT
            }),
            ApiError::BodyTooLarge { .. }
        ));
        assert!(matches!(
            payload_error(JsonPayloadError::Payload(PayloadError::Overflow)),
            ApiError::BodyTooLarge { .. }
        ));
        assert!(matches!(
            payload_error(JsonPayloadError::ContentType),
            ApiError::BadJson(_)
        ));
    }
}
