//! Canonical values ⇄ PostgreSQL: reading rows, COPY text format, code parameters.

use crate::dictionary::{Column, Kind};
use hetsync_core::code::{CombinedCode, KeyPart};
use hetsync_core::value::Value;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Row, ValueRef};
use std::fmt::Write;

/// A query with its arguments.
pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, PgArguments>;

/// The select list of a table's columns.
pub(crate) fn select_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(Column::select_expr)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a row selected with [`select_list`].
pub(crate) fn decode_row(row: &PgRow, columns: &[Column]) -> Result<Vec<Value>, sqlx::Error> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if row.try_get_raw(i)?.is_null() {
                return Ok(Value::Null);
            }
            Ok(match c.kind {
                Kind::Int2 => Value::Int(row.try_get::<i16, _>(i)? as i64),
                Kind::Int4 => Value::Int(row.try_get::<i32, _>(i)? as i64),
                Kind::Int8 => Value::Int(row.try_get(i)?),
                Kind::Float4 => Value::Float(row.try_get::<f32, _>(i)? as f64),
                Kind::Float8 => Value::Float(row.try_get(i)?),
                Kind::Bool => Value::Bool(row.try_get(i)?),
                Kind::Bytea => Value::Bytes(row.try_get(i)?),
                Kind::Text => Value::Text(row.try_get(i)?),
            })
        })
        .collect()
}

/// Appends a value in COPY text format.
pub(crate) fn copy_text(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("\\N"),
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) if f.is_nan() => out.push_str("NaN"),
        Value::Float(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Value::Text(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        Value::Bytes(b) => {
            out.push_str("\\\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

/// Appends one row in COPY text format, tab-separated and newline-terminated.
pub(crate) fn copy_line(out: &mut String, values: &[Value]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        copy_text(out, v);
    }
    out.push('\n');
}

/// One array parameter per code position, for `unnest($1::int8[], $2::text[])`.
pub(crate) enum KeyArray {
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

impl KeyArray {
    fn sql_type(&self) -> &'static str {
        match self {
            KeyArray::Ints(_) => "int8[]",
            KeyArray::Texts(_) => "text[]",
        }
    }
}

/// Splits codes into one typed array per position; `None` if a position mixes
/// integers and text.
pub(crate) fn key_arrays(codes: &[CombinedCode], arity: usize) -> Option<Vec<KeyArray>> {
    (0..arity)
        .map(|p| match codes.first().map(|c| &c.0[p]) {
            Some(KeyPart::Text(_)) => codes
                .iter()
                .map(|c| match &c.0[p] {
                    KeyPart::Text(s) => Some(s.clone()),
                    KeyPart::Int(_) => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(KeyArray::Texts),
            _ => codes
                .iter()
                .map(|c| match &c.0[p] {
                    KeyPart::Int(i) => Some(*i),
                    KeyPart::Text(_) => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(KeyArray::Ints),
        })
        .collect()
}

/// `unnest($n::int8[], $m::text[])` for the arrays, numbering from `first`.
pub(crate) fn unnest_expr(arrays: &[KeyArray], first: usize) -> String {
    let args: Vec<String> = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| format!("${}::{}", first + i, a.sql_type()))
        .collect();
    format!("unnest({})", args.join(", "))
}

/// Binds the arrays in order.
pub(crate) fn bind_arrays<'q>(mut q: Query<'q>, arrays: Vec<KeyArray>) -> Query<'q> {
    for a in arrays {
        q = match a {
            KeyArray::Ints(v) => q.bind(v),
            KeyArray::Texts(v) => q.bind(v),
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes() {
        let mut out = String::new();
        for v in [
            Value::Text("a\tb\\c\nd".into()),
            Value::Null,
            Value::Bytes(vec![0, 255]),
            Value::Float(f64::NEG_INFINITY),
            Value::Float(0.1),
        ] {
            copy_text(&mut out, &v);
            out.push('|');
        }
        assert_eq!(out, "a\\tb\\\\c\\nd|\\N|\\\\x00ff|-Infinity|0.1|");
    }
}
