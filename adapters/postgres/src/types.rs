//! PostgreSQL types → canonical types, from the type name and the
//! attribute's type modifier (`atttypmod`), as `format_type` reads them.

use hetsync_core::types::CanonicalType;

/// Fractional-second digits of a time or timestamp modifier (6 when unset).
fn fraction(typmod: i32) -> u32 {
    if typmod < 0 {
        6
    } else {
        typmod as u32
    }
}

/// The canonical type of a column of type `typname` with modifier `typmod`,
/// in a database whose encoding stores any Unicode text (`unicode`).
pub fn canonical(typname: &str, typmod: i32, unicode: bool) -> Option<CanonicalType> {
    use CanonicalType as C;
    Some(match typname {
        "bool" => C::Bool,
        "int2" => C::Int16,
        "int4" => C::Int32,
        "int8" => C::Int64,
        "numeric" if typmod < 4 => C::Decimal {
            precision: None,
            scale: 0,
        },
        "numeric" => C::Decimal {
            precision: Some(((typmod - 4) >> 16) as u32 & 0xffff),
            scale: (typmod - 4) as u32 & 0xffff,
        },
        "float4" => C::Float32,
        "float8" => C::Float64,
        "money" => C::Money { scale: 2 },
        "bpchar" => C::Char {
            length: if typmod < 4 { 1 } else { (typmod - 4) as u32 },
            unicode,
        },
        "varchar" if typmod < 4 => C::Text { unicode },
        "varchar" => C::Varchar {
            length: (typmod - 4) as u32,
            unicode,
        },
        "text" => C::Text { unicode },
        "bytea" => C::Blob,
        "date" => C::Date,
        "time" => C::Time {
            fraction: fraction(typmod),
        },
        "timestamp" => C::Timestamp {
            fraction: fraction(typmod),
            time_zone: false,
        },
        "timestamptz" => C::Timestamp {
            fraction: fraction(typmod),
            time_zone: true,
        },
        "interval" => C::Interval,
        "uuid" => C::Uuid,
        "json" | "jsonb" => C::Json,
        _ => return None,
    })
}

/// The default type rules towards this database (see
/// `hetsync_core::mapping::rules`): which type a column of another database
/// gets here.
pub const DEFAULT_TYPE_RULES: &str = include_str!("default_types.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use CanonicalType as C;

    #[test]
    fn names_and_modifiers_map() {
        // numeric(12,4): ((12 << 16) | 4) + 4.
        assert_eq!(
            canonical("numeric", (12 << 16 | 4) + 4, true),
            Some(C::Decimal {
                precision: Some(12),
                scale: 4
            })
        );
        assert_eq!(
            canonical("numeric", -1, true),
            Some(C::Decimal {
                precision: None,
                scale: 0
            })
        );
        assert_eq!(
            canonical("varchar", 24, false),
            Some(C::Varchar {
                length: 20,
                unicode: false
            })
        );
        assert_eq!(
            canonical("varchar", -1, true),
            Some(C::Text { unicode: true })
        );
        assert_eq!(
            canonical("bpchar", 6, true),
            Some(C::Char {
                length: 2,
                unicode: true
            })
        );
        assert_eq!(
            canonical("timestamptz", 3, true),
            Some(C::Timestamp {
                fraction: 3,
                time_zone: true
            })
        );
        assert_eq!(
            canonical("timestamp", -1, true),
            Some(C::Timestamp {
                fraction: 6,
                time_zone: false
            })
        );
        assert_eq!(canonical("money", -1, true), Some(C::Money { scale: 2 }));
        assert_eq!(canonical("jsonb", -1, true), Some(C::Json));
        assert_eq!(canonical("point", -1, true), None);
    }
}
