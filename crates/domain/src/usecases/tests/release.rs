//! Retrying queued releases of platform resources, with back-off on failure.

use super::*;
use crate::ports::QueuedRelease;
use crate::usecases::ReleaseTally;

const NOW: &str = "2017-01-11T12:00:00Z";

/// Queued release `id` of the ended order `order-{id}`, retried `attempts` times.
fn queued(id: u64, attempts: u32) -> QueuedRelease {
    QueuedRelease {
        id,
        order: Order {
            id: OrderId::parse(&format!("order-{id}")).unwrap(),
            status: OrderStatus::Ended,
            end_time: Some(utc("2017-01-10T00:00:00Z")),
            ..consuming_order()
        },
        attempts,
    }
}

impl Mocks {
    /// The queue holds `pending`, and journals "done {id} {at}" and
    /// "failed {id} {next} {error}".
    fn releases_pending(mut self, pending: Vec<QueuedRelease>, calls: &Calls) -> Self {
        let mut releases = MockReleaseQueue::new();
        releases
            .expect_pending()
            .withf(|now, limit| *now == utc(NOW) && *limit == 100)
            .times(1)
            .returning(move |_, _| Ok(pending.clone()));
        releases.expect_enqueue().never();
        let journal = Arc::clone(calls);
        releases.expect_done().returning(move |id, at| {
            note(&journal, format!("done {id} {}", at.to_rfc3339()));
            Ok(())
        });
        let journal = Arc::clone(calls);
        releases.expect_failed().returning(move |id, next, error| {
            note(
                &journal,
                format!("failed {id} {} {error}", next.to_rfc3339()),
            );
            Ok(())
        });
        self.releases = Some(releases);
        self.at(utc(NOW))
    }
}

async fn retry(mocks: Mocks) -> Result<ReleaseTally> {
    mocks.build().retry_releases().await
}

#[tokio::test]
async fn pending_releases_that_succeed_are_marked_done() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .provisioning_into(&calls, works, works)
        .releases_pending(vec![queued(1, 0), queued(2, 3)], &calls);
    let tally = retry(mocks).await.unwrap();
    assert_eq!(
        tally,
        ReleaseTally {
            released: 2,
            failed: 0
        }
    );
    assert_eq!(
        super::calls(&calls),
        [
            "release order-1",
            "done 1 2017-01-11T12:00:00+00:00",
            "release order-2",
            "done 2 2017-01-11T12:00:00+00:00"
        ]
    );
}

#[tokio::test]
async fn a_release_that_fails_again_waits_twice_as_long_each_time() {
    let calls = Calls::default();
    let mocks = Mocks::new()
        .provisioning_into(&calls, works, times_out)
        .releases_pending(vec![queued(1, 0), queued(2, 3), queued(3, 20)], &calls);
    let tally = retry(mocks).await.unwrap();
    assert_eq!(
        tally,
        ReleaseTally {
            released: 0,
            failed: 3
        }
    );
    assert_eq!(
        super::calls(&calls),
        [
            "release order-1",
            "failed 1 2017-01-11T12:00:10+00:00 service unavailable: timed out",
            "release order-2",
            "failed 2 2017-01-11T12:01:20+00:00 service unavailable: timed out",
            "release order-3",
            "failed 3 2017-01-11T13:00:00+00:00 service unavailable: timed out"
        ]
    );
}

#[tokio::test]
async fn nothing_pending_releases_nothing() {
    let calls = Calls::default();
    let mut provisioning = MockProvisioning::new();
    provisioning.expect_release().never();
    let mut mocks = Mocks::new().releases_pending(Vec::new(), &calls);
    mocks.provisioning = Some(provisioning);
    assert_eq!(retry(mocks).await.unwrap(), ReleaseTally::default());
}

#[tokio::test]
async fn a_store_that_cannot_list_pending_releases_fails_the_round() {
    let mut releases = MockReleaseQueue::new();
    releases
        .expect_pending()
        .returning(|_, _| Err(Error::Unavailable("store down".into())));
    let mut mocks = Mocks::new().at(utc(NOW));
    mocks.releases = Some(releases);
    assert_eq!(
        retry(mocks).await.unwrap_err(),
        Error::Unavailable("store down".into())
    );
}

#[tokio::test]
async fn a_release_the_platform_refuses_is_queued_too() {
    // The saga path: a volume created before a declined charge is released; the platform
    // refusing queues it like any other failed release.
    let calls = Calls::default();
    let order = consuming_order();
    let mocks = Mocks::new()
        .at(utc(NOW))
        .provisioning_into(&calls, works, |_| {
            Err(Error::ProvisioningFailed("busy".into()))
        })
        .queueing_releases_into(&calls);
    let uses = mocks.build();
    let volume = Order {
        plan_type: volume_plan().plan_type,
        ..order
    };
    uses.release_resource(&volume).await;
    assert_eq!(
        super::calls(&calls),
        [
            "release order-1",
            "enqueue order-1 2017-01-11T12:00:00+00:00"
        ]
    );
}
