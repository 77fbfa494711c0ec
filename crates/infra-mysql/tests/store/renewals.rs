//! The renewal engine's store: claims, cursors, batch writes through the change writer,
//! failure isolation, manual renewals, and runs that share (or fight over) the work.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use domain::consumption::{Consumption, ConsumptionKind};
use domain::idempotency::{Idempotency, IdempotencyKey, IdempotencyRecord};
use domain::ids::{PlanId, ProjectId};
use domain::notification::NotificationKind;
use domain::order::{Order, OrderStatus};
use domain::payment::{PaymentId, PaymentState};
use domain::plan::ChargingMode;
use domain::ports::{
    ConsumptionRepository, NotificationFilter, NotificationRepository, OrderRepository,
    PaymentRepository, RenewalRepository,
};
use domain::renewal::{
    RenewalBatch, RenewalDecision, RenewalOutcome, RenewalQueue, RenewalRules, RenewalRun,
};
use domain::{Error, Money};
use infra_mysql::{ConsumptionStore, NotificationStore, OrderStore, PaymentStore, RenewalStore};

use crate::common::{
    balance_of, both_backends, fund, money, open, order, order_id, page, project, run_at, t,
    OrderExt, TestDb, PRICE,
};

/// The run's instant: every seeded order's deadline (from 2026-02-01) is passed.
const NOW: &str = "2026-02-01T12:00:00Z";
/// What one cycle of a seeded order costs: two units of the plan.
const CYCLE_PRICE: i64 = 2 * PRICE;

fn now() -> DateTime<Utc> {
    t(NOW)
}

pub(crate) fn renewals(db: &TestDb) -> RenewalStore {
    RenewalStore::new(db.db.clone(), Vec::new())
}

pub(crate) fn prepaid_consuming() -> RenewalQueue {
    RenewalQueue {
        mode: ChargingMode::Prepaid,
        status: OrderStatus::Consuming,
    }
}

/// A batch of the prepaid consuming queue as a run at [`NOW`] asks for it.
pub(crate) fn batch(limit: u32) -> RenewalBatch {
    let queue = prepaid_consuming();
    RenewalBatch {
        queue,
        due_by: queue.due_by(now(), &Default::default()),
        after: None,
        limit,
    }
}

