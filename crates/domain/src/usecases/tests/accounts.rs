//! Main accounts and sub-accounts: a main account's members read its sub-accounts' orders,
//! usages, records and balances; a sub-account reads only its own; nobody writes through
//! the relation.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeDelta;

use super::*;
use crate::account::{AccountPage, AccountSelection, AccountType, SubAccounts};
use crate::error::Error;
use crate::page::PageRequest;
use crate::ports::{Identity, OrderFilter, RechargeFilter, UsageFilter};
use crate::principal::Principal;

const MAIN: &str = "acme";
const SUBS: [&str; 2] = ["acme-dev", "acme-test"];
const FOREIGN: &str = "other";

fn id(name: &str) -> ProjectId {
    ProjectId::parse(name).unwrap()
}

/// Members by user, and the relation of the embedded identity.
struct Family {
    members: HashMap<String, Vec<ProjectId>>,
    relation: SubAccounts,
}

#[async_trait]
impl Identity for Family {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        Ok(principal(token))
    }

    async fn is_member(&self, principal: &Principal, project: &ProjectId) -> Result<bool> {
        Ok(self
            .members
            .get(principal.user.as_str())
            .is_some_and(|projects| projects.contains(project)))
    }

    async fn main_account(
        &self,
        _principal: &Principal,
        project: &ProjectId,
    ) -> Result<Option<ProjectId>> {
        Ok(self.relation.main_account(project).cloned())
    }

    async fn sub_accounts(
        &self,
        _principal: &Principal,
        project: &ProjectId,
    ) -> Result<Vec<ProjectId>> {
        Ok(self.relation.sub_accounts(project).to_vec())
    }
}

/// Three orders in each project of the family and in a foreign one, an hour apart and
/// interleaved (so a merged list alternates projects); then the family's identity:
/// `owner` in the main account, `dev` and `tester` in one sub-account each, `stranger`
/// in the foreign project.
async fn family() -> Harness {
    let mut harness = harness();
    let projects = [MAIN, SUBS[0], SUBS[1], FOREIGN];
    for project in projects {
        harness.store.fund(&id(project), money("1000"));
    }
    for round in 0..3 {
        for project in projects {
            let request = CreateOrderRequest {
                project: id(project),
                ..named(&format!("vol-{LEDGER}"), &format!("disk-{round}"))
            };
            create(&harness, request).await.unwrap();
            harness.clock.advance(TimeDelta::hours(1));
        }
    }
    let members = [
        ("owner", MAIN),
        ("dev", SUBS[0]),
        ("tester", SUBS[1]),
        ("stranger", FOREIGN),
    ]
    .into_iter()
    .map(|(user, project)| (user.to_owned(), vec![id(project)]))
    .collect();
    let relation = SubAccounts::new(vec![(id(MAIN), SUBS.map(id).to_vec())]).unwrap();
    harness.usecases.ports.identity = Arc::new(Family { members, relation });
    harness
}

fn everything(project: &str) -> OrderFilter {
    OrderFilter {
        status: None,
        ..OrderFilter::in_status(id(project), crate::order::OrderStatus::Consuming)
    }
}

async fn orders(
    harness: &Harness,
    user: &str,
    project: &str,
    accounts: AccountSelection,
    page: PageRequest,
) -> Result<AccountPage<Order>> {
    harness
        .usecases
        .list_orders(&principal(user), everything(project), accounts, page)
        .await
}

fn owners(page: &AccountPage<Order>) -> Vec<String> {
    page.page
        .items
        .iter()
        .map(|o| o.project.to_string())
        .collect()
}

