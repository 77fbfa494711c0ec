//! The serviceusage domain with nothing but memory: no database, no HTTP, no async runtime
//! of its own (tokio here only runs the futures). It implements every port
//! (`store.rs`: the repositories; `platform.rs`: the catalog, identity, charge service,
//! platform, clock and ids), wires them into `UseCases`, and drives a year of one order:
//! a project is funded, a member orders a 100 GiB volume at 100.00 a month, twelve renewal
//! runs each charge the next month as a fake clock moves, and the order is cancelled half
//! way through its last month, the unused part refunded to the ten-thousandth.
//!
//! ```text
//! cargo run -p serviceusage-domain --example in_memory
//! ```

mod platform;
mod store;

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use domain::account::AccountSelection;
use domain::cycle::Cycle;
use domain::ids::{PlanId, PlanType, ProjectId, Quantity, Region, ResourceName, UserName};
use domain::page::PageRequest;
use domain::plan::{ChargingMode, Plan};
use domain::policy::BillingPolicy;
use domain::ports::{Clock, UsageFilter};
use domain::principal::Principal;
use domain::usecases::{
    CancelOrderRequest, CreateOrderOutcome, CreateOrderRequest, Ports, ReconcileSettings,
    SettlerSettings, UseCases,
};
use domain::Money;

use platform::{Catalog, Counter, FakeClock, Members, NoChargeService, Platform};
use store::Store;

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Outcome<()> {
    let mut out = String::new();
    let result = run(&mut out).await;
    print!("{out}");
    result
}

/// Plays the year, writing what happens to `out`.
async fn run(out: &mut String) -> Outcome<()> {
    let clock = FakeClock::at(utc("2026-01-01T09:00:00Z")?);
    let platform = Platform::default();
    let usecases = wire(Store::default(), clock.clone(), platform.clone())?;
    let acme = ProjectId::parse("acme")?;

    let admin = usecases.authenticate("admin-token").await?;
    let alice = usecases.authenticate("alice-token").await?;
    let (_, account) = usecases
        .recharge(&admin, acme.clone(), money("1500")?, None, None)
        .await?;
    writeln!(out, "{acme} is funded: balance {}", account.balance.amount)?;

    let created = usecases
        .create_order(
            &alice,
            CreateOrderRequest {
                project: acme.clone(),
                plan_id: PlanId::parse("volume-100g")?,
                quantities: Quantity::ONE,
                region: None,
                resource_name: Some(ResourceName::parse("pg-data")?),
                replaces: None,
                dry_run: false,
                idempotency: None,
            },
        )
        .await?;
    let CreateOrderOutcome::Created { order, charged, .. } = created else {
        return Err("a create that is no dry run creates".into());
    };
    writeln!(
        out,
        "{} opened on {}: {charged} charged, paid until {}; the platform holds {:?}",
        order.id,
        order.plan_id,
        day(order.deadline_time),
        platform.existing()
    )?;

    // A year: each run a day before the order's paid-until instant, inside the renewal
    // margin (7 days by default), so each one charges the next month.
    for _ in 0..12 {
        let paid_until = usecases
            .get_order(&alice, &acme, &order.id)
            .await?
            .deadline_time;
        clock.set(paid_until - TimeDelta::days(1));
        let run = usecases.renew_due(&mut |_, _, _| {}).await?;
        let renewed = usecases.get_order(&alice, &acme, &order.id).await?;
        writeln!(
            out,
            "renewal run on {}: {} cycle(s), {} charged, paid until {}",
            day(clock.now()),
            run.total.cycles,
            run.total.charged,
            day(renewed.deadline_time)
        )?;
    }

    clock.set(utc("2027-01-16T09:00:00Z")?);
    let cancelled = usecases
        .cancel_order(
            &alice,
            CancelOrderRequest {
                project: acme.clone(),
                order_id: order.id.clone(),
                idempotency: None,
            },
        )
        .await?;
    writeln!(
        out,
        "{} cancelled on {}: {} refunded; the platform holds {:?}",
        cancelled.order.id,
        day(clock.now()),
        cancelled.refunded,
        platform.existing()
    )?;

    let history = usecases
        .list_usages(
            &alice,
            UsageFilter {
                project: acme.clone(),
                order: Some(order.id.clone()),
                region: None,
            },
            AccountSelection::Own,
            PageRequest::parse(None, Some("100"))?,
        )
        .await?;
    writeln!(out, "consumption history of {}:", order.id)?;
    let (mut charges, mut refunds) = (Money::ZERO, Money::ZERO);
    for row in history.page.items.iter().rev() {
        writeln!(
            out,
            "  #{:<2} {:<5} {} to {} {:>9}",
            row.consume_id,
            row.kind.label(),
            day(row.time),
            day(row.covered_until),
            row.amount.to_string()
        )?;
        if row.amount.is_positive() {
            charges = charges
                .checked_add(row.amount)
                .ok_or("charges overflowed")?;
        } else {
            refunds = refunds
                .checked_sub(row.amount)
                .ok_or("refunds overflowed")?;
        }
    }
    let balance = usecases.get_balance(&alice, &acme).await?.balance.amount;
    writeln!(
        out,
        "charged {charges}, refunded {refunds}, balance {balance}"
    )?;

    let settings = ReconcileSettings {
        project: None,
        pending_limit: TimeDelta::hours(1),
    };
    let books = usecases.reconcile(&settings, &mut |_, _| {}).await?;
    writeln!(
        out,
        "reconcile: {} project(s), {} mismatch(es)",
        books.projects,
        books.mismatches.len()
    )?;
    Ok(())
}

