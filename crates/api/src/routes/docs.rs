//! The service's own front door, none of it behind a token: `GET /` (a small index),
//! `GET /openapi.json` (the contract) and `GET /docs` (Swagger UI reading it). Swagger UI's
//! files come from the `utoipa-swagger-ui` crate's vendored copy, compiled into the binary:
//! the page fetches nothing from the internet, at build time or in the browser.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_swagger_ui::Config;

use crate::dto::index::IndexJson;
use crate::envelope::{ok, Envelope};
use crate::error::ApiError;
use crate::openapi::Document;

/// The reference page; it loads the two files of [`Asset`] and `/openapi.json`.
const PAGE: &str = include_str!("docs.html");

/// `GET /`.
#[utoipa::path(
    operation_id = "index",
    tag = "service",
    summary = "What this service is, and where its reference, contract and health are",
    responses(
        (status = 200, description = "Name, version and links.", body = Envelope<IndexJson>,
            example = json!({"code": 0, "msg": "OK", "data": {"name": "serviceusage",
                "version": "0.1.0", "links": {"docs": "/docs", "openapi": "/openapi.json",
                "health": "/healthz"}}}))
    )
)]
#[get("/")]
pub async fn index() -> HttpResponse {
    ok(IndexJson::current())
}

/// `GET /openapi.json`.
#[utoipa::path(
    operation_id = "openapi",
    tag = "service",
    summary = "This document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json",
            body = Object)
    )
)]
#[get("/openapi.json")]
pub async fn openapi_json(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&document.openapi)
}

/// `GET /docs`.
#[utoipa::path(
    operation_id = "docs",
    tag = "service",
    summary = "The interactive API reference (Swagger UI)",
    responses(
        (status = 200, description = "An HTML page.", content_type = "text/html", body = String)
    )
)]
#[get("/docs")]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(header::ContentType::html())
        .body(PAGE)
}

/// The files the reference page loads.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub enum Asset {
    #[serde(rename = "swagger-ui.css")]
    Css,
    #[serde(rename = "swagger-ui-bundle.js")]
    Bundle,
}

impl Asset {
    fn file(self) -> &'static str {
        match self {
            Asset::Css => "swagger-ui.css",
            Asset::Bundle => "swagger-ui-bundle.js",
        }
    }
}

/// `GET /docs/{file}`.
#[utoipa::path(
    operation_id = "docs_asset",
    tag = "service",
    summary = "A file of the reference page",
    params(("file" = inline(Asset), Path, description = "One of the page's files.")),
    responses(
        (status = 200, description = "The file.", content(
            (String = "text/css"),
            (String = "text/javascript")
        )),
        (status = 400, response = crate::openapi::responses::BadRequest)
    )
)]
#[get("/docs/{file}")]
pub async fn asset(file: web::Path<Asset>) -> Result<HttpResponse, ApiError> {
    let config = Arc::new(Config::new(["/openapi.json"]));
    let served = utoipa_swagger_ui::serve(file.file(), config)
        .map_err(|e| ApiError::Domain(domain::Error::Internal(e.to_string())))?
        .ok_or_else(|| {
            ApiError::Domain(domain::Error::Internal(format!(
                "{} is not in the vendored Swagger UI",
                file.file()
            )))
        })?;
    Ok(HttpResponse::Ok()
        .content_type(served.content_type)
        .body(served.bytes.into_owned()))
}
