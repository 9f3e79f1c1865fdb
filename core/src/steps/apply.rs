//! Apply: one batch in one transaction with capture silenced, all or nothing.
//!
//! The order, for every database:
//! 1. staging tables exist (created before the transaction: on MySQL even a
//!    temporary table's DDL may end one);
//! 2. begin; silence capture; lock the touched tables where the database
//!    needs that for the guard to be exact;
//! 3. a fresh batch goes straight in where the adapter has a way; otherwise
//!    rows are staged and applied by the per-table procedures (databases
//!    with procedures) or by row statements (SQLite): deletes child-first
//!    (reverse table order), then upserts parent-first (table order);
//! 4. the guard: a row the batch wrote that was edited locally after the
//!    round read it refuses the batch (the written rows are locked by now,
//!    so an edit has either committed and shows, or waits for this one);
//! 5. tracking rows of the integrated changes, the peer watermark;
//! 6. capture back on; commit.

use super::{begin, commit, int_of, into_text, query_script, rollback, Session};
use crate::change::{ApplyBatch, ApplyOutcome, RowOp, TrackingEntry};
use crate::dialect::{SilenceScope, TxKind, PHASE_DELETE, PHASE_UPSERT};
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};
use std::time::Instant;

/// Rows per multi-row `INSERT` at most (fewer where the parameter limit demands).
const ROWS_PER_INSERT: usize = 2_000;

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
    let staged = d.capabilities().procedures;
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
    match apply_in(s, tables, batch, &busy, staged).await {
        Ok(out) => {
            commit(s, "committing the batch").await?;
            Ok(out)
        }
        Err(e) => {
            rollback(s).await;
            if d.silence_scope() == SilenceScope::Session {
                if let Some(sql) = d.unsilence_sql() {
                    let _ = s.execute(&sql, &[], "re-enabling capture").await;
                }
            }
            Err(e)
        }
    }
}

async fn apply_in<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
    busy: &Busy<'_>,
    staged: bool,
) -> Result<ApplyOutcome> {
    let d = s.dialect();
    s.execute(&d.silence_sql(), &[], "silencing capture")
        .await?;
    for (table, _) in busy {
        if let Some(sql) = d.lock_table_sql(&table.name) {
            s.execute(&sql, &[], &format!("locking '{}'", table.name))
                .await?;
        }
    }
    let started = Instant::now();
    let mut out = ApplyOutcome::default();
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
                return Err(guard_or(s, tables, batch, e).await);
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
    let applied_ms = started.elapsed().as_millis();
    if let Some(guard) = batch.guard {
        check_guard(s, tables, batch, guard).await?;
    }
    s.write_tracking(&batch.tracking).await?;
    if let Some(mark) = &batch.peer {
        s.execute(
            &d.record_peer_sql(),
            &[Value::Text(mark.peer.clone()), Value::Int(mark.watermark.0)],
            "recording the peer watermark",
        )
        .await?;
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
    failed: Error,
) -> Error {
    if let Some(guard) = batch.guard {
        if let Err(edit @ Error::ConcurrentEdit { .. }) = check_guard(s, tables, batch, guard).await
        {
            return edit;
        }
    }
    failed
}

/// Refuses the batch when a row it writes was edited locally after `guard`.
async fn check_guard<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    batch: &ApplyBatch,
    guard: crate::change::Watermark,
) -> Result<()> {
    let script = s.dialect().guard_sql();
    let rows = query_script(
        s,
        &script,
        &[Value::Int(guard.0)],
        "checking for concurrent edits",
    )
    .await?;
    let node = s.node().to_string();
    let mut edited = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = row.into_iter();
        let table = values.next().map(|v| into_text(&node, v, "a table name"));
        let code = values
            .next()
            .map(|v| into_text(&node, v, "a combined code"));
        if let (Some(Some(table)), Some(Some(code))) = (table.transpose()?, code.transpose()?) {
            edited.push((table, code));
        }
    }
    batch.check_guard(tables, &node, edited)
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

/// Fills a staging table by multi-row `INSERT`s (the shared way).
pub async fn stage_by_inserts<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    ops: &[RowOp],
) -> Result<()> {
    let d = s.dialect();
    let n = table.columns.len();
    let per_row = 2 * n + 1;
    let names: Vec<String> = (0..n)
        .map(|i| format!("c{i}"))
        .chain((0..n).map(|i| format!("m{i}")))
        .chain(std::iter::once("op".to_string()))
        .collect();
    let context = format!("staging rows of '{}'", table.name);
    for chunk in ops.chunks(ROWS_PER_INSERT.min(d.max_params() / per_row).max(1)) {
        let mut params = Vec::with_capacity(chunk.len() * per_row);
        for op in chunk {
            let (values, mask, kind) = staging_row(table, op, s.node())?;
            params.extend(values);
            params.extend(mask.into_iter().map(Value::Bool));
            params.push(Value::Text(kind.into()));
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            d.ident(&d.staging_table(&table.name)),
            names.join(", "),
            value_tuples(d, chunk.len(), per_row)
        );
        s.execute(&sql, &params, &context).await?;
    }
    Ok(())
}

/// `(p1, …, pw), (…)`: `rows` tuples of `width` placeholders, numbered on.
fn value_tuples(d: &dyn crate::dialect::Dialect, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let ps: Vec<String> = (1..=width).map(|k| d.placeholder(r * width + k)).collect();
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
    for chunk in entries.chunks(ROWS_PER_INSERT.min(d.max_params() / 6)) {
        let mut params = Vec::with_capacity(chunk.len() * 6);
        for e in chunk {
            let time = d.stamp_value(e.stamp.time).ok_or_else(|| Error::Data {
                table: e.table.clone(),
                code: e.code.to_json(),
                message: format!("change time {} µs is out of range", e.stamp.time),
            })?;
            params.extend([
                Value::Text(e.table.clone()),
                Value::Text(e.code.to_json()),
                time,
                Value::Bool(e.deleted),
                e.fields
                    .as_ref()
                    .map(|f| Value::Text(serde_json::to_string(f).expect("strings serialize")))
                    .unwrap_or(Value::Null),
                Value::Text(e.stamp.origin.clone()),
            ]);
        }
        s.execute(
            &d.tracking_insert_sql(chunk.len()),
            &params,
            "writing tracking rows",
        )
        .await?;
    }
    Ok(())
}
