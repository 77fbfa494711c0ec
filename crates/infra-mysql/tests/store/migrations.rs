//! Migrations: idempotent, safe for replicas starting together, and carrying the rows an
//! older release wrote into the new model.

use domain::cycle::Cycle;
use domain::ids::PlanType;
use domain::order::Order;
use domain::order_type::OrderType;
use domain::page::PageRequest;
use domain::payment::{MoneyKeeper, PaymentDirection, PaymentState};
use domain::ports::{
    BooksRepository, LedgerRepository, NotificationFilter, NotificationRepository, OrderFilter,
    OrderRepository, RechargeFilter, StoreHealth, TaskQueue,
};
use domain::provisioning::{Resource, ResourceKind, TaskAction};
use infra_mysql::{BooksStore, Database, HealthStore, NotificationStore, OrderStore, TaskStore};

use crate::common::{
    both_backends, consuming_in, insert, money, order, order_id, project, recharge_of, region, t,
    OrderExt, TestDb,
};

both_backends!(migrations_run_again_change_nothing, |db| {
    insert(&db, &order("o-1").uncharged()).await;

    db.db.run_migrations().expect("second run");
    db.db.run_migrations().expect("third run");

    let page = OrderStore::new(db.db.clone())
        .list(consuming_in("p1"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1, "data survives re-running migrations");
});

both_backends!(
    migrations_started_by_two_replicas_at_once_both_succeed,
    |db| {
        let fresh = db.empty_sibling();
        let replicas = [
            fresh.db.clone(),
            Database::connect(&fresh.url(), 2).unwrap(),
        ];
        let runs =
            replicas.map(|replica| tokio::task::spawn_blocking(move || replica.run_migrations()));
        for run in runs {
            run.await.unwrap().unwrap();
        }
        insert(&fresh, &order("o-1").uncharged()).await;
    }
);

both_backends!(ping_answers_when_the_database_is_up, |db| {
    HealthStore::new(db.db.clone()).ping().await.unwrap();
});

both_backends!(
    the_schema_is_current_only_once_every_migration_is_applied,
    |db| {
        assert!(HealthStore::new(db.db.clone())
            .schema_current()
            .await
            .unwrap());
        let fresh = db.empty_sibling();
        let health = HealthStore::new(fresh.db.clone());
        assert!(!health.schema_current().await.unwrap(), "no migration yet");
        fresh.migrate_first(BEFORE_TERMS);
        assert!(!health.schema_current().await.unwrap(), "some migrations");
        fresh.db.run_migrations().unwrap();
        assert!(health.schema_current().await.unwrap());
    }
);

/// The migrations of the release before orders kept their terms.
const BEFORE_TERMS: usize = 10;

/// Orders as the release before wrote them (no terms, no versions, no payments).
const OLD_ORDERS: &str = "INSERT INTO DF_PURCHASE_ORDER (ORDER_ID, ACCOUNT_ID, REGION, PLAN_ID, \
     PLAN_TYPE, CHARGING_MODE, QUANTITIES, START_TIME, END_TIME, DEADLINE_TIME, \
     LAST_CONSUME_ID, RENEW_RETRIES, STATUS, CREATOR, RESOURCE_NAME, ACTIVE_RESOURCE_NAME) VALUES \
     ('m-1', 'p1', 'r1', 'plan-m', 'volume', 0, 2, '2026-01-01 00:00:00', NULL, '2026-03-01 00:00:00', 2, 0, 5, 'alice', 'vol-1', 'vol-1'), \
     ('y-1', 'p1', 'r1', 'plan-y', 'bsi', 0, 1, '2026-01-01 00:00:00', NULL, '2027-01-01 00:00:00', 1, 0, 5, 'alice', 'db-1', 'db-1'), \
     ('n-1', 'p1', 'r1', 'plan-p', 'gpu', 1, 1, '2026-01-01 00:00:00', NULL, '2027-01-01 00:00:00', 0, 0, 5, 'alice', NULL, NULL), \
     ('e-1', 'p1', 'r1', 'plan-m', 'volume', 0, 3, '2026-01-01 00:00:00', '2026-01-15 00:00:00', '2026-02-01 00:00:00', 2, 0, 15, 'alice', 'vol-2', NULL), \
     ('z-1', 'p1', 'r1', 'plan-free', 'gpu', 0, 1, '2026-01-01 00:00:00', NULL, '2026-02-01 00:00:00', 1, 0, 5, 'alice', NULL, NULL), \
     ('q-old', 'p1', 'r1', 'plan-q', 'cpuquota', 0, 1, '2026-01-01 00:00:00', NULL, '2026-02-01 00:00:00', 0, 0, 5, 'alice', NULL, NULL), \
     ('q-new', 'p1', 'r1', 'plan-q', 'quota', 0, 1, '2026-01-02 00:00:00', NULL, '2026-02-02 00:00:00', 0, 0, 5, 'alice', NULL, NULL), \
     ('q-r2', 'p1', 'r2', 'plan-q', 'resources', 0, 1, '2026-01-01 00:00:00', NULL, '2026-02-01 00:00:00', 0, 0, 10, 'alice', NULL, NULL), \
     ('q-end', 'p1', 'r3', 'plan-q', 'cpuquota', 0, 1, '2026-01-01 00:00:00', '2026-01-10 00:00:00', '2026-02-01 00:00:00', 0, 0, 15, 'alice', NULL, NULL)";

/// Their rows: two monthly charges of 2 units at 10.00, a yearly charge, a charge and its
/// refund, and a free first cycle.
const OLD_ROWS: &str = "INSERT INTO DF_CONSUMING_HISTORY (ORDER_ID, CONSUME_ID, CONSUMING, \
     CONSUME_TIME, DEADLINE_TIME, ACCOUNT_ID, REGION, PLAN_ID, KIND) VALUES \
     ('m-1', 1, 200000, '2026-01-01 00:00:00', '2026-02-01 00:00:00', 'p1', 'r1', 'plan-m', 0), \
     ('m-1', 2, 200000, '2026-02-01 00:00:00', '2026-03-01 00:00:00', 'p1', 'r1', 'plan-m', 1), \
     ('y-1', 1, 1200000, '2026-01-01 00:00:00', '2027-01-01 00:00:00', 'p1', 'r1', 'plan-y', 0), \
     ('e-1', 1, 300000, '2026-01-01 00:00:00', '2026-02-01 00:00:00', 'p1', 'r1', 'plan-m', 0), \
     ('e-1', 2, -100000, '2026-01-15 00:00:00', '2026-02-01 00:00:00', 'p1', 'r1', 'plan-m', 3), \
     ('z-1', 1, 0, '2026-01-01 00:00:00', '2026-02-01 00:00:00', 'p1', 'r1', 'plan-free', 0)";

/// Releases still owed (of a volume and of a quota), and one done.
const OLD_RELEASES: &str = "INSERT INTO DF_RELEASE_QUEUE (ORDER_ID, CREATED_AT, ATTEMPTS, \
     NEXT_ATTEMPT_AT, DONE_AT, LAST_ERROR) VALUES \
     ('e-1', '2026-01-15 00:00:00', 3, '2026-01-15 01:00:00', NULL, 'HTTP 503'), \
     ('q-end', '2026-01-10 00:00:00', 0, '2026-01-10 00:00:00', NULL, NULL), \
     ('m-1', '2026-01-05 00:00:00', 1, '2026-01-05 00:00:00', '2026-01-05 00:00:10', NULL)";

async fn stored(db: &TestDb, id: &str) -> Order {
    OrderStore::new(db.db.clone())
        .find(&order_id(id))
        .await
        .unwrap()
        .unwrap()
}

both_backends!(
    orders_rows_and_releases_of_the_release_before_carry_over,
    |db| {
        let old = db.empty_sibling();
        old.migrate_first(BEFORE_TERMS);
        for statement in [OLD_ORDERS, OLD_ROWS, OLD_RELEASES] {
            old.execute(statement).unwrap();
        }

        old.db.run_migrations().unwrap();

        // Terms: the cycle from row #1 (or the first deadline), the price per unit from the
        // latest charge, the payment numbers from the rows.
        let m = stored(&old, "m-1").await;
        assert_eq!(
            (m.terms.cycle, m.terms.price, m.terms.keeper),
            (Cycle::Month, money(100_000), MoneyKeeper::LocalLedger)
        );
        assert_eq!((m.version, m.payment_seq, m.awaiting_payment), (0, 2, None));
        let y = stored(&old, "y-1").await;
        assert_eq!(
            (y.terms.cycle, y.terms.price),
            (Cycle::Year, money(1_200_000))
        );
        let n = stored(&old, "n-1").await;
        assert_eq!(
            (n.terms.cycle, n.terms.price, n.payment_seq),
            (Cycle::Year, money(0), 0)
        );
        let e = stored(&old, "e-1").await;
        assert_eq!((e.terms.price, e.payment_seq), (money(100_000), 2));

        // One settled local-ledger payment per row that moved money.
        let books = BooksStore::new(old.db.clone())
            .books(&project("p1"))
            .await
            .unwrap();
        let payments: Vec<_> = books
            .payments
            .iter()
            .map(|p| (p.id.to_string(), p.direction, p.amount))
            .collect();
        assert_eq!(
            payments,
            [
                (
                    "pay:m-1:1".to_owned(),
                    PaymentDirection::Deduction,
                    money(200_000)
                ),
                (
                    "pay:m-1:2".to_owned(),
                    PaymentDirection::Deduction,
                    money(200_000)
                ),
                (
                    "pay:y-1:1".to_owned(),
                    PaymentDirection::Deduction,
                    money(1_200_000)
                ),
                (
                    "pay:e-1:1".to_owned(),
                    PaymentDirection::Deduction,
                    money(300_000)
                ),
                (
                    "pay:e-1:2".to_owned(),
                    PaymentDirection::Credit,
                    money(100_000)
                ),
            ]
        );
        for payment in &books.payments {
            assert_eq!(payment.state, PaymentState::Settled);
            assert_eq!(payment.keeper, MoneyKeeper::LocalLedger);
            assert!(!payment.deferred);
            assert_eq!(payment.created_at, payment.period_from);
            assert_eq!(payment.settled_at, Some(payment.period_from));
            let row = books
                .rows
                .iter()
                .find(|row| {
                    row.order_id == payment.id.order && row.consume_id == payment.consume_id
                })
                .unwrap();
            assert_eq!(
                (row.amount, row.kind, row.time, row.covered_until),
                (
                    payment.signed(),
                    payment.kind,
                    payment.period_from,
                    payment.period_until
                )
            );
        }

        // One quota order per project and region holds it: the newest open one.
        let orders = OrderStore::new(old.db.clone());
        let quota_in = |region: &str| Resource {
            order_id: order_id("asking"),
            project: project("p1"),
            region: crate::common::region(region),
            plan_id: domain::ids::PlanId::parse("plan-q").unwrap(),
            plan_type: PlanType::parse("quota").unwrap(),
            kind: ResourceKind::Quota,
            name: None,
            creator: domain::ids::UserName::parse("alice").unwrap(),
        };
        let holder = |region: &'static str| {
            let orders = orders.clone();
            let resource = quota_in(region);
            async move { orders.holder(&resource).await.unwrap().map(|o| o.id) }
        };
        assert_eq!(holder("r1").await, Some(order_id("q-new")));
        assert_eq!(holder("r2").await, Some(order_id("q-r2")));
        assert_eq!(holder("r3").await, None);

        // Releases still owed are tasks now: a release, or a quota setting for a quota.
        let tasks = TaskStore::new(old.db.clone())
            .due(t("2100-01-01T00:00:00Z"), 10, None)
            .await
            .unwrap();
        let moved: Vec<_> = tasks
            .iter()
            .map(|task| {
                (
                    task.resource.order_id.as_str().to_owned(),
                    task.action,
                    task.resource.kind,
                    task.attempts,
                )
            })
            .collect();
        assert_eq!(
            moved,
            [
                (
                    "e-1".to_owned(),
                    TaskAction::Release,
                    ResourceKind::Volume,
                    3
                ),
                (
                    "q-end".to_owned(),
                    TaskAction::SyncQuota,
                    ResourceKind::Quota,
                    0
                ),
            ]
        );
        assert_eq!(tasks[0].resource.name.as_ref().unwrap().as_str(), "vol-2");
        assert_eq!(
            old.time_in("DF_RESOURCE_TASK", "NEXT_ATTEMPT_AT", tasks[0].id)
                .unwrap()
                .map(|time| time.and_utc()),
            Some(t("2026-01-15T01:00:00Z"))
        );
        assert!(
            old.execute("SELECT 1 FROM DF_RELEASE_QUEUE").is_err(),
            "the old queue is gone"
        );
        assert!(old.execute("SELECT 1 FROM DF_CREDIT_QUEUE").is_err());
    }
);

