//! The data dictionary of a SQLite database.

use crate::connection::SqliteNode;
use async_trait::async_trait;
use hetsync_core::adapter::TypeMapping;
use hetsync_core::schema::{ColumnShape, TableShape};
use hetsync_core::Result;
use sqlx::Row;

#[async_trait]
impl TypeMapping for SqliteNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query(r#"SELECT name, type, "notnull", pk FROM pragma_table_info(?1)"#)
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("describing table '{table}'")))?;
        if rows.is_empty() {
            return Ok(None);
        }
        let columns = rows
            .iter()
            .map(|r| {
                let native_type: String = r.try_get(1)?;
                Ok(ColumnShape {
                    name: r.try_get(0)?,
                    canonical: Some(crate::types::canonical(&native_type)),
                    native_type,
                    nullable: r.try_get::<i64, _>(2)? == 0,
                })
            })
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
            .map_err(self.err(&format!("describing table '{table}'")))?;
        // `pk` is the column's 1-based position in the primary key, 0 outside it.
        let mut key: Vec<(i64, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>(3)?, r.try_get(0)?)))
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
            .map_err(self.err(&format!("describing table '{table}'")))?;
        key.retain(|(position, _)| *position > 0);
        key.sort();
        Ok(Some(TableShape {
            name: table.to_string(),
            columns,
            primary_key: key.into_iter().map(|(_, name)| name).collect(),
        }))
    }
}
