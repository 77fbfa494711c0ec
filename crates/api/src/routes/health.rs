//! `GET /healthz`: whether the database answers. No token needed, so load balancers and
//! orchestrators can call it.

use actix_web::{web, HttpResponse};

use crate::envelope::ok_empty;
use crate::error::ApiError;
use crate::startup::AppState;

pub async fn check(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.health.ping().await {
        Ok(()) => Ok(ok_empty()),
        Err(domain::Error::Unavailable(cause)) => Err(domain::Error::Unavailable(cause).into()),
        Err(other) => Err(domain::Error::Unavailable(other.to_string()).into()),
    }
}
