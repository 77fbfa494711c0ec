//! `make bench-api`: how many requests a second one instance of the release binary serves,
//! with the embedded identity, provisioning and ledger of the demo configuration, on MariaDB
//! and on SQLite, and how that compares with the raw-SQL ceiling of the create.
//!
//! Parts, in this order (each on a fresh, migrated database; 100 funded projects to create
//! in, one more, `solo`, that takes every create of the one-project scenarios, and
//! `list1k`, 1,000 seeded orders with their usage rows, to get, list and page usages from):
//!
//! 1. `mariadb`: closed loops of 16 and 64 connections, then the create over 100 projects
//!    in an open loop at half its best closed-loop rate.
//! 2. `ceiling`: the create's statements straight on MariaDB, one connection per client
//!    (see `api/ceiling.rs`).
//! 3. `sqlite`: as `mariadb`, with fewer scenarios at 64 connections.
//! 4. `big`: MariaDB with a project `big` of 1,000,000 seeded orders (and as many usage
//!    rows): the create over 100 projects with those in the table, right after the same on
//!    a database without them; and the first page of orders, of usages, of volumes in every
//!    state (51idc's filters) and of a search (51idc's search word) of `big` and of
//!    `list1k`, one after the other by one connection, whose latencies should be the same.
//!
//! Every answer must be 2xx, and afterwards every project's balance must have moved by
//! exactly the charges of the creates that succeeded (through the API and in the database);
//! otherwise the run exits 1. Missed speed targets are printed as MISS only.
//!
//! Environment: `SERVICEUSAGE_BIN` (the release binary, set by the Makefile),
//! `SERVICEUSAGE_TEST_MYSQL_URL`, and for shorter runs `SERVICEUSAGE_BENCH_SECONDS`
//! (measured seconds per scenario, default 20), `SERVICEUSAGE_BENCH_WARMUP` (default 5),
//! `SERVICEUSAGE_BENCH_BIG` (orders of `big`, default 1000000), `SERVICEUSAGE_BENCH_PARTS`
//! (default `mariadb,ceiling,sqlite,big`).

#[path = "api/books.rs"]
mod books;
#[path = "api/ceiling.rs"]
mod ceiling;
#[path = "api/load.rs"]
mod load;
#[path = "api/meter.rs"]
mod meter;
#[path = "api/report.rs"]
mod report;
#[path = "api/scenarios.rs"]
mod scenarios;
#[path = "api/service.rs"]
mod service;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use blackbox_tests::db::{Db, MysqlServer};
use chrono::Utc;

use load::Timing;
use meter::Meter;
use report::{Kind, Report, Side};
use scenarios::{Bench, Listed, Step};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The project of 1,000 orders that parts 1, 3 and 4 read.
const SMALL: Listed = Listed {
    project: "list1k",
    orders: 1_000,
};
/// The project of `SERVICEUSAGE_BENCH_BIG` orders of part 4.
const BIG_PROJECT: &str = "big";
/// Connections that read the small and the big project in part 4.
const FLAT_CLIENTS: usize = 1;
/// Connections of the open loop.
const OPEN_CLIENTS: usize = 64;

/// The scenarios of a service side, in order. Part 1's open loop runs at half the best
/// closed-loop create rate measured before it.
const MARIADB: &[(Kind, usize)] = &[
    (Kind::Get, 16),
    (Kind::Get, 64),
    (Kind::List, 16),
    (Kind::Usages, 16),
    (Kind::CreateSpread, 16),
    (Kind::CreateSpread, 64),
    (Kind::CreateOne, 16),
    (Kind::CreateOne, 64),
];
const SQLITE: &[(Kind, usize)] = &[
    (Kind::Get, 16),
    (Kind::List, 16),
    (Kind::Usages, 16),
    (Kind::CreateSpread, 16),
    (Kind::CreateSpread, 64),
    (Kind::CreateOne, 16),
];
/// The ceiling at the concurrencies of part 1's creates.
const CEILING: &[(Kind, usize)] = &[
    (Kind::CreateSpread, 16),
    (Kind::CreateSpread, 64),
    (Kind::CreateOne, 16),
];

/// The parts, in the order they run.
const PARTS: [&str; 4] = ["mariadb", "ceiling", "sqlite", "big"];

/// What the environment asks for.
struct Settings {
    binary: PathBuf,
    server: MysqlServer,
    timing: Timing,
    big: usize,
    parts: Vec<String>,
}

impl Settings {
    fn from_env() -> Result<Self> {
        let binary = PathBuf::from(
            std::env::var_os("SERVICEUSAGE_BIN")
                .ok_or("set SERVICEUSAGE_BIN to the release binary")?,
        );
        let number = |name: &str, default: u64| -> Result<u64> {
            Ok(match std::env::var(name) {
                Ok(text) => text.parse().map_err(|e| format!("{name}={text:?}: {e}"))?,
                Err(_) => default,
            })
        };
        let parts: Vec<String> = std::env::var("SERVICEUSAGE_BENCH_PARTS")
            .unwrap_or_else(|_| PARTS.join(","))
            .split(',')
            .map(|part| part.trim().to_owned())
            .collect();
        if let Some(unknown) = parts.iter().find(|part| !PARTS.contains(&part.as_str())) {
            return Err(format!(
                "SERVICEUSAGE_BENCH_PARTS: unknown part {unknown:?} (parts: {})",
                PARTS.join(",")
            )
            .into());
        }
        Ok(Self {
            binary,
            server: MysqlServer::from_env(),
            timing: Timing {
                warmup: Duration::from_secs(number("SERVICEUSAGE_BENCH_WARMUP", 5)?),
                measured: Duration::from_secs(number("SERVICEUSAGE_BENCH_SECONDS", 20)?.max(1)),
            },
            big: usize::try_from(number("SERVICEUSAGE_BENCH_BIG", 1_000_000)?)?,
            parts,
        })
    }

