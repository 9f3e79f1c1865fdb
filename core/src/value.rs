//! Canonical values: the intermediate representation every adapter maps its
//! native values to and from.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One canonical value.
///
/// Serialized in human-readable formats (JSON) as an externally tagged enum
/// (`{"Int": 5}`, `"Null"`); in binary formats (the plugin boundary's
/// MessagePack) as the format's own nil, bool, integer, float, string and
/// binary types, which name their type without a tag.
#[derive(Clone, Debug)]
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

/// The human-readable form: the externally tagged enum.
#[derive(Serialize, Deserialize)]
#[serde(rename = "Value")]
enum Tagged<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(std::borrow::Cow<'a, str>),
    Bytes(std::borrow::Cow<'a, [u8]>),
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return match self {
                Value::Null => Tagged::Null,
                Value::Bool(b) => Tagged::Bool(*b),
                Value::Int(i) => Tagged::Int(*i),
                Value::Float(f) => Tagged::Float(*f),
                Value::Text(t) => Tagged::Text(t.into()),
                Value::Bytes(b) => Tagged::Bytes(b.as_slice().into()),
            }
            .serialize(s);
        }
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Text(t) => s.serialize_str(t),
            Value::Bytes(b) => s.serialize_bytes(b),
        }
    }
}

/// Reads the binary form: the format says which type each value has.
struct NativeVisitor;

impl<'de> Visitor<'de> for NativeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nil, a boolean, an integer, a float, a string or bytes")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("integer {v} is out of the 64-bit signed range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        if d.is_human_readable() {
            return Ok(match Tagged::deserialize(d)? {
                Tagged::Null => Value::Null,
                Tagged::Bool(b) => Value::Bool(b),
                Tagged::Int(i) => Value::Int(i),
                Tagged::Float(f) => Value::Float(f),
                Tagged::Text(t) => Value::Text(t.into_owned()),
                Tagged::Bytes(b) => Value::Bytes(b.into_owned()),
            });
        }
        d.deserialize_any(NativeVisitor)
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
    fn json_keeps_the_tagged_form() {
        let values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(-7),
            Value::Float(1.0),
            Value::Text("变电站".into()),
            Value::Bytes(vec![0, 255]),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(
            json,
            r#"["Null",{"Bool":true},{"Int":-7},{"Float":1.0},{"Text":"变电站"},{"Bytes":[0,255]}]"#
        );
        let back: Vec<Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
    }

    #[test]
    fn display_quotes_text_and_hex_bytes() {
        assert_eq!(Value::Text("it's".into()).to_string(), "'it''s'");
        assert_eq!(Value::Bytes(vec![0, 255]).to_string(), "x'00ff'");
    }
}
