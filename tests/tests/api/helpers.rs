//! Starting the real `serviceusage` binary and talking to it.
//!
//! Every app gets its own database (a SQLite file in a temporary directory, or a fresh
//! MariaDB database that is dropped afterwards), listens on a free port, and runs from the
//! workspace root so that the shipped `config/default.toml` (demo plans) with
//! `config/demo.toml` over it (demo users and the funded `demo` project), as `make run`
//! layers them, is what is tested.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use diesel::{Connection, MysqlConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

pub const DEMO: &str = "demo-token";
pub const ALICE: &str = "alice-token";
pub const ADMIN: &str = "admin-token";
/// The member of `demo-dev`, a sub-account of `demo`.
pub const DEV: &str = "dev-token";
/// The member of `demo-test`, the other sub-account of `demo`.
pub const TESTER: &str = "tester-token";

/// Plans of `config/default.toml`.
pub const CPU: &str = "cpuquota-monthly"; // prepaid, 99.00 a month, cn-north-1
pub const VOLUME: &str = "volume-10g-monthly"; // prepaid, 12.50 a month, needs a resource name
pub const BSI: &str = "bsi-mysql-yearly"; // prepaid, 999.00 a year, needs a resource name
pub const POSTPAID: &str = "cpuquota-postpaid"; // postpaid, cn-north-1
pub const NORTH2: &str = "cpuquota-monthly-north2"; // prepaid, cn-north-2

pub const API: &str = "/usageapi/v1";

/// The file of the demo's users and money, relative to the workspace root.
pub const DEMO_CONFIG: &str = "config/demo.toml";
/// Serves the demo on MariaDB, which the service refuses by default.
pub const ALLOW_DEMO: &str = "SERVICEUSAGE__SERVER__ALLOW_DEMO";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `SERVICEUSAGE_BIN`, else `$CARGO_TARGET_DIR/debug/serviceusage`, else the workspace's
/// `target/debug/serviceusage`.
pub fn binary() -> PathBuf {
    let path = std::env::var_os("SERVICEUSAGE_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(|dir| workspace_root().join(dir).join("debug/serviceusage"))
        })
        .unwrap_or_else(|| workspace_root().join("target/debug/serviceusage"));
    assert!(
        path.exists(),
        "{} does not exist: run `cargo build -p api --bin serviceusage` first",
        path.display()
    );
    path
}

/// A command for the binary, run from the workspace root with the demo's configuration
/// (allowed on MariaDB), with no other `SERVICEUSAGE*` variable inherited from the
/// developer's shell.
pub fn command(database_url: &str) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(workspace_root());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SERVICEUSAGE") {
            command.env_remove(key);
        }
    }
    command
        .env("SERVICEUSAGE_CONFIG", DEMO_CONFIG)
        .env("SERVICEUSAGE__SERVER__BIND", "127.0.0.1:0")
        .env("SERVICEUSAGE__DATABASE__URL", database_url)
        .env("RUST_LOG", "warn");
    if database_url.starts_with("mysql://") {
        command.env(ALLOW_DEMO, "true");
    }
    command
}

/// Runs the binary to completion (for `migrate` and refused configurations).
pub fn run_to_end(mut command: Command) -> Output {
    command.output().expect("run serviceusage")
}

/// `serviceusage reconcile` with `command`'s database and configuration, run to its end.
pub fn reconcile(mut command: Command) -> Output {
    command.arg("reconcile");
    run_to_end(command)
}

/// [`reconcile`] that must find the books in order: exit 0 and a summary line of no
/// mismatch. Returns that line (`reconcile: N project(s), 0 mismatch(es)`).
#[track_caller]
pub fn assert_reconciled(command: Command) -> String {
    let output = reconcile(command);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "reconcile failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = reconcile_summary(&stdout).to_owned();
    assert!(line.ends_with(" project(s), 0 mismatch(es)"), "{stdout}");
    line
}

/// The `reconcile:` summary line of a reconcile run's output.
#[track_caller]
pub fn reconcile_summary(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|line| line.starts_with("reconcile: "))
        .unwrap_or_else(|| panic!("no `reconcile:` line in:\n{stdout}"))
}

/// A temporary directory holding a SQLite database.
pub struct SqliteDir {
    pub dir: TempDir,
}

