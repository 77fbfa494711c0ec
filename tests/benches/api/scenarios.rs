//! Running the scenarios of one side: the requests each scenario sends, the service started
//! and measured, and its books checked afterwards.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use blackbox_tests::catalog::VOLUME;
use blackbox_tests::db::Db;
use bytes::Bytes;
use hyper::Method;

use super::books::{self, create_projects, seeded_id};
use super::ceiling;
use super::load::{self, Call, Client, Outcome, Target, Timing, Workload};
use super::meter::{Meter, Usage};
use super::report::{Kind, Measured, Mode, Report, Side};
use super::service::Service;
use super::Result;

const API: &str = "/usageapi/v1";
/// Index of `solo` among [`create_projects`]: the 100 spread projects come first.
const SOLO: usize = 100;

/// A number per scenario, so that resource names never repeat within a database.
static SCENARIO: AtomicU64 = AtomicU64::new(0);

/// A project whose seeded orders are read: gets, lists and usages go to it.
#[derive(Clone, Copy, Debug)]
pub struct Listed {
    pub project: &'static str,
    /// Its orders, each with its usage row.
    pub orders: usize,
}

/// What a create scenario reads: nothing.
const NOT_READ: Listed = Listed {
    project: "",
    orders: 0,
};

/// One scenario of a service side: a closed loop of `clients` connections.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub kind: Kind,
    pub clients: usize,
    pub listed: Listed,
}

/// What every side runs with.
pub struct Bench<'a> {
    pub binary: &'a Path,
    pub timing: Timing,
    pub runtime: &'a tokio::runtime::Runtime,
    pub meter: &'a Meter,
}

/// The project an `n`-th create of a scenario goes to (its index in [`create_projects`]).
fn create_project(kind: Kind, index: u64) -> usize {
    match kind {
        Kind::CreateOne => SOLO,
        _ => usize::try_from(index % 100).unwrap_or_default(),
    }
}

/// The requests of one scenario. Request `seq` of client `n` is the scenario's
/// `seq * clients + n`-th: creates take the projects in turn, gets the seeded orders.
fn workload(kind: Kind, clients: usize, listed: Listed) -> Workload {
    let scenario = SCENARIO.fetch_add(1, Ordering::Relaxed);
    let projects: Arc<[String]> = create_projects().into();
    let (project, count) = (listed.project, listed.orders.max(1) as u64);
    let clients = clients as u64;
    Arc::new(move |n, seq| {
        let index = seq * clients + n as u64;
        match kind {
            Kind::CreateSpread | Kind::CreateOne => {
                let tally = create_project(kind, index);
                let body = serde_json::json!({
                    "project": projects[tally],
                    "planId": VOLUME.id,
                    "parameters": {"resourceName": format!("b{scenario}-{n}-{seq}")},
                });
                Call {
                    method: Method::POST,
                    path: format!("{API}/orders"),
                    body: Some(Bytes::from(body.to_string())),
                    tally: Some(tally),
                }
            }
            Kind::Get => Call {
                method: Method::GET,
                path: format!(
                    "{API}/orders/{}?project={project}",
                    seeded_id(project, usize::try_from(index % count).unwrap_or_default())
                ),
                body: None,
                tally: None,
            },
            Kind::List => get(format!("{API}/orders?project={project}&page=1&size=30")),
            Kind::Usages => get(format!("{API}/usages?project={project}&page=1&size=30")),
            Kind::Filtered => get(format!(
                "{API}/orders?project={project}&order_state=all&resource_type=volume\
                 &offset=0&limit=30"
            )),
            // The seeded orders' resource names are `s-<n>`: the middle one's name prefixes
            // no other of the project (its tenfold is past the last).
            Kind::Search => get(format!(
                "{API}/orders?project={project}&order_state=all&search_word=s-{}\
                 &offset=0&limit=30",
                count / 2
            )),
        }
    })
}

fn get(path: String) -> Call {
    Call {
        method: Method::GET,
        path,
        body: None,
        tally: None,
    }
}

/// Adds `from` into `into`, index by index.
fn add_tallies(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (total, more) in into.iter_mut().zip(from) {
        *total += more;
    }
}

/// A project's balance as the API answers it, in ten-thousandths.
async fn api_balance(client: &mut Client, project: &str) -> Result<i64> {
    let (status, body) = client
        .send(&get(format!("{API}/balances/{project}")))
        .await?;
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    let text = json["data"]["balance"]
        .as_str()
        .filter(|_| status == 200)
        .ok_or_else(|| format!("GET balance of {project}: {status} {json}"))?;
    minor(text)
}

/// `"1234.5"` → 12345000; `"-0.01"` → -100.
fn minor(text: &str) -> Result<i64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if fraction.len() > 4 {
        return Err(format!("{text} has more than 4 decimals").into());
    }
    let whole: i64 = whole.parse()?;
    let fraction: i64 = format!("{fraction:0<4}").parse()?;
    Ok(sign * (whole * 10_000 + fraction))
}

