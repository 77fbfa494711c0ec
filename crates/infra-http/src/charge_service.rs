//! Balances kept by the platform's charge (recharge) service, region by region.
//!
//! Contract assumed of the charge service (the original called only the deduction; the
//! credit and the idempotency are what this service needs and the deployment must provide):
//! - `POST {base}/charge/v1/recharge?type=deduction&region={region}` takes money from a
//!   project's balance, `type=credit` gives it back. Headers: `Authorization: Bearer
//!   <platform admin token>` (the admin must be one of the charge service's admins) and
//!   `Content-Type: application/json; charset=utf-8`. Body:
//!   `{"namespace":"<project>","amount":12.5,"reason":"order:<orderId>:<consumeId>","region":"<region>"}`
//!   where `amount` is a positive JSON number with at most 4 decimals, written exactly from
//!   `Money` (never through a float).
//! - `200` with `{"code":0,…}` means taken.
//! - The service takes one `(type, reason)` at most once. A repeat of a taken payment is
//!   answered `200` (code 0), `409`, or any status with code `1318` ("duplicate reason"):
//!   all three read as taken, which is what makes a retry after a timeout safe.
//! - A non-`200` answer with code `1309` means the balance is insufficient; nothing was
//!   taken and the reason is not used up (a later attempt with it may succeed).
//! - A timeout, a connection error, a `5xx` or `429`, or a `200` whose body is not that
//!   JSON or carries another code: the outcome is unknown (`DependencyUnavailable`); the
//!   caller tries again with the same reason.
//! - Any other answer (another `4xx`, a non-`200` with another code) is a refusal of the
//!   request itself: `Internal`, logged.
//!
//! A payment is sent once: the adapter never retries it, the caller does, later, with the
//! same reason. The admin token is never logged nor put in an error.

use async_trait::async_trait;
use domain::ids::Region;
use domain::payment::{MoneyKeeper, Payment, PaymentDirection};
use domain::ports::Charging;
use domain::{Error, Result};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::http::{parse_base_url, BuildError, HttpClient, HttpSettings, Reply, Secret};
use crate::json_money;

/// The charge service's code for "insufficient balance".
pub const CODE_INSUFFICIENT_BALANCE: i64 = 1309;
/// The code we assume for "this reason was already taken".
pub const CODE_DUPLICATE_REASON: i64 = 1318;

/// One region's charge service.
#[derive(Clone, Debug)]
pub struct ChargeRegion {
    pub region: Region,
    pub base_url: String,
    /// The platform admin's bearer token the charge service requires.
    pub admin_token: Secret,
}

/// [`Charging`] on the regions' charge services; other regions are the store's.
#[derive(Clone, Debug)]
pub struct ChargeService {
    regions: Vec<ChargeRegion>,
    http: HttpClient,
}

impl ChargeService {
    pub fn new(regions: Vec<ChargeRegion>, http: HttpSettings) -> Result<Self, BuildError> {
        let regions = regions
            .into_iter()
            .map(|r| {
                Ok(ChargeRegion {
                    base_url: parse_base_url(&r.base_url)?,
                    ..r
                })
            })
            .collect::<Result<Vec<_>, BuildError>>()?;
        Ok(Self {
            regions,
            http: HttpClient::new(http)?,
        })
    }

    async fn pay(&self, payment: &Payment, direction: PaymentDirection) -> Result<()> {
        let what = format!(
            "charge service ({}): {} of {} for {} reason {}",
            payment.region,
            direction.label(),
            payment.amount,
            payment.project,
            payment.reason
        );
        if payment.direction != direction {
            return Err(internal(&what, "the payment goes the other way"));
        }
        if !payment.amount.is_positive() {
            return Err(internal(&what, "the amount must be positive"));
        }
        let endpoint = self
            .regions
            .iter()
            .find(|r| r.region == payment.region)
            .ok_or_else(|| internal(&what, "the region has no charge service"))?;
        let body = RechargeBody {
            namespace: payment.project.as_str(),
            amount: json_money::amount(payment.amount)
                .map_err(|e| internal(&what, &format!("amount: {e}")))?,
            reason: payment.reason.to_string(),
            region: payment.region.as_str(),
        };
        let body = serde_json::to_vec(&body).map_err(|e| internal(&what, &e.to_string()))?;
        let request = self
            .http
            .client()
            .post(format!("{}/charge/v1/recharge", endpoint.base_url))
            .query(&[
                ("type", direction.label()),
                ("region", payment.region.as_str()),
            ])
            .bearer_auth(endpoint.admin_token.expose())
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body);
        let reply = match self.http.send(request).await {
            Ok(reply) => reply,
            Err(e) => return Err(unknown_outcome(&what, &e.to_string())),
        };
        outcome(&what, direction, &reply, endpoint.admin_token.expose())
    }
}

