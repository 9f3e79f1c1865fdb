//! Parking ([`OnError::Park`]): a change whose row a round cannot read as
//! the hub's column types ask (a value its column cannot hold, a value that
//! does not fit) is left out of the round and kept in the state store with
//! its error, and the rest of the round goes on. `hetsync parked retry`
//! makes the spoke's next round read the row again; a later change of the
//! same row that syncs settles it too.

use super::round::{add_outcome, RoundRun};
use super::{Engine, OnError};
use crate::adapter::Node;
use crate::change::{ApplyBatch, ApplyOutcome, ChangeSet, Event, Refused, Stamp, TrackingEntry};
use crate::code::CombinedCode;
use crate::mapping::node::Scanned;
use crate::schema::SyncTable;
use crate::state::Parked;
use crate::value::Value;
use crate::{Error, Result};

/// What one round leaves out: the node whose change it is, and why.
pub(super) type Parking = Vec<(String, Refused)>;

impl Engine {
    /// Stops on the first change `node`'s read left out, or keeps them all
    /// to park (or, with `kept`, to report). The changes of rows still
    /// without a code are parked as one change of their table with no code
    /// ([`CombinedCode::none`]).
    pub(super) fn take_refused(
        &self,
        set: &mut ChangeSet,
        node: &str,
        parking: &mut Parking,
        kept: bool,
    ) -> Result<()> {
        if !self.parks() && !kept {
            if let Some(refused) = set.refused.first() {
                return Err(refused.error());
            }
            return match set.codeless.iter().find(|c| c.rows_left > 0) {
                Some(codeless) => Err(codeless.error()),
                None => Ok(()),
            };
        }
        let codeless = set
            .codeless
            .iter()
            .filter(|c| c.rows_left > 0)
            .map(|c| Refused {
                table: c.table.clone(),
                code: CombinedCode::none(),
                stamp: None,
                message: c.message.clone(),
            });
        for refused in std::mem::take(&mut set.refused).into_iter().chain(codeless) {
            parking.push((node.to_string(), refused));
        }
        Ok(())
    }

