//! The service started against the fake platform: the fakes, the configuration file that
//! points the service at them, the running binary, and `serviceusage renew --once` with the
//! same file.

use std::path::PathBuf;
use std::process::{Command, Output};

use blackbox_tests::calendar;
use blackbox_tests::catalog::{self, Plan};
use blackbox_tests::db::Db;
use blackbox_tests::inspect;
use blackbox_tests::retries;
use blackbox_tests::seed::{self, Keeper, NewOrder};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use tempfile::TempDir;

pub use crate::fake_platform::POSTPAID_PLAN;
use crate::fake_platform::{FakePlatform, PaymentSeen, RemotePlan, ServiceConfig, WebhookTarget};
use crate::helpers::{
    assert_reconciled, command, reconcile, run_to_end, MysqlDatabase, Reply, SqliteDir, TestApp,
};

/// The region whose plans, charging and provisioning are the platform's.
pub const REGION: &str = "cn-north-1";
/// The region whose one plan is [`POSTPAID_PLAN`] from the configuration file and whose
/// money the same charge service keeps; provisioning is embedded there.
pub const POSTPAID_REGION: &str = "cn-north-2";
/// [`POSTPAID_PLAN`]'s price of a month, ten-thousandths (100.00).
pub const POSTPAID_PRICE: i64 = 1_000_000;
/// The platform admin's token: the only one the charge service, the volume service and
/// the quota endpoints accept.
pub const ADMIN_TOKEN: &str = "platform-admin-token-9f3c";
/// The project (namespace) the tests order for.
pub const PROJECT: &str = "proj-a";
/// Its balance at the charge service when a test starts: 1000.00.
pub const OPENING_BALANCE: i64 = 10_000_000;

/// A member of [`PROJECT`].
pub const ANN: &str = "ann-token";
/// A platform user who is a member of no project.
pub const BOB: &str = "bob-token";
/// A member of [`PROJECT`] that no test uses before identity goes down.
pub const CAROL: &str = "carol-token";
/// A user the configuration names as an admin.
pub const BOSS: &str = "boss-token";

pub const VOLUME_PLAN: &str = "vol-10g-m";
pub const QUOTA_SMALL: &str = "quota-2c4g-m";
pub const QUOTA_LARGE: &str = "quota-4c8g-m";

pub const WEBHOOK_NAME: &str = "billing-events";
pub const WEBHOOK_SECRET: &str = "whsec-5b1d0c7e";

/// How long something the service does in the background (a queued credit, a webhook
/// delivery with its back-off of 5 s, then 10 s) may take to reach a fake.
pub const BACKGROUND: std::time::Duration = std::time::Duration::from_secs(30);

fn plans() -> Vec<RemotePlan> {
    vec![
        RemotePlan {
            id: VOLUME_PLAN,
            name: "Volume 10 GB",
            plan_type: "volume",
            belong: "volume",
            specification1: "10 GB",
            specification2: "",
            price: "12.5",
            region: REGION,
        },
        RemotePlan {
            id: QUOTA_SMALL,
            name: "Quota 2 cores 4 GB",
            plan_type: "resources",
            belong: "quota",
            specification1: "2 CPU Cores",
            specification2: "4 GB RAM",
            price: "20",
            region: REGION,
        },
        RemotePlan {
            id: QUOTA_LARGE,
            name: "Quota 4 cores 8 GB",
            plan_type: "resources",
            belong: "quota",
            specification1: "4 CPU Cores",
            specification2: "8 GB RAM",
            price: "50",
            region: REGION,
        },
    ]
}

/// Which database the service runs on.
pub enum Database {
    Sqlite,
    /// MariaDB, when reachable; the name is the test's, for the skip message.
    Mysql(&'static str),
}

pub struct Harness {
    pub fakes: FakePlatform,
    pub app: TestApp,
    config: PathBuf,
    _config_dir: TempDir,
}

/// `serviceusage` with the configuration file, on `database_url`.
fn configured(database_url: &str, config: &PathBuf) -> Command {
    let mut command = command(database_url);
    command.env("SERVICEUSAGE_CONFIG", config);
    command
}

impl Harness {
    /// On SQLite, without webhooks.
    pub async fn start() -> Self {
        Self::start_on(Database::Sqlite, false)
            .await
            .expect("SQLite is always there")
    }

    /// On SQLite, with the fake receiver as the one webhook endpoint.
    pub async fn start_with_webhooks() -> Self {
        Self::start_on(Database::Sqlite, true)
            .await
            .expect("SQLite is always there")
    }

