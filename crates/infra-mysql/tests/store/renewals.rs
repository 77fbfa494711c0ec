//! The renewal store: claims, guarded batch writes, cursors and concurrent runs.

use std::sync::Arc;

use chrono::TimeDelta;

use domain::consumption::{Consumption, ConsumptionKind};
use domain::ids::PlanId;
use domain::order::{Order, OrderStatus};
use domain::payment::RegionScope;
use domain::plan::ChargingMode;
use domain::ports::{ConsumptionRepository, LedgerRepository, OrderRepository, RenewalRepository};
use domain::renewal::{RenewalBatch, RenewalDecision, RenewalOutcome, RenewalQueue, RenewalRules};
use domain::{Error, Money};
use infra_mysql::{ConsumptionStore, OrderStore, RenewalStore};

use crate::common::{
    both_backends, fund, money, opening_uncharged, order, order_id, project, t, OrderExt, TestDb,
};

pub(crate) const PRICE: i64 = 1_000;
pub(crate) const CYCLE: TimeDelta = TimeDelta::days(30);

/// Charges one cycle of [`PRICE`] when the balance covers it, else ends the order at its
/// deadline with a zero end row.
pub(crate) struct OneCycle;

impl RenewalRules for OneCycle {
    fn decide(&self, order: &Order, available: Money) -> RenewalDecision {
        let mut after = order.clone();
        after.last_consume_id = order.last_consume_id + 1;
        let row = |amount: Money, until, kind| Consumption {
            order_id: order.id.clone(),
            consume_id: after.last_consume_id,
            project: order.project.clone(),
            region: order.region.clone(),
            plan_id: order.plan_id.clone(),
            amount,
            time: order.deadline_time,
            covered_until: until,
            kind,
        };
        let (rows, outcome) = if available >= money(PRICE) {
            after.deadline_time = order.deadline_time + CYCLE;
            let rows = vec![row(
                money(PRICE),
                after.deadline_time,
                ConsumptionKind::Renew,
            )];
            (rows, RenewalOutcome::Renewed)
        } else {
            after.status = OrderStatus::Ended;
            after.end_time = Some(order.deadline_time);
            let rows = vec![row(Money::ZERO, order.deadline_time, ConsumptionKind::End)];
            (rows, RenewalOutcome::Ended)
        };
        RenewalDecision {
            before: order.clone(),
            after,
            rows,
            events: Vec::new(),
            outcome,
        }
    }
}