/// Opens `count` orders `{prefix}-0000`… of `project_id`, started a month before their
/// deadlines, which are one second apart from 2026-02-01 (all due at [`NOW`]), their
/// first cycles free.
pub(crate) async fn seed(db: &TestDb, project_id: &str, prefix: &str, count: usize) -> Vec<Order> {
    let mut opened = Vec::with_capacity(count);
    for i in 0..count {
        let offset = TimeDelta::seconds(i64::try_from(i).unwrap());
        let mut o = order(&format!("{prefix}-{i:04}")).in_project(project_id);
        o.start_time = t("2026-01-01T00:00:00Z") + offset;
        o.deadline_time = t("2026-02-01T00:00:00Z") + offset;
        open(db, &o, 0).await;
        opened.push(o);
    }
    opened
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

fn outcomes(decisions: &[RenewalDecision]) -> Vec<RenewalOutcome> {
    decisions.iter().map(|d| d.outcome.clone()).collect()
}

fn claimed(decisions: &[RenewalDecision]) -> Vec<&str> {
    decisions.iter().map(|d| d.before.id.as_str()).collect()
}

// ---- a batch ----

both_backends!(
    a_batch_charges_the_due_cycle_with_its_row_payment_debit_and_event,
    |db| {
        fund(&db, "p1", 10_000).await;
        let seeded = seed(&db, "p1", "o", 2).await;

        let outcome = renewals(&db)
            .renew_batch(batch(10), run_at(now()))
            .await
            .unwrap();

        assert_eq!(
            outcomes(&outcome.decisions),
            [RenewalOutcome::Renewed, RenewalOutcome::Renewed]
        );
        assert!(outcome.failed.is_empty());
        let next = outcome.next.unwrap();
        assert_eq!(next.order_id.as_str(), "o-0001");
        assert_eq!(
            next.deadline, seeded[1].deadline_time,
            "the deadline as claimed"
        );
        assert_eq!(balance_of(&db, "p1").await, money(10_000 - 2 * CYCLE_PRICE));
        for (o, decision) in seeded.iter().zip(&outcome.decisions) {
            let stored = find(&db, o.id.as_str()).await;
            assert_eq!(stored, decision.after, "written as decided");
            assert_eq!(stored.deadline_time, o.deadline_time + TimeDelta::days(28));
            assert_eq!(
                (stored.last_consume_id, stored.payment_seq, stored.version),
                (2, 2, 1)
            );
            let rows = rows_of(&db, o.id.as_str()).await;
            assert_eq!(rows[1], decision.rows[0]);
            assert_eq!(
                (rows[1].amount, rows[1].kind),
                (money(CYCLE_PRICE), ConsumptionKind::Renew)
            );
            let payment = PaymentStore::new(db.db.clone())
                .find(&PaymentId {
                    order: o.id.clone(),
                    seq: 2,
                })
                .await
                .unwrap()
                .unwrap();
            assert_eq!(payment, decision.payments[0]);
            assert_eq!(payment.state, PaymentState::Settled);
        }
        let events = NotificationStore::new(db.db.clone())
            .list(
                NotificationFilter {
                    project: project("p1"),
                    order: None,
                },
                page(1, 10),
            )
            .await
            .unwrap();
        assert_eq!(events.total, 2);
        assert!(events
            .items
            .iter()
            .all(|e| e.kind == NotificationKind::OrderRenewed));

        let again = renewals(&db)
            .renew_batch(batch(10), run_at(now()))
            .await
            .unwrap();
        assert!(again.decisions.is_empty(), "nothing is due any more");
        assert_eq!(again.next, None);
    }
);

both_backends!(due_plans_lists_each_plan_of_claimable_orders_once, |db| {
    seed(&db, "p1", "o", 3).await;
    let mut other = order("x-1").due_at(t("2026-02-01T10:00:00Z"));
    other.plan_id = PlanId::parse("plan-y").unwrap();
    open(&db, &other, 0).await;
    let mut later = order("x-2").due_at(t("2026-05-01T00:00:00Z"));
    later.plan_id = PlanId::parse("plan-later").unwrap();
    open(&db, &later, 0).await;
    let mut held = order("x-3").due_at(t("2026-02-01T10:00:00Z"));
    held.plan_id = PlanId::parse("plan-held").unwrap();
    held.awaiting_payment = Some(1);
    open(&db, &held, 0).await;

    let mut plans = renewals(&db)
        .due_plans(prepaid_consuming(), batch(1).due_by)
        .await
        .unwrap();
    plans.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let plans: Vec<&str> = plans.iter().map(PlanId::as_str).collect();
    assert_eq!(plans, ["plan-m", "plan-y"]);
});

both_backends!(the_cursor_pages_through_more_orders_than_the_limit, |db| {
    fund(&db, "p1", 1_000_000).await;
    // Two orders share a deadline, so the id must break the tie across pages.
    let seeded = seed(&db, "p1", "o", 7).await;
    let mut twin = order("o-0003b");
    twin.start_time = seeded[3].start_time;
    twin.deadline_time = seeded[3].deadline_time;
    open(&db, &twin, 0).await;

    let mut seen = Vec::new();
    let mut request = batch(3);
    let mut batches = 0;
    loop {
        let outcome = renewals(&db)
            .renew_batch(request.clone(), run_at(now()))
            .await
            .unwrap();
        let Some(next) = outcome.next else { break };
        batches += 1;
        assert!(outcome.decisions.len() <= 3);
        seen.extend(outcome.decisions.into_iter().map(|d| d.before.id));
        request.after = Some(next);
    }
    assert_eq!(batches, 3);
    let ids: Vec<&str> = seen.iter().map(|id| id.as_str()).collect();
    assert_eq!(
        ids,
        ["o-0000", "o-0001", "o-0002", "o-0003", "o-0003b", "o-0004", "o-0005", "o-0006"],
        "each once, in (deadline, id) order"
    );
});

both_backends!(
    orders_of_one_project_share_its_balance_within_a_batch,
    |db| {
        // Enough for two of the three cycles.
        fund(&db, "p1", 2 * CYCLE_PRICE + 500).await;
        seed(&db, "p1", "o", 3).await;

        let outcome = renewals(&db)
            .renew_batch(batch(10), run_at(now()))
            .await
            .unwrap();

        assert_eq!(
            outcomes(&outcome.decisions),
            [
                RenewalOutcome::Renewed,
                RenewalOutcome::Renewed,
                RenewalOutcome::Unpaid
            ]
        );
        assert_eq!(balance_of(&db, "p1").await, money(500));
        let unpaid = find(&db, "o-0002").await;
        assert_eq!(unpaid.status, OrderStatus::Ending, "in its grace period");
        assert_eq!(unpaid.last_warned_at, Some(now()));
    }
);

both_backends!(orders_a_payment_or_a_switch_holds_are_not_claimed, |db| {
    fund(&db, "p1", 100_000).await;
    let seeded = seed(&db, "p1", "o", 3).await;
    let mut waiting = order("w-1").due_at(seeded[0].deadline_time);
    waiting.awaiting_payment = Some(2);
    waiting.payment_seq = 2;
    open(&db, &waiting, 0).await;
    let mut switching = order("s-1").due_at(seeded[0].deadline_time);
    switching.replaced_by = Some(order_id("s-2"));
    open(&db, &switching, 0).await;

    let outcome = renewals(&db)
        .renew_batch(batch(10), run_at(now()))
        .await
        .unwrap();

    assert_eq!(claimed(&outcome.decisions), ["o-0000", "o-0001", "o-0002"]);
    assert_eq!(find(&db, "w-1").await, waiting);
    assert_eq!(find(&db, "s-1").await, switching);
});

both_backends!(an_order_past_its_grace_ends_and_frees_its_name, |db| {
    let named = order("o-1")
        .named("vol-1")
        .due_at(t("2026-01-20T00:00:00Z"));
    open(&db, &named, 0).await;

    let outcome = renewals(&db)
        .renew_batch(batch(10), run_at(now()))
        .await
        .unwrap();

    assert_eq!(outcomes(&outcome.decisions), [RenewalOutcome::Ended]);
    let ended = find(&db, "o-1").await;
    assert_eq!(ended.status, OrderStatus::Ended);
    assert_eq!(ended.end_time, Some(t("2026-01-20T00:00:00Z")));
    assert_eq!(
        ended.resource_name.unwrap().as_str(),
        "vol-1",
        "kept as history"
    );
    assert_eq!(
        db.count("DF_RESOURCE_TASK"),
        1,
        "its release is queued with it"
    );
    // The name is free again: a new order may take it.
    open(&db, &order("o-2").named("vol-1"), 0).await;
});

both_backends!(
    a_batch_writes_every_column_of_each_new_state_past_2038,
    |db| {
        let now = t("2040-02-29T12:34:56.123456Z");
        fund(&db, "p1", 1_000_000).await;
        let due = |id: &str, start: &str| {
            let mut o = order(id).started(start);
            o.deadline_time = domain::cycle::BusinessCalendar::default()
                .cycle_end(o.start_time, o.terms.cycle, 1)
                .unwrap();
            o
        };
        let renewed = due("a-renew", "2040-01-15T01:02:03.123456Z");
        let quota = due("b-quota", "2040-01-20T00:00:00.654321Z").of_type("cpuquota");
        let unpaid = due("c-unpaid", "2040-01-25T00:00:00.000001Z").in_project("p2");
        let ended = due("d-ended", "2040-01-01T00:00:00.5Z")
            .in_project("p2")
            .named("vol-d");
        let waiting = due("e-charge", "2040-01-27T00:00:00.25Z")
            .in_project("p3")
            .kept_by(domain::payment::MoneyKeeper::ChargeService);
        for o in [&renewed, &quota, &unpaid, &ended, &waiting] {
            open(&db, o, 0).await;
        }
        let queue = prepaid_consuming();

        let outcome = renewals(&db)
            .renew_batch(
                RenewalBatch {
                    queue,
                    due_by: queue.due_by(now, &Default::default()),
                    after: None,
                    limit: 10,
                },
                run_at(now),
            )
            .await
            .unwrap();

        let mut seen: Vec<(&str, RenewalOutcome)> = outcome
            .decisions
            .iter()
            .map(|d| (d.before.id.as_str(), d.outcome.clone()))
            .collect();
        seen.sort_by_key(|(id, _)| *id);
        assert_eq!(
            seen,
            [
                ("a-renew", RenewalOutcome::Renewed),
                ("b-quota", RenewalOutcome::Renewed),
                ("c-unpaid", RenewalOutcome::Unpaid),
                ("d-ended", RenewalOutcome::Ended),
                ("e-charge", RenewalOutcome::AwaitingPayment),
            ]
        );
        for decision in &outcome.decisions {
            let stored = find(&db, decision.before.id.as_str()).await;
            assert_eq!(stored, decision.after, "{}", decision.before.id);
        }
        let warned = find(&db, "c-unpaid").await;
        assert_eq!(
            (warned.status, warned.last_warned_at),
            (OrderStatus::Ending, Some(now))
        );
        assert_eq!(
            find(&db, "d-ended").await.end_time,
            Some(ended.deadline_time)
        );
        assert_eq!(find(&db, "e-charge").await.awaiting_payment, Some(2));
        let holder = OrderStore::new(db.db.clone())
            .holder(&domain::provisioning::Resource::of(&quota).unwrap())
            .await
            .unwrap();
        assert_eq!(holder.map(|o| o.id), Some(quota.id.clone()));
        open(&db, &order("f-new").named("vol-d").in_project("p2"), 0).await;
    }
);

// ---- failures stay with their order ----

/// The real rules, except for what a test bends: a project they believe funded, an order
/// they decide from a state it no longer has, an order they decide a row they misnumber.
#[derive(Default)]
struct Bent {
    funded: Option<ProjectId>,
    stale: Option<&'static str>,
    misnumbered: Option<&'static str>,
}

impl RenewalRules for Bent {
    fn balances_needed(&self, orders: &[Order]) -> Vec<ProjectId> {
        run_at(now()).balances_needed(orders)
    }

    fn decide_batch(
        &self,
        orders: &[Order],
        balances: &BTreeMap<ProjectId, Money>,
    ) -> Vec<RenewalDecision> {
        let mut believed = balances.clone();
        if let Some(project) = &self.funded {
            believed.insert(project.clone(), money(1_000_000));
        }
        let mut decisions = RenewalRun::decide_batch(&run_at(now()), orders, &believed);
        for decision in &mut decisions {
            let id = decision.before.id.as_str();
            if Some(id) == self.stale {
                decision.before.version += 7;
            }
            if Some(id) == self.misnumbered {
                decision.rows[0].consume_id += 1;
            }
        }
        decisions
    }
}

both_backends!(
    an_unreadable_row_is_reported_and_skipped_and_the_others_written,
    |db| {
        fund(&db, "p1", 100_000).await;
        seed(&db, "p1", "o", 3).await;
        // The last claimed row: the cursor must still move past it.
        db.execute("UPDATE DF_PURCHASE_ORDER SET KEEPER = 7 WHERE ORDER_ID = 'o-0002'")
            .unwrap();

        let outcome = renewals(&db)
            .renew_batch(batch(10), run_at(now()))
            .await
            .unwrap();

        assert_eq!(claimed(&outcome.decisions), ["o-0000", "o-0001"]);
        assert_eq!(
            outcomes(&outcome.decisions),
            [RenewalOutcome::Renewed, RenewalOutcome::Renewed]
        );
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.failed[0].0, "o-0002");
        assert!(
            outcome.failed[0].1.contains("KEEPER"),
            "{:?}",
            outcome.failed
        );
        assert_eq!(outcome.next.unwrap().order_id.as_str(), "o-0002");
        assert_eq!(
            balance_of(&db, "p1").await,
            money(100_000 - 2 * CYCLE_PRICE)
        );
        assert_eq!(rows_of(&db, "o-0002").await.len(), 1, "left alone");
    }
);

