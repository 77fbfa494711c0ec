//! Row types, one module per table, each with the queries that load and write it. The
//! queries take `&mut DbConnection` and never open transactions: the repositories own
//! transaction boundaries. Rows never leave this crate; `mapping` turns them into entities.

pub(crate) mod balance;
pub(crate) mod consumption;
pub(crate) mod idempotency;
pub(crate) mod list_total;
pub(crate) mod notification;
pub(crate) mod order;
pub(crate) mod payment;
pub(crate) mod recharge;
pub(crate) mod resource;
pub(crate) mod task;
pub(crate) mod webhook_delivery;

/// A page as SQL wants it: `LIMIT` and `OFFSET` as signed numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub limit: i64,
    pub offset: i64,
}

impl Window {
    /// An offset beyond `i64` cannot be reached by any table; it saturates, which still
    /// yields the empty page past the end.
    pub(crate) fn of(page: domain::page::PageRequest) -> Self {
        Self {
            limit: i64::from(page.size()),
            offset: i64::try_from(page.offset()).unwrap_or(i64::MAX),
        }
    }
}
