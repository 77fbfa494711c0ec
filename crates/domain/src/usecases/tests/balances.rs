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
    assert_eq!(balance.amount, money("60"));
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
