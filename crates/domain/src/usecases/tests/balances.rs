//! Balances, arrears and recharges.

use super::*;
use crate::error::Error;
use crate::idempotency::{Idempotency, IdempotencyKey};

#[tokio::test]
async fn a_recharge_pays_arrears_first() {
    let harness = harness();
    harness.store.fund(&project(), money("-40"));
    let (_, balance) = harness
        .usecases
        .recharge(&principal("admin"), project(), money("100"), None, None)
        .await
        .unwrap();
    assert_eq!(balance.balance.amount, money("60"));
    let account = harness
        .usecases
        .get_balance(&principal("alice"), &project())
        .await
        .unwrap();
    assert_eq!(account.owed, Money::ZERO);
}

#[tokio::test]
async fn a_recharge_under_a_key_already_used_is_a_duplicate_request() {
    let harness = harness();
    let keyed = || {
        Some(Idempotency {
            project: project(),
            key: IdempotencyKey::parse("top-up-1").unwrap(),
            fingerprint: "f".into(),
        })
    };
    let admin = principal("admin");
    let recharge = || {
        harness
            .usecases
            .recharge(&admin, project(), money("100"), None, keyed())
    };
    recharge().await.unwrap();
    assert!(matches!(recharge().await, Err(Error::DuplicateRequest(_))));
    assert_eq!(ledger_balance(&harness), money("1100"));
}

#[tokio::test]
async fn only_admins_recharge() {
    let harness = harness();
    let refused = harness
        .usecases
        .recharge(&principal("alice"), project(), money("100"), None, None)
        .await;
    assert!(matches!(refused, Err(Error::PermissionDenied(_))));
}

#[tokio::test]
async fn keys_older_than_their_retention_are_forgotten_and_newer_ones_kept() {
    let harness = harness();
    let keyed = |key: &str| {
        Some(Idempotency {
            project: project(),
            key: IdempotencyKey::parse(key).unwrap(),
            fingerprint: "f".into(),
        })
    };
    let admin = principal("admin");
    let usecases = &harness.usecases;
    usecases
        .recharge(&admin, project(), money("1"), None, keyed("old"))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::hours(20));
    usecases
        .recharge(&admin, project(), money("1"), None, keyed("new"))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::hours(5));
    let forgotten = usecases
        .forget_keys(chrono::TimeDelta::hours(24))
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    usecases
        .recharge(&admin, project(), money("1"), None, keyed("old"))
        .await
        .unwrap();
    assert!(matches!(
        usecases
            .recharge(&admin, project(), money("1"), None, keyed("new"))
            .await,
        Err(Error::DuplicateRequest(_))
    ));
}