both_backends!(
    a_row_that_cannot_even_be_decoded_is_reported_and_the_others_written,
    |db| {
        fund(&db, "p1", 100_000).await;
        seed(&db, "p1", "o", 3).await;
        // A start time no column type holds, as a foreign writer might leave it.
        let corrupt = match db.db.backend() {
            infra_mysql::Backend::Mysql => "'0000-00-00 00:00:00'",
            infra_mysql::Backend::Sqlite => "'not a time'",
        };
        db.execute(&format!(
            "UPDATE DF_PURCHASE_ORDER SET START_TIME = {corrupt} WHERE ORDER_ID = 'o-0001'"
        ))
        .unwrap();

        let outcome = renewals(&db)
            .renew_batch(batch(10), run_at(now()))
            .await
            .unwrap();

        assert_eq!(claimed(&outcome.decisions), ["o-0000", "o-0002"]);
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.failed[0].0, "o-0001");
        assert_eq!(outcome.next.unwrap().order_id.as_str(), "o-0002");
        assert_eq!(
            balance_of(&db, "p1").await,
            money(100_000 - 2 * CYCLE_PRICE)
        );
    }
);

both_backends!(
    an_order_whose_write_fails_is_reported_and_the_others_written,
    |db| {
        fund(&db, "p1", 100_000).await;
        seed(&db, "p1", "a", 2).await;
        // p2 has no money, but the rules believe it has: its debit's guard refuses.
        seed(&db, "p2", "b", 1).await;
        let rules = Arc::new(Bent {
            funded: Some(project("p2")),
            ..Bent::default()
        });

        let outcome = renewals(&db).renew_batch(batch(10), rules).await.unwrap();

        assert_eq!(claimed(&outcome.decisions), ["a-0000", "a-0001"]);
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.failed[0].0, "b-0000");
        assert!(
            outcome.failed[0].1.contains("insufficient balance"),
            "{:?}",
            outcome.failed
        );
        assert_eq!(
            balance_of(&db, "p1").await,
            money(100_000 - 2 * CYCLE_PRICE)
        );
        assert_eq!(balance_of(&db, "p2").await, money(0));
        assert_eq!(
            rows_of(&db, "b-0000").await.len(),
            1,
            "nothing of it written"
        );
        assert_eq!(find(&db, "b-0000").await.version, 0);
        assert_eq!(find(&db, "a-0001").await.last_consume_id, 2);
    }
);

