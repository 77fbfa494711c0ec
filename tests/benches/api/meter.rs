//! What a run cost besides time: who used the two cores, from `/proc` (the service,
//! MariaDB, the load generator — this process — and everything else on the machine, so
//! that a figure taken on a shared machine says how shared it was), and MariaDB's global
//! counters of commands (`Questions`) and fsyncs (`Innodb_data_fsyncs`).

use std::cell::RefCell;
use std::time::Instant;

use diesel::sql_types::Text;
use diesel::{Connection, MysqlConnection, QueryableByName, RunQueryDsl};

use super::Result;

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`; 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time counters at one instant.
#[derive(Clone, Debug)]
pub struct Sample {
    at: Instant,
    /// Busy ticks of the whole machine, all cores.
    machine: u64,
    service: u64,
    mariadb: u64,
    generator: u64,
    /// MariaDB's `Questions` and `Innodb_data_fsyncs`, if it answered.
    status: Option<(u64, u64)>,
}

/// CPU used between two samples, in % of one core, and what MariaDB counted meanwhile.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub service: f64,
    pub mariadb: f64,
    pub generator: f64,
    /// Everything else: other processes (other builds and tests on a shared machine).
    pub other: f64,
    /// Commands and fsyncs MariaDB counted, from every client of the server.
    pub mariadb_counted: Option<(u64, u64)>,
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "service {:.0} %, MariaDB {:.0} %, load generator {:.0} %, other {:.0} %",
            self.service, self.mariadb, self.generator, self.other
        )
    }
}

/// Finds MariaDB's process and connects to it once; samples the counters.
pub struct Meter {
    mariadb: Option<u32>,
    status: RefCell<Option<MysqlConnection>>,
}

#[derive(QueryableByName)]
struct Status {
    #[diesel(sql_type = Text, column_name = VARIABLE_NAME)]
    name: String,
    #[diesel(sql_type = Text, column_name = VARIABLE_VALUE)]
    value: String,
}

impl Meter {
    /// Counts MariaDB's commands on the server at `mysql_url` when it answers.
    pub fn new(mysql_url: &str) -> Self {
        Self {
            mariadb: find_process(&["mariadbd", "mysqld"]),
            status: RefCell::new(
                MysqlConnection::establish(mysql_url)
                    .inspect_err(|e| println!("MariaDB's counters will not be read: {e}"))
                    .ok(),
            ),
        }
    }

    pub fn sample(&self, service: Option<u32>) -> Result<Sample> {
        Ok(Sample {
            at: Instant::now(),
            machine: machine_busy()?,
            service: service.map_or(0, process_ticks),
            mariadb: self.mariadb.map_or(0, process_ticks),
            generator: process_ticks(std::process::id()),
            status: self.status.borrow_mut().as_mut().and_then(mariadb_status),
        })
    }
}

/// MariaDB's `Questions` and `Innodb_data_fsyncs`; `None` (said on stdout) if it cannot
/// tell.
fn mariadb_status(conn: &mut MysqlConnection) -> Option<(u64, u64)> {
    let rows: Vec<Status> = match diesel::sql_query(
        "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
         WHERE VARIABLE_NAME IN ('QUESTIONS', 'INNODB_DATA_FSYNCS')",
    )
    .load(conn)
    {
        Ok(rows) => rows,
        Err(error) => {
            println!("MariaDB's counters could not be read: {error}");
            return None;
        }
    };
    let value = |name: &str| {
        rows.iter()
            .find(|row| row.name == name)
            .and_then(|row| row.value.parse().ok())
    };
    Some((value("QUESTIONS")?, value("INNODB_DATA_FSYNCS")?))
}

impl Sample {
    /// What was used from `self` to `later`.
    pub fn until(&self, later: &Sample) -> Usage {
        let seconds = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let percent = |from: u64, to: u64| {
            100.0 * to.saturating_sub(from) as f64 / TICKS_PER_SECOND / seconds
        };
        let service = percent(self.service, later.service);
        let mariadb = percent(self.mariadb, later.mariadb);
        let generator = percent(self.generator, later.generator);
        let machine = percent(self.machine, later.machine);
        let counted = self
            .status
            .zip(later.status)
            .map(|(from, to)| (to.0.saturating_sub(from.0), to.1.saturating_sub(from.1)));
        Usage {
            service,
            mariadb,
            generator,
            other: (machine - service - mariadb - generator).max(0.0),
            mariadb_counted: counted,
        }
    }
}

/// user + system ticks of a process (0 if it is gone).
fn process_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted from the state (field 3) at index 0.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    ticks(11).unwrap_or_default() + ticks(12).unwrap_or_default()
}

/// Busy ticks of all cores: the `cpu` line of `/proc/stat` without idle and iowait.
fn machine_busy() -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat
        .lines()
        .find(|line| line.starts_with("cpu "))
        .ok_or("no cpu line in /proc/stat")?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    Ok(values
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum())
}

/// The first process whose command name is one of `names`.
fn find_process(names: &[&str]) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(std::result::Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| names.contains(&comm.trim()))
        })
}
