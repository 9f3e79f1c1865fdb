//! Capture by snapshot difference, for databases where hetsync cannot make
//! triggers (no privilege for them, a source that has none): paper 004's
//! "snapshot method".
//!
//! - Install copies each synced table's synced columns into its snapshot
//!   table ([`crate::dialect::snapshot`]) and records which tables and
//!   columns the snapshots hold ([`SNAPSHOT_TABLES`]).
//! - A catch-up ([`catch_up`]: before a round reads the node, inside every
//!   apply before it writes, and before an install replaces capture)
//!   compares each table with its snapshot and records what differs as
//!   local edits, stamped with the catch-up's time: a row with no identical
//!   snapshot row is new (a whole-row change) or changed (the fields whose
//!   values differ byte for byte); a snapshot row whose code is gone is a
//!   delete (a code whose case or bytes changed is a delete and a new
//!   row). Then it brings the snapshot rows of those codes up to date.
//! - The database compares; only rows that differ are read, [`PAGE`] at a
//!   time in code order, so memory is bounded whatever the size of the change.
//! - The engine's own writes are taken into the snapshot in the same
//!   transaction ([`absorb`]), so they are never captured back.
//!
//! A catch-up runs in a write transaction (the caller's, or one of its own)
//! with the tables locked against writers where the database needs that,
//! so the snapshot is brought up to date from the rows it just compared.
//! Several edits of a row between two catch-ups are one change; an edit
//! that is undone before the next catch-up is none.

use super::apply::{insert_tracking_rows, TrackingParams};
use super::install::{meta, meta_json, meta_set, table_exists};
use super::read::fetch_by_code_lists;
use super::{begin, commit, first_int, lock_tables, rollback, Session};
use crate::change::RowOp;
use crate::code::CombinedCode;
use crate::dialect::snapshot::{
    as_snapshot, changed_sql, forget_sql, gone_sql, pending_sql, snapshot_table, take_sql,
};
use crate::dialect::TxKind;
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// Rows read per page of a comparison.
const PAGE: usize = 10_000;

/// Codes per statement that forgets or takes snapshot rows at most (fewer
/// where the parameter limit demands).
const CODES_PER_STATEMENT: usize = 1_000;

/// The meta row that names the tables whose snapshots install took, with
/// their columns and code (a JSON list of tables).
const SNAPSHOT_TABLES: &str = "snapshot_tables";

/// The tables whose snapshots the node holds, as install recorded them.
async fn recorded<S: Session + ?Sized>(s: &mut S) -> Result<Vec<SyncTable>> {
    let settings = meta(s).await?;
    meta_json(s.node(), &settings, SNAPSHOT_TABLES)
}

/// Records the tables whose snapshots install took (none where the node
/// captures otherwise).
pub(super) async fn record<S: Session + ?Sized>(s: &mut S, tables: &[SyncTable]) -> Result<()> {
    let json = serde_json::to_string(tables).expect("tables serialize");
    meta_set(s, SNAPSHOT_TABLES, &json).await
}

/// Records every edit made since the last catch-up on the tables with a
/// snapshot, and brings their snapshots up to date (module doc). Inside
/// the caller's transaction when one is open.
pub async fn catch_up<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let tables = recorded(s).await?;
    catch_up_on(s, tables).await
}

/// [`catch_up`] on the snapshots that are still there, whatever capture the
/// node has now: install records what they had not taken before it
/// replaces capture (edits made after a snapshot was dropped cannot be
/// told, as with a dropped trigger).
pub(super) async fn catch_up_existing<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let mut tables = Vec::new();
    for table in recorded(s).await? {
        let name = snapshot_table(s.dialect(), &table.name);
        if table_exists(s, &name, "looking for a snapshot").await? {
            tables.push(table);
        }
    }
    catch_up_on(s, tables).await
}

async fn catch_up_on<S: Session + ?Sized>(s: &mut S, tables: Vec<SyncTable>) -> Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    if s.open_transaction().load(Ordering::SeqCst) {
        return compare_all(s, &tables).await;
    }
    begin(s, TxKind::Write).await?;
    match compare_all(s, &tables).await {
        Ok(()) => commit(s, "committing the snapshot comparison").await,
        Err(e) => {
            rollback(s).await;
            Err(e)
        }
    }
}

