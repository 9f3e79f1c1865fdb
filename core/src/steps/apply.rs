//! Apply: one batch in one transaction with capture silenced, all or nothing.
//!
//! The order, for every database:
//! 1. staging tables exist (created before the transaction: on MySQL even a
//!    temporary table's DDL may end one);
//! 2. begin; silence capture;
//! 3. a batch that settles (the rounds' batches) locks the rows it writes,
//!    in code order, reads the local edits made since the round read this
//!    node and settles them ([`crate::plan::settle`]): the later change wins,
//!    the superseded side is trimmed, each decision is a conflict. Other
//!    batches lock the touched tables where the database needs that for the
//!    guard to be exact;
//! 4. a fresh batch goes straight in where the adapter has a way; otherwise
//!    rows are staged and applied set-based (the per-table procedures, or
//!    SQLite's statements over its staging table) or by row statements
//!    (a dialect without staging): deletes child-first (reverse table
//!    order), then upserts parent-first (table order);
//! 5. the guard: a row the batch wrote that was edited locally after the
//!    round read it, and was not settled in step 3, refuses the batch (the
//!    written rows are locked by now, so an edit has either committed and
//!    shows, or waits for this one);
//! 6. tracking rows of the integrated changes, the peer watermark, and the
//!    conflicts the batch makes final (the engine's and those of step 3),
//!    in the conflict table until the engine has logged them;
//! 7. capture back on; commit.

use super::read::{position_scan, positioned_row};
use super::{begin, commit, int_of, query_script, rollback, Session};
use crate::change::{ApplyBatch, ApplyOutcome, Event, RowOp, TrackingEntry, Watermark};
use crate::code::CombinedCode;
use crate::dialect::{SilenceScope, TxKind, PHASE_DELETE, PHASE_UPSERT, TRACKING_INSERT_WIDTH};
use crate::plan::settle::{settle_table, Pending, Settle, Trim};
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// Local edits per read of the guard ([`edits_after`]).
const GUARD_PAGE: i64 = 10_000;

/// Rows per multi-row `INSERT` at most (fewer where the parameter limit demands).
const ROWS_PER_INSERT: usize = 2_000;

/// A settling batch of more rows than this locks its tables instead of each
/// row, where the database can (one statement instead of a lock written per
/// row; application writers of those tables wait for the batch meanwhile).
const ROW_LOCKS_AT_MOST: usize = 10_000;

/// The tables a batch writes, with their operations, in batch order.
type Busy<'b> = Vec<(&'b SyncTable, &'b [RowOp])>;

/// Applies a batch in one transaction (see [`crate::adapter::Apply::apply`]).
pub async fn apply<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
) -> Result<ApplyOutcome> {
    let d = s.dialect();
    let mut busy: Busy = Vec::new();
    for (name, ops) in batch.ops.iter().filter(|(_, ops)| !ops.is_empty()) {
        busy.push((SyncTable::find(tables, name, s.node())?, ops.as_slice()));
    }
    // A node in bulk mode takes no writes from hetsync: its load is
    // recorded by comparing its tables with their copies.
    super::bulk::refuse_bulk(s).await?;
    let staged = d.staged_apply();
    if staged {
        for (table, _) in &busy {
            let columns = s.columns(table).await?;
            if let Some(sql) = d.staging_sql(table, &columns) {
                s.execute(
                    &sql,
                    &[],
                    &format!("creating the staging table of '{}'", table.name),
                )
                .await?;
            }
        }
    }
    begin(s, TxKind::Write).await?;
    let result = match apply_in(s, tables, batch, &busy, staged).await {
        Ok(out) => commit(s, "committing the batch").await.map(|_| out),
        Err(e) => {
            rollback(s).await;
            if d.silence_scope() == SilenceScope::Session {
                if let Some(sql) = d.unsilence_sql() {
                    let _ = s.execute(&sql, &[], "re-enabling capture").await;
                }
            }
            Err(e)
        }
    };
    if let Some(sql) = d.end_silence_sql() {
        // The batch is decided either way; a mark left on the session only
        // keeps other sessions from taking it until this one ends.
        if let Err(e) = s.execute(&sql, &[], "lifting the silence").await {
            tracing::warn!(node = %s.node(), error = %e, "lifting the silence after a batch");
        }
    }
    result
}

