//! The combined code: the identity of a row on every node ,
//! built from a per-table list of columns. It need not be the primary key.

use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One part of a combined code. Only integers and text identify rows: a float
/// or a blob in a code column is refused, a NULL is refused.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyPart {
    /// An integer part.
    Int(i64),
    /// A text part.
    Text(String),
}

/// The combined code of one row: its code columns' values, in configured order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CombinedCode(pub Vec<KeyPart>);

/// Why a value cannot be part of a combined code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeError(pub String);

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl CombinedCode {
    /// The code of no row (`[]`): the changes of a table's rows that have
    /// no code (a NULL in a code column) are parked under it.
    pub fn none() -> Self {
        CombinedCode(Vec::new())
    }

    /// Builds a code from the values of the code columns.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> Result<Self, CodeError> {
        values
            .into_iter()
            .map(|v| match v {
                Value::Int(i) => Ok(KeyPart::Int(*i)),
                Value::Bool(b) => Ok(KeyPart::Int(*b as i64)),
                Value::Text(s) => Ok(KeyPart::Text(s.clone())),
                Value::Null => Err(CodeError("a combined-code column is NULL".into())),
                other => Err(CodeError(format!(
                    "combined-code columns must hold integers or text, found {other}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(CombinedCode)
    }

    /// Builds a code from a full row given the positions of the code columns.
    pub fn from_row(row: &[Value], code_columns: &[usize]) -> Result<Self, CodeError> {
        Self::from_values(code_columns.iter().map(|&i| &row[i]))
    }

    /// Parses the JSON array form stored in tracking tables, e.g. `[1,2021,"S-01"]`.
    pub fn parse_json(text: &str) -> Result<Self, CodeError> {
        let parsed: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| CodeError(format!("combined code {text:?} is not JSON: {e}")))?;
        let items = parsed
            .as_array()
            .ok_or_else(|| CodeError(format!("combined code {text:?} is not a JSON array")))?;
        items
            .iter()
            .map(|item| match item {
                serde_json::Value::String(s) => Ok(KeyPart::Text(s.clone())),
                serde_json::Value::Number(n) => n.as_i64().map(KeyPart::Int).ok_or_else(|| {
                    CodeError(format!("combined code {text:?} holds a non-integer number"))
                }),
                serde_json::Value::Null => {
                    Err(CodeError(format!("combined code {text:?} has a NULL part")))
                }
                _ => Err(CodeError(format!(
                    "combined code {text:?} holds an unsupported value"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(CombinedCode)
    }

    /// The JSON array form, e.g. `[1,2021,"S-01"]`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("codes always serialize")
    }

    /// The code parts as canonical values, in code-column order.
    pub fn to_values(&self) -> Vec<Value> {
        self.0
            .iter()
            .map(|p| match p {
                KeyPart::Int(i) => Value::Int(*i),
                KeyPart::Text(s) => Value::Text(s.clone()),
            })
            .collect()
    }
}

impl fmt::Display for CombinedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_unicode_and_quotes() {
        let code = CombinedCode(vec![
            KeyPart::Int(7),
            KeyPart::Int(2021),
            KeyPart::Text("变电站\"1\"".into()),
        ]);
        let json = code.to_json();
        assert_eq!(json, r#"[7,2021,"变电站\"1\""]"#);
        assert_eq!(CombinedCode::parse_json(&json).unwrap(), code);
    }

    #[test]
    fn sqlite_json_array_output_parses() {
        // json_array() in SQLite writes no spaces; PostgreSQL writes ", ".
        assert_eq!(
            CombinedCode::parse_json(r#"[1, "a"]"#).unwrap(),
            CombinedCode::parse_json(r#"[1,"a"]"#).unwrap()
        );
    }

    #[test]
    fn null_float_and_blob_parts_are_refused() {
        assert!(CombinedCode::parse_json("[null]").is_err());
        assert!(CombinedCode::parse_json("[1.5]").is_err());
        assert!(CombinedCode::from_values(&[Value::Bytes(vec![1])]).is_err());
        assert!(CombinedCode::from_values(&[Value::Null]).is_err());
    }
}
