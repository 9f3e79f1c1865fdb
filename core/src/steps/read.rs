//! Reading: changes since a watermark in one consistent snapshot, lookups
//! by code, scans in code order, counts.

use super::install::require_installed;
use super::{commit, first, int_of, into_text, rollback, Session};
use crate::change::{group_events, parse_micros, ChangeSet, TrackingRow, Watermark};
use crate::code::CombinedCode;
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};

/// Codes per lookup query at most (fewer where the parameter limit demands).
const CODES_PER_QUERY: usize = 5_000;

/// Reads every change after `since` with the current rows of the changed
/// codes, in one snapshot (see [`crate::adapter::Capture::read_changes`]).
pub async fn read_changes<S: Session + ?Sized>(
    s: &mut S,
    tables: &[SyncTable],
    since: Watermark,
    exclude_origin: Option<&str>,
) -> Result<ChangeSet> {
    require_installed(s).await?;
    let upto = s.begin_read(since).await?;
    match read_in_snapshot(s, tables, since, upto, exclude_origin).await {
        Ok(tables) => {
            commit(s, "ending the read transaction").await?;
            Ok(ChangeSet { upto, tables })
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
    since: Watermark,
    upto: Watermark,
    exclude_origin: Option<&str>,
) -> Result<std::collections::HashMap<String, crate::change::TableChanges>> {
    let d = s.dialect();
    let mut params = vec![Value::Int(since.0), Value::Int(upto.0)];
    params.extend(exclude_origin.map(|o| Value::Text(o.to_string())));
    let rows = s
        .query(
            &d.tracking_sql(exclude_origin.is_some()),
            &params,
            "reading the tracking table",
        )
        .await?;
    let rows = rows
        .into_iter()
        .map(|row| tracking_row(s.node(), row))
        .collect::<Result<Vec<_>>>()?;
    let mut changes = group_events(tables, rows, s.node())?;
    for table in tables {
        let Some(tc) = changes.get_mut(&table.name) else {
            continue;
        };
        let rows = s.fetch(table, &tc.changed_codes()).await?;
        tc.add_rows(table, rows, s.node())?;
    }
    Ok(changes)
}

/// A row of [`crate::dialect::Dialect::tracking_columns`].
pub(crate) fn tracking_row(node: &str, row: Vec<Value>) -> Result<TrackingRow> {
    let [seq, table, code, time, deleted, fields, origin, user]: [Value; 8] =
        row.try_into().map_err(|row: Vec<Value>| Error::Database {
            node: node.to_string(),
            context: "reading the tracking table".into(),
            message: format!("expected 8 columns, got {}", row.len()),
        })?;
    let seq = int_of(node, &seq, "a tracking sequence")?;
    let table = into_text(node, table, "a table name")?.unwrap_or_default();
    let code = into_text(node, code, "a combined code")?.unwrap_or_default();
    let time = match &time {
        Value::Text(text) => parse_micros(text).ok_or_else(|| Error::Data {
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
    let mut params = vec![Value::Int(since.0)];
    params.extend(exclude_origin.map(|o| Value::Text(o.to_string())));
    let rows = s
        .query(
            &d.count_events_sql(exclude_origin.is_some()),
            &params,
            "counting tracking rows",
        )
        .await?;
    count(s.node(), &rows)
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
    first(&rows)
        .map(|v| int_of(s.node(), v, "a peer watermark").map(Watermark))
        .transpose()
}

fn count(node: &str, rows: &[Vec<Value>]) -> Result<u64> {
    match first(rows) {
        Some(v) => Ok(int_of(node, v, "a count")?.max(0) as u64),
        None => Ok(0),
    }
}
