//! The renewal rules, one behaviour per test. Orders start on Jan 31 2017 at 10:00 UTC on a
//! monthly plan at 99.00 unless a test says otherwise, so month-end clamping is always in play.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;

use super::*;
use crate::cycle::Cycle;
use crate::ids::{PlanType, ProjectId, Quantity, Region, UserName};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn money(text: &str) -> Money {
    text.parse().unwrap()
}

const START: &str = "2017-01-31T10:00:00Z";
const FEB_28: &str = "2017-02-28T10:00:00Z";
const MAR_31: &str = "2017-03-31T10:00:00Z";
const APR_30: &str = "2017-04-30T10:00:00Z";
const MAY_31: &str = "2017-05-31T10:00:00Z";

fn plan_id() -> PlanId {
    PlanId::parse("quota-2c4g").unwrap()
}

fn plan() -> Plan {
    Plan {
        id: plan_id(),
        plan_type: PlanType::parse("resources").unwrap(),
        region: Region::parse("cn-north-1").unwrap(),
        mode: ChargingMode::Prepaid,
        price: money("99"),
        cycle: Cycle::Month,
        requires_resource_name: false,
        description: "2 CPU cores / 4 GB RAM".into(),
    }
}

fn postpaid_plan() -> Plan {
    Plan {
        mode: ChargingMode::Postpaid,
        ..plan()
    }
}

/// A consuming prepaid order started Jan 31, paid (row 1) until Feb 28.
fn order() -> Order {
    let plan = plan();
    Order {
        id: OrderId::parse("order-1").unwrap(),
        project: ProjectId::parse("demo").unwrap(),
        region: plan.region,
        plan_id: plan.id,
        plan_type: plan.plan_type,
        mode: ChargingMode::Prepaid,
        quantities: Quantity::ONE,
        start_time: utc(START),
        end_time: None,
        deadline_time: utc(FEB_28),
        status: OrderStatus::Consuming,
        creator: UserName::parse("alice").unwrap(),
        resource_name: None,
        last_consume_id: 1,
        renew_retries: 0,
        last_warned_at: None,
    }
}

