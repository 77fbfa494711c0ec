//! What the store costs MariaDB per call, counted on the connection itself: a pool of one
//! connection, whose session counters (`SHOW SESSION STATUS`) only this test moves. Every
//! command the client sends is one round trip and one `Questions`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use diesel::mysql::MysqlConnection;
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl};

use domain::change::ChangeBuilder;
use domain::ledger::NewRecharge;
use domain::opening::{NewOrder, Opening};
use domain::order::OrderStatus;
use domain::page::PageRequest;
use domain::ports::{
    ChangeStore, ConsumptionRepository, LedgerRepository, NotificationFilter,
    NotificationRepository, OrderFilter, OrderRepository, RechargeFilter, UsageFilter,
};
use domain::testing::{utc, PlanBuilder};
use domain::{ids, Money};

use super::*;
use crate::{ChangeWriter, ConsumptionStore, LedgerStore, NotificationStore, OrderStore};

/// A fresh migrated MariaDB database served by a pool of one connection, dropped with the
/// value; `None` when MariaDB is unreachable (see `tests::mysql`).
struct OneConnection {
    db: Database,
    server: String,
    name: String,
}

impl OneConnection {
    fn open() -> Option<OneConnection> {
        let server = super::tests::mysql_server();
        super::tests::mysql()?;
        let name = format!("su_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = MysqlConnection::establish(&server).unwrap();
        // A generated identifier: identifiers cannot be bound parameters.
        diesel::sql_query(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .execute(&mut admin)
        .unwrap();
        let db = Database::connect(&format!("{server}/{name}"), 1).unwrap();
        db.run_migrations().unwrap();
        Some(OneConnection { db, server, name })
    }

    /// The session's command counters.
    async fn counters(&self) -> BTreeMap<String, i64> {
        #[derive(diesel::QueryableByName)]
        struct Counter {
            #[diesel(sql_type = Text, column_name = "Variable_name")]
            name: String,
            #[diesel(sql_type = Text, column_name = "Value")]
            value: String,
        }
        self.db
            .read(|conn| {
                let rows: Vec<Counter> = diesel::sql_query(
                    "SHOW SESSION STATUS WHERE Variable_name = 'Questions' \
                     OR Variable_name LIKE 'Com\\_%'",
                )
                .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(|c| (c.name, c.value.parse().unwrap_or_default()))
                    .collect())
            })
            .await
            .unwrap()
    }

    /// The commands `work` sends, by counter (`Questions`: all of them), once the
    /// connection has prepared what it needs (`work` runs once before it is counted).
    async fn commands<F, Fut>(&self, work: F) -> BTreeMap<String, i64>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        work().await;
        let first = self.counters().await;
        let second = self.counters().await;
        work().await;
        let third = self.counters().await;
        third
            .iter()
            .filter_map(|(name, &after)| {
                // What one reading of the counters costs, counted between the first two.
                let reading = second[name] - first[name];
                let sent = after - second[name] - reading;
                (sent != 0).then(|| (name.clone(), sent))
            })
            .collect()
    }
}

impl Drop for OneConnection {
    fn drop(&mut self) {
        if let Ok(mut admin) = MysqlConnection::establish(&self.server) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {}", self.name))
                .execute(&mut admin);
        }
    }
}

fn project() -> ids::ProjectId {
    ids::ProjectId::parse("p1").unwrap()
}

/// The change a create of a prepaid order on the local ledger writes: the order, its row
/// and payment, its event and the debit.
fn create(n: usize) -> domain::change::Change {
    let plan = PlanBuilder::default().build();
    let opening = Opening::of(
        NewOrder {
            id: ids::OrderId::parse(&format!("o-{n}")).unwrap(),
            project: project(),
            plan: &plan,
            quantities: ids::Quantity::ONE,
            resource_name: None,
            creator: ids::UserName::parse("alice").unwrap(),
            start: utc("2026-03-01T00:00:00Z"),
            replaces: None,
        },
        &domain::policy::BillingPolicy::default(),
    )
    .unwrap();
    let mut change = ChangeBuilder::new();
    opening.write(&mut change, &plan);
    change.seal().unwrap()
}

