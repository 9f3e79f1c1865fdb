//! SQL Server column types → canonical types, from `sys.columns`
//! ([`COLUMNS_SQL`]), for the SQL Server adapter's dictionary.
//!
//! Lengths are what always fits: `sys.columns.max_length` counts bytes, so
//! an `nvarchar(n)` holds `n` characters, and a `varchar(n)` holds `n`
//! characters of a single-byte code page, `n / 2` of a double-byte one (GBK,
//! Big5, Shift-JIS, the code pages of `Chinese_PRC_CI_AS` and its kin) and
//! `n / 4` under a UTF-8 collation. Only a UTF-8 collation stores every
//! Unicode character in a `char`/`varchar`.

use crate::types::CanonicalType;

/// The columns of table `@P1` in the current schema, in column order: name,
/// type name (the base type of an alias type: `sysname` is `nvarchar`,
/// `rowversion` is `timestamp`), `max_length` in bytes (-1 for `max`),
/// precision, scale, nullable (1/0), collation, the collation's code page,
/// the default's definition, computed (1/0).
pub const COLUMNS_SQL: &str = "SELECT c.name, TYPE_NAME(c.system_type_id), \
     CAST(c.max_length AS INT), CAST(c.precision AS INT), CAST(c.scale AS INT), \
     CAST(c.is_nullable AS INT), c.collation_name, \
     CAST(COLLATIONPROPERTY(c.collation_name, 'CodePage') AS INT), \
     OBJECT_DEFINITION(c.default_object_id), CAST(c.is_computed AS INT) \
     FROM sys.columns AS c \
     WHERE c.object_id = OBJECT_ID(QUOTENAME(SCHEMA_NAME()) + N'.' + QUOTENAME(@P1)) \
     ORDER BY c.column_id";

/// The code page of SQL Server's UTF-8 collations (`…_UTF8`, 2019 and later).
const UTF8_CODE_PAGE: i32 = 65001;

/// One row of [`COLUMNS_SQL`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnRow {
    /// `name`.
    pub name: String,
    /// The base type's name, lowercase (`nvarchar`, `datetime2`, …).
    pub type_name: String,
    /// `max_length`: bytes, -1 for `(max)` and `xml`.
    pub max_length: i32,
    /// `precision` (decimal digits of a number).
    pub precision: i32,
    /// `scale` (digits after the point; fractional-second digits of a time).
    pub scale: i32,
    /// `is_nullable`.
    pub nullable: bool,
    /// `collation_name` of a character column.
    pub collation: Option<String>,
    /// The collation's code page (0 for a Unicode-only collation).
    pub code_page: Option<i32>,
    /// The default's definition as SQL Server prints it (`((0))`).
    pub default: Option<String>,
    /// `is_computed`.
    pub computed: bool,
}

impl ColumnRow {
    /// Why this column cannot be synced, naming it: a `rowversion` is set
    /// by the server on every write and a computed column is never
    /// written, so neither can take a peer's value; a `text`, `ntext` or
    /// `image` column is invisible to the capture trigger (SQL Server keeps
    /// it out of `inserted` and `deleted`).
    pub fn refusal(&self, table: &str) -> Option<String> {
        let why = match self.type_name.as_str() {
            "timestamp" => "is a rowversion, which the server sets on every write",
            _ if self.computed => "is computed, and a computed column cannot be written",
            "text" => "is text, which a trigger cannot read (make it varchar(max))",
            "ntext" => "is ntext, which a trigger cannot read (make it nvarchar(max))",
            "image" => "is image, which a trigger cannot read (make it varbinary(max))",
            _ => return None,
        };
        Some(format!(
            "table '{table}': column '{}' {why}; leave it out of the sync (isDeleted=\"true\" in the mapping file, or a table without it)",
            self.name
        ))
    }

    /// The column's canonical type; `None` for types without one
    /// (`sql_variant`, `hierarchyid`, spatial types, `smalldatetime`, whose
    /// minutes would silently round another database's seconds).
    pub fn canonical(&self) -> Option<CanonicalType> {
        use CanonicalType as C;
        let bytes = u32::try_from(self.max_length).ok();
        let unicode = self.code_page == Some(UTF8_CODE_PAGE);
        let scale = u32::try_from(self.scale).unwrap_or(0);
        Some(match self.type_name.as_str() {
            "bit" => C::Bool,
            // 0–255: every value fits a 16-bit integer.
            "tinyint" | "smallint" => C::Int16,
            "int" => C::Int32,
            "bigint" => C::Int64,
            "decimal" | "numeric" => C::Decimal {
                precision: u32::try_from(self.precision).ok(),
                scale,
            },
            "money" | "smallmoney" => C::Money { scale: 4 },
            "real" => C::Float32,
            "float" => C::Float64,
            "char" | "varchar" | "nchar" | "nvarchar" => {
                let unicode = unicode || self.is_national();
                match (
                    bytes.map(|b| b / self.bytes_per_char()),
                    self.type_name.contains("var"),
                ) {
                    (None, _) => C::Text { unicode },
                    (Some(length), false) => C::Char { length, unicode },
                    (Some(length), true) => C::Varchar { length, unicode },
                }
            }
            "text" => C::Text { unicode },
            "ntext" | "xml" => C::Text { unicode: true },
            "binary" => C::Binary {
                length: bytes.unwrap_or(0),
            },
            "varbinary" => match bytes {
                Some(length) => C::Varbinary { length },
                None => C::Blob,
            },
            "image" => C::Blob,
            "date" => C::Date,
            "time" => C::Time { fraction: scale },
            // Ticks of 1/300 s: every hundredth of a second is exact, a
            // thousandth is rounded, so a source with more digits is
            // flagged lossy (fractional seconds).
            "datetime" => C::Timestamp {
                fraction: 2,
                time_zone: false,
            },
            "datetime2" => C::Timestamp {
                fraction: scale,
                time_zone: false,
            },
            "datetimeoffset" => C::Timestamp {
                fraction: scale,
                time_zone: true,
            },
            "uniqueidentifier" => C::Uuid,
            _ => return None,
        })
    }

