//! Change events as read from a tracking table, the change sets a node
//! returns, and the batches the engine asks a node to apply.

use crate::code::CombinedCode;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

/// A position in a node's tracking table. Adapters guarantee that every change
/// committed later is read at a greater position, whatever the commit order of
/// concurrent transactions (SQLite: the tracking sequence, since writers are
/// serialized).
///
/// Where positions are transactions (PostgreSQL: a transaction-id horizon,
/// [`crate::dialect::Dialect::upto_includes`] false) a read may stop inside
/// one transaction that holds more events than it may take: `within` then
/// says how far, so memory stays bounded whatever one transaction changed.
/// Positions order by `pos`, then `within`.
///
/// Serialized as the bare `pos` when `within` is 0 (every position of a
/// sequence), else as `[pos, within]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Watermark {
    /// The position: a tracking sequence number, or a transaction-id horizon
    /// (every transaction before it is over).
    pub pos: i64,
    /// Where positions are transactions: the events of transaction `pos`
    /// (in tracking-sequence order) taken as well, those whose tracking
    /// sequence is at most this; 0 for none of them. Always 0 where
    /// positions are a sequence.
    pub within: i64,
}

impl Watermark {
    /// The position `pos`, nothing taken within it.
    pub const fn at(pos: i64) -> Self {
        Watermark { pos, within: 0 }
    }
}

/// What the end of a bulk load recorded on one table
/// ([`crate::adapter::Capture::bulk_end`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRecorded {
    /// The table.
    pub table: String,
    /// Rows new or changed since the load began (whole-row changes).
    pub changed: u64,
    /// Rows the load deleted.
    pub deleted: u64,
}

/// How far a node's tracking rows were purged
/// ([`crate::adapter::Capture::purged_history`]): rows at or before `upto`
/// made before `before_micros` (UTC µs) may be gone. A peer whose watermark
/// of the node is behind `upto` may have missed changes of the node: it is
/// stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgedHistory {
    /// The furthest position a purge deleted up to.
    pub upto: Watermark,
    /// Every purged row was made before this time (UTC µs).
    pub before_micros: i64,
}

impl fmt::Display for Watermark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.within {
            0 => write!(f, "{}", self.pos),
            within => write!(f, "{}+{within}", self.pos),
        }
    }
}

/// [`Watermark`]'s serialized forms.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WatermarkForm {
    At(i64),
    Within(i64, i64),
}

impl Serialize for Watermark {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.within {
            0 => WatermarkForm::At(self.pos),
            within => WatermarkForm::Within(self.pos, within),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Watermark {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match WatermarkForm::deserialize(deserializer)? {
            WatermarkForm::At(pos) => Watermark::at(pos),
            WatermarkForm::Within(pos, within) => Watermark { pos, within },
        })
    }
}

/// When, where and by whom a change was made: UTC microseconds since the
/// Unix epoch, the node it was first made on and the database user who made
/// it there. Stamps travel with a change from node to node so every node
/// compares the original edit times (and users, see
/// [`crate::schema::ConflictPolicy::UserLevel`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// UTC microseconds since 1970-01-01.
    pub time: i64,
    /// Name of the node where the edit was made.
    pub origin: String,
    /// The database user who made the edit, as the origin's tracking row
    /// recorded it; `None` where the database cannot tell (SQLite, decoded
    /// WAL) or for rows hetsync itself wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Stamp {
    /// A stamp of `time` on `origin`, with no user.
    pub fn new(time: i64, origin: impl Into<String>) -> Stamp {
        Stamp {
            time,
            origin: origin.into(),
            user: None,
        }
    }

    /// A stamp of now on `origin`, with no user: for rows hetsync sends on
    /// a node's behalf with no recorded change (a full comparison, a repair).
    pub fn now(origin: impl Into<String>) -> Stamp {
        Stamp::new(chrono::Utc::now().timestamp_micros(), origin)
    }

    /// Orders two stamps for conflict resolution: the later time wins; on a tie
    /// the hub wins, and between two spokes the name that sorts first wins.
    pub fn precedence(&self, other: &Stamp, hub: &str) -> Ordering {
        self.time
            .cmp(&other.time)
            .then_with(|| match (self.origin == hub, other.origin == hub) {
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => other.origin.cmp(&self.origin),
            })
    }

    /// The time as an RFC 3339 string with milliseconds.
    pub fn time_text(&self) -> String {
        format_micros(self.time)
    }
}

