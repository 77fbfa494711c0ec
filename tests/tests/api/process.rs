//! The binary as a process: `migrate`, refused configurations, configuration layers.

use std::path::Path;

use diesel::sql_types::Text;
use diesel::{Connection, MysqlConnection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::helpers::{
    command, run_to_end, MysqlDatabase, SqliteDir, TestApp, ADMIN, ALICE, ALLOW_DEMO, DEMO,
};

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
}

#[test]
fn migrate_exits_0_and_creates_the_tables() {
    let dir = SqliteDir::new();
    let mut migrate = command(&dir.url());
    migrate.arg("migrate");
    let output = run_to_end(migrate);
    assert!(output.status.success(), "{output:?}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("listening"));

    let mut connection = SqliteConnection::establish(&dir.path().to_string_lossy()).unwrap();
    let tables: Vec<String> =
        diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .load::<Table>(&mut connection)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
    for expected in [
        "DF_BALANCE",
        "DF_CONSUMING_HISTORY",
        "DF_PURCHASE_ORDER",
        "DF_RECHARGE",
    ] {
        assert!(
            tables.iter().any(|t| t == expected),
            "{expected} missing from {tables:?}"
        );
    }

    // Idempotent: a second run changes nothing and succeeds.
    let mut again = command(&dir.url());
    again.arg("migrate");
    assert!(run_to_end(again).status.success());
}

/// Runs the binary with one variable changed and expects it to refuse to start.
fn refused_with(variable: &str, value: &str, key: &str) {
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env(variable, value);
    let output = run_to_end(serve);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{variable}={value}: {stderr}"
    );
    assert!(stderr.contains(key), "{variable}={value}: {stderr}");
    assert!(
        !dir.path().exists(),
        "a refused start must not create the database"
    );
}

#[test]
fn pool_size_0_is_refused_naming_the_key() {
    refused_with(
        "SERVICEUSAGE__DATABASE__POOL_SIZE",
        "0",
        "database.pool_size",
    );
}

#[test]
fn an_unknown_time_zone_is_refused_naming_the_key() {
    refused_with(
        "SERVICEUSAGE__BILLING__TIME_ZONE",
        "Mars/Olympus_Mons",
        "billing.time_zone",
    );
}

#[test]
fn a_bad_bind_address_is_refused_naming_the_key() {
    refused_with(
        "SERVICEUSAGE__SERVER__BIND",
        "not-an-address",
        "server.bind",
    );
}

#[test]
fn a_bad_database_url_is_refused_naming_the_key() {
    refused_with(
        "SERVICEUSAGE__DATABASE__URL",
        "postgres://localhost/x",
        "database.url",
    );
}

#[test]
fn an_unreadable_override_file_is_refused() {
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env("SERVICEUSAGE_CONFIG", dir.dir.path().join("missing.toml"));
    let output = run_to_end(serve);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}

#[tokio::test]
async fn the_file_named_by_serviceusage_config_overrides_the_default_and_demo_files() {
    let dir = SqliteDir::new();
    let override_file = dir.dir.path().join("override.toml");
    std::fs::write(
        &override_file,
        r#"
        [[users]]
        name = "carol"
        token = "carol-token"
        projects = ["carol-project"]
        "#,
    )
    .unwrap();
    let mut serve = command(&dir.url());
    serve.env("SERVICEUSAGE_CONFIG", &override_file);
    let app = TestApp::spawn_command(serve, dir);
    app.get("/balances/carol-project", "carol-token")
        .await
        .expect(200, 0);
    // The override file takes the demo file's place: its users are gone.
    app.get("/balances/demo", DEMO).await.expect(401, 3305);
    // Keys it does not set still come from config/default.toml.
    assert_eq!(app.get("/plans", "carol-token").await.data()["total"], 5);
}

