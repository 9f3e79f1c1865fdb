//! `hetsync conflicts undo ID`: the losing change of a logged conflict is
//! made again at the hub, as a new change stamped now and tracked there, so
//! that every spoke receives it in its next round (the one it came from
//! too). It is a change like any other: an edit of the row made meanwhile
//! competes with it under the table's conflict policy.

use super::round::RoundRun;
use super::Engine;
use crate::adapter::Node;
use crate::change::{ApplyBatch, RowOp, Stamp, TrackingEntry};
use crate::code::CombinedCode;
use crate::plan::{LosingRow, Side};
use crate::schema::SyncTable;
use crate::state::LoggedConflict;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// What `conflicts undo` wrote at the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undone {
    /// The logged conflict.
    pub id: i64,
    /// The table (hub name).
    pub table: String,
    /// The row's combined code, as JSON.
    pub code: String,
    /// The field brought back, for a form `field` conflict.
    pub field: Option<String>,
    /// `deleted` (the losing change deleted the row), `row` (the losing
    /// row written whole) or `field` (the losing value of `field`).
    pub restored: String,
}

impl Engine {
    /// Makes the losing change of `conflict` again at the hub, tracked
    /// there so that it reaches every spoke, and records the undo. Holds
    /// the hub's integration lock while it writes.
    pub async fn undo_conflict(&self, conflict: &LoggedConflict) -> Result<Undone> {
        let refuse = |why: String| Error::Deployment(format!("conflict {}: {why}", conflict.id));
        let state = self
            .state
            .as_ref()
            .ok_or_else(|| refuse("undoing needs the state store".into()))?;
        if let Some(at) = &conflict.undone_at {
            return Err(refuse(format!("it was undone already, at {at}")));
        }
        let table = self
            .tables
            .iter()
            .find(|t| t.name == conflict.table)
            .ok_or_else(|| refuse(format!("table '{}' is not synced any more", conflict.table)))?;
        let losing = conflict.loser_row.as_ref().ok_or_else(|| {
            refuse(
                "its losing row was not kept (logged by an older hetsync, or its values do \
                 not fit the hub's types): it cannot be undone"
                    .into(),
            )
        })?;
        if let LosingRow::Row(values) = losing {
            if values.len() != table.columns.len() {
                return Err(refuse(format!(
                    "its losing row has {} values and table '{}' now {} columns",
                    values.len(),
                    table.name,
                    table.columns.len()
                )));
            }
        }
        let code: CombinedCode = serde_json::from_str(&conflict.code)
            .map_err(|e| refuse(format!("unreadable code {:?}: {e}", conflict.code)))?;
        let field = match &conflict.field {
            None => None,
            Some(name) => Some(
                table
                    .columns
                    .iter()
                    .position(|c| c == name)
                    .ok_or_else(|| refuse(format!("column '{name}' is not synced any more")))?,
            ),
        };

        let hub = self.hub();
        let _lock = hub.lock_integration().await?;
        let exists = !hub
            .fetch(table, std::slice::from_ref(&code))
            .await?
            .is_empty();
        let (op, restored) = match (losing, field) {
            (LosingRow::Deleted, _) => (RowOp::Delete { code: code.clone() }, "deleted"),
            (LosingRow::Row(_), Some(_)) if !exists => {
                return Err(refuse(format!(
                    "row {code} of '{}' no longer exists on the hub",
                    table.name
                )))
            }
            (LosingRow::Row(values), Some(i)) => (
                RowOp::Upsert {
                    values: values.clone(),
                    fields: Some(vec![i]),
                },
                "field",
            ),
            (LosingRow::Row(values), None) => (
                RowOp::Upsert {
                    values: values.clone(),
                    fields: None,
                },
                "row",
            ),
        };
        let tracking = TrackingEntry {
            table: table.name.clone(),
            code: code.clone(),
            stamp: Stamp::now(hub.name()),
            deleted: matches!(op, RowOp::Delete { .. }),
            fields: conflict.field.clone().map(|f| vec![f]),
        };
        self.write_row(hub, Side::Hub, table, op, vec![tracking])
            .await?;
        state.mark_undone(conflict.id).await?;
        tracing::info!(
            id = conflict.id,
            table = %table.name,
            code = %code,
            restored,
            "conflict undone"
        );
        Ok(Undone {
            id: conflict.id,
            table: table.name.clone(),
            code: conflict.code.clone(),
            field: conflict.field.clone(),
            restored: restored.to_string(),
        })
    }

    /// Writes one row operation, with its tracking entries, at `node` (on
    /// `side` of the deployment's rounds) outside a round: an edit of the
    /// row made after this starts keeps the edit, as in a round. The
    /// caller holds the hub's integration lock.
    pub(super) async fn write_row(
        &self,
        node: &dyn Node,
        side: Side,
        table: &SyncTable,
        op: RowOp,
        tracking: Vec<TrackingEntry>,
    ) -> Result<()> {
        let mut run = RoundRun::new();
        let batch = ApplyBatch {
            ops: vec![(table.name.clone(), vec![op])],
            tracking,
            peer: None,
            guard: Some(node.position().await?),
            fresh: false,
            settle: Some(self.settle(side)),
            stamps: Vec::new(),
            log: Some(run.log(Vec::new())),
        };
        self.apply_batch(node, batch, &mut run).await.map(|_| ())
    }
}
