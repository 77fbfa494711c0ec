//! The OpenAPI 3.1 document. Its operations and schemas come from the handlers
//! (`#[utoipa::path]`) and DTOs (`#[derive(ToSchema)]`, `#[derive(IntoParams)]`) through the
//! routes' registration (see [`crate::routes::configure`]); this module adds only what
//! belongs to the whole API: its title, the bearer scheme, the shared error answers.

pub mod responses;

use actix_web::dev::ResourceDef;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{self as oas, PathItem};
use utoipa::{Modify, OpenApi};

use crate::envelope::ErrorBody;
use responses::{
    BadGateway, BadRequest, Conflict, Forbidden, KeyReused, NotFound, PayloadTooLarge,
    PaymentRequired, Unauthorized, Unavailable,
};

/// The name operations use in `security(("bearer" = []))`.
pub const BEARER: &str = "bearer";

/// What the document holds besides its operations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "serviceusage",
        description = "Orders and usage billing of platform resources. Every answer is JSON in \
                       the envelope `{\"code\": 0, \"msg\": \"OK\", \"data\": …}`; an error is \
                       `{\"code\": N, \"msg\": \"…\"}` with the HTTP status that fits it. Money \
                       travels as decimal strings, times as RFC 3339 in UTC. The prose \
                       reference is docs/api.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Bearer),
    components(
        schemas(ErrorBody),
        responses(
            BadRequest,
            Unauthorized,
            PaymentRequired,
            Forbidden,
            NotFound,
            Conflict,
            KeyReused,
            PayloadTooLarge,
            BadGateway,
            Unavailable
        )
    ),
    tags(
        (name = "orders", description = "Create (or quote, or switch), cancel, renew, read."),
        (name = "usages", description = "Consumption history: what each order was charged."),
        (name = "records", description = "Consumption records (51idc): each an order and its rows."),
        (name = "notifications", description = "Events recorded about a project's orders."),
        (name = "plans", description = "The plan catalog."),
        (name = "enumerations", description = "The values the list filters take, with English and Chinese labels."),
        (name = "balances", description = "The local ledger's balances and recharges."),
        (name = "service", description = "Health, this index and this document.")
    )
)]
pub struct ApiDoc;

/// Declares the bearer scheme the protected operations name.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut oas::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as served, and the methods of each of its paths (for `Allow`).
pub struct Document {
    pub openapi: oas::OpenApi,
    routes: Vec<(ResourceDef, Vec<&'static str>)>,
}

impl Document {
    pub fn new(openapi: oas::OpenApi) -> Self {
        let routes = openapi
            .paths
            .paths
            .iter()
            .map(|(path, item)| (ResourceDef::new(path.as_str()), methods(item)))
            .collect();
        Self { openapi, routes }
    }

    /// The methods served at `path` (`HEAD` wherever `GET` is), or `None` for a path the
    /// document does not have.
    pub fn methods_of(&self, path: &str) -> Option<Vec<&'static str>> {
        let mut found: Vec<&'static str> = self
            .routes
            .iter()
            .filter(|(pattern, _)| pattern.is_match(path))
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        if found.is_empty() {
            return None;
        }
        if found.contains(&"GET") {
            found.push("HEAD");
        }
        found.sort_unstable();
        found.dedup();
        Some(found)
    }
}

/// The methods a path item has operations for.
pub fn methods(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("OPTIONS", &item.options),
        ("HEAD", &item.head),
        ("PATCH", &item.patch),
        ("TRACE", &item.trace),
    ]
    .into_iter()
    .filter(|(_, operation)| operation.is_some())
    .map(|(method, _)| method)
    .collect()
}

#[cfg(test)]
mod tests;
