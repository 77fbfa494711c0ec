//! The release binary as the benchmark runs it: from the workspace root (the shipped
//! `config/default.toml` and the demo's `config/demo.toml`: demo plans and users, embedded
//! identity, provisioning and ledger, allowed on MariaDB with `server.allow_demo`),
//! on a free port, on the given database, warnings and errors to a log file.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::load::Target;
use super::Result;

/// The demo admin of `config/demo.toml`: may act on every project.
pub const ADMIN_TOKEN: &str = "admin-token";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `serviceusage <args>` on `url`, from the workspace root, with no `SERVICEUSAGE*`
/// variable of the benchmark's own environment.
pub fn command(binary: &Path, url: &str) -> Command {
    let mut command = Command::new(binary);
    command.current_dir(workspace_root());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SERVICEUSAGE") {
            command.env_remove(key);
        }
    }
    command
        .env("SERVICEUSAGE_CONFIG", "config/demo.toml")
        .env("SERVICEUSAGE__SERVER__ALLOW_DEMO", "true")
        .env("SERVICEUSAGE__SERVER__BIND", "127.0.0.1:0")
        .env("SERVICEUSAGE__DATABASE__URL", url)
        .env("RUST_LOG", "warn");
    command
}

/// `serviceusage migrate` on `url`.
pub fn migrate(binary: &Path, url: &str) -> Result<()> {
    let output = command(binary, url).arg("migrate").output()?;
    if !output.status.success() {
        return Err(format!(
            "serviceusage migrate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

/// A running service; killed on drop.
pub struct Service {
    child: Child,
    pub target: Target,
    pub log: PathBuf,
}

/// The service's resident memory, in MiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// VmRSS: now.
    pub rss: f64,
    /// VmHWM: the most it ever held.
    pub peak: f64,
    /// RssAnon, RssFile, RssShmem: what VmRSS is made of now (heap and stacks, mapped
    /// files, shared memory such as SQLite's WAL index).
    pub parts: (f64, f64, f64),
}

impl Service {
    /// Starts `serviceusage serve` on `url` and waits until it listens; its stderr goes to
    /// `log`.
    pub fn start(binary: &Path, url: &str, log: PathBuf) -> Result<Self> {
        let mut child = command(binary, url)
            .stdout(Stdio::piped())
            .stderr(File::create(&log)?)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                if let Some(address) = line.strip_prefix("serviceusage listening on ") {
                    let _ = sender.send(address.to_owned());
                }
            }
        });
        let address = match receiver.recv_timeout(Duration::from_secs(120)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the service did not start; see {}", log.display()).into());
            }
        };
        let addr: SocketAddr = address.trim_start_matches("http://").parse()?;
        Ok(Self {
            child,
            target: Target {
                addr,
                authorization: format!("Bearer {ADMIN_TOKEN}"),
            },
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn memory(&self) -> Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> Result<f64> {
            let kb: f64 = status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .ok_or_else(|| format!("no {name} in /proc/<pid>/status"))?
                .parse()?;
            Ok(kb / 1024.0)
        };
        Ok(Memory {
            rss: field("VmRSS:")?,
            peak: field("VmHWM:")?,
            parts: (field("RssAnon:")?, field("RssFile:")?, field("RssShmem:")?),
        })
    }

    /// Lines the service logged (warnings and errors).
    pub fn logged_lines(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|text| text.lines().count())
            .unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