/// The migrations before the notifications and recharges had list totals.
const BEFORE_NOTIFICATION_TOTALS: usize = 21;

/// Notifications and recharges as the release before wrote them: with no totals.
const OLD_NOTIFICATIONS: &str = "INSERT INTO DF_NOTIFICATION (ACCOUNT_ID, REGION, ORDER_ID, \
     KIND, AMOUNT, MESSAGE, CREATE_TIME) VALUES \
     ('p1', 'r1', 'o-1', 'order_created', 100000, 'opened', '2026-01-01 00:00:00'), \
     ('p1', 'r1', 'o-1', 'order_renewed', 100000, 'renewed', '2026-02-01 00:00:00'), \
     ('p1', 'r2', 'o-2', 'order_created', 100000, 'opened', '2026-01-02 00:00:00'), \
     ('p2', 'r1', 'o-3', 'order_created', NULL, 'opened', '2026-01-03 00:00:00')";
const OLD_RECHARGES: &str = "INSERT INTO DF_RECHARGE (ACCOUNT_ID, AMOUNT, COMMENT, OPERATOR, \
     CREATE_TIME) VALUES \
     ('p1', 1000000, NULL, 'admin', '2026-01-01 00:00:00'), \
     ('p1', 2000000, 'more', 'admin', '2026-01-05 00:00:00'), \
     ('p2', 1000000, NULL, 'admin', '2026-01-01 00:00:00')";

