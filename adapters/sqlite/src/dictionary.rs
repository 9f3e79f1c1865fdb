//! The data dictionary of a SQLite database.

use crate::connection::SqliteNode;
use async_trait::async_trait;
use hetsync_core::adapter::TypeMapping;
use hetsync_core::schema::{group_keys, user_tables, ColumnShape, ForeignKey, TableShape};
use hetsync_core::Result;
use sqlx::Row;

#[async_trait]
impl TypeMapping for SqliteNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query(
            r#"SELECT name, type, "notnull", pk, dflt_value FROM pragma_table_info(?1)"#,
        )
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
                    default: r.try_get(4)?,
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
        let unique: Vec<(String, String)> = sqlx::query_as(
            r#"SELECT l.name, i.name FROM pragma_index_list(?1) l, pragma_index_info(l.name) i
               WHERE l."unique" = 1 AND l.origin <> 'pk' ORDER BY l.name, i.seqno"#,
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the unique keys of '{table}'")))?;
        let foreign: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            r#"SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?1) ORDER BY id, seq"#,
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the foreign keys of '{table}'")))?;
        Ok(Some(TableShape {
            name: table.to_string(),
            columns,
            primary_key: key.into_iter().map(|(_, name)| name).collect(),
            unique_keys: group_keys(unique),
            foreign_keys: ForeignKey::group(foreign),
        }))
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        let mut conn = self.conn.lock().await;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("listing tables"))?;
        Ok(user_tables(names))
    }
}
