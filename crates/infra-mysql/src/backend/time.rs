//! The SQL type of every time column, and the value bound to it, on each backend.
//!
//! diesel's `Timestamp`, the time type every backend shares, binds MySQL's `TIMESTAMP`.
//! MariaDB turns such a parameter into a 32-bit Unix time through the session time zone, so
//! from 2038-01-19 03:14:08 UTC on a NOT NULL column refuses it and a nullable one stores
//! NULL without a word. diesel's MySQL `Datetime` binds `DATETIME`, which holds every year
//! up to 9999 and is what the columns are (`DATETIME(6)`), but it has no SQLite side, and a
//! table both backends share needs one type per column. [`UtcDateTime`] is both: `Datetime`
//! on MySQL/MariaDB and `Timestamp` (ISO text, as before) on SQLite. The multi-connection
//! backend gets the impls diesel's `MultiConnection` documentation asks of a custom type.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::mysql::Mysql;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Datetime, HasSqlType, Timestamp};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// A UTC instant with microseconds: `DATETIME(6)` bound as `DATETIME` on MySQL/MariaDB, ISO
/// text on SQLite. The type of every time column in `schema.rs`.
#[derive(
    Clone, Copy, Debug, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
)]
#[diesel(mysql_type(name = "DateTime"))]
#[diesel(sqlite_type(name = "Text"))]
pub struct UtcDateTime;

/// Times compare (`MIN`, `MAX`): `DATETIME` on MySQL/MariaDB, and on SQLite ISO text, whose
/// order is the times' order.
impl diesel::sql_types::SqlOrd for UtcDateTime {}

/// A value of a [`UtcDateTime`] column: a UTC instant without its zone. A type of this
/// crate rather than chrono's `NaiveDateTime`, because diesel lets a custom SQL type take
/// values only of types that derive `AsExpression` for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = UtcDateTime)]
pub struct DbTime(pub NaiveDateTime);

impl ToSql<UtcDateTime, Mysql> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
        <NaiveDateTime as ToSql<Datetime, Mysql>>::to_sql(&self.0, out)
    }
}

impl FromSql<UtcDateTime, Mysql> for DbTime {
    fn from_sql(bytes: <Mysql as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Datetime, Mysql>>::from_sql(bytes).map(DbTime)
    }
}

impl ToSql<UtcDateTime, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Sqlite>>::to_sql(&self.0, out)
    }
}

impl FromSql<UtcDateTime, Sqlite> for DbTime {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(bytes).map(DbTime)
    }
}

impl HasSqlType<UtcDateTime> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<UtcDateTime>(lookup)
    }
}

impl ToSql<UtcDateTime, MultiBackend> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        // Handed to the inner backend's impl above when the query runs.
        out.set_value((UtcDateTime, self));
        Ok(IsNull::No)
    }
}

impl FromSql<UtcDateTime, MultiBackend> for DbTime {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<DbTime, UtcDateTime>()
    }
}
