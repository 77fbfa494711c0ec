//! `[payments]`: how the settler sends the payments charge services keep, how long
//! idempotency keys are kept, and what `serviceusage reconcile` counts as a payment pending
//! too long.

use std::time::Duration;

use chrono::TimeDelta;
use domain::usecases::SettlerSettings;
use serde::Deserialize;

use super::{invalid, ConfigError};

/// Stripe keeps keys a day; a client retrying after that is making a new request.
const MIN_KEY_HOURS: i64 = 24;
/// A month: keys are one row per keyed request, so far longer only grows the table.
const MAX_KEY_HOURS: i64 = 720;

/// The validated `[payments]` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaymentSettings {
    pub settler: SettlerSettings,
    /// How long an idempotency key (and its answer) is kept.
    pub key_retention: Duration,
    /// `serviceusage reconcile` reports a payment pending longer than this.
    pub pending_alert: TimeDelta,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub(super) struct RawPayments {
    concurrency: i64,
    breaker_failures: i64,
    breaker_pause_seconds: i64,
    key_retention_hours: i64,
    pending_alert_minutes: i64,
}

impl Default for RawPayments {
    fn default() -> Self {
        Self {
            concurrency: 16,
            breaker_failures: 5,
            breaker_pause_seconds: 30,
            key_retention_hours: 24,
            pending_alert_minutes: 60,
        }
    }
}

fn within(key: &str, value: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            format!("payments.{key}"),
            format!("must be from {min} to {max}, not {value}"),
        ))
    }
}

impl RawPayments {
    pub(super) fn validate(self) -> Result<PaymentSettings, ConfigError> {
        let concurrency = within("concurrency", self.concurrency, 1, 256)?;
        let failures = within("breaker_failures", self.breaker_failures, 1, 1_000)?;
        let pause = within(
            "breaker_pause_seconds",
            self.breaker_pause_seconds,
            1,
            3_600,
        )?;
        let hours = within(
            "key_retention_hours",
            self.key_retention_hours,
            MIN_KEY_HOURS,
            MAX_KEY_HOURS,
        )?;
        let alert = within(
            "pending_alert_minutes",
            self.pending_alert_minutes,
            1,
            10_080,
        )?;
        Ok(PaymentSettings {
            settler: SettlerSettings {
                concurrency: usize::try_from(concurrency).unwrap_or(1),
                breaker_failures: u32::try_from(failures).unwrap_or(1),
                breaker_pause: TimeDelta::seconds(pause),
                ..SettlerSettings::default()
            },
            key_retention: Duration::from_secs(hours.unsigned_abs() * 3_600),
            pending_alert: TimeDelta::minutes(alert),
        })
    }
}
