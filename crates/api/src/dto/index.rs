//! `GET /`: what this service is and where its contract and health are.

use serde::Serialize;
use utoipa::ToSchema;

/// The service's name and version, and where to go next.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexJson {
    #[schema(value_type = String, example = "serviceusage")]
    pub name: &'static str,
    #[schema(value_type = String, example = "0.1.0")]
    pub version: &'static str,
    pub links: IndexLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndexLinks {
    /// The interactive API reference.
    #[schema(value_type = String, example = "/docs")]
    pub docs: &'static str,
    /// The OpenAPI document: the contract.
    #[schema(value_type = String, example = "/openapi.json")]
    pub openapi: &'static str,
    /// The liveness probe.
    #[schema(value_type = String, example = "/healthz")]
    pub health: &'static str,
}

impl IndexJson {
    /// This build's index.
    pub fn current() -> Self {
        Self {
            name: "serviceusage",
            version: env!("CARGO_PKG_VERSION"),
            links: IndexLinks {
                docs: "/docs",
                openapi: "/openapi.json",
                health: "/healthz",
            },
        }
    }
}
