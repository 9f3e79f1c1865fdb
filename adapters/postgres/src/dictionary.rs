//! The data dictionary of a PostgreSQL database.

use crate::connection::PostgresNode;
use async_trait::async_trait;
use hetsync_core::adapter::TypeMapping;
use hetsync_core::schema::{
    group_keys, user_tables, ColumnShape, ForeignKey, SyncTable, TableShape,
};
use hetsync_core::types::CanonicalType;
use hetsync_core::Result;
use sqlx::{PgConnection, Row};

/// How a column's values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Bool,
    Bytea,
    /// Read as text (text types, and for now every other type).
    Text,
}

/// One column with its SQL type.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub name: String,
    /// `format_type()` output, usable in DDL (e.g. `numeric(12,4)`).
    pub sql_type: String,
    pub kind: Kind,
    pub nullable: bool,
    pub canonical: Option<CanonicalType>,
}

fn kind(typname: &str) -> Kind {
    match typname {
        "int2" => Kind::Int2,
        "int4" => Kind::Int4,
        "int8" => Kind::Int8,
        "float4" => Kind::Float4,
        "float8" => Kind::Float8,
        "bool" => Kind::Bool,
        "bytea" => Kind::Bytea,
        _ => Kind::Text,
    }
}

impl PostgresNode {
    /// Columns of a table in attribute order; empty when it does not exist.
    pub(crate) async fn columns_on(
        &self,
        conn: &mut PgConnection,
        table: &str,
    ) -> Result<Vec<Column>> {
        let rows = sqlx::query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text, NOT a.attnotnull, \
                    a.atttypmod, current_setting('server_encoding') = 'UTF8' \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("describing table '{table}'")))?;
        rows.iter()
            .map(|r| {
                let typname: String = r.try_get(2)?;
                Ok(Column {
                    name: r.try_get(0)?,
                    sql_type: r.try_get(1)?,
                    kind: kind(&typname),
                    nullable: r.try_get(3)?,
                    canonical: crate::types::canonical(&typname, r.try_get(4)?, r.try_get(5)?),
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(self.err(&format!("describing table '{table}'")))
    }

    /// The columns of a synced table, in the table's column order (cached
    /// until the next install).
    pub(crate) async fn sync_columns(
        &self,
        conn: &mut PgConnection,
        table: &SyncTable,
    ) -> Result<Vec<Column>> {
        if let Some(cached) = self.columns.get(&table.name) {
            return Ok(cached);
        }
        let all = self.columns_on(conn, &table.name).await?;
        table
            .pick_columns(&self.name, &all, |c| &c.name)
            .map(|found| self.columns.put(&table.name, found))
    }
}

#[async_trait]
impl TypeMapping for PostgresNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        let mut conn = self.conn.lock().await;
        let columns = self.columns_on(&mut conn, table).await?;
        if columns.is_empty() {
            return Ok(None);
        }
        let primary_key: Vec<String> = sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = to_regclass(quote_ident($1)) AND i.indisprimary ORDER BY k.position",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the primary key of '{table}'")))?;
        let unique: Vec<(i64, String)> = sqlx::query_as(
            "SELECT i.indexrelid::int8, a.attname::text FROM pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = to_regclass(quote_ident($1)) AND i.indisunique AND NOT i.indisprimary \
             ORDER BY i.indexrelid, k.position",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the unique keys of '{table}'")))?;
        let foreign: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT c.oid::int8, (SELECT relname FROM pg_class WHERE oid = c.confrelid)::text, a.attname::text, f.attname::text \
             FROM pg_constraint c \
             CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, fattnum, position) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
             JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = k.fattnum \
             WHERE c.conrelid = to_regclass(quote_ident($1)) AND c.contype = 'f' \
             ORDER BY c.oid, k.position",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the foreign keys of '{table}'")))?;
        let defaults: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.attname::text, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
             JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
             WHERE d.adrelid = to_regclass(quote_ident($1))",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the defaults of '{table}'")))?;
        Ok(Some(TableShape {
            name: table.to_string(),
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
        }))
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        let mut conn = self.conn.lock().await;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("listing tables"))?;
        Ok(user_tables(names))
    }
}
