//! Balances kept by the platform's charge (recharge) service, region by region: the
//! [`Charging`] port, pure I/O. Which orders' money a region's charge service keeps is
//! fixed on each order when it opens (`domain::policy::BillingPolicy::keeper_for`); this
//! adapter only sends the payments it is given.
//!
//! Contract assumed of the charge service (the original called only the deduction; the
//! credit and the idempotency are what this service needs and the deployment must provide):
//! - `POST {base}/charge/v1/recharge?type=deduction&region={region}` takes money from a
//!   project's balance, `type=credit` gives it back. Headers: `Authorization: Bearer
//!   <platform admin token>` (the admin must be one of the charge service's admins) and
//!   `Content-Type: application/json; charset=utf-8`. Body:
//!   `{"namespace":"<project>","amount":12.5,"reason":"pay:<orderId>:<seq>","region":"<region>"}`
//!   where `reason` is the payment's id and `amount` a positive JSON number with at most
//!   4 decimals, written exactly from `Money` (never through a float).
//! - `200` with `{"code":0,…}` means taken.
//! - The service takes one `(type, reason)` at most once. A repeat of a taken one is
//!   answered `409` (or `200`) with `{"code":1318,"data":{"amount":<the amount taken under
//!   that reason>}}`. It is believed (the payment is taken) only when that amount equals
//!   the payment's; code 1318 with another amount, or with none, is
//!   [`Error::PaymentMismatch`]: the reason holds some other payment, which is neither
//!   believed taken nor sent again. A `409` without code 1318 is a refusal.
//! - A `200` or `4xx` answer with code `1309` to a deduction means the balance is
//!   insufficient: nothing was taken and the reason is not used up (a later attempt with
//!   it may succeed). The charge service's words go to the log, not into the error, which
//!   reaches clients.
//! - A timeout, a connection error, a `5xx` or `429`, or a `200` whose body is not that
//!   JSON or carries another code: the outcome is unknown (`DependencyUnavailable`); the
//!   caller tries again with the same reason.
//! - Any other answer (another `4xx`, a `409` without code 1318) is a refusal of the
//!   request itself: `Internal`, logged.
//!
//! A payment is sent once: the adapter never retries it, the settler does, later, under
//! the same id. The admin token is never logged nor put in an error.

use async_trait::async_trait;
use domain::ids::Region;
use domain::money::Money;
use domain::payment::{MoneyKeeper, Payment, PaymentDirection};
use domain::ports::Charging;
use domain::{Error, Result};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::http::{parse_base_url, BuildError, HttpClient, HttpSettings, Reply, Secret};
use crate::json_money;
use crate::telemetry::{self, Service};

/// The charge service's code for "insufficient balance".
pub const CODE_INSUFFICIENT_BALANCE: i64 = 1309;
/// The code of "this reason was already taken", with the amount taken under it.
pub const CODE_DUPLICATE_REASON: i64 = 1318;

/// Longest piece of an unreadable amount quoted in an error.
const QUOTE_MAX: usize = 40;

/// One region's charge service.
#[derive(Clone, Debug)]
pub struct ChargeRegion {
    pub region: Region,
    pub base_url: String,
    /// The platform admin's bearer token the charge service requires.
    pub admin_token: Secret,
}

/// [`Charging`] on the regions' charge services.
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
            http: HttpClient::new(Service::Charge, http)?,
        })
    }

    /// Sends `payment` once, as a `direction`; the method called must match the payment.
    async fn pay(&self, payment: &Payment, direction: PaymentDirection) -> Result<()> {
        let what = format!(
            "charge service ({}): {} {} of {} for {}",
            payment.region,
            direction.label(),
            payment.id,
            payment.amount,
            payment.project
        );
        if payment.direction != direction {
            return Err(internal(&what, "the payment goes the other way"));
        }
        if payment.keeper != MoneyKeeper::ChargeService {
            return Err(internal(&what, "the payment is kept by the local ledger"));
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
            reason: payment.id.to_string(),
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
        let answer = Answer {
            what: &what,
            payment,
            reply: &reply,
            token: endpoint.admin_token.expose(),
        };
        answer.outcome()
    }
}

/// The charge service's answer to one payment.
struct Answer<'a> {
    what: &'a str,
    payment: &'a Payment,
    reply: &'a Reply,
    token: &'a str,
}