both_backends!(
    notifications_and_recharges_of_the_release_before_are_counted_in_their_totals,
    |db| {
        let old = db.empty_sibling();
        old.migrate_first(BEFORE_NOTIFICATION_TOTALS);
        for statement in [OLD_NOTIFICATIONS, OLD_RECHARGES] {
            old.execute(statement).unwrap();
        }

        old.db.run_migrations().unwrap();

        let notifications = NotificationStore::new(old.db.clone());
        let listed = |project_id: &'static str| {
            let notifications = notifications.clone();
            async move {
                let filter = NotificationFilter {
                    project: project(project_id),
                    order: None,
                };
                let page = notifications
                    .list(filter, PageRequest::parse(None, Some("1")).unwrap())
                    .await
                    .unwrap();
                (page.total, page.items.len())
            }
        };
        assert_eq!(listed("p1").await, (3, 1), "both regions of p1");
        assert_eq!(listed("p2").await, (1, 1));
        assert_eq!(listed("p3").await, (0, 0));

        let ledger = old.ledger();
        let recharges = |project_id: &'static str| {
            let ledger = ledger.clone();
            async move {
                ledger
                    .list_recharges(
                        &RechargeFilter::of(project(project_id)),
                        PageRequest::default(),
                    )
                    .await
                    .unwrap()
                    .total
            }
        };
        assert_eq!((recharges("p1").await, recharges("p2").await), (2, 1));

        // What the new release records adds to the carried totals.
        ledger
            .recharge(recharge_of("p1", 500_000, "2026-03-01T00:00:00Z"), None)
            .await
            .unwrap();
        assert_eq!((recharges("p1").await, recharges("p2").await), (3, 1));
    }
);

