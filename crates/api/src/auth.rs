//! The caller of a request: `Authorization: Bearer <token>` resolved through
//! `UseCases::authenticate`. Handlers that take a [`Caller`] are authenticated before any
//! other argument is looked at.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use domain::principal::Principal;

use crate::error::ApiError;
use crate::startup::AppState;

/// An authenticated principal.
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 7235); the token itself is never logged or echoed.
pub fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::MissingCredentials("missing Authorization header"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::MissingCredentials("malformed Authorization header"))?;
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::MissingCredentials(
            "Authorization header must be \"Bearer <token>\"",
        )),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| {
                ApiError::Domain(domain::Error::Internal("application state missing".into()))
            })?;
            Ok(Caller(state.usecases.authenticate(&token).await?))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::test::TestRequest;

    use super::*;

    fn token_of(header: Option<&str>) -> Result<String, String> {
        let mut req = TestRequest::default();
        if let Some(value) = header {
            req = req.insert_header((header::AUTHORIZATION, value));
        }
        bearer_token(&req.to_http_request()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_bearer_header_yields_its_token() {
        assert_eq!(token_of(Some("Bearer demo-token")), Ok("demo-token".into()));
        assert_eq!(
            token_of(Some("bearer  demo-token ")),
            Ok("demo-token".into())
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        for header in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer   "),
            Some("Basic ZGVtbzp4"),
            Some("demo-token"),
        ] {
            assert!(token_of(header).is_err(), "{header:?}");
        }
    }

    #[test]
    fn refusals_never_echo_the_header() {
        let message = token_of(Some("Token secret-value")).unwrap_err();
        assert!(!message.contains("secret-value"), "{message}");
    }
}