impl Answer<'_> {
    /// What the answer means for the payment.
    fn outcome(&self) -> Result<()> {
        let what = self.what;
        let reply = self.reply;
        let read = reply.json::<CodeDto>();
        let code = read.as_ref().ok().and_then(|a| a.code);
        let deduction = self.payment.direction == PaymentDirection::Deduction;
        let status = reply.status;
        if code == Some(CODE_DUPLICATE_REASON)
            && (status == StatusCode::OK || status == StatusCode::CONFLICT)
        {
            return self.repeat();
        }
        if status == StatusCode::OK {
            return match (read, code) {
                (Ok(_), Some(0)) => {
                    log::debug!("{what}: taken");
                    Ok(())
                }
                (Ok(_), Some(CODE_INSUFFICIENT_BALANCE)) if deduction => Err(self.declined()),
                // A 200 most likely means the money moved, so an answer that cannot be read
                // is an unknown outcome, settled by asking again under the same reason,
                // never a refusal (which would leave a taken payment with no row).
                (Ok(_), _) => Err(unknown_outcome(
                    what,
                    &format!("unexpected answer: {}", self.summary()),
                )),
                (Err(e), _) => Err(unknown_outcome(what, &format!("malformed answer: {e}"))),
            };
        }
        if reply.is_unavailable() {
            return Err(unknown_outcome(what, &self.summary()));
        }
        if code == Some(CODE_INSUFFICIENT_BALANCE) && deduction {
            return Err(self.declined());
        }
        Err(internal(what, &format!("refused: {}", self.summary())))
    }

    /// A repeat of a taken reason: taken only if the service holds this very amount
    /// under it.
    fn repeat(&self) -> Result<()> {
        let what = self.what;
        let expected = self.payment.amount;
        match self.held() {
            Ok(held) if held == expected => {
                log::info!("{what}: already taken ({})", self.reply.status);
                Ok(())
            }
            Ok(held) => Err(mismatch(
                what,
                &format!("the charge service holds {held} under this reason, not {expected}"),
            )),
            Err(why) => Err(mismatch(
                what,
                &format!(
                    "the charge service answered \"duplicate reason\" {why}, so the payment \
                     it holds under this reason cannot be told from this one"
                ),
            )),
        }
    }

    /// The amount a "duplicate reason" answer says is held, or why it cannot be read.
    fn held(&self) -> Result<Money, String> {
        let repeat = self
            .reply
            .json::<RepeatDto>()
            .map_err(|_| "with a body that cannot be read".to_owned())?;
        let amount = repeat
            .data
            .and_then(|data| data.amount)
            .ok_or_else(|| "without the amount taken".to_owned())?;
        json_money::price(&amount).map_err(|_| {
            let text: String = amount.get().chars().take(QUOTE_MAX).collect();
            format!("with an amount that is not an exact positive decimal ({text})")
        })
    }

    /// A deduction declined for want of balance. The service's own words are logged only:
    /// the error reaches the client (402), which learns no more than that.
    fn declined(&self) -> Error {
        log::warn!(
            "{}: declined, insufficient balance ({})",
            self.what,
            self.summary()
        );
        Error::PaymentDeclined {
            needed: self.payment.amount,
            detail: format!("declined by the charge service of {}", self.payment.region),
        }
    }

    fn summary(&self) -> String {
        self.reply.summary(Some(self.token))
    }
}

fn unknown_outcome(what: &str, why: &str) -> Error {
    log::warn!("{what}: outcome unknown ({why}); the next attempt uses the same reason");
    Error::DependencyUnavailable(format!("{what}: {why}; outcome unknown"))
}

fn mismatch(what: &str, why: &str) -> Error {
    log::error!("{what}: {why}; the payment is not believed taken, nor sent again");
    Error::PaymentMismatch(format!("{what}: {why}"))
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

/// `{"code":1318,"data":{"amount":12.5}}`, the amount read from its exact text.
#[derive(Deserialize)]
struct RepeatDto {
    #[serde(default)]
    data: Option<HeldDto>,
}

#[derive(Deserialize)]
struct HeldDto {
    #[serde(default)]
    amount: Option<Box<RawValue>>,
}

#[async_trait]
impl Charging for ChargeService {
    async fn deduct(&self, payment: &Payment) -> Result<()> {
        let answer = self.pay(payment, PaymentDirection::Deduction).await;
        telemetry::charge_answered(payment, &answer);
        answer
    }

    async fn credit(&self, payment: &Payment) -> Result<()> {
        let answer = self.pay(payment, PaymentDirection::Credit).await;
        telemetry::charge_answered(payment, &answer);
        answer
    }
}
