//! Logical capture in the driver: install's preparation and release, and
//! the drain of the replication slot into the tracking table (the SQL and
//! the reasoning are [`hetsync_core::dialect::pg_logical`]'s).

use crate::copy::copy_in;
use crate::pgoutput::{self, Datum, Message};
use crate::session::PostgresSession;
use crate::values::copy_line;
use hetsync_core::dialect::pg_logical::DRAINED_LSN;
use hetsync_core::dialect::{Dialect, TxKind};
use hetsync_core::schema::SyncTable;
use hetsync_core::steps::{self, Session};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// Messages per fetch from the slot's cursor.
const MESSAGES_PER_FETCH: usize = 10_000;

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Where a synced table's values are in the log's rows.
struct Layout<'t> {
    table: &'t SyncTable,
    /// Per synced column, its position in the log's row.
    at: Vec<usize>,
}

/// A row change as a tracking row: its code's texts, whether the row
/// left, and the changed fields (`None`: the whole row).
struct Tracked {
    code: Vec<Option<String>>,
    deleted: bool,
    fields: Option<Vec<String>>,
}

impl PostgresSession<'_> {
    /// Checks the server can decode its log and makes the origin, the
    /// publication and the slot where missing (install, before its
    /// transaction).
    pub(crate) async fn prepare_logical(&mut self) -> Result<()> {
        let d = self.node.dialect;
        let rows = self
            .query(d.wal_level_sql(), &[], "reading wal_level")
            .await?;
        let level = first_text(rows);
        if level != "logical" {
            return Err(Error::Setup(format!(
                "node '{}': capture = \"logical\" needs the server's wal_level to be 'logical', \
                 and it is '{level}': run ALTER SYSTEM SET wal_level = logical (with \
                 max_replication_slots and max_wal_senders at least 1) and restart the server, \
                 or set capture = \"trigger\" in the node's options",
                self.node.name
            )));
        }
        for sql in d.prepare_logical_sql() {
            self.execute(
                &sql,
                &[],
                "preparing logical capture (a replication origin, the publication and the \
                 slot; the login needs superuser, or the REPLICATION attribute and the right \
                 to use replication origins)",
            )
            .await?;
        }
        Ok(())
    }

    /// Drops the publication, the slot and the origin where they exist.
    pub(crate) async fn release_logical(&mut self) -> Result<()> {
        for sql in self.node.dialect.release_logical_sql() {
            self.execute(&sql, &[], "removing logical capture's slot")
                .await?;
        }
        Ok(())
    }

    /// The slot's state: `None` without a slot (a node capturing by
    /// triggers; an error for one capturing by decoding), else the origin
    /// of the engine's writes and where the slot is confirmed up to.
    async fn slot(&mut self) -> Result<Option<(String, u64)>> {
        let d = self.node.dialect;
        let context = "reading the logical replication slot";
        let slot = self.query(&d.slot_state_sql(), &[], context).await?;
        let Some(row) = slot.into_iter().next() else {
            if d.logical {
                return Err(Error::Setup(format!(
                    "node '{0}': the logical replication slot of its capture is missing, so \
                     edits made here since it went were not captured: run `hetsync install` \
                     again, then `hetsync repair --node {0} --prefer spoke` (or `--prefer hub`) \
                     to bring the copies together",
                    self.node.name
                )));
            }
            return Ok(None);
        };
        let mut row = row.into_iter().map(text);
        let origin = row.next().unwrap_or_default();
        let confirmed = lsn(&self.node.name, &row.next().unwrap_or_default())?;
        Ok(Some((origin, confirmed)))
    }

    /// Begins a transaction unless one is open; whether it did.
    async fn begin_own(&mut self) -> Result<bool> {
        let own = !self.node.open_tx.load(Ordering::SeqCst);
        if own {
            steps::begin(self, TxKind::Write).await?;
        }
        Ok(own)
    }

    /// Ends the transaction [`Self::begin_own`] began, as `result` says.
    async fn end_own<T>(&mut self, own: bool, result: Result<T>) -> Result<T> {
        match (own, result) {
            (true, Ok(out)) => {
                steps::commit(self, "committing decoded changes").await?;
                Ok(out)
            }
            (true, Err(e)) => {
                steps::rollback(self).await;
                Err(e)
            }
            (false, result) => result,
        }
    }

    /// Where the last drain ended ([`DRAINED_LSN`]), 0 before the first.
    async fn drained(&mut self) -> Result<u64> {
        let d = self.node.dialect;
        let rows = self
            .query(&d.drained_lsn_sql(), &[], "reading the drained position")
            .await?;
        match rows.is_empty() {
            true => Ok(0),
            false => lsn(&self.node.name, &first_text(rows)),
        }
    }

    /// How far the log is on disk, as the server writes an LSN.
    async fn flush_lsn(&mut self) -> Result<String> {
        let rows = self
            .query(
                self.node.dialect.flush_lsn_sql(),
                &[],
                "reading the log position",
            )
            .await?;
        Ok(first_text(rows))
    }

    /// The next page of the open cursor over the slot.
    async fn fetch_page(&mut self) -> Result<Vec<sqlx::postgres::PgRow>> {
        let sql = self.node.dialect.fetch_cursor_sql(MESSAGES_PER_FETCH);
        sqlx::query(&sql)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(self.node.err("reading the logical replication slot"))
    }

    /// Counts the row changes in the slot not yet drained (the engine's
    /// own passed over).
    pub(crate) async fn count_undrained(&mut self) -> Result<u64> {
        let Some((origin, _)) = self.slot().await? else {
            return Ok(0);
        };
        let own = self.begin_own().await?;
        let result = self.count_in(origin).await;
        self.end_own(own, result).await
    }

    /// Opens the cursor over the slot's changes up to where the log is on
    /// disk now, and returns that position.
    async fn open_peek(&mut self, context: &str) -> Result<u64> {
        let upto = self.flush_lsn().await?;
        let sql = self.node.dialect.peek_cursor_sql(&upto);
        self.execute(&sql, &[], context).await?;
        lsn(&self.node.name, &upto)
    }

    async fn count_in(&mut self, origin: String) -> Result<u64> {
        let d = self.node.dialect;
        let mut reader = SlotReader::new(self.drained().await?, origin);
        self.open_peek("peeking the slot").await?;
        let mut count = 0;
        loop {
            let rows = self.fetch_page().await?;
            for row in &rows {
                let message = reader.parse(&self.node.name, row)?;
                if reader.admit(message).and_then(|m| m.relation()).is_some() {
                    count += 1;
                }
            }
            if rows.len() < MESSAGES_PER_FETCH {
                break;
            }
        }
        self.execute(&d.close_cursor_sql(), &[], "peeking the slot")
            .await?;
        Ok(count)
    }

    /// Takes what the slot decoded since the last drain into the tracking
    /// table (nothing without a slot, see [`Self::slot`]).
    pub(crate) async fn drain(&mut self, tables: &[SyncTable]) -> Result<()> {
        let Some((origin, confirmed)) = self.slot().await? else {
            return Ok(());
        };
        let own = self.begin_own().await?;
        let result = self.drain_in(tables, origin, confirmed, own).await;
        self.end_own(own, result).await
    }

    /// The drain in its transaction (`own`: one of its own, else the
    /// caller's, an apply's).
    async fn drain_in(
        &mut self,
        tables: &[SyncTable],
        origin: String,
        confirmed: u64,
        own: bool,
    ) -> Result<()> {
        let d = self.node.dialect;
        let node = self.node.name.clone();
        let context = "draining the logical replication slot";
        let drained = self.drained().await?;
        if own && drained > confirmed {
            // What the last drain committed need not be decoded again. Not
            // from inside another transaction: a drain earlier in it may
            // have recorded a position that a rollback takes back, and the
            // slot does not move back.
            let at = Value::Text(pgoutput::lsn_text(drained));
            self.execute(&d.advance_slot_sql(), &[at], context).await?;
        }
        let upto = self.open_peek(context).await?;
        let mut reader = SlotReader::new(drained, origin);
        // The table decoded changes wait in, made and emptied with the first
        // of them (a drain earlier in the same transaction may have filled it).
        let mut staging = false;
        let mut layouts: HashMap<u32, Option<Layout>> = HashMap::new();
        let mut ord = 0i64;
        loop {
            let rows = self.fetch_page().await?;
            let mut buf = String::new();
            for row in &rows {
                let message = match reader.admit(reader.parse(&node, row)?) {
                    Some(Message::Relation(r)) => {
                        let layout = layout(&node, tables, &r)?;
                        layouts.insert(r.id, layout);
                        continue;
                    }
                    Some(message) => message,
                    None => continue,
                };
                let Some(Some(l)) = message.relation().and_then(|id| layouts.get(&id)) else {
                    continue;
                };
                for t in tracked(&node, l, message)? {
                    ord += 1;
                    let code = serde_json::to_string(&t.code).expect("texts serialize");
                    let fields = t.fields.map_or(Value::Null, |f| {
                        Value::Text(serde_json::to_string(&f).expect("texts serialize"))
                    });
                    let values = [
                        Value::Int(ord),
                        Value::Text(l.table.name.clone()),
                        Value::Text(code),
                        Value::Text(reader.time.clone()),
                        Value::Bool(t.deleted),
                        fields,
                    ];
                    copy_line(&mut buf, &values);
                }
            }
            if !buf.is_empty() {
                if !staging {
                    for sql in d.drained_table_sql() {
                        self.execute(&sql, &[], context).await?;
                    }
                    staging = true;
                }
                copy_in(&mut self.conn, &d.drained_copy_sql(), buf)
                    .await
                    .map_err(self.node.err(context))?;
            }
            if rows.len() < MESSAGES_PER_FETCH {
                break;
            }
        }
        self.execute(&d.close_cursor_sql(), &[], context).await?;
        if ord > 0 {
            let mut described = Vec::with_capacity(tables.len());
            for table in tables {
                described.push((table, self.columns(table).await?));
            }
            if let Some(sql) = d.drained_insert_sql(&described) {
                self.execute(&sql, &[], "writing decoded changes to the tracking table")
                    .await?;
            }
        }
        // Every transaction committed before `upto` was taken (or passed
        // over): the next drain starts there, or after the last one taken
        // where its commit ended later.
        let end = reader.last_end.unwrap_or(0).max(upto);
        if end > drained {
            let params = [
                Value::Text(DRAINED_LSN.into()),
                Value::Text(pgoutput::lsn_text(end)),
            ];
            hetsync_core::steps::write_keyed(self, &d.meta_set_sql(), &params, context).await?;
        }
        tracing::debug!(node = %node, changes = ord, "drained the logical replication slot");
        Ok(())
    }
}