    fn runs(&self, part: &str) -> bool {
        self.parts.iter().any(|p| p == part)
    }
}

fn main() -> ExitCode {
    let mut report = Report::default();
    let outcome = run(&mut report);
    report.print();
    match outcome {
        Ok(()) if report.failures.is_empty() => ExitCode::SUCCESS,
        Ok(()) => ExitCode::FAILURE,
        Err(error) => {
            println!("benchmark aborted: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(report: &mut Report) -> Result<()> {
    let settings = Settings::from_env()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let meter = Meter::new(&settings.server.base_url);
    println!(
        "API benchmark: {} warm-up + {} s measured per scenario, {} cores, load average {}",
        settings.timing.warmup.as_secs(),
        settings.timing.measured.as_secs(),
        std::thread::available_parallelism().map_or(0, usize::from),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let bench = Bench {
        binary: &settings.binary,
        timing: settings.timing,
        runtime: &runtime,
        meter: &meter,
    };
    if settings.runs("mariadb") {
        let url = settings.server.create_database("su_bench_api")?;
        let outcome = prepare(&bench, &url, &[SMALL], report).and_then(|()| {
            let steps = steps(MARIADB, SMALL);
            bench.service_side(report, Side::Mariadb, &url, &steps, Some(OPEN_CLIENTS))
        });
        settings.server.drop_database(&url)?;
        outcome?;
    }
    if settings.runs("ceiling") {
        let url = settings.server.create_database("su_bench_ceiling")?;
        let outcome = prepare(&bench, &url, &[], report)
            .and_then(|()| bench.ceiling_side(report, &url, CEILING));
        settings.server.drop_database(&url)?;
        outcome?;
    }
    if settings.runs("sqlite") {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        prepare(&bench, &url, &[SMALL], report)?;
        let steps = steps(SQLITE, SMALL);
        bench.service_side(report, Side::Sqlite, &url, &steps, Some(OPEN_CLIENTS))?;
    }
    if settings.runs("big") {
        let big = Listed {
            project: BIG_PROJECT,
            orders: settings.big,
        };
        let few_url = settings.server.create_database("su_bench_few")?;
        let big_url = settings.server.create_database("su_bench_big")?;
        let outcome = prepare(&bench, &few_url, &[SMALL], report)
            .and_then(|()| prepare(&bench, &big_url, &[SMALL, big], report))
            .and_then(|()| {
                // The create without and with the big project back to back, so that their
                // ratio is taken under the same conditions.
                let create = Step {
                    kind: Kind::CreateSpread,
                    clients: 16,
                    listed: SMALL,
                };
                bench.service_side(report, Side::Few, &few_url, &[create], None)?;
                // The small project read right next to the big one, for the same reason;
                // by one connection, so that it is the ratio of two latencies (and a slow
                // page of the big one does not queue sixteen requests behind the pool).
                let steps = [
                    (Kind::CreateSpread, 16, SMALL),
                    (Kind::List, FLAT_CLIENTS, SMALL),
                    (Kind::List, FLAT_CLIENTS, big),
                    (Kind::Usages, FLAT_CLIENTS, SMALL),
                    (Kind::Usages, FLAT_CLIENTS, big),
                    (Kind::Filtered, FLAT_CLIENTS, SMALL),
                    (Kind::Filtered, FLAT_CLIENTS, big),
                    (Kind::Search, FLAT_CLIENTS, SMALL),
                    (Kind::Search, FLAT_CLIENTS, big),
                ]
                .map(|(kind, clients, listed)| Step {
                    kind,
                    clients,
                    listed,
                });
                bench.service_side(report, Side::Big, &big_url, &steps, None)
            });
        settings.server.drop_database(&few_url)?;
        settings.server.drop_database(&big_url)?;
        outcome?;
    }
    Ok(())
}

/// `plan`'s scenarios, reading `listed`.
fn steps(plan: &[(Kind, usize)], listed: Listed) -> Vec<Step> {
    plan.iter()
        .map(|&(kind, clients)| Step {
            kind,
            clients,
            listed,
        })
        .collect()
}

/// Migrates the database, funds the create projects and seeds each `listed` project.
fn prepare(bench: &Bench<'_>, url: &str, listed: &[Listed], report: &mut Report) -> Result<()> {
    service::migrate(bench.binary, url)?;
    let mut db = Db::connect(url)?;
    let now = Utc::now().naive_utc();
    books::fund_projects(&mut db, &books::create_projects(), now)?;
    for listed in listed {
        let started = Instant::now();
        books::seed_orders(&mut db, listed.project, listed.orders, now)?;
        report.note(format!(
            "seeded {} orders (and their usage rows) into {} on {} in {:.1} s",
            listed.orders,
            listed.project,
            url.split("://").next().unwrap_or_default(),
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}
