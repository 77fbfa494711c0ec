//! A renewal run against a fake store: the mocked repository holds orders per queue and, like
//! the real one, claims them in (deadline, id) order after the cursor and calls the rules on
//! each with what the project's balance still holds.

use std::collections::BTreeSet;

use super::*;
use crate::error::Error;
use crate::notification::{Notification, NotificationKind};
use crate::ports::BatchOutcome;
use crate::renewal::{RenewalBatch, RenewalCursor, RenewalQueue};
use crate::usecases::{RenewalReport, RenewalTally};

/// Jan 28 2017: prepaid orders paid until Feb 1 are due (margin 7 days).
const NOW: &str = "2017-01-28T00:00:00Z";

/// What the run asked of the store and the notifier, in order.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Batch(RenewalBatch),
    Notify(Vec<Notification>),
}

type Journal = Arc<Mutex<Vec<Step>>>;

fn steps(journal: &Journal) -> Vec<Step> {
    journal.lock().unwrap().clone()
}

fn batches(journal: &Journal) -> Vec<RenewalBatch> {
    steps(journal)
        .into_iter()
        .filter_map(|step| match step {
            Step::Batch(batch) => Some(batch),
            Step::Notify(_) => None,
        })
        .collect()
}

fn queue_of(order: &Order) -> RenewalQueue {
    RenewalQueue {
        mode: order.mode,
        status: order.status,
    }
}

fn prepaid_consuming() -> RenewalQueue {
    RenewalQueue::ALL[1]
}

fn postpaid_consuming() -> RenewalQueue {
    RenewalQueue::ALL[3]
}

/// A consuming prepaid order of [`project`] named `id`, started Oct 1 2016 (its cycles
/// end on the 1st), paid until `deadline`.
fn due(id: &str, deadline: &str) -> Order {
    Order {
        id: OrderId::parse(id).unwrap(),
        start_time: utc("2016-10-01T00:00:00Z"),
        deadline_time: utc(deadline),
        ..consuming_order()
    }
}

fn postpaid(id: &str) -> Order {
    Order {
        id: OrderId::parse(id).unwrap(),
        mode: ChargingMode::Postpaid,
        last_consume_id: 0,
        deadline_time: utc("2017-01-25T00:00:00Z"),
        start_time: utc("2016-12-25T00:00:00Z"),
        ..consuming_order()
    }
}

impl Mocks {
    /// The store holds `orders` and a project balance of `balance`; claims and debits as
    /// the real one does, journaling each batch.
    fn storing(mut self, orders: Vec<Order>, balance: Money, journal: &Journal) -> Self {
        let held = Arc::new(orders);
        let plans_of = Arc::clone(&held);
        self.renewals
            .expect_due_plans()
            .returning(move |queue, due_by, _| {
                let ids: BTreeSet<_> = plans_of
                    .iter()
                    .filter(|o| queue_of(o) == queue && o.deadline_time <= due_by)
                    .map(|o| o.plan_id.to_string())
                    .collect();
                Ok(ids.iter().map(|id| PlanId::parse(id).unwrap()).collect())
            });
        let balance = Arc::new(Mutex::new(balance));
        let journal = Arc::clone(journal);
        self.renewals
            .expect_renew_batch()
            .returning(move |batch, rules| {
                journal.lock().unwrap().push(Step::Batch(batch.clone()));
                let mut claimed: Vec<&Order> = held
                    .iter()
                    .filter(|o| queue_of(o) == batch.queue && o.deadline_time <= batch.due_by)
                    .filter(|o| match &batch.after {
                        None => true,
                        Some(c) => (o.deadline_time, &o.id) > (c.deadline, &c.order_id),
                    })
                    .collect();
                claimed.sort_by_key(|o| (o.deadline_time, o.id.clone()));
                claimed.truncate(batch.limit as usize);
                let mut balance = balance.lock().unwrap();
                let decisions: Vec<_> = claimed
                    .iter()
                    .map(|order| {
                        let decision = rules.decide(order, *balance);
                        *balance = balance.checked_sub(decision.debit()).unwrap();
                        decision
                    })
                    .collect();
                let next = claimed.last().map(|o| RenewalCursor {
                    deadline: o.deadline_time,
                    order_id: o.id.clone(),
                });
                Ok(BatchOutcome { decisions, next })
            });
        self
    }

