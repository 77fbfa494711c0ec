//! Limits on the request head, answered in the envelope.
//!
//! actix-web's HTTP/1 parser refuses a head over 128 KiB (431) and the `http` crate a url
//! over 64 KiB (400), both before any service of ours runs, with an empty body and no way
//! to change it. These limits sit well below, so a request a client could plausibly send
//! by mistake (a runaway query string, a cookie jar) gets a `{code, msg}` body saying what
//! was too large; only heads beyond the parser's own limits get its bare answer.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use crate::error::ApiError;

/// Longest path and query string served. Every identifier is at most 64 bytes, so no
/// request of this API comes near it.
pub const MAX_URL_BYTES: usize = 16 * 1024;
/// Largest header section served, counted as on the wire (`name: value\r\n`).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The middleware: a request within the limits goes on, another is answered here.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match check(&req) {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(error) => Ok(req
            .into_response(error.error_response())
            .map_into_right_body()),
    }
}

fn check(req: &ServiceRequest) -> Result<(), ApiError> {
    let url = req
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if url > MAX_URL_BYTES {
        return Err(ApiError::UrlTooLong {
            limit: MAX_URL_BYTES,
        });
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn checked(request: TestRequest) -> Result<(), ApiError> {
        check(&request.to_srv_request())
    }

    #[test]
    fn a_url_up_to_the_limit_passes_and_one_byte_more_is_refused() {
        let url = |len: usize| format!("/p?q={}", "x".repeat(len - 5));
        assert!(checked(TestRequest::get().uri(&url(MAX_URL_BYTES))).is_ok());
        assert!(matches!(
            checked(TestRequest::get().uri(&url(MAX_URL_BYTES + 1))),
            Err(ApiError::UrlTooLong { .. })
        ));
    }

    #[test]
    fn headers_up_to_the_limit_pass_and_one_byte_more_is_refused() {
        // "x-a: " + value + "\r\n"
        let header = |len: usize| ("x-a", "v".repeat(len - 7));
        assert!(checked(TestRequest::get().insert_header(header(MAX_HEADER_BYTES))).is_ok());
        assert!(matches!(
            checked(TestRequest::get().insert_header(header(MAX_HEADER_BYTES + 1))),
            Err(ApiError::HeadersTooLarge { .. })
        ));
    }
}
