//! Reading: changes since a watermark in one consistent snapshot, lookups
//! by code, scans in code order, counts.

use super::install::{require_capture, require_installed};
use super::{commit, first, int_of, into_text, rollback, Session};
use crate::change::{
    group_events, parse_micros, ChangeSet, Codeless, ReadRange, TrackingRow, Uncoded, Watermark,
};
use crate::code::CombinedCode;
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};

/// Codes per lookup query at most (fewer where the parameter limit demands).
const CODES_PER_QUERY: usize = 5_000;

/// Reads the final changes of `range` with the current rows of the changed
/// codes, in one snapshot (see [`crate::adapter::Capture::read_changes`]).
pub async fn read_changes<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    range: &ReadRange,
) -> Result<ChangeSet> {
    require_capture(s).await?;
    // A snapshot comparison now would record what it finds after the end a
    // pass fixed at its first round: a later round of the pass (`until`)
    // cannot read it, so the comparison waits for the next pass.
    if !(s.dialect().snapshot_capture() && range.until.is_some()) {
        s.catch_up(tables).await?;
    }
    let end = s.begin_read(range.since).await?;
    if end < range.since {
        commit(s, "ending the read transaction").await?;
        return Ok(ChangeSet {
            upto: range.since,
            behind: true,
            ..ChangeSet::default()
        });
    }
    let end = range
        .until
        .map_or(end, |until| until.min(end))
        .max(range.since);
    match read_in_snapshot(s, tables, range, end).await {
        Ok(changes) => {
            commit(s, "ending the read transaction").await?;
            Ok(changes)
        }
        Err(e) => {
            rollback(s).await;
            Err(e)
        }
    }
}

async fn read_in_snapshot<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    range: &ReadRange,
    end: Watermark,
) -> Result<ChangeSet> {
    let (mut rows, upto, rest) = match range.limit {
        Some(limit) => read_bounded(s, range, end, limit).await?,
        None => (read_tracking(s, range, end).await?, end, None),
    };
    if range.only_local {
        rows.retain(|row| row.origin.is_none());
    }
    let (mut changes, uncoded) = group_events(tables, rows, s.node())?;
    let codeless = pass_over_uncoded(s, tables, &uncoded).await?;
    for table in tables {
        let Some(tc) = changes.get_mut(&table.name) else {
            continue;
        };
        let rows = s.fetch(table, &tc.changed_codes()).await?;
        tc.add_rows(table, rows, s.node())?;
    }
    Ok(ChangeSet {
        upto,
        tables: changes,
        rest,
        behind: false,
        refused: Vec::new(),
        codeless,
    })
}

/// Changes of rows that had no code (a NULL in a code column) cannot be
/// synced: per table with such changes, how many rows are still without a
/// code and what to tell. While any is left the engine stops the round
/// (naming the node, the table and its code columns) or parks them; once
/// none is left (deleted, or given a code: a change of code is captured as
/// the old row leaving and the new one arriving) they are passed over with
/// a warning.
async fn pass_over_uncoded<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    uncoded: &Uncoded,
) -> Result<Vec<Codeless>> {
    let mut out = Vec::new();
    for table in tables {
        let of_table: Vec<&str> = uncoded
            .iter()
            .filter(|(name, _)| *name == table.name)
            .map(|(_, code)| code.as_str())
            .collect();
        let Some(first) = of_table.first() else {
            continue;
        };
        let sql = s.dialect().uncoded_rows_sql(table);
        let context = format!("looking for rows of '{}' without a code", table.name);
        let rows = s.query(&sql, &[], &context).await?;
        let left = count(s.node(), &rows)?;
        let columns: Vec<&str> = table.code_columns().collect();
        if left == 0 {
            tracing::warn!(
                node = s.node(),
                table = %table.name,
                changes = of_table.len(),
                "passed over changes of rows that had no combined code (a NULL in a code column); no such row is left"
            );
        }
        out.push(Codeless {
            table: table.name.clone(),
            code: first.to_string(),
            rows_left: left,
            message: format!(
                "node '{}': {left} row(s) have a NULL in their combined code ({}), so they \
                 cannot be synced; give them a code or delete them, and the next round \
                 goes on",
                s.node(),
                columns.join(", ")
            ),
        });
    }
    Ok(out)
}

/// The parameters of a read of `range` up to `end`: both positions, then
/// the origin left out, if any.
fn range_params<S: Session + ?Sized>(s: &S, range: &ReadRange, end: Watermark) -> Vec<Value> {
    let d = s.dialect();
    let mut params = d.position_params(range.since);
    params.extend(d.position_params(end));
    params.extend(range.exclude_origin.iter().map(|o| Value::Text(o.clone())));
    params
}

