//! The initial full sync of a spoke: after the spoke's own
//! captured changes went up, every row is compared in bounded batches. Rows
//! only on the hub or different on the spoke come down (the hub's copy wins
//! where nobody recorded a change); rows only on the spoke go up, stamped now.

use super::park::{refused, Parking};
use super::round::{add_outcome, merge_counts, RoundRun};
use super::{Engine, FaultPoint};
use crate::adapter::Node;
use crate::change::{ApplyBatch, ApplyOutcome, RowOp, Stamp, TrackingEntry, Watermark};
use crate::code::CombinedCode;
use crate::plan::{OpCounts, Side, TableCounts};
use crate::schema::SyncTable;
use crate::value::{rows_identical, Value};
use crate::Result;
use std::collections::{HashMap, HashSet};

/// What a full comparison moved.
#[derive(Default)]
pub(super) struct FullSyncOutcome {
    pub downloaded: TableCounts,
    pub uploaded: TableCounts,
    pub spoke_written: ApplyOutcome,
    pub hub_written: ApplyOutcome,
}

/// One direction of a full comparison.
struct Pass<'a> {
    from: &'a dyn Node,
    to: &'a dyn Node,
    /// Rows of `to` edited after this position are settled (a copy yields
    /// to them; an upload's stamp competes).
    guard: Watermark,
    /// Which side of the round `to` is.
    side: Side,
    /// `None` going down: rows that differ are overwritten too. Set going up:
    /// only rows the hub lacks are sent, with tracking entries bearing this
    /// stamp so that the other spokes receive them.
    stamp: Option<Stamp>,
    /// `to` had no rows when the comparison started: nothing is looked up there.
    to_was_empty: bool,
}

impl Engine {
    /// Compares every row of `tables` between the hub and `s`.
    /// `spoke_guard`/`hub_guard` are the positions read at the start of the
    /// round: rows edited after them are settled by the applying node.
    pub(super) async fn reconcile(
        &self,
        s: &dyn Node,
        tables: &[&SyncTable],
        spoke_guard: Watermark,
        hub_guard: Watermark,
        run: &mut RoundRun,
    ) -> Result<FullSyncOutcome> {
        let hub = self.hub();
        let mut out = FullSyncOutcome::default();
        for &table in tables {
            let spoke_rows = s.count_rows(table).await?;
            self.progress.start(
                &format!("{} ⇄ {}: {}", s.name(), hub.name(), table.name),
                hub.count_rows(table).await? + spoke_rows,
            );
            // A spoke that starts empty has nothing to compare and nothing of
            // its own to send up: rows written there meanwhile are captured
            // and go up incrementally, and the guard keeps them from being
            // overwritten.
            let spoke_empty = spoke_rows == 0;
            let down = Pass {
                from: hub,
                to: s,
                guard: spoke_guard,
                side: Side::Spoke,
                stamp: None,
                to_was_empty: spoke_empty,
            };
            let down = self.copy_missing(table, down, s.name(), run).await?;
            let up = if spoke_empty {
                (OpCounts::default(), ApplyOutcome::default())
            } else {
                let stamp = Stamp::now(s.name());
                let up = Pass {
                    from: s,
                    to: hub,
                    guard: hub_guard,
                    side: Side::Hub,
                    stamp: Some(stamp),
                    to_was_empty: false,
                };
                self.copy_missing(table, up, s.name(), run).await?
            };
            self.progress.finish();
            add_outcome(&mut out.spoke_written, down.1);
            add_outcome(&mut out.hub_written, up.1);
            merge_counts(&mut out.downloaded, [(table.name.clone(), down.0)].into());
            merge_counts(&mut out.uploaded, [(table.name.clone(), up.0)].into());
        }
        out.downloaded.retain(|_, c| c.rows() > 0);
        out.uploaded.retain(|_, c| c.rows() > 0);
        Ok(out)
    }

    /// Streams `pass.from` in code order and writes to `pass.to` what it lacks.
    async fn copy_missing(
        &self,
        table: &SyncTable,
        pass: Pass<'_>,
        spoke: &str,
        run: &mut RoundRun,
    ) -> Result<(OpCounts, ApplyOutcome)> {
        let Pass {
            from,
            to,
            guard,
            side,
            stamp,
            to_was_empty,
        } = pass;
        let mut counts = OpCounts::default();
        let mut written = ApplyOutcome::default();
        let batch_size = self.options.batch_size;
        let mut scanned = self.scan_readable(from, table, None, batch_size).await?;
        // Each batch is written while the next one is read: the two nodes
        // have connections of their own, so reading and writing overlap.
        while let Some(after) = scanned.last.take() {
            let rows = std::mem::take(&mut scanned.rows);
            // Rows that cannot be read (when parking) are set aside: on
            // `from`, its row; on `to`, the copy onto its row.
            let mut parking: Parking = scanned
                .unreadable
                .drain(..)
                .map(|(code, message)| {
                    (from.name().to_string(), refused(table, code, None, message))
                })
                .collect();
            let codes = rows
                .iter()
                .map(|r| table.code_of(r, from.name()))
                .collect::<Result<Vec<_>>>()?;
            if let Some(pair) = codes.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(table.duplicate_code(&pair[0], from.name()));
            }
            let mut theirs: HashMap<CombinedCode, Vec<Value>> = HashMap::new();
            let mut skip = HashSet::new();
            if !to_was_empty {
                let (found, unreadable) = self.fetch_readable(to, table, &codes).await?;
                table.key_rows(found, to.name(), &mut theirs)?;
                for (code, message) in unreadable {
                    skip.insert(code.clone());
                    parking.push((to.name().to_string(), refused(table, code, None, message)));
                }
            }
            self.park(spoke, &parking, run).await?;
            let mut ops = Vec::new();
            let mut tracking = Vec::new();
            for (row, code) in rows.iter().zip(&codes).filter(|(_, c)| !skip.contains(*c)) {
                let write = match (theirs.get(code), &stamp) {
                    (None, _) => true,
                    (Some(existing), None) => !rows_identical(existing, row),
                    (Some(_), Some(_)) => false,
                };
                if !write {
                    continue;
                }
                ops.push(RowOp::Upsert {
                    values: row.clone(),
                    fields: None,
                });
                if let Some(stamp) = &stamp {
                    tracking.push(TrackingEntry {
                        table: table.name.clone(),
                        code: code.clone(),
                        stamp: stamp.clone(),
                        deleted: false,
                        fields: None,
                    });
                }
            }
            counts.upserts += ops.len() as u64;
            let write = async {
                if ops.is_empty() {
                    return Ok(ApplyOutcome::default());
                }
                let batch = ApplyBatch {
                    ops: vec![(table.name.clone(), ops)],
                    tracking,
                    peer: None,
                    guard: Some(guard),
                    fresh: to_was_empty,
                    settle: Some(self.settle(side)),
                    stamps: Vec::new(),
                    log: Some(run.log(Vec::new())),
                };
                self.apply_batch(to, batch, run).await
            };
            let (outcome, next) = tokio::join!(
                write,
                self.scan_readable(from, table, Some(&after), batch_size)
            );
            add_outcome(&mut written, outcome?);
            self.progress.advance(rows.len() as u64);
            self.faults
                .reached(spoke, FaultPoint::AfterFullSyncBatch)
                .await?;
            scanned = next?;
        }
        Ok((counts, written))
    }
}
