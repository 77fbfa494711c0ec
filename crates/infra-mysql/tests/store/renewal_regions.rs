//! Region scopes: renewal batches, due plans and due orders see only the regions asked for.

use std::sync::Arc;

use chrono::TimeDelta;

use domain::ids::{PlanId, Region};
use domain::order::Order;
use domain::payment::RegionScope;
use domain::ports::{OrderRepository, RenewalRepository};
use domain::renewal::RenewalBatch;
use infra_mysql::OrderStore;

use crate::common::{both_backends, fund, opening_uncharged, order, t, OrderExt, TestDb};
use crate::renewals::{batch, prepaid_consuming, renewals, OneCycle};

fn region(name: &str) -> Region {
    Region::parse(name).unwrap()
}

fn only(names: &[&str]) -> RegionScope {
    RegionScope::Only(names.iter().map(|n| region(n)).collect())
}

fn except(names: &[&str]) -> RegionScope {
    RegionScope::Except(names.iter().map(|n| region(n)).collect())
}

/// Two due orders in each of r1, r2 and r3, deadlines interleaved across the regions, each
/// region on a plan of its own (`plan-r1`, …).
async fn seed_regions(db: &TestDb) {
    let store = OrderStore::new(db.db.clone());
    let mut second = 0;
    for n in 0..2 {
        for r in ["r1", "r2", "r3"] {
            let mut o = order(&format!("{r}-{n}")).in_region(r);
            o.plan_id = PlanId::parse(&format!("plan-{r}")).unwrap();
            o.deadline_time = t("2026-02-01T00:00:00Z") + TimeDelta::seconds(second);
            o.last_consume_id = 0;
            second += 1;
            store.open(opening_uncharged(&o)).await.unwrap();
        }
    }
}

fn in_scope(scope: RegionScope) -> RenewalBatch {
    RenewalBatch {
        regions: scope,
        ..batch(100)
    }
}

fn ids(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|o| o.id.as_str()).collect()
}

async fn renewed(db: &TestDb, scope: RegionScope) -> Vec<String> {
    renewals(db)
        .renew_batch(in_scope(scope), Arc::new(OneCycle))
        .await
        .unwrap()
        .decisions
        .into_iter()
        .map(|d| d.before.id.as_str().to_owned())
        .collect()
}

async fn plans(db: &TestDb, scope: RegionScope) -> Vec<String> {
    let mut plans: Vec<String> = renewals(db)
        .due_plans(prepaid_consuming(), t("2026-03-01T00:00:00Z"), scope)
        .await
        .unwrap()
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    plans.sort();
    plans
}

both_backends!(a_batch_limited_to_regions_claims_only_theirs, |db| {
    fund(&db, "p1", 1_000_000).await;
    seed_regions(&db).await;
    assert_eq!(
        renewed(&db, only(&["r1", "r3"])).await,
        ["r1-0", "r3-0", "r1-1", "r3-1"],
        "in (deadline, id) order"
    );
    assert_eq!(renewed(&db, RegionScope::All).await, ["r2-0", "r2-1"]);
});

both_backends!(a_batch_excepting_regions_claims_the_others, |db| {
    fund(&db, "p1", 1_000_000).await;
    seed_regions(&db).await;
    assert_eq!(
        renewed(&db, except(&["r2"])).await,
        ["r1-0", "r3-0", "r1-1", "r3-1"]
    );
});

both_backends!(
    an_empty_only_claims_nothing_and_an_empty_except_everything,
    |db| {
        fund(&db, "p1", 1_000_000).await;
        seed_regions(&db).await;
        let nothing = renewals(&db)
            .renew_batch(in_scope(only(&[])), Arc::new(OneCycle))
            .await
            .unwrap();
        assert!(nothing.decisions.is_empty());
        assert_eq!(nothing.next, None);
        assert_eq!(renewed(&db, except(&[])).await.len(), 6);
    }
);

both_backends!(due_plans_follow_the_region_scope, |db| {
    seed_regions(&db).await;
    assert_eq!(
        plans(&db, RegionScope::All).await,
        ["plan-r1", "plan-r2", "plan-r3"]
    );
    assert_eq!(plans(&db, only(&["r2"])).await, ["plan-r2"]);
    assert_eq!(plans(&db, except(&["r2"])).await, ["plan-r1", "plan-r3"]);
    assert!(plans(&db, only(&[])).await.is_empty());
    assert_eq!(plans(&db, except(&[])).await.len(), 3);
});

both_backends!(due_orders_follow_the_region_scope, |db| {
    seed_regions(&db).await;
    let due = |scope| async { renewals(&db).due_orders(in_scope(scope)).await.unwrap() };
    assert_eq!(ids(&due(only(&["r3"])).await), ["r3-0", "r3-1"]);
    assert_eq!(
        ids(&due(except(&["r3"])).await),
        ["r1-0", "r2-0", "r1-1", "r2-1"]
    );
    assert!(due(only(&[])).await.is_empty());
    assert_eq!(due(except(&[])).await.len(), 6);
    assert_eq!(due(RegionScope::All).await.len(), 6);
});
