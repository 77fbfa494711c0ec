use super::*;
use crate::error::Error;

#[tokio::test]
async fn blank_token_is_unauthenticated_without_asking_the_identity_port() {
    for token in ["", " ", "\t", " \n "] {
        let mut mocks = Mocks::default();
        mocks.identity.expect_authenticate().never();
        let error = mocks.build().authenticate(token).await.unwrap_err();
        assert_eq!(error, Error::Unauthenticated, "{token:?}");
    }
}

#[tokio::test]
async fn token_is_passed_to_the_identity_port_as_given() {
    let mut mocks = Mocks::default();
    mocks
        .identity
        .expect_authenticate()
        .withf(|token| token == "demo-token")
        .times(1)
        .returning(|_| Ok(member()));
    let principal = mocks.build().authenticate("demo-token").await.unwrap();
    assert_eq!(principal, member());
}

#[tokio::test]
async fn unknown_token_is_unauthenticated() {
    let mut mocks = Mocks::default();
    mocks
        .identity
        .expect_authenticate()
        .returning(|_| Err(Error::Unauthenticated));
    let error = mocks.build().authenticate("wrong").await.unwrap_err();
    assert_eq!(error, Error::Unauthenticated);
}

#[tokio::test]
async fn identity_service_unavailable_propagates() {
    let mut mocks = Mocks::default();
    mocks
        .identity
        .expect_authenticate()
        .returning(|_| Err(Error::Unavailable("identity down".into())));
    let error = mocks.build().authenticate("demo-token").await.unwrap_err();
    assert_eq!(error, Error::Unavailable("identity down".into()));
}
