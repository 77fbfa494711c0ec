//! Request ids and JSON logs: the binary started with `LOG_FORMAT=json` (and `RUST_LOG=debug`,
//! so the domain's and the database threads' debug lines are written too), its stdout read
//! line by line.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{command, run_to_end, spawn_app, SqliteDir, API, DEMO, VOLUME};

/// Our own crates' targets: every line they write while serving carries an id.
const OURS: [&str; 5] = ["api", "access", "domain", "infra_mysql", "infra_http"];

/// The binary writing JSON logs to stdout, every line kept.
struct LoggedApp {
    address: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: SqliteDir,
}

impl LoggedApp {
    fn start() -> Self {
        let dir = SqliteDir::new();
        let mut command = command(&dir.url());
        command
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("spawn serviceusage");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&lines);
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("serviceusage listening on ") {
                    let _ = sender.send(address.to_owned());
                }
                kept.lock().unwrap().push(line);
            }
        });
        let address = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("serviceusage did not start listening");
        Self {
            address,
            child,
            lines,
            _dir: dir,
        }
    }

    /// The JSON log lines so far (the announce lines are not JSON and are left out).
    fn records(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.starts_with('{'))
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"))
            })
            .collect()
    }

    /// Waits (at most 10 s) until some record satisfies `found`; all records then.
    fn wait_for(&self, what: &str, found: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let records = self.records();
            if records.iter().any(&found) {
                return records;
            }
            assert!(Instant::now() < deadline, "no {what} in:\n{records:#?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for LoggedApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id_of(record: &Value) -> Option<&str> {
    record["request_id"].as_str()
}

fn target_of(record: &Value) -> &str {
    record["target"].as_str().unwrap_or_default()
}

fn is_ours(record: &Value) -> bool {
    let target = target_of(record);
    OURS.iter()
        .any(|crate_| target == *crate_ || target.starts_with(&format!("{crate_}::")))
}

fn header_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("X-Request-Id on the answer")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn json_logs_tie_every_line_of_a_request_to_its_id() {
    let app = LoggedApp::start();
    // The jobs announce themselves (with no id), then their runs log under their own ids;
    // once the renewal's first run is done, a line from our crates without an id would
    // have been written by a request.
    let started = app.wait_for("the renewal's first run", |r| {
        id_of(r) == Some("renewal-1") && target_of(r) == "api::jobs::renewal_job"
    });
    assert!(
        started
            .iter()
            .any(|r| target_of(r) == "api::jobs::delivery_job" && id_of(r).is_none()),
        "{started:#?}"
    );
    let before = app.records().len();
    let client = reqwest::Client::new();

    let created = client
        .post(format!("{}{API}/orders", app.address))
        .bearer_auth(DEMO)
        .header("X-Request-Id", "bb-create:1")
        .json(&json!({"project": "demo", "planId": VOLUME,
                      "parameters": {"resourceName": "logs-1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(header_id(&created), "bb-create:1");

    let missing = client
        .get(format!(
            "{}{API}/orders/no-such-order?project=demo",
            app.address
        ))
        .bearer_auth(DEMO)
        .header("X-Request-Id", "bb-missing.2")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(header_id(&missing), "bb-missing.2");
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], 3318);
    assert_eq!(body["request_id"], "bb-missing.2");

    let records = app.wait_for("access line of the 404", |r| {
        target_of(r) == "access" && id_of(r) == Some("bb-missing.2")
    });
    let create: Vec<&Value> = records
        .iter()
        .filter(|r| id_of(r) == Some("bb-create:1"))
        .collect();
    let targets: Vec<&str> = create.iter().map(|r| target_of(r)).collect();
    assert!(
        targets.iter().any(|t| t.starts_with("domain::")),
        "a line from the domain: {targets:?}"
    );
    assert!(
        targets.contains(&"infra_mysql::database"),
        "a line from a blocking database thread: {targets:?}"
    );
    let access: Vec<&&Value> = create.iter().filter(|r| target_of(r) == "access").collect();
    assert_eq!(access.len(), 1, "one access line per request: {create:#?}");
    let access = access[0];
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["method"], "POST");
    assert_eq!(access["path"], format!("{API}/orders"));
    assert_eq!(access["route"], format!("{API}/orders"));
    assert_eq!(access["status"], 201);
    assert!(access["bytes"].as_u64().unwrap() > 0, "{access}");
    assert!(access["duration_ms"].as_f64().is_some(), "{access}");
    let time = access["time"].as_str().unwrap();
    assert!(
        time.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(time).is_ok(),
        "{time}"
    );

    let strays: Vec<&Value> = records[before..]
        .iter()
        .filter(|r| is_ours(r) && id_of(r).is_none())
        .collect();
    assert!(strays.is_empty(), "lines written with no id: {strays:#?}");
}

#[tokio::test]
async fn an_unusable_request_id_is_replaced_by_a_new_one() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .get(app.url(&format!("{API}/orders/no-such-order?project=demo")))
        .bearer_auth(DEMO)
        .header("X-Request-Id", "has spaces; and \"quotes\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let id = header_id(&response);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "a new UUID: {id}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str());
}

#[tokio::test]
async fn a_request_without_an_id_gets_a_new_one_each_time() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = reqwest::get(app.url("/healthz")).await.unwrap();
        assert_eq!(response.status(), 200);
        seen.push(header_id(&response));
    }
    assert_ne!(seen[0], seen[1]);
}

#[test]
fn the_configuration_key_alone_switches_to_json_on_stdout() {
    let dir = SqliteDir::new();
    let mut migrate = command(&dir.url());
    migrate
        .env_remove("LOG_FORMAT")
        .env("SERVICEUSAGE__LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .arg("migrate");
    let output = run_to_end(migrate);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let records: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["target"] == "infra_mysql::backend" && r["level"] == "INFO"),
        "the migrations line: {stdout}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["message"] == "configuration: config/default.toml"),
        "the configuration's own line is JSON too: {stdout}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "", "no text lines");
}

#[test]
fn an_unknown_log_format_is_refused_before_anything_starts() {
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env("LOG_FORMAT", "yaml");
    let output = run_to_end(serve);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("LOG_FORMAT: \"yaml\" is not text or json"),
        "{stderr}"
    );
    assert!(!dir.path().exists(), "nothing was written");
}
