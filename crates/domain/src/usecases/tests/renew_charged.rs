//! Renewal runs over regions a charge service keeps: a fake store lists due orders without
//! claiming them and records decisions; the fake charge service journals each deduction.

use std::collections::BTreeSet;

use super::*;
use crate::payment::RegionScope;
use crate::ports::{BatchOutcome, MockCreditQueue};
use crate::renewal::{RenewalBatch, RenewalCursor, RenewalDecision, RenewalOutcome, RenewalQueue};
use crate::usecases::{RenewalReport, RenewalTally};

/// Jan 28 2017: prepaid orders paid until Feb 4 or earlier are due (margin 7 days).
const NOW: &str = "2017-01-28T00:00:00Z";

fn prepaid_consuming() -> RenewalQueue {
    RenewalQueue::ALL[1]
}

/// A consuming prepaid order named `id` started Oct 1 2016, paid until `deadline`.
fn due(id: &str, deadline: &str) -> Order {
    Order {
        id: OrderId::parse(id).unwrap(),
        start_time: utc("2016-10-01T00:00:00Z"),
        deadline_time: utc(deadline),
        ..consuming_order()
    }
}

/// Paid until Jan 1: two cycles due (Jan 1 – Feb 1 as row 2, Feb 1 – Mar 1 as row 3).
fn two_cycles_due() -> Order {
    due("order-a", "2017-01-01T00:00:00Z")
}

fn south() -> Region {
    Region::parse("cn-south-1").unwrap()
}

fn queue_of(order: &Order) -> RenewalQueue {
    RenewalQueue {
        mode: order.mode,
        status: order.status,
    }
}

/// What the run asked of the store.
#[derive(Default)]
struct Asked {
    due_plans: Mutex<Vec<RegionScope>>,
    due_orders: Mutex<Vec<RenewalBatch>>,
    recorded: Mutex<Vec<RenewalDecision>>,
    claimed: Mutex<Vec<RenewalBatch>>,
}

impl Mocks {
    /// The store holds `orders`; it lists them as the real one does, records decisions
    /// with `record`, and claims store-kept ones with the rules and an ample balance.
    fn holding_due(
        mut self,
        orders: Vec<Order>,
        asked: &Arc<Asked>,
        record: impl Fn(&RenewalDecision) -> Result<bool> + Send + 'static,
    ) -> Self {
        let held = Arc::new(orders);
        let (plans_of, spy) = (Arc::clone(&held), Arc::clone(asked));
        self.renewals
            .expect_due_plans()
            .returning(move |queue, due_by, scope| {
                spy.due_plans.lock().unwrap().push(scope.clone());
                let ids: BTreeSet<_> = plans_of
                    .iter()
                    .filter(|o| queue_of(o) == queue && o.deadline_time <= due_by)
                    .filter(|o| scope.contains(&o.region))
                    .map(|o| o.plan_id.to_string())
                    .collect();
                Ok(ids.iter().map(|id| PlanId::parse(id).unwrap()).collect())
            });
        let (listed, spy) = (Arc::clone(&held), Arc::clone(asked));
        self.renewals.expect_due_orders().returning(move |batch| {
            spy.due_orders.lock().unwrap().push(batch.clone());
            Ok(select(&listed, &batch))
        });
        let spy = Arc::clone(asked);
        self.renewals.expect_record().returning(move |decision| {
            let answer = record(&decision);
            spy.recorded.lock().unwrap().push(decision);
            answer
        });
        let (claimable, spy) = (Arc::clone(&held), Arc::clone(asked));
        self.renewals
            .expect_renew_batch()
            .returning(move |batch, rules| {
                spy.claimed.lock().unwrap().push(batch.clone());
                let claimed = select(&claimable, &batch);
                let next = claimed.last().map(|o| RenewalCursor {
                    deadline: o.deadline_time,
                    order_id: o.id.clone(),
                });
                let decisions = claimed
                    .iter()
                    .map(|o| rules.decide(o, money("10000")))
                    .collect();
                Ok(BatchOutcome { decisions, next })
            });
        self
    }

    /// The charge service deducting with `deduct`, the store holding [`two_cycles_due`]
    /// and recording every decision, the catalog serving [`prepaid_plan`]: the setting of
    /// most tests, which differ in how the deductions go.
    fn renewing_two_cycles(
        self,
        calls: &Calls,
        asked: &Arc<Asked>,
        deduct: impl FnMut(&Payment) -> Result<()> + Send + 'static,
    ) -> Self {
        self.charged_remotely(calls, deduct, works)
            .holding_due(vec![two_cycles_due()], asked, recorded)
            .serving_plans(vec![prepaid_plan()])
    }
}