    /// Whether this is an `nchar`, `nvarchar` or `ntext` (UTF-16) column.
    fn is_national(&self) -> bool {
        self.type_name.starts_with('n')
    }

    /// Bytes a character of this column may take: two in UTF-16, else as
    /// many as its code page's widest.
    fn bytes_per_char(&self) -> u32 {
        if self.is_national() {
            return 2;
        }
        match self.code_page {
            Some(UTF8_CODE_PAGE) => 4,
            // Shift-JIS, GBK, Korean, Big5.
            Some(932 | 936 | 949 | 950) => 2,
            _ => 1,
        }
    }

    /// The type as DDL spells it, with the collation of a character column
    /// (a staging table in tempdb compares keys in the column's collation,
    /// not tempdb's).
    pub fn sql_type(&self) -> String {
        let t = self.type_name.as_str();
        let length = |per_char: i32| match self.max_length {
            -1 => "max".to_string(),
            n => (n / per_char).to_string(),
        };
        let spelled = match t {
            "char" | "varchar" | "binary" | "varbinary" => format!("{t}({})", length(1)),
            "nchar" | "nvarchar" => format!("{t}({})", length(2)),
            "decimal" | "numeric" => format!("{t}({},{})", self.precision, self.scale),
            "time" | "datetime2" | "datetimeoffset" => format!("{t}({})", self.scale),
            "float" => format!("float({})", self.precision),
            _ => t.to_string(),
        };
        match &self.collation {
            Some(collation)
                if matches!(
                    t,
                    "char" | "varchar" | "nchar" | "nvarchar" | "text" | "ntext"
                ) =>
            {
                format!("{spelled} COLLATE {collation}")
            }
            _ => spelled,
        }
    }
}