/// The migrations before orders were counted by plan type and order type.
const BEFORE_TOTALS_BY_KIND: usize = 22;

/// Orders as the release before wrote them, with the totals it kept (by status and region).
const ORDERS_BEFORE_KINDS: &str = "INSERT INTO DF_PURCHASE_ORDER (ORDER_ID, ACCOUNT_ID, REGION, \
     PLAN_ID, PLAN_TYPE, CHARGING_MODE, QUANTITIES, START_TIME, DEADLINE_TIME, STATUS, CREATOR, \
     REPLACES) VALUES \
     ('k-1', 'p1', 'r1', 'plan-m', 'volume', 0, 1, '2026-01-01 00:00:00', '2026-02-01 00:00:00', 5, 'alice', NULL), \
     ('k-2', 'p1', 'r1', 'plan-m', 'volume', 0, 1, '2026-01-02 00:00:00', '2026-02-02 00:00:00', 5, 'alice', 'k-0'), \
     ('k-3', 'p1', 'r2', 'plan-b', 'bsi', 0, 1, '2026-01-03 00:00:00', '2026-02-03 00:00:00', 5, 'alice', NULL), \
     ('k-4', 'p1', 'r1', 'plan-b', 'bsi', 0, 1, '2026-01-04 00:00:00', '2026-02-04 00:00:00', 15, 'alice', NULL)";
