//! Row types, one module per table, each with the queries that load and write it. The
//! queries take `&mut DbConnection` and never open transactions: the repositories own
//! transaction boundaries. Rows never leave this crate; `mapping` turns them into entities.

/// A page of a list with the list's total, in one statement: `$rows` (filtered and
/// ordered) selects `$row` and, beside each row, the scalar subquery `$total`. A page past
/// the end has no row to carry the total: `$total` is then read alone, as `$alone` (a
/// `SUM` of kept totals is nullable, a `COUNT` is not). Evaluates to `(rows, total)`.
/// The page is read on the backend's own connection (`backend::load_direct`), which needs
/// the statement's type to be static; `boxed` first reads a boxed one through the
/// multi-connection (the few pages whose total counts rows of the same table, which diesel
/// refuses as a subquery of a statically typed statement).
/// A macro, not a function: the row, total and count queries are of different diesel
/// types for each table. Defined before the modules below, which see it by textual scope.
macro_rules! page_with_total {
    (@rows $conn:expr, $loaded:expr, $row:ty, $total:expr, $alone:ty) => {{
        let rows: Vec<($row, Option<i64>)> = $loaded;
        let total: Option<i64> = match rows.first() {
            Some((_, total)) => *total,
            None => $total.get_result::<$alone>($conn)?.into(),
        };
        (
            rows.into_iter().map(|(row, _)| row).collect::<Vec<$row>>(),
            total.unwrap_or_default(),
        )
    }};
    (boxed, $conn:expr, $rows:expr, $window:expr, $row:ty, $total:expr, $alone:ty) => {
        page_with_total!(
            @rows $conn,
            $rows
                .limit($window.limit)
                .offset($window.offset)
                .select((<$row>::as_select(), $total.single_value()))
                .load($conn)?,
            $row,
            $total,
            $alone
        )
    };
    ($conn:expr, $rows:expr, $window:expr, $row:ty, $total:expr, $alone:ty) => {
        page_with_total!(
            @rows $conn,
            $crate::backend::load_direct!(
                $conn,
                $rows
                    .limit($window.limit)
                    .offset($window.offset)
                    .select((<$row>::as_select(), $total.single_value())),
            )?,
            $row,
            $total,
            $alone
        )
    };
}

use domain::page::COUNT_CAP;

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

/// How many rows a list without a kept total holds, up to one past [`COUNT_CAP`], for a
/// page of `shown` rows read at `window`: a page that is not full, unless it is empty past
/// the first, tells it by itself; otherwise `count_ids`, given how many ids to read at
/// most, counts them.
pub(crate) fn bounded_count(
    shown: usize,
    window: Window,
    count_ids: impl FnOnce(i64) -> diesel::QueryResult<usize>,
) -> diesel::QueryResult<u64> {
    let shown_rows = u64::try_from(shown).unwrap_or(u64::MAX);
    let offset = u64::try_from(window.offset).unwrap_or_default();
    let full = i64::try_from(shown).unwrap_or(i64::MAX) >= window.limit;
    if !full && (shown_rows > 0 || offset == 0) {
        return Ok(offset.saturating_add(shown_rows));
    }
    let cap = i64::try_from(COUNT_CAP).unwrap_or(i64::MAX);
    let counted = count_ids(cap.saturating_add(1))?;
    Ok(u64::try_from(counted).unwrap_or(u64::MAX))
}

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
            limit: i64::from(page.limit()),
            offset: i64::try_from(page.offset()).unwrap_or(i64::MAX),
        }
    }
}