/// How many edits the tables with a snapshot hold that no catch-up has
/// recorded yet.
pub async fn pending<S: Session + ?Sized>(s: &mut S) -> Result<u64> {
    let d = s.dialect();
    let mut total = 0;
    for table in recorded(s).await? {
        let context = format!("counting the edits of '{}' since its snapshot", table.name);
        let rows = s.query(&pending_sql(d, &table), &[], &context).await?;
        total += first_int(s.node(), &rows, "a count of edits")?.max(0) as u64;
    }
    Ok(total)
}

async fn compare_all<S: Session + ?Sized>(s: &mut S, tables: &[SyncTable]) -> Result<()> {
    lock_tables(s, &tables.iter().collect::<Vec<_>>()).await?;
    for table in tables {
        record_differing(s, table, Differing::Changed).await?;
        record_differing(s, table, Differing::Gone).await?;
        record_uncoded(s, table).await?;
    }
    Ok(())
}

/// What a page of the comparison reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Differing {
    /// The table's rows that are new or changed.
    Changed,
    /// The snapshot's rows whose code the table no longer holds.
    Gone,
}

/// Records the table's rows that differ (`which`), a page at a time in
/// code order, bringing the snapshot's rows of each page up to date.
async fn record_differing<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    which: Differing,
) -> Result<()> {
    let d = s.dialect();
    let snapshot = as_snapshot(d, table);
    let read = match which {
        Differing::Changed => table,
        Differing::Gone => &snapshot,
    };
    let mut after: Option<CombinedCode> = None;
    loop {
        let page = |select: &str| match which {
            Differing::Changed => changed_sql(d, table, select, after.is_some()),
            Differing::Gone => gone_sql(d, table, select, after.is_some()),
        };
        let params = d.scan_params(after.as_ref(), PAGE);
        let rows = s.select_rows(read, &page, &params).await?;
        let codes = codes_of(s.node(), table, &rows)?;
        let edits = match which {
            Differing::Changed => changes(s, table, &snapshot, &rows, &codes).await?,
            Differing::Gone => codes.iter().map(Edit::delete).collect(),
        };
        record_edits(s, table, &edits).await?;
        refresh(s, table, &codes).await?;
        if rows.len() < PAGE {
            return Ok(());
        }
        after = codes.last().cloned();
    }
}

/// The edits of new and changed `rows` (with their `codes`): a whole row
/// where the snapshot has no row of the code, else the fields that differ
/// from the snapshot's row (none: no edit); a snapshot row the database
/// matched to a code that is not its own byte for byte is the old form of
/// a code whose case changed, a delete.
async fn changes<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    snapshot: &SyncTable,
    rows: &[Vec<Value>],
    codes: &[CombinedCode],
) -> Result<Vec<Edit>> {
    let mut before: HashMap<CombinedCode, Vec<Value>> = HashMap::new();
    for row in fetch_by_code_lists(s, snapshot, codes).await? {
        before.insert(code_of(s.node(), table, &row)?, row);
    }
    let mut edits = Vec::with_capacity(rows.len());
    for (row, code) in rows.iter().zip(codes) {
        match before.remove(code) {
            None => edits.push(Edit::whole(code)),
            Some(old) => {
                let fields: Vec<String> = (0..table.columns.len())
                    .filter(|&i| !table.is_code_column(i) && old[i] != row[i])
                    .map(|i| table.columns[i].clone())
                    .collect();
                if !fields.is_empty() {
                    edits.push(Edit::fields(code, fields));
                }
            }
        }
    }
    edits.extend(before.keys().map(Edit::delete));
    Ok(edits)
}

