//! The id of the request (or job run) the current work serves, so that every log line it
//! writes — here, in an adapter, on a database thread — can be tied to the others.
//!
//! `log` records carry no context of their own, so the id lives in a thread-local that the
//! log formatter reads. Work moves between threads and interleaves on one: an async request
//! is polled by whichever worker runs it, between other requests' polls; a closure is sent to
//! a blocking thread. So the id is never set once and left: [`scope`] sets it around one
//! call, [`Scoped`] around every poll of a future, and each restores what was there before.
//! Std only: the runtime that moves the work (tokio, actix) stays in the adapters.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

thread_local! {
    static CURRENT: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The id of the work running on this thread, if it runs under one.
pub fn current() -> Option<Arc<str>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Runs `work` with `id` as the current id (`None`: under none), then puts back the one
/// before, even if `work` panics. Hand [`current`] to a closure that runs on another
/// thread, and set it there with this.
pub fn scope<R>(id: Option<Arc<str>>, work: impl FnOnce() -> R) -> R {
    let previous = CURRENT.with(|current| current.replace(id));
    let _restore = Restore(previous);
    work()
}

/// Puts the previous id back when the scope ends, however it ends.
struct Restore(Option<Arc<str>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// A future polled with an id as the current one: each poll sets it and puts back the one
/// before, so futures of different requests interleaved on one thread each log under their
/// own. The future must be `Unpin`; box one that is not (`Box::pin`).
#[derive(Debug)]
pub struct Scoped<F> {
    id: Arc<str>,
    future: F,
}

impl<F> Scoped<F> {
    /// `future`, to be polled under `id`.
    pub fn new(id: Arc<str>, future: F) -> Self {
        Self { id, future }
    }
}

impl<F: Future + Unpin> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let future = &mut this.future;
        scope(Some(Arc::clone(&this.id)), || Pin::new(future).poll(cx))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::task::Waker;

    use super::*;

    fn id(text: &str) -> Option<Arc<str>> {
        Some(Arc::from(text))
    }

    #[test]
    fn no_id_outside_a_scope() {
        assert_eq!(current(), None);
    }

    #[test]
    fn a_scope_sets_the_id_and_puts_the_previous_one_back() {
        scope(id("outer"), || {
            assert_eq!(current(), id("outer"));
            scope(id("inner"), || assert_eq!(current(), id("inner")));
            assert_eq!(current(), id("outer"));
            scope(None, || assert_eq!(current(), None));
            assert_eq!(current(), id("outer"));
        });
        assert_eq!(current(), None);
    }

    #[test]
    fn a_panicking_scope_still_puts_the_previous_id_back() {
        scope(id("outer"), || {
            let panicked = std::panic::catch_unwind(|| scope(id("inner"), || panic!("boom")));
            assert!(panicked.is_err());
            assert_eq!(current(), id("outer"));
        });
    }

    #[test]
    fn a_closure_on_another_thread_runs_under_the_id_handed_to_it() {
        scope(id("request-1"), || {
            let handed = current();
            let seen = std::thread::spawn(move || scope(handed, current))
                .join()
                .unwrap();
            assert_eq!(seen, id("request-1"));
        });
    }

    /// Pending once, then ready with the id it saw on its second poll.
    struct SeesIdOnSecondPoll {
        polled: bool,
    }

    impl Future for SeesIdOnSecondPoll {
        type Output = Option<Arc<str>>;

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
            if self.polled {
                Poll::Ready(current())
            } else {
                self.polled = true;
                Poll::Pending
            }
        }
    }

    #[test]
    fn interleaved_futures_each_see_their_own_id_on_every_poll() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut a = Scoped::new(Arc::from("a"), SeesIdOnSecondPoll { polled: false });
        let mut b = Scoped::new(Arc::from("b"), SeesIdOnSecondPoll { polled: false });
        assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut b).poll(&mut cx).is_pending());
        assert_eq!(current(), None, "a poll leaves no id behind");
        assert_eq!(Pin::new(&mut a).poll(&mut cx), Poll::Ready(id("a")));
        assert_eq!(Pin::new(&mut b).poll(&mut cx), Poll::Ready(id("b")));
    }
}