/// A consuming postpaid order started Jan 31 with nothing billed: its first cycle ends Feb 28.
fn postpaid_order() -> Order {
    Order {
        mode: ChargingMode::Postpaid,
        last_consume_id: 0,
        ..order()
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

fn assert_untouched(decision: &RenewalDecision, order: &Order) {
    assert_eq!(decision.before, *order);
    assert_eq!(decision.after, *order);
    assert!(decision.rows.is_empty() && decision.events.is_empty());
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
fn charged_order_moves_its_deadline_and_counter() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(
        decision.after,
        Order {
            deadline_time: utc(MAR_31),
            last_consume_id: 2,
            ..order()
        }
    );
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
    assert_eq!(decision.debit(), money("99"));
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
fn the_current_catalog_price_is_charged() {
    let dearer = Plan {
        price: money("120"),
        ..plan()
    };
    let decision = run_with("2017-02-25T00:00:00Z", dearer).decide(&order(), plenty());
    assert_eq!(decision.debit(), money("120"));
}

#[test]
fn zero_price_plan_still_writes_a_row_of_zero() {
    let free = Plan {
        price: Money::ZERO,
        ..plan()
    };
    let decision = run_with("2017-02-25T00:00:00Z", free).decide(&order(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Renewed);
    assert_eq!(rows(&decision), [renew_row(2, "0", FEB_28, MAR_31)]);
    assert_eq!((decision.debit(), decision.cycles()), (Money::ZERO, 1));
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
    assert_eq!(decision.after.deadline_time, utc(MAY_31));
    assert_eq!(decision.after.last_consume_id, 4);
    assert_eq!((decision.debit(), decision.cycles()), (money("297"), 3));
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
        [
            renew_row(2, "99", FEB_28, MAR_31),
            (
                3,
                Money::ZERO,
                utc(MAR_31),
                utc(MAR_31),
                ConsumptionKind::End
            ),
        ]
    );
    assert_eq!(decision.after.end_time, Some(utc(MAR_31)));
    assert_eq!(decision.debit(), money("99"));
    assert_eq!(decision.cycles(), 1);
}

// --- month ends and years ---------------------------------------------------------------

#[test]
fn renewal_from_feb_28_of_an_order_started_jan_31_lands_on_mar_31() {
    let decision = run("2017-02-25T00:00:00Z").decide(&order(), plenty());
    assert_eq!(decision.rows[0].covered_until, utc(MAR_31));
}

#[test]
fn renewal_of_an_order_started_dec_31_lands_on_feb_29_in_a_leap_year_then_mar_31() {
    let order = Order {
        start_time: utc("2015-12-31T10:00:00Z"),
        deadline_time: utc("2016-01-31T10:00:00Z"),
        ..order()
    };
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
    let order = Order {
        start_time: utc("2016-02-29T10:00:00Z"),
        deadline_time: utc("2016-03-29T10:00:00Z"),
        ..order()
    };
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

#[test]
fn year_plan_is_charged_its_yearly_price_for_a_natural_year() {
    let order = Order {
        start_time: utc("2017-06-15T08:00:00Z"),
        deadline_time: utc("2018-06-15T08:00:00Z"),
        ..order()
    };
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
    let order = Order {
        start_time: utc("2016-02-29T10:00:00Z"),
        deadline_time: utc("2017-02-28T10:00:00Z"),
        ..order()
    };
    let decision = run_with("2017-02-25T00:00:00Z", yearly()).decide(&order, plenty());
    assert_eq!(
        rows(&decision),
        [renew_row(2, "999", FEB_28, "2018-02-28T10:00:00Z")]
    );
    let later = Order {
        deadline_time: utc("2019-02-28T10:00:00Z"),
        last_consume_id: 3,
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

// --- unpaid, grace, ending ----------------------------------------------------------------

#[test]
fn short_balance_before_the_deadline_keeps_the_order_consuming_and_warns_once() {
    let now = "2017-02-25T00:00:00Z";
    let decision = run(now).decide(&order(), money("98.9999"));
    assert_eq!(decision.outcome, RenewalOutcome::Unpaid);
    assert!(decision.rows.is_empty());
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
    assert_eq!((decision.debit(), decision.cycles()), (Money::ZERO, 0));
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
    let now = "2017-03-03T00:00:00Z";
    let decision = run(now).decide(&ending, Money::ZERO);
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
fn unpaid_order_ends_at_its_deadline_once_the_grace_period_has_run_out() {
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
    assert_eq!(
        rows(&decision),
        [(
            2,
            Money::ZERO,
            utc(FEB_28),
            utc(FEB_28),
            ConsumptionKind::End
        )]
    );
    assert_eq!(kinds(&decision), [NotificationKind::OrderEnded]);
    assert_eq!(decision.events[0].time, utc(now));
    assert_eq!((decision.debit(), decision.cycles()), (Money::ZERO, 0));
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
    assert_eq!(
        decision.after,
        Order {
            deadline_time: utc(MAR_31),
            last_consume_id: 2,
            ..order()
        }
    );
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
        plans: HashMap::from([(plan_id(), PlanLookup::Withdrawn)]),
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
    assert_eq!(
        rows(&decision),
        [(
            2,
            Money::ZERO,
            utc(FEB_28),
            utc(FEB_28),
            ConsumptionKind::End
        )]
    );
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
    assert_eq!(
        decision.after,
        Order {
            deadline_time: utc(MAR_31),
            last_consume_id: 1,
            ..postpaid_order()
        }
    );
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

/// A postpaid order that paid its first cycle (to Feb 28); the one ending Mar 31 is unbilled.
fn postpaid_in_march() -> Order {
    Order {
        deadline_time: utc(MAR_31),
        last_consume_id: 1,
        ..postpaid_order()
    }
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
fn unpaid_postpaid_order_ends_at_the_start_of_the_unpaid_cycle() {
    let decision =
        run_with("2017-04-07T10:00:00Z", postpaid_plan()).decide(&postpaid_in_march(), Money::ZERO);
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(decision.after.end_time, Some(utc(FEB_28)));
    assert_eq!(
        rows(&decision),
        [(
            2,
            Money::ZERO,
            utc(FEB_28),
            utc(FEB_28),
            ConsumptionKind::End
        )]
    );
}

#[test]
fn postpaid_order_on_a_withdrawn_plan_ends_at_the_start_of_the_unpaid_cycle() {
    let run = RenewalRun {
        plans: HashMap::from([(plan_id(), PlanLookup::Withdrawn)]),
        ..run("2017-04-07T10:00:00Z")
    };
    let decision = run.decide(&postpaid_in_march(), plenty());
    assert_eq!(decision.outcome, RenewalOutcome::Ended);
    assert_eq!(decision.after.end_time, Some(utc(FEB_28)));
}

#[test]
fn postpaid_year_order_on_a_withdrawn_plan_ends_at_the_start_of_the_unpaid_year() {
    let order = Order {
        start_time: utc("2016-02-29T10:00:00Z"),
        deadline_time: utc("2018-02-28T10:00:00Z"),
        ..postpaid_in_march()
    };
    let run = RenewalRun {
        plans: HashMap::from([(plan_id(), PlanLookup::Withdrawn)]),
        ..run("2018-03-08T00:00:00Z")
    };
    let decision = run.decide(&order, plenty());
    assert_eq!(decision.after.end_time, Some(utc(FEB_28)));
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

fn row_of(amount: &str, kind: ConsumptionKind) -> Consumption {
    Consumption {
        order_id: order().id,
        consume_id: 1,
        project: order().project,
        region: order().region,
        plan_id: plan_id(),
        amount: money(amount),
        time: utc(FEB_28),
        covered_until: utc(MAR_31),
        kind,
    }
}

#[test]
fn debit_sums_the_positive_rows_and_cycles_count_the_charges() {
    let decision = RenewalDecision {
        rows: vec![
            row_of("99", ConsumptionKind::Renew),
            row_of("0", ConsumptionKind::Renew),
            row_of("1.5", ConsumptionKind::Renew),
            row_of("-5", ConsumptionKind::End),
        ],
        ..RenewalDecision::untouched(&order(), RenewalOutcome::Renewed)
    };
    assert_eq!(decision.debit(), money("100.5"));
    assert_eq!(decision.cycles(), 3);
}

#[test]
fn debit_saturates_instead_of_overflowing() {
    let mut huge = row_of("0", ConsumptionKind::Renew);
    huge.amount = Money::MAX;
    let decision = RenewalDecision {
        rows: vec![huge.clone(), huge],
        ..RenewalDecision::untouched(&order(), RenewalOutcome::Renewed)
    };
    assert_eq!(decision.debit(), Money::MAX);
}

#[test]
fn a_decision_changes_something_when_the_order_moved_or_rows_are_written() {
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
    let with_row = RenewalDecision {
        rows: vec![row_of("0", ConsumptionKind::Renew)],
        ..untouched
    };
    assert!(with_row.changes());
}
