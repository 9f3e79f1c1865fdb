//! Canonical values: the intermediate representation every adapter maps its
//! native values to and from.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One canonical value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit IEEE float.
    Float(f64),
    /// Unicode text.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

impl Value {
    /// True when both values are the same byte for byte (floats compare by bit
    /// pattern, so NaN equals NaN and 0.0 differs from -0.0).
    pub fn identical(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

/// Equality is [`Value::identical`]: byte for byte, floats by bit pattern.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.identical(other)
    }
}

/// True when two rows are identical value by value.
pub fn rows_identical(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.identical(y))
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Value::Bytes(b) => {
                write!(f, "x'")?;
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                write!(f, "'")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_compares_floats_by_bits() {
        assert!(Value::Float(f64::NAN).identical(&Value::Float(f64::NAN)));
        assert!(!Value::Float(0.0).identical(&Value::Float(-0.0)));
        assert!(!Value::Int(1).identical(&Value::Float(1.0)));
        assert!(Value::Text("变电站".into()).identical(&Value::Text("变电站".into())));
    }

    #[test]
    fn display_quotes_text_and_hex_bytes() {
        assert_eq!(Value::Text("it's".into()).to_string(), "'it''s'");
        assert_eq!(Value::Bytes(vec![0, 255]).to_string(), "x'00ff'");
    }
}