impl Bench<'_> {
    /// Each project's balance through the API.
    fn api_balances(&self, target: &Target, projects: &[String]) -> Result<Vec<i64>> {
        self.runtime.block_on(async {
            let mut client = Client::connect(target).await?;
            let mut balances = Vec::with_capacity(projects.len());
            for project in projects {
                balances.push(api_balance(&mut client, project).await?);
            }
            Ok(balances)
        })
    }

    /// Starts the service on `url` (migrated and seeded), runs `steps` and, with `open`,
    /// the create at half its best closed-loop rate over that many connections; then
    /// checks every project's books.
    pub fn service_side(
        &self,
        report: &mut Report,
        side: Side,
        url: &str,
        steps: &[Step],
        open: Option<usize>,
    ) -> Result<()> {
        let log = std::env::temp_dir().join(format!(
            "serviceusage-bench-api-{}.log",
            side.label().replace(' ', "-").to_lowercase()
        ));
        let service = Service::start(self.binary, url, log)?;
        // Let the start-up jobs (renewal, settler, resource tasks) run their first round.
        std::thread::sleep(Duration::from_secs(2));
        let idle = service.memory()?;
        let projects = create_projects();
        let before = self.api_balances(&service.target, &projects)?;
        let mut created = Vec::new();
        for &Step {
            kind,
            clients,
            listed,
        } in steps
        {
            let workload = workload(kind, clients, listed);
            let start = self.meter.sample(Some(service.pid()))?;
            let outcome = self.runtime.block_on(load::closed(
                &service.target,
                clients,
                self.timing,
                workload,
            ))?;
            let cpu = start.until(&self.meter.sample(Some(service.pid()))?);
            let mode = Mode::Closed(clients);
            let scenario = Scenario {
                side,
                kind,
                mode,
                listed: listed.orders,
            };
            record(report, scenario, &outcome, cpu, &mut created);
        }
        let peak = open.and_then(|clients| {
            report
                .best(side, Kind::CreateSpread)
                .map(|best| (clients, best.rate))
        });
        if let Some((clients, best)) = peak {
            let rate = (best / 2.0).max(1.0);
            let workload = workload(Kind::CreateSpread, clients, NOT_READ);
            let start = self.meter.sample(Some(service.pid()))?;
            let outcome = self.runtime.block_on(load::open(
                &service.target,
                clients,
                rate,
                self.timing,
                workload,
            ))?;
            let cpu = start.until(&self.meter.sample(Some(service.pid()))?);
            let mode = Mode::Open { clients, rate };
            let scenario = Scenario {
                side,
                kind: Kind::CreateSpread,
                mode,
                listed: 0,
            };
            record(report, scenario, &outcome, cpu, &mut created);
        }
        let end = service.memory()?;
        report.memory.push((side, idle, end));
        let after = self.api_balances(&service.target, &projects)?;
        let logged = service.logged_lines();
        if logged > 0 {
            report.note(format!(
                "{}: the service logged {logged} warning/error lines, see {}",
                side.label(),
                service.log.display()
            ));
        }
        drop(service);
        let mut db = Db::connect(url)?;
        let books = books::read_books(&mut db, &projects)?;
        let wrong = books::check_books(&projects, &created, &books, Some((&before, &after)));
        books_verdict(report, side, &created, &wrong);
        Ok(())
    }

    /// The raw-SQL ceiling of the create on `url` (migrated and funded); then checks every
    /// project's books.
    pub fn ceiling_side(
        &self,
        report: &mut Report,
        url: &str,
        scenarios: &[(Kind, usize)],
    ) -> Result<()> {
        let projects = create_projects();
        let mut created = Vec::new();
        for &(kind, clients) in scenarios {
            let start = self.meter.sample(None)?;
            let outcome = ceiling::run(url, clients, self.timing, &projects, move |index| {
                create_project(kind, index)
            })?;
            let cpu = start.until(&self.meter.sample(None)?);
            let mode = Mode::Closed(clients);
            let scenario = Scenario {
                side: Side::Ceiling,
                kind,
                mode,
                listed: 0,
            };
            record(report, scenario, &outcome, cpu, &mut created);
        }
        let mut db = Db::connect(url)?;
        let books = books::read_books(&mut db, &projects)?;
        let wrong = books::check_books(&projects, &created, &books, None);
        books_verdict(report, Side::Ceiling, &created, &wrong);
        Ok(())
    }
}

/// Which scenario a run was.
struct Scenario {
    side: Side,
    kind: Kind,
    mode: Mode,
    listed: usize,
}

/// Adds a run's figures to the report, its failures as failures, its creates to `created`.
fn record(
    report: &mut Report,
    scenario: Scenario,
    outcome: &Outcome,
    usage: Usage,
    created: &mut Vec<u64>,
) {
    add_tallies(created, &outcome.tallies);
    if outcome.failures > 0 {
        report.fail(format!(
            "{} {}: {} requests failed, e.g. {:?}",
            scenario.side.label(),
            scenario.kind.label(),
            outcome.failures,
            outcome.shown_failures
        ));
    }
    // Only MariaDB's own sides: on SQLite its counters count other clients alone.
    let per_request = usage
        .mariadb_counted
        .filter(|_| scenario.side != Side::Sqlite && outcome.sent > 0)
        .map(|(commands, fsyncs)| {
            let sent = outcome.sent as f64;
            (commands as f64 / sent, fsyncs as f64 / sent)
        });
    report.add(Measured {
        side: scenario.side,
        kind: scenario.kind,
        mode: scenario.mode,
        listed: scenario.listed,
        rate: outcome.rate(),
        p50: outcome.quantile_ms(0.5),
        p99: outcome.quantile_ms(0.99),
        max: outcome.quantile_ms(1.0),
        unsent: outcome.unsent,
        cpu: usage,
        per_request,
    });
}

/// Every project's books must add up.
fn books_verdict(report: &mut Report, side: Side, created: &[u64], wrong: &[String]) {
    if wrong.is_empty() {
        report.note(format!(
            "{}: books hold: {} orders created, each project's balance moved by exactly the \
             sum of its orders' charges",
            side.label(),
            created.iter().sum::<u64>()
        ));
        return;
    }
    for mismatch in wrong {
        report.fail(format!("{}: {mismatch}", side.label()));
    }
}
