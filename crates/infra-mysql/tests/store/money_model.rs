//! The money model of `domain::testing::model` played against the database: the property
//! the domain proves over its in-memory store must hold over SQLite and MariaDB too — any
//! interleaving of requests, renewal runs, settlements, charge-service answers and commits
//! failing or losing their answer leaves books that add up. Each case gets a fresh
//! database; `SERVICEUSAGE_MODEL_CASES` raises the number of cases (CI keeps it small).

use std::sync::Arc;

use domain::testing::model::{self, play, step, Step};
use domain::testing::{StorePorts, World};
use infra_mysql::{
    BooksStore, ChangeWriter, ConsumptionStore, IdempotencyKeys, LedgerStore, NotificationStore,
    OrderStore, PaymentStore, RenewalStore, TaskStore,
};
use proptest::test_runner::{Config, TestRunner};

use crate::common::{both_backends, TestDb};

fn store_ports(db: &TestDb) -> StorePorts {
    let db = db.db.clone();
    StorePorts {
        orders: Arc::new(OrderStore::new(db.clone())),
        changes: Arc::new(ChangeWriter::new(db.clone(), Vec::new())),
        usages: Arc::new(ConsumptionStore::new(db.clone())),
        ledger: Arc::new(LedgerStore::new(db.clone())),
        renewals: Arc::new(RenewalStore::new(db.clone(), Vec::new())),
        payments: Arc::new(PaymentStore::new(db.clone())),
        notifications: Arc::new(NotificationStore::new(db.clone())),
        idempotency: Arc::new(IdempotencyKeys::new(db.clone())),
        books: Arc::new(BooksStore::new(db.clone())),
        tasks: Arc::new(TaskStore::new(db)),
    }
}

/// Runs `cases` random sequences of up to 30 steps, each on a fresh database beside `db`.
fn run_model(db: &TestDb, cases: u32) {
    let mut runner = TestRunner::new(Config {
        cases: std::env::var("SERVICEUSAGE_MODEL_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(
        &proptest::collection::vec(step(), 1..30),
        |steps: Vec<Step>| {
            let case = db.empty_sibling();
            case.db.run_migrations().expect("migrate");
            let world = World::over(
                store_ports(&case),
                model::policy(),
                model::plans(),
                model::start(),
            );
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(play(&world, steps))
            });
            Ok(())
        },
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

both_backends!(whatever_happens_the_books_add_up_in_the_database, |db| {
    let cases = match db.db.backend() {
        infra_mysql::Backend::Sqlite => 24,
        infra_mysql::Backend::Mysql => 8,
    };
    run_model(&db, cases);
});
