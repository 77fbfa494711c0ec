//! A deadline on reading a request's body. actix-web times out a slow request head
//! (`client_request_timeout`) but not its body: a client trickling a byte a second into a
//! declared `Content-Length` would hold its connection, and a worker's attention, for as
//! long as it likes. The body is read through a stream that fails once the deadline has
//! passed; the JSON reader turns that into 408 (see [`crate::dto::json`]), and the
//! connection, its body unread, is closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

/// The message of the error the body stream fails with; [`is_deadline`] recognises it.
const PASSED: &str = "the request body did not arrive in time";

/// The middleware: the request's body may be read for `within` from now.
pub async fn enforce(
    within: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let body = req.take_payload();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(Deadline::new(body, Instant::now() + within));
    req.set_payload(Payload::from(stream));
    next.call(req).await
}

/// Whether a body read failed because its deadline passed.
pub fn is_deadline(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut && e.to_string() == PASSED)
}

/// The body, ending in an error once the deadline has passed.
struct Deadline {
    body: Payload,
    at: Instant,
    /// Set at the first read: a request whose body is never read costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
    passed: bool,
}

impl Deadline {
    fn new(body: Payload, at: Instant) -> Self {
        Self {
            body,
            at,
            timer: None,
            passed: false,
        }
    }
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.passed {
            return Poll::Ready(None);
        }
        if let Poll::Ready(chunk) = Pin::new(&mut this.body).poll_next(cx) {
            return Poll::Ready(chunk);
        }
        let at = this.at;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if timer.as_mut().poll(cx).is_ready() {
            this.passed = true;
            return Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                PASSED,
            )))));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use futures_util::StreamExt;

    use super::*;

    fn deadline(body: Payload, within: Duration) -> Deadline {
        Deadline::new(body, Instant::now() + within)
    }

    #[actix_web::test]
    async fn a_body_that_has_arrived_is_read_whole() {
        let mut stream = deadline(Payload::from(Bytes::from_static(b"{}")), Duration::ZERO);
        assert_eq!(
            stream.next().await.unwrap().unwrap(),
            Bytes::from_static(b"{}")
        );
    }

    #[actix_web::test]
    async fn a_body_still_coming_at_the_deadline_fails_once_then_ends() {
        let silent: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(futures_util::stream::pending());
        let mut stream = deadline(Payload::from(silent), Duration::from_millis(10));
        let error = stream.next().await.unwrap().unwrap_err();
        assert!(is_deadline(&error), "{error:?}");
        assert!(stream.next().await.is_none());
    }

    #[test]
    fn other_io_errors_are_not_the_deadline() {
        let other = PayloadError::Io(io::Error::new(io::ErrorKind::TimedOut, "elsewhere"));
        assert!(!is_deadline(&other));
        assert!(!is_deadline(&PayloadError::Overflow));
    }
}
