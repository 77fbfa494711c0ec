//! The load generator: one task per keep-alive HTTP/1.1 connection (hyper's bare client
//! connection, no pool, so N clients are exactly N connections), on the caller's runtime.
//!
//! - [`closed`]: each client sends its next request as soon as the previous one answered,
//!   so the rate is whatever the service sustains at that concurrency.
//! - [`open`]: requests at a fixed rate whatever the answers, request `i` due at
//!   `start + i / rate` on client `i mod N`; latency is counted from when the request was
//!   due, not from when it could be sent, so a stall shows in the tail instead of silently
//!   lowering the rate (as wrk2 does).
//!
//! Both run a warm-up first and record only what completes in the measured window, but
//! check every answer, warm-up included: a non-2xx or a broken connection is a failure.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::Method;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::Result;

/// Failed answers kept verbatim, to show why a run failed.
const SHOWN_FAILURES: usize = 5;
/// A request still unanswered after this is a failure (and its connection replaced), so a
/// hung service fails the run instead of stalling it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the service listens, and who asks.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    /// `Bearer <token>`.
    pub authorization: String,
}

/// One request of a workload.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: Method,
    /// Path and query, e.g. `/usageapi/v1/orders?project=p&size=30`.
    pub path: String,
    /// A JSON body, for a POST.
    pub body: Option<Bytes>,
    /// What a success is tallied under (a create's project), if anything.
    pub tally: Option<usize>,
}

/// What each client sends: its `n`-th request of the run, given the client's number.
pub type Workload = Arc<dyn Fn(usize, u64) -> Call + Send + Sync>;

/// Warm-up, then the measured window.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub warmup: Duration,
    pub measured: Duration,
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests that completed within the measured window (open loop: that were due in it).
    pub completed: u64,
    /// Requests answered or failed, warm-up included.
    pub sent: u64,
    pub measured: Duration,
    /// Their latencies in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Non-2xx answers and broken connections, warm-up included.
    pub failures: u64,
    pub shown_failures: Vec<String>,
    /// Successes by [`Call::tally`], warm-up included.
    pub tallies: Vec<u64>,
    /// Open loop: requests due in the window that could not be sent before the run ended
    /// (counted in the latencies as waiting until then).
    pub unsent: u64,
}

impl Outcome {
    /// The clients' shares, merged.
    pub fn merge(measured: Duration, shares: impl IntoIterator<Item = Share>) -> Self {
        let mut outcome = Outcome {
            measured,
            ..Outcome::default()
        };
        for share in shares {
            outcome.completed += share.completed;
            outcome.sent += share.sent;
            outcome.latencies_us.extend(share.latencies_us);
            outcome.failures += share.failures;
            outcome.unsent += share.unsent;
            for failure in share.shown_failures {
                if outcome.shown_failures.len() < SHOWN_FAILURES {
                    outcome.shown_failures.push(failure);
                }
            }
            if outcome.tallies.len() < share.tallies.len() {
                outcome.tallies.resize(share.tallies.len(), 0);
            }
            for (total, more) in outcome.tallies.iter_mut().zip(share.tallies) {
                *total += more;
            }
        }
        outcome.latencies_us.sort_unstable();
        outcome
    }

    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.measured.as_secs_f64()
    }

    /// The latency at quantile `q` (0–1), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }
}

/// The value at quantile `q` of sorted microsecond samples, in milliseconds (nearest rank).
pub fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted_us.len() as f64).ceil() as usize;
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1_000.0
}

/// What one client measured.
#[derive(Default)]
pub struct Share {
    completed: u64,
    sent: u64,
    latencies_us: Vec<u32>,
    failures: u64,
    shown_failures: Vec<String>,
    tallies: Vec<u64>,
    unsent: u64,
}

impl Share {
    /// A success, tallied under `tally` if given.
    pub fn succeeded(&mut self, tally: Option<usize>) {
        self.sent += 1;
        if let Some(tally) = tally {
            if self.tallies.len() <= tally {
                self.tallies.resize(tally + 1, 0);
            }
            self.tallies[tally] += 1;
        }
    }

    pub fn failed(&mut self, what: impl FnOnce() -> String) {
        self.sent += 1;
        self.failures += 1;
        if self.shown_failures.len() < SHOWN_FAILURES {
            self.shown_failures.push(what());
        }
    }

    /// A request that completed in the measured window, in `latency`.
    pub fn record(&mut self, latency: Duration) {
        self.completed += 1;
        self.latencies_us
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    fn answered(&mut self, call: &Call, answer: std::result::Result<(), String>) {
        match answer {
            Ok(()) => self.succeeded(call.tally),
            Err(why) => self.failed(|| format!("{} {}: {why}", call.method, call.path)),
        }
    }
}

/// A keep-alive connection to the service.
pub struct Client {
    target: Target,
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    pub async fn connect(target: &Target) -> Result<Self> {
        Ok(Self {
            target: target.clone(),
            sender: handshake(target.addr).await?,
        })
    }

