//! What the service does when the platform says no or does not answer: a declined charge,
//! a charge service slower than the timeout (on create and in a renewal run), the plan
//! service down.

use std::time::{Duration, Instant};

use crate::fake_platform::{Condition, Service};
use crate::helpers::minor;

use super::harness::{
    due_time, order_id, time, Harness, ANN, OPENING_BALANCE, PROJECT, QUOTA_SMALL,
};

/// Longer than the configured timeout (`timeout_ms = 1000`).
const SLOW: Duration = Duration::from_secs(4);

#[tokio::test]
async fn a_declined_charge_is_a_402_and_the_volume_created_for_it_is_released() {
    let h = Harness::start().await;
    h.fakes.charge.set_balance(PROJECT, 50_000); // 5.00, the volume costs 12.50

    let reply = h.create_volume(ANN, "data-1").await;
    reply.expect(402, 3316);

    let calls = h.fakes.volume_calls();
    let methods: Vec<_> = calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(
        methods,
        ["POST", "DELETE"],
        "{}",
        h.fakes.journal.describe()
    );
    assert!(calls
        .iter()
        .all(|c| c.name == "data-1" && c.namespace == PROJECT));
    let payments = h.fakes.payments();
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert!(payments[0].is_deduction());
    assert_eq!(payments[0].status, 400);
    assert!(
        calls[0].seq < payments[0].seq && payments[0].seq < calls[1].seq,
        "create, charge, then release:\n{}",
        h.fakes.journal.describe()
    );
    assert!(!h.fakes.volumes.exists(PROJECT, "data-1"));
    assert_eq!(h.fakes.charge.balance(PROJECT), 50_000);
    for status in ["pending", "consuming", "ending", "ended"] {
        assert_eq!(h.orders_with_status(status).await, 0, "{status}");
    }
}

#[tokio::test]
async fn a_charge_service_slower_than_the_timeout_is_a_503_and_creates_nothing() {
    let h = Harness::start().await;
    h.fakes.charge.set_condition(Condition::Slow {
        delay: SLOW,
        carried_out: false,
    });

    let started = Instant::now();
    let reply = h.create(ANN, QUOTA_SMALL).await;
    reply.expect(503, 3320);
    assert!(
        started.elapsed() < SLOW,
        "the service waited {:?}, longer than its timeout",
        started.elapsed()
    );
    // Asked once more under the same reason (harmless: the reason is taken at most once),
    // then given up on: never a third time, never a credit for money maybe never taken.
    let payments = h.fakes.payments();
    assert_eq!(payments.len(), 2, "{payments:?}");
    assert!(payments.iter().all(|p| p.is_deduction()), "{payments:?}");
    assert_eq!(payments[0].reason, payments[1].reason, "{payments:?}");
    assert!(h.fakes.quota_writes(PROJECT).is_empty());
    for status in ["pending", "consuming", "ending", "ended"] {
        assert_eq!(h.orders_with_status(status).await, 0, "{status}");
    }

    // The charge service is back: the same request now goes through.
    h.fakes.charge.set_condition(Condition::Up);
    let mark = h.fakes.journal.len();
    let reply = h.create(ANN, QUOTA_SMALL).await;
    let id = order_id(&reply);
    let payments = h.payments_since(mark);
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0].reason, format!("order:{id}:1"));
    assert_eq!(payments[0].status, 200);
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE - 200_000);
    assert_eq!(h.orders_with_status("consuming").await, 1);
    assert!(!h.fakes.quota_writes(PROJECT).is_empty());
}

#[tokio::test]
async fn a_renewal_charge_that_timed_out_is_retried_with_the_same_reason_and_taken_once() {
    let h = Harness::start().await;
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);
    let before = h.order(&id).await;
    let now = due_time(&before);
    let reason = format!("order:{id}:2");

    // The charge service takes the deduction but its answer comes too late.
    h.fakes.charge.set_condition(Condition::Slow {
        delay: SLOW,
        carried_out: true,
    });
    let mark = h.fakes.journal.len();
    let output = h.renew(now);
    let tried = h.payments_since(mark);
    assert_eq!(tried.len(), 1, "{tried:?}");
    assert_eq!(tried[0].reason, reason);
    assert_eq!(tried[0].amount, Some(200_000));
    assert_eq!(
        h.fakes.charge.balance(PROJECT),
        OPENING_BALANCE - 400_000,
        "the fake took it"
    );
    let unadvanced = h.order(&id).await;
    assert_eq!(
        unadvanced["deadlineTime"],
        before["deadlineTime"],
        "an unknown outcome must leave the order as it was; renew said:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(unadvanced["status"], "consuming");
    assert_eq!(h.usages(&id).await.len(), 1);

    // The next run asks again under the same reason; the charge service does not take it
    // twice, and the order is renewed.
    h.fakes.charge.set_condition(Condition::Up);
    let mark = h.fakes.journal.len();
    h.renew_ok(now);
    let retried = h.payments_since(mark);
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert_eq!(retried[0].reason, reason);
    assert_eq!(retried[0].amount, Some(200_000));
    assert_eq!(retried[0].status, 200);
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE - 400_000);
    let renewed = h.order(&id).await;
    assert!(time(&renewed["deadlineTime"]) > time(&before["deadlineTime"]));
    let rows = h.usages(&id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["consumeId"], 2);
    assert_eq!(minor(&rows[0]["money"]), 200_000);
}