    /// `None` when MariaDB is asked for and unreachable (see [`MysqlDatabase::create`]).
    pub async fn start_on(database: Database, webhooks: bool) -> Option<Self> {
        Self::start_with(database, |config, fakes| {
            if webhooks {
                config.webhook = Some(WebhookTarget {
                    name: WEBHOOK_NAME.into(),
                    url: fakes.webhook_url(),
                    secret: WEBHOOK_SECRET.into(),
                });
            }
        })
        .await
    }

    /// Like [`Harness::start_on`], with the configuration file's values changed by
    /// `adjust` first (a longer timeout, webhooks).
    pub async fn start_with(
        database: Database,
        adjust: impl FnOnce(&mut ServiceConfig, &FakePlatform),
    ) -> Option<Self> {
        let fakes = FakePlatform::start(plans(), ADMIN_TOKEN).await;
        fakes.identity.add_user("ann", ANN, &[PROJECT]);
        fakes.identity.add_user("bob", BOB, &[]);
        fakes.identity.add_user("carol", CAROL, &[PROJECT]);
        fakes.identity.add_user("boss", BOSS, &[]);
        fakes.charge.set_balance(PROJECT, OPENING_BALANCE);

        let mut config = fakes.config(REGION, ADMIN_TOKEN, &["boss"]);
        config.postpaid_region = Some(POSTPAID_REGION.into());
        adjust(&mut config, &fakes);
        let config_dir = tempfile::tempdir().unwrap();
        let config_file = config_dir.path().join("platform.toml");
        std::fs::write(&config_file, config.toml()).unwrap();

        let app = match database {
            Database::Sqlite => {
                let dir = SqliteDir::new();
                TestApp::spawn_command(configured(&dir.url(), &config_file), dir)
            }
            Database::Mysql(test_name) => {
                let database = MysqlDatabase::create(test_name)?;
                TestApp::spawn_command_mysql(configured(&database.url(), &config_file), database)
            }
        };
        Some(Self {
            fakes,
            app,
            config: config_file,
            _config_dir: config_dir,
        })
    }

    /// Stops the service and starts it again on the same database and configuration.
    pub fn restart(&mut self) {
        let command = configured(&self.app.database_url(), &self.config);
        self.app.restart_with(command);
    }

    /// `serviceusage renew --once --now <now>` with the same configuration, run to its end.
    pub fn renew(&self, now: DateTime<Utc>) -> Output {
        let mut renew = configured(&self.app.database_url(), &self.config);
        renew.args([
            "renew",
            "--once",
            "--allow-future-clock",
            "--now",
            &now.to_rfc3339(),
        ]);
        run_to_end(renew)
    }

