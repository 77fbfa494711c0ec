//! Create → renew → switch → cancel with every remote adapter, on SQLite and MariaDB.

use crate::fake_platform::{Quota, Service};
use crate::helpers::minor;

use super::harness::{
    admin_bearer, due_time, order_id, payment_reason, time, Database, Harness, ANN,
    OPENING_BALANCE, PROJECT, QUOTA_LARGE, QUOTA_SMALL, REGION, VOLUME_PLAN,
};

/// A volume order: the volume is created first, then its first cycle deducted under the
/// order's payment #1. Returns the order id.
async fn volume_order(h: &Harness) -> String {
    let volume = h.create_volume(ANN, "data-1").await;
    let id = order_id(&volume);
    assert_eq!(volume.data()["status"], "consuming");
    assert_eq!(volume.data()["moneyKeeper"], "charge-service");
    assert_eq!(volume.data()["awaitingPayment"], false);
    assert_eq!(volume.data()["planId"], VOLUME_PLAN);
    assert_eq!(volume.data()["region"], REGION);
    assert_eq!(volume.data()["creator"], "ann");
    assert_eq!(minor(&volume.data()["money"]), 125_000);
    assert!(
        h.fakes
            .journal
            .filter(|r| r.is(Service::Plans, "GET"))
            .iter()
            .any(|r| r.path.ends_with(VOLUME_PLAN) && r.query("region") == Some(REGION)),
        "the plan was not fetched from the plan service:\n{}",
        h.fakes.journal.describe()
    );

    let calls = h.fakes.volume_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let created = &calls[0];
    assert_eq!(
        (
            created.method.as_str(),
            created.namespace.as_str(),
            created.name.as_str()
        ),
        ("POST", PROJECT, "data-1")
    );
    assert_eq!(created.size, Some(10));
    assert_eq!(created.authorization, admin_bearer());
    assert_eq!(created.status, 200);
    assert!(h.fakes.volumes.exists(PROJECT, "data-1"));

    let payments = h.fakes.payments();
    assert_eq!(payments.len(), 1, "{payments:?}");
    let first = &payments[0];
    assert!(first.is_deduction(), "{first:?}");
    assert_eq!(first.reason, payment_reason(&id, 1));
    assert_eq!(first.amount, Some(125_000));
    assert_eq!(
        (first.namespace.as_str(), first.region.as_str()),
        (PROJECT, REGION)
    );
    assert_eq!(first.authorization, admin_bearer());
    assert_eq!(first.status, 200);
    assert!(
        created.seq < first.seq,
        "the volume must exist before it is charged:\n{}",
        h.fakes.journal.describe()
    );
    assert_eq!(h.fakes.charge.balance(PROJECT), OPENING_BALANCE - 125_000);
    id
}

/// A quota order: charged first, then the quota set to the plan's numbers.
async fn quota_order(h: &Harness) -> String {
    let mark = h.fakes.journal.len();
    let small = h.create(ANN, QUOTA_SMALL).await;
    let id = order_id(&small);
    assert_eq!(minor(&small.data()["money"]), 200_000);
    let payments = h.payments_since(mark);
    assert_eq!(payments.len(), 1, "{payments:?}");
    let charged = &payments[0];
    assert!(charged.is_deduction());
    assert_eq!(charged.reason, payment_reason(&id, 1));
    assert_eq!(charged.amount, Some(200_000));
    let writes = h.fakes.quota_writes(PROJECT);
    assert!(!writes.is_empty(), "{}", h.fakes.journal.describe());
    assert!(
        writes.iter().all(|(seq, _)| *seq > charged.seq),
        "the quota must be set after the charge:\n{}",
        h.fakes.journal.describe()
    );
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(2, 4)));
    id
}

