//! Install and uninstall: the bookkeeping tables, their layout version and
//! the capture objects of every synced table. Where DDL is transactional
//! install is all or nothing. Elsewhere (MySQL) it marks the node
//! `install_state = incomplete` first and `complete` last; a failure in
//! between drops the capture objects made so far, and the mark keeps the
//! node refused ([`require_installed`]) until an install finishes.

use super::{begin, commit, first, int_of, into_text, rollback, CatalogQuestion, Session};
use crate::dialect::{
    check_schema_version, require_current_schema, ColumnSql, TxKind, INSTALLED, SCHEMA_VERSION,
    TRACKING,
};
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};
use std::collections::HashMap;

/// Installs capture on `tables`, replacing whatever hetsync had installed.
pub async fn install<S: Session + ?Sized>(s: &mut S, tables: &[SyncTable]) -> Result<()> {
    // Every table is described before anything changes: a missing table or
    // column stops install with the database untouched.
    let mut columns = Vec::with_capacity(tables.len());
    for table in tables {
        columns.push(s.columns(table).await?);
        require_unique_codes(s, table).await?;
    }
    s.prepare_capture().await?;
    let transactional = s.dialect().transactional_ddl();
    if transactional {
        begin(s, TxKind::Write).await?;
    }
    let result = match s.lock_install().await {
        Ok(()) => install_locked(s, tables, &columns).await,
        Err(e) => Err(e),
    };
    let result = match result {
        Ok(()) if transactional => match commit(s, "committing install").await {
            Ok(()) => s.release_capture(false).await,
            Err(e) => Err(e),
        },
        Ok(()) => Ok(()),
        Err(e) => {
            if transactional {
                rollback(s).await;
            } else if let Err(cleanup) = drop_capture(s).await {
                tracing::warn!(node = %s.node(), error = %cleanup, "removing a failed install's capture objects");
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
    for sql in d.meta_tables().into_iter().chain([d.conflict_table_sql()]) {
        s.execute(&sql, &[], "creating the hetsync tables").await?;
    }
    let recorded = meta(s).await?.remove(SCHEMA_VERSION_KEY);
    check_schema_version(s.node(), recorded.as_deref())?;
    add_missing_columns(s).await?;
    meta_set(s, SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_string()).await?;
    meta_set(s, INSTALL_STATE, INCOMPLETE).await?;
    // Capture that decodes changes after they commit (a slot, even when
    // the node now goes back to triggers) has its backlog taken into the
    // tracking table first, with the tables locked against writers until
    // install commits: no edit falls between the old capture and the new.
    super::lock_tables(s, &tables.iter().collect::<Vec<_>>()).await?;
    if !d.snapshot_capture() {
        s.catch_up(tables).await?;
    }
    // Snapshots an earlier install took, whatever capture is now.
    super::snapshot::catch_up_existing(s).await?;
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
    let snapshots: &[SyncTable] = if d.snapshot_capture() { tables } else { &[] };
    super::snapshot::record(s, snapshots).await?;
    super::integrity::record(s).await?;
    meta_set(s, INSTALL_STATE, COMPLETE).await
}

/// Brings tables made by an older layout up to this one: adds the columns
/// it lacks ([`crate::dialect::Dialect::added_columns`]), keeping every row.
async fn add_missing_columns<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let d = s.dialect();
    for (table, column, alter) in d.added_columns() {
        let context = format!("looking for column '{column}' of '{table}'");
        let found = s
            .catalog(CatalogQuestion::ColumnCount(table, column), &context)
            .await?;
        let found = first(&found)
            .map(|v| int_of(s.node(), v, "a column count"))
            .transpose()?;
        if found.unwrap_or(0) == 0 {
            let context = format!("adding column '{column}' to '{table}'");
            s.execute(&alter, &[], &context).await?;
        }
    }
    Ok(())
}

/// Refuses a table in which more than one row holds the same combined code:
/// hetsync keeps one row per code, and the others would be lost.
async fn require_unique_codes<S: Session + ?Sized>(s: &mut S, table: &SyncTable) -> Result<()> {
    let sql = s.dialect().duplicate_codes_sql(table);
    let context = format!("looking for repeated codes in '{}'", table.name);
    let rows = s.query(&sql, &[], &context).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let parts = table.code.len();
    let repeated: Vec<String> = rows
        .iter()
        .map(|row| {
            let code: Vec<String> = row[..parts].iter().map(|v| v.to_string()).collect();
            format!("({}) × {}", code.join(", "), row[parts])
        })
        .collect();
    let columns: Vec<&str> = table.code_columns().collect();
    Err(Error::Schema {
        table: table.name.clone(),
        message: format!(
            "on node '{}' the combined code ({}) is not unique: {}{}. hetsync keeps one row per \
             code and would lose the others: make the code unique (a primary key or unique \
             index on its columns) and run install again",
            s.node(),
            columns.join(", "),
            repeated.join(", "),
            if rows.len() == 5 { ", …" } else { "" }
        ),
    })
}

/// The meta row that holds the layout version.
const SCHEMA_VERSION_KEY: &str = "schema_version";
/// The meta row that says whether the last install finished.
const INSTALL_STATE: &str = "install_state";
const INCOMPLETE: &str = "incomplete";
const COMPLETE: &str = "complete";

/// The meta row that holds, per peer, the tables whose first full
/// comparison with it is complete (a JSON object of lists).
const SYNCED_TABLES: &str = "synced_tables";

/// The tables recorded as fully compared with `peer` ([`SYNCED_TABLES`]).
pub async fn synced_tables<S: Session + ?Sized>(
    s: &mut S,
    peer: &str,
) -> Result<Option<Vec<String>>> {
    let settings = installed_settings(s).await?;
    let mut map: SyncedMap = meta_json(s.node(), &settings, SYNCED_TABLES)?;
    Ok(map.remove(peer))
}

/// Records `tables` as fully compared with `peer`, in the caller's transaction.
pub(crate) async fn record_synced_tables<S: Session + ?Sized>(
    s: &mut S,
    peer: &str,
    tables: &[String],
) -> Result<()> {
    let settings = meta(s).await?;
    let mut map: SyncedMap = meta_json(s.node(), &settings, SYNCED_TABLES)?;
    map.insert(peer.to_string(), tables.to_vec());
    let json = serde_json::to_string(&map).expect("a map of lists serializes");
    meta_set(s, SYNCED_TABLES, &json).await
}

/// The synced tables per peer ([`SYNCED_TABLES`]).
type SyncedMap = std::collections::BTreeMap<String, Vec<String>>;

/// The meta row `name` of `settings` (a node's meta rows), which holds
/// JSON, read as `T`; `T`'s default when the row is absent.
pub(super) fn meta_json<T: serde::de::DeserializeOwned + Default>(
    node: &str,
    settings: &Settings,
    name: &str,
) -> Result<T> {
    match settings.get(name) {
        None => Ok(T::default()),
        Some(json) => serde_json::from_str(json).map_err(|e| Error::Database {
            node: node.to_string(),
            context: format!("reading {name} in {}", crate::dialect::META),
            message: format!("unreadable ({e}): {json:?}"),
        }),
    }
}

/// Sets a row of the meta table.
pub(super) async fn meta_set<S: Session + ?Sized>(
    s: &mut S,
    name: &str,
    value: &str,
) -> Result<()> {
    let statements = s.dialect().meta_set_sql();
    let params = [Value::Text(name.into()), Value::Text(value.into())];
    super::write_keyed(s, &statements, &params, &format!("recording {name}")).await
}

/// The rows of the meta table, by name.
pub(crate) type Settings = HashMap<String, String>;

/// The settings of the meta table, by name.
pub(super) async fn meta<S: Session + ?Sized>(s: &mut S) -> Result<Settings> {
    let d = s.dialect();
    let rows = s
        .query(&d.meta_sql(), &[], "reading hetsync's settings")
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let mut values = row.into_iter();
        let (Some(name), Some(value)) = (values.next(), values.next()) else {
            continue;
        };
        if let (Some(name), Some(value)) = (
            into_text(s.node(), name, "a setting's name")?,
            into_text(s.node(), value, "a setting's value")?,
        ) {
            out.insert(name, value);
        }
    }
    Ok(out)
}

/// Drops every capture object hetsync made on the node, found by name.
async fn drop_capture<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let d = s.dialect();
    let objects = s
        .catalog(
            CatalogQuestion::CaptureObjects,
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
            "TRIGGER" | "FUNCTION" | "PROCEDURE" | "PACKAGE" | "PUBLISHED" | "TABLE" => kind,
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
        // An install that failed may have made what comes before its
        // transaction.
        return s.release_capture(true).await;
    }
    let d = s.dialect();
    let transactional = d.transactional_ddl();
    if transactional {
        begin(s, TxKind::Write).await?;
    }
    let result = async {
        drop_capture(s).await?;
        let settings = meta(s).await?;
        for table in super::bulk::bulk_of(s.node(), &settings)?.keys() {
            let context = format!("dropping the bulk snapshot of '{table}'");
            s.execute(&d.drop_bulk_snapshot_sql(table), &[], &context)
                .await?;
        }
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
    let result = match result {
        Ok(()) if transactional => commit(s, "committing uninstall").await,
        Ok(()) => Ok(()),
        Err(e) => {
            if transactional {
                rollback(s).await;
            }
            Err(e)
        }
    };
    result?;
    s.release_capture(true).await
}

/// Whether install has run (the tracking table exists).
pub async fn is_installed<S: Session + ?Sized>(s: &mut S) -> Result<bool> {
    table_exists(s, TRACKING, "looking for the tracking table").await
}

/// Whether the node has a table named `name`.
pub(super) async fn table_exists<S: Session + ?Sized>(
    s: &mut S,
    name: &str,
    context: &str,
) -> Result<bool> {
    let rows = s
        .catalog(CatalogQuestion::TableCount(name), context)
        .await?;
    match first(&rows) {
        Some(v) => Ok(int_of(s.node(), v, "a table count")? > 0),
        None => Ok(false),
    }
}

/// Refuses a node without install, or whose last install did not finish
/// (an install before the state was recorded counts as finished), or in
/// bulk mode ([`super::bulk`]), or whose capture objects are missing or
/// altered (see [`super::integrity`]): what a round checks before it reads
/// a node.
pub async fn require_capture<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let settings = installed_settings(s).await?;
    super::bulk::require_no_bulk(s.node(), &settings)?;
    super::integrity::require_intact(s, &settings).await
}

/// Refuses a node without install, or whose last install did not finish
/// (an install before the state was recorded counts as finished).
pub async fn require_installed<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    installed_settings(s).await.map(|_| ())
}

/// The meta settings of an installed node ([`require_installed`]).
pub(super) async fn installed_settings<S: Session + ?Sized>(s: &mut S) -> Result<Settings> {
    if !is_installed(s).await? {
        return Err(Error::Setup(format!(
            "node '{}' has no hetsync tracking table: run `hetsync install` first",
            s.node()
        )));
    }
    let settings = meta(s).await?;
    require_current_schema(
        s.node(),
        settings.get(SCHEMA_VERSION_KEY).map(String::as_str),
    )?;
    if settings.get(INSTALL_STATE).map(String::as_str) == Some(INCOMPLETE) {
        return Err(Error::Setup(format!(
            "node '{}': the last install did not finish, so changes there may not be \
             captured: fix what it reported and run `hetsync install` again",
            s.node()
        )));
    }
    Ok(settings)
}
