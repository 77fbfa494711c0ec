//! `Idempotency-Key` on the money-moving writes (create, switch, cancel, renew, recharge),
//! with Stripe's semantics: the same key with the same request returns the first answer —
//! whatever happened to it on the way back — and never does the work twice; the same key
//! with another request is 409 / 3321. Keys are kept per project for at least a day.
//!
//! The key is recorded in the transaction of the change it causes, so a request whose
//! answer was lost (a timeout, a dropped connection at commit) left its key behind: the
//! retry finds it. The answer is stored beside the key once sent; if the process died
//! before that, the retry gets the answer rebuilt from what the request produced.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use domain::idempotency::{Idempotency, IdempotencyKey, Remembered};
use domain::ids::{OrderId, ProjectId};
use domain::principal::Principal;
use domain::usecases::UseCases;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dto::balances::{BalanceJson, RechargeJson, RechargedJson};
use crate::dto::orders::OrderJson;
use crate::envelope::Envelope;
use crate::error::ApiError;
use crate::startup::AppState;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// Marks an answer that is a replay of the first one.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// A request's key and the fingerprint of what it asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyed {
    key: IdempotencyKey,
    fingerprint: String,
}

impl Keyed {
    /// The key of `req`, if it has one, with the fingerprint of its method, path, query and
    /// (canonical) body.
    ///
    /// Errors: 400 / 3307 for a key that is not 1 to 255 visible ASCII characters.
    pub fn of(req: &HttpRequest, canonical_body: &str) -> Result<Option<Keyed>, ApiError> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::invalid("Idempotency-Key may only contain visible ASCII"))?;
        let key = IdempotencyKey::parse(text)?;
        let mut digest = Sha256::new();
        for part in [
            req.method().as_str(),
            req.path(),
            req.query_string(),
            canonical_body,
        ] {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        Ok(Some(Keyed {
            key,
            fingerprint: hex::encode(digest.finalize()),
        }))
    }

    /// The key as the use cases record it, under `project`.
    pub fn under(&self, project: &ProjectId) -> Idempotency {
        Idempotency {
            project: project.clone(),
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// A successful answer, kept as sent so it can be sent again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    /// `{"code":0,"msg":"OK","data":…}` with `status`.
    pub fn new<T: Serialize>(status: StatusCode, data: T) -> Result<Answer, ApiError> {
        let body = serde_json::to_string(&Envelope {
            code: 0,
            msg: "OK",
            data: Some(data),
        })
        .map_err(|e| ApiError::Domain(domain::Error::Internal(e.to_string())))?;
        Ok(Answer { status, body })
    }

    fn response(&self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/json"));
        if replayed {
            response.insert_header((REPLAYED, "true"));
        }
        response.body(self.body.clone())
    }
}

/// Who may make the write a key stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteRight {
    /// A member of the project (orders).
    Member,
    /// An admin (recharges).
    Recharge,
}

/// Runs `work` once per key: a request without a key just runs; with one, the first answer
/// recorded under it is returned instead (or 409 when it was another request). Keys are
/// the project's, so the caller's `right` to the write is checked first: a replay answers
/// only a caller the write itself would accept.
pub async fn once<F, Fut>(
    state: &AppState,
    principal: &Principal,
    project: &ProjectId,
    right: WriteRight,
    keyed: Option<Keyed>,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Option<Idempotency>) -> Fut,
    Fut: std::future::Future<Output = Result<Answer, ApiError>>,
{
    let Some(keyed) = keyed else {
        return Ok(work(None).await?.response(false));
    };
    match right {
        WriteRight::Member => state.usecases.may_write(principal, project).await?,
        WriteRight::Recharge => UseCases::may_recharge(principal)?,
    }
    let keys = &state.idempotency;
    if let Some(first) = keys.find(project, &keyed.key).await? {
        return replay(state, principal, project, &keyed, first).await;
    }
    match work(Some(keyed.under(project))).await {
        Ok(answer) => {
            let stored = keys
                .answer(
                    project,
                    &keyed.key,
                    answer.status.as_u16(),
                    answer.body.clone(),
                )
                .await;
            if let Err(e) = stored {
                log::warn!(
                    "the answer to idempotency key {} was not kept: {e}",
                    keyed.key
                );
            }
            Ok(answer.response(false))
        }
        // Another request with the same key committed first.
        Err(ApiError::Domain(domain::Error::DuplicateRequest(_))) => {
            match keys.find(project, &keyed.key).await? {
                Some(first) => replay(state, principal, project, &keyed, first).await,
                None => Err(ApiError::KeyReused(
                    "a request with this key is still running".into(),
                )),
            }
        }
        Err(e) => Err(e),
    }
}

