//! A node seen through its table maps: the engine speaks the hub's table and
//! column names and canonical values; the adapter underneath gets its own
//! names and values converted for its column types.

use super::convert::{convert, holds, kind_of, Unfit};
use super::resolve::{ColumnMap, Conversion, TableMap};
use crate::adapter::{
    Apply, Capabilities, Capture, ChangeSign, IntegrationLock, Node, TypeMapping,
};
use crate::change::{
    ApplyBatch, ApplyOutcome, ChangeSet, ReadRange, Refused, RowOp, TrackingEntry, Watermark,
};
use crate::code::CombinedCode;
use crate::digest::{keeps_text, BucketDigest, RowDigest};
use crate::schema::{SyncTable, TableShape};
use crate::types::CanonicalType;
use crate::value::Value;
use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::HashMap;

/// A [`Node`] that maps names and converts values between the engine and
/// the adapter. When every table maps to itself unchanged, calls go straight
/// through.
pub struct MappedNode {
    inner: Box<dyn Node>,
    maps: Vec<TableMap>,
    identity: bool,
}

/// One batch of [`MappedNode::scan_readable`].
#[derive(Debug, Default)]
pub struct Scanned {
    /// The rows read, in the hub's terms.
    pub rows: Vec<Vec<Value>>,
    /// The rows that could not be read: their codes and why.
    pub unreadable: Vec<(CombinedCode, String)>,
    /// The code of the last row scanned (read or not); `None` at the end.
    pub last: Option<CombinedCode>,
}

/// Which way values cross.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Node → hub.
    In,
    /// Hub → node.
    Out,
}

impl MappedNode {
    /// Wraps a node with the maps of its synced tables.
    pub fn new(inner: Box<dyn Node>, maps: Vec<TableMap>) -> MappedNode {
        let identity = maps.iter().all(TableMap::is_identity);
        MappedNode {
            inner,
            maps,
            identity,
        }
    }

    /// How synced table `logical` (hub name) is held on this node: names,
    /// types and the conversions each way; `None` for a table not synced.
    pub fn table_map(&self, logical: &str) -> Option<&TableMap> {
        self.maps.iter().find(|m| m.logical.name == logical)
    }

    fn map(&self, logical: &str) -> Result<&TableMap> {
        self.maps
            .iter()
            .find(|m| m.logical.name == logical)
            .ok_or_else(|| {
                Error::Deployment(format!(
                    "node '{}' has no mapping for table '{logical}'",
                    self.inner.name()
                ))
            })
    }

    /// The hub name of a table this node holds as `local` (itself when
    /// not synced).
    fn logical_name(&self, local: &str) -> String {
        self.maps
            .iter()
            .find(|m| m.local.name == local)
            .map_or_else(|| local.to_string(), |m| m.logical.name.clone())
    }

    fn local_tables(&self, tables: &[SyncTable]) -> Result<Vec<SyncTable>> {
        tables
            .iter()
            .map(|t| self.map(&t.name).map(|m| m.local.clone()))
            .collect()
    }

    /// Converts one row; an unfit value names table, code and column.
    fn row(&self, map: &TableMap, row: Vec<Value>, direction: Direction) -> Result<Vec<Value>> {
        self.convert_row(map, row, direction, false)
    }

    /// Converts one row. `exact`: nothing is cut, and a value that does not
    /// fit stays as it was read, so that it differs from anything converted.
    fn convert_row(
        &self,
        map: &TableMap,
        row: Vec<Value>,
        direction: Direction,
        exact: bool,
    ) -> Result<Vec<Value>> {
        if row.len() != map.columns.len() {
            return Err(Error::Deployment(format!(
                "node '{}', table '{}': a row has {} values for {} columns",
                self.inner.name(),
                map.logical.name,
                row.len(),
                map.columns.len()
            )));
        }
        if !exact && direction == Direction::In {
            self.check_kinds(map, &row)?;
        }
        let mut row = row;
        for (i, column) in map.columns.iter().enumerate() {
            let conversion = match direction {
                Direction::In => &column.inbound,
                Direction::Out => &column.outbound,
            };
            let Conversion::Convert { from, to } = conversion else {
                continue;
            };
            let value = match exact {
                true => row[i].clone(),
                false => std::mem::replace(&mut row[i], Value::Null),
            };
            let policy = match exact {
                true => super::convert::UnfitPolicy::Error,
                false => map.policy,
            };
            // Code columns always pass unchanged, so the code is still readable.
            let code = |row: &[Value]| {
                map.logical
                    .code_of(row, self.inner.name())
                    .map_or_else(|_| "?".to_string(), |c| c.to_string())
            };
            match convert(value, from, to, policy) {
                Ok(c) => {
                    if let Some(cut) = c.truncated {
                        tracing::warn!(
                            node = self.inner.name(),
                            table = %map.logical.name,
                            code = %code(&row),
                            column = %column.logical,
                            "value cut to fit: {cut}"
                        );
                    }
                    row[i] = c.value;
                }
                Err(_) if exact => {}
                Err(unfit) => return Err(self.unfit(map, column, code(&row), unfit, direction)),
            }
        }
        Ok(row)
    }

