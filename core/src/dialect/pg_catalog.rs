//! What PostgreSQL's catalog says, for every adapter that speaks
//! PostgreSQL's SQL (the PostgreSQL adapter, and the ODBC adapter's
//! `kingbase` profile): the dictionary queries, how a column's values are
//! read, and which canonical type each native type is.

use super::postgres::Postgres;
use super::{ColumnSql, Dialect};
use crate::schema::{group_keys, ColumnShape, ForeignKey, TableShape};
use crate::sql::quote_ident;
use crate::types::CanonicalType;

/// The default type rules towards PostgreSQL (see
/// [`crate::mapping::rules`]): which type a column of another database
/// gets here.
pub const DEFAULT_TYPE_RULES: &str = include_str!("postgres_types.toml");

/// How a column's values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Bool,
    Bytea,
    /// Read as text (text types, and every other type).
    Text,
}

impl ValueKind {
    /// How a column of type `typname` (`pg_type.typname`) is read.
    pub fn of(typname: &str) -> ValueKind {
        match typname {
            "int2" => ValueKind::Int2,
            "int4" => ValueKind::Int4,
            "int8" => ValueKind::Int8,
            "float4" => ValueKind::Float4,
            "float8" => ValueKind::Float8,
            "bool" => ValueKind::Bool,
            "bytea" => ValueKind::Bytea,
            _ => ValueKind::Text,
        }
    }
}

/// One column of a table, as [`Postgres::columns_sql`] describes it.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    /// `format_type()` output, usable in DDL (e.g. `numeric(12,4)`).
    pub sql_type: String,
    pub kind: ValueKind,
    pub nullable: bool,
    pub canonical: Option<CanonicalType>,
}

impl Column {
    /// A column from the fields of a [`Postgres::columns_sql`] row: name,
    /// `format_type()`, `typname`, nullable, `atttypmod`, and whether the
    /// database stores any Unicode text.
    pub fn new(
        name: String,
        sql_type: String,
        typname: &str,
        nullable: bool,
        typmod: i32,
        unicode: bool,
    ) -> Column {
        Column {
            name,
            sql_type,
            kind: ValueKind::of(typname),
            nullable,
            canonical: canonical(typname, typmod, unicode),
        }
    }

    /// The column as templates need it.
    pub fn sql(&self) -> ColumnSql {
        ColumnSql {
            text: self.kind == ValueKind::Text,
            name: self.name.clone(),
            sql_type: self.sql_type.clone(),
        }
    }

    /// The select-list expression that reads the column.
    pub fn select_expr(&self) -> String {
        let c = quote_ident(&self.name);
        match self.kind {
            // money prints with the locale's currency sign; numeric does not.
            ValueKind::Text if self.sql_type == "money" => format!("{c}::numeric::text"),
            ValueKind::Text => format!("{c}::text"),
            _ => c,
        }
    }
}

/// A table's shape from what the catalog queries returned: its columns, the
/// primary key, the unique keys (key id, column), the foreign keys (key id,
/// referenced table, column, referenced column) and the column defaults
/// (column, expression).
pub fn table_shape(
    name: &str,
    columns: Vec<Column>,
    primary_key: Vec<String>,
    unique: Vec<(i64, String)>,
    foreign: Vec<(i64, String, String, Option<String>)>,
    defaults: Vec<(String, String)>,
) -> TableShape {
    TableShape {
        name: name.to_string(),
        primary_key,
        unique_keys: group_keys(unique),
        foreign_keys: ForeignKey::group(foreign),
        columns: columns
            .into_iter()
            .map(|c| ColumnShape {
                default: defaults
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map(|(_, d)| d.clone()),
                name: c.name,
                native_type: c.sql_type,
                canonical: c.canonical,
                nullable: c.nullable,
            })
            .collect(),
    }
}

impl Postgres {
    /// The columns of the table named by the parameter, in attribute
    /// order: name, `format_type()`, `typname`, nullable, `atttypmod`,
    /// whether the database stores any Unicode text.
    pub fn columns_sql(&self) -> String {
        format!(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text, NOT a.attnotnull, \
                    a.atttypmod, current_setting('server_encoding') = 'UTF8' \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             WHERE a.attrelid = to_regclass(quote_ident({})) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            self.placeholder(1)
        )
    }

    /// The primary-key columns of the table named by the parameter, in key order.
    pub fn primary_key_sql(&self) -> String {
        format!(
            "SELECT a.attname::text FROM pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = to_regclass(quote_ident({})) AND i.indisprimary ORDER BY k.position",
            self.placeholder(1)
        )
    }

    /// The other unique keys of the table named by the parameter: index
    /// id, column, in key order.
    pub fn unique_keys_sql(&self) -> String {
        format!(
            "SELECT i.indexrelid::int8, a.attname::text FROM pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = to_regclass(quote_ident({})) AND i.indisunique AND NOT i.indisprimary \
             ORDER BY i.indexrelid, k.position",
            self.placeholder(1)
        )
    }

    /// The foreign keys of the table named by the parameter: constraint
    /// id, referenced table, column, referenced column, in key order.
    pub fn foreign_keys_sql(&self) -> String {
        format!(
            "SELECT c.oid::int8, (SELECT relname FROM pg_class WHERE oid = c.confrelid)::text, a.attname::text, f.attname::text \
             FROM pg_constraint c \
             CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, fattnum, position) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
             JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = k.fattnum \
             WHERE c.conrelid = to_regclass(quote_ident({})) AND c.contype = 'f' \
             ORDER BY c.oid, k.position",
            self.placeholder(1)
        )
    }

    /// The column defaults of the table named by the parameter: column, expression.
    pub fn defaults_sql(&self) -> String {
        format!(
            "SELECT a.attname::text, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
             JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
             WHERE d.adrelid = to_regclass(quote_ident({}))",
            self.placeholder(1)
        )
    }

    /// The tables of the current schema, by name.
    pub fn list_tables_sql(&self) -> &'static str {
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1"
    }
}

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
