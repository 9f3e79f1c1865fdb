//! Many rows per execution: an `INSERT` of a few rows, prepared once and
//! run with arrays of parameters (ODBC parameter sets, bound from
//! odbc-api's columnar buffers).
//!
//! A statement inserts several rows (one parameter set binds them all), and
//! one execution runs many sets: drivers without native parameter arrays,
//! psqlODBC among them, send the sets as a batch of statements, so rows
//! per statement matter as much as sets per execution (measured: 100,000
//! rows over psqlODBC took 7.4 s at one row per statement, 3.2 s at 50).
//!
//! Each parameter column is bound by what its values are: integers as
//! 64-bit integers, booleans as bits, bytes as binary, and text and floats
//! as character data sized to the longest value of the chunk (a float as
//! its shortest exact text). A column whose values are of several kinds
//! goes as text (the server converts it by where it is used); one that
//! mixes bytes with other kinds cannot, and its chunk is inserted a row at
//! a time.

use crate::connection::Failure;
use crate::values::parameters;
use hetsync_core::value::Value;
use odbc_api::buffers::{AnySliceMut, BufferDesc};
use odbc_api::{Bit, Connection};

/// Rows bound per execution at most.
const ROWS_PER_EXECUTION: usize = 1_000;

/// Parameters per statement at most: rows per statement are this divided
/// by the row's width.
const PARAMS_PER_STATEMENT: usize = 1_000;

/// Bytes of text and binary buffers per execution at most: a chunk of long
/// values binds fewer rows.
const BUFFER_BYTES: usize = 16 << 20;

/// How one parameter column of a chunk is bound.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    /// Every value is NULL.
    Null,
    Int,
    Bit,
    /// Character data of at most this many bytes.
    Text(usize),
    /// Binary data of at most this many bytes.
    Binary(usize),
    /// Bytes beside values of another kind: no single binding fits.
    Unbindable,
}

/// A value as character data: a float always, any value in a column of
/// mixed kinds.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Bytes(_) => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) if f.is_nan() => Some("NaN".into()),
        Value::Float(f) if f.is_infinite() => {
            Some(if *f > 0.0 { "Infinity" } else { "-Infinity" }.into())
        }
        Value::Float(f) => Some(f.to_string()),
        Value::Text(t) => Some(t.clone()),
    }
}

/// Replaces every float by its shortest exact text, which the server
/// parses by the column it goes to: a double bound as such is printed by
/// the driver with 17 digits, which costs it and the server more.
fn floats_as_text(rows: &mut [Vec<Value>]) {
    for value in rows.iter_mut().flatten() {
        if matches!(value, Value::Float(_)) {
            *value = as_text(value).map_or(Value::Null, Value::Text);
        }
    }
}

/// The binding of column `col` of `rows`.
fn slot_of(rows: &[Vec<Value>], col: usize) -> Slot {
    let mut slot = Slot::Null;
    for row in rows {
        let this = match &row[col] {
            Value::Null => continue,
            Value::Int(_) => Slot::Int,
            // Floats go as text ([`floats_as_text`]).
            Value::Float(_) => return text_slot(rows, col),
            Value::Bool(_) => Slot::Bit,
            Value::Text(t) => Slot::Text(t.len()),
            Value::Bytes(b) => Slot::Binary(b.len()),
        };
        slot = match (slot, this) {
            (Slot::Null, this) => this,
            (Slot::Text(a), Slot::Text(b)) => Slot::Text(a.max(b)),
            (Slot::Binary(a), Slot::Binary(b)) => Slot::Binary(a.max(b)),
            (Slot::Binary(_), _) | (_, Slot::Binary(_)) => return Slot::Unbindable,
            (a, b) if a == b => a,
            // Kinds mixed: every value goes as its text.
            _ => return text_slot(rows, col),
        };
    }
    slot
}

/// Column `col` of `rows` bound as character data.
fn text_slot(rows: &[Vec<Value>], col: usize) -> Slot {
    let longest = rows
        .iter()
        .filter_map(|row| as_text(&row[col]))
        .map(|t| t.len())
        .max()
        .unwrap_or(0);
    Slot::Text(longest)
}

impl Slot {
    /// The buffer of the binding; text and binary are at least one byte.
    fn desc(self) -> BufferDesc {
        match self {
            Slot::Int => BufferDesc::I64 { nullable: true },
            Slot::Bit => BufferDesc::Bit { nullable: true },
            Slot::Binary(n) => BufferDesc::Binary { length: n.max(1) },
            Slot::Null | Slot::Text(_) | Slot::Unbindable => BufferDesc::Text {
                max_str_len: self.width().max(1),
            },
        }
    }

    /// Buffer bytes one row of this binding takes.
    fn width(self) -> usize {
        match self {
            Slot::Text(n) | Slot::Binary(n) => n,
            _ => 8,
        }
    }
}

