//! Platform identity: who a token is, project membership, main accounts and
//! sub-accounts, and what is cached.

use std::time::Duration;

use domain::ports::Identity;
use domain::principal::{Credential, Principal};
use domain::Error;
use infra_http::PlatformIdentity;
use wiremock::matchers::{header, method, path, query_param};
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

/// Project `name` as the platform shows it, labelled a sub-account of `main` if given.
fn project_json(name: &str, main: Option<&str>) -> serde_json::Value {
    let mut labels = serde_json::json!({ "openshift.io/requester": "alice" });
    if let Some(main) = main {
        labels["serviceusage.io/main-account"] = main.into();
    }
    serde_json::json!({
        "kind": "Project",
        "apiVersion": "v1",
        "metadata": { "name": name, "uid": "5e1a", "labels": labels },
        "status": { "phase": "Active" },
    })
}

fn project_answer(name: &str, main: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(project_json(name, main))
}

fn project_list(items: Vec<serde_json::Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "kind": "ProjectList",
        "apiVersion": "v1",
        "metadata": {},
        "items": items,
    }))
}

/// A platform whose project list answers the label selector for main account `main`,
/// to the user's token only.
async fn sub_accounts_answering(main: &str, template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects"))
        .and(query_param(
            "labelSelector",
            format!("serviceusage.io/main-account={main}").as_str(),
        ))
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
async fn labelled_project_names_its_main_account() {
    let server = projects_answering(project_answer("demo", Some("acme"))).await;
    let main = identity(&server)
        .main_account(&principal(Some(USER_TOKEN)), &project("demo"))
        .await;
    assert_eq!(main, Ok(Some(project("acme"))));
}

#[tokio::test]
async fn unlabelled_project_has_no_main_account() {
    for answer in [
        project_answer("demo", None),
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"metadata":{"name":"demo"}})),
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"metadata":{"name":"demo","labels":null}})),
    ] {
        let server = projects_answering(answer).await;
        let main = identity(&server)
            .main_account(&principal(Some(USER_TOKEN)), &project("demo"))
            .await;
        assert_eq!(main, Ok(None));
    }
}

#[tokio::test]
async fn hidden_project_has_no_main_account() {
    for status in [401, 403, 404] {
        let server = projects_answering(ResponseTemplate::new(status)).await;
        let main = identity(&server)
            .main_account(&principal(Some(USER_TOKEN)), &project("demo"))
            .await;
        assert_eq!(main, Ok(None), "{status}");
        assert_eq!(requests(&server).await, 1, "a refusal is not retried");
    }
}

#[tokio::test]
async fn label_that_is_no_project_name_or_names_the_project_itself_is_ignored() {
    for label in ["demo", "not a project!", "", "a/b", &"a".repeat(200)] {
        let server = projects_answering(project_answer("demo", Some(label))).await;
        let main = identity(&server)
            .main_account(&principal(Some(USER_TOKEN)), &project("demo"))
            .await;
        assert_eq!(main, Ok(None), "{label:?}");
    }
}

#[tokio::test]
async fn main_account_server_error_or_timeout_is_unavailable_without_the_token() {
    let echoing = serde_json::json!({ "message": format!("token {USER_TOKEN} throttled") });
    for template in [
        ResponseTemplate::new(503).set_body_json(echoing.clone()),
        ResponseTemplate::new(429).set_body_json(echoing),
        project_answer("demo", Some("acme")).set_delay(TOO_SLOW),
    ] {
        let server = projects_answering(template).await;
        let main = identity(&server)
            .main_account(&principal(Some(USER_TOKEN)), &project("demo"))
            .await;
        match main {
            Err(Error::DependencyUnavailable(why)) => {
                assert!(why.contains("main account of demo"), "{why}");
                assert!(!why.contains(USER_TOKEN), "{why}");
            }
            other => panic!("expected DependencyUnavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn main_account_server_error_is_retried() {
    let server = projects_answering(ResponseTemplate::new(503)).await;
    let main = identity(&server)
        .main_account(&principal(Some(USER_TOKEN)), &project("demo"))
        .await;
    assert!(
        matches!(main, Err(Error::DependencyUnavailable(_))),
        "{main:?}"
    );
    assert_eq!(requests(&server).await, 1 + RETRIES as usize);
}

#[tokio::test]
async fn malformed_project_answer_is_unavailable() {
    let server =
        projects_answering(ResponseTemplate::new(200).set_body_string("<html>login</html>")).await;
    let main = identity(&server)
        .main_account(&principal(Some(USER_TOKEN)), &project("demo"))
        .await;
    assert!(
        matches!(&main, Err(Error::DependencyUnavailable(why)) if why.contains("malformed answer")),
        "{main:?}"
    );
}

#[tokio::test]
async fn relation_is_asked_with_the_callers_own_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects/demo"))
        .respond_with(project_answer("demo", Some("acme")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects"))
        .respond_with(project_list(vec![project_json("acme-dev", Some("acme"))]))
        .mount(&server)
        .await;
    let identity = identity(&server);
    let alice = principal(Some(USER_TOKEN));
    identity
        .main_account(&alice, &project("demo"))
        .await
        .unwrap();
    identity
        .sub_accounts(&alice, &project("acme"))
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for request in received {
        let authorization = request.headers.get("Authorization").unwrap();
        assert_eq!(authorization, format!("Bearer {USER_TOKEN}").as_str());
    }
}

#[tokio::test]
async fn sub_accounts_are_the_validly_named_projects_really_labelled_sorted_once_each() {
    let server = sub_accounts_answering(
        "acme",
        project_list(vec![
            project_json("acme-test", Some("acme")),
            project_json("acme-dev", Some("acme")),
            project_json("other-dev", Some("other")),
            project_json("loose", None),
            project_json("not a name!", Some("acme")),
            project_json("acme", Some("acme")),
            project_json("acme-dev", Some("acme")),
            project_json("acme-qa", Some("acme-")),
        ]),
    )
    .await;
    let subs = identity(&server)
        .sub_accounts(&principal(Some(USER_TOKEN)), &project("acme"))
        .await;
    assert_eq!(subs, Ok(vec![project("acme-dev"), project("acme-test")]));
}

#[tokio::test]
async fn sub_accounts_selector_is_sent_percent_encoded() {
    let server = sub_accounts_answering("acme", project_list(Vec::new())).await;
    identity(&server)
        .sub_accounts(&principal(Some(USER_TOKEN)), &project("acme"))
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0].url.query(),
        Some("labelSelector=serviceusage.io%2Fmain-account%3Dacme")
    );
}

#[tokio::test]
async fn empty_or_null_list_is_no_sub_accounts() {
    for answer in [
        project_list(Vec::new()),
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"items": null})),
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"kind": "ProjectList"})),
    ] {
        let server = sub_accounts_answering("acme", answer).await;
        let subs = identity(&server)
            .sub_accounts(&principal(Some(USER_TOKEN)), &project("acme"))
            .await;
        assert_eq!(subs, Ok(Vec::new()));
    }
}

