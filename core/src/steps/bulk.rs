//! Bulk mode (paper 001): capture is suspended on some tables of a node
//! while an application loads data at full speed, and the load is recorded
//! afterwards, set-based, by comparing each table with a copy taken when
//! the load began.
//!
//! - [`begin`] records the tables and their start in [`BULK_MODE`], copies
//!   each table ([`crate::dialect::Dialect::bulk_snapshot_sql`]) and
//!   suspends its capture, in one transaction where DDL is transactional
//!   (with the tables locked against writers, so no edit falls between the
//!   copy and the suspension). Elsewhere (MySQL) the mark comes first, so a
//!   failure half-way leaves the node in bulk mode for [`end`] to finish.
//! - While [`BULK_MODE`] names any table, the node is refused to rounds and
//!   to hetsync's writes ([`require_no_bulk`]): the comparison at the end
//!   must see only the application's edits, and a stale row must not come
//!   back later stamped as new.
//! - [`end`] gives each table its capture back first, so nothing written
//!   from then on escapes capture, then records every row that is new or
//!   differs from the copy as a whole-row change and every code gone from
//!   it as a delete, all stamped with the end's time; then it drops the
//!   copy and the mark. An edit made while capture comes back may be
//!   recorded twice, never lost; running `end` again after a failure is safe.

use super::install::{installed_settings, meta, meta_json, meta_set, table_exists, Settings};
use super::{begin as begin_tx, commit, lock_tables, rollback, Session};
use crate::change::BulkRecorded;
use crate::dialect::TxKind;
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// The meta row that names the tables in bulk mode, each with the time
/// (UTC µs) its bulk load began (a JSON object).
const BULK_MODE: &str = "bulk_mode";

/// The tables in bulk mode, each with the time (UTC µs) its load began.
pub type BulkTables = BTreeMap<String, i64>;

/// The tables in bulk mode per `settings` (a node's meta rows).
pub(super) fn bulk_of(node: &str, settings: &Settings) -> Result<BulkTables> {
    meta_json(node, settings, BULK_MODE)
}

/// The tables of the node in bulk mode.
pub async fn in_bulk<S: Session + ?Sized>(s: &mut S) -> Result<BulkTables> {
    let settings = installed_settings(s).await?;
    bulk_of(s.node(), &settings)
}

/// Refuses a node with tables in bulk mode (per its meta rows `settings`).
pub(super) fn require_no_bulk(node: &str, settings: &Settings) -> Result<()> {
    let bulk = bulk_of(node, settings)?;
    let Some(since) = bulk.values().min() else {
        return Ok(());
    };
    let since = crate::change::format_micros(*since);
    let names: Vec<String> = bulk.keys().map(|t| format!("'{t}'")).collect();
    Err(Error::Setup(format!(
        "node '{node}' is in bulk mode since {since} (capture suspended on {}): run `hetsync \
         bulk end --node {node}` first, so that the load is recorded and synced",
        names.join(", ")
    )))
}

/// Refuses a node with tables in bulk mode (reads its meta rows).
pub(super) async fn refuse_bulk<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let settings = meta(s).await?;
    require_no_bulk(s.node(), &settings)
}

/// Suspends capture on `tables` for a bulk load begun at `since` (UTC µs),
/// keeping a copy of each as it is now.
pub async fn begin<S: Session + ?Sized>(s: &mut S, tables: &[SyncTable], since: i64) -> Result<()> {
    super::install::require_capture(s).await?;
    let d = s.dialect();
    let mut suspend = Vec::with_capacity(tables.len());
    for table in tables {
        // Described first: a missing table or column stops begin with
        // nothing changed.
        s.columns(table).await?;
        suspend.push(d.suspend_capture_sql(table).ok_or_else(|| {
            Error::Setup(format!(
                "node '{}' captures without triggers (by logical decoding or snapshot \
                 difference): the application's writes cost nothing for capture there, so it \
                 has no bulk mode; load the data as usual",
                s.node()
            ))
        })?);
    }
    let bulk: BulkTables = tables.iter().map(|t| (t.name.clone(), since)).collect();
    let json = serde_json::to_string(&bulk).expect("a map of times serializes");
    let transactional = d.transactional_ddl();
    if transactional {
        begin_tx(s, TxKind::Write).await?;
    }
    let done = async {
        lock_tables(s, &tables.iter().collect::<Vec<_>>()).await?;
        meta_set(s, BULK_MODE, &json).await?;
        for (table, suspend) in tables.iter().zip(&suspend) {
            let context = format!("suspending capture on '{}' for a bulk load", table.name);
            for sql in d.bulk_snapshot_sql(table).iter().chain(suspend) {
                s.execute(sql, &[], &context).await?;
            }
        }
        Ok(())
    }
    .await;
    match done {
        Ok(()) if transactional => commit(s, "committing bulk begin").await,
        Ok(()) => Ok(()),
        Err(e) => {
            if transactional {
                rollback(s).await;
            } else if let Err(undo) = end(s, tables, since, None).await {
                tracing::warn!(node = %s.node(), error = %undo, "undoing a failed bulk begin");
            }
            Err(e)
        }
    }
}