/// A renewal run once the margin began charges each order's second cycle (payment #2)
/// once; the same run again charges nothing.
async fn renewal(h: &Harness, orders: [&str; 2]) {
    let mut before = Vec::new();
    for id in orders {
        before.push(h.order(id).await);
    }
    let now = before.iter().map(due_time).min().unwrap();
    let mark = h.fakes.journal.len();
    h.renew_ok(now);
    let mut seen: Vec<_> = h
        .payments_since(mark)
        .into_iter()
        .map(|p| (p.kind, p.reason, p.amount, p.status))
        .collect();
    seen.sort();
    let mut expected: Vec<_> = orders
        .iter()
        .zip([125_000, 200_000])
        .map(|(id, amount)| {
            (
                "deduction".to_owned(),
                payment_reason(id, 2),
                Some(amount),
                200,
            )
        })
        .collect();
    expected.sort();
    assert_eq!(seen, expected, "{}", h.fakes.journal.describe());
    for (id, before) in orders.iter().zip(&before) {
        let after = h.order(id).await;
        assert_eq!(after["status"], "consuming");
        assert!(
            time(&after["deadlineTime"]) > time(&before["deadlineTime"]),
            "{id} was not advanced: {after}"
        );
        assert_eq!(h.usages(id).await.len(), 2);
    }
    // Renewal leaves the resources as they are.
    assert_eq!(h.fakes.volume_calls().len(), 1);
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(2, 4)));

    let mark = h.fakes.journal.len();
    h.renew_ok(now);
    let again = h.payments_since(mark);
    assert!(again.is_empty(), "a second run charged again: {again:?}");
}

/// Switching the quota up: the new order's first cycle is deducted in full under its own
/// payment #1, then the replaced order's unused remainder is credited under its payment
/// #3 (#1 opened it, #2 renewed it); the quota takes the new plan's numbers; the volume is
/// not touched.
async fn switch_up(h: &Harness, small: &str) -> String {
    let mark = h.fakes.journal.len();
    let large = h.switch(ANN, small, QUOTA_LARGE).await;
    let id = order_id(&large);
    assert_eq!(large.data()["replaces"], small);
    assert_eq!(large.data()["replaced"]["status"], "ended");
    let net = minor(&large.data()["money"]);
    let charge = minor(&large.data()["charge"]);
    let refund = minor(&large.data()["refund"]);
    assert_eq!(charge, 500_000, "{large:?}");
    assert_eq!(net, charge - refund, "{large:?}");
    assert!(net > 0, "switching 20 → 50 costs something: {large:?}");
    let credit = h.refund_taken(mark, small).await;
    assert_eq!(credit.reason, payment_reason(small, 3));
    assert_eq!(credit.amount, Some(refund));
    let payments = h.payments_since(mark);
    let deductions: Vec<_> = payments.iter().filter(|p| p.is_deduction()).collect();
    assert_eq!(deductions.len(), 1, "{payments:?}");
    assert_eq!(deductions[0].reason, payment_reason(&id, 1));
    assert_eq!(deductions[0].amount, Some(charge));
    assert!(
        deductions[0].seq < credit.seq,
        "the refund is credited once the new cycle is taken, never before:\n{}",
        h.fakes.journal.describe()
    );
    assert!(
        h.fakes
            .quota_writes(PROJECT)
            .iter()
            .any(|(seq, quota)| *seq > deductions[0].seq && *quota == Quota::new(4, 8)),
        "{}",
        h.fakes.journal.describe()
    );
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(4, 8)));
    assert_eq!(
        h.fakes.volume_calls().len(),
        1,
        "a quota switch touched the volume"
    );
    id
}

/// Switching back down: the net is negative, yet the charge service covers the new cycle
/// in full first (payment #1 of the new order); then the replaced order's unused
/// remainder is credited under its payment #2; the quota shrinks.
async fn switch_down(h: &Harness, large: &str) -> String {
    let mark = h.fakes.journal.len();
    let back = h.switch(ANN, large, QUOTA_SMALL).await;
    let id = order_id(&back);
    let net = minor(&back.data()["money"]);
    let charge = minor(&back.data()["charge"]);
    let refund = minor(&back.data()["refund"]);
    assert!(net < 0, "switching 50 → 20 gives money back: {back:?}");
    assert_eq!((charge, net), (200_000, charge - refund), "{back:?}");
    let credit = h.refund_taken(mark, large).await;
    assert_eq!(credit.reason, payment_reason(large, 2));
    assert_eq!(credit.amount, Some(refund));
    assert_eq!(credit.authorization, admin_bearer());
    assert_eq!(
        (credit.namespace.as_str(), credit.region.as_str()),
        (PROJECT, REGION)
    );
    let deductions: Vec<_> = h
        .payments_since(mark)
        .into_iter()
        .filter(|p| p.is_deduction())
        .collect();
    assert_eq!(deductions.len(), 1, "{deductions:?}");
    assert_eq!(deductions[0].reason, payment_reason(&id, 1));
    assert_eq!(deductions[0].amount, Some(charge));
    assert!(
        deductions[0].seq < credit.seq,
        "{}",
        h.fakes.journal.describe()
    );
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(2, 4)));
    id
}