/// The first answer to a key, or 409 when the key named another request.
async fn replay(
    state: &AppState,
    principal: &Principal,
    project: &ProjectId,
    keyed: &Keyed,
    first: Remembered,
) -> Result<HttpResponse, ApiError> {
    if first.fingerprint != keyed.fingerprint {
        return Err(ApiError::KeyReused(format!(
            "key {} was used at {} for another request",
            keyed.key,
            first.at.to_rfc3339()
        )));
    }
    if let Some((status, body)) = first.answer {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        return Ok(Answer { status, body }.response(true));
    }
    rebuild(state, principal, project, &first.result)
        .await
        .map(|answer| answer.response(true))
}

/// The answer of a request whose own answer was lost, from what it produced: the order as
/// it is now (202 while still pending), or the recharge with the balance now.
async fn rebuild(
    state: &AppState,
    principal: &Principal,
    project: &ProjectId,
    result: &str,
) -> Result<Answer, ApiError> {
    let usecases = &state.usecases;
    if let Some(id) = result.strip_prefix("order:") {
        let id = OrderId::parse(id)?;
        let order = usecases.get_order(principal, project, &id).await?;
        let status = if order.status == domain::order::OrderStatus::Pending {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        return Answer::new(status, OrderJson::from(&order));
    }
    if let Some(id) = result.strip_prefix("recharge:") {
        let id: i64 = id
            .parse()
            .map_err(|_| ApiError::Domain(domain::Error::Internal(format!("result {result}"))))?;
        let (recharge, account) = usecases.find_recharge(principal, project, id).await?;
        return Answer::new(
            StatusCode::OK,
            RechargedJson {
                recharge: RechargeJson::from(&recharge),
                balance: BalanceJson::from(&account),
            },
        );
    }
    Err(ApiError::Domain(domain::Error::Internal(format!(
        "idempotency key with an unknown result {result:?}"
    ))))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::test::TestRequest;

    use super::*;

    fn keyed(key: &str, path: &str, body: &str) -> Keyed {
        let req = TestRequest::post()
            .uri(path)
            .insert_header((HEADER, key))
            .to_http_request();
        Keyed::of(&req, body).unwrap().unwrap()
    }

    #[test]
    fn a_request_without_the_header_has_no_key() {
        let req = TestRequest::post().uri("/x").to_http_request();
        assert_eq!(Keyed::of(&req, "{}").unwrap(), None);
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint_and_another_one_another() {
        let first = keyed("k", "/usageapi/v1/orders", r#"{"a":1}"#);
        assert_eq!(first, keyed("k", "/usageapi/v1/orders", r#"{"a":1}"#));
        assert_ne!(first, keyed("k", "/usageapi/v1/orders", r#"{"a":2}"#));
        assert_ne!(
            first,
            keyed("k", "/usageapi/v1/orders?drytry=1", r#"{"a":1}"#)
        );
    }

    #[test]
    fn an_unprintable_or_overlong_key_is_invalid() {
        for key in ["a b", &"k".repeat(256)] {
            let req = TestRequest::post()
                .uri("/x")
                .insert_header((HEADER, key))
                .to_http_request();
            assert!(Keyed::of(&req, "{}").is_err(), "{key}");
        }
    }
}
