//! Delivering queued credits to the charge service, with back-off on failure.

use super::*;
use crate::payment::PaymentReason;
use crate::ports::{MockCreditQueue, QueuedCredit};
use crate::usecases::CreditTally;

const NOW: &str = "2017-01-11T12:00:00Z";

/// Queued credit `id` of 10.00 for row 2 of order `order-{id}`, tried `attempts` times.
fn queued(id: u64, attempts: u32) -> QueuedCredit {
    QueuedCredit {
        id,
        payment: Payment {
            project: project(),
            region: region(),
            amount: money("10"),
            direction: PaymentDirection::Credit,
            reason: PaymentReason {
                order: OrderId::parse(&format!("order-{id}")).unwrap(),
                consume_id: 2,
            },
        },
        attempts,
    }
}

impl Mocks {
    /// The queue holds `due`, and journals "delivered {id} {at}" and
    /// "failed {id} {next} {error}".
    fn queue_holding(mut self, due: Vec<QueuedCredit>, calls: &Calls) -> Self {
        let mut credits = MockCreditQueue::new();
        credits
            .expect_due()
            .withf(|now, limit| *now == utc(NOW) && *limit == 100)
            .times(1)
            .returning(move |_, _| Ok(due.clone()));
        let journal = Arc::clone(calls);
        credits.expect_delivered().returning(move |id, at| {
            note(&journal, format!("delivered {id} {}", at.to_rfc3339()));
            Ok(())
        });
        let journal = Arc::clone(calls);
        credits.expect_failed().returning(move |id, next, error| {
            note(
                &journal,
                format!("failed {id} {} {error}", next.to_rfc3339()),
            );
            Ok(())
        });
        self.credits = Some(credits);
        self.at(utc(NOW))
    }
}

async fn deliver(mocks: Mocks) -> Result<CreditTally> {
    mocks.build().deliver_credits().await
}

#[tokio::test]
async fn due_credits_are_handed_over_and_marked_delivered() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .queue_holding(vec![queued(1, 0), queued(2, 4)], &calls);
    let tally = deliver(mocks).await.unwrap();
    assert_eq!(
        tally,
        CreditTally {
            delivered: 2,
            failed: 0
        }
    );
    assert_eq!(
        super::calls(&calls),
        [
            "credit order:order-1:2 10.00",
            "delivered 1 2017-01-11T12:00:00+00:00",
            "credit order:order-2:2 10.00",
            "delivered 2 2017-01-11T12:00:00+00:00"
        ]
    );
}

#[tokio::test]
async fn a_first_failure_waits_ten_seconds() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, times_out)
        .queue_holding(vec![queued(1, 0)], &calls);
    let tally = deliver(mocks).await.unwrap();
    assert_eq!(
        tally,
        CreditTally {
            delivered: 0,
            failed: 1
        }
    );
    assert_eq!(
        super::calls(&calls)[1],
        "failed 1 2017-01-11T12:00:10+00:00 service unavailable: timed out"
    );
}

#[tokio::test]
async fn each_failure_doubles_the_wait() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, times_out)
        .queue_holding(vec![queued(1, 3)], &calls);
    deliver(mocks).await.unwrap();
    // 10 s × 2^3.
    assert!(
        super::calls(&calls)[1].starts_with("failed 1 2017-01-11T12:01:20+00:00"),
        "{:?}",
        super::calls(&calls)
    );
}

#[tokio::test]
async fn the_wait_is_at_most_an_hour_however_many_attempts() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, times_out)
        .queue_holding(vec![queued(1, 9), queued(2, u32::MAX)], &calls);
    deliver(mocks).await.unwrap();
    let failed: Vec<_> = super::calls(&calls)
        .into_iter()
        .filter(|call| call.starts_with("failed"))
        .map(|call| call.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        failed,
        [
            "failed 1 2017-01-11T13:00:00+00:00",
            "failed 2 2017-01-11T13:00:00+00:00"
        ]
    );
}

#[tokio::test]
async fn a_credit_the_charge_service_refuses_is_retried_later_too() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, refuses)
        .queue_holding(vec![queued(1, 1)], &calls);
    let tally = deliver(mocks).await.unwrap();
    assert_eq!(tally.failed, 1);
    assert!(super::calls(&calls)[1].starts_with("failed 1 2017-01-11T12:00:20+00:00"));
}

#[tokio::test]
async fn one_failure_does_not_stop_the_others() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, |payment: &Payment| {
            if payment.reason.order.as_str() == "order-2" {
                Err(Error::DependencyUnavailable("503".into()))
            } else {
                Ok(())
            }
        })
        .queue_holding(vec![queued(1, 0), queued(2, 0), queued(3, 0)], &calls);
    let tally = deliver(mocks).await.unwrap();
    assert_eq!(
        tally,
        CreditTally {
            delivered: 2,
            failed: 1
        }
    );
}

#[tokio::test]
async fn nothing_due_asks_the_charge_service_nothing() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .queue_holding(vec![], &calls);
    assert_eq!(deliver(mocks).await.unwrap(), CreditTally::default());
    assert!(super::calls(&calls).is_empty());
}

#[tokio::test]
async fn a_store_failure_reading_the_queue_is_an_error() {
    let calls = Calls::default();
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .at(utc(NOW));
    let mut credits = MockCreditQueue::new();
    credits
        .expect_due()
        .returning(|_, _| Err(Error::Unavailable("lost connection".into())));
    mocks.credits = Some(credits);
    let error = deliver(mocks).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
    assert!(super::calls(&calls).is_empty());
}

#[tokio::test]
async fn a_store_failure_marking_a_delivery_is_an_error() {
    let calls = Calls::default();
    let mut mocks = Mocks::new()
        .charged_remotely(&calls, works, works)
        .at(utc(NOW));
    let mut credits = MockCreditQueue::new();
    credits
        .expect_due()
        .returning(|_, _| Ok(vec![queued(1, 0)]));
    credits
        .expect_delivered()
        .returning(|_, _| Err(Error::Unavailable("lost connection".into())));
    mocks.credits = Some(credits);
    let error = deliver(mocks).await.unwrap_err();
    assert_eq!(error, Error::Unavailable("lost connection".into()));
}