/// [`OneCycle`], except that the decision about `stale` claims the order had one row less.
struct StaleFor(&'static str);

impl RenewalRules for StaleFor {
    fn decide(&self, order: &Order, available: Money) -> RenewalDecision {
        if order.id.as_str() != self.0 {
            return OneCycle.decide(order, available);
        }
        let mut before = order.clone();
        before.last_consume_id -= 1;
        OneCycle.decide(&before, available)
    }
}

pub(crate) fn renewals(db: &TestDb) -> RenewalStore {
    RenewalStore::new(db.db.clone())
}

pub(crate) fn prepaid_consuming() -> RenewalQueue {
    RenewalQueue {
        mode: ChargingMode::Prepaid,
        status: OrderStatus::Consuming,
    }
}

pub(crate) fn batch(limit: u32) -> RenewalBatch {
    RenewalBatch {
        queue: prepaid_consuming(),
        regions: RegionScope::All,
        due_by: t("2026-03-01T00:00:00Z"),
        after: None,
        limit,
    }
}

/// Opens `count` uncharged orders `o-0000`… of `project_id`, deadlines one second apart
/// from 2026-02-01 (all due by [`batch`]'s `due_by`).
pub(crate) async fn seed(db: &TestDb, project_id: &str, prefix: &str, count: usize) -> Vec<Order> {
    let store = OrderStore::new(db.db.clone());
    let mut opened = Vec::with_capacity(count);
    for i in 0..count {
        let mut o = order(&format!("{prefix}-{i:04}")).in_project(project_id);
        o.deadline_time = t("2026-02-01T00:00:00Z") + TimeDelta::seconds(i as i64);
        o.last_consume_id = 0;
        store.open(opening_uncharged(&o)).await.unwrap();
        opened.push(o);
    }
    opened
}

pub(crate) async fn balance_of(db: &TestDb, project_id: &str) -> Money {
    db.ledger()
        .balance(&project(project_id))
        .await
        .unwrap()
        .amount
}

pub(crate) async fn find(db: &TestDb, id: &str) -> Order {
    OrderStore::new(db.db.clone())
        .find(&order_id(id))
        .await
        .unwrap()
        .unwrap()
}

pub(crate) async fn rows_of(db: &TestDb, id: &str) -> Vec<Consumption> {
    ConsumptionStore::new(db.db.clone())
        .for_order(&order_id(id))
        .await
        .unwrap()
}

both_backends!(
    a_batch_charges_debits_numbers_rows_and_moves_the_deadline,
    |db| {
        fund(&db, "p1", 5_000).await;
        let seeded = seed(&db, "p1", "o", 2).await;

        let outcome = renewals(&db)
            .renew_batch(batch(10), Arc::new(OneCycle))
            .await
            .unwrap();

        assert_eq!(outcome.decisions.len(), 2);
        assert!(outcome
            .decisions
            .iter()
            .all(|d| d.outcome == RenewalOutcome::Renewed));
        let last = outcome.next.unwrap();
        assert_eq!(last.order_id.as_str(), "o-0001");
        assert_eq!(
            last.deadline, seeded[1].deadline_time,
            "the deadline as claimed"
        );
        assert_eq!(balance_of(&db, "p1").await, money(5_000 - 2 * PRICE));
        for o in &seeded {
            let stored = find(&db, o.id.as_str()).await;
            assert_eq!(stored.deadline_time, o.deadline_time + CYCLE);
            assert_eq!(stored.last_consume_id, 1);
            assert_eq!(stored.status, OrderStatus::Consuming);
            let rows = rows_of(&db, o.id.as_str()).await;
            assert_eq!(rows.len(), 1);
            assert_eq!((rows[0].consume_id, rows[0].amount), (1, money(PRICE)));
            assert_eq!(rows[0].kind, ConsumptionKind::Renew);
        }

        let again = renewals(&db)
            .renew_batch(batch(10), Arc::new(OneCycle))
            .await
            .unwrap();
        assert_eq!(again.decisions.len(), 0, "nothing is due any more");
        assert_eq!(again.next, None);
    }
);

both_backends!(due_plans_lists_each_plan_of_due_orders_once, |db| {
    seed(&db, "p1", "o", 3).await;
    let mut other = order("x-1");
    other.plan_id = PlanId::parse("plan-y").unwrap();
    other.deadline_time = t("2026-02-10T00:00:00Z");
    OrderStore::new(db.db.clone())
        .open(opening_uncharged(&other))
        .await
        .unwrap();
    let mut later = order("x-2");
    later.plan_id = PlanId::parse("plan-later").unwrap();
    later.deadline_time = t("2026-05-01T00:00:00Z");
    OrderStore::new(db.db.clone())
        .open(opening_uncharged(&later))
        .await
        .unwrap();

    let mut plans = renewals(&db)
        .due_plans(
            prepaid_consuming(),
            t("2026-03-01T00:00:00Z"),
            RegionScope::All,
        )
        .await
        .unwrap();
    plans.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let plans: Vec<&str> = plans.iter().map(PlanId::as_str).collect();
    assert_eq!(plans, ["plan-m", "plan-y"]);
});

both_backends!(the_cursor_pages_through_more_orders_than_the_limit, |db| {
    fund(&db, "p1", 1_000_000).await;
    // Two orders share a deadline, so the id must break the tie across pages.
    let mut seeded = seed(&db, "p1", "o", 7).await;
    let mut twin = order("o-0003b");
    twin.deadline_time = seeded[3].deadline_time;
    OrderStore::new(db.db.clone())
        .open(opening_uncharged(&twin))
        .await
        .unwrap();
    seeded.push(twin);

    let mut claimed = Vec::new();
    let mut request = batch(3);
    let mut batches = 0;
    loop {
        let outcome = renewals(&db)
            .renew_batch(request.clone(), Arc::new(OneCycle))
            .await
            .unwrap();
        let Some(next) = outcome.next else { break };
        batches += 1;
        assert!(outcome.decisions.len() <= 3);
        claimed.extend(outcome.decisions.into_iter().map(|d| d.before.id));
        request.after = Some(next);
    }
    assert_eq!(batches, 3);
    let mut expected: Vec<_> = seeded.iter().map(|o| o.id.clone()).collect();
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let ids: Vec<&str> = claimed.iter().map(|id| id.as_str()).collect();
    assert_eq!(
        ids,
        ["o-0000", "o-0001", "o-0002", "o-0003", "o-0003b", "o-0004", "o-0005", "o-0006"],
        "each once, in (deadline, id) order"
    );
});

both_backends!(a_stale_before_rolls_the_whole_batch_back, |db| {
    fund(&db, "p1", 5_000).await;
    let seeded = seed(&db, "p1", "o", 3).await;
    // The stale decision is the second one: the first one's writes must go too.
    let rules = Arc::new(StaleFor("o-0001"));

    let outcome = renewals(&db).renew_batch(batch(10), rules).await;

    assert!(matches!(outcome, Err(Error::Internal(_))), "{outcome:?}");
    assert_eq!(balance_of(&db, "p1").await, money(5_000));
    for o in &seeded {
        assert_eq!(find(&db, o.id.as_str()).await, *o, "order unchanged");
        assert!(rows_of(&db, o.id.as_str()).await.is_empty());
    }
});

both_backends!(
    orders_of_one_project_share_its_balance_within_a_batch,
    |db| {
        // Enough for two of the three cycles.
        fund(&db, "p1", 2 * PRICE + 500).await;
        seed(&db, "p1", "o", 3).await;

        let outcome = renewals(&db)
            .renew_batch(batch(10), Arc::new(OneCycle))
            .await
            .unwrap();

        let outcomes: Vec<_> = outcome
            .decisions
            .iter()
            .map(|d| d.outcome.clone())
            .collect();
        assert_eq!(
            outcomes,
            [
                RenewalOutcome::Renewed,
                RenewalOutcome::Renewed,
                RenewalOutcome::Ended
            ]
        );
        assert_eq!(balance_of(&db, "p1").await, money(500));
        assert_eq!(find(&db, "o-0002").await.status, OrderStatus::Ended);
    }
);

both_backends!(an_ended_order_frees_its_resource_name, |db| {
    let mut named = order("o-1").named("vol-1");
    named.deadline_time = t("2026-02-01T00:00:00Z");
    let store = OrderStore::new(db.db.clone());
    store.open(opening_uncharged(&named)).await.unwrap();

    let outcome = renewals(&db)
        .renew_batch(batch(10), Arc::new(OneCycle))
        .await
        .unwrap();
    assert_eq!(outcome.decisions[0].outcome, RenewalOutcome::Ended);
    let ended = find(&db, "o-1").await;
    assert_eq!(ended.status, OrderStatus::Ended);
    assert_eq!(ended.end_time, Some(t("2026-02-01T00:00:00Z")));
    assert_eq!(
        ended.resource_name.unwrap().as_str(),
        "vol-1",
        "kept as history"
    );
    let rows = rows_of(&db, "o-1").await;
    assert_eq!(
        (rows[0].kind, rows[0].amount),
        (ConsumptionKind::End, Money::ZERO)
    );

    // The name is free again: a new order may take it.
    store
        .open(opening_uncharged(&order("o-2").named("vol-1")))
        .await
        .unwrap();
});

/// Two runs drain the four queues at once, each batch after batch, as replicas would.
async fn run(store: RenewalStore, limit: u32) -> usize {
    let mut decided = 0;
    for queue in RenewalQueue::ALL {
        let mut request = RenewalBatch {
            queue,
            regions: RegionScope::All,
            due_by: t("2026-03-01T00:00:00Z"),
            after: None,
            limit,
        };
        loop {
            let outcome = store
                .renew_batch(request.clone(), Arc::new(OneCycle))
                .await
                .unwrap();
            decided += outcome.decisions.len();
            let Some(next) = outcome.next else { break };
            request.after = Some(next);
        }
    }
    decided
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_two_concurrent_runs_charge_every_order_exactly_once() {
    let Some(db) = TestDb::mysql("mysql_two_concurrent_runs_charge_every_order_exactly_once")
    else {
        return;
    };
    const PROJECTS: usize = 20;
    const PER_PROJECT: usize = 100;
    const FUNDS: i64 = 1_000_000;
    for p in 0..PROJECTS {
        let project_id = format!("p{p:02}");
        fund(&db, &project_id, FUNDS).await;
        seed(&db, &project_id, &format!("o{p:02}"), PER_PROJECT).await;
    }

    let a = tokio::spawn(run(renewals(&db), 100));
    let b = tokio::spawn(run(renewals(&db), 100));
    let decided = a.await.unwrap() + b.await.unwrap();

    assert_eq!(decided, PROJECTS * PER_PROJECT, "each order decided once");
    for p in 0..PROJECTS {
        let project_id = format!("p{p:02}");
        let spent = PRICE * PER_PROJECT as i64;
        assert_eq!(balance_of(&db, &project_id).await, money(FUNDS - spent));
        for i in 0..PER_PROJECT {
            let id = format!("o{p:02}-{i:04}");
            let rows = rows_of(&db, &id).await;
            assert_eq!(rows.len(), 1, "{id} charged once");
            assert_eq!(find(&db, &id).await.last_consume_id, 1);
        }
    }
}