async fn apply_in<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
    busy: &Busy<'_>,
    staged: bool,
) -> Result<ApplyOutcome> {
    let d = s.dialect();
    if let Some(sql) = d.silence_sql() {
        s.execute(&sql, &[], "silencing capture").await?;
    }
    let mut out = ApplyOutcome::default();
    // The guard protects the rows the batch writes: a batch that writes
    // none (only a watermark) has nothing to settle or check, and reads
    // none of the local edits, however many wait after the guard.
    let guard = batch.guard.filter(|_| !busy.is_empty());
    let settling = match (&batch.settle, guard) {
        (Some(settle), Some(guard)) if !batch.fresh => Some((settle, guard)),
        _ => None,
    };
    let mut settled = match settling {
        Some((settle, guard)) => Some(settle_batch(s, tables, batch, busy, settle, guard).await?),
        None => {
            let locked: Vec<&SyncTable> = busy.iter().map(|(table, _)| *table).collect();
            super::lock_tables(s, &locked).await?;
            if d.snapshot_capture() && !batch.fresh && !busy.is_empty() {
                // Edits made before this batch are recorded before it
                // writes over them (a settling batch did so above). A
                // fresh batch writes only codes the table lacks.
                s.catch_up(tables).await?;
            }
            None
        }
    };
    if let Some(st) = &mut settled {
        out.conflicts = std::mem::take(&mut st.conflicts);
    }
    let none_seen = HashSet::new();
    let (busy_now, tracking, seen): (Busy, &[TrackingEntry], &HashSet<i64>) = match &settled {
        Some(st) => (
            st.ops.iter().map(|(t, o)| (*t, o.as_ref())).collect(),
            st.tracking.as_deref().unwrap_or(&batch.tracking),
            &st.seen,
        ),
        None => (busy.clone(), &batch.tracking, &none_seen),
    };
    let busy = &busy_now;
    let started = Instant::now();
    let mut written = false;
    if batch.fresh {
        written = insert_fresh(s, busy, &mut out).await?;
    }
    if !written && staged {
        for (table, ops) in busy {
            if let Some(sql) = d.clear_staging_sql(table) {
                s.execute(&sql, &[], &format!("staging rows of '{}'", table.name))
                    .await?;
            }
            s.stage(table, ops).await?;
        }
        let phases = busy
            .iter()
            .rev()
            .map(|(t, _)| (*t, PHASE_DELETE))
            .chain(busy.iter().map(|(t, _)| (*t, PHASE_UPSERT)));
        for (table, phase) in phases {
            if let Err(e) = run_phase(s, table, phase, &mut out).await {
                return Err(guard_or(s, tables, batch, seen, e).await);
            }
        }
    } else if !written {
        for (table, ops) in busy.iter().rev() {
            for op in ops.iter().filter(|o| matches!(o, RowOp::Delete { .. })) {
                apply_row(s, table, op, &mut out).await?;
            }
        }
        for (table, ops) in busy {
            for op in ops.iter().filter(|o| matches!(o, RowOp::Upsert { .. })) {
                apply_row(s, table, op, &mut out).await?;
            }
        }
    }
    for (table, ops) in busy {
        super::snapshot::absorb(s, table, ops).await?;
    }
    let applied_ms = started.elapsed().as_millis();
    if let Some(guard) = guard {
        check_guard(s, tables, batch, guard, seen).await?;
    }
    s.write_tracking(tracking).await?;
    if let Some(log) = &batch.log {
        for (n, conflict) in out.conflicts.iter_mut().enumerate() {
            conflict.uid = Some(format!("{}{n}", log.prefix));
        }
        record_conflicts(s, log.conflicts.iter().chain(&out.conflicts)).await?;
    }
    if let Some(mark) = &batch.peer {
        let params = [
            Value::Text(mark.peer.clone()),
            Value::Int(mark.watermark.pos),
            Value::Int(mark.watermark.within),
        ];
        let statements = d.record_peer_sql();
        super::write_keyed(s, &statements, &params, "recording the peer watermark").await?;
        if let Some(tables) = &mark.tables {
            super::install::record_synced_tables(s, &mark.peer, tables).await?;
        }
    }
    if let Some(sql) = d.unsilence_sql() {
        s.execute(&sql, &[], "re-enabling capture").await?;
    }
    tracing::debug!(
        node = %s.node(),
        applied_ms,
        tracked_ms = started.elapsed().as_millis(),
        "batch phases (milliseconds since the first write)"
    );
    Ok(out)
}

