use super::*;
use crate::error::Error;
use crate::page::{Page, PageRequest};
use crate::ports::OrderFilter;

fn filter(project: ProjectId) -> OrderFilter {
    OrderFilter {
        project,
        status: OrderStatus::Ended,
        region: Some(region()),
    }
}

fn second_page() -> PageRequest {
    PageRequest::parse(Some("2"), Some("10")).unwrap()
}

impl Mocks {
    /// The repository answers exactly `filter` on the second page with one order.
    fn listing(mut self, filter: OrderFilter) -> Self {
        self.orders
            .expect_list()
            .withf(move |asked, page| *asked == filter && *page == second_page())
            .times(1)
            .returning(|_, _| {
                Ok(Page {
                    total: 11,
                    items: vec![consuming_order()],
                })
            });
        self
    }
}

#[tokio::test]
async fn member_lists_with_the_filter_and_page_passed_through() {
    let use_cases = Mocks::new().listing(filter(project())).build();
    let page = use_cases
        .list_orders(&member(), filter(project()), second_page())
        .await
        .unwrap();
    assert_eq!(page.total, 11);
    assert_eq!(page.items, [consuming_order()]);
}

#[tokio::test]
async fn admin_lists_any_project_without_a_membership_check() {
    let mut mocks = Mocks::default();
    mocks.identity.expect_is_member().never();
    let use_cases = mocks.listing(filter(other_project())).build();
    let page = use_cases
        .list_orders(&admin(), filter(other_project()), second_page())
        .await
        .unwrap();
    assert_eq!(page.total, 11);
}

#[tokio::test]
async fn non_member_is_denied_without_listing() {
    let mut mocks = Mocks::new();
    mocks.orders.expect_list().never();
    let error = mocks
        .build()
        .list_orders(&member(), filter(other_project()), second_page())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn store_failure_while_listing_propagates() {
    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_list()
        .returning(|_, _| Err(Error::Unavailable("lost connection".into())));
    let error = mocks
        .build()
        .list_orders(&member(), filter(project()), second_page())
        .await
        .unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
}