/// The tracking rows after `range.since` up to `end`, in tracking order.
async fn read_tracking<S: Session + ?Sized>(
    s: &mut S,
    range: &ReadRange,
    end: Watermark,
) -> Result<Vec<TrackingRow>> {
    let d = s.dialect();
    let exclude = range.exclude_origin.is_some();
    let params = range_params(s, range, end);
    let rows = s
        .query(
            &d.tracking_sql(exclude),
            &params,
            "reading the tracking table",
        )
        .await?;
    rows.into_iter()
        .map(|row| tracking_row(s.node(), row))
        .collect()
}

/// The tracking rows of a read of at most `limit` events after
/// `range.since`, in tracking order, with where it ends and, when it stops
/// short of `end`, `end` as the rest. It reads one event more, in position
/// order, and stops before it: on a sequence just there; where positions
/// are transactions, at the start of that event's transaction when an
/// earlier one was read, else inside it ([`Watermark::within`]).
async fn read_bounded<S: Session + ?Sized>(
    s: &mut S,
    range: &ReadRange,
    end: Watermark,
    limit: u64,
) -> Result<(Vec<TrackingRow>, Watermark, Option<Watermark>)> {
    let d = s.dialect();
    let node = s.node().to_string();
    let exclude = range.exclude_origin.is_some();
    let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX - 1);
    let mut params = range_params(s, range, end);
    params.push(Value::Int(i64::try_from(limit + 1).unwrap_or(i64::MAX)));
    let context = "reading the tracking table";
    position_scan(s, true, context).await?;
    let rows = s
        .query(&d.bounded_tracking_sql(exclude), &params, context)
        .await?;
    position_scan(s, false, context).await?;
    let mut read = rows
        .into_iter()
        .map(|row| positioned_row(&node, row))
        .collect::<Result<Vec<_>>>()?;
    let (upto, rest) = match read.get(limit) {
        None => (end, None),
        Some(&(past, _)) => {
            let upto = if d.upto_includes() {
                Watermark::at(past.pos - 1)
            } else if read[0].0.pos < past.pos {
                Watermark::at(past.pos)
            } else {
                // One transaction holds more than `limit` events: up to
                // the one past the limit, whose tracking sequence is
                // `within`.
                Watermark {
                    pos: past.pos,
                    within: past.within - 1,
                }
            };
            (upto, Some(end))
        }
    };
    read.retain(|(at, _)| *at <= upto);
    let mut rows: Vec<TrackingRow> = read.into_iter().map(|(_, row)| row).collect();
    rows.sort_by_key(|row| row.seq);
    Ok((rows, upto, rest))
}

/// Makes the reads in position order that follow walk the position index
/// (`on`), or undoes that ([`crate::dialect::Dialect::position_scan_sql`]).
pub(crate) async fn position_scan<S: Session + ?Sized>(
    s: &mut S,
    on: bool,
    context: &str,
) -> Result<()> {
    let d = s.dialect();
    let statements = match on {
        true => d.position_scan_sql(),
        false => d.position_scan_reset_sql(),
    };
    for sql in statements {
        s.execute(&sql, &[], context).await?;
    }
    Ok(())
}

/// A row of [`crate::dialect::Dialect::tracking_columns`] followed by its
/// position ([`crate::dialect::Dialect::position_value`]: `pos`, then
/// `within` where the dialect has it), as read in position order.
pub(crate) fn positioned_row(node: &str, mut row: Vec<Value>) -> Result<(Watermark, TrackingRow)> {
    let position = row.split_off(TRACKING_COLUMNS.min(row.len()));
    let Some(pos) = position.first() else {
        return Err(Error::Database {
            node: node.to_string(),
            context: "reading the tracking table".into(),
            message: format!("expected a position after {TRACKING_COLUMNS} columns"),
        });
    };
    let within = position
        .get(1)
        .map(|v| int_of(node, v, "a tracking position"))
        .transpose()?;
    let at = Watermark {
        pos: int_of(node, pos, "a tracking position")?,
        within: within.unwrap_or(0),
    };
    Ok((at, tracking_row(node, row)?))
}

/// How many columns [`crate::dialect::Dialect::tracking_columns`] has.
const TRACKING_COLUMNS: usize = 8;