#[test]
fn a_port_clash_stops_the_start_before_anything_is_written() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env("SERVICEUSAGE__SERVER__BIND", format!("127.0.0.1:{port}"));
    let output = run_to_end(serve);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{output:?}");
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    // No migration, no opening balance: the database was never opened.
    assert!(
        !dir.path().exists(),
        "a start that cannot listen must not create the database"
    );
    drop(taken);
}

/// Tables of the MariaDB database at `url`.
fn mysql_tables(url: &str) -> Vec<String> {
    let mut connection = MysqlConnection::establish(url).unwrap();
    diesel::sql_query(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    .load::<Table>(&mut connection)
    .unwrap()
    .into_iter()
    .map(|t| t.name)
    .collect()
}

#[test]
fn mysql_the_demo_users_are_refused_on_mysql_unless_allowed() {
    let Some(database) = MysqlDatabase::create("mysql_the_demo_users_are_refused_on_mysql") else {
        return;
    };
    let mut serve = command(&database.url());
    serve.env_remove(ALLOW_DEMO);
    let output = run_to_end(serve);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("users[0].token") && stderr.contains("server.allow_demo"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("demo-token"),
        "a token is never printed: {stderr}"
    );
    assert_eq!(mysql_tables(&database.url()), Vec::<String>::new());
}

#[test]
fn the_demo_users_are_refused_on_an_address_others_can_reach() {
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env("SERVICEUSAGE__SERVER__BIND", "0.0.0.0:0");
    let output = run_to_end(serve);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("0.0.0.0"), "{stderr}");
    assert!(!dir.path().exists());
}

#[test]
fn the_demo_opening_balance_alone_is_refused_where_others_reach_it() {
    let dir = SqliteDir::new();
    let only_money = dir.dir.path().join("only-money.toml");
    std::fs::write(
        &only_money,
        "users = []\n[[ledger.opening_balances]]\nproject = \"demo\"\namount = \"5.00\"\n",
    )
    .unwrap();
    let mut serve = command(&dir.url());
    serve
        .env("SERVICEUSAGE_CONFIG", &only_money)
        .env("SERVICEUSAGE__SERVER__BIND", "0.0.0.0:0");
    let output = run_to_end(serve);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ledger.opening_balances[0].project"),
        "{stderr}"
    );
}

#[tokio::test]
async fn mysql_a_deployment_over_the_default_file_has_no_demo_user_and_funds_nothing() {
    let Some(database) = MysqlDatabase::create("mysql_a_deployment_over_the_default_file") else {
        return;
    };
    let url = database.url();
    let mut serve = command(&url);
    serve
        .env_remove("SERVICEUSAGE_CONFIG")
        .env_remove(ALLOW_DEMO);
    let app = TestApp::spawn_command_mysql(serve, database);
    for token in [DEMO, ALICE, ADMIN] {
        app.get("/plans", token).await.expect(401, 3305);
    }
    let mut connection = MysqlConnection::establish(&url).unwrap();
    let balances: Vec<Table> = diesel::sql_query("SELECT ACCOUNT_ID AS name FROM DF_BALANCE")
        .load(&mut connection)
        .unwrap();
    assert!(balances.is_empty());
}

#[tokio::test]
async fn the_files_named_by_serviceusage_config_are_layered_in_order() {
    let dir = SqliteDir::new();
    let later = dir.dir.path().join("later.toml");
    std::fs::write(
        &later,
        "[[users]]\nname = \"carol\"\ntoken = \"carol-token\"\nprojects = [\"demo\"]\n",
    )
    .unwrap();
    let mut serve = command(&dir.url());
    serve.env(
        "SERVICEUSAGE_CONFIG",
        std::env::join_paths([Path::new("config/demo.toml"), &later]).unwrap(),
    );
    let app = TestApp::spawn_command(serve, dir);
    // The later file's users replace the demo's; the demo's opening balance stays.
    app.get("/balances/demo", "carol-token")
        .await
        .expect(200, 0);
    app.get("/balances/demo", DEMO).await.expect(401, 3305);
    assert_eq!(
        app.get("/balances/demo", "carol-token").await.data()["balance"],
        "1000.00"
    );
}