impl SqliteDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("db.sqlite")
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }
}

/// A fresh MariaDB database, dropped on drop.
pub struct MysqlDatabase {
    base_url: String,
    name: String,
}

impl MysqlDatabase {
    /// `None` (after printing why) when MariaDB cannot be reached and
    /// `SERVICEUSAGE_REQUIRE_MYSQL` is not `1`.
    pub fn create(test_name: &str) -> Option<Self> {
        let base_url = std::env::var("SERVICEUSAGE_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let base_url = base_url.trim_end_matches('/').to_owned();
        let mut connection = match MysqlConnection::establish(&base_url) {
            Ok(connection) => connection,
            Err(error) => {
                if std::env::var("SERVICEUSAGE_REQUIRE_MYSQL").as_deref() == Ok("1") {
                    panic!("MariaDB at {base_url} is required but unreachable: {error}");
                }
                // Straight to the process's stderr: libtest would swallow `eprintln!` of a
                // passing test, and a skip must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED (MariaDB unreachable): {test_name}"
                );
                return None;
            }
        };
        let simple = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("su_blackbox_{}", &simple[..16]);
        // A database name cannot be a bound parameter; this one is generated right here.
        diesel::sql_query(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .execute(&mut connection)
            .expect("create test database");
        Some(Self { base_url, name })
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.base_url, self.name)
    }
}

impl Drop for MysqlDatabase {
    fn drop(&mut self) {
        if let Ok(mut connection) = MysqlConnection::establish(&self.base_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS `{}`", self.name))
                .execute(&mut connection);
        }
    }
}

enum Store {
    Sqlite(SqliteDir),
    Mysql(MysqlDatabase),
}

/// A running `serviceusage`; killed on drop.
pub struct TestApp {
    pub address: String,
    child: Child,
    client: reqwest::Client,
    /// Dropped after the child is killed (field order).
    _store: Store,
}

/// An answer: status, headers and JSON body (`Value::Null` if the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// The request header that makes a money-moving write safe to retry.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

impl Reply {
    /// Whether the answer is a replay of the first answer to its `Idempotency-Key`.
    pub fn replayed(&self) -> bool {
        self.headers
            .get("Idempotent-Replayed")
            .is_some_and(|value| value == "true")
    }

    pub fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or(-1)
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn msg(&self) -> &str {
        self.body["msg"].as_str().unwrap_or_default()
    }

    /// Panics with the whole reply unless status and code are as expected.
    #[track_caller]
    pub fn expect(&self, status: u16, code: i64) -> &Self {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "unexpected reply: {self:?}"
        );
        self
    }
}

/// Money string → ten-thousandths, to compare balances exactly.
pub fn minor(amount: &Value) -> i64 {
    let text = amount
        .as_str()
        .unwrap_or_else(|| panic!("{amount} is not a string"));
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let value =
        whole.parse::<i64>().unwrap() * 10_000 + format!("{frac:0<4}").parse::<i64>().unwrap();
    if negative {
        -value
    } else {
        value
    }
}

/// What a request may change about a project, as the API shows it to an admin.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub balance: String,
    pub orders_by_status: Vec<u64>,
    pub usages: u64,
    pub recharges: u64,
}

pub async fn spawn_app() -> TestApp {
    let dir = SqliteDir::new();
    let command = command(&dir.url());
    TestApp::start(command, Store::Sqlite(dir))
}

/// The app on a fresh MariaDB database, or `None` when MariaDB is unreachable (see
/// [`MysqlDatabase::create`]).
pub async fn spawn_app_mysql(test_name: &str) -> Option<TestApp> {
    let database = MysqlDatabase::create(test_name)?;
    let command = command(&database.url());
    Some(TestApp::start(command, Store::Mysql(database)))
}

/// Starts the binary and waits for "serviceusage listening on http://…" on its stdout.
fn start_child(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn serviceusage");
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("serviceusage listening on ") {
                let _ = sender.send(address.to_owned());
            }
        }
    });
    match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => (child, address),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait();
            panic!("serviceusage did not start listening: {status:?}");
        }
    }
}

impl TestApp {
    /// Starts a prepared command (extra variables set by the test) on a SQLite directory.
    pub fn spawn_command(command: Command, dir: SqliteDir) -> Self {
        Self::start(command, Store::Sqlite(dir))
    }

