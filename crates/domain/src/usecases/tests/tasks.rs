//! Resource tasks re-check the store before they act.

use super::*;

#[tokio::test]
async fn a_quota_release_run_late_sets_the_quota_of_the_order_that_holds_it_now() {
    // Defect 10: a queued release used to wipe the quota a newer order had set.
    let harness = harness();
    let first = create(&harness, request(&format!("cpu-small-{LEDGER}")))
        .await
        .unwrap();
    harness
        .provisioning
        .fail_next(crate::error::Error::DependencyUnavailable("down".into()));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&first.id))
        .await
        .unwrap();
    let second = create(&harness, request(&format!("cpu-large-{LEDGER}")))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::minutes(5));
    harness.usecases.run_tasks().await.unwrap();
    let log = harness.provisioning.log();
    assert_eq!(
        log.last().map(String::as_str),
        Some(format!("provision {}", second.id).as_str())
    );
    let releases = log
        .iter()
        .filter(|l| **l == format!("release {}", first.id))
        .count();
    assert_eq!(releases, 1, "only the attempt that failed: {log:?}");
}

#[tokio::test]
async fn a_release_of_a_name_an_open_order_holds_again_does_nothing() {
    let harness = harness();
    let first = create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    harness
        .provisioning
        .fail_next(crate::error::Error::DependencyUnavailable("down".into()));
    harness
        .usecases
        .cancel_order(&principal("alice"), cancel_request(&first.id))
        .await
        .unwrap();
    create(&harness, named(&format!("vol-{LEDGER}"), "data"))
        .await
        .unwrap();
    harness.clock.advance(chrono::TimeDelta::minutes(5));
    harness.usecases.run_tasks().await.unwrap();
    let releases = harness
        .provisioning
        .log()
        .into_iter()
        .filter(|line| line.starts_with("release"))
        .count();
    assert_eq!(releases, 1, "only the failed attempt");
    assert!(harness.store.open_tasks().is_empty());
}
