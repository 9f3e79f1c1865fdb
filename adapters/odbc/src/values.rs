//! Canonical values ⇄ ODBC: parameters bound in order, rows read back.

use crate::connection::Failure;
use hetsync_core::dialect::pg_catalog::ValueKind;
use hetsync_core::value::Value;
use odbc_api::parameter::{InputParameter, VarCharBox};
use odbc_api::{Bit, Cursor, CursorRow, DataType, IntoParameter, Nullable};

/// The parameters of a statement. Text goes as character data and NULL as
/// a character NULL, so the server types them by where they are used.
/// The values are moved into the parameters, not copied.
pub(crate) fn parameters(values: Vec<Value>) -> Vec<Box<dyn InputParameter>> {
    values
        .into_iter()
        .map(|v| -> Box<dyn InputParameter> {
            match v {
                Value::Null => Box::new(VarCharBox::null()),
                Value::Bool(b) => Box::new(Bit::from_bool(b)),
                Value::Int(i) => Box::new(i),
                Value::Float(f) => Box::new(f),
                Value::Text(s) => Box::new(s.into_parameter()),
                Value::Bytes(b) => Box::new(b.into_parameter()),
            }
        })
        .collect()
}

/// Reads one value as text; `None` for NULL.
fn text(row: &mut CursorRow<'_>, col: u16, buf: &mut Vec<u8>) -> Result<Option<String>, Failure> {
    if !row.get_text(col, buf)? {
        return Ok(None);
    }
    String::from_utf8(std::mem::take(buf))
        .map(Some)
        .map_err(|e| Failure::Decode(format!("column {col} holds text that is not UTF-8: {e}")))
}

/// Reads one value as an integer; `None` for NULL.
fn int(row: &mut CursorRow<'_>, col: u16) -> Result<Option<i64>, Failure> {
    let mut v = Nullable::<i64>::null();
    row.get_data(col, &mut v)?;
    Ok(v.into_opt())
}

/// Parses a number the database printed.
fn parsed<T: std::str::FromStr>(col: u16, s: &str) -> Result<T, Failure> {
    s.parse()
        .map_err(|_| Failure::Decode(format!("column {col} holds '{s}', not a number")))
}

/// A boolean as ODBC drivers print it (`1`/`0`, or PostgreSQL's words).
fn flag(col: u16, s: &str) -> Result<bool, Failure> {
    match s {
        "1" | "t" | "true" | "TRUE" => Ok(true),
        "0" | "f" | "false" | "FALSE" => Ok(false),
        _ => Err(Failure::Decode(format!(
            "column {col} holds '{s}', not a boolean"
        ))),
    }
}

/// The rows of a query of hetsync's own tables: integers by column type,
/// binary data as bytes, the rest as text.
pub(crate) fn meta_rows(mut cursor: impl Cursor) -> Result<Vec<Vec<Value>>, Failure> {
    let n = cursor.num_result_cols()? as u16;
    let types = (1..=n)
        .map(|c| cursor.col_data_type(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    let mut buf = Vec::new();
    while let Some(mut row) = cursor.next_row()? {
        let mut values = Vec::with_capacity(n as usize);
        for (i, t) in types.iter().enumerate() {
            let col = i as u16 + 1;
            values.push(match t {
                DataType::BigInt | DataType::Integer | DataType::SmallInt | DataType::TinyInt => {
                    int(&mut row, col)?.map_or(Value::Null, Value::Int)
                }
                // The C type codes of 64-bit integers (`SQL_C_SBIGINT`,
                // `SQL_C_UBIGINT`), which the SQLite ODBC driver reports
                // for `INTEGER` columns under `BigInt=1`.
                DataType::Other { data_type, .. } if [-25, -27].contains(&data_type.0) => {
                    int(&mut row, col)?.map_or(Value::Null, Value::Int)
                }
                DataType::Bit => text(&mut row, col, &mut buf)?
                    .map_or(Ok(Value::Null), |s| flag(col, &s).map(Value::Bool))?,
                DataType::Binary { .. }
                | DataType::Varbinary { .. }
                | DataType::LongVarbinary { .. } => match row.get_binary(col, &mut buf)? {
                    true => Value::Bytes(std::mem::take(&mut buf)),
                    false => Value::Null,
                },
                _ => text(&mut row, col, &mut buf)?.map_or(Value::Null, Value::Text),
            });
        }
        out.push(values);
    }
    Ok(out)
}

/// The rows of a synced table, each column read as its kind says.
pub(crate) fn table_rows(
    mut cursor: impl Cursor,
    kinds: &[ValueKind],
) -> Result<Vec<Vec<Value>>, Failure> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    while let Some(mut row) = cursor.next_row()? {
        let mut values = Vec::with_capacity(kinds.len());
        for (i, kind) in kinds.iter().enumerate() {
            let col = i as u16 + 1;
            let value = match kind {
                ValueKind::Int2 | ValueKind::Int4 | ValueKind::Int8 => {
                    int(&mut row, col)?.map(Value::Int)
                }
                ValueKind::Bytea => match row.get_binary(col, &mut buf)? {
                    true => Some(Value::Bytes(std::mem::take(&mut buf))),
                    false => None,
                },
                ValueKind::Float4 => text(&mut row, col, &mut buf)?
                    .map(|s| parsed::<f32>(col, &s).map(|f| Value::Float(f as f64)))
                    .transpose()?,
                ValueKind::Float8 => text(&mut row, col, &mut buf)?
                    .map(|s| parsed::<f64>(col, &s).map(Value::Float))
                    .transpose()?,
                ValueKind::Bool => text(&mut row, col, &mut buf)?
                    .map(|s| flag(col, &s).map(Value::Bool))
                    .transpose()?,
                ValueKind::Text => text(&mut row, col, &mut buf)?.map(Value::Text),
            };
            values.push(value.unwrap_or(Value::Null));
        }
        out.push(values);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_as_numbers_and_flags() {
        assert_eq!(parsed::<f64>(1, "-Infinity").ok(), Some(f64::NEG_INFINITY));
        assert!(parsed::<f64>(1, "NaN").is_ok_and(f64::is_nan));
        assert_eq!(
            parsed::<f32>(1, "0.1").ok().map(f64::from),
            Some(0.1f32 as f64)
        );
        assert!(flag(1, "1").is_ok_and(|b| b));
        assert!(flag(1, "f").is_ok_and(|b| !b));
        assert!(flag(1, "yes").is_err());
    }
}
