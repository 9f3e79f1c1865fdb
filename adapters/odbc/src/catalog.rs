//! The generic and dameng profiles' catalog, asked through the driver's catalog
//! functions (`SQLTables`, `SQLColumns`, `SQLPrimaryKeys`,
//! `SQLForeignKeys`) instead of SQL: the one catalog every ODBC driver has.
//! Catalog arguments are patterns (`_` and `%` match anything), so every
//! answer is filtered to the exact name. Column types map by the
//! database's own rules where hetsync knows them ([`NativeTypes`]), else
//! by their ODBC SQL types.

use crate::connection::Failure;
use crate::profile::NativeTypes;
use crate::values::{meta_rows, parameters};
use hetsync_core::dialect::pg_catalog::{Column, ValueKind};
use hetsync_core::dialect::snapshot::SNAPSHOT_PREFIX;
use hetsync_core::dialect::{mysql_types, sqlite_types};
use hetsync_core::types::CanonicalType;
use hetsync_core::value::Value;
use odbc_api::handles::AsHandle;
use odbc_api::{sys, Connection, CursorImpl};

#[link(name = "odbc")]
extern "system" {
    /// ODBC 1.0's `SQLPrimaryKeys`, which odbc-sys does not declare.
    fn SQLPrimaryKeys(
        statement: sys::HStmt,
        catalog: *const u8,
        catalog_len: i16,
        schema: *const u8,
        schema_len: i16,
        table: *const u8,
        table_len: i16,
    ) -> sys::SqlReturn;
}

/// The text of a catalog row's field (1-based), empty for NULL.
fn text(row: &[Value], field: usize) -> String {
    match row.get(field - 1) {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Int(i)) => i.to_string(),
        _ => String::new(),
    }
}