    /// The notifier accepts events, journaling them.
    fn journaling_events(mut self, journal: &Journal) -> Self {
        let journal = Arc::clone(journal);
        self.notifier.expect_notify().returning(move |events| {
            journal.lock().unwrap().push(Step::Notify(events));
            Ok(())
        });
        self
    }
}

/// Runs at [`NOW`] with batches of `batch_size`; returns the report and each progress call.
async fn run(mocks: Mocks, batch_size: u32) -> (RenewalReport, Heard) {
    renew_due_at(mocks, NOW, batch_size).await.unwrap()
}

#[tokio::test]
async fn run_drains_each_queue_batch_by_batch_passing_the_cursor_along() {
    let journal = Journal::default();
    let orders = vec![
        due("order-c", "2017-02-01T00:00:00Z"),
        due("order-a", "2017-02-01T00:00:00Z"),
        due("order-b", "2017-01-31T00:00:00Z"),
        postpaid("order-p"),
    ];
    let mocks = Mocks::new()
        .storing(orders, money("10000"), &journal)
        .journaling_events(&journal)
        .serving_plans(vec![prepaid_plan()]);
    run(mocks, 2).await;
    let cursor = |deadline: &str, id: &str| {
        Some(RenewalCursor {
            deadline: utc(deadline),
            order_id: OrderId::parse(id).unwrap(),
        })
    };
    let prepaid_due_by = utc("2017-02-04T00:00:00Z");
    let expected = [
        (prepaid_consuming(), prepaid_due_by, None),
        (
            prepaid_consuming(),
            prepaid_due_by,
            cursor("2017-02-01T00:00:00Z", "order-a"),
        ),
        (
            prepaid_consuming(),
            prepaid_due_by,
            cursor("2017-02-01T00:00:00Z", "order-c"),
        ),
        (postpaid_consuming(), utc(NOW), None),
        (
            postpaid_consuming(),
            utc(NOW),
            cursor("2017-01-25T00:00:00Z", "order-p"),
        ),
    ];
    let asked: Vec<_> = batches(&journal)
        .into_iter()
        .map(|b| {
            assert_eq!(b.limit, 2);
            (b.queue, b.due_by, b.after)
        })
        .collect();
    assert_eq!(asked, expected);
}

#[tokio::test]
async fn queues_without_due_plans_are_not_claimed_from() {
    let journal = Journal::default();
    let mocks = Mocks::new()
        .storing(vec![], money("10000"), &journal)
        .serving_plans(vec![]);
    let (report, heard) = run(mocks, 500).await;
    assert!(steps(&journal).is_empty());
    assert_eq!(report, RenewalReport::default());
    assert!(heard.is_empty());
}