async fn fund(db: &Database) {
    LedgerStore::new(db.clone())
        .recharge(
            NewRecharge {
                project: project(),
                amount: Money::from_units(1_000_000).unwrap(),
                comment: None,
                operator: ids::UserName::parse("admin").unwrap(),
                time: utc("2026-01-01T00:00:00Z"),
            },
            None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn mysql_a_read_of_one_order_is_one_command() {
    let Some(one) = OneConnection::open() else {
        return;
    };
    fund(&one.db).await;
    let writer = ChangeWriter::new(one.db.clone(), Vec::new());
    writer.commit(create(0)).await.unwrap();
    let orders = OrderStore::new(one.db.clone());
    let id = ids::OrderId::parse("o-0").unwrap();
    let sent = one
        .commands(|| async {
            assert!(orders.find(&id).await.unwrap().is_some());
        })
        .await;
    assert_eq!(sent.get("Questions"), Some(&1), "{sent:?}");
    assert_eq!(sent.get("Com_stmt_execute"), Some(&1), "{sent:?}");
}

#[tokio::test]
async fn mysql_a_page_of_any_list_and_its_total_are_one_command() {
    let Some(one) = OneConnection::open() else {
        return;
    };
    fund(&one.db).await;
    let writer = ChangeWriter::new(one.db.clone(), Vec::new());
    for n in 0..3 {
        writer.commit(create(n)).await.unwrap();
    }
    let orders = OrderStore::new(one.db.clone());
    let usages = ConsumptionStore::new(one.db.clone());
    let page = PageRequest::parse(None, Some("2")).unwrap();
    let consuming = OrderFilter::in_status(project(), OrderStatus::Consuming);
    let sent = one
        .commands(|| async {
            let listed = orders.list(consuming.clone(), page).await.unwrap();
            assert_eq!((listed.total, listed.items.len()), (3, 2));
        })
        .await;
    assert_eq!(sent.get("Questions"), Some(&1), "{sent:?}");
    let all = UsageFilter {
        project: project(),
        order: None,
        region: None,
    };
    let sent = one
        .commands(|| async {
            let listed = usages.list(all.clone(), page).await.unwrap();
            assert_eq!((listed.total, listed.items.len()), (3, 2));
        })
        .await;
    assert_eq!(sent.get("Questions"), Some(&1), "{sent:?}");
    let notifications = NotificationStore::new(one.db.clone());
    let events = NotificationFilter {
        project: project(),
        order: None,
    };
    let sent = one
        .commands(|| async {
            let listed = notifications.list(events.clone(), page).await.unwrap();
            assert_eq!((listed.total, listed.items.len()), (3, 2));
        })
        .await;
    assert_eq!(sent.get("Questions"), Some(&1), "{sent:?}");
    let ledger = LedgerStore::new(one.db.clone());
    let sent = one
        .commands(|| async {
            let listed = ledger
                .list_recharges(&RechargeFilter::of(project()), page)
                .await
                .unwrap();
            assert_eq!((listed.total, listed.items.len()), (1, 1));
        })
        .await;
    assert_eq!(sent.get("Questions"), Some(&1), "{sent:?}");
}

#[tokio::test]
async fn mysql_a_change_costs_its_statements_and_three_commands_around_them() {
    let Some(one) = OneConnection::open() else {
        return;
    };
    fund(&one.db).await;
    let writer = ChangeWriter::new(one.db.clone(), Vec::new());
    let n = std::sync::atomic::AtomicUsize::new(0);
    let sent = one
        .commands(|| async {
            let n = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            writer.commit(create(n)).await.unwrap();
        })
        .await;
    // The order, its row, its payment, its event, the debit, the list totals.
    let statements = 6;
    // The isolation of the next transaction, BEGIN and COMMIT: each a prepared statement
    // executed (no multi-statement toggling around them), and so is every write, prepared
    // once per connection rather than prepared and closed again on every call.
    assert_eq!(sent.get("Questions"), Some(&(statements + 3)), "{sent:?}");
    assert_eq!(
        sent.get("Com_stmt_execute"),
        Some(&(statements + 3)),
        "{sent:?}"
    );
    assert_eq!(sent.get("Com_stmt_prepare"), None, "{sent:?}");
    assert_eq!(sent.get("Com_stmt_close"), None, "{sent:?}");
    assert_eq!(sent.get("Com_commit"), Some(&1), "{sent:?}");
}

#[tokio::test]
async fn mysql_a_connection_killed_while_pooled_costs_no_request() {
    let Some(one) = OneConnection::open() else {
        return;
    };
    fund(&one.db).await;
    let orders = OrderStore::new(one.db.clone());
    let writer = ChangeWriter::new(one.db.clone(), Vec::new());
    let id = ids::OrderId::parse("o-0").unwrap();
    let mut admin = MysqlConnection::establish(&one.server).unwrap();
    let mut kill_the_pooled_connection = || {
        let pooled = current_connection(&one.db);
        diesel::sql_query(format!("KILL {pooled}"))
            .execute(&mut admin)
            .unwrap();
        pooled
    };

    let killed = kill_the_pooled_connection();
    writer.commit(create(0)).await.unwrap();
    assert_ne!(current_connection(&one.db), killed);

    let killed = kill_the_pooled_connection();
    assert!(orders.find(&id).await.unwrap().is_some());
    assert_ne!(current_connection(&one.db), killed);
}

/// The server's id of the pool's one connection.
fn current_connection(db: &Database) -> i64 {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let mut conn = db.checkout().unwrap();
    diesel::select(sql::<BigInt>("CAST(CONNECTION_ID() AS SIGNED)"))
        .get_result(&mut *conn)
        .unwrap()
}
