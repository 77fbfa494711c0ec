//! Start-up failures must say what is wrong, in the driver's words.

use infra_mysql::{Backend, Database};

use crate::common::mysql_server_url;

#[test]
fn an_unknown_scheme_is_named_in_the_error() {
    let error = Database::connect("postgres://u:secret@localhost/db", 1).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("unsupported database url"), "{text}");
    assert!(
        text.contains("mysql://") && text.contains("sqlite://"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn an_unreachable_mysql_server_reports_the_drivers_reason() {
    // Port 1 on localhost: nothing listens there.
    let error = Database::connect("mysql://root:secret@127.0.0.1:1/serviceusage", 1).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("cannot connect to mysql://root:***@127.0.0.1:1/serviceusage: "),
        "{text}"
    );
    assert!(text.contains("Can't connect"), "{text}");
}

#[test]
fn a_missing_mysql_database_is_named() {
    let server = mysql_server_url();
    if diesel::Connection::establish(&server)
        .map(|_: diesel::mysql::MysqlConnection| ())
        .is_err()
    {
        if std::env::var("SERVICEUSAGE_REQUIRE_MYSQL").as_deref() == Ok("1") {
            panic!(
                "MariaDB is required (SERVICEUSAGE_REQUIRE_MYSQL=1) but {server} is unreachable"
            );
        }
        crate::common::skipped("a_missing_mysql_database_is_named");
        return;
    }
    let url = format!("{server}/su_missing_{}", uuid::Uuid::new_v4().simple());
    let text = Database::connect(&url, 1).unwrap_err().to_string();
    assert!(text.contains("Unknown database"), "{text}");
}

#[test]
fn sqlite_creates_the_parent_directories_of_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a/b/serviceusage.db");
    let db = Database::connect(&format!("sqlite://{}", file.display()), 2).unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    db.run_migrations().unwrap();
    assert!(file.exists());
}

#[test]
fn a_sqlite_path_that_cannot_be_created_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let url = format!("sqlite://{}/sub/serviceusage.db", blocker.display());
    let text = Database::connect(&url, 1).unwrap_err().to_string();
    assert!(text.contains("cannot create the directory"), "{text}");
}
