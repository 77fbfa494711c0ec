//! The original's deployment variables, through the whole load: the database url, the
//! migrations switch.

use super::{error_of, load, VALID};

const MYSQL: [(&str, &str); 10] = [
    ("ENV_NAME_MYSQL_ADDR", "BSI_HOST"),
    ("ENV_NAME_MYSQL_PORT", "BSI_PORT"),
    ("ENV_NAME_MYSQL_DATABASE", "BSI_NAME"),
    ("ENV_NAME_MYSQL_USER", "BSI_USERNAME"),
    ("ENV_NAME_MYSQL_PASSWORD", "BSI_PASSWORD"),
    ("BSI_HOST", "mysql.svc"),
    ("BSI_PORT", "3306"),
    ("BSI_NAME", "serviceusage"),
    ("BSI_USERNAME", "su"),
    ("BSI_PASSWORD", "db-pa55:word"),
];

#[test]
fn the_mysql_variables_replace_the_files_database_url() {
    let settings = load(VALID, &MYSQL).unwrap();
    assert_eq!(
        settings.database.url,
        "mysql://su:db-pa55%3Aword@mysql.svc:3306/serviceusage"
    );
    assert_eq!(settings.database.pool_size, 4);
    assert!(settings.database.migrate_at_start);
}

#[test]
fn a_missing_named_variable_stops_the_load_naming_both() {
    let env: Vec<_> = MYSQL
        .iter()
        .copied()
        .filter(|(k, _)| *k != "BSI_NAME")
        .collect();
    let error = error_of(VALID, &env);
    assert!(
        error.contains("ENV_NAME_MYSQL_DATABASE") && error.contains("BSI_NAME"),
        "{error}"
    );
}

#[test]
fn dont_upgrade_tables_turns_migrations_at_start_off() {
    let settings = load(VALID, &[("MYSQL_CONFIG_DONT_UPGRADE_TABLES", "true")]).unwrap();
    assert!(!settings.database.migrate_at_start);
    assert!(load(VALID, &[]).unwrap().database.migrate_at_start);
}

#[test]
fn debug_output_never_shows_the_database_password() {
    let settings = load(VALID, &MYSQL).unwrap();
    let shown = format!("{settings:?}");
    assert!(!shown.contains("db-pa55"), "{shown}");
    assert!(
        shown.contains("mysql://su:***@mysql.svc:3306/serviceusage"),
        "{shown}"
    );
}
