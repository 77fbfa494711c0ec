//! Platform identity: who a token is, project membership, and what is cached.

use std::time::Duration;

use domain::ports::Identity;
use domain::principal::{Credential, Principal};
use domain::Error;
use infra_http::PlatformIdentity;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::fixtures::*;

fn identity(server: &MockServer) -> PlatformIdentity {
    PlatformIdentity::new(
        server.uri(),
        vec![user("root")],
        settings(),
        Duration::from_secs(60),
    )
    .unwrap()
}

fn user_answer(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "kind": "User",
        "apiVersion": "v1",
        "metadata": { "name": name, "uid": "0b8f" },
        "identities": ["htpasswd:alice"],
    }))
}

async fn users_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/users/~"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

fn principal(token: Option<&str>) -> Principal {
    Principal {
        user: user("alice"),
        admin: false,
        credential: token.map(Credential::new),
    }
}

async fn projects_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects/demo"))
        .and(header(
            "Authorization",
            format!("Bearer {USER_TOKEN}").as_str(),
        ))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn token_resolves_to_its_user_with_the_token_as_credential() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/users/~"))
        .and(header(
            "Authorization",
            format!("Bearer {USER_TOKEN}").as_str(),
        ))
        .respond_with(user_answer("alice"))
        .expect(1)
        .mount(&server)
        .await;
    let principal = identity(&server).authenticate(USER_TOKEN).await.unwrap();
    assert_eq!(principal.user, user("alice"));
    assert!(!principal.admin);
    assert_eq!(principal.credential, Some(Credential::new(USER_TOKEN)));
}

#[tokio::test]
async fn configured_admins_are_admins() {
    let server = users_answering(user_answer("root")).await;
    let principal = identity(&server).authenticate(USER_TOKEN).await.unwrap();
    assert!(principal.admin);
}

#[tokio::test]
async fn refused_tokens_are_unauthenticated() {
    for status in [401, 403] {
        let server = users_answering(ResponseTemplate::new(status)).await;
        let result = identity(&server).authenticate(USER_TOKEN).await;
        assert_eq!(result, Err(Error::Unauthenticated), "{status}");
        assert_eq!(requests(&server).await, 1, "a refusal is not retried");
    }
}

#[tokio::test]
async fn blank_token_is_unauthenticated_without_asking() {
    let server = users_answering(user_answer("alice")).await;
    assert_eq!(
        identity(&server).authenticate(" ").await,
        Err(Error::Unauthenticated)
    );
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn unusable_user_name_is_unauthenticated() {
    let server = users_answering(user_answer("not a name!")).await;
    assert_eq!(
        identity(&server).authenticate(USER_TOKEN).await,
        Err(Error::Unauthenticated)
    );
}

#[tokio::test]
async fn server_error_is_retried_then_unavailable() {
    let server = users_answering(ResponseTemplate::new(500)).await;
    let result = identity(&server).authenticate(USER_TOKEN).await;
    assert!(
        matches!(result, Err(Error::DependencyUnavailable(_))),
        "{result:?}"
    );
    assert_eq!(requests(&server).await, 1 + RETRIES as usize);
}

#[tokio::test]
async fn timeout_is_unavailable() {
    let server = users_answering(user_answer("alice").set_delay(TOO_SLOW)).await;
    let result = identity(&server).authenticate(USER_TOKEN).await;
    match result {
        Err(Error::DependencyUnavailable(why)) => {
            assert!(why.contains("timed out"), "{why}");
            assert!(!why.contains(USER_TOKEN), "{why}");
        }
        other => panic!("expected DependencyUnavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn slow_answer_within_the_timeout_is_used() {
    let server = users_answering(user_answer("alice").set_delay(SLOW)).await;
    assert!(identity(&server).authenticate(USER_TOKEN).await.is_ok());
}

#[tokio::test]
async fn malformed_answer_is_unavailable() {
    let server =
        users_answering(ResponseTemplate::new(200).set_body_string("<html>login</html>")).await;
    let result = identity(&server).authenticate(USER_TOKEN).await;
    assert!(
        matches!(result, Err(Error::DependencyUnavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn known_token_is_served_from_the_cache() {
    let server = users_answering(user_answer("alice")).await;
    let identity = identity(&server);
    let first = identity.authenticate(USER_TOKEN).await.unwrap();
    let second = identity.authenticate(USER_TOKEN).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(requests(&server).await, 1);
    identity.authenticate("another-token").await.unwrap();
    assert_eq!(requests(&server).await, 2, "another token is asked for");
}

#[tokio::test]
async fn refused_token_is_asked_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(user_answer("alice"))
        .mount(&server)
        .await;
    let identity = identity(&server);
    assert_eq!(
        identity.authenticate(USER_TOKEN).await,
        Err(Error::Unauthenticated)
    );
    assert!(identity.authenticate(USER_TOKEN).await.is_ok());
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn member_is_answered_with_the_users_own_token() {
    let server = projects_answering(ResponseTemplate::new(200)).await;
    let member = identity(&server)
        .is_member(&principal(Some(USER_TOKEN)), &project("demo"))
        .await;
    assert_eq!(member, Ok(true));
}

#[tokio::test]
async fn hidden_or_forbidden_project_is_not_membership() {
    for status in [401, 403, 404] {
        let server = projects_answering(ResponseTemplate::new(status)).await;
        let member = identity(&server)
            .is_member(&principal(Some(USER_TOKEN)), &project("demo"))
            .await;
        assert_eq!(member, Ok(false), "{status}");
    }
}

#[tokio::test]
async fn principal_without_a_credential_is_no_member() {
    let server = projects_answering(ResponseTemplate::new(200)).await;
    let member = identity(&server)
        .is_member(&principal(None), &project("demo"))
        .await;
    assert_eq!(member, Ok(false));
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn membership_server_error_or_timeout_is_unavailable() {
    for template in [
        ResponseTemplate::new(502),
        ResponseTemplate::new(200).set_delay(TOO_SLOW),
    ] {
        let server = projects_answering(template).await;
        let member = identity(&server)
            .is_member(&principal(Some(USER_TOKEN)), &project("demo"))
            .await;
        assert!(
            matches!(member, Err(Error::DependencyUnavailable(_))),
            "{member:?}"
        );
    }
}

#[tokio::test]
async fn membership_is_cached_but_not_its_absence() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects/other"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects/demo"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let identity = identity(&server);
    let alice = principal(Some(USER_TOKEN));
    for _ in 0..2 {
        assert_eq!(identity.is_member(&alice, &project("demo")).await, Ok(true));
        assert_eq!(
            identity.is_member(&alice, &project("other")).await,
            Ok(false)
        );
    }
    assert_eq!(requests(&server).await, 3, "demo once, other twice");
    let other_token = principal(Some("another-token"));
    assert_eq!(
        identity.is_member(&other_token, &project("demo")).await,
        Ok(true)
    );
    assert_eq!(requests(&server).await, 4, "another token is asked for");
}
