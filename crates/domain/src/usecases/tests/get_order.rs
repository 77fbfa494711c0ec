use super::*;
use crate::error::Error;

#[tokio::test]
async fn member_gets_an_order_of_their_project() {
    let use_cases = Mocks::new().holding(consuming_order()).build();
    let order = use_cases
        .get_order(&member(), &project(), &order_id())
        .await
        .unwrap();
    assert_eq!(order, consuming_order());
}

#[tokio::test]
async fn admin_gets_an_order_without_a_membership_check() {
    let mut mocks = Mocks::default();
    mocks.identity.expect_is_member().never();
    let use_cases = mocks.holding(consuming_order()).build();
    let order = use_cases
        .get_order(&admin(), &project(), &order_id())
        .await
        .unwrap();
    assert_eq!(order, consuming_order());
}

#[tokio::test]
async fn order_of_another_project_is_not_found() {
    let order = Order {
        project: other_project(),
        ..consuming_order()
    };
    let use_cases = Mocks::new().holding(order).build();
    let error = use_cases
        .get_order(&member(), &project(), &order_id())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn order_of_another_project_is_not_found_even_for_an_admin_naming_the_wrong_project() {
    let use_cases = Mocks::new().holding(consuming_order()).build();
    let error = use_cases
        .get_order(&admin(), &other_project(), &order_id())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn missing_order_is_not_found() {
    let use_cases = Mocks::new().holding(consuming_order()).build();
    let missing = OrderId::parse("missing").unwrap();
    let error = use_cases
        .get_order(&member(), &project(), &missing)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn non_member_is_denied_without_reading_the_order() {
    let mut mocks = Mocks::new();
    mocks.orders.expect_find().never();
    let error = mocks
        .build()
        .get_order(&member(), &other_project(), &order_id())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn store_failure_while_reading_propagates() {
    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_find()
        .returning(|_| Err(Error::Unavailable("lost connection".into())));
    let error = mocks
        .build()
        .get_order(&member(), &project(), &order_id())
        .await
        .unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
}