/// A batch after settling.
struct SettledBatch<'b> {
    /// Operations per table, in batch order (borrowed where nothing was
    /// settled).
    ops: Vec<(&'b SyncTable, std::borrow::Cow<'b, [RowOp]>)>,
    /// Tracking entries to write, `None` when nothing was settled (the
    /// batch's own).
    tracking: Option<Vec<TrackingEntry>>,
    /// Positions of the local edits settled (the guard passes them).
    seen: HashSet<i64>,
    /// Decisions taken.
    conflicts: Vec<crate::plan::Conflict>,
}

/// Locks the rows the batch writes, reads the local edits after `guard`
/// and settles the batch against them (module doc, step 3).
async fn settle_batch<'b, S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
    busy: &Busy<'b>,
    settle: &Settle,
    guard: Watermark,
) -> Result<SettledBatch<'b>> {
    let node = s.node().to_string();
    let d = s.dialect();
    let rows: usize = busy.iter().map(|(_, ops)| ops.len()).sum();
    let lock_tables = rows > ROW_LOCKS_AT_MOST
        && busy
            .iter()
            .all(|(table, _)| d.lock_table_sql(&table.name).is_some());
    let mut codes_of: Vec<Vec<CombinedCode>> = Vec::with_capacity(busy.len());
    for (table, ops) in busy {
        let mut codes = ops
            .iter()
            .map(|op| table.code_of_op(op, &node))
            .collect::<Result<Vec<_>>>()?;
        codes.sort();
        codes.dedup();
        match d.lock_table_sql(&table.name).filter(|_| lock_tables) {
            Some(sql) => {
                s.execute(&sql, &[], &format!("locking '{}'", table.name))
                    .await?;
            }
            None => s.lock_rows(table, &codes).await?,
        }
        codes_of.push(codes);
    }
    let edited = edits_after(s, tables, batch, guard, true, |table, event| {
        busy.iter()
            .zip(&codes_of)
            .any(|((t, _), codes)| t.name == table && codes.binary_search(&event.code).is_ok())
    })
    .await?;
    let mut out = SettledBatch {
        ops: Vec::with_capacity(busy.len()),
        tracking: None,
        seen: edited.iter().map(|(_, e)| e.seq).collect(),
        conflicts: Vec::new(),
    };
    // The tables settling changes, with their tracking entries after it.
    let mut settled_tracking: Vec<(&str, Vec<TrackingEntry>)> = Vec::new();
    let mut by_table: HashMap<&str, Vec<Event>> = HashMap::new();
    for (table, event) in edited {
        if let Some((t, _)) = busy.iter().find(|(t, _)| t.name == table) {
            by_table.entry(t.name.as_str()).or_default().push(event);
        }
    }
    let mut trims = Vec::new();
    for ((table, ops), codes) in busy.iter().zip(&codes_of) {
        let events: Vec<Event> = by_table
            .remove(table.name.as_str())
            .unwrap_or_default()
            .into_iter()
            .filter(|e| codes.binary_search(&e.code).is_ok())
            .collect();
        if events.is_empty() {
            out.ops.push((*table, std::borrow::Cow::Borrowed(*ops)));
            continue;
        }
        let of_table = |entries: &[TrackingEntry]| -> Vec<TrackingEntry> {
            entries
                .iter()
                .filter(|t| t.table == table.name)
                .cloned()
                .collect()
        };
        let (tracking, stamps) = (of_table(&batch.tracking), of_table(&batch.stamps));
        let mut edited_codes: Vec<CombinedCode> = events.iter().map(|e| e.code.clone()).collect();
        edited_codes.sort();
        edited_codes.dedup();
        let mut locked = HashMap::with_capacity(edited_codes.len());
        for row in s.fetch(table, &edited_codes).await? {
            locked.insert(table.code_of(&row, &node)?, row);
        }
        let settled = settle_table(
            table,
            settle,
            &node,
            Pending {
                ops,
                tracking: &tracking,
                stamps: &stamps,
                edited: &events,
                locked: &locked,
            },
        )?;
        out.ops.push((*table, std::borrow::Cow::Owned(settled.ops)));
        settled_tracking.push((table.name.as_str(), settled.tracking));
        out.conflicts.extend(settled.conflicts);
        trims.extend(settled.trims);
    }
    if !settled_tracking.is_empty() {
        // The settled tables' entries as settling left them; the others' as
        // they came.
        let mut tracking: Vec<TrackingEntry> = batch
            .tracking
            .iter()
            .filter(|t| !settled_tracking.iter().any(|(name, _)| *name == t.table))
            .cloned()
            .collect();
        for (_, entries) in settled_tracking {
            tracking.extend(entries);
        }
        out.tracking = Some(tracking);
    }
    for trim in trims {
        match trim {
            Trim::Forget(seq) => {
                s.execute(
                    &d.tracking_forget_sql(),
                    &[Value::Int(seq)],
                    "trimming superseded local edits",
                )
                .await?;
            }
            Trim::Fields(seq, fields) => {
                let json = serde_json::to_string(&fields).expect("strings serialize");
                s.execute(
                    &d.tracking_fields_sql(),
                    &[Value::Text(json), Value::Int(seq)],
                    "trimming superseded local edits",
                )
                .await?;
            }
        }
    }
    Ok(out)
}