/// Formats UTC microseconds as RFC 3339 with millisecond precision.
pub fn format_micros(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| micros.to_string())
}

/// Parses an RFC 3339 / ISO 8601 UTC time into microseconds.
pub fn parse_micros(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_micros())
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc().timestamp_micros())
        })
}

/// One tracking-table row: which row of which table changed, which fields,
/// when, where, by whom, and whether it was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the node's tracking table.
    pub seq: i64,
    /// Combined code of the changed row.
    pub code: CombinedCode,
    /// Change time and origin node.
    pub stamp: Stamp,
    /// True when the row was deleted.
    pub deleted: bool,
    /// Changed columns; `None` means every column (an insert).
    pub fields: Option<Vec<String>>,
}

/// The changes of one table read from one node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableChanges {
    /// Events in tracking order.
    pub events: Vec<Event>,
    /// Current rows of every changed code that still exists, in
    /// [`crate::schema::SyncTable::columns`] order.
    pub rows: HashMap<CombinedCode, Vec<Value>>,
}

impl TableChanges {
    /// Takes `code` out: its events and row. Returns the stamp of its last
    /// event (the change left out).
    pub fn take_code(&mut self, code: &CombinedCode) -> Option<Stamp> {
        let last = self
            .events
            .iter()
            .rev()
            .find(|e| &e.code == code)
            .map(|e| e.stamp.clone());
        self.events.retain(|e| &e.code != code);
        self.rows.remove(code);
        last
    }

    /// The codes with events, sorted and without repeats.
    pub fn changed_codes(&self) -> Vec<CombinedCode> {
        let mut codes: Vec<CombinedCode> = self.events.iter().map(|e| e.code.clone()).collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// Adds current rows read from `node`, keyed by their combined code; two
    /// rows with one code are refused ([`crate::schema::SyncTable::key_rows`]).
    pub fn add_rows(
        &mut self,
        table: &crate::schema::SyncTable,
        rows: Vec<Vec<Value>>,
        node: &str,
    ) -> crate::Result<()> {
        table.key_rows(rows, node, &mut self.rows)
    }
}

/// Everything a node changed since a watermark, read in one consistent snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// The position the read covers up to (inclusive).
    pub upto: Watermark,
    /// Changes per synced table, keyed by table name.
    pub tables: HashMap<String, TableChanges>,
    /// Where the read would have ended without its event limit
    /// ([`ReadRange::limit`]): the changes after `upto` up to here are
    /// final and still unread. `None`: the read took everything.
    #[serde(default)]
    pub rest: Option<Watermark>,
    /// The node's final changes end before the range's start: its tracking
    /// table went back (restored from an older backup, or recreated). The
    /// read took nothing.
    #[serde(default)]
    pub behind: bool,
    /// Changes left out because the node's row could not be read as the
    /// hub's column types ask (a value its column cannot hold, a value that
    /// does not fit): the round stops on them, or parks them
    /// (`[sync] on_error`).
    #[serde(default)]
    pub refused: Vec<Refused>,
    /// Per table, the changes of rows that had no code (a NULL in a code
    /// column) the read passed over, and whether such rows are left.
    #[serde(default)]
    pub codeless: Vec<Codeless>,
}

/// The changes of rows without a code (a NULL in a code column) a read of
/// one table passed over: they cannot be synced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Codeless {
    /// The table (hub name).
    pub table: String,
    /// The first such change's code, as recorded.
    pub code: String,
    /// Rows of the table still without a code: while there are any, the
    /// round stops on them or parks them (`[sync] on_error`); none means
    /// they were fixed at the source (deleted, or given a code).
    pub rows_left: u64,
    /// What to tell the operator (names node, table and code columns).
    pub message: String,
}

impl Codeless {
    /// The error a round that stops on it reports.
    pub fn error(&self) -> crate::Error {
        crate::Error::Data {
            table: self.table.clone(),
            code: self.code.clone(),
            message: self.message.clone(),
        }
    }
}

/// A change left out of a change set: its row could not be read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    /// The table (hub name).
    pub table: String,
    /// The row's combined code.
    pub code: CombinedCode,
    /// The change's stamp (its last event's).
    pub stamp: Option<Stamp>,
    /// Why (an [`crate::Error::Data`] message: it names node and column).
    pub message: String,
}

impl Refused {
    /// The error a round that stops on it reports.
    pub fn error(&self) -> crate::Error {
        crate::Error::Data {
            table: self.table.clone(),
            code: self.code.to_string(),
            message: self.message.clone(),
        }
    }
}