/// Follows the transactions of the slot's messages: which ones are taken
/// (not drained before, not the engine's own), their commit time, and
/// where the last one ended.
struct SlotReader {
    /// Transactions committed before this were drained already.
    drained: u64,
    /// The replication origin of the engine's writes.
    origin: String,
    /// The current transaction is passed over.
    skip: bool,
    /// The current transaction's commit time as `timestamptz` text.
    time: String,
    /// Where the last transaction seen ended.
    last_end: Option<u64>,
}

impl SlotReader {
    fn new(drained: u64, origin: String) -> SlotReader {
        SlotReader {
            drained,
            origin,
            skip: false,
            time: String::new(),
            last_end: None,
        }
    }

    /// Parses a fetched row's message.
    fn parse<'r>(&self, node: &str, row: &'r sqlx::postgres::PgRow) -> Result<Message<'r>> {
        let context = "reading the logical replication slot";
        let data: &[u8] = row.try_get(0).map_err(|e| Error::Database {
            node: node.to_string(),
            context: context.into(),
            message: e.to_string(),
        })?;
        pgoutput::parse(data).map_err(|e| Error::Database {
            node: node.to_string(),
            context: context.into(),
            message: e.to_string(),
        })
    }

    /// Follows a message: the relation descriptions and the row changes of
    /// the transactions taken come back, the rest is consumed.
    fn admit<'m>(&mut self, message: Message<'m>) -> Option<Message<'m>> {
        match message {
            Message::Begin {
                final_lsn,
                commit_time,
            } => {
                self.skip = final_lsn < self.drained;
                self.time = commit_time_text(commit_time);
                None
            }
            Message::Origin { name } => {
                self.skip |= name == self.origin;
                None
            }
            Message::Commit { end_lsn } => {
                self.last_end = Some(end_lsn);
                None
            }
            Message::Other(_) => None,
            m @ Message::Relation(_) => Some(m),
            _ if self.skip => None,
            m => Some(m),
        }
    }
}

