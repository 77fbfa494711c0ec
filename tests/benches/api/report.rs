//! What the benchmark measured, the summary table, and each figure next to the issue's
//! target. A missed target is printed as MISS and does not fail the run (the lead decides);
//! only a correctness failure does.

use super::meter::Usage;
use super::service::Memory;

/// Where requests went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The release binary on a MariaDB database (1,000 orders in the listed project).
    Mariadb,
    /// The create's statements straight on MariaDB, without the service.
    Ceiling,
    /// The release binary on a SQLite file.
    Sqlite,
    /// The release binary on MariaDB with the big project (1,000,000 orders by default).
    Big,
    /// The same without the big project, to compare the create with.
    Few,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Mariadb => "MariaDB",
            Side::Ceiling => "raw SQL",
            Side::Sqlite => "SQLite",
            Side::Big => "MariaDB big",
            Side::Few => "MariaDB few",
        }
    }
}

/// What each request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A new order, the projects taken in turn among 100.
    CreateSpread,
    /// A new order, always in the same project.
    CreateOne,
    /// One order by id.
    Get,
    /// Page 1 (30) of the listed project's orders.
    List,
    /// Page 1 (30) of the listed project's usage rows.
    Usages,
    /// The first 30 of the listed project's volume orders in every state (51idc's
    /// filters: a total summed from the kept totals, by the boxed statement).
    Filtered,
    /// The listed project's orders in every state whose id, name or plan starts with the
    /// resource name of its middle order (51idc's search word: a bounded count).
    Search,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::CreateSpread => "create, 100 projects",
            Kind::CreateOne => "create, one project",
            Kind::Get => "get one order",
            Kind::List => "list",
            Kind::Usages => "usages",
            Kind::Filtered => "filtered list",
            Kind::Search => "search",
        }
    }
}

/// How the load was offered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Closed loop of this many connections.
    Closed(usize),
    /// Open loop at a fixed rate over this many connections.
    Open { clients: usize, rate: f64 },
}

impl Mode {
    fn label(self) -> String {
        match self {
            Mode::Closed(clients) => format!("{clients}"),
            Mode::Open { clients, rate } => format!("{clients}, open {rate:.0}/s"),
        }
    }
}

/// One scenario's figures.
#[derive(Clone, Debug)]
pub struct Measured {
    pub side: Side,
    pub kind: Kind,
    pub mode: Mode,
    /// Rows of the listed project (orders, and as many usage rows).
    pub listed: usize,
    pub rate: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub unsent: u64,
    pub cpu: Usage,
    /// MariaDB's commands and fsyncs per request, counted server-wide (other
    /// clients of the server count too).
    pub per_request: Option<(f64, f64)>,
}

impl Measured {
    /// The scenario, with how many rows it reads from.
    fn scenario(&self) -> String {
        match self.kind {
            Kind::Get => format!("get 1 of {} orders", self.listed),
            Kind::List => format!("list 30 of {} orders", self.listed),
            Kind::Usages => format!("usages 30 of {} rows", self.listed),
            Kind::Filtered => format!("volumes 30 of {} orders", self.listed),
            Kind::Search => format!("search {} orders", self.listed),
            Kind::CreateSpread | Kind::CreateOne => self.kind.label().to_owned(),
        }
    }

    pub fn line(&self) -> String {
        let mut line = format!(
            "{:<12} {:<28} {:>16} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.1} ms",
            self.side.label(),
            self.scenario(),
            self.mode.label(),
            self.rate,
            self.p50,
            self.p99,
            self.max,
        );
        if self.unsent > 0 {
            line.push_str(&format!("  ({} not sent in time)", self.unsent));
        }
        line.push_str(&format!("  [cpu: {}]", self.cpu));
        if let Some((commands, fsyncs)) = self.per_request {
            line.push_str(&format!(
                "  [MariaDB, all clients: {commands:.1} commands, {fsyncs:.2} fsyncs a request]"
            ));
        }
        line
    }
}

/// Everything a run gathered.
#[derive(Debug, Default)]
pub struct Report {
    pub measured: Vec<Measured>,
    /// Each service's memory: idle after start, and at the end of its scenarios.
    pub memory: Vec<(Side, Memory, Memory)>,
    /// Correctness failures: non-2xx answers, broken connections, ceiling errors, books
    /// that do not add up. Any fails the run.
    pub failures: Vec<String>,
    /// What else the reader needs (seeding times, lines the service logged).
    pub notes: Vec<String>,
}

impl Report {
    pub fn add(&mut self, measured: Measured) {
        println!("{}", measured.line());
        self.measured.push(measured);
    }

    pub fn fail(&mut self, failure: String) {
        println!("FAILURE: {failure}");
        self.failures.push(failure);
    }

    pub fn note(&mut self, note: String) {
        println!("{note}");
        self.notes.push(note);
    }

    /// The closed-loop figures of one side and kind.
    fn closed(&self, side: Side, kind: Kind) -> impl Iterator<Item = &Measured> {
        self.measured
            .iter()
            .filter(move |m| m.side == side && m.kind == kind && matches!(m.mode, Mode::Closed(_)))
    }

    /// The best closed-loop rate of one side and kind, with its connections.
    pub fn best(&self, side: Side, kind: Kind) -> Option<&Measured> {
        self.closed(side, kind)
            .max_by(|a, b| a.rate.total_cmp(&b.rate))
    }