/// The batch's orders as a store selects them: queue, regions, due by, after the cursor,
/// in (deadline, id) order, at most the limit.
fn select(orders: &[Order], batch: &RenewalBatch) -> Vec<Order> {
    let mut selected: Vec<Order> = orders
        .iter()
        .filter(|o| queue_of(o) == batch.queue && o.deadline_time <= batch.due_by)
        .filter(|o| batch.regions.contains(&o.region))
        .filter(|o| match &batch.after {
            None => true,
            Some(c) => (o.deadline_time, &o.id) > (c.deadline, &c.order_id),
        })
        .cloned()
        .collect();
    selected.sort_by_key(|o| (o.deadline_time, o.id.clone()));
    selected.truncate(batch.limit as usize);
    selected
}

fn recorded(_: &RenewalDecision) -> Result<bool> {
    Ok(true)
}

/// Runs at [`NOW`] with batches of `batch_size`; returns the report and progress calls.
async fn run(mocks: Mocks, batch_size: u32) -> Result<(RenewalReport, Heard)> {
    renew_due_at(mocks, NOW, batch_size).await
}

fn rows_of(decision: &RenewalDecision) -> Vec<(u32, Money)> {
    decision
        .rows
        .iter()
        .map(|row| (row.consume_id, row.amount))
        .collect()
}

fn declining_row(consume_id: u32) -> impl FnMut(&Payment) -> Result<()> + Send + 'static {
    move |payment| {
        if payment.reason.consume_id == consume_id {
            declines(payment)
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn every_due_cycle_is_deducted_in_order_then_recorded() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let mocks = Mocks::new()
        .renewing_two_cycles(&calls, &asked, works)
        .notifying();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-a:2 99.00",
            "deduct order:order-a:3 99.00"
        ]
    );
    let recorded = asked.recorded.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1);
    assert_eq!(rows_of(&recorded[0]), [(2, money("99")), (3, money("99"))]);
    assert_eq!(recorded[0].outcome, RenewalOutcome::Renewed);
    assert_eq!(recorded[0].before, two_cycles_due());
    assert_eq!(
        report.total,
        RenewalTally {
            claimed: 1,
            renewed: 1,
            cycles: 2,
            charged: money("198"),
            ..RenewalTally::default()
        }
    );
    assert_eq!(report.batches, 1);
}

#[tokio::test]
async fn a_declined_second_cycle_records_the_first_and_leaves_the_order_unpaid() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let mocks = Mocks::new()
        .renewing_two_cycles(&calls, &asked, declining_row(3))
        .notifying();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(
        super::calls(&calls),
        [
            "deduct order:order-a:2 99.00",
            "deduct order:order-a:3 99.00"
        ]
    );
    let recorded = asked.recorded.lock().unwrap().clone();
    assert_eq!(rows_of(&recorded[0]), [(2, money("99"))]);
    assert_eq!(recorded[0].outcome, RenewalOutcome::Unpaid);
    assert_eq!(recorded[0].after.deadline_time, utc("2017-02-01T00:00:00Z"));
    assert_eq!(recorded[0].after.renew_retries, 1);
    assert_eq!(
        (
            report.total.renewed,
            report.total.cycles,
            report.total.unpaid
        ),
        (1, 1, 1)
    );
    assert_eq!(report.total.charged, money("99"));
}

#[tokio::test]
async fn a_declined_only_cycle_records_the_unpaid_order_without_rows() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let mocks = Mocks::new()
        .charged_remotely(&calls, declines, works)
        .holding_due(
            vec![due("order-a", "2017-02-01T00:00:00Z")],
            &asked,
            recorded,
        )
        .serving_plans(vec![prepaid_plan()])
        .notifying();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(super::calls(&calls), ["deduct order:order-a:2 99.00"]);
    let recorded = asked.recorded.lock().unwrap().clone();
    assert!(recorded[0].rows.is_empty());
    assert_eq!(recorded[0].outcome, RenewalOutcome::Unpaid);
    assert_eq!(recorded[0].after.status, OrderStatus::Consuming);
    assert_eq!(recorded[0].after.renew_retries, 1);
    assert_eq!(report.total.unpaid, 1);
    assert_eq!(report.total.charged, Money::ZERO);
}

