//! What the service does when the platform says no or does not answer: a declined charge,
//! a charge service slower than the timeout (on create and in a renewal run), the plan
//! service down, the volume service down or refusing, a quota refused or not set in time.

use std::time::{Duration, Instant};

use crate::fake_platform::{Condition, Quota, Service, VolumeCall};
use crate::helpers::minor;

use super::harness::{
    due_time, order_id, payment_reason, time, Harness, ANN, BACKGROUND, OPENING_BALANCE, PROJECT,
    QUOTA_SMALL,
};

/// Longer than the configured timeout (`timeout_ms = 1000`).
const SLOW: Duration = Duration::from_secs(4);

#[tokio::test]
async fn a_declined_charge_is_a_402_the_pending_order_ends_and_its_volume_is_released() {
    let h = Harness::start().await;
    h.fakes.charge.set_balance(PROJECT, 50_000); // 5.00, the volume costs 12.50

    let reply = h.create_volume(ANN, "data-1").await;
    reply.expect(402, 3316);

    // The volume was created first, then the charge declined, then the volume released.
    let release = h
        .fakes
        .journal
        .wait_for("the volume's release", BACKGROUND, |r| {
            VolumeCall::of(r).is_some_and(|c| c.method == "DELETE")
        })
        .await;
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
        .all(|c| c.name == "data-1" && c.namespace == PROJECT && c.status == 200));
    let payments = h.fakes.payments();
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert!(payments[0].is_deduction());
    assert_eq!(payments[0].status, 400);
    assert!(
        calls[0].seq < payments[0].seq && payments[0].seq < release.seq,
        "create, charge, then release:\n{}",
        h.fakes.journal.describe()
    );
    assert!(!h.fakes.volumes.exists(PROJECT, "data-1"));
    assert_eq!(h.fakes.charge.balance(PROJECT), 50_000);

    // The pending order was written first; it ended without a row, nothing charged.
    for status in ["pending", "consuming", "ending"] {
        assert_eq!(h.orders_with_status(status).await, 0, "{status}");
    }
    assert_eq!(h.orders_with_status("ended").await, 1);
    let ended = h
        .app
        .get(&format!("/orders?project={PROJECT}&status=ended"), ANN)
        .await;
    let id = ended.data()["results"][0]["orderId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(payments[0].reason, payment_reason(&id, 1));
    assert!(h.usages(&id).await.is_empty());
    assert_eq!(h.net_taken_for(&id), 0);
    h.assert_reconciled();
}

#[tokio::test]
async fn a_declined_charge_says_insufficient_balance_and_the_amount_needed_nothing_more() {
    let h = Harness::start().await;
    h.fakes.charge.set_balance(PROJECT, 50_000);

    let reply = h.create_volume(ANN, "data-1").await;
    reply.expect(402, 3316);
    // Not the charge service's words, the payment's reason nor the region: those are
    // logged.
    assert_eq!(
        reply.msg(),
        "insufficient balance: 12.50 needed",
        "{reply:?}"
    );
}

#[tokio::test]
async fn a_charge_service_slower_than_the_timeout_is_a_202_and_the_order_opens_once_taken() {
    let h = Harness::start().await;
    h.fakes.charge.set_condition(Condition::Slow {
        delay: SLOW,
        carried_out: false,
    });

    let started = Instant::now();
    let reply = h.create(ANN, QUOTA_SMALL).await;
    reply.expect(202, 0);
    assert!(
        started.elapsed() < SLOW,
        "the service waited {:?}, longer than its timeout",
        started.elapsed()
    );
    let id = reply.data()["orderId"].as_str().unwrap().to_owned();
    assert_eq!(reply.data()["status"], "pending");
    assert_eq!(reply.data()["awaitingPayment"], true);
    // Asked once more under the same id (harmless: the id is taken at most once), then
    // left to the settler: never a credit for money maybe never taken.
    let payments = h.fakes.payments();
    assert_eq!(payments.len(), 2, "{payments:?}");
    assert!(payments.iter().all(|p| p.is_deduction()), "{payments:?}");
    assert!(
        payments.iter().all(|p| p.reason == payment_reason(&id, 1)),
        "{payments:?}"
    );
    assert!(h.fakes.quota_writes(PROJECT).is_empty());
    assert_eq!(h.order(&id).await["status"], "pending");
    assert!(h.usages(&id).await.is_empty());
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE);

    // The charge service is back: the settler sends the payment again and the order opens.
    h.fakes.charge.set_condition(Condition::Up);
    h.deliver_due_now();
    let opened = h.wait_for_status(&id, "consuming").await;
    assert_eq!(opened["awaitingPayment"], false);
    assert_eq!(
        h.fakes
            .charge
            .taken_under("deduction", &payment_reason(&id, 1)),
        Some(200_000)
    );
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE - 200_000);
    let rows = h.usages(&id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(minor(&rows[0]["money"]), 200_000);
    // The quota is set once the order opened.
    let quota = h
        .fakes
        .journal
        .wait_for("the quota", BACKGROUND, |r| {
            r.service == Service::Platform && r.method != "GET" && r.path.contains("resourcequotas")
        })
        .await;
    assert!(quota.status < 300, "{quota}");
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(2, 4)));
    assert_eq!(h.net_taken_for(&id), h.rows_total(&id).await);
    h.assert_reconciled();
}

