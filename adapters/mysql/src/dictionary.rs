//! The data dictionary of a MariaDB/MySQL database (`information_schema`).

use crate::connection::MysqlNode;
use crate::types::ColumnRow;
use async_trait::async_trait;
use hetsync_core::adapter::TypeMapping;
use hetsync_core::schema::{
    group_keys, user_tables, ColumnShape, ForeignKey, SyncTable, TableShape,
};
use hetsync_core::types::CanonicalType;
use hetsync_core::{Error, Result};
use sqlx::mysql::MySqlConnection;
use sqlx::Row;

/// How a column's values are read and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Signed integers and unsigned ones narrower than 64 bits.
    Int,
    /// `BIGINT UNSIGNED` and `BIT`: read as unsigned 64-bit.
    UInt,
    Float,
    Double,
    /// Binary strings and blobs.
    Bytes,
    /// Character strings (compared byte-exact, whatever their collation).
    Text,
    /// Every other type (decimal, dates and times, …), read as its text form.
    Other,
}

/// One column with its SQL type.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub name: String,
    /// The type as `information_schema.columns.column_type` spells it, with
    /// its character set and collation for character columns.
    pub sql_type: String,
    pub kind: Kind,
    pub nullable: bool,
    pub canonical: Option<CanonicalType>,
    /// The default expression, if any.
    pub default: Option<String>,
}

fn kind(data_type: &str, column_type: &str) -> Kind {
    let unsigned = column_type.contains("unsigned");
    match data_type {
        "bigint" if unsigned => Kind::UInt,
        "bit" => Kind::UInt,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => Kind::Int,
        "float" => Kind::Float,
        "double" | "real" => Kind::Double,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => Kind::Bytes,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
        | "json" => Kind::Text,
        _ => Kind::Other,
    }
}

impl MysqlNode {
    /// Columns of a table in ordinal order; empty when it does not exist.
    pub(crate) async fn columns_on(
        &self,
        conn: &mut MySqlConnection,
        table: &str,
    ) -> Result<Vec<Column>> {
        let rows = sqlx::query(crate::types::COLUMNS_SQL)
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("describing table '{table}'")))?;
        rows.iter()
            .map(|r| {
                let row = ColumnRow {
                    name: r.try_get(0)?,
                    column_type: r.try_get(1)?,
                    data_type: r.try_get(2)?,
                    nullable: r.try_get::<i64, _>(3)? != 0,
                    charset: r.try_get(4)?,
                    collation: r.try_get(5)?,
                    length: r.try_get(6)?,
                    precision: r.try_get(7)?,
                    scale: r.try_get(8)?,
                    fraction: r.try_get(9)?,
                    default: r.try_get(10)?,
                };
                Ok(Column {
                    kind: kind(
                        &row.data_type.to_ascii_lowercase(),
                        &row.column_type.to_ascii_lowercase(),
                    ),
                    sql_type: row.sql_type(),
                    canonical: row.canonical(),
                    default: row.default().map(str::to_string),
                    nullable: row.nullable,
                    name: row.name,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(self.err(&format!("describing table '{table}'")))
    }

    /// The columns of a synced table, in the table's column order (cached
    /// until the next install).
    pub(crate) async fn sync_columns(
        &self,
        conn: &mut MySqlConnection,
        table: &SyncTable,
    ) -> Result<Vec<Column>> {
        if let Some(cached) = self.columns.get(&table.name) {
            return Ok(cached);
        }
        let all = self.columns_on(conn, &table.name).await?;
        if all.is_empty() {
            return Err(Error::Schema {
                table: table.name.clone(),
                message: format!("the table does not exist on node '{}'", self.name),
            });
        }
        table
            .pick_columns(&self.name, &all, |c| &c.name)
            .map(|found| self.columns.put(&table.name, found))
    }
}

#[async_trait]
impl TypeMapping for MysqlNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        let mut conn = self.conn.lock().await;
        let columns = self.columns_on(&mut conn, table).await?;
        if columns.is_empty() {
            return Ok(None);
        }
        let primary_key: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(column_name AS CHAR) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? AND index_name = 'PRIMARY' \
             ORDER BY seq_in_index",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the primary key of '{table}'")))?;
        let unique: Vec<(String, String)> = sqlx::query_as(
            "SELECT CAST(index_name AS CHAR), CAST(column_name AS CHAR) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? AND non_unique = 0 AND index_name <> 'PRIMARY' \
             ORDER BY index_name, seq_in_index",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the unique keys of '{table}'")))?;
        let foreign: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT CAST(constraint_name AS CHAR), CAST(referenced_table_name AS CHAR), \
                    CAST(column_name AS CHAR), CAST(referenced_column_name AS CHAR) \
             FROM information_schema.key_column_usage \
             WHERE table_schema = DATABASE() AND table_name = ? AND referenced_table_name IS NOT NULL \
             ORDER BY constraint_name, ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err(&format!("reading the foreign keys of '{table}'")))?;
        Ok(Some(TableShape {
            name: table.to_string(),
            primary_key,
            unique_keys: group_keys(unique),
            foreign_keys: ForeignKey::group(foreign),
            columns: columns
                .into_iter()
                .map(|c| ColumnShape {
                    name: c.name,
                    native_type: c.sql_type,
                    canonical: c.canonical,
                    nullable: c.nullable,
                    default: c.default,
                })
                .collect(),
        }))
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        let mut conn = self.conn.lock().await;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("listing tables"))?;
        Ok(user_tables(names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_data_type() {
        assert_eq!(kind("bigint", "bigint(20)"), Kind::Int);
        assert_eq!(kind("bigint", "bigint(20) unsigned"), Kind::UInt);
        assert_eq!(kind("tinyint", "tinyint(3) unsigned"), Kind::Int);
        assert_eq!(kind("varchar", "varchar(10)"), Kind::Text);
        assert_eq!(kind("longblob", "longblob"), Kind::Bytes);
        assert_eq!(kind("decimal", "decimal(12,4)"), Kind::Other);
        assert_eq!(kind("datetime", "datetime(6)"), Kind::Other);
    }
}
