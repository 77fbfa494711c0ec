//! The order list's filters on both backends, against the domain's own rule
//! ([`OrderFilter::matches`]) over the same orders: every combination of status, region,
//! plan type, order type, creation range and search word, paged both ways.

use chrono::{DateTime, Utc};
use domain::change::ChangeBuilder;
use domain::filter::{SearchWord, TimeRange};
use domain::ids::{PlanId, PlanType};
use domain::order::{Order, OrderStatus};
use domain::order_type::OrderType;
use domain::page::{PageRequest, COUNT_CAP};
use domain::ports::{OrderFilter, OrderRepository};
use infra_mysql::OrderStore;

use crate::common::{both_backends, commit, order, order_id, project, region, t, OrderExt};

/// Orders of every kind in project p1 (and one of p2 that no filter of p1 may return),
/// written in one change.
fn orders() -> Vec<Order> {
    let statuses = [
        OrderStatus::Consuming,
        OrderStatus::Ended,
        OrderStatus::Pending,
    ];
    let mut all = Vec::new();
    for n in 0..24_u32 {
        let mut o = order(&format!("o-{n:02}"))
            .started(&format!("2026-12-{:02}T00:00:00Z", n % 12 + 1))
            .uncharged();
        o.status = statuses[(n % 3) as usize];
        if n % 2 == 1 {
            o = o.in_region("r2");
        }
        if n % 4 >= 2 {
            o = o.of_type("bsi");
        }
        if n % 5 == 0 {
            o.replaces = Some(order_id(&format!("gone-{n}")));
        }
        o.plan_id = PlanId::parse(match n % 3 {
            0 => "pg_small",
            1 => "pgasmall",
            _ => "vol-m",
        })
        .expect("plan id");
        if n % 4 == 1 {
            o = o.named(&format!("pg-data-{n}"));
        }
        all.push(o);
    }
    all.push(order("o-other").in_project("p2").uncharged());
    all
}

async fn write(db: &crate::common::TestDb, orders: &[Order]) {
    let mut change = ChangeBuilder::new();
    for o in orders {
        change.insert(o.clone());
    }
    commit(db, change).await.expect("insert");
}

fn word(text: &str) -> SearchWord {
    SearchWord::parse(text).expect("word")
}

fn time(text: &str) -> DateTime<Utc> {
    t(text)
}

/// Every filter this test asks the store for.
fn filters() -> Vec<OrderFilter> {
    let statuses = [None, Some(OrderStatus::Consuming), Some(OrderStatus::Ended)];
    let regions = [None, Some(region("r1")), Some(region("r2"))];
    let types = [
        None,
        Some(PlanType::parse("volume").expect("type")),
        Some(PlanType::parse("bsi").expect("type")),
    ];
    let order_types = [None, Some(OrderType::New), Some(OrderType::Switch)];
    let ranges = [
        TimeRange::default(),
        TimeRange {
            start: Some(time("2026-12-03T00:00:00Z")),
            end: Some(time("2026-12-09T00:00:00Z")),
        },
        TimeRange {
            start: Some(time("2026-12-11T00:00:00Z")),
            end: None,
        },
    ];
    let searches = [
        None,
        Some("pg_"),
        Some("pg"),
        Some("o-1"),
        Some("%"),
        Some("数"),
    ];
    let mut all = Vec::new();
    for status in statuses {
        for region in &regions {
            for plan_type in &types {
                for order_type in order_types {
                    for created in ranges {
                        for search in searches {
                            all.push(OrderFilter {
                                project: project("p1"),
                                status,
                                region: region.clone(),
                                plan_type: plan_type.clone(),
                                order_type,
                                created,
                                search: search.map(word),
                            });
                        }
                    }
                }
            }
        }
    }
    all
}

/// What the filter should list: the domain's rule, newest start first, ties by the later
/// written (the orders are written in vector order).
fn expected(orders: &[Order], filter: &OrderFilter) -> Vec<String> {
    let mut picked: Vec<(usize, &Order)> = orders
        .iter()
        .enumerate()
        .filter(|(_, o)| filter.matches(o))
        .collect();
    picked.sort_by(|(ia, a), (ib, b)| b.start_time.cmp(&a.start_time).then(ib.cmp(ia)));
    picked
        .into_iter()
        .map(|(_, o)| o.id.as_str().to_owned())
        .collect()
}