/// The integer of a catalog row's field (1-based).
fn int(row: &[Value], field: usize) -> Option<i64> {
    match row.get(field - 1) {
        Some(Value::Int(i)) => Some(*i),
        Some(Value::Text(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The connection's current catalog (its database), empty where the
/// driver has none: every catalog call looks in it alone, not in every
/// database on the server.
fn current(conn: &Connection<'_>) -> String {
    conn.current_catalog().unwrap_or_default()
}

/// The names of the base tables.
pub(crate) fn tables(conn: &Connection<'_>) -> Result<Vec<String>, Failure> {
    let rows = meta_rows(conn.tables(&current(conn), "", "%", "TABLE")?)?;
    Ok(rows.iter().map(|r| text(r, 3)).collect())
}

/// Whether a base table of this exact name exists.
pub(crate) fn table_exists(conn: &Connection<'_>, table: &str) -> Result<bool, Failure> {
    let rows = meta_rows(conn.tables(&current(conn), "", table, "TABLE")?)?;
    Ok(rows.iter().any(|r| text(r, 3) == table))
}

/// One column as `SQLColumns` describes it.
struct Described {
    name: String,
    data_type: i64,
    type_name: String,
    size: Option<i64>,
    digits: Option<i64>,
    nullable: bool,
    default: Option<String>,
}

/// The columns of a table in column order, as `SQLColumns` says.
fn described(conn: &Connection<'_>, table: &str) -> Result<Vec<Described>, Failure> {
    let rows = meta_rows(conn.columns(&current(conn), "", table, "%")?)?;
    let mut out: Vec<(i64, Described)> = rows
        .iter()
        .filter(|r| text(r, 3) == table)
        .map(|r| {
            let default = text(r, 13);
            (
                int(r, 17).unwrap_or(0),
                Described {
                    name: text(r, 4),
                    data_type: int(r, 5).unwrap_or(0),
                    type_name: text(r, 6),
                    size: int(r, 7),
                    digits: int(r, 9),
                    nullable: int(r, 11) != Some(0),
                    default: (!default.is_empty()).then_some(default),
                },
            )
        })
        .collect();
    out.sort_by_key(|(position, _)| *position);
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// Whether a table has a column of this exact name.
pub(crate) fn column_exists(
    conn: &Connection<'_>,
    table: &str,
    column: &str,
) -> Result<bool, Failure> {
    Ok(described(conn, table)?.iter().any(|c| c.name == column))
}

/// The ODBC SQL data types (`SQL_…`) hetsync reads and maps.
mod sql_type {
    pub const CHAR: i64 = 1;
    pub const NUMERIC: i64 = 2;
    pub const DECIMAL: i64 = 3;
    pub const INTEGER: i64 = 4;
    pub const SMALLINT: i64 = 5;
    pub const FLOAT: i64 = 6;
    pub const REAL: i64 = 7;
    pub const DOUBLE: i64 = 8;
    pub const VARCHAR: i64 = 12;
    pub const TYPE_DATE: i64 = 91;
    pub const TYPE_TIME: i64 = 92;
    pub const TYPE_TIMESTAMP: i64 = 93;
    pub const LONGVARCHAR: i64 = -1;
    pub const BINARY: i64 = -2;
    pub const VARBINARY: i64 = -3;
    pub const LONGVARBINARY: i64 = -4;
    pub const BIGINT: i64 = -5;
    pub const TINYINT: i64 = -6;
    pub const BIT: i64 = -7;
    pub const WCHAR: i64 = -8;
    pub const WVARCHAR: i64 = -9;
    pub const WLONGVARCHAR: i64 = -10;
    pub const GUID: i64 = -11;
    /// `SQL_C_SBIGINT`, a C type code: the SQLite ODBC driver's type of
    /// `INTEGER` columns under `BigInt=1`.
    pub const C_SBIGINT: i64 = -25;
}

/// A declared length that fits the canonical types' `u32`.
fn length(size: Option<i64>) -> Option<u32> {
    size.and_then(|s| u32::try_from(s).ok()).filter(|&s| s > 0)
}

/// How a column's values are read, and the canonical type that holds
/// them, from its ODBC SQL data type.
fn mapped(c: &Described) -> (ValueKind, Option<CanonicalType>) {
    use sql_type as t;
    use CanonicalType as C;
    let unicode = true;
    let text = |canonical| (ValueKind::Text, Some(canonical));
    match c.data_type {
        t::BIT => (ValueKind::Bool, Some(C::Bool)),
        t::TINYINT | t::SMALLINT => (ValueKind::Int2, Some(C::Int16)),
        t::INTEGER => (ValueKind::Int4, Some(C::Int32)),
        t::BIGINT | t::C_SBIGINT => (ValueKind::Int8, Some(C::Int64)),
        t::REAL => (ValueKind::Float4, Some(C::Float32)),
        t::FLOAT | t::DOUBLE => (ValueKind::Float8, Some(C::Float64)),
        t::NUMERIC | t::DECIMAL => text(C::Decimal {
            precision: length(c.size),
            scale: c.digits.and_then(|d| u32::try_from(d).ok()).unwrap_or(0),
        }),
        t::CHAR | t::WCHAR => match length(c.size) {
            Some(length) => text(C::Char { length, unicode }),
            None => text(C::Text { unicode }),
        },
        t::VARCHAR | t::WVARCHAR => match length(c.size) {
            Some(length) => text(C::Varchar { length, unicode }),
            None => text(C::Text { unicode }),
        },
        t::LONGVARCHAR | t::WLONGVARCHAR => text(C::Text { unicode }),
        t::BINARY => match length(c.size) {
            Some(length) => (ValueKind::Bytea, Some(C::Binary { length })),
            None => (ValueKind::Bytea, Some(C::Blob)),
        },
        t::VARBINARY => match length(c.size) {
            Some(length) => (ValueKind::Bytea, Some(C::Varbinary { length })),
            None => (ValueKind::Bytea, Some(C::Blob)),
        },
        t::LONGVARBINARY => (ValueKind::Bytea, Some(C::Blob)),
        t::TYPE_DATE => text(C::Date),
        t::TYPE_TIME => text(C::Time { fraction: 0 }),
        t::TYPE_TIMESTAMP => text(C::Timestamp {
            fraction: c.digits.and_then(|d| u32::try_from(d).ok()).unwrap_or(0),
            time_zone: false,
        }),
        t::GUID => text(C::Uuid),
        // Read as the driver prints it; no canonical type to map it by.
        _ => (ValueKind::Text, None),
    }
}

/// The type as DDL spells it: the driver's type name, with the length
/// (and scale) where the type takes one.
fn sql_type(c: &Described) -> String {
    use sql_type as t;
    let sized = [
        t::CHAR,
        t::WCHAR,
        t::VARCHAR,
        t::WVARCHAR,
        t::BINARY,
        t::VARBINARY,
    ];
    match (c.data_type, length(c.size)) {
        (t::NUMERIC | t::DECIMAL, Some(p)) => {
            format!("{}({p},{})", c.type_name, c.digits.unwrap_or(0))
        }
        (ty, Some(n)) if sized.contains(&ty) && !c.type_name.contains('(') => {
            format!("{}({n})", c.type_name)
        }
        _ => c.type_name.clone(),
    }
}

/// How values of a canonical type are read (text where there is none).
fn kind_of(canonical: Option<&CanonicalType>) -> ValueKind {
    use CanonicalType as C;
    match canonical {
        Some(C::Bool) => ValueKind::Bool,
        Some(C::Int8 | C::Int16) => ValueKind::Int2,
        Some(C::Int32) => ValueKind::Int4,
        Some(C::Int64) => ValueKind::Int8,
        Some(C::Float32) => ValueKind::Float4,
        Some(C::Float64) => ValueKind::Float8,
        Some(C::Binary { .. } | C::Varbinary { .. } | C::Blob) => ValueKind::Bytea,
        _ => ValueKind::Text,
    }
}

/// An integral decimal that an `i64` holds (scale 0, up to 18 digits)
/// read as an integer, keeping its canonical type.
fn integral(mapped: (ValueKind, Option<CanonicalType>)) -> (ValueKind, Option<CanonicalType>) {
    match mapped {
        (
            _,
            canonical @ Some(CanonicalType::Decimal {
                precision: Some(1..=18),
                scale: 0,
            }),
        ) => (ValueKind::Int8, canonical),
        other => other,
    }
}

/// The columns of a table in column order (empty when there is no such
/// table), with their defaults, described as `types` says.
pub(crate) fn columns(
    conn: &Connection<'_>,
    table: &str,
    types: NativeTypes,
) -> Result<(Vec<Column>, Defaults), Failure> {
    if types == NativeTypes::Mysql {
        return mysql_columns(conn, table);
    }
    let described = described(conn, table)?;
    let defaults = described
        .iter()
        .filter_map(|c| Some((c.name.clone(), c.default.clone()?)))
        .collect();
    let columns = described
        .iter()
        .map(|c| {
            let (kind, canonical) = match types {
                // SQLite's driver reports the declaration whole
                // (`DECIMAL(15,4)`, typed VARCHAR of size 4).
                NativeTypes::Sqlite => {
                    let canonical = sqlite_types::canonical(&c.type_name);
                    (kind_of(Some(&canonical)), Some(canonical))
                }
                NativeTypes::Dameng => integral(mapped(c)),
                NativeTypes::Mysql | NativeTypes::Driver => mapped(c),
            };
            Column {
                name: c.name.clone(),
                sql_type: sql_type(c),
                kind,
                nullable: c.nullable,
                canonical,
            }
        })
        .collect();
    Ok((columns, defaults))
}

/// The columns of a MariaDB or MySQL table from `information_schema`
/// ([`mysql_types::COLUMNS_SQL`]), with their defaults.
fn mysql_columns(conn: &Connection<'_>, table: &str) -> Result<(Vec<Column>, Defaults), Failure> {
    let params = parameters(vec![Value::Text(table.to_string())]);
    let Some(cursor) = conn.execute(mysql_types::COLUMNS_SQL, &params[..], None)? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let (mut columns, mut defaults) = (Vec::new(), Vec::new());
    for r in meta_rows(cursor)? {
        let some_text = |field| Some(text(&r, field)).filter(|t| !t.is_empty());
        let row = mysql_types::ColumnRow {
            name: text(&r, 1),
            column_type: text(&r, 2),
            data_type: text(&r, 3),
            nullable: int(&r, 4) == Some(1),
            charset: some_text(5),
            collation: some_text(6),
            length: int(&r, 7),
            precision: int(&r, 8),
            scale: int(&r, 9),
            fraction: int(&r, 10),
            default: some_text(11),
        };
        if let Some(default) = row.default() {
            defaults.push((row.name.clone(), default.to_string()));
        }
        let canonical = row.canonical();
        columns.push(Column {
            sql_type: row.sql_type(),
            kind: kind_of(canonical.as_ref()),
            nullable: row.nullable,
            canonical,
            name: row.name,
        });
    }
    Ok((columns, defaults))
}

/// `(column, default)` pairs of the columns that have a default.
pub(crate) type Defaults = Vec<(String, String)>;

/// One row per column of a foreign key: `(key, referenced table, column,
/// referenced column)`, `key` numbering the keys.
pub(crate) type ForeignKeyColumns = Vec<(i64, String, String, Option<String>)>;

/// The primary key's columns in key order, by `SQLPrimaryKeys`.
pub(crate) fn primary_key(conn: &Connection<'_>, table: &str) -> Result<Vec<String>, Failure> {
    let catalog = current(conn);
    let statement = conn.preallocate()?.into_statement();
    let too_long = |name: &str| Failure::Decode(format!("the name '{name}' is too long"));
    let len = i16::try_from(table.len()).map_err(|_| too_long(table))?;
    let catalog_len = i16::try_from(catalog.len()).map_err(|_| too_long(&catalog))?;
    // SAFETY: the handle is a live statement handle this function owns;
    // the catalog and table names are passed with their lengths and
    // outlive the call; the schema is a null pointer (any).
    let done = unsafe {
        SQLPrimaryKeys(
            statement.as_handle() as sys::HStmt,
            catalog.as_ptr(),
            catalog_len,
            std::ptr::null(),
            0,
            table.as_ptr(),
            len,
        )
    };
    if !matches!(
        done,
        sys::SqlReturn::SUCCESS | sys::SqlReturn::SUCCESS_WITH_INFO
    ) {
        return Err(Failure::Decode(format!(
            "the driver could not list the primary key of '{table}' (SQLPrimaryKeys returned {done:?})"
        )));
    }
    // SAFETY: SQLPrimaryKeys succeeded, so the statement holds its result set.
    let cursor = unsafe { CursorImpl::new(statement) };
    let mut keys: Vec<(i64, String)> = meta_rows(cursor)?
        .iter()
        .filter(|r| text(r, 3) == table)
        .map(|r| (int(r, 5).unwrap_or(0), text(r, 4)))
        .collect();
    keys.sort();
    Ok(keys.into_iter().map(|(_, c)| c).collect())
}

/// The foreign keys of a table.
pub(crate) fn foreign_keys(
    conn: &Connection<'_>,
    table: &str,
) -> Result<ForeignKeyColumns, Failure> {
    let catalog = current(conn);
    let rows = meta_rows(conn.foreign_keys(&catalog, "", "", &catalog, "", table)?)?;
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| text(r, 7) == table) {
        // FK_NAME, or the referenced table where the driver names none.
        let name = match text(r, 12) {
            n if n.is_empty() => text(r, 3),
            n => n,
        };
        let key = match names.iter().position(|n| *n == name) {
            Some(k) => k,
            None => {
                names.push(name);
                names.len() - 1
            }
        };
        out.push((
            i64::try_from(key).unwrap_or(i64::MAX),
            text(r, 3),
            text(r, 8),
            Some(text(r, 4)).filter(|c| !c.is_empty()),
        ));
    }
    Ok(out)
}

/// hetsync's capture objects: the snapshot tables of capture by snapshot
/// difference, as `(kind, name)` rows.
pub(crate) fn capture_objects(conn: &Connection<'_>) -> Result<Vec<Vec<Value>>, Failure> {
    Ok(tables(conn)?
        .into_iter()
        .filter(|t| t.starts_with(SNAPSHOT_PREFIX))
        .map(|t| vec![Value::Text("TABLE".into()), Value::Text(t)])
        .collect())
}

/// The snapshot tables with their definitions (each column's name and
/// type, as the driver describes them), as `(object, definition)` rows.
pub(crate) fn capture_definitions(conn: &Connection<'_>) -> Result<Vec<Vec<Value>>, Failure> {
    let mut out = Vec::new();
    for table in tables(conn)?
        .into_iter()
        .filter(|t| t.starts_with(SNAPSHOT_PREFIX))
    {
        let definition: Vec<String> = described(conn, &table)?
            .iter()
            .map(|c| format!("{} {}", c.name, sql_type(c)))
            .collect();
        out.push(vec![
            Value::Text(format!("table {table}")),
            Value::Text(definition.join(", ")),
        ]);
    }
    Ok(out)
}
