//! Install and uninstall: the bookkeeping tables, their layout version and
//! the capture objects of every synced table. Where DDL is transactional
//! install is all or nothing; elsewhere (MySQL) it is idempotent and ends by
//! recording each table it finished.

use super::{begin, commit, first, int_of, into_text, rollback, Session};
use crate::dialect::{
    check_schema_version, ColumnSql, TxKind, INSTALLED, SCHEMA_VERSION, TRACKING,
};
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};

/// Installs capture on `tables`, replacing whatever hetsync had installed.
pub async fn install<S: Session + ?Sized>(s: &mut S, tables: &[SyncTable]) -> Result<()> {
    // Every table is described before anything changes: a missing table or
    // column stops install with the database untouched.
    let mut columns = Vec::with_capacity(tables.len());
    for table in tables {
        columns.push(s.columns(table).await?);
    }
    let transactional = s.dialect().transactional_ddl();
    if transactional {
        begin(s, TxKind::Write).await?;
    }
    let result = match s.lock_install().await {
        Ok(()) => install_locked(s, tables, &columns).await,
        Err(e) => Err(e),
    };
    let result = match result {
        Ok(()) if transactional => commit(s, "committing install").await,
        Ok(()) => Ok(()),
        Err(e) => {
            if transactional {
                rollback(s).await;
            }
            Err(e)
        }
    };
    s.unlock_install().await;
    result
}

async fn install_locked<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    columns: &[Vec<ColumnSql>],
) -> Result<()> {
    let d = s.dialect();
    for sql in d.meta_tables() {
        s.execute(&sql, &[], "creating the hetsync tables").await?;
    }
    let version = Value::Text("schema_version".into());
    let recorded = s
        .query(
            &d.meta_get_sql(),
            std::slice::from_ref(&version),
            "reading the layout version",
        )
        .await?;
    let recorded = match recorded.into_iter().flatten().next() {
        Some(v) => into_text(s.node(), v, "the layout version")?,
        None => None,
    };
    check_schema_version(s.node(), recorded.as_deref())?;
    s.execute(
        &d.meta_set_sql(),
        &[version, Value::Text(SCHEMA_VERSION.to_string())],
        "recording the layout version",
    )
    .await?;
    drop_capture(s).await?;
    s.execute(
        &format!("DELETE FROM {}", d.ident(INSTALLED)),
        &[],
        "resetting the installed list",
    )
    .await?;
    for (table, columns) in tables.iter().zip(columns) {
        let context = format!("installing capture on '{}'", table.name);
        for sql in d.capture_sql(table, columns) {
            s.execute(&sql, &[], &context).await?;
        }
        s.execute(
            &d.record_installed_sql(),
            &[Value::Text(table.name.clone())],
            &context,
        )
        .await?;
    }
    Ok(())
}

/// Drops every capture object hetsync made on the node, found by name.
async fn drop_capture<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let d = s.dialect();
    let objects = s
        .query(
            &d.capture_objects_sql(),
            &[],
            "listing hetsync's capture objects",
        )
        .await?;
    for row in objects {
        let mut values = row.into_iter();
        let kind = values
            .next()
            .map(|v| into_text(s.node(), v, "an object kind"));
        let name = values
            .next()
            .map(|v| into_text(s.node(), v, "an object name"));
        let (Some(Some(kind)), Some(Some(name))) = (kind.transpose()?, name.transpose()?) else {
            continue;
        };
        let kind = match kind.as_str() {
            "TRIGGER" | "FUNCTION" | "PROCEDURE" => kind,
            other => {
                return Err(Error::Database {
                    node: s.node().to_string(),
                    context: "listing hetsync's capture objects".into(),
                    message: format!("unexpected object kind {other:?}"),
                })
            }
        };
        s.execute(
            &d.drop_object_sql(&kind, &name),
            &[],
            &format!("dropping {} '{name}'", kind.to_lowercase()),
        )
        .await?;
    }
    Ok(())
}

/// Removes exactly what [`install`] made; base tables are untouched.
pub async fn uninstall<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    if !is_installed(s).await? {
        return Ok(());
    }
    let d = s.dialect();
    let transactional = d.transactional_ddl();
    if transactional {
        begin(s, TxKind::Write).await?;
    }
    let result = async {
        drop_capture(s).await?;
        for table in d.meta_table_names() {
            s.execute(
                &format!("DROP TABLE IF EXISTS {}", d.ident(table)),
                &[],
                "dropping hetsync tables",
            )
            .await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) if transactional => commit(s, "committing uninstall").await,
        Ok(()) => Ok(()),
        Err(e) => {
            if transactional {
                rollback(s).await;
            }
            Err(e)
        }
    }
}

/// Whether install has run (the tracking table exists).
pub async fn is_installed<S: Session + ?Sized>(s: &mut S) -> Result<bool> {
    let d = s.dialect();
    let rows = s
        .query(
            &d.table_exists_sql(),
            &[Value::Text(TRACKING.into())],
            "looking for the tracking table",
        )
        .await?;
    match first(&rows) {
        Some(v) => Ok(int_of(s.node(), v, "a table count")? > 0),
        None => Ok(false),
    }
}

/// Refuses a node without install.
pub async fn require_installed<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    if is_installed(s).await? {
        Ok(())
    } else {
        Err(Error::Setup(format!(
            "node '{}' has no hetsync tracking table: run `hetsync install` first",
            s.node()
        )))
    }
}
