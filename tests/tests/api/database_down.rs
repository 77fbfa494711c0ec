//! While the database is down, requests answer 503 / 3304 at once rather than after the
//! pool's 5 s checkout timeout each — `/healthz` included — and the service recovers by
//! itself when the database is back. The database "goes down" by stopping a TCP proxy the
//! service reaches MariaDB through.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::helpers::{command, MysqlDatabase, Reply, TestApp, DEMO};

/// Forwards every connection to `upstream` until stopped; a stopped proxy refuses new
/// connections and has cut the open ones, as a database that died would.
struct Proxy {
    port: u16,
    upstream: SocketAddr,
    stop: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(port: u16, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let acceptor = {
            let (stop, streams) = (stop.clone(), streams.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            client.set_nonblocking(false).unwrap();
                            let Ok(server) = TcpStream::connect(upstream) else {
                                continue;
                            };
                            let mut kept = streams.lock().unwrap();
                            kept.push(client.try_clone().unwrap());
                            kept.push(server.try_clone().unwrap());
                            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                            pipe(server, client);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(e) => panic!("proxy accept: {e}"),
                    }
                }
            })
        };
        Self {
            port,
            upstream,
            stop,
            streams,
            acceptor: Some(acceptor),
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.join().unwrap();
        }
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Listens again on the same port.
    fn restart(&mut self) {
        *self = Proxy::start(self.port, self.upstream);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// `mysql://user@host:port/db` → (`host:port` resolved, the url through `127.0.0.1:port`).
fn through_proxy(url: &str, port: u16) -> (SocketAddr, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = rest.rsplit_once('@').unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let upstream = authority.to_socket_addrs().unwrap().next().unwrap();
    (
        upstream,
        format!("{scheme}://{credentials}@127.0.0.1:{port}/{path}"),
    )
}

async fn timed(app: &TestApp, path: &str) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = app.get(path, DEMO).await;
    (reply, started.elapsed())
}

#[tokio::test]
async fn mysql_with_the_database_down_requests_answer_503_at_once_and_recover_by_themselves() {
    let Some(database) = MysqlDatabase::create("mysql_with_the_database_down") else {
        return;
    };
    let (upstream, _) = through_proxy(&database.url(), 0);
    let mut proxy = Proxy::start(0, upstream);
    let (_, url) = through_proxy(&database.url(), proxy.port);
    let mut serve = command(&url);
    serve.env("SERVICEUSAGE__RENEWAL__ENABLED", "false");
    let app = TestApp::spawn_command_mysql(serve, database);
    app.get("//healthz", DEMO).await.expect(200, 0);
    app.get("/balances/demo", DEMO).await.expect(200, 0);

    proxy.stop();
    // The first request finds out: the pooled connections are cut, a new one is refused.
    let (first, _) = timed(&app, "//healthz").await;
    first.expect(503, 3304);
    // From then on the pool knows: nobody waits for its checkout timeout (5 s).
    for path in [
        "//healthz",
        "/balances/demo",
        "//healthz",
        "/orders?project=demo",
    ] {
        let (reply, took) = timed(&app, path).await;
        reply.expect(503, 3304);
        assert!(took < Duration::from_secs(2), "{path} took {took:?}");
    }

    proxy.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (reply, _) = timed(&app, "//healthz").await;
        if reply.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not back 20 s after the database: {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.get("/balances/demo", DEMO).await.expect(200, 0);
}
