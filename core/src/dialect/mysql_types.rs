//! MariaDB/MySQL column types → canonical types, from
//! `information_schema.columns` ([`COLUMNS_SQL`]): shared by the MariaDB
//! adapter and the ODBC adapter's generic profile on MariaDB and MySQL
//! (whose driver's `SQLColumns` loses fractional seconds, `tinyint(1)`,
//! `json` and `uuid`).

use crate::types::CanonicalType;

/// A column as `information_schema.columns` declares it (names lowercase).
#[derive(Clone, Debug, Default)]
pub struct Declared<'a> {
    /// `data_type`, e.g. `varchar`.
    pub data_type: &'a str,
    /// `column_type`, e.g. `int(10) unsigned`, `tinyint(1)`.
    pub column_type: &'a str,
    /// `character_maximum_length` (characters; bytes for binary types).
    pub length: Option<u32>,
    /// `numeric_precision`.
    pub precision: Option<u32>,
    /// `numeric_scale`.
    pub scale: Option<u32>,
    /// `datetime_precision`.
    pub fraction: Option<u32>,
    /// `character_set_name`.
    pub charset: Option<&'a str>,
}

/// The columns of table `?` in the current database, in column order:
/// name, `column_type`, `data_type`, nullable (1/0), character set,
/// collation, length, precision, scale, fractional digits, default.
pub const COLUMNS_SQL: &str = "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), \
     CAST(data_type AS CHAR), is_nullable = 'YES', CAST(character_set_name AS CHAR), \
     CAST(collation_name AS CHAR), CAST(LEAST(character_maximum_length, 4294967295) AS SIGNED), \
     CAST(numeric_precision AS SIGNED), CAST(numeric_scale AS SIGNED), \
     CAST(datetime_precision AS SIGNED), CAST(column_default AS CHAR) \
     FROM information_schema.columns \
     WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position";

/// One row of [`COLUMNS_SQL`], as either adapter reads it.
#[derive(Clone, Debug, Default)]
pub struct ColumnRow {
    /// `column_name`.
    pub name: String,
    /// `column_type`, as MariaDB spells it.
    pub column_type: String,
    /// `data_type`.
    pub data_type: String,
    /// `is_nullable`.
    pub nullable: bool,
    /// `character_set_name`.
    pub charset: Option<String>,
    /// `collation_name`.
    pub collation: Option<String>,
    /// `character_maximum_length`.
    pub length: Option<i64>,
    /// `numeric_precision`.
    pub precision: Option<i64>,
    /// `numeric_scale`.
    pub scale: Option<i64>,
    /// `datetime_precision`.
    pub fraction: Option<i64>,
    /// `column_default`.
    pub default: Option<String>,
}

impl ColumnRow {
    /// The column's canonical type ([`canonical`]).
    pub fn canonical(&self) -> Option<CanonicalType> {
        let number = |n: Option<i64>| n.map(|n| n.clamp(0, u32::MAX as i64) as u32);
        canonical(&Declared {
            data_type: &self.data_type.to_ascii_lowercase(),
            column_type: &self.column_type.to_ascii_lowercase(),
            length: number(self.length),
            precision: number(self.precision),
            scale: number(self.scale),
            fraction: number(self.fraction),
            charset: self.charset.as_deref(),
        })
    }

    /// The type as DDL spells it, with the character set and collation of
    /// a character column.
    pub fn sql_type(&self) -> String {
        match (&self.charset, &self.collation) {
            (Some(cs), Some(co)) => format!("{} CHARACTER SET {cs} COLLATE {co}", self.column_type),
            _ => self.column_type.clone(),
        }
    }

    /// The default expression, if any: MariaDB prints a missing default of
    /// a nullable column as NULL.
    pub fn default(&self) -> Option<&str> {
        self.default
            .as_deref()
            .filter(|d| !d.eq_ignore_ascii_case("NULL"))
    }
}

/// Whether a character set stores every Unicode character (utf8mb3 lacks
/// the 4-byte ones).
fn stores_all_unicode(charset: Option<&str>) -> bool {
    charset.is_some_and(|c| matches!(c, "utf8mb4" | "utf16" | "utf16le" | "utf32"))
}

