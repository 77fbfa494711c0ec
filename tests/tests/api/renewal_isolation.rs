//! One order the renewal engine cannot read does not stop the others (defect 7 of issue
//! 10): a corrupted row in the first queue is reported as failed, the due orders of the
//! later queues (other projects) are renewed, the run exits 0, and the next run still
//! skips only the bad one. On SQLite and
//! MariaDB, the orders seeded straight into the database.

use blackbox_tests::catalog::{Plan, CPU, POSTPAID_CPU};
use blackbox_tests::db::Db;
use blackbox_tests::inspect::rows_per_order;
use blackbox_tests::seed::{fund, open_order, Funding, Keeper, NewOrder};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::helpers::{command, run_to_end, MysqlDatabase, SqliteDir};
use crate::renewal_runs::{migrate, renew_once, summary};

/// The runs' clock.
fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2027, 3, 5)
        .and_then(|day| day.and_hms_opt(12, 0, 0))
        .unwrap()
}

/// An order of `plan` for `project` started `days_ago` days before [`now`], written as
/// the service writes a create; its project holds enough for a year of renewals.
fn seeded(db: &mut Db, project: &str, order_id: &str, plan: Plan, days_ago: i64) -> NewOrder {
    let order = NewOrder {
        order_id: order_id.into(),
        project: project.into(),
        plan,
        quantities: 1,
        start: now() - TimeDelta::days(days_ago),
        resource_name: None,
        keeper: Keeper::LocalLedger,
    };
    fund(
        db,
        &[Funding {
            project: project.into(),
            balance: 20 * plan.price,
            recharged: 20 * plan.price,
        }],
        order.start,
    )
    .unwrap();
    assert!(open_order(db, &order).unwrap());
    order
}

fn one_unreadable_order(url: &str) {
    migrate(url);
    let mut db = Db::connect(url).unwrap();
    // In the first queue (prepaid, ending): paid until four days ago, in its grace period.
    let bad = seeded(&mut db, "bad-project", "bad-order", CPU, 32);
    // In the later queues: (prepaid, consuming), due in three days, and (postpaid,
    // consuming), its first month over.
    let prepaid = seeded(&mut db, "good-project", "good-prepaid", CPU, 25);
    let postpaid = seeded(&mut db, "other-project", "good-postpaid", POSTPAID_CPU, 40);
    // Unreadable by the service: a cycle code that does not exist. (Not CHARGING_MODE,
    // which the queues are ranges of: an order of an unknown mode is in no queue at all.)
    let corrupted = db
        .execute("UPDATE DF_PURCHASE_ORDER SET STATUS = 10, CYCLE = 7 WHERE ORDER_ID = 'bad-order'")
        .unwrap();
    assert_eq!(corrupted, 1);

    let first = renew_once(url, now());
    let line = summary(&first);
    assert!(line.contains(" 2 renewed (2 cycles"), "{first}");
    assert!(line.contains(", 1 failed"), "{first}");
    assert!(
        batches(&first, "prepaid/ending")
            .iter()
            .any(|batch| batch.contains(", 1 failed")),
        "{first}"
    );
    for queue in ["prepaid/consuming", "postpaid/consuming"] {
        assert!(
            batches(&first, queue)
                .iter()
                .any(|batch| batch.contains(" 1 renewed")),
            "{queue}: {first}"
        );
    }
    let rows = rows_per_order(&mut db).unwrap();
    assert_eq!(rows.get(&prepaid.order_id), Some(&2), "{rows:?}");
    assert_eq!(rows.get(&postpaid.order_id), Some(&1), "{rows:?}");
    assert_eq!(rows.get(&bad.order_id), Some(&1), "{rows:?}");

    // The next run has nothing else to renew but still meets the bad order, and only it.
    let second = renew_once(url, now());
    let line = summary(&second);
    assert!(line.contains(" 0 renewed"), "{second}");
    assert!(line.contains(", 1 failed"), "{second}");
    assert_eq!(rows_per_order(&mut db).unwrap(), rows);

    // The good projects' books are in order.
    for project in ["good-project", "other-project"] {
        let mut check = command(url);
        check.args(["reconcile", "--project", project]);
        let output = run_to_end(check);
        assert!(
            output.status.success(),
            "{project}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The `batch …` lines of `queue` (`prepaid/ending` …) in a run's output.
fn batches<'a>(stdout: &'a str, queue: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter(|line| line.starts_with("batch ") && line.contains(&format!(" {queue}:")))
        .collect()
}

#[test]
fn an_unreadable_order_is_reported_failed_and_the_others_are_renewed_on_sqlite() {
    let dir = SqliteDir::new();
    one_unreadable_order(&dir.url());
}

#[test]
fn mysql_an_unreadable_order_is_reported_failed_and_the_others_are_renewed() {
    let Some(database) = MysqlDatabase::create(
        "renewal_isolation::mysql_an_unreadable_order_is_reported_failed_and_the_others_are_renewed",
    ) else {
        return;
    };
    one_unreadable_order(&database.url());
}