#[tokio::test]
async fn an_unanswered_deduction_skips_the_order_and_records_nothing() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let mut mocks = Mocks::new().renewing_two_cycles(&calls, &asked, times_out);
    mocks.notifier.expect_notify().never();
    let (report, heard) = run(mocks, 500).await.unwrap();
    assert!(asked.recorded.lock().unwrap().is_empty());
    assert_eq!(
        report.total,
        RenewalTally {
            claimed: 1,
            skipped: 1,
            ..RenewalTally::default()
        }
    );
    assert_eq!(heard.len(), 1);
}

#[tokio::test]
async fn an_unanswered_second_deduction_also_skips_the_order() {
    // The first cycle is taken but not recorded: the next run asks for it again under the
    // same reason, which the charge service does not take twice.
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let second_refused = |payment: &Payment| match payment.reason.consume_id {
        2 => Ok(()),
        _ => Err(Error::Internal("400 bad request".into())),
    };
    let mocks = Mocks::new().renewing_two_cycles(&calls, &asked, second_refused);
    let (report, _) = run(mocks, 500).await.unwrap();
    assert!(asked.recorded.lock().unwrap().is_empty());
    assert_eq!(report.total.skipped, 1);
    assert_eq!(super::calls(&calls).len(), 2);
}

#[tokio::test]
async fn a_decision_another_run_recorded_first_is_neither_counted_nor_announced() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(vec![two_cycles_due()], &asked, |_| Ok(false))
        .serving_plans(vec![prepaid_plan()]);
    mocks.notifier.expect_notify().never();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(
        report.total,
        RenewalTally {
            claimed: 1,
            ..RenewalTally::default()
        }
    );
    assert_eq!(asked.recorded.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn free_cycles_are_recorded_without_asking_the_charge_service() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let free = Plan {
        price: Money::ZERO,
        ..prepaid_plan()
    };
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(vec![two_cycles_due()], &asked, recorded)
        .serving_plans(vec![free])
        .notifying();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert!(super::calls(&calls).is_empty());
    let recorded = asked.recorded.lock().unwrap().clone();
    assert_eq!(rows_of(&recorded[0]), [(2, Money::ZERO), (3, Money::ZERO)]);
    assert_eq!(report.total.cycles, 2);
}

#[tokio::test]
async fn huge_cycle_prices_are_deducted_exactly() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let half = Money::from_minor(i64::MAX / 2);
    let dear = Plan {
        price: half,
        ..prepaid_plan()
    };
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(vec![two_cycles_due()], &asked, recorded)
        .serving_plans(vec![dear])
        .notifying();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(
        super::calls(&calls),
        [
            format!("deduct order:order-a:2 {half}"),
            format!("deduct order:order-a:3 {half}")
        ]
    );
    assert_eq!(report.total.charged, Money::from_minor(i64::MAX - 1));
}

#[tokio::test]
async fn an_order_whose_plan_cannot_be_looked_up_is_skipped_uncharged_and_unrecorded() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(vec![two_cycles_due()], &asked, recorded);
    mocks
        .plans
        .expect_get()
        .returning(|_| Err(Error::PlanCatalogUnavailable("timeout".into())));
    let (report, _) = run(mocks, 500).await.unwrap();
    assert!(super::calls(&calls).is_empty());
    assert!(asked.recorded.lock().unwrap().is_empty());
    assert_eq!(report.total.skipped, 1);
}

#[tokio::test]
async fn charged_orders_are_listed_batch_by_batch_until_a_short_batch() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let orders = vec![
        due("order-c", "2017-02-01T00:00:00Z"),
        due("order-a", "2017-02-01T00:00:00Z"),
        due("order-b", "2017-01-31T00:00:00Z"),
    ];
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(orders, &asked, recorded)
        .serving_plans(vec![prepaid_plan()])
        .notifying();
    let (report, heard) = run(mocks, 2).await.unwrap();
    let listed: Vec<_> = asked
        .due_orders
        .lock()
        .unwrap()
        .iter()
        .map(|batch| {
            assert_eq!(batch.regions, RegionScope::Only(vec![region()]));
            assert_eq!(batch.limit, 2);
            (
                batch.queue,
                batch.after.as_ref().map(|c| c.order_id.to_string()),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (prepaid_consuming(), None),
            (prepaid_consuming(), Some("order-a".to_string()))
        ]
    );
    assert_eq!(report.batches, 2);
    assert_eq!(report.total.renewed, 3);
    assert_eq!(
        heard
            .iter()
            .map(|(_, n, t)| (*n, t.claimed))
            .collect::<Vec<_>>(),
        [(1, 2), (2, 1)]
    );
}