/// A text value a query of the server's state returned (empty for NULL).
fn text(value: Value) -> String {
    match value {
        Value::Text(t) => t,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The first value of the first row, as text.
fn first_text(rows: Vec<Vec<Value>>) -> String {
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .map(text)
        .unwrap_or_default()
}

/// Reads an LSN the server returned.
fn lsn(node: &str, text: &str) -> Result<u64> {
    pgoutput::parse_lsn(text).ok_or_else(|| Error::Database {
        node: node.to_string(),
        context: "reading a log position".into(),
        message: format!("{text:?} is not an LSN"),
    })
}

/// A commit time as `timestamptz` text.
fn commit_time_text(micros_since_2000: i64) -> String {
    let unix = micros_since_2000.saturating_add(PG_EPOCH_MICROS);
    chrono::DateTime::from_timestamp_micros(unix)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.6f+00")
        .to_string()
}

/// Where a relation's synced columns are, `None` when it is no synced table.
fn layout<'t>(
    node: &str,
    tables: &'t [SyncTable],
    relation: &pgoutput::Relation,
) -> Result<Option<Layout<'t>>> {
    let Some(table) = tables.iter().find(|t| t.name == relation.name) else {
        return Ok(None);
    };
    let at = table
        .columns
        .iter()
        .map(|c| {
            relation
                .columns
                .iter()
                .position(|r| r == c)
                .ok_or_else(|| Error::Schema {
                    table: table.name.clone(),
                    message: format!(
                        "on node '{node}' the decoded log has no column '{c}' in '{}.{}'",
                        relation.namespace, relation.name
                    ),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Layout { table, at }))
}

/// The tracking rows of a row change of a synced relation (laid out by `l`).
fn tracked(node: &str, l: &Layout, change: Message) -> Result<Vec<Tracked>> {
    match change {
        Message::Insert { new, .. } => Ok(vec![insert(code_of(node, l, &new, None)?)]),
        Message::Delete { old, .. } => Ok(vec![delete(code_of(node, l, &old, None)?)]),
        Message::Update { old, new, .. } => update(node, l, old.as_deref(), &new),
        _ => Ok(Vec::new()),
    }
}

fn insert(code: Vec<Option<String>>) -> Tracked {
    Tracked {
        code,
        deleted: false,
        fields: None,
    }
}

fn delete(code: Vec<Option<String>>) -> Tracked {
    Tracked {
        code,
        deleted: true,
        fields: None,
    }
}

/// A value of the log as text (`None` for NULL); an unchanged TOASTed
/// value is taken from `old`.
fn text_of<'a>(
    node: &str,
    table: &SyncTable,
    datum: &'a Datum<'a>,
    old: Option<&'a Datum<'a>>,
) -> Result<Option<&'a [u8]>> {
    match (datum, old) {
        (Datum::Null, _) => Ok(None),
        (Datum::Text(b), _) => Ok(Some(b)),
        (Datum::Unchanged, Some(old)) => text_of(node, table, old, None),
        (Datum::Unchanged, None) => Err(Error::Schema {
            table: table.name.clone(),
            message: format!(
                "on node '{node}' the decoded log left a code value out: the table needs \
                 REPLICA IDENTITY FULL (install sets it)"
            ),
        }),
    }
}