/// The canonical type of a declared column; `None` for types without one
/// (`enum`, `set`, `bit`, spatial types).
pub fn canonical(d: &Declared<'_>) -> Option<CanonicalType> {
    use CanonicalType as C;
    let unsigned = d.column_type.contains("unsigned");
    let unicode = stores_all_unicode(d.charset);
    let length = d.length.unwrap_or(0);
    let fraction = d.fraction.unwrap_or(0);
    Some(match d.data_type {
        // MySQL's own convention for booleans.
        "tinyint" if d.column_type.starts_with("tinyint(1)") && !unsigned => C::Bool,
        "tinyint" if unsigned => C::Int16,
        "tinyint" => C::Int8,
        "smallint" if unsigned => C::Int32,
        "smallint" => C::Int16,
        "mediumint" => C::Int32,
        "int" | "integer" if unsigned => C::Int64,
        "int" | "integer" => C::Int32,
        "bigint" if unsigned => C::Decimal {
            precision: Some(20),
            scale: 0,
        },
        "bigint" => C::Int64,
        "year" => C::Int16,
        "decimal" | "numeric" => C::Decimal {
            precision: d.precision,
            scale: d.scale.unwrap_or(0),
        },
        "float" => C::Float32,
        "double" | "real" => C::Float64,
        "char" => C::Char { length, unicode },
        "varchar" => C::Varchar { length, unicode },
        "tinytext" | "text" | "mediumtext" | "longtext" => C::Text { unicode },
        "binary" => C::Binary { length },
        "varbinary" => C::Varbinary { length },
        "tinyblob" | "blob" | "mediumblob" | "longblob" => C::Blob,
        "date" => C::Date,
        "time" => C::Time { fraction },
        "datetime" => C::Timestamp {
            fraction,
            time_zone: false,
        },
        // Stored as UTC and converted to the session's time zone: an instant.
        "timestamp" => C::Timestamp {
            fraction,
            time_zone: true,
        },
        "json" => C::Json,
        "uuid" => C::Uuid,
        _ => return None,
    })
}

/// The default type rules towards this database (see
/// `hetsync_core::mapping::rules`): which type a column of another database
/// gets here.
pub const DEFAULT_TYPE_RULES: &str = include_str!("mysql_types.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use CanonicalType as C;

    fn of(data_type: &str, column_type: &str) -> Option<CanonicalType> {
        canonical(&Declared {
            data_type,
            column_type,
            ..Declared::default()
        })
    }

    #[test]
    fn integers_follow_width_and_sign() {
        assert_eq!(of("tinyint", "tinyint(1)"), Some(C::Bool));
        assert_eq!(of("tinyint", "tinyint(4)"), Some(C::Int8));
        assert_eq!(of("tinyint", "tinyint(3) unsigned"), Some(C::Int16));
        assert_eq!(of("int", "int(10) unsigned"), Some(C::Int64));
        assert_eq!(of("int", "int(11)"), Some(C::Int32));
        assert_eq!(
            of("bigint", "bigint(20) unsigned"),
            Some(C::Decimal {
                precision: Some(20),
                scale: 0
            })
        );
        assert_eq!(of("enum", "enum('a','b')"), None);
    }

    #[test]
    fn text_knows_its_length_and_character_set() {
        let varchar = |charset| {
            canonical(&Declared {
                data_type: "varchar",
                column_type: "varchar(20)",
                length: Some(20),
                charset: Some(charset),
                ..Declared::default()
            })
        };
        assert_eq!(
            varchar("utf8mb4"),
            Some(C::Varchar {
                length: 20,
                unicode: true
            })
        );
        assert_eq!(
            varchar("utf8mb3"),
            Some(C::Varchar {
                length: 20,
                unicode: false
            })
        );
        assert_eq!(
            varchar("latin1"),
            Some(C::Varchar {
                length: 20,
                unicode: false
            })
        );
        let decimal = Declared {
            data_type: "decimal",
            column_type: "decimal(12,4)",
            precision: Some(12),
            scale: Some(4),
            ..Declared::default()
        };
        assert_eq!(
            canonical(&decimal),
            Some(C::Decimal {
                precision: Some(12),
                scale: 4
            })
        );
        let stamp = Declared {
            data_type: "timestamp",
            column_type: "timestamp(3)",
            fraction: Some(3),
            ..Declared::default()
        };
        assert_eq!(
            canonical(&stamp),
            Some(C::Timestamp {
                fraction: 3,
                time_zone: true
            })
        );
    }
}