#[tokio::test]
async fn each_batchs_events_go_to_the_notifier_right_after_it() {
    let journal = Journal::default();
    let orders = vec![
        due("order-a", "2017-01-31T00:00:00Z"),
        due("order-b", "2017-02-01T00:00:00Z"),
    ];
    let mocks = Mocks::new()
        .storing(orders, money("10000"), &journal)
        .journaling_events(&journal)
        .serving_plans(vec![prepaid_plan()]);
    run(mocks, 1).await;
    let shape: Vec<_> = steps(&journal)
        .into_iter()
        .map(|step| match step {
            Step::Batch(b) => format!("batch after {:?}", b.after.map(|c| c.order_id.to_string())),
            Step::Notify(events) => format!(
                "notify {}",
                events
                    .iter()
                    .map(|e| format!("{}:{}", e.order_id, e.kind.label()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "batch after None",
            "notify order-a:order_renewed",
            "batch after Some(\"order-a\")",
            "notify order-b:order_renewed",
            "batch after Some(\"order-b\")",
        ]
    );
}

#[tokio::test]
async fn a_batch_without_events_notifies_nobody() {
    let journal = Journal::default();
    let mut mocks = Mocks::new().storing(
        vec![due("order-a", "2017-02-01T00:00:00Z")],
        money("10000"),
        &journal,
    );
    mocks
        .plans
        .expect_get()
        .returning(|_| Err(Error::PlanCatalogUnavailable("timeout".into())));
    mocks.notifier.expect_notify().never();
    let (report, _) = run(mocks, 500).await;
    assert_eq!(report.total.skipped, 1);
}

#[tokio::test]
async fn a_notifier_failure_does_not_fail_the_run() {
    let journal = Journal::default();
    let mut mocks = Mocks::new()
        .storing(
            vec![due("order-a", "2017-02-01T00:00:00Z")],
            money("10000"),
            &journal,
        )
        .serving_plans(vec![prepaid_plan()]);
    mocks
        .notifier
        .expect_notify()
        .times(1)
        .returning(|_| Err(Error::Unavailable("notification table locked".into())));
    let (report, _) = run(mocks, 500).await;
    assert_eq!(report.total.renewed, 1);
    assert_eq!(report.batches, 1);
}

#[tokio::test]
async fn orders_of_a_plan_the_catalog_cannot_answer_for_are_skipped_and_others_renew() {
    let journal = Journal::default();
    let other_plan = Plan {
        id: PlanId::parse("quota-8c16g").unwrap(),
        ..prepaid_plan()
    };
    let on_other = Order {
        plan_id: other_plan.id.clone(),
        ..due("order-b", "2017-02-01T00:00:00Z")
    };
    let mut mocks = Mocks::new()
        .storing(
            vec![due("order-a", "2017-02-01T00:00:00Z"), on_other],
            money("10000"),
            &journal,
        )
        .journaling_events(&journal);
    let reachable = prepaid_plan();
    mocks.plans.expect_get().times(2).returning(move |id| {
        if *id == reachable.id {
            Ok(Some(reachable.clone()))
        } else {
            Err(Error::PlanCatalogUnavailable("timeout".into()))
        }
    });
    let (report, _) = run(mocks, 500).await;
    assert_eq!(report.total.claimed, 2);
    assert_eq!(report.total.renewed, 1);
    assert_eq!(report.total.skipped, 1);
    assert_eq!(report.total.charged, money("99"));
}

#[tokio::test]
async fn orders_of_a_plan_the_catalog_no_longer_has_are_unpaid() {
    let journal = Journal::default();
    let mocks = Mocks::new()
        .storing(
            vec![due("order-a", "2017-02-01T00:00:00Z")],
            money("10000"),
            &journal,
        )
        .journaling_events(&journal)
        .serving_plans(vec![]);
    let (report, _) = run(mocks, 500).await;
    assert_eq!(report.total.unpaid, 1);
    assert_eq!(report.total.charged, Money::ZERO);
    let notified: Vec<_> = steps(&journal)
        .into_iter()
        .filter_map(|step| match step {
            Step::Notify(events) => Some(events),
            Step::Batch(_) => None,
        })
        .flatten()
        .map(|e| e.kind)
        .collect();
    assert_eq!(notified, [NotificationKind::RenewalFailed]);
}

#[tokio::test]
async fn the_report_and_progress_count_what_each_batch_did() {
    let journal = Journal::default();
    let orders = vec![
        // Three cycles due (Dec 1, Jan 1, Feb 1): two charged from the 250, then unpaid
        // but still before its new deadline.
        due("order-a", "2016-12-01T00:00:00Z"),
        // Unpaid since Jan 1, grace over on Jan 8, nothing left: ended.
        due("order-b", "2017-01-01T00:00:00Z"),
        // Nothing left: unpaid.
        due("order-c", "2017-02-01T00:00:00Z"),
        postpaid("order-p"),
    ];
    let mocks = Mocks::new()
        .storing(orders, money("250"), &journal)
        .journaling_events(&journal)
        .serving_plans(vec![prepaid_plan()]);
    let (report, heard) = run(mocks, 2).await;
    let first = RenewalTally {
        claimed: 2,
        renewed: 1,
        cycles: 2,
        charged: money("198"),
        unpaid: 1,
        ended: 1,
        skipped: 0,
    };
    let second = RenewalTally {
        claimed: 1,
        unpaid: 1,
        ..RenewalTally::default()
    };
    let third = RenewalTally {
        claimed: 1,
        unpaid: 1,
        ..RenewalTally::default()
    };
    assert_eq!(
        heard,
        [
            (prepaid_consuming(), 1, first),
            (prepaid_consuming(), 2, second),
            (postpaid_consuming(), 3, third),
        ]
    );
    assert_eq!(report.batches, 3);
    assert_eq!(
        report.total,
        RenewalTally {
            claimed: 4,
            renewed: 1,
            cycles: 2,
            charged: money("198"),
            unpaid: 3,
            ended: 1,
            skipped: 0,
        }
    );
}

#[tokio::test]
async fn a_store_failure_fails_the_run() {
    let mut mocks = Mocks::new().serving_plans(vec![prepaid_plan()]);
    mocks
        .renewals
        .expect_due_plans()
        .returning(|_, _, _| Ok(vec![prepaid_plan().id]));
    mocks
        .renewals
        .expect_renew_batch()
        .times(1)
        .returning(|_, _| Err(Error::Unavailable("deadlock, retried".into())));
    let use_cases = mocks.at(utc(NOW)).build();
    let error = use_cases.renew_due(&mut |_, _, _| {}).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("deadlock, retried".into()));
}

#[tokio::test]
async fn a_failure_listing_due_plans_fails_the_run() {
    let mut mocks = Mocks::new();
    mocks
        .renewals
        .expect_due_plans()
        .times(1)
        .returning(|_, _, _| Err(Error::Unavailable("lost connection".into())));
    mocks.renewals.expect_renew_batch().never();
    let use_cases = mocks.at(utc(NOW)).build();
    let error = use_cases.renew_due(&mut |_, _, _| {}).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
}

#[tokio::test]
async fn an_order_the_store_ended_has_its_resource_released_after_the_batch() {
    // Nothing left. Unpaid since Jan 1, grace over on Jan 8: ended. Paid until Feb 1:
    // only unpaid, and it keeps its resource.
    let (journal, calls) = (Journal::default(), Calls::default());
    let orders = vec![
        due("order-b", "2017-01-01T00:00:00Z"),
        due("order-c", "2017-02-01T00:00:00Z"),
    ];
    let mocks = Mocks::new()
        .storing(orders, Money::ZERO, &journal)
        .provisioning_into(&calls, works, works)
        .journaling_events(&journal)
        .serving_plans(vec![prepaid_plan()]);
    let (report, _) = run(mocks, 500).await;
    assert_eq!((report.total.ended, report.total.unpaid), (1, 1));
    assert_eq!(super::calls(&calls), ["release order-b"]);
}

#[tokio::test]
async fn a_release_that_fails_does_not_fail_the_run() {
    let (journal, calls) = (Journal::default(), Calls::default());
    let mocks = Mocks::new()
        .storing(
            vec![due("order-b", "2017-01-01T00:00:00Z")],
            Money::ZERO,
            &journal,
        )
        .provisioning_into(&calls, works, times_out)
        .journaling_events(&journal)
        .serving_plans(vec![prepaid_plan()]);
    let (report, _) = run(mocks, 500).await;
    assert_eq!(report.total.ended, 1);
}
