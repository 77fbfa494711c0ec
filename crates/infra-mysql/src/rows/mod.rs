//! Row types, one module per table, each with the queries that load and write it. The
//! queries take `&mut DbConnection` and never open transactions: the repositories own
//! transaction boundaries. Rows never leave this crate; `mapping` turns them into entities.

/// The two updates of a retried queue (credits owed, releases owed): finishing an entry,
/// which keeps the first finishing time, and counting a failed attempt of an unfinished
/// one with its next time and error. A macro because each diesel table is its own type;
/// `$finished` is the table's nullable finishing-time column.
macro_rules! retry_queue_updates {
    ($table:ident, $finished:ident) => {
        /// Marks the entry finished; one already finished keeps its first time.
        pub(crate) fn finished(conn: &mut DbConnection, id: i64, at: DbTime) -> QueryResult<()> {
            diesel::update(
                $table::table
                    .filter($table::dsl::id.eq(id))
                    .filter($table::dsl::$finished.is_null()),
            )
            .set($table::dsl::$finished.eq(Some(at)))
            .execute(conn)
            .map(drop)
        }

        /// Counts a failed attempt of an unfinished entry and schedules the next one.
        pub(crate) fn failed(
            conn: &mut DbConnection,
            id: i64,
            next_attempt: DbTime,
            error: &str,
        ) -> QueryResult<()> {
            diesel::update(
                $table::table
                    .filter($table::dsl::id.eq(id))
                    .filter($table::dsl::$finished.is_null()),
            )
            .set((
                $table::dsl::attempts.eq($table::dsl::attempts + 1),
                $table::dsl::next_attempt_at.eq(next_attempt),
                $table::dsl::last_error.eq(Some(error)),
            ))
            .execute(conn)
            .map(drop)
        }
    };
}

pub(crate) mod balance;
pub(crate) mod consumption;
pub(crate) mod credit;
pub(crate) mod notification;
pub(crate) mod order;
pub(crate) mod recharge;
pub(crate) mod release;
pub(crate) mod resource;
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
