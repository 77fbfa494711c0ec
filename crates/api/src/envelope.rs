//! The response envelope every endpoint answers with: `{"code":0,"msg":"OK","data":…}` on
//! success, `{"code":N,"msg":"…","request_id":"…"}` on error (built in `error.rs`).

use actix_web::error::JsonPayloadError;
use actix_web::http::header::ContentType;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A successful answer. `data` is left out when there is none (e.g. `/healthz`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T: Serialize> {
    /// Always 0 on success.
    #[schema(minimum = 0, maximum = 0, example = 0)]
    pub code: u32,
    #[schema(value_type = String, example = "OK")]
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

/// Written by hand rather than derived: it also declares `request_id`, which the request-id
/// middleware adds to error bodies on their way out.
impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "An error: `code` says which (see the error codes in docs/api.md), `msg` says \
                 why in words, naming the parameter at fault.",
            ))
            .property(
                "code",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(3300))
                    .maximum(Some(3399))
                    .examples([3307]),
            )
            .required("code")
            .property(
                "msg",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .examples(["invalid parameters: project can't be blank"]),
            )
            .required("msg")
            .property(
                "request_id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("The request's `X-Request-Id`, to find it in the log.")),
            )
            .into()
    }
}

impl ToSchema for ErrorBody {}

/// What a body is written into at first: a page of 30 orders is about 14 KB, which a
/// buffer grown from nothing (as `HttpResponse::json` grows it) reaches only after a dozen
/// copies, each a reallocation on the hot path of every list.
const BODY_CAPACITY: usize = 16 * 1024;

/// 200 with `data`. Fails as `HttpResponse::json` fails (a 500), which no DTO of ours can
/// make it do: they have no map with keys that are not strings.
pub fn ok<T: Serialize>(data: T) -> HttpResponse {
    let envelope = Envelope {
        code: 0,
        msg: "OK",
        data: Some(data),
    };
    let mut body = Vec::with_capacity(BODY_CAPACITY);
    match serde_json::to_writer(&mut body, &envelope) {
        Ok(()) => HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(body),
        Err(e) => HttpResponse::from_error(JsonPayloadError::Serialize(e)),
    }
}

/// A successful answer with nothing more to say: the envelope without `data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    /// Always 0.
    #[schema(minimum = 0, maximum = 0, example = 0)]
    pub code: u32,
    #[schema(value_type = String, example = "OK")]
    pub msg: &'static str,
}

/// 200 with no `data`.
pub fn ok_empty() -> HttpResponse {
    HttpResponse::Ok().json(Done { code: 0, msg: "OK" })
}
