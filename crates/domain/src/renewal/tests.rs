//! The renewal rules, one behaviour per test. Orders start on Jan 31 2017 at 10:00 UTC on a
//! monthly plan at 99.00 unless a test says otherwise, so month-end clamping is always in
//! play; the local ledger keeps their money unless a test says otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;

use super::*;
use crate::cycle::Cycle;
use crate::ids::Quantity;
use crate::payment::{PaymentDirection, PaymentState};
use crate::testing::{money, utc, OrderBuilder, PlanBuilder};

const START: &str = "2017-01-31T10:00:00Z";
const FEB_28: &str = "2017-02-28T10:00:00Z";
const MAR_31: &str = "2017-03-31T10:00:00Z";
const APR_30: &str = "2017-04-30T10:00:00Z";
const MAY_31: &str = "2017-05-31T10:00:00Z";

fn plan() -> Plan {
    PlanBuilder::default()
        .id("quota-2c4g")
        .plan_type("resources")
        .price("99")
        .build()
}

fn postpaid_plan() -> Plan {
    Plan {
        mode: ChargingMode::Postpaid,
        ..plan()
    }
}

/// A consuming prepaid order started Jan 31, paid (row 1, payment 1) until Feb 28.
fn order() -> Order {
    OrderBuilder::default().plan(&plan()).start(START).build()
}

/// A consuming postpaid order started Jan 31 with nothing billed: its first cycle ends Feb 28.
fn postpaid_order() -> Order {
    OrderBuilder::default()
        .plan(&postpaid_plan())
        .start(START)
        .postpaid()
        .build()
}

fn charged_by_service(order: Order) -> Order {
    Order {
        terms: crate::order::Terms {
            keeper: MoneyKeeper::ChargeService,
            ..order.terms
        },
        ..order
    }
}

/// `order` having paid rows up to `last`, one payment each, until `deadline`.
fn paid_until(order: Order, deadline: &str, last: u32) -> Order {
    Order {
        deadline_time: utc(deadline),
        last_consume_id: last,
        payment_seq: order.payment_seq + (last - order.last_consume_id),
        ..order
    }
}

/// A run at `now` that knows `plan`.
fn run_with(now: &str, plan: Plan) -> RenewalRun {
    RenewalRun {
        now: utc(now),
        policy: BillingPolicy::default(),
        plans: HashMap::from([(plan.id.clone(), PlanLookup::Found(plan))]),
    }
}

fn run(now: &str) -> RenewalRun {
    run_with(now, plan())
}

fn plenty() -> Money {
    money("100000")
}

fn kinds(decision: &RenewalDecision) -> Vec<NotificationKind> {
    decision.events.iter().map(|event| event.kind).collect()
}

/// A row's (consume id, amount, time, covered until, kind): what the rules decide.
type RowShape = (u32, Money, DateTime<Utc>, DateTime<Utc>, ConsumptionKind);

fn rows(decision: &RenewalDecision) -> Vec<RowShape> {
    decision
        .rows
        .iter()
        .map(|row| {
            (
                row.consume_id,
                row.amount,
                row.time,
                row.covered_until,
                row.kind,
            )
        })
        .collect()
}

fn renew_row(id: u32, amount: &str, from: &str, until: &str) -> RowShape {
    (
        id,
        money(amount),
        utc(from),
        utc(until),
        ConsumptionKind::Renew,
    )
}

fn end_row(id: u32, amount: &str, at: &str) -> RowShape {
    (id, money(amount), utc(at), utc(at), ConsumptionKind::End)
}

fn assert_untouched(decision: &RenewalDecision, order: &Order) {
    assert_eq!(decision.before, *order);
    assert_eq!(decision.after, *order);
    assert!(decision.rows.is_empty() && decision.events.is_empty());
    assert!(decision.payments.is_empty() && decision.ledger.is_none());
    assert!(!decision.changes());
}

// --- due or not -------------------------------------------------------------------------

