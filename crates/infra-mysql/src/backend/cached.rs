//! Write statements prepared once per connection.
//!
//! diesel caches a prepared statement only when its SQL text cannot depend on the values:
//! every `UPDATE` (a changeset may skip `None` fields), every insert with a `DEFAULT` for a
//! `None` and every upsert is prepared, executed and closed again on each call. On MySQL
//! that is three commands and two round trips per write instead of one. [`execute`] builds
//! the statement's MySQL text and binds and hands them to diesel as one query keyed by that
//! text (diesel's `CollectedQuery`), which is safe for any statement: another text is
//! another cache entry. It is only worth it, and the cache
//! only stays small, for statements of few shapes — a fixed column list, one row — never
//! for multi-row inserts whose text grows with the row count.

use diesel::mysql::{Mysql, MysqlConnection};
use diesel::prelude::*;
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{
    CollectedQuery, MoveableBindCollector, QueryBuilder, QueryFragment, QueryId,
};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sqlite::SqliteConnection;

use super::DbConnection;

/// Runs `query`, on MySQL prepared once per connection and text (SQLite prepares in
/// process and runs it as diesel would); returns the affected rows.
pub(crate) fn execute<Q>(conn: &mut DbConnection, query: Q) -> QueryResult<usize>
where
    Q: QueryFragment<Mysql> + ExecuteDsl<SqliteConnection> + QueryId,
{
    match conn {
        DbConnection::Mysql(inner) => execute_mysql(inner, &query),
        DbConnection::Sqlite(inner) => ExecuteDsl::execute(query, inner),
    }
}

/// [`execute`] for a statement built for MySQL alone.
pub(crate) fn execute_mysql<Q>(conn: &mut MysqlConnection, query: &Q) -> QueryResult<usize>
where
    Q: QueryFragment<Mysql>,
{
    let sql = text(query, &Mysql)?;
    let mut binds = RawBytesBindCollector::<Mysql>::new();
    query.collect_binds(&mut binds, &mut (), &Mysql)?;
    conn.execute_returning_count(&CollectedQuery::new(sql, true, binds.moveable()))
}

fn text<Q, DB>(query: &Q, backend: &DB) -> QueryResult<String>
where
    Q: QueryFragment<DB>,
    DB: diesel::backend::Backend,
    DB::QueryBuilder: Default,
{
    let mut builder = DB::QueryBuilder::default();
    query.to_sql(&mut builder, backend)?;
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use diesel::sqlite::SqliteConnection;

    use super::*;

    diesel::table! {
        t (id) {
            id -> Integer,
            n -> Integer,
        }
    }

    #[test]
    fn each_run_writes_its_own_values() {
        let mut inner = SqliteConnection::establish(":memory:").unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut inner,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); \
             INSERT INTO t VALUES (1, 0), (2, 0);",
        )
        .unwrap();
        let conn = &mut DbConnection::Sqlite(inner);
        for (id, n) in [(1, 10), (2, 20), (1, 11), (3, 30)] {
            let updated = execute(
                conn,
                diesel::update(t::table.filter(t::id.eq(id))).set(t::n.eq(n)),
            );
            assert_eq!(updated, Ok(usize::from(id != 3)));
        }
        let rows: Vec<(i32, i32)> = t::table.order(t::id).load(conn).unwrap();
        assert_eq!(rows, [(1, 11), (2, 20)]);
    }
}