#[tokio::test]
async fn store_kept_regions_are_claimed_apart_from_the_charged_ones() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let in_south = Order {
        region: south(),
        ..due("order-s", "2017-02-01T00:00:00Z")
    };
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(
            vec![due("order-n", "2017-02-01T00:00:00Z"), in_south],
            &asked,
            recorded,
        )
        .serving_plans(vec![prepaid_plan()])
        .notifying();
    let (report, _) = run(mocks, 500).await.unwrap();
    let claimed = asked.claimed.lock().unwrap().clone();
    assert!(!claimed.is_empty());
    for batch in &claimed {
        assert_eq!(batch.regions, RegionScope::Except(vec![region()]));
    }
    let scopes = asked.due_plans.lock().unwrap().clone();
    assert_eq!(
        scopes[..2],
        [
            RegionScope::Except(vec![region()]),
            RegionScope::Only(vec![region()])
        ]
    );
    assert_eq!(super::calls(&calls), ["deduct order:order-n:2 99.00"]);
    assert_eq!(report.total.renewed, 2);
}

#[tokio::test]
async fn without_charged_regions_the_store_claims_every_region() {
    let asked = Arc::new(Asked::default());
    let mut mocks = Mocks::new()
        .holding_due(
            vec![due("order-n", "2017-02-01T00:00:00Z")],
            &asked,
            recorded,
        )
        .serving_plans(vec![prepaid_plan()])
        .notifying();
    mocks.renewals.expect_due_orders().never();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(report.total.renewed, 1);
    assert!(asked
        .due_plans
        .lock()
        .unwrap()
        .iter()
        .all(|s| *s == RegionScope::All));
    assert!(asked
        .claimed
        .lock()
        .unwrap()
        .iter()
        .all(|b| b.regions == RegionScope::All));
    assert!(asked.due_orders.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_order_ended_after_its_grace_period_releases_its_resource() {
    // Unpaid since Jan 1, grace over on Jan 8: the declined cycle ends it.
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let overdue = Order {
        status: OrderStatus::Ending,
        ..due("order-a", "2017-01-01T00:00:00Z")
    };
    let mocks = Mocks::new()
        .charged_remotely(&calls, declines, works)
        .provisioning_into(&calls, works, works)
        .holding_due(vec![overdue], &asked, recorded)
        .serving_plans(vec![prepaid_plan()])
        .notifying();
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(report.total.ended, 1);
    assert_eq!(
        super::calls(&calls),
        ["deduct order:order-a:2 99.00", "release order-a"]
    );
}

#[tokio::test]
async fn a_run_delivers_the_credits_due_at_its_end() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(vec![], &asked, recorded);
    let mut credits = MockCreditQueue::new();
    credits
        .expect_due()
        .times(1)
        .returning(|_, _| Err(Error::Unavailable("lost connection".into())));
    mocks.credits = Some(credits);
    let (report, _) = run(mocks, 500).await.unwrap();
    assert_eq!(report, RenewalReport::default());
}

#[tokio::test]
async fn a_failed_record_fails_the_run_after_announcing_what_was_recorded() {
    let (calls, asked) = (Calls::default(), Arc::new(Asked::default()));
    let sent = Sent::default();
    let orders = vec![
        due("order-a", "2017-01-31T00:00:00Z"),
        due("order-b", "2017-02-01T00:00:00Z"),
    ];
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .holding_due(orders, &asked, |decision: &RenewalDecision| {
            if decision.before.id.as_str() == "order-a" {
                Ok(true)
            } else {
                Err(Error::Unavailable("lost connection".into()))
            }
        })
        .serving_plans(vec![prepaid_plan()])
        .notifying_into(&sent);
    let mut credits = MockCreditQueue::new();
    credits.expect_due().never();
    mocks.credits = Some(credits);
    let error = run(mocks, 500).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
    assert_eq!(
        sent_events(&sent),
        [(NotificationKind::OrderRenewed, "order-a".to_string())]
    );
}
