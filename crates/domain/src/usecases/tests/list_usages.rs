use super::*;
use crate::error::Error;
use crate::page::{Page, PageRequest};
use crate::ports::UsageFilter;

fn filter(project: ProjectId) -> UsageFilter {
    UsageFilter {
        project,
        order: Some(order_id()),
        region: Some(region()),
    }
}

fn first_page() -> PageRequest {
    PageRequest::default()
}

fn row() -> Consumption {
    charge_row(
        1,
        "99",
        "2017-01-01T00:00:00Z",
        "2017-02-01T00:00:00Z",
        ConsumptionKind::New,
    )
}

impl Mocks {
    /// The repository answers exactly `filter` on the first page with one row.
    fn listing_usages(mut self, filter: UsageFilter) -> Self {
        self.usages
            .expect_list()
            .withf(move |asked, page| *asked == filter && *page == first_page())
            .times(1)
            .returning(|_, _| {
                Ok(Page {
                    total: 1,
                    items: vec![row()],
                })
            });
        self
    }
}

#[tokio::test]
async fn member_lists_usages_with_the_filter_and_page_passed_through() {
    let use_cases = Mocks::new().listing_usages(filter(project())).build();
    let page = use_cases
        .list_usages(&member(), filter(project()), first_page())
        .await
        .unwrap();
    assert_eq!(
        page,
        Page {
            total: 1,
            items: vec![row()]
        }
    );
}

#[tokio::test]
async fn admin_lists_usages_of_any_project_without_a_membership_check() {
    let mut mocks = Mocks::default();
    mocks.identity.expect_is_member().never();
    let use_cases = mocks.listing_usages(filter(other_project())).build();
    let page = use_cases
        .list_usages(&admin(), filter(other_project()), first_page())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
}

#[tokio::test]
async fn non_member_is_denied_without_listing_usages() {
    let mut mocks = Mocks::new();
    mocks.usages.expect_list().never();
    let error = mocks
        .build()
        .list_usages(&member(), filter(other_project()), first_page())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn store_failure_while_listing_usages_propagates() {
    let mut mocks = Mocks::new();
    mocks
        .usages
        .expect_list()
        .returning(|_, _| Err(Error::Unavailable("lost connection".into())));
    let error = mocks
        .build()
        .list_usages(&member(), filter(project()), first_page())
        .await
        .unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
}