both_backends!(
    a_decision_that_lost_to_a_concurrent_change_is_reported_skipped,
    |db| {
        fund(&db, "p1", 100_000).await;
        seed(&db, "p1", "o", 3).await;
        let rules = Arc::new(Bent {
            stale: Some("o-0001"),
            ..Bent::default()
        });

        let outcome = renewals(&db).renew_batch(batch(10), rules).await.unwrap();

        assert!(outcome.failed.is_empty());
        assert_eq!(outcome.decisions[0].outcome, RenewalOutcome::Renewed);
        assert_eq!(outcome.decisions[2].outcome, RenewalOutcome::Renewed);
        let skipped = &outcome.decisions[1];
        assert!(
            matches!(&skipped.outcome, RenewalOutcome::Skipped(why) if why.contains("changed meanwhile")),
            "{:?}",
            skipped.outcome
        );
        assert_eq!(skipped.after, skipped.before, "reported as left untouched");
        assert!(skipped.rows.is_empty() && skipped.payments.is_empty());
        assert_eq!((skipped.cycles, skipped.charged()), (0, Money::ZERO));
        assert_eq!(find(&db, "o-0001").await.version, 0);
        assert_eq!(
            balance_of(&db, "p1").await,
            money(100_000 - 2 * CYCLE_PRICE)
        );
    }
);