/// Which changes a read takes ([`crate::adapter::Capture::read_changes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRange {
    /// The changes after this position.
    pub since: Watermark,
    /// Up to this position at most, even when more is final: the end a
    /// round fixed at its start, so that a backlog drains and writers that
    /// keep going cannot keep a `sync` running.
    pub until: Option<Watermark>,
    /// This many events at most: the read stops at a position with no more
    /// than `limit` events before it. A node whose positions are
    /// transactions stops before a transaction that would take it past the
    /// limit, and inside one only when that transaction alone holds more
    /// ([`Watermark::within`]).
    pub limit: Option<u64>,
    /// Leaves out the changes integrated from this node (a spoke never
    /// needs its own changes back from the hub).
    pub exclude_origin: Option<String>,
    /// Takes only the edits made on the node itself, none it integrated:
    /// a standby hub mirrors the hub's changes into its tracking table,
    /// and its own rounds upload only its own edits.
    #[serde(default)]
    pub only_local: bool,
}

impl ReadRange {
    /// Every final change after `since`.
    pub fn since(since: Watermark) -> Self {
        ReadRange {
            since,
            ..ReadRange::default()
        }
    }

    /// Leaves out the changes integrated from `origin`.
    pub fn excluding(mut self, origin: &str) -> Self {
        self.exclude_origin = Some(origin.to_string());
        self
    }

    /// Takes only the node's own edits ([`ReadRange::only_local`]).
    pub fn only_local(mut self) -> Self {
        self.only_local = true;
        self
    }

    /// Ends at `until` at most.
    pub fn until(mut self, until: Option<Watermark>) -> Self {
        self.until = until;
        self
    }

    /// Takes about `limit` events at most.
    pub fn limit(mut self, limit: Option<u64>) -> Self {
        self.limit = limit;
        self
    }
}

/// One write the engine asks a node to make.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RowOp {
    /// Make the row exist with these values. When the row exists, only the
    /// `fields` positions are written (`None`: every column); when it does not,
    /// the whole row is inserted.
    Upsert {
        /// Full row image in table column order.
        values: Vec<Value>,
        /// Column positions to write when the row exists.
        fields: Option<Vec<usize>>,
    },
    /// Delete the row with this code if it exists.
    Delete {
        /// The row to delete.
        code: CombinedCode,
    },
}

/// A tracking row the engine writes itself, carrying the original stamp of a
/// change it integrates (so other spokes compare the original edit time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEntry {
    /// Table name.
    pub table: String,
    /// Combined code.
    pub code: CombinedCode,
    /// Original stamp.
    pub stamp: Stamp,
    /// Whether this records a delete.
    pub deleted: bool,
    /// Changed fields; `None` for every column.
    pub fields: Option<Vec<String>>,
}

/// The watermark of a peer that a node has integrated, stored on that node in
/// the same transaction as the writes (this is what makes a round exactly-once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerMark {
    /// The peer node's name.
    pub peer: String,
    /// Position in the peer's tracking table integrated so far.
    pub watermark: Watermark,
    /// When set, the tables whose first full comparison with the peer is
    /// complete, recorded with the watermark (a table added to the
    /// configuration later gets its own; see
    /// [`crate::adapter::Capture::synced_tables`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<String>>,
}

/// Everything one node must apply in one transaction.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyBatch {
    /// Row operations per table name. Deletes run first in reverse table order,
    /// then upserts in table order.
    pub ops: Vec<(String, Vec<RowOp>)>,
    /// Tracking rows to write (the engine's own writes are never captured).
    pub tracking: Vec<TrackingEntry>,
    /// Peer watermark to record.
    pub peer: Option<PeerMark>,
    /// When set, the node refuses the batch with [`crate::Error::ConcurrentEdit`]
    /// if any row the batch touches has a tracking event after this position:
    /// someone edited it after the round read it.
    pub guard: Option<Watermark>,
    /// Every operation is an upsert of a code the node did not hold when the
    /// engine began this pass (a full sync into a table that was empty). A
    /// node may then insert without looking for existing rows; a row that is
    /// there anyway must fail the batch with [`crate::Error::ConcurrentEdit`]
    /// (after the guard check), never be overwritten silently or duplicated.
    pub fresh: bool,
    /// With `guard`: settle the rows edited locally after the guard instead
    /// of refusing the batch (see [`crate::plan::settle`]): lock the rows the
    /// batch writes, in code order; then per field (form `field`) or row
    /// (form `table`) the later stamp wins, the incoming ones given by
    /// `tracking` and `stamps`; a superseded local edit is trimmed from the
    /// tracking table, a superseded incoming write dropped with its tracking
    /// entries; each decision comes back in [`ApplyOutcome::conflicts`].
    /// A node that predates settling ignores it and refuses as before.
    #[serde(default)]
    pub settle: Option<crate::plan::settle::Settle>,
    /// Stamps of the operations' changes that `tracking` does not record
    /// (downloads), for settling.
    #[serde(default)]
    pub stamps: Vec<TrackingEntry>,
    /// Conflicts to record in the node's conflict table in the batch's
    /// transaction (the commit that makes them final), with those settling
    /// decides; the engine copies them to its log and then forgets them.
    #[serde(default)]
    pub log: Option<ConflictLog>,
}

