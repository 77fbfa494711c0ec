//! The response envelope every endpoint answers with: `{"code":0,"msg":"OK","data":…}` on
//! success, `{"code":N,"msg":"…","request_id":"…"}` on error (built in `error.rs`).

use actix_web::HttpResponse;
use serde::Serialize;

/// A successful answer. `data` is left out when there is none (e.g. `/healthz`).
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    pub code: u32,
    pub msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

/// An error answer; `code` is one of [`crate::error::Code`].
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: u32,
    pub msg: String,
    /// The id the request was served under (its `X-Request-Id`), to quote when reporting
    /// the error; absent on an answer given outside a request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// 200 with `data`.
pub fn ok<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Ok().json(Envelope {
        code: 0,
        msg: "OK",
        data: Some(data),
    })
}

/// 200 with no `data`.
pub fn ok_empty() -> HttpResponse {
    HttpResponse::Ok().json(Envelope::<()> {
        code: 0,
        msg: "OK",
        data: None,
    })
}