fn denied<T: std::fmt::Debug>(result: Result<T>) {
    assert!(
        matches!(result, Err(Error::PermissionDenied(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_main_accounts_member_lists_its_sub_accounts_newest_first_labelled() {
    let harness = family().await;
    let all = orders(
        &harness,
        "owner",
        MAIN,
        AccountSelection::All,
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(all.view.account_type, AccountType::Main);
    assert_eq!((all.page.total, all.page.exact), (9, true));
    let newest_first: Vec<String> = ["acme-test", "acme-dev", "acme"]
        .repeat(3)
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(owners(&all), newest_first);
    assert!(all
        .page
        .items
        .windows(2)
        .all(|w| w[0].start_time > w[1].start_time));
    for order in &all.page.items {
        let own = order.project == id(MAIN);
        assert_eq!(all.view.is_self(&order.project), own);
        let expected = if own {
            AccountType::Main
        } else {
            AccountType::Sub
        };
        assert_eq!(all.view.account_type_of(&order.project), expected);
    }

    let subs = orders(
        &harness,
        "owner",
        MAIN,
        AccountSelection::Sub,
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(subs.page.total, 6);
    assert!(owners(&subs).iter().all(|p| p != MAIN));
    for selection in [AccountSelection::Own, AccountSelection::Main] {
        let own = orders(&harness, "owner", MAIN, selection, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(owners(&own), vec![MAIN.to_owned(); 3], "{selection:?}");
    }

    for offset in 0..=10 {
        for limit in 1..=4 {
            let window = orders(
                &harness,
                "owner",
                MAIN,
                AccountSelection::All,
                PageRequest::window(Some(&offset.to_string()), Some(&limit.to_string())).unwrap(),
            )
            .await
            .unwrap();
            let expected: Vec<_> = all
                .page
                .items
                .iter()
                .skip(offset)
                .take(limit)
                .map(|o| o.id.clone())
                .collect();
            let got: Vec<_> = window.page.items.iter().map(|o| o.id.clone()).collect();
            assert_eq!(got, expected, "offset {offset} limit {limit}");
        }
    }
}

#[tokio::test]
async fn a_sub_account_sees_only_its_own_whatever_it_asks() {
    let harness = family().await;
    for selection in [
        AccountSelection::Own,
        AccountSelection::Sub,
        AccountSelection::All,
    ] {
        let own = orders(&harness, "dev", SUBS[0], selection, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(own.view.account_type, AccountType::Sub);
        assert_eq!(owners(&own), vec![SUBS[0].to_owned(); 3], "{selection:?}");
    }
    let main = orders(
        &harness,
        "dev",
        SUBS[0],
        AccountSelection::Main,
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert!(main.page.items.is_empty());
    assert_eq!(main.page.total, 0);
    for project in [MAIN, SUBS[1], FOREIGN] {
        for selection in [AccountSelection::Own, AccountSelection::All] {
            denied(orders(&harness, "dev", project, selection, PageRequest::default()).await);
        }
    }
}

#[tokio::test]
async fn a_main_accounts_member_reads_a_sub_account_directly_but_never_writes() {
    let harness = family().await;
    let owner = principal("owner");
    let sub = id(SUBS[0]);
    let dev_orders = orders(
        &harness,
        "owner",
        SUBS[0],
        AccountSelection::Own,
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(dev_orders.view.account_type, AccountType::Sub);
    let order = dev_orders.page.items[0].clone();
    let read = harness.usecases.get_order(&owner, &sub, &order.id).await;
    assert_eq!(read.unwrap().id, order.id);
    let (view, record) = harness
        .usecases
        .get_record(&owner, &sub, &order.id)
        .await
        .unwrap();
    assert_eq!(record.order.id, order.id);
    assert_eq!(
        (view.account_type, view.is_self(&sub)),
        (AccountType::Sub, true)
    );
    assert_eq!(
        harness
            .usecases
            .get_balance(&owner, &sub)
            .await
            .unwrap()
            .balance
            .project,
        sub
    );
    harness
        .usecases
        .list_recharges(
            &owner,
            &RechargeFilter::of(sub.clone()),
            PageRequest::default(),
        )
        .await
        .unwrap();

    let cancel = CancelOrderRequest {
        project: sub.clone(),
        order_id: order.id.clone(),
        idempotency: None,
    };
    denied(harness.usecases.cancel_order(&owner, cancel).await);
    let open = CreateOrderRequest {
        project: sub.clone(),
        ..named(&format!("vol-{LEDGER}"), "disk-9")
    };
    denied(harness.usecases.create_order(&owner, open).await);
    let theirs: Vec<Order> = harness
        .store
        .orders()
        .into_iter()
        .filter(|o| o.project == sub)
        .collect();
    assert_eq!(theirs.len(), 3);
    assert!(theirs.iter().all(|o| o.end_time.is_none()));
}

#[tokio::test]
async fn siblings_and_strangers_read_nothing_of_the_family() {
    let harness = family().await;
    let main_order = orders(
        &harness,
        "owner",
        MAIN,
        AccountSelection::Own,
        PageRequest::default(),
    )
    .await
    .unwrap()
    .page
    .items[0]
        .clone();
    for user in ["tester", "stranger"] {
        let caller = principal(user);
        for project in [MAIN, SUBS[0]] {
            let project = id(project);
            denied(harness.usecases.get_balance(&caller, &project).await);
            denied(
                harness
                    .usecases
                    .list_usages(
                        &caller,
                        UsageFilter {
                            project: project.clone(),
                            order: None,
                            region: None,
                        },
                        AccountSelection::All,
                        PageRequest::default(),
                    )
                    .await,
            );
            denied(
                harness
                    .usecases
                    .list_records(
                        &caller,
                        everything(project.as_str()),
                        AccountSelection::Sub,
                        PageRequest::default(),
                    )
                    .await,
            );
        }
        denied(
            harness
                .usecases
                .get_order(&caller, &id(MAIN), &main_order.id)
                .await,
        );
    }
}

#[tokio::test]
async fn usages_and_records_span_the_family_like_orders() {
    let harness = family().await;
    let owner = principal("owner");
    let usages = harness
        .usecases
        .list_usages(
            &owner,
            UsageFilter {
                project: id(MAIN),
                order: None,
                region: None,
            },
            AccountSelection::All,
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(usages.page.total, 9);
    let mut projects: Vec<String> = usages
        .page
        .items
        .iter()
        .map(|row| row.project.to_string())
        .collect();
    assert!(usages.page.items.windows(2).all(|w| w[0].time >= w[1].time));
    projects.sort();
    projects.dedup();
    assert_eq!(projects, ["acme", "acme-dev", "acme-test"]);

    let records = harness
        .usecases
        .list_records(
            &owner,
            everything(MAIN),
            AccountSelection::Sub,
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(records.page.total, 6);
    assert!(records
        .page
        .items
        .iter()
        .all(|r| r.order.project != id(MAIN) && r.rows.len() == 1));
}

#[tokio::test]
async fn the_platform_admin_reads_any_family_as_its_main_account_would() {
    let harness = family().await;
    let all = orders(
        &harness,
        "admin",
        MAIN,
        AccountSelection::All,
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(all.page.total, 9);
    assert_eq!(all.view.account_type, AccountType::Main);
}