/// The default type rules towards SQL Server (see
/// `hetsync_core::mapping::rules`): which type a column of another database
/// gets there.
pub const DEFAULT_TYPE_RULES: &str = include_str!("mssql_types.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::CanonicalType as C;

    fn column(type_name: &str, max_length: i32, precision: i32, scale: i32) -> ColumnRow {
        ColumnRow {
            name: "列".into(),
            type_name: type_name.into(),
            max_length,
            precision,
            scale,
            nullable: true,
            ..ColumnRow::default()
        }
    }

    fn text(type_name: &str, max_length: i32, collation: &str, code_page: i32) -> ColumnRow {
        ColumnRow {
            collation: Some(collation.into()),
            code_page: Some(code_page),
            ..column(type_name, max_length, 0, 0)
        }
    }

    /// The table, row by row, as `sys.columns` describes each type.
    #[test]
    fn every_type_of_the_table_maps_as_documented() {
        let cases = [
            (column("bit", 1, 1, 0), Some(C::Bool)),
            (column("tinyint", 1, 3, 0), Some(C::Int16)),
            (column("smallint", 2, 5, 0), Some(C::Int16)),
            (column("int", 4, 10, 0), Some(C::Int32)),
            (column("bigint", 8, 19, 0), Some(C::Int64)),
            (
                column("decimal", 9, 12, 4),
                Some(C::Decimal {
                    precision: Some(12),
                    scale: 4,
                }),
            ),
            (column("money", 8, 19, 4), Some(C::Money { scale: 4 })),
            (column("smallmoney", 4, 10, 4), Some(C::Money { scale: 4 })),
            (column("real", 4, 24, 0), Some(C::Float32)),
            (column("float", 8, 53, 0), Some(C::Float64)),
            (
                text("nvarchar", 80, "Chinese_PRC_CI_AS", 936),
                Some(C::Varchar {
                    length: 40,
                    unicode: true,
                }),
            ),
            (
                text("nvarchar", -1, "Chinese_PRC_CI_AS", 936),
                Some(C::Text { unicode: true }),
            ),
            (
                text("nchar", 20, "Latin1_General_CI_AS", 1252),
                Some(C::Char {
                    length: 10,
                    unicode: true,
                }),
            ),
            (
                text("varchar", 40, "Latin1_General_CI_AS", 1252),
                Some(C::Varchar {
                    length: 40,
                    unicode: false,
                }),
            ),
            (
                text("varchar", 40, "Chinese_PRC_CI_AS", 936),
                Some(C::Varchar {
                    length: 20,
                    unicode: false,
                }),
            ),
            (
                text("varchar", 40, "Latin1_General_100_CI_AS_SC_UTF8", 65001),
                Some(C::Varchar {
                    length: 10,
                    unicode: true,
                }),
            ),
            (
                text("char", 10, "Latin1_General_CI_AS", 1252),
                Some(C::Char {
                    length: 10,
                    unicode: false,
                }),
            ),
            (
                text("text", 16, "Latin1_General_CI_AS", 1252),
                Some(C::Text { unicode: false }),
            ),
            (
                text("ntext", 16, "Latin1_General_CI_AS", 1252),
                Some(C::Text { unicode: true }),
            ),
            (column("xml", -1, 0, 0), Some(C::Text { unicode: true })),
            (column("binary", 16, 0, 0), Some(C::Binary { length: 16 })),
            (
                column("varbinary", 100, 0, 0),
                Some(C::Varbinary { length: 100 }),
            ),
            (column("varbinary", -1, 0, 0), Some(C::Blob)),
            (column("image", 16, 0, 0), Some(C::Blob)),
            (column("date", 3, 10, 0), Some(C::Date)),
            (column("time", 5, 16, 3), Some(C::Time { fraction: 3 })),
            (
                column("datetime", 8, 23, 3),
                Some(C::Timestamp {
                    fraction: 2,
                    time_zone: false,
                }),
            ),
            (
                column("datetime2", 8, 27, 7),
                Some(C::Timestamp {
                    fraction: 7,
                    time_zone: false,
                }),
            ),
            (
                column("datetimeoffset", 10, 34, 6),
                Some(C::Timestamp {
                    fraction: 6,
                    time_zone: true,
                }),
            ),
            (column("uniqueidentifier", 16, 0, 0), Some(C::Uuid)),
            (column("smalldatetime", 4, 16, 0), None),
            (column("sql_variant", 8016, 0, 0), None),
            (column("geography", -1, 0, 0), None),
        ];
        for (row, want) in cases {
            assert_eq!(
                row.canonical(),
                want,
                "{}({})",
                row.type_name,
                row.max_length
            );
        }
    }

    /// A `datetime` takes hundredths exactly and is flagged lossy for a
    /// source with thousandths or finer.
    #[test]
    fn a_datetime_target_flags_finer_sources_as_lossy() {
        use crate::mapping::loss::{classify, Fidelity, Loss};
        let datetime = column("datetime", 8, 23, 3).canonical().unwrap();
        let millis = C::Timestamp {
            fraction: 3,
            time_zone: false,
        };
        assert_eq!(
            classify(&millis, &datetime),
            Fidelity::Lossy(vec![Loss::Fraction])
        );
        assert_eq!(classify(&datetime, &millis), Fidelity::Widening);
    }

    #[test]
    fn rowversion_and_computed_columns_are_refused_by_name() {
        let rowversion = ColumnRow {
            name: "版本".into(),
            ..column("timestamp", 8, 0, 0)
        };
        let message = rowversion.refusal("变电站表").expect("refused");
        assert!(
            message.contains("'变电站表'")
                && message.contains("'版本'")
                && message.contains("rowversion"),
            "{message}"
        );
        let computed = ColumnRow {
            computed: true,
            ..column("int", 4, 10, 0)
        };
        assert!(computed.refusal("t").unwrap().contains("computed"));
        for (old, new) in [
            ("text", "varchar(max)"),
            ("ntext", "nvarchar(max)"),
            ("image", "varbinary(max)"),
        ] {
            let refusal = column(old, 16, 0, 0).refusal("t").expect("refused");
            assert!(refusal.contains(new), "{refusal}");
        }
        assert_eq!(column("int", 4, 10, 0).refusal("t"), None);
    }

    #[test]
    fn types_are_spelled_for_ddl_with_their_collation() {
        assert_eq!(
            text("nvarchar", 80, "Chinese_PRC_CI_AS", 936).sql_type(),
            "nvarchar(40) COLLATE Chinese_PRC_CI_AS"
        );
        assert_eq!(
            text("varchar", -1, "Latin1_General_CI_AS", 1252).sql_type(),
            "varchar(max) COLLATE Latin1_General_CI_AS"
        );
        assert_eq!(column("varbinary", -1, 0, 0).sql_type(), "varbinary(max)");
        assert_eq!(column("decimal", 9, 12, 4).sql_type(), "decimal(12,4)");
        assert_eq!(column("datetime2", 8, 27, 6).sql_type(), "datetime2(6)");
        assert_eq!(column("float", 8, 53, 0).sql_type(), "float(53)");
        assert_eq!(
            column("uniqueidentifier", 16, 0, 0).sql_type(),
            "uniqueidentifier"
        );
    }

    #[test]
    fn the_columns_query_parses_as_t_sql() {
        use sqlparser::dialect::MsSqlDialect;
        use sqlparser::parser::Parser;
        Parser::parse_sql(&MsSqlDialect {}, COLUMNS_SQL).expect("T-SQL");
    }
}