#[test]
fn prepaid_order_outside_the_margin_is_not_due() {
    let decision = run("2017-02-21T09:59:59Z").decide(&order(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::NotDue);
    assert_untouched(&decision, &order());
}

#[test]
fn prepaid_order_is_due_exactly_one_margin_before_its_deadline() {
    let decision = run("2017-02-21T10:00:00Z").decide(&order(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
}

#[test]
fn ended_and_pending_orders_are_never_due() {
    for status in [OrderStatus::Ended, OrderStatus::Pending] {
        let order = Order { status, ..order() };
        let decision = run("2017-06-01T00:00:00Z").decide(&order, plenty());
        assert_eq!(decision.outcome, RenewalOutcome::NotDue, "{status:?}");
        assert_untouched(&decision, &order);
    }
}

#[test]
fn orders_a_payment_or_a_switch_holds_are_never_due() {
    let awaiting = Order {
        awaiting_payment: Some(2),
        ..order()
    };
    let replaced = Order {
        replaced_by: Some(OrderId::parse("new").unwrap()),
        ..order()
    };
    for held in [awaiting, replaced] {
        let decision = run("2017-06-01T00:00:00Z").decide(&held, plenty());
        assert_eq!(decision.outcome, RenewalOutcome::NotDue);
        assert_untouched(&decision, &held);
    }
}

// --- one cycle ------------------------------------------------------------------------

#[test]
fn due_prepaid_order_is_charged_the_cycle_starting_at_its_deadline() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(rows(&decision), [renew_row(2, "99", FEB_28, MAR_31)]);
    let row = &decision.rows[0];
    assert_eq!(
        (&row.order_id, &row.project, &row.region, &row.plan_id),
        (
            &order().id,
            &order().project,
            &order().region,
            &order().plan_id
        )
    );
}

#[test]
fn each_charged_cycle_has_its_own_settled_ledger_payment() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    let [payment] = decision.payments.as_slice() else {
        panic!("{:?}", decision.payments);
    };
    assert_eq!(payment.id.to_string(), "pay:order-1:2");
    assert_eq!(
        (payment.consume_id, payment.amount, payment.direction),
        (2, money("99"), PaymentDirection::Deduction)
    );
    assert_eq!(
        (payment.state, payment.keeper, payment.deferred),
        (PaymentState::Settled, MoneyKeeper::LocalLedger, false)
    );
}

#[test]
fn the_ledger_moves_by_the_cycles_charged_guarded_so_the_balance_covers_them() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(
        decision.ledger,
        Some(LedgerMove {
            project: order().project,
            amount: money("99"),
            requires: Some(money("99")),
        })
    );
    decision.change().unwrap();
}

#[test]
fn charged_order_moves_its_deadline_and_counters() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(decision.after, paid_until(order(), MAR_31, 2));
    assert_eq!(decision.before, order());
}

#[test]
fn charge_resets_retries_and_the_last_warning() {
    let warned = Order {
        renew_retries: 4,
        last_warned_at: Some(utc("2017-02-24T00:00:00Z")),
        ..order()
    };
    let decision = run("2017-02-25T00:00:00Z").decide(&warned, plenty());
    assert_eq!(decision.after.renew_retries, 0);
    assert_eq!(decision.after.last_warned_at, None);
}

#[test]
fn charge_sends_one_renewed_event_with_the_amount() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(kinds(&decision), [NotificationKind::OrderRenewed]);
    let event = &decision.events[0];
    assert_eq!(event.amount, Some(money("99")));
    assert_eq!(event.time, utc("2017-02-25T00:00:00Z"));
    assert_eq!(event.order_id, order().id);
    assert_eq!(event.project, order().project);
    assert!(
        event.message.contains("paid until 2017-03-31"),
        "{}",
        event.message
    );
}

#[test]
fn balance_exactly_covering_the_cycle_pays_it() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), money("99"));
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(decision.charged(), money("99"));
}

#[test]
fn quantities_multiply_the_price() {
    let three = Order {
        quantities: Quantity::new(3).unwrap(),
        ..order()
    };
    let decision = run("2017-02-25T00:00:00Z").decide(&three, plenty());
    assert_eq!(rows(&decision), [renew_row(2, "297", FEB_28, MAR_31)]);
}

#[test]
fn a_prepaid_cycle_is_charged_at_the_catalogs_current_price_which_the_order_then_keeps() {
    let dearer = Plan {
        price: money("120"),
        ..plan()
    };
    let decision = run_with("2017-02-25T00:00:00Z", dearer).decide(&order(), plenty());
    assert_eq!(decision.charged(), money("120"));
    assert_eq!(decision.after.terms.price, money("120"));
}

#[test]
fn the_orders_own_cycle_is_renewed_whatever_the_catalog_now_says() {
    let now_yearly = Plan {
        cycle: Cycle::Year,
        ..plan()
    };
    let decision = run_with("2017-02-25T00:00:00Z", now_yearly).decide(&order(), plenty());
    assert_eq!(rows(&decision), [renew_row(2, "99", FEB_28, MAR_31)]);
    assert_eq!(decision.after.terms.cycle, Cycle::Month);
}