const TOTALS_BEFORE_KINDS: &str = "INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, \
     TOTAL) VALUES ('p1', 'orders', 5, 'r1', 2), ('p1', 'orders', 5, 'r2', 1), \
     ('p1', 'orders', 15, 'r1', 1)";

both_backends!(
    orders_of_the_release_before_are_counted_by_plan_type_and_order_type,
    |db| {
        let old = db.empty_sibling();
        old.migrate_first(BEFORE_TOTALS_BY_KIND);
        for statement in [ORDERS_BEFORE_KINDS, TOTALS_BEFORE_KINDS] {
            old.execute(statement).unwrap();
        }

        old.db.run_migrations().unwrap();

        let store = OrderStore::new(old.db.clone());
        let total = |filter: OrderFilter| {
            let store = store.clone();
            async move {
                store
                    .list(filter, PageRequest::parse(None, Some("1")).unwrap())
                    .await
                    .unwrap()
                    .total
            }
        };
        let every = || OrderFilter {
            status: None,
            ..consuming_in("p1")
        };
        assert_eq!(total(every()).await, 4);
        assert_eq!(total(consuming_in("p1")).await, 3);
        let volumes = OrderFilter {
            plan_type: Some(PlanType::parse("volume").unwrap()),
            ..every()
        };
        assert_eq!(total(volumes.clone()).await, 2);
        let switched = OrderFilter {
            order_type: Some(OrderType::Switch),
            ..volumes
        };
        assert_eq!(total(switched.clone()).await, 1);
        let bsi_in_r1 = OrderFilter {
            plan_type: Some(PlanType::parse("bsi").unwrap()),
            region: Some(region("r1")),
            ..every()
        };
        assert_eq!(total(bsi_in_r1).await, 1);

        // What the new release records adds to the carried totals.
        let mut again = order("k-5").uncharged();
        again.replaces = Some(order_id("k-1"));
        insert(&old, &again).await;
        assert_eq!(total(switched).await, 2);
        assert_eq!(total(every()).await, 5);
    }
);
