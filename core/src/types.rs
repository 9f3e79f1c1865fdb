//! The canonical intermediate type set : every
//! adapter maps its native column types to these, so that a rule or a loss
//! check speaks of one vocabulary whatever the two databases are.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One canonical type. Lengths count characters for text and bytes for
/// binary; `fraction` is the number of fractional-second digits (0–6).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CanonicalType {
    /// True or false.
    Bool,
    /// Signed 8-bit integer.
    Int8,
    /// Signed 16-bit integer.
    Int16,
    /// Signed 32-bit integer.
    Int32,
    /// Signed 64-bit integer.
    Int64,
    /// Exact decimal; `precision` `None` is unconstrained (PostgreSQL's bare `numeric`).
    Decimal {
        /// Total significant digits.
        precision: Option<u32>,
        /// Digits after the point.
        scale: u32,
    },
    /// IEEE single precision.
    Float32,
    /// IEEE double precision.
    Float64,
    /// A currency amount: fixed point with this many decimal places.
    Money {
        /// Digits after the point.
        scale: u32,
    },
    /// Fixed-length text, padded.
    Char {
        /// Characters.
        length: u32,
        /// Whether any Unicode character can be stored.
        unicode: bool,
    },
    /// Text up to a length.
    Varchar {
        /// Characters at most.
        length: u32,
        /// Whether any Unicode character can be stored.
        unicode: bool,
    },
    /// Text without a declared limit (or the database's large text type).
    Text {
        /// Whether any Unicode character can be stored.
        unicode: bool,
    },
    /// Fixed-length bytes.
    Binary {
        /// Bytes.
        length: u32,
    },
    /// Bytes up to a length.
    Varbinary {
        /// Bytes at most.
        length: u32,
    },
    /// Bytes without a declared limit.
    Blob,
    /// A calendar date.
    Date,
    /// A time of day.
    Time {
        /// Fractional-second digits.
        fraction: u32,
    },
    /// A date and time.
    Timestamp {
        /// Fractional-second digits.
        fraction: u32,
        /// Whether it denotes an instant (stored in or converted to UTC)
        /// rather than a wall-clock reading.
        time_zone: bool,
    },
    /// A span of time.
    Interval,
    /// A UUID.
    Uuid,
    /// A JSON document.
    Json,
}

impl fmt::Display for CanonicalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ascii = |unicode: &bool| if *unicode { "" } else { " (non-Unicode)" };
        match self {
            CanonicalType::Bool => write!(f, "bool"),
            CanonicalType::Int8 => write!(f, "int8"),
            CanonicalType::Int16 => write!(f, "int16"),
            CanonicalType::Int32 => write!(f, "int32"),
            CanonicalType::Int64 => write!(f, "int64"),
            CanonicalType::Decimal {
                precision: Some(p),
                scale,
            } => write!(f, "decimal({p},{scale})"),
            CanonicalType::Decimal {
                precision: None, ..
            } => write!(f, "decimal"),
            CanonicalType::Float32 => write!(f, "float32"),
            CanonicalType::Float64 => write!(f, "float64"),
            CanonicalType::Money { scale } => write!(f, "money({scale})"),
            CanonicalType::Char { length, unicode } => {
                write!(f, "char({length}){}", ascii(unicode))
            }
            CanonicalType::Varchar { length, unicode } => {
                write!(f, "varchar({length}){}", ascii(unicode))
            }
            CanonicalType::Text { unicode } => write!(f, "text{}", ascii(unicode)),
            CanonicalType::Binary { length } => write!(f, "binary({length})"),
            CanonicalType::Varbinary { length } => write!(f, "varbinary({length})"),
            CanonicalType::Blob => write!(f, "blob"),
            CanonicalType::Date => write!(f, "date"),
            CanonicalType::Time { fraction } => write!(f, "time({fraction})"),
            CanonicalType::Timestamp {
                fraction,
                time_zone,
            } => write!(
                f,
                "timestamp({fraction}){}",
                if *time_zone { " with time zone" } else { "" }
            ),
            CanonicalType::Interval => write!(f, "interval"),
            CanonicalType::Uuid => write!(f, "uuid"),
            CanonicalType::Json => write!(f, "json"),
        }
    }
}

/// The `(a)` or `(a,b)` arguments of a declared type such as `DECIMAL(12, 4)`.
pub fn type_arguments(declared: &str) -> Vec<u32> {
    let Some(open) = declared.find('(') else {
        return Vec::new();
    };
    let close = declared[open..]
        .find(')')
        .map_or(declared.len(), |c| open + c);
    declared[open + 1..close]
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_print_like_sql() {
        let decimal = CanonicalType::Decimal {
            precision: Some(12),
            scale: 4,
        };
        assert_eq!(decimal.to_string(), "decimal(12,4)");
        let latin = CanonicalType::Varchar {
            length: 20,
            unicode: false,
        };
        assert_eq!(latin.to_string(), "varchar(20) (non-Unicode)");
        let instant = CanonicalType::Timestamp {
            fraction: 6,
            time_zone: true,
        };
        assert_eq!(instant.to_string(), "timestamp(6) with time zone");
    }

    #[test]
    fn type_arguments_are_read_from_declarations() {
        assert_eq!(type_arguments("DECIMAL(12, 4)"), [12, 4]);
        assert_eq!(type_arguments("varchar(20)"), [20]);
        assert_eq!(type_arguments("TEXT"), Vec::<u32>::new());
        assert_eq!(type_arguments("numeric(8"), [8]);
    }

    #[test]
    fn types_cross_as_tagged_maps() {
        let t = CanonicalType::Char {
            length: 2,
            unicode: true,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"type":"char","length":2,"unicode":true}"#);
        assert_eq!(serde_json::from_str::<CanonicalType>(&json).unwrap(), t);
    }
}