both_backends!(
    every_filter_combination_lists_what_the_domain_rule_picks,
    |db| {
        let all = orders();
        write(&db, &all).await;
        let store = OrderStore::new(db.db.clone());
        let whole = PageRequest::window(None, Some("1000")).expect("window");
        let mut nonempty = 0;
        for filter in filters() {
            let want = expected(&all, &filter);
            let listed = store.list(filter.clone(), whole).await.expect("list");
            let got: Vec<String> = listed
                .items
                .iter()
                .map(|o| o.id.as_str().to_owned())
                .collect();
            assert_eq!(got, want, "{filter:?}");
            assert_eq!(listed.total, want.len() as u64, "{filter:?}");
            assert!(listed.exact, "{filter:?}");
            if !want.is_empty() {
                nonempty += 1;
            }
        }
        assert!(
            nonempty > 100,
            "the filters should pick something often: {nonempty}"
        );
    }
);

both_backends!(a_search_word_is_a_literal_prefix, |db| {
    let all = orders();
    write(&db, &all).await;
    let store = OrderStore::new(db.db.clone());
    let every = |search: &str| OrderFilter {
        status: None,
        search: Some(word(search)),
        ..OrderFilter::in_status(project("p1"), OrderStatus::Consuming)
    };
    let whole = PageRequest::window(None, Some("1000")).expect("window");
    // `_` is no wildcard: "pg_" finds plan pg_small, never pgasmall.
    let listed = store.list(every("pg_"), whole).await.expect("list");
    assert!(!listed.items.is_empty());
    assert!(listed
        .items
        .iter()
        .all(|o| o.plan_id.as_str() == "pg_small"));
    // `%` is no wildcard either, and nothing holds it.
    assert_eq!(store.list(every("%"), whole).await.expect("list").total, 0);
    // Case counts, as ids are case-sensitive.
    assert_eq!(store.list(every("PG"), whole).await.expect("list").total, 0);
    // A resource name's prefix.
    let named = store.list(every("pg-data-1"), whole).await.expect("list");
    let mut ids: Vec<&str> = named.items.iter().map(|o| o.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["o-01", "o-13", "o-17"]);
});

both_backends!(offset_and_limit_page_a_filtered_list_cleanly, |db| {
    let all = orders();
    write(&db, &all).await;
    let store = OrderStore::new(db.db.clone());
    for filter in [
        OrderFilter {
            status: None,
            ..OrderFilter::in_status(project("p1"), OrderStatus::Consuming)
        },
        OrderFilter {
            status: None,
            search: Some(word("o-")),
            ..OrderFilter::in_status(project("p1"), OrderStatus::Consuming)
        },
    ] {
        let want = expected(&all, &filter);
        let mut seen = Vec::new();
        for offset in (0..30).step_by(7) {
            let window = PageRequest::window(Some(&offset.to_string()), Some("7")).expect("window");
            let listed = store.list(filter.clone(), window).await.expect("list");
            assert_eq!(listed.total, want.len() as u64, "{filter:?} at {offset}");
            seen.extend(listed.items.iter().map(|o| o.id.as_str().to_owned()));
        }
        assert_eq!(seen, want, "{filter:?}");
    }
});

both_backends!(a_list_no_total_covers_is_counted_up_to_the_cap, |db| {
    let many: Vec<Order> = (0..=COUNT_CAP)
        .map(|n| {
            order(&format!("m-{n:04}"))
                .started("2026-12-01T00:00:00Z")
                .uncharged()
        })
        .collect();
    write(&db, &many).await;
    let store = OrderStore::new(db.db.clone());
    let counted = OrderStore::list(
        &store,
        OrderFilter::in_status(project("p1"), OrderStatus::Consuming),
        PageRequest::default(),
    )
    .await
    .expect("list");
    assert_eq!((counted.total, counted.exact), (COUNT_CAP + 1, true));

    let searched = OrderFilter {
        search: Some(word("m-")),
        ..OrderFilter::in_status(project("p1"), OrderStatus::Consuming)
    };
    let first = store
        .list(searched.clone(), PageRequest::default())
        .await
        .expect("list");
    assert_eq!(
        (first.total, first.exact, first.items.len()),
        (COUNT_CAP, false, 30)
    );
    // The last row, past the cap: still served, the total still a lower bound.
    let last = store
        .list(
            searched.clone(),
            PageRequest::window(Some(&COUNT_CAP.to_string()), Some("10")).expect("window"),
        )
        .await
        .expect("list");
    assert_eq!(
        (last.total, last.exact, last.items.len()),
        (COUNT_CAP, false, 1)
    );
    // A search that picks fewer than the cap is exact.
    let few = OrderFilter {
        search: Some(word("m-000")),
        ..searched
    };
    let listed = store.list(few, PageRequest::default()).await.expect("list");
    assert_eq!((listed.total, listed.exact), (10, true));
});