#[tokio::test]
async fn hidden_main_account_has_no_sub_accounts() {
    for status in [401, 403, 404] {
        let server = sub_accounts_answering("acme", ResponseTemplate::new(status)).await;
        let subs = identity(&server)
            .sub_accounts(&principal(Some(USER_TOKEN)), &project("acme"))
            .await;
        assert_eq!(subs, Ok(Vec::new()), "{status}");
        assert_eq!(requests(&server).await, 1, "a refusal is not retried");
    }
}

#[tokio::test]
async fn sub_accounts_server_error_is_unavailable() {
    let server = sub_accounts_answering("acme", ResponseTemplate::new(503)).await;
    let subs = identity(&server)
        .sub_accounts(&principal(Some(USER_TOKEN)), &project("acme"))
        .await;
    assert!(
        matches!(subs, Err(Error::DependencyUnavailable(_))),
        "{subs:?}"
    );
    assert_eq!(requests(&server).await, 1 + RETRIES as usize);
}

#[tokio::test]
async fn malformed_project_list_is_unavailable_without_the_token() {
    for body in [
        "<html>login</html>".to_owned(),
        format!(r#"{{"items":[{{"metadata":{{"name":"x","labels":"{USER_TOKEN}"}}}}]}}"#),
    ] {
        let server =
            sub_accounts_answering("acme", ResponseTemplate::new(200).set_body_string(body)).await;
        let subs = identity(&server)
            .sub_accounts(&principal(Some(USER_TOKEN)), &project("acme"))
            .await;
        match subs {
            Err(Error::DependencyUnavailable(why)) => {
                assert!(why.contains("malformed answer"), "{why}");
                assert!(!why.contains(USER_TOKEN), "{why}");
            }
            other => panic!("expected DependencyUnavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn principal_without_a_credential_learns_no_relation_without_asking() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(project_answer("demo", Some("acme")))
        .mount(&server)
        .await;
    let identity = identity(&server);
    let anonymous = principal(None);
    assert_eq!(
        identity.main_account(&anonymous, &project("demo")).await,
        Ok(None)
    );
    assert_eq!(
        identity.sub_accounts(&anonymous, &project("acme")).await,
        Ok(Vec::new())
    );
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn relation_is_cached_per_token_but_not_a_hidden_project() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects/demo"))
        .respond_with(project_answer("demo", Some("acme")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects/hidden"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oapi/v1/projects"))
        .respond_with(project_list(vec![project_json("acme-dev", Some("acme"))]))
        .mount(&server)
        .await;
    let identity = identity(&server);
    let alice = principal(Some(USER_TOKEN));
    for _ in 0..2 {
        assert_eq!(
            identity.main_account(&alice, &project("demo")).await,
            Ok(Some(project("acme")))
        );
        assert_eq!(
            identity.sub_accounts(&alice, &project("acme")).await,
            Ok(vec![project("acme-dev")])
        );
        assert_eq!(
            identity.main_account(&alice, &project("hidden")).await,
            Ok(None)
        );
    }
    assert_eq!(
        requests(&server).await,
        4,
        "demo and acme's list once, hidden twice"
    );
    let other_token = principal(Some("another-token"));
    identity
        .main_account(&other_token, &project("demo"))
        .await
        .unwrap();
    identity
        .sub_accounts(&other_token, &project("acme"))
        .await
        .unwrap();
    assert_eq!(requests(&server).await, 6, "another token is asked for");
}

#[tokio::test]
async fn shown_project_is_also_a_membership() {
    let server = projects_answering(project_answer("demo", None)).await;
    let identity = identity(&server);
    let alice = principal(Some(USER_TOKEN));
    assert_eq!(
        identity.main_account(&alice, &project("demo")).await,
        Ok(None)
    );
    assert_eq!(identity.is_member(&alice, &project("demo")).await, Ok(true));
    assert_eq!(requests(&server).await, 1);
}
