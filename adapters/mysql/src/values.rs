//! Canonical values ⇄ MariaDB/MySQL: reading rows, binding parameters.

use crate::dictionary::{Column, Kind};
use crate::session::DIALECT;
use hetsync_core::dialect::Dialect;
use hetsync_core::value::Value;
use sqlx::mysql::{MySqlArguments, MySqlRow};
use sqlx::{Row, ValueRef};

/// A query with its arguments.
pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::MySql, MySqlArguments>;

/// The select-list expression that reads a column (with table alias `t`).
fn select_expr(column: &Column) -> String {
    let c = format!("t.{}", DIALECT.ident(&column.name));
    match column.kind {
        // One integer type to decode, whatever the column's width.
        Kind::Int => format!("CAST({c} AS SIGNED)"),
        Kind::UInt => format!("CAST({c} AS UNSIGNED)"),
        Kind::Other => format!("CAST({c} AS CHAR)"),
        Kind::Float | Kind::Double | Kind::Bytes | Kind::Text => c,
    }
}

/// The select list of a table's columns (table alias `t`).
pub(crate) fn select_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(select_expr)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a row selected with [`select_list`].
pub(crate) fn decode_row(row: &MySqlRow, columns: &[Column]) -> Result<Vec<Value>, sqlx::Error> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if row.try_get_raw(i)?.is_null() {
                return Ok(Value::Null);
            }
            Ok(match c.kind {
                Kind::Int => Value::Int(row.try_get(i)?),
                Kind::UInt => {
                    let v: u64 = row.try_get(i)?;
                    i64::try_from(v).map_or_else(|_| Value::Text(v.to_string()), Value::Int)
                }
                Kind::Float => Value::Float(row.try_get::<f32, _>(i)? as f64),
                Kind::Double => Value::Float(row.try_get(i)?),
                Kind::Bytes => Value::Bytes(row.try_get(i)?),
                Kind::Text | Kind::Other => Value::Text(text(row, i)?),
            })
        })
        .collect()
}

/// Reads a character column. Columns with a binary collation (`…_bin`) come
/// flagged as binary, so the bytes are read and checked to be UTF-8.
pub(crate) fn text(row: &MySqlRow, i: usize) -> Result<String, sqlx::Error> {
    match row.try_get::<String, _>(i) {
        Ok(s) => Ok(s),
        Err(sqlx::Error::ColumnDecode { .. }) => {
            let bytes: Vec<u8> = row.try_get(i)?;
            String::from_utf8(bytes).map_err(|e| sqlx::Error::ColumnDecode {
                index: i.to_string(),
                source: Box::new(e),
            })
        }
        Err(e) => Err(e),
    }
}

/// Binds one value.
pub(crate) fn bind_value<'q>(q: Query<'q>, value: &Value) -> Query<'q> {
    match value {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Int(i) => q.bind(*i),
        Value::Float(f) => q.bind(*f),
        Value::Text(s) => q.bind(s.clone()),
        Value::Bytes(b) => q.bind(b.clone()),
    }
}
