//! Who the caller is, as the platform says: the user's own token resolves the name and
//! the membership; admins are the configured names.

use crate::fake_platform::{Condition, Service};

use super::harness::{order_id, Harness, ANN, BOB, BOSS, CAROL, PROJECT, QUOTA_SMALL};

#[tokio::test]
async fn an_unknown_token_is_a_401() {
    let h = Harness::start().await;
    h.app
        .get(&format!("/orders?project={PROJECT}"), "no-such-token")
        .await
        .expect(401, 3305);
    let asked = h.fakes.journal.filter(|r| r.is(Service::Platform, "GET"));
    assert!(
        asked.iter().any(|r| r.path.starts_with("/oapi/v1/users/")
            && r.header("authorization") == Some("Bearer no-such-token")),
        "{}",
        h.fakes.journal.describe()
    );
}

#[tokio::test]
async fn a_user_who_is_not_a_member_is_a_403() {
    let h = Harness::start().await;
    h.app
        .get(&format!("/orders?project={PROJECT}"), BOB)
        .await
        .expect(403, 3306);
    h.create(BOB, QUOTA_SMALL).await.expect(403, 3306);
    assert!(h.fakes.payments().is_empty());
    // The membership was asked with the user's own token.
    let asked = h.fakes.journal.filter(|r| {
        r.is(Service::Platform, "GET") && r.path == format!("/oapi/v1/projects/{PROJECT}")
    });
    assert!(!asked.is_empty(), "{}", h.fakes.journal.describe());
    assert!(asked
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {BOB}"))));
}

#[tokio::test]
async fn a_member_acts_on_the_project_and_a_configured_admin_on_any() {
    let h = Harness::start().await;
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);
    let mine = h
        .app
        .get(&format!("/orders/{id}?project={PROJECT}"), ANN)
        .await;
    mine.expect(200, 0);
    assert_eq!(mine.data()["creator"], "ann");
    h.app
        .get(&format!("/orders/{id}?project={PROJECT}"), BOSS)
        .await
        .expect(200, 0);
}

#[tokio::test]
async fn identity_down_is_a_503() {
    let h = Harness::start().await;
    h.fakes.identity.set_condition(Condition::Failing);
    // A token this process never resolved: no cache can answer for the platform.
    h.app
        .get(&format!("/orders?project={PROJECT}"), CAROL)
        .await
        .expect(503, 3320);
    h.create(CAROL, QUOTA_SMALL).await.expect(503, 3320);
    assert!(h.fakes.payments().is_empty());

    h.fakes.identity.set_condition(Condition::Up);
    h.app
        .get(&format!("/orders?project={PROJECT}"), CAROL)
        .await
        .expect(200, 0);
}