both_backends!(
    a_decision_the_domain_cannot_seal_is_reported_and_the_others_written,
    |db| {
        fund(&db, "p1", 100_000).await;
        seed(&db, "p1", "o", 3).await;
        let rules = Arc::new(Bent {
            misnumbered: Some("o-0000"),
            ..Bent::default()
        });

        let outcome = renewals(&db).renew_batch(batch(10), rules).await.unwrap();

        assert_eq!(claimed(&outcome.decisions), ["o-0001", "o-0002"]);
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.failed[0].0, "o-0000");
        assert_eq!(find(&db, "o-0000").await.version, 0);
        assert_eq!(
            balance_of(&db, "p1").await,
            money(100_000 - 2 * CYCLE_PRICE)
        );
    }
);

// ---- a manual renewal ----

fn renewal_key(key: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        request: Idempotency {
            project: project("p1"),
            key: IdempotencyKey::parse(key).unwrap(),
            fingerprint: "sha256:renew".into(),
        },
        result: "order:o-0000".into(),
        at: now(),
    }
}

both_backends!(a_manual_renewal_renews_one_order_with_its_key, |db| {
    fund(&db, "p1", 100_000).await;
    seed(&db, "p1", "o", 2).await;

    let decision = renewals(&db)
        .renew_order(&order_id("o-0001"), run_at(now()), Some(renewal_key("k-1")))
        .await
        .unwrap()
        .unwrap();

    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(find(&db, "o-0001").await, decision.after);
    assert_eq!(
        find(&db, "o-0000").await.version,
        0,
        "only the one asked for"
    );
    assert_eq!(balance_of(&db, "p1").await, money(100_000 - CYCLE_PRICE));
    assert_eq!(db.count("DF_IDEMPOTENCY_KEY"), 1);

    let before = db.snapshot();
    let again = renewals(&db)
        .renew_order(&order_id("o-0000"), run_at(now()), Some(renewal_key("k-1")))
        .await;
    assert!(
        matches!(again, Err(Error::DuplicateRequest(_))),
        "{again:?}"
    );
    assert_eq!(db.snapshot(), before, "a taken key writes nothing");
});

