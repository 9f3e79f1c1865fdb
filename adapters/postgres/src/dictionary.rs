//! The data dictionary of a PostgreSQL database.

use crate::connection::PostgresNode;
use crate::session::DIALECT;
use async_trait::async_trait;
use hetsync_core::adapter::TypeMapping;
use hetsync_core::dialect::pg_catalog::table_shape;
use hetsync_core::schema::{user_tables, SyncTable, TableShape};
use hetsync_core::Result;
use sqlx::{PgConnection, Row};

/// How a column's values are read.
pub(crate) use hetsync_core::dialect::pg_catalog::ValueKind as Kind;

/// One column with its SQL type.
pub(crate) use hetsync_core::dialect::pg_catalog::Column;

impl PostgresNode {
    /// Columns of a table in attribute order; empty when it does not exist.
    pub(crate) async fn columns_on(
        &self,
        conn: &mut PgConnection,
        table: &str,
    ) -> Result<Vec<Column>> {
        let rows = sqlx::query(&DIALECT.columns_sql())
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("describing table '{table}'")))?;
        rows.iter()
            .map(|r| {
                let typname: String = r.try_get(2)?;
                Ok(Column::new(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    &typname,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                ))
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
        let primary_key: Vec<String> = sqlx::query_scalar(&DIALECT.primary_key_sql())
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("reading the primary key of '{table}'")))?;
        let unique: Vec<(i64, String)> = sqlx::query_as(&DIALECT.unique_keys_sql())
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("reading the unique keys of '{table}'")))?;
        let foreign: Vec<(i64, String, String, Option<String>)> =
            sqlx::query_as(&DIALECT.foreign_keys_sql())
                .bind(table)
                .fetch_all(&mut *conn)
                .await
                .map_err(self.err(&format!("reading the foreign keys of '{table}'")))?;
        let defaults: Vec<(String, String)> = sqlx::query_as(&DIALECT.defaults_sql())
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("reading the defaults of '{table}'")))?;
        Ok(Some(table_shape(
            table,
            columns,
            primary_key,
            unique,
            foreign,
            defaults,
        )))
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        let mut conn = self.conn.lock().await;
        let names: Vec<String> = sqlx::query_scalar(DIALECT.list_tables_sql())
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err("listing tables"))?;
        Ok(user_tables(names))
    }
}