/// The edits after `guard` the batch's changes were not read against, in
/// tracking order, with their table names: the local ones, and those
/// integrated from nodes other than the batch's peer (a bounded round read
/// up to `guard`, and another spoke's later changes may follow it). Only
/// those `keep` takes are kept; they are read in pages of [`GUARD_PAGE`],
/// each starting at the position where the last ended, so a long backlog
/// after `guard` is never held whole. With `catch_up`, capture that records
/// later ([`Session::catch_up`]) takes what it has first.
async fn edits_after<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
    guard: Watermark,
    catch_up: bool,
    keep: impl Fn(&str, &Event) -> bool,
) -> Result<Vec<(String, Event)>> {
    let d = s.dialect();
    let context = "checking for concurrent edits";
    let peer = batch.peer.as_ref().map(|p| p.peer.as_str());
    let sql = d.guard_sql(peer.is_some());
    let node = s.node().to_string();
    let mut out = Vec::new();
    let mut from = guard;
    // The rows are locked by now: every edit of them has committed (or
    // waits for this transaction), so capture that decodes them later has them.
    if catch_up {
        s.catch_up(tables).await?;
    }
    position_scan(s, true, context).await?;
    loop {
        let mut params = d.position_params(from);
        params.extend(peer.map(|p| Value::Text(p.to_string())));
        params.push(Value::Int(GUARD_PAGE));
        let rows = s.query(&sql, &params, context).await?;
        let full = rows.len() as i64 >= GUARD_PAGE;
        for row in rows {
            let (at, row) = positioned_row(&node, row)?;
            from = at;
            let table = row.table.clone();
            // A row without a code is none the batch writes.
            if let Ok(event) = row.parse_coded(&node)? {
                if keep(&table, &event) {
                    out.push((table, event));
                }
            }
        }
        if !full {
            break;
        }
    }
    position_scan(s, false, context).await?;
    out.sort_by_key(|(_, e)| e.seq);
    Ok(out)
}

/// Records conflicts (each with its uid) in the conflict table.
async fn record_conflicts<'c, S: Session + ?Sized>(
    s: &mut S,
    conflicts: impl Iterator<Item = &'c crate::plan::Conflict>,
) -> Result<()> {
    let d = s.dialect();
    let mut rows: Vec<Value> = Vec::new();
    for c in conflicts {
        let uid = c.uid.clone().ok_or_else(|| Error::Data {
            table: c.table.clone(),
            code: c.code.to_json(),
            message: "a conflict to record has no uid".into(),
        })?;
        rows.push(Value::Text(uid));
        rows.push(Value::Text(
            serde_json::to_string(c).expect("conflicts serialize"),
        ));
    }
    for chunk in rows.chunks((d.max_params() / 2).clamp(1, ROWS_PER_INSERT) * 2) {
        s.execute(
            &d.conflict_insert_sql(chunk.len() / 2),
            chunk,
            "recording conflicts",
        )
        .await?;
    }
    Ok(())
}

/// Writes a fresh batch through the adapter's direct path; false when the
/// adapter has none (then nothing was written).
async fn insert_fresh<S: Session + ?Sized>(
    s: &mut S,
    busy: &Busy<'_>,
    out: &mut ApplyOutcome,
) -> Result<bool> {
    for (i, (table, ops)) in busy.iter().enumerate() {
        match s.insert_fresh(table, ops).await? {
            Some(n) => out.inserted += n,
            None if i == 0 => return Ok(false),
            None => {
                return Err(Error::Schema {
                    table: table.name.clone(),
                    message: format!(
                        "node '{}' wrote a fresh batch into some tables but not this one",
                        s.node()
                    ),
                })
            }
        }
    }
    Ok(true)
}