both_backends!(
    a_manual_renewal_of_what_is_not_due_or_held_decides_not_due,
    |db| {
        let later = order("o-1").due_at(t("2026-05-01T00:00:00Z"));
        open(&db, &later, 0).await;
        let mut held = order("o-2").due_at(t("2026-02-01T00:00:00Z"));
        held.awaiting_payment = Some(1);
        open(&db, &held, 0).await;
        for id in ["o-1", "o-2"] {
            let decision = renewals(&db)
                .renew_order(&order_id(id), run_at(now()), None)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(decision.outcome, RenewalOutcome::NotDue, "{id}");
            assert_eq!(find(&db, id).await.version, 0);
        }
    }
);

both_backends!(a_manual_renewal_of_an_unknown_order_is_none, |db| {
    let decision = renewals(&db)
        .renew_order(&order_id("ghost"), run_at(now()), Some(renewal_key("k-1")))
        .await
        .unwrap();
    assert_eq!(decision, None);
    assert_eq!(db.count("DF_IDEMPOTENCY_KEY"), 0);
});

// ---- runs side by side ----

/// A run draining the four queues batch after batch, as a replica would; returns its
/// decisions' outcomes.
async fn run(store: RenewalStore, limit: u32) -> Vec<RenewalOutcome> {
    let rules = run_at(now());
    let mut seen = Vec::new();
    for queue in RenewalQueue::ALL {
        let mut request = RenewalBatch {
            queue,
            due_by: queue.due_by(now(), &Default::default()),
            after: None,
            limit,
        };
        loop {
            let outcome = store
                .renew_batch(request.clone(), rules.clone())
                .await
                .unwrap();
            assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
            seen.extend(outcome.decisions.into_iter().map(|d| d.outcome));
            let Some(next) = outcome.next else { break };
            request.after = Some(next);
        }
    }
    seen
}