/// Cancelling: the refund is credited under the order's next payment id, the one its end
/// row is paid with, and the resource is released.
async fn cancel(h: &Harness, id: &str, refund_payment: u32) -> i64 {
    let mark = h.fakes.journal.len();
    let cancelled = h.cancel(ANN, id).await;
    cancelled.expect(200, 0);
    assert_eq!(cancelled.data()["status"], "ended");
    let refunded = minor(&cancelled.data()["refunded"]);
    assert!(refunded > 0, "{cancelled:?}");
    let credit = h.refund_taken(mark, id).await;
    assert_eq!(credit.reason, payment_reason(id, refund_payment));
    assert_eq!(credit.amount, Some(refunded));
    let rows = h.usages(id).await;
    let end: Vec<_> = rows.iter().filter(|row| row["kind"] == "end").collect();
    assert_eq!(end.len(), 1, "{rows:?}");
    assert_eq!(minor(&end[0]["money"]), -refunded);
    refunded
}

async fn life_cycle(h: &Harness) {
    let volume = volume_order(h).await;
    let small = quota_order(h).await;
    renewal(h, [&volume, &small]).await;
    let large = switch_up(h, &small).await;
    let back = switch_down(h, &large).await;

    cancel(h, &back, 2).await;
    assert_eq!(h.fakes.quota(PROJECT), Some(Quota::new(0, 0)));

    cancel(h, &volume, 3).await;
    let deleted: Vec<_> = h
        .fakes
        .volume_calls()
        .into_iter()
        .filter(|call| call.method == "DELETE")
        .collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(
        (deleted[0].namespace.as_str(), deleted[0].name.as_str()),
        (PROJECT, "data-1")
    );
    assert_eq!(deleted[0].authorization, admin_bearer());
    assert!(!h.fakes.volumes.exists(PROJECT, "data-1"));

    // The API agrees: nothing runs any more, four orders ended.
    assert_eq!(h.orders_with_status("consuming").await, 0);
    assert_eq!(h.orders_with_status("ended").await, 4);
    // Every payment was taken at its first attempt, each (type, reason) once.
    let payments = h.fakes.payments();
    assert!(payments.iter().all(|p| p.status == 200), "{payments:?}");
    let mut keys: Vec<_> = payments.iter().map(|p| (&p.kind, &p.reason)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), payments.len(), "{payments:?}");
    // For every order the charge service holds exactly what its rows say, and the books
    // reconcile.
    for id in [&volume, &small, &large, &back] {
        assert_eq!(h.net_taken_for(id), h.rows_total(id).await, "order {id}");
    }
    h.assert_reconciled();
}

#[tokio::test]
async fn an_order_is_created_renewed_switched_and_cancelled_on_the_platform() {
    let h = Harness::start().await;
    life_cycle(&h).await;
}

#[tokio::test]
async fn mysql_an_order_is_created_renewed_switched_and_cancelled_on_the_platform() {
    let Some(h) = Harness::start_on(
        Database::Mysql("platform::lifecycle::mysql_an_order_is_created_renewed_switched_and_cancelled_on_the_platform"),
        false,
    )
    .await
    else {
        return;
    };
    life_cycle(&h).await;
}

#[tokio::test]
async fn the_plans_of_a_remote_region_come_from_the_plan_service() {
    let h = Harness::start().await;
    let reply = h.app.get(&format!("/plans?region={REGION}"), ANN).await;
    reply.expect(200, 0);
    let plans = reply.data()["results"].as_array().unwrap();
    let mut ids: Vec<_> = plans
        .iter()
        .map(|p| p["planId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = [QUOTA_LARGE, QUOTA_SMALL, VOLUME_PLAN];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let volume = plans.iter().find(|p| p["planId"] == VOLUME_PLAN).unwrap();
    assert_eq!(minor(&volume["price"]), 125_000);
    assert_eq!(volume["type"], "volume");
    assert_eq!(volume["cycle"], "month");
    let quota = plans.iter().find(|p| p["planId"] == QUOTA_SMALL).unwrap();
    assert_eq!(quota["type"], "resources");
    let listed = h.fakes.journal.filter(|r| {
        r.is(Service::Plans, "GET")
            && r.path == "/charge/v1/plans"
            && r.query("region") == Some(REGION)
    });
    assert!(!listed.is_empty(), "{}", h.fakes.journal.describe());
}