    fn at(&self, side: Side, kind: Kind, clients: usize) -> Option<&Measured> {
        self.closed(side, kind)
            .find(|m| m.mode == Mode::Closed(clients))
    }

    fn open(&self, side: Side) -> Option<&Measured> {
        self.measured
            .iter()
            .find(|m| m.side == side && matches!(m.mode, Mode::Open { .. }))
    }

    pub fn print(&self) {
        println!();
        println!("== all figures ==");
        for measured in &self.measured {
            println!("{}", measured.line());
        }
        for (side, idle, end) in &self.memory {
            let (anon, file, shmem) = end.parts;
            println!(
                "{:<12} RSS idle {:.1} MiB, peak {:.1} MiB (after the load {:.1} MiB: \
                 {anon:.1} anonymous, {file:.1} file, {shmem:.1} shared)",
                side.label(),
                idle.rss,
                end.peak,
                end.rss
            );
        }
        println!();
        println!("== targets (issue 11; a MISS does not fail the run) ==");
        self.print_targets();
        if !self.notes.is_empty() {
            println!();
            for note in &self.notes {
                println!("note: {note}");
            }
        }
        println!();
        if self.failures.is_empty() {
            println!("correctness: every answer 2xx, every project's balance moved by Σ charges");
        } else {
            println!("correctness: {} FAILURE(S)", self.failures.len());
            for failure in &self.failures {
                println!("  {failure}");
            }
        }
    }

    fn print_targets(&self) {
        use Kind::*;
        for (kind, target) in [
            (CreateSpread, 3_000.0),
            (CreateOne, 1_500.0),
            (Get, 10_000.0),
            (List, 5_000.0),
            (Usages, 5_000.0),
        ] {
            if let Some(best) = self.best(Side::Mariadb, kind) {
                at_least(
                    &format!("MariaDB {} ({})", kind.label(), conns(best.mode)),
                    best.rate,
                    target,
                    "req/s",
                );
            }
        }
        for kind in [CreateSpread, CreateOne] {
            for ceiling in self.closed(Side::Ceiling, kind) {
                let Mode::Closed(clients) = ceiling.mode else {
                    continue;
                };
                if let Some(service) = self.at(Side::Mariadb, kind, clients) {
                    at_least(
                        &format!(
                            "MariaDB {} / raw-SQL ceiling ({clients} conns: {:.0} / {:.0})",
                            kind.label(),
                            service.rate,
                            ceiling.rate
                        ),
                        100.0 * service.rate / ceiling.rate,
                        60.0,
                        "%",
                    );
                }
            }
        }
        for side in [Side::Mariadb, Side::Sqlite] {
            if let Some(open) = self.open(side) {
                at_most(
                    &format!(
                        "{} create p99 at half the peak ({})",
                        side.label(),
                        conns(open.mode)
                    ),
                    open.p99,
                    20.0,
                    "ms",
                );
            }
        }
        for (side, idle, end) in &self.memory {
            at_most(&format!("{} RSS idle", side.label()), idle.rss, 50.0, "MiB");
            at_most(
                &format!("{} RSS peak", side.label()),
                end.peak,
                150.0,
                "MiB",
            );
        }
        if let (Some(big), Some(few)) = (
            self.at(Side::Big, CreateSpread, 16),
            self.at(Side::Few, CreateSpread, 16),
        ) {
            let orders = self
                .closed(Side::Big, List)
                .map(|m| m.listed)
                .max()
                .unwrap_or_default();
            at_least(
                &format!(
                    "MariaDB create with {orders} more orders in the table / without ({:.0} / \
                     {:.0} req/s, 16 conns)",
                    big.rate, few.rate
                ),
                100.0 * big.rate / few.rate,
                80.0,
                "%",
            );
        }
        for kind in [List, Usages, Filtered, Search] {
            let read = || self.closed(Side::Big, kind);
            let (Some(big), Some(small)) = (
                read().max_by_key(|m| m.listed),
                read().min_by_key(|m| m.listed),
            ) else {
                continue;
            };
            at_most(
                &format!(
                    "MariaDB {} p50 of {} / of {} rows, kept flat ({:.2} / {:.2} ms, {})",
                    kind.label(),
                    big.listed,
                    small.listed,
                    big.p50,
                    small.p50,
                    conns(big.mode)
                ),
                big.p50 / small.p50,
                1.20,
                "×",
            );
        }
    }
}

/// "N conns" of a closed loop.
fn conns(mode: Mode) -> String {
    match mode {
        Mode::Closed(1) => "1 conn".to_owned(),
        Mode::Closed(clients) => format!("{clients} conns"),
        Mode::Open { clients, rate } => format!("{clients} conns, {rate:.0}/s"),
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

fn at_least(what: &str, value: f64, target: f64, unit: &str) {
    println!(
        "{:<4}  {what}: {value:.0} {unit} (target ≥ {target:.0} {unit})",
        verdict(value >= target)
    );
}

fn at_most(what: &str, value: f64, target: f64, unit: &str) {
    println!(
        "{:<4}  {what}: {value:.2} {unit} (target < {target} {unit})",
        verdict(value < target)
    );
}