#[test]
fn zero_price_plan_still_writes_a_row_of_zero_with_no_payment() {
    let free = Plan {
        price: Money::ZERO,
        ..plan()
    };
    let decision = run_with("2017-02-25T00:00:00Z", free).decide(&order(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(rows(&decision), [renew_row(2, "0", FEB_28, MAR_31)]);
    assert_eq!((decision.charged(), decision.cycles), (Money::ZERO, 1));
    assert!(decision.payments.is_empty() && decision.ledger.is_none());
    assert!(decision.changes());
}

// --- several cycles ---------------------------------------------------------------------

#[test]
fn missed_cycles_are_each_charged_in_order() {
    // Due by May 2: the cycles starting Feb 28, Mar 31 and Apr 30.
    let decision = run("2017-04-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(
        rows(&decision),
        [
            renew_row(2, "99", FEB_28, MAR_31),
            renew_row(3, "99", MAR_31, APR_30),
            renew_row(4, "99", APR_30, MAY_31),
        ]
    );
    assert_eq!(decision.after, paid_until(order(), MAY_31, 4));
    assert_eq!((decision.charged(), decision.cycles), (money("297"), 3));
    let seqs: Vec<_> = decision.payments.iter().map(|p| p.id.seq).collect();
    assert_eq!(seqs, [2, 3, 4]);
    assert_eq!(kinds(&decision), [NotificationKind::OrderRenewed]);
    assert_eq!(decision.events[0].amount, Some(money("297")));
}

#[test]
fn missed_cycles_are_charged_while_the_balance_allows_then_the_order_is_unpaid() {
    // Three cycles due by May 10, balance for two: paid until Apr 30, overdue since then.
    let now = "2017-05-03T00:00:00Z";
    let decision = run(now).decide(&order(), money("250"));
    assert_eq!(
        rows(&decision),
        [
            renew_row(2, "99", FEB_28, MAR_31),
            renew_row(3, "99", MAR_31, APR_30),
        ]
    );
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert_eq!(decision.after.deadline_time, utc(APR_30));
    assert_eq!(decision.after.status, OrderStatus::Ending);
    assert_eq!(decision.after.renew_retries, 1);
    assert_eq!(decision.after.last_warned_at, Some(utc(now)));
    assert_eq!(
        decision.ledger.as_ref().map(|m| m.amount),
        Some(money("198"))
    );
    assert_eq!(
        kinds(&decision),
        [
            NotificationKind::OrderRenewed,
            NotificationKind::OrderEnding,
            NotificationKind::RenewalFailed
        ]
    );
}

#[test]
fn catch_up_that_leaves_the_order_past_its_grace_ends_it_at_the_last_paid_deadline() {
    // Down until May 20: one cycle paid (to Mar 31), whose grace ran out on Apr 7.
    let decision = run("2017-05-20T00:00:00Z").decide(&order(), money("100"));
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(
        rows(&decision),
        [renew_row(2, "99", FEB_28, MAR_31), end_row(3, "0", MAR_31)]
    );
    assert_eq!(decision.after.end_time, Some(utc(MAR_31)));
    assert_eq!(decision.charged(), money("99"));
    assert_eq!(decision.cycles, 1);
    decision.change().unwrap();
}

// --- month ends and years ---------------------------------------------------------------

#[test]
fn renewal_from_feb_28_of_an_order_started_jan_31_lands_on_mar_31() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(decision.rows[0].covered_until, utc(MAR_31));
}

#[test]
fn renewal_of_an_order_started_dec_31_lands_on_feb_29_in_a_leap_year_then_mar_31() {
    let order = OrderBuilder::default()
        .plan(&plan())
        .start("2015-12-31T10:00:00Z")
        .build();
    let decision = run("2016-02-25T00:00:00Z").decide(&order, plenty());
    assert_eq!(
        rows(&decision),
        [
            renew_row(2, "99", "2016-01-31T10:00:00Z", "2016-02-29T10:00:00Z"),
            renew_row(3, "99", "2016-02-29T10:00:00Z", "2016-03-31T10:00:00Z"),
        ]
    );
}

#[test]
fn monthly_order_started_feb_29_renews_on_the_29th() {
    let order = OrderBuilder::default()
        .plan(&plan())
        .start("2016-02-29T10:00:00Z")
        .build();
    let decision = run("2016-03-25T00:00:00Z").decide(&order, plenty());
    assert_eq!(
        rows(&decision),
        [renew_row(
            2,
            "99",
            "2016-03-29T10:00:00Z",
            "2016-04-29T10:00:00Z"
        )]
    );
}

fn yearly() -> Plan {
    Plan {
        price: money("999"),
        cycle: Cycle::Year,
        ..plan()
    }
}

fn yearly_order(start: &str) -> Order {
    OrderBuilder::default().plan(&yearly()).start(start).build()
}

#[test]
fn year_plan_is_charged_its_yearly_price_for_a_natural_year() {
    let order = yearly_order("2017-06-15T08:00:00Z");
    let decision = run_with("2018-06-10T00:00:00Z", yearly()).decide(&order, plenty());
    assert_eq!(
        rows(&decision),
        [renew_row(
            2,
            "999",
            "2018-06-15T08:00:00Z",
            "2019-06-15T08:00:00Z"
        )]
    );
}

#[test]
fn year_plan_started_feb_29_renews_on_feb_28_then_feb_29_in_the_next_leap_year() {
    let order = yearly_order("2016-02-29T10:00:00Z");
    assert_eq!(order.deadline_time, utc(FEB_28));
    let decision = run_with("2017-02-25T00:00:00Z", yearly()).decide(&order, plenty());
    assert_eq!(
        rows(&decision),
        [renew_row(2, "999", FEB_28, "2018-02-28T10:00:00Z")]
    );
    let later = Order {
        deadline_time: utc("2019-02-28T10:00:00Z"),
        last_consume_id: 3,
        payment_seq: 3,
        ..order
    };
    let decision = run_with("2019-02-25T00:00:00Z", yearly()).decide(&later, plenty());
    assert_eq!(
        rows(&decision),
        [renew_row(
            4,
            "999",
            "2019-02-28T10:00:00Z",
            "2020-02-29T10:00:00Z"
        )]
    );
}

#[test]
fn a_yearly_order_renews_past_2038() {
    let order = yearly_order("2037-06-15T08:00:00Z");
    let decision = run_with("2040-01-01T00:00:00Z", yearly()).decide(&order, plenty());
    let until: Vec<_> = decision.rows.iter().map(|r| r.covered_until).collect();
    assert_eq!(
        until,
        [utc("2039-06-15T08:00:00Z"), utc("2040-06-15T08:00:00Z")]
    );
}

// --- unpaid, grace, ending ----------------------------------------------------------------

#[test]
fn short_balance_before_the_deadline_keeps_the_order_consuming_and_warns_once() {
    let now = "2017-02-25T00:00:00Z";
    let decision = run(now).decide(&order(), money("98.9999"));
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert!(decision.rows.is_empty() && decision.payments.is_empty());
    assert_eq!(
        decision.after,
        Order {
            renew_retries: 1,
            last_warned_at: Some(utc(now)),
            ..order()
        }
    );
    assert_eq!(kinds(&decision), [NotificationKind::RenewalFailed]);
    assert!(decision.events[0].message.contains("does not cover"));
    assert!(decision.changes());
    assert_eq!((decision.charged(), decision.cycles), (Money::ZERO, 0));
    assert_eq!(decision.ledger, None);
}

#[test]
fn a_prepaid_renewal_never_takes_the_balance_below_zero() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), money("-1"));
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert!(decision.rows.is_empty());
}