/// What the answer means for the payment.
fn outcome(what: &str, direction: PaymentDirection, reply: &Reply, token: &str) -> Result<()> {
    let answer = reply.json::<CodeDto>();
    let code = answer.as_ref().ok().and_then(|a| a.code);
    let declined = direction == PaymentDirection::Deduction;
    if reply.status == StatusCode::OK {
        return match (answer, code) {
            (Ok(_), Some(0)) => {
                log::info!("{what}: taken");
                Ok(())
            }
            (Ok(_), Some(CODE_DUPLICATE_REASON)) => {
                log::info!("{what}: already taken");
                Ok(())
            }
            (Ok(_), Some(CODE_INSUFFICIENT_BALANCE)) if declined => {
                Err(declined_error(what, reply, token))
            }
            // A 200 most likely means the money moved, so an answer that cannot be read is
            // an unknown outcome, settled by asking again under the same reason, never a
            // refusal (which would leave a taken payment with no row).
            (Ok(_), _) => Err(unknown_outcome(
                what,
                &format!("unexpected answer: {}", reply.summary(Some(token))),
            )),
            (Err(e), _) => Err(unknown_outcome(what, &format!("malformed answer: {e}"))),
        };
    }
    if reply.status == StatusCode::CONFLICT || code == Some(CODE_DUPLICATE_REASON) {
        log::info!("{what}: already taken ({})", reply.status);
        return Ok(());
    }
    if code == Some(CODE_INSUFFICIENT_BALANCE) && declined {
        return Err(declined_error(what, reply, token));
    }
    if reply.is_unavailable() {
        return Err(unknown_outcome(what, &reply.summary(Some(token))));
    }
    Err(internal(
        what,
        &format!("refused: {}", reply.summary(Some(token))),
    ))
}

fn declined_error(what: &str, reply: &Reply, token: &str) -> Error {
    let why = reply.summary(Some(token));
    log::warn!("{what}: declined, insufficient balance ({why})");
    Error::PaymentDeclined(format!("{what}: {why}"))
}

fn unknown_outcome(what: &str, why: &str) -> Error {
    log::warn!("{what}: outcome unknown ({why}); the next attempt uses the same reason");
    Error::DependencyUnavailable(format!("{what}: {why}; outcome unknown"))
}

fn internal(what: &str, why: &str) -> Error {
    log::error!("{what}: {why}");
    Error::Internal(format!("{what}: {why}"))
}

#[derive(Serialize)]
struct RechargeBody<'a> {
    namespace: &'a str,
    amount: Box<RawValue>,
    reason: String,
    region: &'a str,
}

#[derive(Deserialize)]
struct CodeDto {
    #[serde(default)]
    code: Option<i64>,
}

#[async_trait]
impl Charging for ChargeService {
    fn keeper(&self, region: &Region) -> MoneyKeeper {
        if self.regions.iter().any(|r| &r.region == region) {
            MoneyKeeper::ChargeService
        } else {
            MoneyKeeper::Store
        }
    }

    fn charged_regions(&self) -> Vec<Region> {
        self.regions.iter().map(|r| r.region.clone()).collect()
    }

    async fn deduct(&self, payment: &Payment) -> Result<()> {
        self.pay(payment, PaymentDirection::Deduction).await
    }

    async fn credit(&self, payment: &Payment) -> Result<()> {
        self.pay(payment, PaymentDirection::Credit).await
    }
}