/// Runs one phase of a table's apply procedure.
async fn run_phase<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    phase: &str,
    out: &mut ApplyOutcome,
) -> Result<()> {
    let script = s.dialect().apply_call_sql(table, phase);
    let context = format!("applying rows to '{}'", table.name);
    let rows = query_script(s, &script, &[], &context).await?;
    let counts = rows.first().map(Vec::as_slice).unwrap_or_default();
    let n = |i: usize| -> Result<u64> {
        counts
            .get(i)
            .map(|v| int_of(s.node(), v, "apply counts").map(|n| n.max(0) as u64))
            .unwrap_or(Ok(0))
    };
    out.inserted += n(0)?;
    out.updated += n(1)?;
    out.deleted += n(2)?;
    Ok(())
}

/// A failed phase may be a race with the application (it inserted the same
/// code meanwhile): when the guard sees an edit of a row the batch writes,
/// that is the error to report; otherwise the phase's own.
async fn guard_or<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
    seen: &HashSet<i64>,
    failed: Error,
) -> Error {
    if let Some(guard) = batch.guard {
        if let Err(edit @ Error::ConcurrentEdit { .. }) =
            check_guard(s, tables, batch, guard, seen).await
        {
            return edit;
        }
    }
    failed
}

/// Refuses the batch when a row it writes was edited locally after `guard`
/// (edits at the positions in `seen` were settled and pass).
async fn check_guard<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
    guard: Watermark,
    seen: &HashSet<i64>,
) -> Result<()> {
    let touched = batch.touched(tables, s.node())?;
    // Snapshots were compared before the batch wrote, with the rows it
    // writes locked, and took its writes: comparing again finds none of
    // those rows.
    let catch_up = !s.dialect().snapshot_capture();
    let edited = edits_after(s, tables, batch, guard, catch_up, |table, event| {
        !seen.contains(&event.seq) && touched.get(table).is_some_and(|c| c.contains(&event.code))
    })
    .await?;
    match edited.first() {
        Some((table, event)) => Err(Error::ConcurrentEdit {
            node: s.node().to_string(),
            detail: format!("table '{table}', combined code {}", event.code),
        }),
        None => Ok(()),
    }
}

/// Applies one operation by row statements (databases without procedures).
async fn apply_row<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    op: &RowOp,
    out: &mut ApplyOutcome,
) -> Result<()> {
    let d = s.dialect();
    let context = format!("writing table '{}'", table.name);
    match op {
        RowOp::Delete { code } => {
            out.deleted += s
                .execute(&d.row_delete_sql(table), &code.to_values(), &context)
                .await?;
        }
        RowOp::Upsert { values, fields } => {
            check_width(s.node(), table, values)?;
            let code: Vec<Value> = table.code.iter().map(|&i| values[i].clone()).collect();
            let set: Vec<usize> = match fields {
                Some(f) => f
                    .iter()
                    .copied()
                    .filter(|&i| !table.is_code_column(i))
                    .collect(),
                None => (0..values.len())
                    .filter(|&i| !table.is_code_column(i))
                    .collect(),
            };
            if !set.is_empty() {
                let mut params: Vec<Value> = set.iter().map(|&i| values[i].clone()).collect();
                params.extend(code.iter().cloned());
                params.extend(set.iter().map(|&i| values[i].clone()));
                if s.execute(&d.row_update_sql(table, &set), &params, &context)
                    .await?
                    > 0
                {
                    out.updated += 1;
                    return Ok(());
                }
            }
            let mut params = values.clone();
            params.extend(code);
            out.inserted += s
                .execute(&d.row_insert_missing_sql(table), &params, &context)
                .await?;
        }
    }
    Ok(())
}

/// Refuses a row whose width is not the table's, naming node and table.
fn check_width(node: &str, table: &SyncTable, values: &[Value]) -> Result<()> {
    if values.len() == table.columns.len() {
        Ok(())
    } else {
        Err(Error::Schema {
            table: table.name.clone(),
            message: format!(
                "a row for node '{node}' has {} values, the table has {} columns",
                values.len(),
                table.columns.len()
            ),
        })
    }
}