const PROJECTS: usize = 10;
const PER_PROJECT: usize = 40;
const FUNDS: i64 = 1_000_000;

async fn seed_projects(db: &TestDb) {
    for p in 0..PROJECTS {
        let project_id = format!("p{p:02}");
        fund(db, &project_id, FUNDS).await;
        seed(db, &project_id, &format!("o{p:02}"), PER_PROJECT).await;
    }
}

/// Every order renewed once: one new row, one new payment, its cycle's money taken once.
async fn assert_each_cycle_charged_once(db: &TestDb) {
    for p in 0..PROJECTS {
        let project_id = format!("p{p:02}");
        let spent = CYCLE_PRICE * PER_PROJECT as i64;
        assert_eq!(balance_of(db, &project_id).await, money(FUNDS - spent));
    }
    let orders = PROJECTS * PER_PROJECT;
    assert_eq!(db.count("DF_CONSUMING_HISTORY"), 2 * orders as i64);
    assert_eq!(db.count("DF_PAYMENT"), orders as i64);
    for p in 0..PROJECTS {
        for i in 0..PER_PROJECT {
            let renewed = find(db, &format!("o{p:02}-{i:04}")).await;
            assert_eq!((renewed.last_consume_id, renewed.version), (2, 1));
        }
    }
}

both_backends!(
    two_runs_that_lock_nothing_charge_every_cycle_exactly_once,
    |db| {
        seed_projects(&db).await;
        let engine = || renewals(&db).without_claim_locks();

        let a = tokio::spawn(run(engine(), 15));
        let b = tokio::spawn(run(engine(), 15));
        let seen: Vec<RenewalOutcome> = [a.await.unwrap(), b.await.unwrap()].concat();

        let renewed = seen
            .iter()
            .filter(|o| **o == RenewalOutcome::Renewed)
            .count();
        assert_eq!(
            renewed,
            PROJECTS * PER_PROJECT,
            "each order renewed by one run"
        );
        let others: Vec<_> = seen
            .iter()
            .filter(|o| **o != RenewalOutcome::Renewed)
            .collect();
        assert!(
            others
                .iter()
                .all(|o| matches!(o, RenewalOutcome::Skipped(_) | RenewalOutcome::NotDue)),
            "the other run found the order renewed, or its decision lost and says so: {others:?}"
        );
        assert_each_cycle_charged_once(&db).await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_two_locking_runs_share_the_work_and_charge_every_cycle_once() {
    let Some(db) =
        TestDb::mysql("mysql_two_locking_runs_share_the_work_and_charge_every_cycle_once")
    else {
        return;
    };
    seed_projects(&db).await;

    let a = tokio::spawn(run(renewals(&db), 20));
    let b = tokio::spawn(run(renewals(&db), 20));
    let seen: Vec<RenewalOutcome> = [a.await.unwrap(), b.await.unwrap()].concat();

    assert_eq!(
        seen.len(),
        PROJECTS * PER_PROJECT,
        "each order claimed once"
    );
    assert!(seen.iter().all(|o| *o == RenewalOutcome::Renewed));
    assert_each_cycle_charged_once(&db).await;
}
