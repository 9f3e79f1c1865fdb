//! Round backups and rollback (`[sync] backup = "round"`). Before a round
//! writes a batch to a node, the rows it is about to write are read there
//! and kept in the state store as they were (a row that did not exist is
//! kept as absent), for the newest `backup_keep` rounds. `hetsync rollback
//! ROUND_ID [--node N]` writes them back, each as a new change made on its
//! node (tracked there, stamped now), so that the other nodes follow in
//! their next rounds.

use super::round::RoundRun;
use super::Engine;
use crate::adapter::Node;
use crate::change::{ApplyBatch, RowOp, Stamp, TrackingEntry};
use crate::plan::Side;
use crate::state::PreImage;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a rollback wrote on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolledBack {
    /// The node.
    pub node: String,
    /// Rows written back, per table.
    pub restored: BTreeMap<String, u64>,
    /// Rows deleted (they did not exist before the round), per table.
    pub deleted: BTreeMap<String, u64>,
}

impl Engine {
    /// Keeps, in the state store, the rows `batch` is about to write on
    /// `node` as they are now.
    pub(super) async fn keep_pre_images(
        &self,
        node: &dyn Node,
        batch: &ApplyBatch,
        run: &RoundRun,
    ) -> Result<()> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        for (name, ops) in &batch.ops {
            let Some(table) = self.tables.iter().find(|t| &t.name == name) else {
                continue;
            };
            let codes = ops
                .iter()
                .map(|op| table.code_of_op(op, node.name()))
                .collect::<Result<Vec<_>>>()?;
            let mut found = BTreeMap::new();
            // A fresh batch goes to a table that was empty: nothing to read.
            if !batch.fresh {
                for row in node.fetch(table, &codes).await? {
                    found.insert(table.code_of(&row, node.name())?, row);
                }
            }
            let rows: Vec<_> = codes
                .into_iter()
                .map(|code| {
                    let row = found.remove(&code);
                    (code, row)
                })
                .collect();
            state
                .keep_pre_images(
                    run.id(),
                    node.name(),
                    &table.name,
                    &rows,
                    self.options.backup_keep,
                )
                .await?;
        }
        Ok(())
    }

    /// Writes back the rows round `round` changed, as they were before it,
    /// on `node` or on every node it wrote to. Each is a new change made
    /// on its node, so the others follow in their next rounds. Holds the
    /// hub's integration lock.
    pub async fn rollback(&self, round: &str, node: Option<&str>) -> Result<Vec<RolledBack>> {
        let state = self
            .state
            .as_ref()
            .ok_or_else(|| Error::Deployment("a rollback needs the state store".to_string()))?;
        let images = state.pre_images(round, node).await?;
        if images.is_empty() {
            return Err(Error::Deployment(format!(
                "no backup of round '{round}'{} (kept with [sync] backup = \"round\", for the \
                 newest backup_keep rounds; `hetsync sync --json` gives each round's id; with \
                 backup = \"file\" a SQLite node is copied whole instead, to \
                 <file>.bak-<round id>: restore that copy by hand, see the operator guide)",
                node.map_or(String::new(), |n| format!(" on node '{n}'"))
            )));
        }
        let _lock = self.hub().lock_integration().await?;
        let mut by_node: BTreeMap<&str, Vec<&PreImage>> = BTreeMap::new();
        for image in &images {
            by_node.entry(&image.node).or_default().push(image);
        }
        let mut out = Vec::new();
        for (name, images) in by_node {
            let target: &dyn Node = self.mapped(name)?;
            let side = match name == self.hub().name() {
                true => Side::Hub,
                false => Side::Spoke,
            };
            let mut done = RolledBack {
                node: name.to_string(),
                restored: BTreeMap::new(),
                deleted: BTreeMap::new(),
            };
            let mut per_table: BTreeMap<&str, (Vec<RowOp>, Vec<TrackingEntry>)> = BTreeMap::new();
            for image in images {
                if !self.tables.iter().any(|t| t.name == image.table) {
                    continue;
                }
                let (ops, tracking) = per_table.entry(&image.table).or_default();
                let count = match &image.row {
                    Some(_) => &mut done.restored,
                    None => &mut done.deleted,
                };
                *count.entry(image.table.clone()).or_default() += 1;
                ops.push(match &image.row {
                    Some(values) => RowOp::Upsert {
                        values: values.clone(),
                        fields: None,
                    },
                    None => RowOp::Delete {
                        code: image.code.clone(),
                    },
                });
                tracking.push(TrackingEntry {
                    table: image.table.clone(),
                    code: image.code.clone(),
                    stamp: Stamp::now(name),
                    deleted: image.row.is_none(),
                    fields: None,
                });
            }
            for (table, (ops, tracking)) in per_table {
                self.write_rows(target, side, table, ops, tracking).await?;
            }
            tracing::info!(node = name, round, "rolled back");
            out.push(done);
        }
        Ok(out)
    }
}