/// The staging row of one operation: values, write mask, `U` or `D`.
pub fn staging_row(
    table: &SyncTable,
    op: &RowOp,
    node: &str,
) -> Result<(Vec<Value>, Vec<bool>, &'static str)> {
    let n = table.columns.len();
    Ok(match op {
        RowOp::Upsert { values, fields } => {
            check_width(node, table, values)?;
            let mut mask = vec![fields.is_none(); n];
            for &i in fields.iter().flatten() {
                mask[i] = true;
            }
            (values.clone(), mask, PHASE_UPSERT)
        }
        RowOp::Delete { code } => {
            let mut values = vec![Value::Null; n];
            for (&i, v) in table.code.iter().zip(code.to_values()) {
                values[i] = v;
            }
            (values, vec![false; n], PHASE_DELETE)
        }
    })
}

/// The staging row of one operation as one list of values, in the order of
/// [`staging_column_list`]: values, write mask as booleans, then `op`.
pub fn staging_values(table: &SyncTable, op: &RowOp, node: &str) -> Result<Vec<Value>> {
    let (mut values, mask, kind) = staging_row(table, op, node)?;
    values.extend(mask.into_iter().map(Value::Bool));
    values.push(Value::Text(kind.into()));
    Ok(values)
}

/// The columns of the staging table of a table of `n` columns, in the
/// order of [`staging_row`]: values `c0…`, write mask `m0…`, then `op`.
pub fn staging_column_list(n: usize) -> String {
    let names: Vec<String> = (0..n)
        .map(|i| format!("c{i}"))
        .chain((0..n).map(|i| format!("m{i}")))
        .chain(std::iter::once("op".to_string()))
        .collect();
    names.join(", ")
}

/// Fills a staging table by multi-row `INSERT`s (the shared way).
pub async fn stage_by_inserts<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    ops: &[RowOp],
) -> Result<()> {
    let d = s.dialect();
    let n = table.columns.len();
    let per_row = 2 * n + 1;
    let names = staging_column_list(n);
    let context = format!("staging rows of '{}'", table.name);
    for chunk in ops.chunks(ROWS_PER_INSERT.min(d.max_params() / per_row).max(1)) {
        let mut params = Vec::with_capacity(chunk.len() * per_row);
        for op in chunk {
            params.extend(staging_values(table, op, s.node())?);
        }
        let sql = insert_values_sql(
            d,
            &d.staging_table(&table.name),
            &names,
            chunk.len(),
            per_row,
        );
        s.execute(&sql, &params, &context).await?;
    }
    Ok(())
}

/// Writes a fresh batch by multi-row `INSERT`s into the table itself (the
/// shared way, for a node whose write transaction keeps every other writer
/// out). A fresh batch must fail rather than duplicate or overwrite a row
/// that arrived since the pass began, so the batch's codes are looked up
/// first: any found fails it with [`Error::ConcurrentEdit`].
pub async fn insert_fresh_by_inserts<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    ops: &[RowOp],
) -> Result<u64> {
    let rows = fresh_rows(s.node(), table, ops)?;
    let codes = rows
        .iter()
        .map(|v| table.code_of(v, s.node()))
        .collect::<Result<Vec<_>>>()?;
    if !crate::steps::read::fetch_by_code_lists(s, table, &codes)
        .await?
        .is_empty()
    {
        return Err(fresh_row_arrived(s.node(), table));
    }
    let d = s.dialect();
    let width = table.columns.len();
    let context = format!("inserting rows into '{}'", table.name);
    for chunk in rows.chunks(ROWS_PER_INSERT.min(d.max_params() / width).max(1)) {
        let params: Vec<Value> = chunk.iter().flat_map(|v| v.iter().cloned()).collect();
        let sql = insert_values_sql(d, &table.name, &d.column_list(table), chunk.len(), width);
        s.execute(&sql, &params, &context).await?;
    }
    Ok(rows.len() as u64)
}

/// The rows of a fresh batch for `node`, which holds upserts only, each as
/// wide as the table.
pub fn fresh_rows<'a>(node: &str, table: &SyncTable, ops: &'a [RowOp]) -> Result<Vec<&'a [Value]>> {
    ops.iter()
        .map(|op| match op {
            RowOp::Upsert { values, .. } => {
                check_width(node, table, values)?;
                Ok(values.as_slice())
            }
            RowOp::Delete { .. } => Err(Error::Schema {
                table: table.name.clone(),
                message: "a fresh batch holds a delete".into(),
            }),
        })
        .collect()
}

