//! MariaDB sessions have limits: a write stuck behind a lock another connection holds
//! gives up after `database.lock_wait_timeout_seconds` with a 503, instead of hanging the
//! request (MariaDB's own default is 50 s, and a lost transaction used to be run again).

use std::time::{Duration, Instant};

use diesel::{Connection, MysqlConnection, RunQueryDsl};

use crate::helpers::{command, MysqlDatabase, TestApp};

#[tokio::test]
async fn mysql_a_write_behind_a_held_lock_gives_up_with_503_after_the_lock_wait_timeout() {
    let Some(database) = MysqlDatabase::create("mysql_a_write_behind_a_held_lock") else {
        return;
    };
    let url = database.url();
    let mut serve = command(&url);
    serve.env("SERVICEUSAGE__DATABASE__LOCK_WAIT_TIMEOUT_SECONDS", "1");
    let app = TestApp::spawn_command_mysql(serve, database);
    assert_eq!(app.balance("demo").await, "1000.00");

    // Another connection holds the demo project's balance row.
    let mut holder = MysqlConnection::establish(&url).unwrap();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("UPDATE DF_BALANCE SET UPDATE_TIME = UPDATE_TIME WHERE ACCOUNT_ID = 'demo'")
        .execute(&mut holder)
        .unwrap();

    let started = Instant::now();
    let reply = app.recharge("demo", "10.00").await;
    let waited = started.elapsed();
    reply.expect(503, 3304);
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    // Reads do not wait for the lock.
    assert_eq!(app.balance("demo").await, "1000.00");

    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
    app.recharge("demo", "10.00").await.expect(200, 0);
    assert_eq!(app.balance("demo").await, "1010.00");
}
