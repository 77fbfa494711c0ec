//! The platform clients' metrics, emitted through the `metrics` facade (the api installs
//! the recorder; without one they cost nothing): every request sent, by service and
//! outcome, with its latency, counted around each exchange (a retried read counts each
//! attempt); and each payment a charge service answered, by what the answer means for it.

use std::time::Duration;

use domain::payment::Payment;
use domain::Error;

use crate::http::{Reply, TransportError};

pub const REMOTE_REQUESTS: &str = "serviceusage_remote_requests_total";
pub const REMOTE_REQUEST_SECONDS: &str = "serviceusage_remote_request_duration_seconds";
pub const CHARGE_PAYMENTS: &str = "serviceusage_charge_payments_total";

/// The platform service a client calls: its `service` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    Plans,
    Charge,
    Identity,
    Provisioning,
    Webhook,
}

impl Service {
    fn label(self) -> &'static str {
        match self {
            Service::Plans => "plans",
            Service::Charge => "charge",
            Service::Identity => "identity",
            Service::Provisioning => "provisioning",
            Service::Webhook => "webhook",
        }
    }
}

/// One exchange with `service`, `elapsed` long.
pub(crate) fn exchanged(
    service: Service,
    outcome: &Result<Reply, TransportError>,
    elapsed: Duration,
) {
    let labels = [
        ("service", service.label()),
        ("outcome", outcome_label(outcome)),
    ];
    metrics::counter!(REMOTE_REQUESTS, &labels).increment(1);
    metrics::histogram!(REMOTE_REQUEST_SECONDS, &labels).record(elapsed.as_secs_f64());
}

/// `success` (2xx), `refused` (4xx but 429), `unavailable` (5xx, 429), `unexpected`
/// (1xx, 3xx: redirects are not followed), `timeout`, `transport_error` (no answer).
fn outcome_label(outcome: &Result<Reply, TransportError>) -> &'static str {
    match outcome {
        Ok(reply) if reply.is_success() => "success",
        Ok(reply) if reply.is_unavailable() => "unavailable",
        Ok(reply) if reply.status.is_client_error() => "refused",
        Ok(_) => "unexpected",
        Err(error) if error.timed_out => "timeout",
        Err(_) => "transport_error",
    }
}

/// A charge service's answer to `payment`: `taken`, `declined` (insufficient balance),
/// `unknown` (sent again later), `disputed` (another amount under its id: never sent
/// again) or `refused` (the request itself).
pub(crate) fn charge_answered(payment: &Payment, answer: &domain::Result<()>) {
    let answer = match answer {
        Ok(()) => "taken",
        Err(Error::PaymentDeclined { .. }) => "declined",
        Err(Error::DependencyUnavailable(_)) => "unknown",
        Err(Error::PaymentMismatch(_)) => "disputed",
        Err(_) => "refused",
    };
    metrics::counter!(
        CHARGE_PAYMENTS,
        "region" => payment.region.as_str().to_owned(),
        "direction" => payment.direction.label(),
        "answer" => answer
    )
    .increment(1);
}

/// The help lines of the clients' metrics, for the recorder the api installs.
pub fn describe_metrics() {
    metrics::describe_counter!(
        REMOTE_REQUESTS,
        "Requests sent to platform services, by service and outcome"
    );
    metrics::describe_histogram!(
        REMOTE_REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "Time from sending a request to a platform service to its whole answer (or failure)"
    );
    metrics::describe_counter!(
        CHARGE_PAYMENTS,
        "Payments sent to charge services, by region, direction and what the answer means"
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use reqwest::StatusCode;

    use super::*;

    fn reply(status: u16) -> Result<Reply, TransportError> {
        Ok(Reply {
            status: StatusCode::from_u16(status).unwrap(),
            body: Vec::new(),
        })
    }

    #[test]
    fn answers_are_told_apart_by_status_class() {
        for (status, label) in [
            (200, "success"),
            (204, "success"),
            (400, "refused"),
            (409, "refused"),
            (429, "unavailable"),
            (503, "unavailable"),
            (307, "unexpected"),
        ] {
            assert_eq!(outcome_label(&reply(status)), label, "{status}");
        }
    }

    #[test]
    fn no_answer_is_a_timeout_or_a_transport_error() {
        let failed = |timed_out| {
            Err(TransportError {
                timed_out,
                reason: "connection refused".into(),
            })
        };
        assert_eq!(outcome_label(&failed(true)), "timeout");
        assert_eq!(outcome_label(&failed(false)), "transport_error");
    }
}