    /// Sends `call`; the status and body. A broken connection, or one whose answer did not
    /// come in time, is replaced before the error is returned, so the next call goes on a
    /// fresh one.
    pub async fn send(&mut self, call: &Call) -> Result<(u16, Bytes)> {
        let error = match tokio::time::timeout(ANSWER_TIMEOUT, self.exchange(call)).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(error)) => error,
            Err(_) => format!("no answer within {} s", ANSWER_TIMEOUT.as_secs()).into(),
        };
        self.sender = handshake(self.target.addr).await?;
        Err(error)
    }

    async fn exchange(&mut self, call: &Call) -> Result<(u16, Bytes)> {
        let mut request = hyper::Request::builder()
            .method(call.method.clone())
            .uri(call.path.as_str())
            .header(HOST, self.target.addr.to_string())
            .header(AUTHORIZATION, self.target.authorization.as_str());
        if call.body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(call.body.clone().unwrap_or_default()))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Sends `call`; `Err` with the status and body unless it answered 2xx.
    async fn succeed(&mut self, call: &Call) -> std::result::Result<(), String> {
        match self.send(call).await {
            Ok((status, _)) if (200..300).contains(&status) => Ok(()),
            Ok((status, body)) => Err(format!("{status} {}", String::from_utf8_lossy(&body))),
            Err(error) => Err(error.to_string()),
        }
    }
}

async fn handshake(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes; either shows in `send`.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Connects `clients` clients, then runs `run` on each; merges what they measured.
async fn run_clients<F, Fut>(
    target: &Target,
    clients: usize,
    measured: Duration,
    run: F,
) -> Result<Outcome>
where
    F: Fn(usize, Client) -> Fut,
    Fut: std::future::Future<Output = Share> + Send + 'static,
{
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        connected.push(Client::connect(target).await?);
    }
    let tasks: Vec<_> = connected
        .into_iter()
        .enumerate()
        .map(|(n, client)| tokio::spawn(run(n, client)))
        .collect();
    let mut shares = Vec::with_capacity(clients);
    for task in tasks {
        shares.push(task.await?);
    }
    Ok(Outcome::merge(measured, shares))
}

/// A closed loop of `clients` connections.
pub async fn closed(
    target: &Target,
    clients: usize,
    timing: Timing,
    workload: Workload,
) -> Result<Outcome> {
    let start = Instant::now() + Duration::from_millis(50);
    let from = start + timing.warmup;
    let until = from + timing.measured;
    run_clients(target, clients, timing.measured, |n, mut client| {
        let workload = Arc::clone(&workload);
        async move {
            let mut share = Share::default();
            tokio::time::sleep_until(start).await;
            let mut seq = 0;
            loop {
                let sent = Instant::now();
                if sent >= until {
                    return share;
                }
                let call = workload(n, seq);
                seq += 1;
                let answer = client.succeed(&call).await;
                let done = Instant::now();
                if sent >= from && done < until {
                    share.record(done - sent);
                }
                share.answered(&call, answer);
            }
        }
    })
    .await
}

/// An open loop: `rate` requests a second spread over `clients` connections.
pub async fn open(
    target: &Target,
    clients: usize,
    rate: f64,
    timing: Timing,
    workload: Workload,
) -> Result<Outcome> {
    let start = Instant::now() + Duration::from_millis(50);
    let from = start + timing.warmup;
    let until = from + timing.measured;
    // Requests still due after this are given up (and counted): the service fell behind.
    let stop = until + timing.measured / 4;
    let interval = Duration::from_secs_f64(1.0 / rate);
    run_clients(target, clients, timing.measured, |n, mut client| {
        let workload = Arc::clone(&workload);
        async move {
            let mut share = Share::default();
            let mut seq: u64 = 0;
            loop {
                let index = n as u64 + seq * clients as u64;
                let due = start + interval.mul_f64(index as f64);
                if due >= until {
                    return share;
                }
                if Instant::now() >= stop {
                    if due >= from {
                        share.unsent += 1;
                        share.record(stop - due);
                    }
                    seq += 1;
                    continue;
                }
                tokio::time::sleep_until(due).await;
                let call = workload(n, seq);
                seq += 1;
                let answer = client.succeed(&call).await;
                if due >= from {
                    share.record(Instant::now() - due);
                }
                share.answered(&call, answer);
            }
        }
    })
    .await
}