/// What a fresh batch fails with when one of its codes is already in the
/// table: hetsync's view of it was wrong, and the round starts over.
pub fn fresh_row_arrived(node: &str, table: &SyncTable) -> Error {
    Error::ConcurrentEdit {
        node: node.to_string(),
        detail: format!(
            "a row arrived in '{}' while the full sync filled it",
            table.name
        ),
    }
}

/// `INSERT INTO "into" (columns) VALUES (…), (…)`: `rows` tuples of
/// `width` placeholders.
pub fn insert_values_sql(
    d: &dyn crate::dialect::Dialect,
    into: &str,
    columns: &str,
    rows: usize,
    width: usize,
) -> String {
    format!(
        "INSERT INTO {} ({columns}) VALUES {}",
        d.ident(into),
        value_tuples(d, rows, width)
    )
}

/// `(p1, …, pw), (…)`: `rows` tuples of `width` placeholders, numbered on.
fn value_tuples(d: &dyn crate::dialect::Dialect, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let ps: Vec<String> = (1..=width)
                .map(|k| d.ordered_placeholder(r * width + k))
                .collect();
            format!("({})", ps.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes tracking rows by multi-row `INSERT`s (the shared way).
pub async fn insert_tracking<S: Session + ?Sized>(
    s: &mut S,
    entries: &[TrackingEntry],
) -> Result<()> {
    let d = s.dialect();
    let rows = entries
        .iter()
        .map(|e| {
            let time = d.stamp_value(e.stamp.time).ok_or_else(|| Error::Data {
                table: e.table.clone(),
                code: e.code.to_json(),
                message: format!("change time {} µs is out of range", e.stamp.time),
            })?;
            let row = TrackingParams {
                table: &e.table,
                code: e.code.to_json(),
                deleted: e.deleted,
                fields: e.fields.as_deref(),
                origin: Some(&e.stamp.origin),
                user: e.stamp.user.as_deref(),
            };
            Ok(row.values(time))
        })
        .collect::<Result<Vec<_>>>()?;
    insert_tracking_rows(s, rows, "writing tracking rows").await
}

/// One tracking row as [`crate::dialect::Dialect::tracking_insert_sql`]
/// takes it, but for its time.
pub(crate) struct TrackingParams<'a> {
    /// The table's name.
    pub table: &'a str,
    /// The combined code as JSON.
    pub code: String,
    /// Whether it records a delete.
    pub deleted: bool,
    /// The changed fields, `None` for every column.
    pub fields: Option<&'a [String]>,
    /// The node it was integrated from, `None` for a local edit.
    pub origin: Option<&'a str>,
    /// The database user who made it, where known.
    pub user: Option<&'a str>,
}

impl TrackingParams<'_> {
    /// The row's parameters, with `time` ([`crate::dialect::Dialect::stamp_value`]).
    pub fn values(&self, time: Value) -> [Value; TRACKING_INSERT_WIDTH] {
        let text = |t: Option<&str>| t.map_or(Value::Null, |t| Value::Text(t.to_string()));
        [
            Value::Text(self.table.to_string()),
            Value::Text(self.code.clone()),
            time,
            Value::Bool(self.deleted),
            self.fields
                .map(|f| Value::Text(serde_json::to_string(f).expect("strings serialize")))
                .unwrap_or(Value::Null),
            text(self.origin),
            text(self.user),
        ]
    }
}

/// Writes tracking rows given as their parameters, by multi-row `INSERT`s.
pub(crate) async fn insert_tracking_rows<S: Session + ?Sized>(
    s: &mut S,
    rows: Vec<[Value; TRACKING_INSERT_WIDTH]>,
    context: &str,
) -> Result<()> {
    let d = s.dialect();
    let per_statement = ROWS_PER_INSERT.min(d.max_params() / TRACKING_INSERT_WIDTH);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let params: Vec<Value> = rows.by_ref().take(per_statement).flatten().collect();
        let n = params.len() / TRACKING_INSERT_WIDTH;
        if let Some(sql) = d.tracking_reserve_sql(n) {
            s.execute(&sql, &[], context).await?;
        }
        s.execute(&d.tracking_insert_sql(n), &params, context)
            .await?;
    }
    Ok(())
}
