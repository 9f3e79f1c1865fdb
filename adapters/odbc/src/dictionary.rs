//! The data dictionary: the kingbase profile's catalog queries, or the
//! driver's catalog functions under the others ([`crate::catalog`]).

use crate::catalog;
use crate::connection::OdbcNode;
use crate::profile::{NativeTypes, Profile};
use crate::session::OdbcSession;
use async_trait::async_trait;
use hetsync_core::adapter::TypeMapping;
use hetsync_core::dialect::pg_catalog::{table_shape, Column};
use hetsync_core::schema::{user_tables, SyncTable, TableShape};
use hetsync_core::steps::{int_of, into_text, Session};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};

/// A catalog value that should be text, not NULL.
fn text_of(node: &str, v: &Value, what: &str) -> Result<String> {
    into_text(node, v.clone(), what)?
        .ok_or_else(|| Error::db(node, format!("reading {what}"), "unexpected value NULL"))
}

/// A catalog value that should be a boolean (drivers print `1`/`0`).
fn flag_of(v: &Value) -> bool {
    matches!(v, Value::Bool(true) | Value::Int(1))
        || matches!(v, Value::Text(s) if ["1", "t", "true"].contains(&s.as_str()))
}

impl OdbcSession<'_> {
    /// Columns of a table in attribute order; empty when it does not exist.
    pub(crate) async fn columns_on(&mut self, table: &str) -> Result<Vec<Column>> {
        let what = format!("describing table '{table}'");
        if let Some(types) = self.node.settings.speaks.driver_catalog() {
            let table = table.to_string();
            return self
                .node
                .run(&what, move |conn| {
                    catalog::columns(conn, &table, types).map(|(c, _)| c)
                })
                .await;
        }
        let sql = Profile::postgres().columns_sql();
        let rows = self
            .query(&sql, &[Value::Text(table.into())], &what)
            .await?;
        let node = self.node.name();
        rows.iter()
            .map(|r| {
                let typname = text_of(node, &r[2], "a column type")?;
                Ok(Column::new(
                    text_of(node, &r[0], "a column name")?,
                    text_of(node, &r[1], "a column type")?,
                    &typname,
                    flag_of(&r[3]),
                    int_of(node, &r[4], "a type modifier")? as i32,
                    flag_of(&r[5]),
                ))
            })
            .collect()
    }

    /// The columns of a synced table, in the table's column order (cached
    /// until the next install).
    pub(crate) async fn sync_columns(&mut self, table: &SyncTable) -> Result<Vec<Column>> {
        if let Some(cached) = self.node.columns.get(&table.name) {
            return Ok(cached);
        }
        let all = self.columns_on(&table.name).await?;
        table
            .pick_columns(self.node.name(), &all, |c| &c.name)
            .map(|found| self.node.columns.put(&table.name, found))
    }

    /// Rows of a catalog query about one table.
    async fn about(&mut self, sql: String, table: &str, what: &str) -> Result<Vec<Vec<Value>>> {
        self.query(
            &sql,
            &[Value::Text(table.into())],
            &format!("reading {what} of '{table}'"),
        )
        .await
    }
}

impl OdbcNode {
    /// A table's shape from the driver's catalog functions (the generic
    /// and dameng profiles; the columns and defaults as `types` says): columns,
    /// defaults, primary and foreign keys; unique keys
    /// other than the primary key are not read (no portable call lists
    /// them but `SQLStatistics`, which odbc-sys does not declare either).
    async fn describe_by_catalog(
        &self,
        table: &str,
        types: NativeTypes,
    ) -> Result<Option<TableShape>> {
        use hetsync_core::steps::Driver;
        let _turn = self.session().await?;
        let name = table.to_string();
        let found = self
            .run(&format!("describing table '{table}'"), move |conn| {
                let (columns, defaults) = catalog::columns(conn, &name, types)?;
                if columns.is_empty() {
                    return Ok(None);
                }
                let primary_key = catalog::primary_key(conn, &name)?;
                let foreign = catalog::foreign_keys(conn, &name)?;
                Ok(Some((columns, defaults, primary_key, foreign)))
            })
            .await?;
        Ok(found.map(|(columns, defaults, primary_key, foreign)| {
            table_shape(table, columns, primary_key, Vec::new(), foreign, defaults)
        }))
    }
}

#[async_trait]
impl TypeMapping for OdbcNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        use hetsync_core::steps::Driver;
        if let Some(types) = self.settings.speaks.driver_catalog() {
            return self.describe_by_catalog(table, types).await;
        }
        let mut s = self.session().await?;
        let columns = s.columns_on(table).await?;
        if columns.is_empty() {
            return Ok(None);
        }
        let d = Profile::postgres();
        let node = self.name();
        let primary_key = s
            .about(d.primary_key_sql(), table, "the primary key")
            .await?
            .iter()
            .map(|r| text_of(node, &r[0], "a key column"))
            .collect::<Result<Vec<_>>>()?;
        let unique = s
            .about(d.unique_keys_sql(), table, "the unique keys")
            .await?
            .iter()
            .map(|r| {
                Ok((
                    int_of(node, &r[0], "a key")?,
                    text_of(node, &r[1], "a key column")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let foreign = s
            .about(d.foreign_keys_sql(), table, "the foreign keys")
            .await?
            .iter()
            .map(|r| {
                Ok((
                    int_of(node, &r[0], "a foreign key")?,
                    text_of(node, &r[1], "a referenced table")?,
                    text_of(node, &r[2], "a key column")?,
                    into_text(node, r[3].clone(), "a referenced column")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let defaults = s
            .about(d.defaults_sql(), table, "the defaults")
            .await?
            .iter()
            .map(|r| {
                Ok((
                    text_of(node, &r[0], "a column name")?,
                    text_of(node, &r[1], "a default")?,
                ))
            })
            .collect::<Result<Vec<(String, String)>>>()?;
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
        use hetsync_core::steps::Driver;
        let mut s = self.session().await?;
        if self.settings.speaks.driver_catalog().is_some() {
            let _turn = s;
            let names = self.run("listing tables", catalog::tables).await?;
            return Ok(user_tables(names));
        }
        let sql = Profile::postgres().list_tables_sql();
        let names = s
            .query(sql, &[], "listing tables")
            .await?
            .iter()
            .map(|r| text_of(self.name(), &r[0], "a table name"))
            .collect::<Result<Vec<_>>>()?;
        Ok(user_tables(names))
    }
}
