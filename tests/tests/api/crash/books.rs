//! Whether creates a crash interrupted were finished whole, as the books and the fake
//! platform show them once the clients, the runs and the delivery job are done.

use std::collections::BTreeMap;

use blackbox_tests::inspect::{self, OrderState, ENDED};
use blackbox_tests::seed::CONSUMING;

use super::clients::Answered;
use crate::fake_platform::Quota;
use crate::platform::harness::{payment_reason, Harness, REGION};

/// [`crate::platform::harness::QUOTA_SMALL`]'s price of a month, ten-thousandths (20.00).
pub const QUOTA_PRICE: i64 = 200_000;

/// What [`crate::platform::harness::QUOTA_SMALL`] sets.
fn small_quota() -> Quota {
    Quota::new(2, 4)
}

/// Orders by STATUS code, for the log.
pub fn by_status(orders: &[OrderState]) -> BTreeMap<i16, usize> {
    let mut counts = BTreeMap::new();
    for order in orders {
        *counts.entry(order.status).or_insert(0) += 1;
    }
    counts
}

/// The one order of the client's project, which must be the one its answer names (if it
/// names one).
#[track_caller]
pub fn the_order<'a>(orders: &'a [OrderState], client: &Answered) -> &'a OrderState {
    let mine: Vec<&OrderState> = orders
        .iter()
        .filter(|o| o.project == client.project)
        .collect();
    assert_eq!(mine.len(), 1, "{}: {mine:?}", client.project);
    if let Some(id) = client.order_id() {
        assert_eq!(id, mine[0].order_id, "{client:?}");
    }
    mine[0]
}

/// Every client created a quota order of `QUOTA_SMALL` in a project of its own, where the
/// charge service keeps the money. Each project holds exactly one order, the one its answer
/// names. Where the project `pays`, the order is open, waits for nothing, holds the quota,
/// has one row of the plan's price and the charge service took exactly that under payment
/// #1, and the quota is set on the platform; where it does not, the order ended, with no
/// row, nothing taken and no quota. The charge service took nothing else.
#[track_caller]
pub fn assert_quota_orders_complete(
    h: &Harness,
    answered: &[Answered],
    pays: impl Fn(&str) -> bool,
) {
    let orders = inspect::orders(&mut h.db()).unwrap();
    assert_eq!(
        orders.len(),
        answered.len(),
        "{} orders for {} clients: {orders:?}",
        orders.len(),
        answered.len()
    );
    let rows = inspect::money_per_order(&mut h.db()).unwrap();
    let rows_of = |order: &OrderState| rows.get(&order.order_id).copied().unwrap_or(0);
    let taken = h.fakes.charge.taken();
    for client in answered {
        let order = the_order(&orders, client);
        let project = client.project.as_str();
        let status = client.status();
        if pays(project) {
            assert!(
                matches!(status, 200..=202),
                "{project}: a project that can pay was answered {:?}",
                client.reply
            );
            assert_eq!(order.status, CONSUMING, "{order:?}");
            assert_eq!(order.awaiting_payment, None, "{order:?}");
            assert_eq!(order.active_quota.as_deref(), Some(REGION), "{order:?}");
            let reason = payment_reason(&order.order_id, 1);
            assert_eq!(
                h.fakes.charge.taken_under("deduction", &reason),
                Some(QUOTA_PRICE),
                "{reason}"
            );
            assert_eq!(h.net_taken_for(&order.order_id), QUOTA_PRICE, "{order:?}");
            assert_eq!(rows_of(order), QUOTA_PRICE, "{order:?}");
            assert_eq!(h.fakes.quota(project), Some(small_quota()), "{project}");
        } else {
            assert!(
                matches!((status, client.reply.code()), (402, 3316) | (200..=202, 0)),
                "{project}: a project that cannot pay was answered {:?}",
                client.reply
            );
            assert_eq!(order.status, ENDED, "{order:?}");
            assert_eq!(order.active_quota, None, "{order:?}");
            assert_eq!(rows_of(order), 0, "{order:?}");
            let quota = h.fakes.quota(project);
            assert!(
                quota.is_none() || quota == Some(Quota::new(0, 0)),
                "{project}: a quota without an order: {quota:?}"
            );
        }
        // Nothing else was taken from the project, under any id.
        let expected = if pays(project) { QUOTA_PRICE } else { 0 };
        assert_eq!(
            h.fakes.charge.net_taken(project),
            expected,
            "{project}: {:?}",
            taken
                .iter()
                .filter(|(_, t)| t.namespace == project)
                .collect::<Vec<_>>()
        );
    }
    let paying = answered.iter().filter(|a| pays(&a.project)).count();
    assert_eq!(
        taken.len(),
        paying,
        "one deduction per paying client: {taken:?}"
    );
}