    /// Up to `limit` rows of `node` after `after`, in code order. When
    /// parking, rows that cannot be read are returned apart instead of
    /// failing the scan.
    pub(super) async fn scan_readable(
        &self,
        node: &dyn Node,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Scanned> {
        if self.parks() {
            return self
                .mapped(node.name())?
                .scan_readable(table, after, limit)
                .await;
        }
        let rows = node.scan(table, after, limit).await?;
        Ok(Scanned {
            last: rows
                .last()
                .map(|r| table.code_of(r, node.name()))
                .transpose()?,
            rows,
            unreadable: Vec::new(),
        })
    }

    /// The rows of `codes` on `node`. When parking, a batch that holds a
    /// row that cannot be read is fetched row by row, and those rows are
    /// returned apart instead of failing.
    pub(super) async fn fetch_readable(
        &self,
        node: &dyn Node,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<(Vec<Vec<Value>>, Vec<(CombinedCode, String)>)> {
        match node.fetch(table, codes).await {
            Err(Error::Data { .. }) if self.parks() => {}
            other => return Ok((other?, Vec::new())),
        }
        let mut rows = Vec::new();
        let mut unreadable = Vec::new();
        for code in codes {
            match node.fetch(table, std::slice::from_ref(code)).await {
                Ok(found) => rows.extend(found),
                Err(Error::Data { message, .. }) => unreadable.push((code.clone(), message)),
                Err(e) => return Err(e),
            }
        }
        Ok((rows, unreadable))
    }

    /// Whether this engine parks: `on_error = "park"` with a state store
    /// to keep them in.
    pub(super) fn parks(&self) -> bool {
        self.options.on_error == OnError::Park && self.state.is_some()
    }

    /// The changes parked in earlier rounds of `s`; those whose retry was
    /// asked are read again into the change set of their node, as changes
    /// with their original stamp (left out again, and parked anew, when
    /// the row still cannot be read). A row that changed since needs no
    /// retry: that change is in the round already. A held change
    /// ([`super::stale`]) whose retry was asked is sent as the spoke's
    /// whole row, stamped now, whatever changed it since.
    pub(super) async fn retry_parked(
        &self,
        s: &dyn Node,
        local: &mut ChangeSet,
        remote: &mut ChangeSet,
        parking: &mut Parking,
    ) -> Result<Vec<Parked>> {
        let Some(state) = &self.state else {
            return Ok(Vec::new());
        };
        let parked = state.parked(Some(s.name())).await?;
        for p in parked.iter().filter(|p| p.retry) {
            let (node, set) = if p.node == s.name() {
                (s, &mut *local)
            } else {
                (self.hub(), &mut *remote)
            };
            let Some(table) = self.tables.iter().find(|t| t.name == p.table) else {
                continue;
            };
            // Rows without a code are read again only by the change that
            // fixes them at the source.
            if p.code == CombinedCode::none() {
                continue;
            }
            let changes = set.tables.entry(table.name.clone()).or_default();
            if p.stale {
                changes.take_code(&p.code);
            } else if changes.events.iter().any(|e| e.code == p.code) {
                continue;
            }
            let (mut rows, mut unreadable) = self
                .fetch_readable(node, table, std::slice::from_ref(&p.code))
                .await?;
            if let Some((code, message)) = unreadable.pop() {
                let refused = refused(table, code, p.stamp.clone(), message);
                parking.push((p.node.clone(), refused));
                continue;
            }
            let row = rows.pop();
            let stamp = match (&p.stamp, p.stale) {
                (Some(stamp), false) => stamp.clone(),
                _ => Stamp::now(&p.node),
            };
            changes.events.push(Event {
                seq: 0,
                code: p.code.clone(),
                stamp,
                deleted: row.is_none(),
                fields: None,
            });
            if let Some(row) = row {
                changes.rows.insert(p.code.clone(), row);
            }
        }
        Ok(parked)
    }

    /// Applies a round's batch at `node`. When parking and the database
    /// refuses it by one of its constraints, its rows are written one at a
    /// time and those it refuses are parked as changes of `changed_by`;
    /// then the batch's watermark and conflict log are written.
    pub(super) async fn apply_parking(
        &self,
        node: &dyn Node,
        batch: ApplyBatch,
        changed_by: &str,
        spoke: &str,
        run: &mut RoundRun,
    ) -> Result<ApplyOutcome> {
        if !self.parks() {
            return self.apply_batch(node, batch, run).await;
        }
        match self.apply_batch(node, batch.clone(), run).await {
            Err(Error::Constraint { .. }) => {}
            other => return other,
        }
        let mut total = ApplyOutcome::default();
        let mut parking = Parking::new();
        let mut op_codes = Vec::new();
        for (name, ops) in &batch.ops {
            let Some(table) = self.tables.iter().find(|t| &t.name == name) else {
                continue;
            };
            for op in ops {
                let code = table.code_of_op(op, node.name())?;
                let of_code = |e: &&TrackingEntry| &e.table == name && e.code == code;
                let tracking: Vec<TrackingEntry> =
                    batch.tracking.iter().filter(of_code).cloned().collect();
                let stamps: Vec<TrackingEntry> =
                    batch.stamps.iter().filter(of_code).cloned().collect();
                let stamp = tracking
                    .iter()
                    .chain(&stamps)
                    .last()
                    .map(|e| e.stamp.clone());
                let one = ApplyBatch {
                    ops: vec![(name.clone(), vec![op.clone()])],
                    tracking,
                    peer: None,
                    fresh: false,
                    stamps,
                    log: Some(run.log(Vec::new())),
                    ..batch.clone()
                };
                match self.apply_batch(node, one, run).await {
                    Ok(outcome) => add_outcome(&mut total, outcome),
                    Err(Error::Constraint { message, .. }) => {
                        let message = format!("node '{}' refused it: {message}", node.name());
                        let refused = refused(table, code.clone(), stamp, message);
                        parking.push((changed_by.to_string(), refused));
                    }
                    Err(e) => return Err(e),
                }
                op_codes.push((name.clone(), code));
            }
        }
        // The watermark, the batch's conflict log, and the tracking rows of
        // no operation above (those of refused rows are dropped with them).
        let rest = ApplyBatch {
            ops: Vec::new(),
            tracking: batch
                .tracking
                .iter()
                .filter(|e| !op_codes.iter().any(|(t, c)| t == &e.table && c == &e.code))
                .cloned()
                .collect(),
            fresh: false,
            stamps: Vec::new(),
            ..batch
        };
        // Parked before the watermark passes them.
        self.park(spoke, &parking, run).await?;
        add_outcome(&mut total, self.apply_batch(node, rest, run).await?);
        Ok(total)
    }

    /// Keeps what the round leaves out, before it writes anything: a round
    /// that fails later reads those changes again and parks them anew.
    pub(super) async fn park(
        &self,
        spoke: &str,
        parking: &Parking,
        run: &mut RoundRun,
    ) -> Result<()> {
        for (node, refused) in parking {
            self.park_one(spoke, node, refused, false, run).await?;
        }
        Ok(())
    }

    /// Keeps the changes a stale spoke's resync holds ([`super::stale`]),
    /// before the round writes anything.
    pub(super) async fn hold_parked(
        &self,
        spoke: &str,
        held: &[Refused],
        run: &mut RoundRun,
    ) -> Result<()> {
        for refused in held {
            self.park_one(spoke, spoke, refused, true, run).await?;
        }
        Ok(())
    }

    async fn park_one(
        &self,
        spoke: &str,
        node: &str,
        refused: &Refused,
        stale: bool,
        run: &mut RoundRun,
    ) -> Result<()> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        run.parked.insert((
            node.to_string(),
            refused.table.clone(),
            refused.code.clone(),
        ));
        tracing::warn!(
            spoke,
            node,
            table = %refused.table,
            code = %refused.code,
            "change {}: {}",
            if stale { "held" } else { "parked" },
            refused.message
        );
        state
            .park(&Parked {
                id: 0,
                spoke: spoke.to_string(),
                node: node.to_string(),
                table: refused.table.clone(),
                code: refused.code.clone(),
                stamp: refused.stamp.clone(),
                error: refused.message.clone(),
                parked_at: String::new(),
                retry: false,
                stale,
            })
            .await
    }

    /// After a round of `s` succeeded: forgets the changes parked before
    /// it whose row it synced (a later change of it, or a retry).
    pub(super) async fn settle_parked(
        &self,
        s: &dyn Node,
        before: &[Parked],
        local: &ChangeSet,
        remote: &ChangeSet,
    ) -> Result<()> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        for p in before {
            let set = if p.node == s.name() { local } else { remote };
            let synced = set
                .tables
                .get(&p.table)
                .is_some_and(|t| t.events.iter().any(|e| e.code == p.code));
            let fixed = p.code == CombinedCode::none()
                && set
                    .codeless
                    .iter()
                    .any(|c| c.table == p.table && c.rows_left == 0);
            let synced = synced || fixed;
            if synced {
                state.drop_parked(p.id).await?;
            }
        }
        Ok(())
    }
}

/// A change left out because `code`'s row could not be read or written.
pub(super) fn refused(
    table: &SyncTable,
    code: CombinedCode,
    stamp: Option<Stamp>,
    message: String,
) -> Refused {
    Refused {
        table: table.name.clone(),
        code,
        stamp,
        message,
    }
}
