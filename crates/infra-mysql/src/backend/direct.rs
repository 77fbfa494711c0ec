//! Reads run on the backend's own connection rather than through the multi-connection.
//!
//! diesel's derived `MultiConnection` hands a query to the backend wrapped in a query of
//! its own whose every pass writes the inner query's SQL out again: once to ask whether it
//! may be cached and once to collect its binds, whatever the query's type. For a page of
//! orders (26 columns, each a quoted identifier written out with an allocation of its own)
//! that was a tenth of the service's CPU per page. Given to the backend's connection
//! itself, a query whose type is static is found in diesel's statement cache by that type
//! and its SQL is never written after the first run. Only for queries typed for both
//! backends (not boxed for the multi-backend): the hot reads, whose types the row modules
//! keep static for this.

/// `Vec` of the rows `$query` selects, loaded on `$conn`'s own backend. A macro: the query
/// is written out once per backend, since its type differs between them (a row's
/// `as_select()` is typed by the backend it is read from).
macro_rules! load_direct {
    ($conn:expr, $query:expr $(,)?) => {
        match $conn {
            $crate::backend::DbConnection::Mysql(inner) => diesel::RunQueryDsl::load($query, inner),
            $crate::backend::DbConnection::Sqlite(inner) => {
                diesel::RunQueryDsl::load($query, inner)
            }
        }
    };
}

pub(crate) use load_direct;