/// Conflicts a batch records where it commits ([`ApplyBatch::log`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConflictLog {
    /// Conflicts the engine decided, each with its uid.
    pub conflicts: Vec<crate::plan::Conflict>,
    /// The uid prefix of conflicts the node decides while settling
    /// (`{prefix}{n}`).
    pub prefix: String,
}

impl ApplyBatch {
    /// A fresh batch ([`ApplyBatch::fresh`]) of whole rows of one table,
    /// with nothing else: no tracking rows, watermark or guard.
    pub fn fresh_rows(table: &str, rows: Vec<Vec<Value>>) -> ApplyBatch {
        let upserts = rows
            .into_iter()
            .map(|values| RowOp::Upsert {
                values,
                fields: None,
            })
            .collect();
        ApplyBatch {
            ops: vec![(table.to_string(), upserts)],
            fresh: true,
            ..ApplyBatch::default()
        }
    }

    /// True when the batch writes no rows and no tracking entries.
    pub fn has_no_rows(&self) -> bool {
        self.tracking.is_empty() && self.ops.iter().all(|(_, ops)| ops.is_empty())
    }

    /// The combined codes of the rows the batch writes, per table name
    /// (the guard refuses the batch when a row among them was edited after
    /// its position).
    pub fn touched(
        &self,
        tables: &[crate::schema::SyncTable],
        node: &str,
    ) -> crate::Result<HashMap<&str, std::collections::HashSet<CombinedCode>>> {
        let mut touched: HashMap<&str, std::collections::HashSet<CombinedCode>> = HashMap::new();
        for (name, ops) in &self.ops {
            let table = crate::schema::SyncTable::find(tables, name, node)?;
            let codes = touched.entry(name.as_str()).or_default();
            for op in ops {
                codes.insert(table.code_of_op(op, node)?);
            }
        }
        Ok(touched)
    }
}

/// What a node did with a batch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// Rows inserted.
    pub inserted: u64,
    /// Rows updated (only rows whose values really changed).
    pub updated: u64,
    /// Rows deleted.
    pub deleted: u64,
    /// Conflicts decided while settling the batch against local edits made
    /// after the round read the node.
    #[serde(default)]
    pub conflicts: Vec<crate::plan::Conflict>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(time: i64, origin: &str) -> Stamp {
        Stamp::new(time, origin)
    }

    #[test]
    fn later_time_wins() {
        assert_eq!(
            st(2, "b").precedence(&st(1, "hub"), "hub"),
            Ordering::Greater
        );
    }

    #[test]
    fn ties_go_to_hub_then_lowest_name() {
        assert_eq!(
            st(1, "hub").precedence(&st(1, "a"), "hub"),
            Ordering::Greater
        );
        assert_eq!(st(1, "a").precedence(&st(1, "b"), "hub"), Ordering::Greater);
        assert_eq!(st(1, "b").precedence(&st(1, "a"), "hub"), Ordering::Less);
    }

    #[test]
    fn watermarks_order_by_position_then_within() {
        let at = Watermark::at(7);
        let inside = Watermark { pos: 7, within: 40 };
        assert!(Watermark::at(6) < at && at < inside && inside < Watermark::at(8));
        assert_eq!(inside.to_string(), "7+40");
        assert_eq!(at.to_string(), "7");
    }

    #[test]
    fn watermarks_serialize_bare_unless_within() {
        let at = Watermark::at(7);
        let inside = Watermark { pos: 7, within: 40 };
        assert_eq!(serde_json::to_string(&at).unwrap(), "7");
        assert_eq!(serde_json::to_string(&inside).unwrap(), "[7,40]");
        for w in [at, inside] {
            let text = serde_json::to_string(&w).unwrap();
            assert_eq!(serde_json::from_str::<Watermark>(&text).unwrap(), w);
        }
    }

    #[test]
    fn times_round_trip() {
        let micros = parse_micros("2021-10-31T12:02:02.250Z").unwrap();
        assert_eq!(format_micros(micros), "2021-10-31T12:02:02.250Z");
        assert_eq!(parse_micros("2021-10-31 12:02:02.250"), Some(micros));
    }
}

