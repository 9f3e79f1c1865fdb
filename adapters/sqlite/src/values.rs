//! Canonical values ⇄ SQLite storage classes.

use hetsync_core::value::Value;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, TypeInfo, ValueRef};

/// A query with its arguments.
pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, SqliteArguments<'q>>;

/// Binds one canonical value.
pub(crate) fn bind<'q>(q: Query<'q>, value: &Value) -> Query<'q> {
    match value {
        Value::Null => q.bind(None::<i64>),
        Value::Bool(b) => q.bind(*b as i64),
        Value::Int(i) => q.bind(*i),
        Value::Float(f) => q.bind(*f),
        Value::Text(s) => q.bind(s.clone()),
        Value::Bytes(b) => q.bind(b.clone()),
    }
}

/// Binds several values in order.
pub(crate) fn bind_all<'q, 'v>(
    mut q: Query<'q>,
    values: impl IntoIterator<Item = &'v Value>,
) -> Query<'q> {
    for v in values {
        q = bind(q, v);
    }
    q
}

/// Reads column `i` by its storage class.
pub(crate) fn decode(row: &SqliteRow, i: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let info = raw.type_info();
    Ok(match info.name() {
        "INTEGER" => Value::Int(row.try_get_unchecked(i)?),
        "REAL" => Value::Float(row.try_get_unchecked(i)?),
        "BLOB" => Value::Bytes(row.try_get_unchecked(i)?),
        _ => Value::Text(row.try_get_unchecked(i)?),
    })
}

/// Reads columns `from..from+n` of a row.
pub(crate) fn decode_row(
    row: &SqliteRow,
    from: usize,
    n: usize,
) -> Result<Vec<Value>, sqlx::Error> {
    (from..from + n).map(|i| decode(row, i)).collect()
}
