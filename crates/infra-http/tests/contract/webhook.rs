//! Webhook delivery: the signed request a receiver gets and what counts as delivered.

use chrono::{TimeZone, Utc};
use hmac::{Hmac, Mac};
use infra_http::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use infra_http::{signature, Secret, WebhookError, WebhookSender, DELIVERY_HEADER};
use sha2::Sha256;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::fixtures::*;

const SECRET: &str = "whsec-s3cret";
const BODY: &[u8] = br#"{"id":1,"kind":"order_created"}"#;

fn sender() -> WebhookSender {
    WebhookSender::new(settings()).unwrap()
}

async fn receiver(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn send_to(server: &MockServer) -> Result<(), WebhookError> {
    let now = Utc.with_ymd_and_hms(2024, 1, 15, 12, 0, 0).unwrap();
    sender()
        .send(
            &format!("{}/hook", server.uri()),
            &Secret::new(SECRET),
            BODY,
            now,
        )
        .await
}

fn failure(result: Result<(), WebhookError>) -> String {
    match result {
        Err(WebhookError::Failed(why)) => {
            assert!(!why.contains(SECRET), "{why}");
            why
        }
        Ok(()) => panic!("expected a failure"),
    }
}

#[tokio::test]
async fn delivery_carries_the_documented_headers_and_the_body() {
    let server = receiver(ResponseTemplate::new(204)).await;
    send_to(&server).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let request = &received[0];
    assert_eq!(request.body, BODY);
    assert_eq!(
        request.headers.get("Content-Type").unwrap(),
        "application/json"
    );
    let timestamp = request.headers.get("X-Serviceusage-Timestamp").unwrap();
    assert_eq!(timestamp, "1705320000");
    assert!(request.headers.get(DELIVERY_HEADER).is_none());
    assert_eq!(TIMESTAMP_HEADER, "X-Serviceusage-Timestamp");
    assert_eq!(SIGNATURE_HEADER, "X-Serviceusage-Signature");
    assert_eq!(DELIVERY_HEADER, "X-Serviceusage-Delivery");
}

#[tokio::test]
async fn receiver_can_verify_the_signature_with_the_shared_secret() {
    let server = receiver(ResponseTemplate::new(200)).await;
    send_to(&server).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let request = &received[0];
    let timestamp = request
        .headers
        .get(TIMESTAMP_HEADER)
        .unwrap()
        .to_str()
        .unwrap();
    let sent = request
        .headers
        .get(SIGNATURE_HEADER)
        .unwrap()
        .to_str()
        .unwrap();
    // What a receiver does, with its own HMAC.
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&request.body);
    let hex = sent.strip_prefix("sha256=").unwrap();
    mac.verify_slice(&hex::decode(hex).unwrap()).unwrap();
    assert_eq!(
        sent,
        signature(&Secret::new(SECRET), timestamp.parse().unwrap(), BODY)
    );
}

#[tokio::test]
async fn signature_changes_with_the_body_the_time_and_the_secret() {
    let secret = Secret::new(SECRET);
    let base = signature(&secret, 100, BODY);
    assert_ne!(base, signature(&secret, 101, BODY));
    assert_ne!(base, signature(&secret, 100, b"{}"));
    assert_ne!(base, signature(&Secret::new("other"), 100, BODY));
}

#[tokio::test]
async fn delivery_id_is_sent_when_given() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header(DELIVERY_HEADER, "42"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    sender()
        .send_delivery(&server.uri(), &Secret::new(SECRET), BODY, Utc::now(), "42")
        .await
        .unwrap();
}

#[tokio::test]
async fn non_success_answers_are_failures() {
    for status in [301, 400, 404, 500, 503] {
        let server = receiver(ResponseTemplate::new(status)).await;
        let why = failure(send_to(&server).await);
        assert!(why.contains(&status.to_string()), "{status}: {why}");
        assert_eq!(requests(&server).await, 1, "{status}: not retried here");
    }
}

#[tokio::test]
async fn redirects_are_failures_and_never_followed() {
    for status in [301, 302, 303, 307, 308] {
        let elsewhere = receiver(ResponseTemplate::new(200)).await;
        let server = receiver(
            ResponseTemplate::new(status)
                .insert_header("Location", format!("{}/hook", elsewhere.uri()).as_str()),
        )
        .await;
        let why = failure(send_to(&server).await);
        assert!(why.contains(&status.to_string()), "{status}: {why}");
        // A followed 307 or 308 would post the signed body to whoever the receiver names.
        assert_eq!(requests(&elsewhere).await, 0, "{status}: followed");
    }
}

#[tokio::test]
async fn timeout_is_a_failure() {
    let server = receiver(ResponseTemplate::new(200).set_delay(TOO_SLOW)).await;
    let why = failure(send_to(&server).await);
    assert!(why.contains("timed out"), "{why}");
}

#[tokio::test]
async fn slow_receiver_within_the_timeout_is_a_delivery() {
    let server = receiver(ResponseTemplate::new(200).set_delay(SLOW)).await;
    send_to(&server).await.unwrap();
}

#[tokio::test]
async fn unreachable_receiver_is_a_failure() {
    let url = format!("{}/hook", dead_url());
    let result = sender()
        .send(&url, &Secret::new(SECRET), BODY, Utc::now())
        .await;
    let why = failure(result);
    assert!(why.contains("connection failed"), "{why}");
}

#[tokio::test]
async fn invalid_url_is_a_failure() {
    let result = sender()
        .send("not a url", &Secret::new(SECRET), BODY, Utc::now())
        .await;
    let why = failure(result);
    assert!(why.contains("invalid receiver url"), "{why}");
}
