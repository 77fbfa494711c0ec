//! The local ledger: a balance per project and the recharges that fed it. In production a
//! remote charge service can own balances instead; this is the embedded default.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::{ProjectId, UserName};
use crate::money::Money;

/// A project's money in the local ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    /// Whose money it is.
    pub project: ProjectId,
    /// Negative when the project is in arrears: postpaid usage it has not paid for, which
    /// the next recharge pays first.
    pub amount: Money,
    /// When it last changed; `None` for a project that never had money.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A project's balance with what it owes: the local ledger's arrears and the payments
/// charge services declined for usage already consumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The local balance (zero where a charge service keeps the money).
    pub balance: Balance,
    /// Everything the project owes (zero when nothing).
    pub owed: Money,
    /// How far postpaid usage may take the local balance below zero.
    pub credit_limit: Money,
}

/// A recharge to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRecharge {
    /// The project credited.
    pub project: ProjectId,
    /// What to add; [`NewRecharge::validate`] requires it positive and at most
    /// [`MAX_RECHARGE`].
    pub amount: Money,
    /// Why, in the operator's words (at most [`MAX_COMMENT_CHARS`] characters).
    pub comment: Option<String>,
    /// Who recharged, for the books.
    pub operator: UserName,
    /// When it was recorded.
    pub time: DateTime<Utc>,
}

/// A recorded recharge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recharge {
    /// The ledger's id, by which the recharge is read back and named in an idempotency record.
    pub id: i64,
    /// The project credited.
    pub project: ProjectId,
    /// What was added to the balance (arrears first).
    pub amount: Money,
    /// Why, in the operator's words.
    pub comment: Option<String>,
    /// Who recharged.
    pub operator: UserName,
    /// When it was recorded.
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;

    use super::*;

    fn recharge(amount: Money) -> NewRecharge {
        NewRecharge {
            project: ProjectId::parse("p1").unwrap(),
            amount,
            comment: None,
            operator: UserName::parse("admin").unwrap(),
            time: Utc.with_ymd_and_hms(2017, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn commented(comment: String) -> NewRecharge {
        NewRecharge {
            comment: Some(comment),
            ..recharge(Money::from_minor(1))
        }
    }

    fn is_invalid(result: Result<()>) -> bool {
        matches!(result, Err(Error::InvalidParameter(_)))
    }

    #[test]
    fn positive_amount_up_to_the_maximum_is_valid() {
        for minor in [1, 1_000_000, MAX_RECHARGE.minor()] {
            assert_eq!(
                recharge(Money::from_minor(minor)).validate(),
                Ok(()),
                "{minor}"
            );
        }
    }

    #[test]
    fn maximum_recharge_is_one_billion() {
        assert_eq!(MAX_RECHARGE.to_string(), "1000000000.00");
    }

    #[test]
    fn zero_or_negative_amount_is_invalid() {
        for minor in [0, -1, i64::MIN] {
            assert!(
                is_invalid(recharge(Money::from_minor(minor)).validate()),
                "{minor}"
            );
        }
    }

    #[test]
    fn amount_above_the_maximum_is_invalid() {
        for minor in [MAX_RECHARGE.minor() + 1, i64::MAX] {
            assert!(
                is_invalid(recharge(Money::from_minor(minor)).validate()),
                "{minor}"
            );
        }
    }

    #[test]
    fn comment_of_up_to_256_characters_is_valid() {
        for comment in [
            String::new(),
            "top-up".into(),
            "x".repeat(MAX_COMMENT_CHARS),
        ] {
            assert_eq!(commented(comment).validate(), Ok(()));
        }
    }

    #[test]
    fn comment_length_counts_characters_not_bytes() {
        let multibyte = "充".repeat(MAX_COMMENT_CHARS);
        assert_eq!(multibyte.len(), 3 * MAX_COMMENT_CHARS);
        assert_eq!(commented(multibyte).validate(), Ok(()));
    }

    #[test]
    fn comment_of_257_characters_is_invalid() {
        assert!(is_invalid(
            commented("x".repeat(MAX_COMMENT_CHARS + 1)).validate()
        ));
        assert!(is_invalid(
            commented("充".repeat(MAX_COMMENT_CHARS + 1)).validate()
        ));
    }
}