/// The code of a decoded row.
fn code_of(
    node: &str,
    l: &Layout,
    row: &[Datum],
    old: Option<&[Datum]>,
) -> Result<Vec<Option<String>>> {
    l.table
        .code
        .iter()
        .map(|&c| {
            let at = l.at[c];
            let datum = row.get(at).unwrap_or(&Datum::Null);
            let text = text_of(node, l.table, datum, old.and_then(|o| o.get(at)))?;
            text.map(|b| {
                String::from_utf8(b.to_vec()).map_err(|_| Error::Schema {
                    table: l.table.name.clone(),
                    message: format!("on node '{node}' a code value is not UTF-8"),
                })
            })
            .transpose()
        })
        .collect()
}

/// The tracking rows of an update: the old code leaving and the new one
/// arriving when the code changed, else the fields whose value changed
/// (nothing for a no-op update). Without the old row (replica identity not
/// full) every field counts as changed.
fn update(node: &str, l: &Layout, old: Option<&[Datum]>, new: &[Datum]) -> Result<Vec<Tracked>> {
    let new_code = code_of(node, l, new, old)?;
    let Some(old) = old else {
        return Ok(vec![insert(new_code)]);
    };
    let old_code = code_of(node, l, old, None)?;
    if old_code != new_code {
        return Ok(vec![delete(old_code), insert(new_code)]);
    }
    let fields: Vec<String> = (0..l.table.columns.len())
        .filter(|&i| !l.table.is_code_column(i))
        .filter(|&i| {
            let at = l.at[i];
            match (new.get(at), old.get(at)) {
                (Some(Datum::Unchanged), _) => false,
                (n, o) => n != o,
            }
        })
        .map(|i| l.table.columns[i].clone())
        .collect();
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Tracked {
        code: new_code,
        deleted: false,
        fields: Some(fields),
    }])
}