/// Ends bulk mode on the node's tables among `tables`: gives them their
/// capture back and records what the load changed, stamped `stamp` (UTC
/// µs), by `user`.
pub async fn end<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    stamp: i64,
    user: Option<&str>,
) -> Result<Vec<BulkRecorded>> {
    let mut bulk = in_bulk(s).await?;
    if bulk.is_empty() {
        return Err(Error::Setup(format!(
            "node '{}' is not in bulk mode (`hetsync bulk begin --node {}` starts it)",
            s.node(),
            s.node()
        )));
    }
    let unknown: Vec<&str> = bulk
        .keys()
        .filter(|name| !tables.iter().any(|t| &t.name == *name))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Setup(format!(
            "node '{}' is in bulk mode on table(s) the config does not sync ({}): put them back \
             in the config to end bulk mode",
            s.node(),
            unknown.join(", ")
        )));
    }
    let mut out = Vec::new();
    for table in tables {
        if bulk.remove(&table.name).is_none() {
            continue;
        }
        out.push(end_table(s, table, &bulk, stamp, user).await?);
    }
    Ok(out)
}

/// Whether the table's bulk snapshot exists: a bulk begin that failed
/// before it made the copy never suspended the table's capture.
async fn has_snapshot<S: Session + ?Sized>(s: &mut S, table: &SyncTable) -> Result<bool> {
    let name = s.dialect().bulk_snapshot(&table.name);
    table_exists(s, &name, "looking for a bulk snapshot").await
}

/// Ends bulk mode on one table; `rest` are the tables left in it.
async fn end_table<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    rest: &BulkTables,
    stamp: i64,
    user: Option<&str>,
) -> Result<BulkRecorded> {
    let d = s.dialect();
    let columns = s.columns(table).await?;
    let time = d.stamp_value(stamp).ok_or_else(|| {
        Error::Setup(format!(
            "the bulk load's end time {stamp} µs is out of range"
        ))
    })?;
    let user = user.map_or(Value::Null, |u| Value::Text(u.to_string()));
    let params = |deleted: bool| {
        vec![
            Value::Text(table.name.clone()),
            time.clone(),
            Value::Bool(deleted),
            user.clone(),
        ]
    };
    let json = serde_json::to_string(rest).expect("a map of times serializes");
    let context = format!("recording the bulk load of '{}'", table.name);
    let transactional = d.transactional_ddl();
    let resume = d.resume_capture_sql(table, &columns);
    let compare = has_snapshot(s, table).await?;
    if !transactional {
        // Capture comes back before the comparison: what is written from
        // here on is captured, what came before is compared.
        for sql in &resume {
            s.execute(sql, &[], &context).await?;
        }
    }
    begin_tx(s, TxKind::Write).await?;
    let done = async {
        if transactional {
            lock_tables(s, &[table]).await?;
            for sql in &resume {
                s.execute(sql, &[], &context).await?;
            }
        }
        let (mut changed, mut deleted) = (0, 0);
        if compare {
            let [upserts, deletes] = d.bulk_changes_sql(table);
            deleted = s.execute(&deletes, &params(true), &context).await?;
            changed = s.execute(&upserts, &params(false), &context).await?;
        }
        meta_set(s, BULK_MODE, &json).await?;
        if transactional {
            s.execute(&d.drop_bulk_snapshot_sql(&table.name), &[], &context)
                .await?;
        }
        Ok(BulkRecorded {
            table: table.name.clone(),
            changed,
            deleted,
        })
    }
    .await;
    let recorded = match done {
        Ok(recorded) => {
            commit(s, &context).await?;
            recorded
        }
        Err(e) => {
            rollback(s).await;
            return Err(e);
        }
    };
    if !transactional {
        s.execute(&d.drop_bulk_snapshot_sql(&table.name), &[], &context)
            .await?;
    }
    Ok(recorded)
}