    /// Starts a prepared command on a MariaDB database (dropped with the app).
    pub fn spawn_command_mysql(command: Command, database: MysqlDatabase) -> Self {
        Self::start(command, Store::Mysql(database))
    }

    fn start(command: Command, store: Store) -> Self {
        let (child, address) = start_child(command);
        Self {
            address,
            child,
            client: reqwest::Client::new(),
            _store: store,
        }
    }

    /// The database the app runs on.
    pub fn database_url(&self) -> String {
        match &self._store {
            Store::Sqlite(dir) => dir.url(),
            Store::Mysql(database) => database.url(),
        }
    }

    /// `serviceusage reconcile` on the app's database must find the books in order; the
    /// summary line.
    #[track_caller]
    pub fn assert_reconciled(&self) -> String {
        assert_reconciled(command(&self.database_url()))
    }

    /// Stops the process and starts it again on the same database.
    pub fn restart(&mut self) {
        self.restart_with(command(&self.database_url()));
    }

    /// Stops the process (SIGKILL: nothing is flushed on the way out) and starts `command`
    /// in its place, which should run on [`TestApp::database_url`].
    pub fn restart_with(&mut self, command: Command) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, address) = start_child(command);
        self.child = child;
        self.address = address;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `path` is relative to `/usageapi/v1` unless it starts with `//` (then it is taken
    /// from the root, e.g. `//healthz`).
    fn full(&self, path: &str) -> String {
        match path.strip_prefix('/').and_then(|p| p.strip_prefix('/')) {
            Some(rooted) => self.url(&format!("/{rooted}")),
            None => self.url(&format!("{API}{path}")),
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.full(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(self.request(reqwest::Method::GET, path, Some(token)))
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            self.request(reqwest::Method::POST, path, Some(token))
                .json(&body),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            self.request(reqwest::Method::PUT, path, Some(token))
                .json(&body),
        )
        .await
    }

    /// A JSON body sent with an `Idempotency-Key`.
    pub async fn keyed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        key: &str,
        body: Value,
    ) -> Reply {
        self.send(
            self.request(method, path, Some(token))
                .header(IDEMPOTENCY_KEY, key)
                .json(&body),
        )
        .await
    }

    /// A body sent as is, with the given content type (or none).
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.request(method, path, Some(token)).body(body);
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        self.send(request).await
    }

    pub async fn create_order(&self, token: &str, project: &str, plan: &str) -> Reply {
        self.post(
            "/orders",
            token,
            serde_json::json!({"project": project, "planId": plan}),
        )
        .await
    }

    pub async fn recharge(&self, project: &str, amount: &str) -> Reply {
        self.post(
            &format!("/balances/{project}/recharges"),
            ADMIN,
            serde_json::json!({"amount": amount}),
        )
        .await
    }

    pub async fn balance(&self, project: &str) -> String {
        let reply = self.get(&format!("/balances/{project}"), ADMIN).await;
        reply.expect(200, 0);
        reply.data()["balance"]
            .as_str()
            .expect("balance")
            .to_owned()
    }

    /// The order as an admin reads it now (`data` of a 200).
    pub async fn order(&self, project: &str, order: &str) -> Value {
        let reply = self
            .get(&format!("/orders/{order}?project={project}"), ADMIN)
            .await;
        reply.expect(200, 0);
        reply.data().clone()
    }

    pub async fn snapshot(&self, project: &str) -> Snapshot {
        let mut orders_by_status = Vec::new();
        for status in ["pending", "consuming", "ending", "ended"] {
            let reply = self
                .get(&format!("/orders?project={project}&status={status}"), ADMIN)
                .await;
            reply.expect(200, 0);
            orders_by_status.push(reply.data()["total"].as_u64().expect("total"));
        }
        let usages = self.get(&format!("/usages?project={project}"), ADMIN).await;
        let recharges = self
            .get(&format!("/balances/{project}/recharges"), ADMIN)
            .await;
        Snapshot {
            balance: self.balance(project).await,
            orders_by_status,
            usages: usages.expect(200, 0).data()["total"]
                .as_u64()
                .expect("total"),
            recharges: recharges.expect(200, 0).data()["total"]
                .as_u64()
                .expect("total"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