    /// [`Harness::renew`] that must exit 0; its stdout.
    #[track_caller]
    pub fn renew_ok(&self, now: DateTime<Utc>) -> String {
        let output = self.renew(now);
        assert!(
            output.status.success(),
            "renew --once --now {now} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `serviceusage renew --once --now <now>` with the same configuration, started in
    /// the background; its output is collected when it ends.
    pub fn spawn_renew(&self, now: DateTime<Utc>) -> std::process::Child {
        let mut renew = configured(&self.app.database_url(), &self.config);
        renew
            .args([
                "renew",
                "--once",
                "--allow-future-clock",
                "--now",
                &now.to_rfc3339(),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        renew.spawn().expect("spawn serviceusage renew")
    }

    /// `serviceusage deliver --once` with the same configuration (what the server's
    /// delivery job does every few seconds: due payments, resource tasks, webhooks), run
    /// to its end; must exit 0. Its stdout.
    #[track_caller]
    pub fn deliver_ok(&self) -> String {
        self.deliver(None)
    }

    /// [`Harness::deliver_ok`] as if it were `now` (`deliver --once --now <now>`): what is
    /// due by then goes, the retries' back-off included.
    #[track_caller]
    pub fn deliver_ok_at(&self, now: DateTime<Utc>) -> String {
        self.deliver(Some(now))
    }

    #[track_caller]
    fn deliver(&self, now: Option<DateTime<Utc>>) -> String {
        let mut deliver = configured(&self.app.database_url(), &self.config);
        deliver.args(["deliver", "--once"]);
        if let Some(now) = now {
            deliver.args(["--allow-future-clock", "--now", &now.to_rfc3339()]);
        }
        let output = run_to_end(deliver);
        assert!(
            output.status.success(),
            "deliver --once failed ({}):\nstdout:\n{}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `deliver --once --now <now>` until nothing is left to deliver: no payment
    /// pending, no order pending or waiting for a payment, no resource task undone (at most
    /// ten runs). How many runs it took.
    #[track_caller]
    pub fn deliver_until_done(&self, now: DateTime<Utc>) -> usize {
        let mut runs = 0;
        loop {
            let left = self.left_to_deliver();
            if left.is_empty() {
                return runs;
            }
            assert!(
                runs < 10,
                "still to deliver after {runs} runs of deliver --once: {left:?}"
            );
            self.deliver_ok_at(now);
            runs += 1;
        }
    }

    /// What a delivery has yet to finish, one line each.
    pub fn left_to_deliver(&self) -> Vec<String> {
        let mut db = self.db();
        let mut left: Vec<String> = inspect::payments(&mut db)
            .unwrap()
            .into_iter()
            .filter(|p| p.state == inspect::PAYMENT_PENDING)
            .map(|p| format!("payment pay:{}:{} pending", p.order_id, p.seq))
            .collect();
        left.extend(
            inspect::orders(&mut db)
                .unwrap()
                .into_iter()
                .filter(|o| o.status == inspect::PENDING || o.awaiting_payment.is_some())
                .map(|o| format!("order {} pending or awaiting a payment", o.order_id)),
        );
        let tasks = retries::tasks_left(&mut db).unwrap();
        if tasks > 0 {
            left.push(format!("{tasks} resource task(s) undone"));
        }
        left
    }

    /// Writes a postpaid order of [`POSTPAID_PLAN`] for [`PROJECT`] kept by the charge
    /// service, started `days` ago and never billed since (as after an outage of the
    /// renewal job), straight into the database; its id.
    pub fn seed_postpaid_order(&self, days: i64) -> String {
        let order = NewOrder {
            order_id: format!(
                "postpaid-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            ),
            project: PROJECT.into(),
            plan: Plan {
                id: POSTPAID_PLAN,
                plan_type: "usage",
                region: POSTPAID_REGION,
                mode: catalog::POSTPAID,
                price: POSTPAID_PRICE,
                months: 1,
                needs_resource_name: false,
            },
            quantities: 1,
            start: calendar::days_ago(days),
            resource_name: None,
            keeper: Keeper::ChargeService,
        };
        let mut db = self.db();
        seed::insert_orders(&mut db, std::slice::from_ref(&order)).unwrap();
        order.order_id
    }

    /// A connection to the service's database, bypassing the service.
    pub fn db(&self) -> Db {
        Db::connect(&self.app.database_url()).unwrap()
    }

    /// Makes the payments and resource tasks the service would try again later due now
    /// (see [`blackbox_tests::retries`]), then runs `deliver --once`; its stdout.
    #[track_caller]
    pub fn deliver_due_now(&self) -> String {
        let mut db = self.db();
        retries::payments_due_now(&mut db).unwrap();
        retries::tasks_due_now(&mut db).unwrap();
        self.deliver_ok()
    }

    /// Waits until the order has `status` (the settler or the task runner may finish it
    /// in the server's own job, racing `deliver --once`); the order then.
    pub async fn wait_for_status(&self, order: &str, status: &str) -> Value {
        let deadline = std::time::Instant::now() + BACKGROUND;
        loop {
            let now = self.order(order).await;
            if now["status"] == status {
                return now;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "order {order} is not {status} within {BACKGROUND:?}: {now}\n{}",
                self.fakes.journal.describe()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// `serviceusage reconcile` with the same configuration, run to its end.
    pub fn reconcile(&self) -> Output {
        reconcile(configured(&self.app.database_url(), &self.config))
    }

    /// [`Harness::reconcile`] that must find the books in order; its summary line.
    #[track_caller]
    pub fn assert_reconciled(&self) -> String {
        assert_reconciled(configured(&self.app.database_url(), &self.config))
    }

    pub async fn create(&self, token: &str, plan: &str) -> Reply {
        self.app
            .post(
                "/orders",
                token,
                json!({"project": PROJECT, "planId": plan, "region": REGION}),
            )
            .await
    }

    pub async fn create_volume(&self, token: &str, name: &str) -> Reply {
        self.app
            .post(
                "/orders",
                token,
                json!({"project": PROJECT, "planId": VOLUME_PLAN, "region": REGION,
                       "parameters": {"resourceName": name}}),
            )
            .await
    }

    /// [`Harness::create`] with an `Idempotency-Key`.
    pub async fn create_keyed(&self, token: &str, plan: &str, key: &str) -> Reply {
        self.app
            .keyed(
                reqwest::Method::POST,
                "/orders",
                token,
                key,
                json!({"project": PROJECT, "planId": plan, "region": REGION}),
            )
            .await
    }

    /// A plan switch: a new order on `plan` replacing `replaces`.
    pub async fn switch(&self, token: &str, replaces: &str, plan: &str) -> Reply {
        self.app
            .post(
                "/orders",
                token,
                json!({"project": PROJECT, "planId": plan, "region": REGION,
                       "replaces": replaces}),
            )
            .await
    }

    pub async fn cancel(&self, token: &str, order: &str) -> Reply {
        self.app
            .put(
                &format!("/orders/{order}"),
                token,
                json!({"action": "cancel", "project": PROJECT}),
            )
            .await
    }

    /// The order as the API shows it now.
    pub async fn order(&self, order: &str) -> Value {
        let reply = self
            .app
            .get(&format!("/orders/{order}?project={PROJECT}"), ANN)
            .await;
        reply.expect(200, 0);
        reply.data().clone()
    }

    /// The order's consumption rows, newest first.
    pub async fn usages(&self, order: &str) -> Vec<Value> {
        let reply = self
            .app
            .get(
                &format!("/usages?project={PROJECT}&order={order}&size=100"),
                ANN,
            )
            .await;
        reply.expect(200, 0);
        reply.data()["results"].as_array().unwrap().clone()
    }

    /// The first credit of one of the order's payments (`pay:{order}:{seq}`) the charge
    /// service took (200) at or after journal position `since`, waiting for it: a refund
    /// is sent right after the change that records it, or by the delivery job.
    pub async fn refund_taken(&self, since: usize, order: &str) -> PaymentSeen {
        let prefix = payment_prefix(order);
        let request = self
            .fakes
            .journal
            .wait_for(&format!("a credit of {prefix}…"), BACKGROUND, |r| {
                r.seq >= since
                    && PaymentSeen::of(r).is_some_and(|p| {
                        p.kind == "credit" && p.reason.starts_with(&prefix) && p.status == 200
                    })
            })
            .await;
        PaymentSeen::of(&request).unwrap()
    }

    /// What the charge service holds for the order now: its deductions taken minus its
    /// credits given back under the order's payment ids, ten-thousandths.
    pub fn net_taken_for(&self, order: &str) -> i64 {
        let prefix = payment_prefix(order);
        self.fakes
            .charge
            .taken()
            .iter()
            .filter(|((_, reason), _)| reason.starts_with(&prefix))
            .map(|((kind, _), taken)| {
                if kind == "deduction" {
                    taken.amount
                } else {
                    -taken.amount
                }
            })
            .sum()
    }

    /// What the order's consumption rows add up to, ten-thousandths.
    pub async fn rows_total(&self, order: &str) -> i64 {
        self.usages(order)
            .await
            .iter()
            .map(|row| crate::helpers::minor(&row["money"]))
            .sum()
    }

    /// The payments that arrived at or after journal position `since`.
    pub fn payments_since(&self, since: usize) -> Vec<PaymentSeen> {
        self.fakes
            .payments()
            .into_iter()
            .filter(|p| p.seq >= since)
            .collect()
    }

    /// How many of the project's orders the API lists with `status`.
    pub async fn orders_with_status(&self, status: &str) -> u64 {
        let reply = self
            .app
            .get(&format!("/orders?project={PROJECT}&status={status}"), ANN)
            .await;
        reply.expect(200, 0);
        reply.data()["total"].as_u64().unwrap()
    }
}

/// An RFC 3339 time of the API.
pub fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// A renewal run's `--now` for an order: after the renewal margin (7 days) began, before
/// the deadline.
pub fn due_time(order: &Value) -> DateTime<Utc> {
    time(&order["deadlineTime"]) - Duration::days(3)
}

/// The `Authorization` header every admin call carries.
pub fn admin_bearer() -> String {
    format!("Bearer {ADMIN_TOKEN}")
}

/// The order id of a create reply, which must be a 201.
#[track_caller]
pub fn order_id(reply: &Reply) -> String {
    reply.expect(201, 0);
    reply.data()["orderId"].as_str().unwrap().to_owned()
}

/// The reason prefix of an order's payments at the charge service: `pay:{order}:`.
pub fn payment_prefix(order: &str) -> String {
    format!("pay:{order}:")
}

/// The reason of the order's payment number `seq`: `pay:{order}:{seq}`.
pub fn payment_reason(order: &str, seq: u32) -> String {
    format!("pay:{order}:{seq}")
}