    /// Refuses a value the node's column cannot hold by its type (a BLOB in
    /// a TEXT column of SQLite), naming node, table, code and column:
    /// converted or passed on it would be rewritten (PostgreSQL makes such
    /// a BLOB the text `\x…`).
    fn check_kinds(&self, map: &TableMap, row: &[Value]) -> Result<()> {
        for (value, column) in row.iter().zip(&map.columns) {
            let Some(t) = &column.local_canonical else {
                continue;
            };
            if holds(t, value) {
                continue;
            }
            let node = self.inner.name();
            return Err(Error::Data {
                table: map.logical.name.clone(),
                code: map
                    .logical
                    .code_of(row, node)
                    .map_or_else(|_| "?".to_string(), |c| c.to_string()),
                message: format!(
                    "column '{}' ({}) on node '{node}' holds {}, which is not a {t}; refused, \
                     nothing is rewritten: store the value as the column's type there, or \
                     declare the column as what it holds",
                    column.local,
                    column.local_native,
                    kind_of(value)
                ),
            });
        }
        Ok(())
    }

    /// Checks rows read from the node as they are ([`Self::check_kinds`]).
    fn check_rows<'r>(
        &self,
        table: &str,
        rows: impl IntoIterator<Item = &'r Vec<Value>>,
    ) -> Result<()> {
        let map = self.map(table)?;
        rows.into_iter()
            .try_for_each(|row| self.check_kinds(map, row))
    }

    fn unfit(
        &self,
        map: &TableMap,
        column: &ColumnMap,
        code: String,
        unfit: Unfit,
        direction: Direction,
    ) -> Error {
        let node = self.inner.name();
        let (from, to) = match direction {
            Direction::In => (
                format!(
                    "column '{}' ({}) on node '{node}'",
                    column.local, column.local_native
                ),
                format!(
                    "hub column '{}' ({})",
                    column.logical, column.logical_native
                ),
            ),
            Direction::Out => (
                format!(
                    "hub column '{}' ({})",
                    column.logical, column.logical_native
                ),
                format!(
                    "column '{}' ({}) on node '{node}'",
                    column.local, column.local_native
                ),
            ),
        };
        Error::Data {
            table: map.logical.name.clone(),
            code,
            message: format!("{from} does not fit {to}: {unfit}"),
        }
    }

    /// Rows read from the node, in the hub's terms (`exact`: see [`Self::convert_row`]).
    fn rows(&self, map: &TableMap, rows: Vec<Vec<Value>>, exact: bool) -> Result<Vec<Vec<Value>>> {
        rows.into_iter()
            .map(|r| self.convert_row(map, r, Direction::In, exact))
            .collect()
    }

    /// Like [`Apply::scan`], for comparing copies: values are converted
    /// without cutting, and one that does not fit the hub's column is
    /// returned as read (so it differs from the hub's value).
    pub async fn scan_exact(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        self.scan_converted(table, after, limit, true).await
    }

    /// Like [`Apply::scan`], but a row that cannot be read as the hub's
    /// types ask is left out and returned apart with why (to be parked);
    /// with the code of the last row scanned, to go on after.
    pub async fn scan_readable(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Scanned> {
        let map = self.map(&table.name)?;
        let local = if self.identity { table } else { &map.local };
        let raw = self.inner.scan(local, after, limit).await?;
        let node = self.inner.name();
        let mut out = Scanned {
            last: raw
                .last()
                .map(|r| map.logical.code_of(r, node))
                .transpose()?,
            ..Scanned::default()
        };
        for row in raw {
            let code = map.logical.code_of(&row, node)?;
            let read = match self.identity {
                true => self.check_kinds(map, &row).map(|()| row),
                false => self.row(map, row, Direction::In),
            };
            match read {
                Ok(row) => out.rows.push(row),
                Err(Error::Data { message, .. }) => out.unreadable.push((code, message)),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Like [`Apply::fetch`], for comparing copies (see [`Self::scan_exact`]).
    pub async fn fetch_exact(
        &self,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<Vec<Vec<Value>>> {
        if self.identity {
            return self.inner.fetch(table, codes).await;
        }
        let map = self.map(&table.name)?;
        let rows = self.inner.fetch(&map.local, codes).await?;
        self.rows(map, rows, true)
    }

    async fn scan_converted(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
        exact: bool,
    ) -> Result<Vec<Vec<Value>>> {
        if self.identity {
            let rows = self.inner.scan(table, after, limit).await?;
            if !exact {
                self.check_rows(&table.name, &rows)?;
            }
            return Ok(rows);
        }
        let map = self.map(&table.name)?;
        let rows = self.inner.scan(&map.local, after, limit).await?;
        self.rows(map, rows, exact)
    }

    /// The canonical types the node's SQL hashes the table's columns as,
    /// when every column's values keep their canonical text on the way to
    /// the hub (`None`: the rows are streamed and hashed by the engine).
    fn digest_types(map: &TableMap) -> Option<Vec<CanonicalType>> {
        map.columns
            .iter()
            .map(|c| {
                let local = c.local_canonical.clone()?;
                match &c.inbound {
                    Conversion::Pass => Some(local),
                    Conversion::Convert { from, to } => keeps_text(from, to).then_some(local),
                }
            })
            .collect()
    }

    /// The table's digest computed by the node ([`Apply::digest`]) in the
    /// hub's terms; `None` when it cannot.
    pub async fn digest_buckets(
        &self,
        table: &SyncTable,
        buckets: u32,
    ) -> Result<Option<Vec<BucketDigest>>> {
        let map = self.map(&table.name)?;
        let Some(types) = Self::digest_types(map) else {
            return Ok(None);
        };
        self.inner.digest(&map.local, &types, buckets).await
    }

    /// The code and hash of the rows in buckets `which`, computed by the
    /// node ([`Apply::digest_rows`]); `None` when it cannot.
    pub async fn digest_row_hashes(
        &self,
        table: &SyncTable,
        buckets: u32,
        which: &[u32],
    ) -> Result<Option<Vec<RowDigest>>> {
        let map = self.map(&table.name)?;
        let Some(types) = Self::digest_types(map) else {
            return Ok(None);
        };
        self.inner
            .digest_rows(&map.local, &types, buckets, which)
            .await
    }

    fn field_names(
        map: &TableMap,
        fields: Option<Vec<String>>,
        direction: Direction,
    ) -> Option<Vec<String>> {
        fields.map(|names| {
            names
                .into_iter()
                .filter_map(|name| {
                    map.columns.iter().find_map(|c| match direction {
                        Direction::In => (c.local == name).then(|| c.logical.clone()),
                        Direction::Out => (c.logical == name).then(|| c.local.clone()),
                    })
                })
                .collect()
        })
    }

    /// Conflicts the node decided, in the hub's table and column names and
    /// values (those the engine decided are in them already). A losing row
    /// that does not convert is dropped: that conflict cannot be undone.
    fn logical_conflicts(&self, conflicts: &mut [crate::plan::Conflict]) {
        use crate::plan::LosingRow;
        for conflict in conflicts {
            let Some(map) = self.maps.iter().find(|m| m.local.name == conflict.table) else {
                continue;
            };
            conflict.table = map.logical.name.clone();
            conflict.field =
                Self::field_names(map, conflict.field.take().map(|f| vec![f]), Direction::In)
                    .and_then(|mut names| names.pop());
            conflict.loser_row = match conflict.loser_row.take() {
                Some(LosingRow::Row(values)) => self
                    .row(map, values, Direction::In)
                    .ok()
                    .map(LosingRow::Row),
                other => other,
            };
        }
    }

    fn local_batch(&self, batch: &ApplyBatch) -> Result<ApplyBatch> {
        let mut ops = Vec::with_capacity(batch.ops.len());
        for (name, table_ops) in &batch.ops {
            let map = self.map(name)?;
            let converted = table_ops
                .iter()
                .map(|op| {
                    Ok(match op {
                        RowOp::Upsert { values, fields } => RowOp::Upsert {
                            values: self.row(map, values.clone(), Direction::Out)?,
                            fields: fields.clone(),
                        },
                        RowOp::Delete { code } => RowOp::Delete { code: code.clone() },
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            ops.push((map.local.name.clone(), converted));
        }
        let local_entries = |entries: &[TrackingEntry]| {
            entries
                .iter()
                .map(|t| {
                    let map = self.map(&t.table)?;
                    Ok(TrackingEntry {
                        table: map.local.name.clone(),
                        fields: Self::field_names(map, t.fields.clone(), Direction::Out),
                        ..t.clone()
                    })
                })
                .collect::<Result<Vec<_>>>()
        };
        Ok(ApplyBatch {
            ops,
            tracking: local_entries(&batch.tracking)?,
            peer: batch.peer.clone(),
            guard: batch.guard,
            fresh: batch.fresh,
            settle: batch.settle.clone(),
            stamps: local_entries(&batch.stamps)?,
            log: batch.log.clone(),
        })
    }
}

#[async_trait]
impl Capture for MappedNode {
    async fn install(&self, tables: &[SyncTable]) -> Result<()> {
        self.inner.install(&self.local_tables(tables)?).await
    }

    async fn uninstall(&self) -> Result<()> {
        self.inner.uninstall().await
    }

    async fn is_installed(&self) -> Result<bool> {
        self.inner.is_installed().await
    }

    async fn await_changes(&self, timeout: std::time::Duration) -> Result<ChangeSign> {
        self.inner.await_changes(timeout).await
    }

    async fn read_changes(&self, tables: &[SyncTable], range: &ReadRange) -> Result<ChangeSet> {
        if self.identity {
            let mut read = self.inner.read_changes(tables, range).await?;
            for (name, table) in &mut read.tables {
                let map = self.map(name)?;
                let unreadable: Vec<(CombinedCode, Error)> = table
                    .rows
                    .iter()
                    .filter_map(|(code, row)| {
                        self.check_kinds(map, row).err().map(|e| (code.clone(), e))
                    })
                    .collect();
                for (code, e) in unreadable {
                    read.refused.push(refuse(table, name, code, e)?);
                }
            }
            return Ok(read);
        }
        let local = self.local_tables(tables)?;
        let read = self.inner.read_changes(&local, range).await?;
        let mut changes = HashMap::with_capacity(read.tables.len());
        let mut refused = read.refused;
        for (name, mut table) in read.tables {
            let Some(map) = self.maps.iter().find(|m| m.local.name == name) else {
                continue;
            };
            for event in &mut table.events {
                event.fields = Self::field_names(map, event.fields.take(), Direction::In);
            }
            let mut rows = HashMap::with_capacity(table.rows.len());
            let mut unreadable = Vec::new();
            for (code, row) in std::mem::take(&mut table.rows) {
                match self.row(map, row, Direction::In) {
                    Ok(row) => {
                        rows.insert(code, row);
                    }
                    Err(e) => unreadable.push((code, e)),
                }
            }
            table.rows = rows;
            for (code, e) in unreadable {
                refused.push(refuse(&mut table, &map.logical.name, code, e)?);
            }
            changes.insert(map.logical.name.clone(), table);
        }
        let codeless = read
            .codeless
            .into_iter()
            .filter_map(|mut c| {
                let map = self.maps.iter().find(|m| m.local.name == c.table)?;
                c.table = map.logical.name.clone();
                Some(c)
            })
            .collect();
        Ok(ChangeSet {
            upto: read.upto,
            tables: changes,
            rest: read.rest,
            behind: read.behind,
            refused,
            codeless,
        })
    }

    async fn position(&self) -> Result<Watermark> {
        self.inner.position().await
    }

    async fn committed_position(&self) -> Result<Watermark> {
        self.inner.committed_position().await
    }

    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64> {
        self.inner.count_events(since, exclude_origin).await
    }

    async fn peer_watermark(&self, peer: &str) -> Result<Option<Watermark>> {
        self.inner.peer_watermark(peer).await
    }

    async fn synced_tables(&self, peer: &str) -> Result<Option<Vec<String>>> {
        // Recorded in the hub's (logical) names, as the engine passed them.
        self.inner.synced_tables(peer).await
    }

    async fn pending_conflicts(&self) -> Result<Vec<crate::plan::Conflict>> {
        let mut conflicts = self.inner.pending_conflicts().await?;
        self.logical_conflicts(&mut conflicts);
        Ok(conflicts)
    }

    async fn forget_conflicts(&self, uids: &[String]) -> Result<()> {
        self.inner.forget_conflicts(uids).await
    }

    async fn purge_tracking(&self, integrated: Watermark, before_micros: i64) -> Result<u64> {
        self.inner.purge_tracking(integrated, before_micros).await
    }

    async fn purged_history(&self) -> Result<Option<crate::change::PurgedHistory>> {
        self.inner.purged_history().await
    }

    async fn bulk_begin(&self, tables: &[SyncTable], since: i64) -> Result<()> {
        self.inner
            .bulk_begin(&self.local_tables(tables)?, since)
            .await
    }

    async fn bulk_end(
        &self,
        tables: &[SyncTable],
        stamp: i64,
        user: Option<&str>,
    ) -> Result<Vec<crate::change::BulkRecorded>> {
        let mut recorded = self
            .inner
            .bulk_end(&self.local_tables(tables)?, stamp, user)
            .await?;
        for r in &mut recorded {
            r.table = self.logical_name(&r.table);
        }
        Ok(recorded)
    }

    async fn bulk_tables(&self) -> Result<std::collections::BTreeMap<String, i64>> {
        let local = self.inner.bulk_tables().await?;
        Ok(local
            .into_iter()
            .map(|(table, since)| (self.logical_name(&table), since))
            .collect())
    }
}

#[async_trait]
impl TypeMapping for MappedNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        let local = self
            .maps
            .iter()
            .find(|m| m.logical.name == table)
            .map_or(table, |m| m.local.name.as_str());
        self.inner.describe(local).await
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        self.inner.list_tables().await
    }
}

#[async_trait]
impl Apply for MappedNode {
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome> {
        if self.identity {
            return self.inner.apply(tables, batch).await;
        }
        let local = self.local_batch(batch)?;
        let mut outcome = self
            .inner
            .apply(&self.local_tables(tables)?, &local)
            .await?;
        self.logical_conflicts(&mut outcome.conflicts);
        Ok(outcome)
    }

    async fn fetch(&self, table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<Vec<Value>>> {
        if self.identity {
            let rows = self.inner.fetch(table, codes).await?;
            self.check_rows(&table.name, &rows)?;
            return Ok(rows);
        }
        let map = self.map(&table.name)?;
        let rows = self.inner.fetch(&map.local, codes).await?;
        self.rows(map, rows, false)
    }

    async fn scan(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        self.scan_converted(table, after, limit, false).await
    }

    async fn count_rows(&self, table: &SyncTable) -> Result<u64> {
        self.inner.count_rows(&self.map(&table.name)?.local).await
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        self.inner.lock_integration().await
    }

    async fn backup_file(&self, suffix: &str, keep: usize) -> Result<Option<std::path::PathBuf>> {
        self.inner.backup_file(suffix, keep).await
    }
}

impl Node for MappedNode {
    fn adapter(&self) -> &str {
        self.inner.adapter()
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn default_type_rules(&self) -> Option<&str> {
        self.inner.default_type_rules()
    }
}

/// Takes a change whose row could not be read out of `table`: a value that
/// does not fit is refused; any other error stops the read.
fn refuse(
    table: &mut crate::change::TableChanges,
    logical: &str,
    code: CombinedCode,
    e: Error,
) -> Result<Refused> {
    let Error::Data { message, .. } = e else {
        return Err(e);
    };
    Ok(Refused {
        table: logical.to_string(),
        stamp: table.take_code(&code),
        code,
        message,
    })
}
