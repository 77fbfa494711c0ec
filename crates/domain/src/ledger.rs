//! The local ledger: a balance per project and the recharges that fed it. In production a
//! remote charge service can own balances instead; this is the embedded default.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::{ProjectId, UserName};
use crate::money::Money;

/// A project's spendable money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub project: ProjectId,
    pub amount: Money,
    /// When it last changed; `None` for a project that never had money.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A recharge to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRecharge {
    pub project: ProjectId,
    pub amount: Money,
    pub comment: Option<String>,
    pub operator: UserName,
    pub time: DateTime<Utc>,
}

/// A recorded recharge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recharge {
    pub id: i64,
    pub project: ProjectId,
    pub amount: Money,
    pub comment: Option<String>,
    pub operator: UserName,
    pub time: DateTime<Utc>,
}

/// Largest single recharge, 1,000,000,000.00: a typo guard, far above any real top-up.
pub const MAX_RECHARGE: Money = Money::from_minor(1_000_000_000 * crate::money::SCALE);
/// Longest recharge comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 256;

impl NewRecharge {
    /// Checks the amount and the comment of a recharge before it is recorded.
    pub fn validate(&self) -> Result<()> {
        if !self.amount.is_positive() {
            return Err(Error::invalid("amount must be greater than zero"));
        }
        if self.amount > MAX_RECHARGE {
            return Err(Error::invalid(format!(
                "amount must be at most {MAX_RECHARGE}"
            )));
        }
        if let Some(comment) = &self.comment {
            if comment.chars().count() > MAX_COMMENT_CHARS {
                return Err(Error::invalid(format!(
                    "comment must be at most {MAX_COMMENT_CHARS} characters"
                )));
            }
        }
        Ok(())
    }
}
