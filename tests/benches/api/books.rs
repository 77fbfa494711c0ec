//! The benchmark's data: the projects it funds, the orders it seeds (written as the service
//! writes them, see `blackbox_tests::seed`), and the check that afterwards every project's
//! balance moved by exactly what its orders charged.

use std::collections::BTreeMap;

use blackbox_tests::catalog::VOLUME;
use blackbox_tests::db::Db;
use blackbox_tests::seed::{fund, insert_orders, Funding, Keeper, NewOrder};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};

use super::Result;

/// What each project starts with, in ten-thousandths (100 million): no create is refused
/// for want of money.
pub const FUNDS: i64 = 1_000_000_000_000;
/// Orders seeded per transaction.
const ORDERS_PER_TRANSACTION: usize = 5_000;
/// How far back the seeded orders started: monthly orders whose first cycle ends weeks
/// after the run, so the renewal job finds none due.
const SEEDED_OVER_DAYS: i64 = 10;

/// The projects creates go to: 100 to spread over, then the one that takes them all.
pub fn create_projects() -> Vec<String> {
    (0..100)
        .map(|n| format!("p{n:03}"))
        .chain(std::iter::once("solo".to_owned()))
        .collect()
}

/// Funds `projects` with [`FUNDS`] each (a balance and the recharge that explains it).
pub fn fund_projects(db: &mut Db, projects: &[String], at: NaiveDateTime) -> Result<()> {
    let fundings: Vec<Funding> = projects
        .iter()
        .map(|project| Funding {
            project: project.clone(),
            balance: FUNDS,
            recharged: FUNDS,
        })
        .collect();
    db.transaction(|db| fund(db, &fundings, at))?;
    Ok(())
}

/// The id of the `n`-th order seeded into `project`.
pub fn seeded_id(project: &str, n: usize) -> String {
    format!("{project}-{n:07}")
}

/// Seeds `count` open monthly volume orders into `project` (each with its row #1 and
/// settled payment), started over the 10 days before `now`, and funds the project with
/// what they charged on top of [`FUNDS`]. Multi-row INSERTs, 5,000 orders a transaction.
pub fn seed_orders(db: &mut Db, project: &str, count: usize, now: NaiveDateTime) -> Result<()> {
    let span = SEEDED_OVER_DAYS * 86_400;
    let step = span / i64::try_from(count.max(1))?;
    let first = now - TimeDelta::seconds(span);
    let order = |n: usize| -> Result<NewOrder> {
        Ok(NewOrder {
            order_id: seeded_id(project, n),
            project: project.to_owned(),
            plan: VOLUME,
            quantities: 1,
            start: first + TimeDelta::seconds(step * i64::try_from(n)?),
            resource_name: Some(format!("s-{n}")),
            keeper: Keeper::LocalLedger,
        })
    };
    let mut n = 0;
    while n < count {
        let chunk = (n..count.min(n + ORDERS_PER_TRANSACTION))
            .map(order)
            .collect::<Result<Vec<_>>>()?;
        n += chunk.len();
        db.transaction(|db| insert_orders(db, &chunk))?;
    }
    let charged = VOLUME.price * i64::try_from(count)?;
    let funding = Funding {
        project: project.to_owned(),
        balance: FUNDS,
        recharged: FUNDS + charged,
    };
    db.transaction(|db| fund(db, &[funding], first))?;
    Ok(())
}

/// Runs `$body` with `$c` bound to the inner connection, whichever backend it is.
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            Db::Mysql($c) => $body,
            Db::Sqlite($c) => $body,
        }
    };
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Charged {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

/// One project's books, as the database has them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Books {
    pub orders: i64,
    /// Rows that charged, and what they charged.
    pub charges: i64,
    pub charged: i64,
    pub balance: i64,
}

/// Reads each project's [`Books`] (bound parameters, one project at a time).
pub fn read_books(db: &mut Db, projects: &[String]) -> Result<BTreeMap<String, Books>> {
    let mut books = BTreeMap::new();
    for project in projects {
        let orders: Count = on_db!(&mut *db, |c| {
            diesel::sql_query("SELECT COUNT(*) AS n FROM DF_PURCHASE_ORDER WHERE ACCOUNT_ID = ?")
                .bind::<Text, _>(project.as_str())
                .get_result(c)
        })?;
        let charged: Charged = on_db!(&mut *db, |c| {
            diesel::sql_query(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(CONSUMING), 0) AS SIGNED) AS amount \
                 FROM DF_CONSUMING_HISTORY WHERE ACCOUNT_ID = ? AND CONSUMING > 0",
            )
            .bind::<Text, _>(project.as_str())
            .get_result(c)
        })?;
        let balance: Count = on_db!(&mut *db, |c| {
            diesel::sql_query("SELECT BALANCE AS n FROM DF_BALANCE WHERE ACCOUNT_ID = ?")
                .bind::<Text, _>(project.as_str())
                .get_result(c)
        })?;
        books.insert(
            project.clone(),
            Books {
                orders: orders.n,
                charges: charged.n,
                charged: charged.amount,
                balance: balance.n,
            },
        );
    }
    Ok(books)
}

/// Checks that each project took exactly the creates that succeeded (`created`, by index
/// of `projects`), each one order and one charge of the plan's price, and that its balance
/// moved by exactly the sum of those charges: from [`FUNDS`] in the database, and from
/// `before` to `after` as the API answers (if given). Returns the mismatches.
pub fn check_books(
    projects: &[String],
    created: &[u64],
    books: &BTreeMap<String, Books>,
    api: Option<(&[i64], &[i64])>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        let count = i64::try_from(created.get(i).copied().unwrap_or_default()).unwrap_or(-1);
        let expected = count * VOLUME.price;
        let Some(book) = books.get(project) else {
            wrong.push(format!("{project}: no books"));
            continue;
        };
        let moved = FUNDS - book.balance;
        if book.orders != count
            || book.charges != count
            || book.charged != expected
            || moved != expected
        {
            wrong.push(format!(
                "{project}: {count} creates answered 2xx, charging {expected}; the database \
                 has {} orders, {} charges of {} in all, and the balance moved by {moved}",
                book.orders, book.charges, book.charged
            ));
        }
        if let Some((before, after)) = api {
            let api_moved = before[i] - after[i];
            if api_moved != expected {
                wrong.push(format!(
                    "{project}: the API's balance moved by {api_moved}, the creates charged \
                     {expected}"
                ));
            }
        }
    }
    wrong
}