#[tokio::test]
async fn with_the_plan_service_down_orders_are_listed_but_not_created() {
    let h = Harness::start().await;
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);

    h.fakes.plans.set_condition(Condition::Failing);
    let listed = h.app.get(&format!("/orders?project={PROJECT}"), ANN).await;
    listed.expect(200, 0);
    assert_eq!(listed.data()["results"][0]["orderId"], id.as_str());
    h.app
        .get(&format!("/orders/{id}?project={PROJECT}"), ANN)
        .await
        .expect(200, 0);

    let mark = h.fakes.journal.len();
    // A plan this process never fetched, so no cache can answer for the plan service.
    h.create_volume(ANN, "data-1").await.expect(503, 3315);
    assert!(
        h.fakes
            .journal
            .filter(|r| r.seq >= mark && r.is(Service::Plans, "GET"))
            .iter()
            .all(|r| r.status == 503),
        "{}",
        h.fakes.journal.describe()
    );
    assert!(h.payments_since(mark).is_empty());
    assert!(h.fakes.volume_calls().is_empty());
    assert_eq!(h.orders_with_status("consuming").await, 1);

    h.fakes.plans.set_condition(Condition::Up);
    order_id(&h.create_volume(ANN, "data-1").await);
}

/// Nothing charged, nothing open.
async fn assert_nothing_happened(h: &Harness) {
    assert!(
        h.fakes.payments().is_empty(),
        "{}",
        h.fakes.journal.describe()
    );
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE);
    for status in ["pending", "consuming", "ending", "ended"] {
        assert_eq!(h.orders_with_status(status).await, 0, "{status}");
    }
}

#[tokio::test]
async fn a_volume_the_platform_refuses_is_a_502_and_costs_nothing() {
    let h = Harness::start().await;
    h.fakes.volumes.add_existing(PROJECT, "data-1");

    h.create_volume(ANN, "data-1").await.expect(502, 3319);
    let calls = h.fakes.volume_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0].method.as_str(), calls[0].status), ("POST", 400));
    assert_nothing_happened(&h).await;
}

#[tokio::test]
async fn a_volume_service_down_is_a_503_and_costs_nothing() {
    let h = Harness::start().await;
    h.fakes.volumes.set_condition(Condition::Failing);

    h.create_volume(ANN, "data-1").await.expect(503, 3320);
    assert_nothing_happened(&h).await;
}

#[tokio::test]
async fn a_quota_the_platform_fails_to_set_after_the_charge_is_refunded_with_3317() {
    let h = Harness::start().await;
    h.fakes.cluster.set_condition(Condition::Failing);

    let reply = h.create(ANN, QUOTA_SMALL).await;
    reply.expect(502, 3317);
    let payments = h.fakes.payments();
    assert!(!payments.is_empty(), "{}", h.fakes.journal.describe());
    let charged = &payments[0];
    assert!(charged.is_deduction());
    assert_eq!(charged.amount, Some(200_000));
    assert_eq!(charged.status, 200);
    let order = charged
        .reason
        .strip_prefix("order:")
        .and_then(|rest| rest.strip_suffix(":1"))
        .unwrap_or_else(|| panic!("reason {}", charged.reason))
        .to_owned();

    // The order ended with a full refund, credited under its end row's reason.
    let ended = h.order(&order).await;
    assert_eq!(ended["status"], "ended");
    let reason = h.end_reason(&order).await;
    let credit = h.taken(0, "credit", &reason).await;
    assert_eq!(credit.amount, Some(200_000));
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE);
    assert_eq!(h.orders_with_status("consuming").await, 0);
}