/// The use cases over the in-memory ports: the part of `main` a real service does once at
/// start, with its database and clients instead.
fn wire(store: Store, clock: FakeClock, platform: Platform) -> Outcome<UseCases> {
    let volume = Plan {
        id: PlanId::parse("volume-100g")?,
        plan_type: PlanType::parse("volume")?,
        region: Region::parse("eu-west-1")?,
        mode: ChargingMode::Prepaid,
        price: money("100")?,
        cycle: Cycle::Month,
        requires_resource_name: true,
        description: "a 100 GiB volume".into(),
    };
    let member = |name: &str, admin: bool| -> Outcome<Principal> {
        Ok(Principal {
            user: UserName::parse(name)?,
            admin,
            credential: None,
        })
    };
    let identity = Members {
        tokens: HashMap::from([
            ("admin-token".to_owned(), member("admin", true)?),
            ("alice-token".to_owned(), member("alice", false)?),
        ]),
        projects: HashMap::from([(ProjectId::parse("acme")?, vec!["alice".to_owned()])]),
    };
    let ports = Ports {
        orders: Arc::new(store.clone()),
        changes: Arc::new(store.clone()),
        usages: Arc::new(store.clone()),
        ledger: Arc::new(store.clone()),
        renewals: Arc::new(store.clone()),
        payments: Arc::new(store.clone()),
        notifications: Arc::new(store.clone()),
        idempotency: Arc::new(store.clone()),
        books: Arc::new(store.clone()),
        tasks: Arc::new(store),
        plans: Arc::new(Catalog(vec![volume])),
        identity: Arc::new(identity),
        charging: Arc::new(NoChargeService),
        provisioning: Arc::new(platform),
        clock: Arc::new(clock),
        ids: Arc::new(Counter::default()),
    };
    // UTC cycles, refunds on cancel, every region's money in the local ledger.
    let policy = BillingPolicy::default();
    Ok(UseCases::new(ports, policy, SettlerSettings::default()))
}

fn utc(text: &str) -> Outcome<DateTime<Utc>> {
    Ok(text.parse()?)
}

fn money(text: &str) -> Outcome<Money> {
    Ok(text.parse()?)
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The example's story, checked: thirteen months charged, the unused 16 of the last
    /// month's 31 days refunded (100.00 × 16/31 = 51.6129…, rounded up for the customer),
    /// the balance moved by exactly that, the volume released, the books clean.
    #[tokio::test]
    async fn a_year_of_one_order_charges_thirteen_months_and_refunds_the_unused_days() {
        let mut out = String::new();
        run(&mut out).await.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        for expected in [
            "acme is funded: balance 1500.00",
            "order-1 opened on volume-100g: 100.00 charged, paid until 2026-02-01; \
             the platform holds [\"volume pg-data\"]",
            "renewal run on 2026-01-31: 1 cycle(s), 100.00 charged, paid until 2026-03-01",
            "renewal run on 2026-12-31: 1 cycle(s), 100.00 charged, paid until 2027-02-01",
            "order-1 cancelled on 2027-01-16: 51.613 refunded; the platform holds []",
            "  #13 renew 2027-01-01 to 2027-02-01    100.00",
            "  #14 end   2027-01-16 to 2027-02-01   -51.613",
            "charged 1300.00, refunded 51.613, balance 251.613",
            "reconcile: 1 project(s), 0 mismatch(es)",
        ] {
            assert!(lines.contains(&expected), "no {expected:?} in:\n{out}");
        }
        let mut runs = lines.iter().filter(|l| l.starts_with("renewal run on "));
        assert_eq!(runs.clone().count(), 12, "{out}");
        assert!(
            runs.all(|l| l.contains(": 1 cycle(s), 100.00 charged,")),
            "{out}"
        );
    }
}
