//! SQLite declared types → canonical types. SQLite enforces no declared
//! type, so the mapping reads the declaration's intent: a few well-known
//! names first (BOOLEAN, DATE, DATETIME…), then SQLite's own affinity rules
//! (<https://www.sqlite.org/datatype3.html> §3.1). SQLite enforces no
//! declared length, but a declared `VARCHAR(n)` states the intent, so it maps
//! to `varchar(n)`: a longer value written there is refused when it syncs,
//! never silently cut.

use crate::types::{type_arguments, CanonicalType};

/// Significant decimal digits SQLite keeps of a number (a REAL).
const SQLITE_DIGITS: u32 = 15;

/// The canonical type of a column declared as `declared` (every declaration
/// has one: SQLite gives every column an affinity).
pub fn canonical(declared: &str) -> CanonicalType {
    let upper = declared.to_ascii_uppercase();
    let name = upper.split('(').next().unwrap_or_default().trim();
    let args = type_arguments(&upper);
    let fraction = args.first().copied().unwrap_or(6).min(6);
    match name {
        "BOOLEAN" | "BOOL" => CanonicalType::Bool,
        "DATE" => CanonicalType::Date,
        "TIME" => CanonicalType::Time { fraction },
        "DATETIME" | "TIMESTAMP" => CanonicalType::Timestamp {
            fraction,
            time_zone: false,
        },
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => CanonicalType::Timestamp {
            fraction,
            time_zone: true,
        },
        "CHAR" | "NCHAR" | "CHARACTER" if !args.is_empty() => CanonicalType::Char {
            length: args[0],
            unicode: true,
        },
        "VARCHAR" | "NVARCHAR" | "CHARACTER VARYING" | "VARYING CHARACTER" | "NATIVE CHARACTER"
            if !args.is_empty() =>
        {
            CanonicalType::Varchar {
                length: args[0],
                unicode: true,
            }
        }
        "UUID" => CanonicalType::Uuid,
        "JSON" => CanonicalType::Json,
        "TINYINT" => CanonicalType::Int8,
        "SMALLINT" | "INT2" => CanonicalType::Int16,
        "MEDIUMINT" | "INT4" => CanonicalType::Int32,
        _ if name.contains("INT") => CanonicalType::Int64,
        _ if ["CHAR", "CLOB", "TEXT"].iter().any(|t| name.contains(t)) => {
            CanonicalType::Text { unicode: true }
        }
        _ if name.contains("BLOB") || name.is_empty() => CanonicalType::Blob,
        _ if ["REAL", "FLOA", "DOUB"].iter().any(|t| name.contains(t)) => CanonicalType::Float64,
        // NUMERIC affinity stores a number as INTEGER or REAL: exact to 15
        // significant digits, so a wider declaration promises no more.
        _ => CanonicalType::Decimal {
            precision: args.first().map(|p| (*p).min(SQLITE_DIGITS)),
            scale: args.get(1).copied().unwrap_or(0).min(SQLITE_DIGITS),
        },
    }
}

/// The default type rules towards this database (see
/// `hetsync_core::mapping::rules`): which type a column of another database
/// gets here.
pub const DEFAULT_TYPE_RULES: &str = include_str!("sqlite_types.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use CanonicalType as C;

    #[test]
    fn declarations_map_by_name_then_affinity() {
        let cases = [
            ("INTEGER", C::Int64),
            ("bigint", C::Int64),
            ("TEXT", C::Text { unicode: true }),
            (
                "varchar(20)",
                C::Varchar {
                    length: 20,
                    unicode: true,
                },
            ),
            (
                "NVARCHAR(5)",
                C::Varchar {
                    length: 5,
                    unicode: true,
                },
            ),
            (
                "CHAR(2)",
                C::Char {
                    length: 2,
                    unicode: true,
                },
            ),
            ("VARCHAR", C::Text { unicode: true }),
            (
                "TIMESTAMPTZ(3)",
                C::Timestamp {
                    fraction: 3,
                    time_zone: true,
                },
            ),
            ("BLOB", C::Blob),
            ("", C::Blob),
            ("REAL", C::Float64),
            ("double precision", C::Float64),
            ("BOOLEAN", C::Bool),
            ("DATE", C::Date),
            (
                "DATETIME",
                C::Timestamp {
                    fraction: 6,
                    time_zone: false,
                },
            ),
            ("TIME(3)", C::Time { fraction: 3 }),
            (
                "DECIMAL(12,4)",
                C::Decimal {
                    precision: Some(12),
                    scale: 4,
                },
            ),
            (
                "NUMERIC",
                C::Decimal {
                    precision: None,
                    scale: 0,
                },
            ),
        ];
        for (declared, expected) in cases {
            assert_eq!(canonical(declared), expected, "{declared}");
        }
    }
}