#[tokio::test]
async fn a_renewal_charge_that_timed_out_is_retried_with_the_same_reason_and_taken_once() {
    let h = Harness::start().await;
    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);
    let before = h.order(&id).await;
    let now = due_time(&before);
    let reason = payment_reason(&id, 2);

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
    assert_eq!(unadvanced["awaitingPayment"], true);
    assert_eq!(h.usages(&id).await.len(), 1);

    // A later run asks again under the same reason, once its back-off has passed; the
    // charge service does not take it twice (it answers that it holds the same amount),
    // and the order is renewed.
    h.fakes.charge.set_condition(Condition::Up);
    let mark = h.fakes.journal.len();
    h.renew_ok(now + chrono::Duration::minutes(1));
    let retried = h.payments_since(mark);
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert_eq!(retried[0].reason, reason);
    assert_eq!(retried[0].amount, Some(200_000));
    assert_eq!(retried[0].status, 409, "a repeat of what it took");
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE - 400_000);
    let renewed = h.order(&id).await;
    assert!(time(&renewed["deadlineTime"]) > time(&before["deadlineTime"]));
    assert_eq!(renewed["awaitingPayment"], false);
    let rows = h.usages(&id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["consumeId"], 2);
    assert_eq!(minor(&rows[0]["money"]), 200_000);
    assert_eq!(h.net_taken_for(&id), h.rows_total(&id).await);
    h.assert_reconciled();
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
async fn a_quota_the_platform_refuses_after_the_charge_is_a_502_3317_and_refunded() {
    let h = Harness::start().await;
    h.fakes.cluster.refuse_writes(Some(403));

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
        .strip_prefix("pay:")
        .and_then(|rest| rest.strip_suffix(":1"))
        .unwrap_or_else(|| panic!("reason {}", charged.reason))
        .to_owned();

    // The order ended with a full refund, credited under its next payment id.
    let ended = h.order(&order).await;
    assert_eq!(ended["status"], "ended");
    let credit = h.refund_taken(0, &order).await;
    assert_eq!(credit.reason, payment_reason(&order, 2));
    assert_eq!(credit.amount, Some(200_000));
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE);
    assert_eq!(h.orders_with_status("consuming").await, 0);
    assert_eq!(h.net_taken_for(&order), 0);
    assert_eq!(h.rows_total(&order).await, 0);
    assert!(h.fakes.quota(PROJECT).is_none());
    h.assert_reconciled();
}

#[tokio::test]
async fn a_quota_the_platform_cannot_set_now_is_set_by_the_task_runner_later() {
    let h = Harness::start().await;
    h.fakes.cluster.set_condition(Condition::Failing);

    let id = order_id(&h.create(ANN, QUOTA_SMALL).await);
    let order = h.order(&id).await;
    assert_eq!(order["status"], "consuming");
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE - 200_000);
    assert!(h.fakes.quota(PROJECT).is_none());
    assert!(
        h.fakes
            .journal
            .filter(|r| r.service == Service::Platform && r.path.contains("resourcequotas"))
            .iter()
            .all(|r| r.status == 503),
        "{}",
        h.fakes.journal.describe()
    );

    h.fakes.cluster.set_condition(Condition::Up);
    h.deliver_due_now();
    let deadline = Instant::now() + BACKGROUND;
    while h.fakes.quota(PROJECT).is_none() {
        assert!(Instant::now() < deadline, "{}", h.fakes.journal.describe());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(2, 4)));
    // Nothing was refunded: the order runs on.
    assert_eq!(h.order(&id).await["status"], "consuming");
    assert!(h.fakes.payments().iter().all(|p| p.is_deduction()));
    assert_eq!(h.net_taken_for(&id), h.rows_total(&id).await);
    h.assert_reconciled();
}