/// A row of [`crate::dialect::Dialect::tracking_columns`].
pub(crate) fn tracking_row(node: &str, row: Vec<Value>) -> Result<TrackingRow> {
    let [seq, table, code, time, deleted, fields, origin, user]: [Value; TRACKING_COLUMNS] =
        row.try_into().map_err(|row: Vec<Value>| Error::Database {
            node: node.to_string(),
            context: "reading the tracking table".into(),
            message: format!("expected 8 columns, got {}", row.len()),
        })?;
    let seq = int_of(node, &seq, "a tracking sequence")?;
    let table = into_text(node, table, "a table name")?.unwrap_or_default();
    let code = into_text(node, code, "a combined code")?.unwrap_or_default();
    // Microseconds, or text: an instant, or the microseconds as a driver
    // that reads every column as text printed them.
    let time = match &time {
        Value::Text(text) => text
            .parse()
            .ok()
            .or_else(|| parse_micros(text))
            .ok_or_else(|| Error::Data {
                table: table.clone(),
                code: code.clone(),
                message: format!(
                    "tracking row {seq} on node '{node}': unreadable change time {text:?}"
                ),
            })?,
        other => int_of(node, other, "a change time")?,
    };
    Ok(TrackingRow {
        seq,
        time,
        deleted: int_of(node, &deleted, "a delete flag")? != 0,
        fields: into_text(node, fields, "changed fields")?,
        origin: into_text(node, origin, "an origin")?,
        user: into_text(node, user, "a user name")?,
        table,
        code,
    })
}

/// Current rows of `codes`, by lists of codes in as few queries as the
/// parameter limit allows.
pub async fn fetch_by_code_lists<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    codes: &[CombinedCode],
) -> Result<Vec<Vec<Value>>> {
    let d = s.dialect();
    let per_query = (d.max_params() / table.code.len()).clamp(1, CODES_PER_QUERY);
    let mut out = Vec::with_capacity(codes.len());
    for chunk in codes.chunks(per_query) {
        let params: Vec<Value> = chunk.iter().flat_map(|c| c.to_values()).collect();
        let n = chunk.len();
        let sql = move |select: &str| d.rows_by_codes_sql(table, select, n);
        out.extend(s.select_rows(table, &sql, &params).await?);
    }
    Ok(out)
}

/// Locks the existing rows of `codes` (sorted), by lists of codes in as few
/// queries as the parameter limit allows ([`crate::dialect::Dialect::lock_rows_sql`]).
pub async fn lock_by_code_lists<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    codes: &[CombinedCode],
) -> Result<()> {
    let d = s.dialect();
    let per_query = (d.max_params() / table.code.len()).clamp(1, CODES_PER_QUERY);
    for chunk in codes.chunks(per_query) {
        let Some(sql) = d.lock_rows_sql(table, chunk.len()) else {
            return Ok(());
        };
        let params: Vec<Value> = chunk.iter().flat_map(|c| c.to_values()).collect();
        let context = format!("locking rows of '{}'", table.name);
        s.query(&sql, &params, &context).await?;
    }
    Ok(())
}

/// Up to `limit` rows whose code sorts after `after`, in code order.
pub async fn scan<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    after: Option<&CombinedCode>,
    limit: usize,
) -> Result<Vec<Vec<Value>>> {
    let d = s.dialect();
    let has_after = after.is_some();
    let sql = move |select: &str| d.scan_sql(table, select, has_after);
    let params = d.scan_params(after, limit);
    s.select_rows(table, &sql, &params).await
}

/// Number of rows in a table.
pub async fn count_rows<S: Session + ?Sized>(s: &mut S, table: &SyncTable) -> Result<u64> {
    let sql = s.dialect().count_rows_sql(table);
    let rows = s
        .query(&sql, &[], &format!("counting rows of '{}'", table.name))
        .await?;
    count(s.node(), &rows)
}

/// Counts tracking events after `since`, leaving out those from `exclude_origin`.
pub async fn count_events<S: Session + ?Sized>(
    s: &mut S,
    since: Watermark,
    exclude_origin: Option<&str>,
) -> Result<u64> {
    let d = s.dialect();
    let mut params = d.position_params(since);
    params.extend(exclude_origin.map(|o| Value::Text(o.to_string())));
    let rows = s
        .query(
            &d.count_events_sql(exclude_origin.is_some()),
            &params,
            "counting tracking rows",
        )
        .await?;
    Ok(count(s.node(), &rows)? + s.undrained_events().await?)
}

/// The watermark of `peer` integrated into this node.
pub async fn peer_watermark<S: Session + ?Sized>(
    s: &mut S,
    peer: &str,
) -> Result<Option<Watermark>> {
    require_installed(s).await?;
    let d = s.dialect();
    let rows = s
        .query(
            &d.peer_sql(),
            &[Value::Text(peer.to_string())],
            "reading peer watermarks",
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let [pos, within] = &row[..] else {
        return Err(Error::Database {
            node: s.node().to_string(),
            context: "reading peer watermarks".into(),
            message: format!("expected 2 columns, got {}", row.len()),
        });
    };
    Ok(Some(Watermark {
        pos: int_of(s.node(), pos, "a peer watermark")?,
        within: int_of(s.node(), within, "a peer watermark")?,
    }))
}

fn count(node: &str, rows: &[Vec<Value>]) -> Result<u64> {
    match first(rows) {
        Some(v) => Ok(int_of(node, v, "a count")?.max(0) as u64),
        None => Ok(0),
    }
}