/// A tracking-table row as an adapter reads it, before parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackingRow {
    /// Position.
    pub seq: i64,
    /// Table name.
    pub table: String,
    /// Combined code as a JSON array.
    pub code: String,
    /// Change time, UTC microseconds.
    pub time: i64,
    /// Delete flag.
    pub deleted: bool,
    /// Changed fields as a JSON array of names; `None` for every column.
    pub fields: Option<String>,
    /// Origin node; `None` for a local edit.
    pub origin: Option<String>,
    /// Database user.
    pub user: Option<String>,
}

/// A tracking row as selected from a database, in [`TrackingRow`] field order:
/// `(seq, table, code, time, deleted, fields, origin, user)`.
pub type TrackingTuple = (
    i64,
    String,
    String,
    i64,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl From<TrackingTuple> for TrackingRow {
    fn from((seq, table, code, time, deleted, fields, origin, user): TrackingTuple) -> Self {
        TrackingRow {
            seq,
            table,
            code,
            time,
            deleted,
            fields,
            origin,
            user,
        }
    }
}

/// Whether a combined code as recorded (a JSON array) has a NULL part.
fn code_has_null(code: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(code)
        .ok()
        .and_then(|v| v.as_array().map(|parts| parts.iter().any(|p| p.is_null())))
        .unwrap_or(false)
}

impl TrackingRow {
    /// Like [`TrackingRow::parse`], but `Ok(Err(code))`, with the code as
    /// recorded, for the change of a row that had no code (a NULL in a code
    /// column): it cannot be synced. The code is looked at again only when
    /// it does not parse.
    pub fn parse_coded(self, node: &str) -> crate::Result<Result<Event, String>> {
        match self.parse(node) {
            Err(crate::Error::Data { code, .. }) if code_has_null(&code) => Ok(Err(code)),
            parsed => parsed.map(Ok),
        }
    }

    /// Parses the row read on `node` (local edits get `node` as origin).
    pub fn parse(self, node: &str) -> crate::Result<Event> {
        let bad = |message: String| crate::Error::Data {
            table: self.table.clone(),
            code: self.code.clone(),
            message: format!("tracking row {} on node '{node}': {message}", self.seq),
        };
        let code = CombinedCode::parse_json(&self.code).map_err(|e| bad(e.to_string()))?;
        let fields = self
            .fields
            .as_deref()
            .map(serde_json::from_str::<Vec<String>>)
            .transpose()
            .map_err(|e| bad(format!("unreadable changed fields: {e}")))?;
        Ok(Event {
            seq: self.seq,
            code,
            stamp: Stamp {
                time: self.time,
                origin: self.origin.unwrap_or_else(|| node.to_string()),
                user: self.user,
            },
            deleted: self.deleted,
            fields,
        })
    }
}

/// Changes of rows that had no code, as `(table, code as recorded)`
/// ([`TrackingRow::parse_coded`]).
pub type Uncoded = Vec<(String, String)>;

/// Parses tracking rows read on `node` and groups the events of the synced
/// `tables` by table name (rows of other tables are skipped); the changes
/// of rows that had no code come apart.
pub fn group_events(
    tables: &[crate::schema::SyncTable],
    rows: Vec<TrackingRow>,
    node: &str,
) -> crate::Result<(HashMap<String, TableChanges>, Uncoded)> {
    let mut changes: HashMap<String, TableChanges> = HashMap::new();
    let mut uncoded = Vec::new();
    for row in rows {
        if tables.iter().any(|t| t.name == row.table) {
            let table = row.table.clone();
            match row.parse_coded(node)? {
                Ok(event) => changes.entry(table).or_default().events.push(event),
                Err(code) => uncoded.push((table, code)),
            }
        }
    }
    Ok((changes, uncoded))
}
