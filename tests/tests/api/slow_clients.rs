//! A client that sends its request too slowly holds a connection only so long:
//! `server.request_timeout_seconds` for the head, and again for the body.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::{command, SqliteDir, TestApp, DEMO};

#[test]
fn a_body_trickling_in_is_408_and_the_connection_is_closed() {
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env("SERVICEUSAGE__SERVER__REQUEST_TIMEOUT_SECONDS", "2");
    let app = TestApp::spawn_command(serve, dir);
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    stream
        .write_all(
            format!(
                "POST /usageapi/v1/orders HTTP/1.1\r\nHost: localhost\r\n\
                 Authorization: Bearer {DEMO}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .unwrap();
    let started = Instant::now();
    // One byte a second: the 100 bytes would take longer than any test.
    let mut writer = stream.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..30 {
            std::thread::sleep(Duration::from_secs(1));
            if writer.write_all(b" ").is_err() {
                return;
            }
        }
    });
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        read.is_ok(),
        "no answer and no close within 20 s: {read:?} {answer}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":3302"#), "{answer}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    drop(stream);
    trickle.join().unwrap();
}

#[test]
fn a_body_sent_at_once_is_served_as_usual() {
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env("SERVICEUSAGE__SERVER__REQUEST_TIMEOUT_SECONDS", "2");
    let app = TestApp::spawn_command(serve, dir);
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    let body = r#"{"project":"demo","planId":"cpuquota-monthly"}"#;
    stream
        .write_all(
            format!(
                "POST /usageapi/v1/orders?drytry=1 HTTP/1.1\r\nHost: localhost\r\n\
                 Authorization: Bearer {DEMO}\r\nContent-Type: application/json\r\n\
                 Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_head_trickling_in_is_408_too() {
    let dir = SqliteDir::new();
    let mut serve = command(&dir.url());
    serve.env("SERVICEUSAGE__SERVER__REQUEST_TIMEOUT_SECONDS", "2");
    let app = TestApp::spawn_command(serve, dir);
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: loc")
        .unwrap();
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        read.is_ok(),
        "no answer and no close within 20 s: {read:?} {answer}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