/// Takes the rows the engine just wrote (`ops`) into the table's snapshot,
/// so that they are not captured back (nothing where the node captures
/// otherwise).
pub(super) async fn absorb<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    ops: &[RowOp],
) -> Result<()> {
    if !s.dialect().snapshot_capture() {
        return Ok(());
    }
    let codes = ops
        .iter()
        .map(|op| match op {
            RowOp::Upsert { values, .. } => code_of(s.node(), table, values),
            RowOp::Delete { code } => Ok(code.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    refresh(s, table, &codes).await
}

/// Records a change of a row without a code when the table holds any (a
/// NULL in a code column; the comparison cannot tell such rows apart): as
/// with a trigger's record of one, the round stops, naming the table and
/// its code columns, until no such row is left. Each catch-up records one
/// while they are there.
async fn record_uncoded<S: Session + ?Sized>(s: &mut S, table: &SyncTable) -> Result<()> {
    let context = format!("looking for rows of '{}' without a code", table.name);
    let rows = s
        .query(&s.dialect().uncoded_rows_sql(table), &[], &context)
        .await?;
    if first_int(s.node(), &rows, "a count of rows")? == 0 {
        return Ok(());
    }
    let nulls = serde_json::to_string(&vec![serde_json::Value::Null; table.code.len()])
        .expect("a list of nulls serializes");
    record_edits(
        s,
        table,
        &[Edit {
            code: nulls,
            deleted: false,
            fields: None,
        }],
    )
    .await
}

/// A local edit a comparison found.
struct Edit {
    /// The combined code as JSON.
    code: String,
    deleted: bool,
    /// The changed fields, `None` for a whole row.
    fields: Option<Vec<String>>,
}

impl Edit {
    fn whole(code: &CombinedCode) -> Edit {
        Edit {
            code: code.to_json(),
            deleted: false,
            fields: None,
        }
    }

    fn fields(code: &CombinedCode, fields: Vec<String>) -> Edit {
        Edit {
            code: code.to_json(),
            deleted: false,
            fields: Some(fields),
        }
    }

    fn delete(code: &CombinedCode) -> Edit {
        Edit {
            code: code.to_json(),
            deleted: true,
            fields: None,
        }
    }
}

/// Writes local tracking rows (no origin, no user) for `edits`, stamped now.
async fn record_edits<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    edits: &[Edit],
) -> Result<()> {
    let now = chrono::Utc::now().timestamp_micros();
    let time = s
        .dialect()
        .stamp_value(now)
        .expect("the current time is in range");
    let rows: Vec<_> = edits
        .iter()
        .map(|edit| {
            let row = TrackingParams {
                table: &table.name,
                code: edit.code.clone(),
                deleted: edit.deleted,
                fields: edit.fields.as_deref(),
                origin: None,
                user: None,
            };
            row.values(time.clone())
        })
        .collect();
    let context = format!("recording the edits of '{}' since its snapshot", table.name);
    insert_tracking_rows(s, rows, &context).await
}

/// Brings the snapshot rows of `codes` up to date: deletes them, then
/// copies the table's rows of those codes (a code gone from the table
/// stays gone), a list of codes per statement as the parameter limit
/// allows.
async fn refresh<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    codes: &[CombinedCode],
) -> Result<()> {
    let d = s.dialect();
    let context = format!("updating the snapshot of '{}'", table.name);
    let per_statement = (d.max_params() / table.code.len()).clamp(1, CODES_PER_STATEMENT);
    for chunk in codes.chunks(per_statement) {
        let params: Vec<Value> = chunk.iter().flat_map(|c| c.to_values()).collect();
        for sql in [
            forget_sql(d, table, chunk.len()),
            take_sql(d, table, chunk.len()),
        ] {
            s.execute(&sql, &params, &context).await?;
        }
    }
    Ok(())
}

/// The code of a row read from a table or its snapshot.
fn code_of(node: &str, table: &SyncTable, row: &[Value]) -> Result<CombinedCode> {
    CombinedCode::from_row(row, &table.code).map_err(|e| Error::Database {
        node: node.to_string(),
        context: format!("comparing '{}' with its snapshot", table.name),
        message: e.to_string(),
    })
}

fn codes_of(node: &str, table: &SyncTable, rows: &[Vec<Value>]) -> Result<Vec<CombinedCode>> {
    rows.iter().map(|row| code_of(node, table, row)).collect()
}
