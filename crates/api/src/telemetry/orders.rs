//! Cancels, counted by the handler once the use case committed one. (Orders opened, ended
//! and switched are counted by infra-mysql's change writer from the events a change
//! commits; a cancel's `order_ended` event counts it among the ended too.)

use domain::ids::Region;

pub const ORDERS_CANCELLED: &str = "serviceusage_orders_cancelled_total";

/// An order of `region` was cancelled.
pub fn cancelled(region: &Region) {
    metrics::counter!(ORDERS_CANCELLED, "region" => region.as_str().to_owned()).increment(1);
}

pub(super) fn describe() {
    metrics::describe_counter!(
        ORDERS_CANCELLED,
        "Orders cancelled by their project (PUT /orders/{orderId} action cancel), by region"
    );
}
