use super::*;
use crate::error::Error;

#[tokio::test]
async fn plans_are_listed_for_the_asked_region() {
    let mut mocks = Mocks::default();
    mocks
        .plans
        .expect_list()
        .withf(|asked| *asked == Some(region()))
        .times(1)
        .returning(|_| Ok(vec![prepaid_plan()]));
    let plans = mocks.build().list_plans(Some(region())).await.unwrap();
    assert_eq!(plans, [prepaid_plan()]);
}

#[tokio::test]
async fn plan_catalog_unavailable_propagates_from_listing() {
    let mut mocks = Mocks::default();
    mocks
        .plans
        .expect_list()
        .returning(|_| Err(Error::PlanCatalogUnavailable("timeout".into())));
    let error = mocks.build().list_plans(None).await.unwrap_err();
    assert_eq!(error, Error::PlanCatalogUnavailable("timeout".into()));
}