#[test]
fn short_balance_at_the_deadline_makes_the_order_ending_with_one_event() {
    let decision = run(FEB_28).decide(&order(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert_eq!(decision.after.status, OrderStatus::Ending);
    assert_eq!(decision.after.end_time, None);
    assert_eq!(
        kinds(&decision),
        [
            NotificationKind::OrderEnding,
            NotificationKind::RenewalFailed
        ]
    );
    assert!(decision.events[0].message.contains("2017-03-07"));
}

#[test]
fn an_ending_order_is_not_announced_as_ending_again() {
    let ending = Order {
        status: OrderStatus::Ending,
        renew_retries: 3,
        last_warned_at: Some(utc("2017-03-01T00:00:00Z")),
        ..order()
    };
    let decision = run("2017-03-03T00:00:00Z").decide(&ending, Money::ZERO);
    assert_eq!(decision.after.status, OrderStatus::Ending);
    assert_eq!(decision.after.renew_retries, 4);
    assert_eq!(kinds(&decision), [NotificationKind::RenewalFailed]);
}

#[test]
fn warning_is_sent_at_most_once_per_interval() {
    let warned_at = utc("2017-03-01T12:00:00Z");
    let ending = Order {
        status: OrderStatus::Ending,
        last_warned_at: Some(warned_at),
        ..order()
    };
    let soon = warned_at + Duration::hours(24) - Duration::microseconds(1);
    let quiet = run(&soon.to_rfc3339()).decide(&ending, Money::ZERO);
    assert!(quiet.events.is_empty());
    assert_eq!(quiet.after.last_warned_at, Some(warned_at));
    assert_eq!(quiet.after.renew_retries, 1);
    assert!(quiet.changes());

    let a_day_later = warned_at + Duration::hours(24);
    let warned = run(&a_day_later.to_rfc3339()).decide(&ending, Money::ZERO);
    assert_eq!(kinds(&warned), [NotificationKind::RenewalFailed]);
    assert_eq!(warned.after.last_warned_at, Some(a_day_later));
}

#[test]
fn unpaid_prepaid_order_ends_at_its_deadline_once_the_grace_period_has_run_out() {
    let ending = Order {
        status: OrderStatus::Ending,
        renew_retries: 6,
        last_warned_at: Some(utc("2017-03-06T00:00:00Z")),
        ..order()
    };
    let now = "2017-03-07T10:00:00Z";
    let decision = run(now).decide(&ending, Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(
        decision.after,
        Order {
            status: OrderStatus::Ended,
            end_time: Some(utc(FEB_28)),
            last_consume_id: 2,
            ..ending.clone()
        }
    );
    assert_eq!(rows(&decision), [end_row(2, "0", FEB_28)]);
    assert!(decision.payments.is_empty() && decision.ledger.is_none());
    assert_eq!(kinds(&decision), [NotificationKind::OrderEnded]);
    assert_eq!(decision.events[0].time, utc(now));
    assert_eq!((decision.charged(), decision.cycles), (Money::ZERO, 0));
}

#[test]
fn an_order_ended_after_its_grace_has_its_resource_released_by_a_task() {
    let decision = run("2017-04-01T00:00:00Z").decide(&order(), Money::ZERO);
    let [task] = decision.tasks.as_slice() else {
        panic!("{:?}", decision.tasks);
    };
    assert_eq!(task.resource.order_id, order().id);
    assert_eq!(task.action, crate::provisioning::TaskAction::SyncQuota);
}

#[test]
fn unpaid_order_one_microsecond_before_its_grace_runs_out_is_still_ending() {
    let ending = Order {
        status: OrderStatus::Ending,
        ..order()
    };
    let now = utc("2017-03-07T10:00:00Z") - Duration::microseconds(1);
    let decision = run(&now.to_rfc3339()).decide(&ending, Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert_eq!(decision.after.status, OrderStatus::Ending);
}

#[test]
fn consuming_order_found_past_its_grace_ends_directly() {
    let decision = run("2017-04-01T00:00:00Z").decide(&order(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(decision.after.end_time, Some(utc(FEB_28)));
    assert_eq!(kinds(&decision), [NotificationKind::OrderEnded]);
}

#[test]
fn top_up_during_the_grace_period_brings_the_order_back_with_the_missed_cycle_charged() {
    let ending = Order {
        status: OrderStatus::Ending,
        renew_retries: 3,
        last_warned_at: Some(utc("2017-03-02T00:00:00Z")),
        ..order()
    };
    let decision = run("2017-03-03T00:00:00Z").decide(&ending, money("99"));
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(rows(&decision), [renew_row(2, "99", FEB_28, MAR_31)]);
    assert_eq!(decision.after, paid_until(order(), MAR_31, 2));
    assert_eq!(kinds(&decision), [NotificationKind::OrderRenewed]);
}

#[test]
fn custom_grace_and_warning_interval_are_honoured() {
    let mut short_grace = run("2017-03-02T10:00:00Z");
    short_grace.policy.renewal.grace = Duration::days(2);
    let decision = short_grace.decide(&order(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Ended);

    let mut hourly = run("2017-03-01T00:00:00Z");
    hourly.policy.renewal.warning_interval = Duration::hours(1);
    let ending = Order {
        status: OrderStatus::Ending,
        last_warned_at: Some(utc("2017-02-28T23:00:00Z")),
        ..order()
    };
    assert_eq!(
        kinds(&hourly.decide(&ending, Money::ZERO)),
        [NotificationKind::RenewalFailed]
    );
}

// --- the catalog ----------------------------------------------------------------------------

fn withdrawn(now: &str) -> RenewalRun {
    RenewalRun {
        plans: HashMap::from([(plan().id, PlanLookup::Withdrawn)]),
        ..run(now)
    }
}

#[test]
fn withdrawn_plan_is_treated_as_unpaid() {
    let decision = withdrawn("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert!(decision.rows.is_empty());
    assert_eq!(decision.after.renew_retries, 1);
    assert_eq!(kinds(&decision), [NotificationKind::RenewalFailed]);
    assert!(decision.events[0].message.contains("withdrawn"));
}

#[test]
fn order_on_a_withdrawn_plan_ends_at_its_deadline_after_the_grace() {
    let decision = withdrawn("2017-03-08T00:00:00Z").decide(&order(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(decision.after.end_time, Some(utc(FEB_28)));
    assert_eq!(rows(&decision), [end_row(2, "0", FEB_28)]);
}

#[test]
fn order_whose_plan_could_not_be_looked_up_is_skipped_untouched() {
    let run = RenewalRun {
        plans: HashMap::new(),
        ..run("2017-04-01T00:00:00Z")
    };
    let decision = run.decide(&order(), plenty());
    assert!(
        matches!(&decision.outcome, RenewalOutcome::Skipped(why) if why.contains("quota-2c4g")),
        "{:?}",
        decision.outcome
    );
    assert_untouched(&decision, &order());
}

#[test]
fn price_overflow_is_skipped_not_a_panic() {
    let huge = Plan {
        price: Money::MAX,
        ..plan()
    };
    let two = Order {
        quantities: Quantity::new(2).unwrap(),
        ..order()
    };
    let decision = run_with("2017-02-25T00:00:00Z", huge).decide(&two, plenty());
    assert!(matches!(decision.outcome, RenewalOutcome::Skipped(_)));
    assert_untouched(&decision, &two);
}

#[test]
fn order_without_room_for_another_row_is_skipped() {
    let full = Order {
        last_consume_id: u32::MAX,
        ..order()
    };
    let decision = run("2017-02-25T00:00:00Z").decide(&full, plenty());
    assert!(matches!(decision.outcome, RenewalOutcome::Skipped(_)));
    assert_untouched(&decision, &full);
}

// --- postpaid -------------------------------------------------------------------------------

#[test]
fn postpaid_order_is_not_due_before_its_cycle_ends_whatever_the_margin() {
    let decision =
        run_with("2017-02-28T09:59:59Z", postpaid_plan()).decide(&postpaid_order(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::NotDue);
    assert_untouched(&decision, &postpaid_order());
}

#[test]
fn postpaid_order_pays_the_cycle_just_used_in_full_at_its_end() {
    let decision = run_with(FEB_28, postpaid_plan()).decide(&postpaid_order(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(rows(&decision), [renew_row(1, "99", START, FEB_28)]);
    assert_eq!(decision.after, paid_until(postpaid_order(), MAR_31, 1));
}

#[test]
fn postpaid_order_pays_every_elapsed_cycle_in_order() {
    let decision =
        run_with("2017-04-30T12:00:00Z", postpaid_plan()).decide(&postpaid_order(), plenty());
    assert_eq!(
        rows(&decision),
        [
            renew_row(1, "99", START, FEB_28),
            renew_row(2, "99", FEB_28, MAR_31),
            renew_row(3, "99", MAR_31, APR_30),
        ]
    );
    assert_eq!(decision.after.deadline_time, utc(MAY_31));
    assert_eq!(decision.after.last_consume_id, 3);
}

#[test]
fn postpaid_cycles_are_charged_at_the_price_they_ran_at_and_the_next_at_the_catalogs() {
    let dearer = Plan {
        price: money("150"),
        ..postpaid_plan()
    };
    let decision =
        run_with("2017-03-31T12:00:00Z", dearer.clone()).decide(&postpaid_order(), plenty());
    assert_eq!(
        rows(&decision),
        [
            renew_row(1, "99", START, FEB_28),
            renew_row(2, "99", FEB_28, MAR_31),
        ]
    );
    assert_eq!(decision.after.terms.price, money("150"));
    let next = run_with("2017-04-30T12:00:00Z", dearer).decide(&decision.after, plenty());
    assert_eq!(rows(&next), [renew_row(3, "150", MAR_31, APR_30)]);
}

#[test]
fn a_postpaid_order_the_balance_stops_short_keeps_its_price_for_the_cycles_it_owes() {
    let dearer = Plan {
        price: money("150"),
        ..postpaid_plan()
    };
    let decision = run_with("2017-03-31T12:00:00Z", dearer).decide(&postpaid_order(), money("99"));
    assert_eq!(rows(&decision), [renew_row(1, "99", START, FEB_28)]);
    assert_eq!(decision.after.terms.price, money("99"));
}

#[test]
fn postpaid_usage_may_run_the_balance_down_to_minus_the_credit_limit() {
    let mut run = run_with(FEB_28, postpaid_plan());
    run.policy.credit_limit = money("50");
    let decision = run.decide(&postpaid_order(), money("49"));
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(
        decision.ledger,
        Some(LedgerMove {
            project: postpaid_order().project,
            amount: money("99"),
            requires: Some(money("49")),
        })
    );
    let decision = run.decide(&postpaid_order(), money("48.9999"));
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
}

/// A postpaid order that paid its first cycle (to Feb 28); the one ending Mar 31 is unbilled.
fn postpaid_in_march() -> Order {
    paid_until(postpaid_order(), MAR_31, 1)
}

#[test]
fn unpaid_postpaid_order_is_ending_from_the_end_of_its_cycle() {
    let decision =
        run_with("2017-04-01T00:00:00Z", postpaid_plan()).decide(&postpaid_in_march(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert_eq!(decision.after.status, OrderStatus::Ending);
    assert_eq!(
        kinds(&decision),
        [
            NotificationKind::OrderEnding,
            NotificationKind::RenewalFailed
        ]
    );
}

#[test]
fn unpaid_postpaid_order_ends_after_its_grace_with_all_its_usage_settled_into_arrears() {
    // Unpaid since Mar 31; the grace runs out Apr 7 10:00: March in full, then 7 of
    // April's 30 days: 99 × 7 / 30 = 23.1.
    let decision =
        run_with("2017-04-08T00:00:00Z", postpaid_plan()).decide(&postpaid_in_march(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(decision.after.end_time, Some(utc("2017-04-07T10:00:00Z")));
    assert_eq!(
        rows(&decision),
        [
            renew_row(2, "99", FEB_28, MAR_31),
            renew_row(3, "23.1", MAR_31, "2017-04-07T10:00:00Z"),
            end_row(4, "0", "2017-04-07T10:00:00Z"),
        ]
    );
    assert_eq!(
        decision.ledger,
        Some(LedgerMove::unguarded(
            postpaid_order().project,
            money("122.1")
        ))
    );
    assert_eq!(decision.events[0].amount, Some(money("122.1")));
    decision.change().unwrap();
}

#[test]
fn postpaid_order_on_a_withdrawn_plan_is_settled_at_its_own_price_when_it_ends() {
    let run = RenewalRun {
        plans: HashMap::from([(plan().id, PlanLookup::Withdrawn)]),
        ..run("2017-04-07T10:00:00Z")
    };
    let decision = run.decide(&postpaid_in_march(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(decision.after.end_time, Some(utc("2017-04-07T10:00:00Z")));
    assert_eq!(decision.rows[0].amount, money("99"));
}

// --- a charge service keeps the money --------------------------------------------------------

#[test]
fn a_due_order_of_a_charge_service_waits_for_one_deferred_payment_of_its_next_cycle() {
    let order = charged_by_service(order());
    let decision = run("2017-02-25T00:00:00Z").decide(&order, Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::AwaitingPayment);
    assert!(decision.rows.is_empty() && decision.events.is_empty());
    assert_eq!(decision.ledger, None);
    let [payment] = decision.payments.as_slice() else {
        panic!("{:?}", decision.payments);
    };
    assert!(payment.deferred);
    assert_eq!(payment.state, PaymentState::Pending);
    assert_eq!((payment.id.seq, payment.consume_id), (2, 2));
    assert_eq!(
        (payment.period_from, payment.period_until),
        (utc(FEB_28), utc(MAR_31))
    );
    assert_eq!(decision.after.awaiting_payment, Some(2));
    assert_eq!(decision.after.deadline_time, order.deadline_time);
    assert_eq!(decision.after.last_consume_id, 1);
    decision.change().unwrap();
}

#[test]
fn after_an_outage_a_charge_service_order_is_asked_for_its_oldest_missed_cycle_first() {
    let decision = run("2017-04-25T00:00:00Z").decide(&charged_by_service(order()), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::AwaitingPayment);
    assert_eq!(decision.payments[0].period_from, utc(FEB_28));
}

#[test]
fn a_taken_renewal_payment_writes_its_row_and_moves_the_order_on() {
    let run = run("2017-02-25T00:00:00Z");
    let waiting = run.decide(&charged_by_service(order()), Money::ZERO);
    let payment = &waiting.payments[0];
    let later = RenewalRun::at(utc("2017-02-25T00:00:05Z"), BillingPolicy::default());
    let decision = later.paid(&waiting.after, payment, None).unwrap();
    assert_eq!(rows(&decision), [renew_row(2, "99", FEB_28, MAR_31)]);
    assert_eq!(decision.after.awaiting_payment, None);
    assert_eq!(decision.after.deadline_time, utc(MAR_31));
    assert_eq!(decision.after.last_consume_id, 2);
    assert_eq!(kinds(&decision), [NotificationKind::OrderRenewed]);
    assert!(matches!(
        later.paid(&charged_by_service(order()), payment, None),
        Err(Error::Conflict(_))
    ));
}

#[test]
fn a_declined_renewal_payment_makes_the_order_unpaid_and_stops_the_wait() {
    let run = run(FEB_28);
    let waiting = run.decide(&charged_by_service(order()), Money::ZERO);
    let decision = run
        .declined(&waiting.after, &waiting.payments[0], "need recharge")
        .unwrap();
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert_eq!(decision.after.awaiting_payment, None);
    assert_eq!(decision.after.status, OrderStatus::Ending);
    assert!(decision.rows.is_empty());
    assert!(decision.events[1].message.contains("need recharge"));
}

#[test]
fn a_charge_service_is_asked_again_only_once_the_warning_interval_has_passed() {
    let declined = Order {
        last_warned_at: Some(utc("2017-02-25T00:00:00Z")),
        renew_retries: 1,
        ..charged_by_service(order())
    };
    let soon = run("2017-02-25T12:00:00Z").decide(&declined, Money::ZERO);
    assert_eq!(soon.outcome, RenewalOutcome::NotDue);
    assert!(soon.payments.is_empty());
    let next_day = run("2017-02-26T00:00:00Z").decide(&declined, Money::ZERO);
    assert_eq!(next_day.outcome, RenewalOutcome::AwaitingPayment);
}

#[test]
fn a_declined_order_past_its_deadline_enters_its_grace_without_being_asked_again() {
    let declined = Order {
        last_warned_at: Some(utc("2017-02-28T09:00:00Z")),
        ..charged_by_service(order())
    };
    let decision = run("2017-02-28T12:00:00Z").decide(&declined, Money::ZERO);
    assert_eq!(decision.after.status, OrderStatus::Ending);
    assert!(decision.payments.is_empty());
    assert_eq!(kinds(&decision), [NotificationKind::OrderEnding]);
}

#[test]
fn a_charge_service_order_past_its_grace_ends_without_another_attempt() {
    let ending = Order {
        status: OrderStatus::Ending,
        renew_retries: 2,
        ..charged_by_service(order())
    };
    let decision = run("2017-03-08T00:00:00Z").decide(&ending, Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert!(decision.payments.is_empty());
}

#[test]
fn a_postpaid_charge_service_order_ended_after_grace_owes_its_usage_as_pending_payments() {
    let ending = Order {
        status: OrderStatus::Ending,
        renew_retries: 1,
        ..charged_by_service(postpaid_in_march())
    };
    let decision = run_with("2017-04-08T00:00:00Z", postpaid_plan()).decide(&ending, Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    let pending: Vec<_> = decision
        .payments
        .iter()
        .map(|p| (p.consume_id, p.amount, p.state, p.deferred))
        .collect();
    assert_eq!(
        pending,
        [
            (2, money("99"), PaymentState::Pending, false),
            (3, money("23.1"), PaymentState::Pending, false)
        ]
    );
    assert_eq!(decision.ledger, None);
}

// --- batches --------------------------------------------------------------------------------

#[test]
fn a_batch_shares_each_projects_balance_between_its_orders_in_order() {
    let first = order();
    let second = OrderBuilder::default()
        .id("order-2")
        .plan(&plan())
        .start(START)
        .build();
    let run = run("2017-02-25T00:00:00Z");
    let balances = BTreeMap::from([(first.project.clone(), money("150"))]);
    let decisions = run.decide_batch(&[first, second], &balances);
    let outcomes: Vec<_> = decisions.iter().map(|d| d.outcome.clone()).collect();
    assert_eq!(outcomes, [RenewalOutcome::Renewed, RenewalOutcome::Unpaid]);
}

#[test]
fn a_batch_moves_each_project_once_guarded_by_what_its_orders_needed_in_order() {
    let first = order();
    let second = OrderBuilder::default()
        .id("order-2")
        .plan(&plan())
        .start(START)
        .build();
    let run = run("2017-03-31T00:00:00Z");
    let balances = BTreeMap::from([(first.project.clone(), plenty())]);
    let plan = BatchPlan::of(run.decide_batch(&[first.clone(), second], &balances)).unwrap();
    assert_eq!(
        plan.change.ledger(),
        [LedgerMove {
            project: first.project,
            amount: money("396"),
            requires: Some(money("396")),
        }]
    );
    assert_eq!(plan.change.payments().len(), 4);
    assert_eq!(plan.change.rows().len(), 4);
}

#[test]
fn only_the_projects_of_ledger_kept_orders_need_their_balances_read() {
    let kept = order();
    let elsewhere = OrderBuilder::default()
        .id("order-2")
        .project("remote")
        .keeper(MoneyKeeper::ChargeService)
        .build();
    let twice = OrderBuilder::default().id("order-3").build();
    assert_eq!(
        run(FEB_28).balances_needed(&[kept.clone(), elsewhere, twice]),
        [kept.project]
    );
}

// --- queues and decisions -------------------------------------------------------------------

#[test]
fn prepaid_queues_are_due_a_margin_ahead_and_postpaid_queues_at_now() {
    let settings = RenewalSettings {
        margin: Duration::days(3),
        ..RenewalSettings::default()
    };
    let now = utc("2017-02-25T00:00:00Z");
    for queue in RenewalQueue::ALL {
        let expected = match queue.mode {
            ChargingMode::Prepaid => utc("2017-02-28T00:00:00Z"),
            ChargingMode::Postpaid => now,
        };
        assert_eq!(queue.due_by(now, &settings), expected, "{queue:?}");
    }
}

#[test]
fn orders_are_overdue_once_due_for_longer_than_the_margin_or_past_their_grace() {
    let settings = RenewalSettings {
        margin: Duration::days(3),
        grace: Duration::days(7),
        ..RenewalSettings::default()
    };
    let now = utc("2017-02-25T00:00:00Z");
    for queue in RenewalQueue::ALL {
        let expected = match (queue.mode, queue.status) {
            // Due three days before its deadline, so overdue once the deadline passed.
            (ChargingMode::Prepaid, OrderStatus::Consuming) => now,
            (ChargingMode::Postpaid, OrderStatus::Consuming) => utc("2017-02-22T00:00:00Z"),
            // Its grace ran out seven days after its deadline, three days ago.
            (_, OrderStatus::Ending) => utc("2017-02-15T00:00:00Z"),
            other => panic!("no queue {other:?}"),
        };
        assert_eq!(queue.overdue_before(now, &settings), expected, "{queue:?}");
    }
}

#[test]
fn overdue_before_saturates_at_the_earliest_time() {
    let settings = RenewalSettings {
        margin: Duration::days(3),
        ..RenewalSettings::default()
    };
    for queue in RenewalQueue::ALL {
        let at = queue.overdue_before(DateTime::<Utc>::MIN_UTC, &settings);
        assert!(
            at <= DateTime::<Utc>::MIN_UTC + Duration::days(3),
            "{queue:?}"
        );
    }
}

#[test]
fn queues_are_drained_ending_before_consuming_prepaid_first() {
    let order: Vec<_> = RenewalQueue::ALL
        .iter()
        .map(|q| (q.mode, q.status))
        .collect();
    assert_eq!(
        order,
        [
            (ChargingMode::Prepaid, OrderStatus::Ending),
            (ChargingMode::Prepaid, OrderStatus::Consuming),
            (ChargingMode::Postpaid, OrderStatus::Ending),
            (ChargingMode::Postpaid, OrderStatus::Consuming),
        ]
    );
}

#[test]
fn charged_saturates_instead_of_overflowing() {
    let mut row = order();
    row.last_consume_id = 0;
    let huge = Consumption {
        order_id: row.id.clone(),
        consume_id: 1,
        project: row.project.clone(),
        region: row.region.clone(),
        plan_id: row.plan_id.clone(),
        amount: Money::MAX,
        time: utc(FEB_28),
        covered_until: utc(MAR_31),
        kind: ConsumptionKind::Renew,
    };
    let decision = RenewalDecision {
        rows: vec![huge.clone(), huge],
        ..RenewalDecision::untouched(&order(), RenewalOutcome::Renewed)
    };
    assert_eq!(decision.charged(), Money::MAX);
}

#[test]
fn a_decision_changes_something_when_the_order_moved_or_rows_or_payments_are_written() {
    let untouched = RenewalDecision::untouched(&order(), RenewalOutcome::NotDue);
    assert!(!untouched.changes());
    let moved = RenewalDecision {
        after: Order {
            renew_retries: 1,
            ..order()
        },
        ..untouched.clone()
    };
    assert!(moved.changes());
    let waiting = run("2017-02-25T00:00:00Z").decide(&charged_by_service(order()), Money::ZERO);
    assert!(waiting.changes());
}