/// Inserts `rows` (each `width` values) by `statement(n)`, an `INSERT` of
/// `n` rows of `width` parameters each: statements of up to
/// [`PARAMS_PER_STATEMENT`] parameters (and at most `max_params`), run
/// with arrays of parameter sets of up to [`ROWS_PER_EXECUTION`] rows in
/// all.
pub(crate) fn insert_rows(
    conn: &Connection<'_>,
    statement: &dyn Fn(usize) -> String,
    mut rows: Vec<Vec<Value>>,
    width: usize,
    max_params: usize,
) -> Result<(), Failure> {
    floats_as_text(&mut rows);
    let per_statement = (PARAMS_PER_STATEMENT.min(max_params) / width.max(1)).max(1);
    let mut rest = rows.as_slice();
    while !rest.is_empty() {
        let mut take = rest.len().min(ROWS_PER_EXECUTION);
        let mut slots: Vec<Slot> = (0..width).map(|c| slot_of(&rest[..take], c)).collect();
        let row_bytes: usize = slots.iter().map(|s| s.width()).sum();
        if take > 1 && row_bytes * take > BUFFER_BYTES {
            take = (BUFFER_BYTES / row_bytes.max(1)).clamp(1, take);
            slots = (0..width).map(|c| slot_of(&rest[..take], c)).collect();
        }
        let (chunk, after) = rest.split_at(take);
        if slots.contains(&Slot::Unbindable) {
            insert_one_by_one(conn, &statement(1), chunk)?;
        } else {
            // Whole statements first, then the rows left over in one.
            let whole = chunk.len() / per_statement * per_statement;
            let (full, tail) = chunk.split_at(whole);
            if !full.is_empty() {
                insert_chunk(conn, &statement(per_statement), full, &slots, per_statement)?;
            }
            if !tail.is_empty() {
                insert_chunk(conn, &statement(tail.len()), tail, &slots, tail.len())?;
            }
        }
        rest = after;
    }
    Ok(())
}

/// One execution binding every row of `chunk`, `per_statement` rows to a
/// parameter set (`chunk` holds whole sets).
fn insert_chunk(
    conn: &Connection<'_>,
    sql: &str,
    chunk: &[Vec<Value>],
    slots: &[Slot],
    per_statement: usize,
) -> Result<(), Failure> {
    let sets = chunk.len() / per_statement;
    let prepared = conn.prepare(sql)?;
    let descs = (0..per_statement).flat_map(|_| slots.iter().map(|s| s.desc()));
    let mut inserter = prepared.into_column_inserter(sets, descs)?;
    inserter.set_num_rows(sets);
    let width = slots.len();
    for (i, row) in chunk.iter().enumerate() {
        let (set, first) = (i / per_statement, (i % per_statement) * width);
        for (col, value) in row.iter().enumerate() {
            set_cell(inserter.column_mut(first + col), set, value)?;
        }
    }
    inserter.execute()?;
    Ok(())
}

/// Writes `value` at `index` of a parameter column bound for its kind.
fn set_cell(column: AnySliceMut<'_>, index: usize, value: &Value) -> Result<(), Failure> {
    match column {
        AnySliceMut::NullableI64(mut column) => column.set_cell(
            index,
            if let Value::Int(n) = value {
                Some(*n)
            } else {
                None
            },
        ),
        AnySliceMut::NullableBit(mut column) => {
            let bit = if let Value::Bool(b) = value {
                Some(Bit::from_bool(*b))
            } else {
                None
            };
            column.set_cell(index, bit)
        }
        AnySliceMut::Binary(mut column) => {
            let bytes = if let Value::Bytes(b) = value {
                Some(b.as_slice())
            } else {
                None
            };
            column.set_cell(index, bytes)
        }
        AnySliceMut::Text(mut column) => match value {
            Value::Text(t) => column.set_cell(index, Some(t.as_bytes())),
            other => column.set_cell(index, as_text(other).as_deref().map(str::as_bytes)),
        },
        _ => {
            return Err(Failure::Decode(
                "a parameter column of an unexpected buffer".into(),
            ))
        }
    }
    Ok(())
}

/// Rows a statement each: for a chunk no array binding fits.
fn insert_one_by_one(
    conn: &Connection<'_>,
    sql: &str,
    chunk: &[Vec<Value>],
) -> Result<(), Failure> {
    let mut statement = conn.preallocate()?;
    for row in chunk {
        let params = parameters(row.clone());
        statement.execute(sql, &params[..])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(column: &[Value]) -> Vec<Vec<Value>> {
        column.iter().map(|v| vec![v.clone()]).collect()
    }

    #[test]
    fn a_column_binds_by_its_values() {
        let t = |s: &str| Value::Text(s.into());
        assert_eq!(slot_of(&rows(&[Value::Null, Value::Int(1)]), 0), Slot::Int);
        assert_eq!(slot_of(&rows(&[Value::Null]), 0), Slot::Null);
        assert_eq!(
            slot_of(&rows(&[t("ab"), Value::Null, t("变电站")]), 0),
            Slot::Text(9)
        );
        assert_eq!(
            slot_of(&rows(&[Value::Int(12345), t("ab"), Value::Float(0.5)]), 0),
            Slot::Text(5)
        );
        assert_eq!(
            slot_of(&rows(&[Value::Float(0.25), Value::Float(1e300)]), 0),
            Slot::Text(301)
        );
        assert_eq!(
            slot_of(&rows(&[Value::Bytes(vec![1, 2]), Value::Bytes(vec![3])]), 0),
            Slot::Binary(2)
        );
        assert_eq!(
            slot_of(&rows(&[Value::Bytes(vec![1]), t("x")]), 0),
            Slot::Unbindable
        );
        assert_eq!(
            as_text(&Value::Float(f64::NEG_INFINITY)).as_deref(),
            Some("-Infinity")
        );
        assert_eq!(as_text(&Value::Float(0.1)).as_deref(), Some("0.1"));
        let mut floats = rows(&[Value::Float(0.5), Value::Null, Value::Float(f64::NAN)]);
        floats_as_text(&mut floats);
        assert_eq!(floats, rows(&[t("0.5"), Value::Null, t("NaN")]));
        assert_eq!(slot_of(&floats, 0), Slot::Text(3));
    }
}
