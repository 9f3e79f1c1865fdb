//! Acting on logged conflicts. `hetsync conflicts undo ID` makes the
//! losing change of a conflict again at the hub; `hetsync conflicts resolve
//! ID --keep hub|spoke|VALUE` settles one held for a decision (policy
//! `manual`, which let the hub's side stand meanwhile). What either writes
//! is a new change made at the hub, stamped now and tracked there, so that
//! every spoke receives it in its next round (the one it came from too); an
//! edit of the row made meanwhile competes with it under the table's
//! policy, as any change does.

use super::round::RoundRun;
use super::Engine;
use crate::adapter::Node;
use crate::change::{ApplyBatch, RowOp, Stamp, TrackingEntry};
use crate::code::CombinedCode;
use crate::plan::{LosingRow, Side};
use crate::state::LoggedConflict;
use crate::value::Value;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// What acting on a logged conflict wrote at the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictWrite {
    /// The logged conflict.
    pub id: i64,
    /// The table (hub name).
    pub table: String,
    /// The row's combined code, as JSON.
    pub code: String,
    /// The field, for a form `field` conflict.
    pub field: Option<String>,
    /// `deleted` (the row was deleted again), `row` (a row written back
    /// whole), `field` (a field's value written back) or `nothing` (the
    /// hub's side was kept).
    pub written: String,
}

/// What `conflicts resolve` keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The hub's side, which stood meanwhile: nothing is written.
    Hub,
    /// The spoke's losing change.
    Spoke,
    /// This value of the conflict's field (text, read as the field's kind
    /// of value: a number, `true`/`false`, `NULL`, or text; not bytes).
    Value(String),
}

impl Keep {
    /// The resolution as the log records it.
    fn recorded(&self) -> String {
        match self {
            Keep::Hub => "hub".into(),
            Keep::Spoke => "spoke".into(),
            Keep::Value(v) => format!("value {v}"),
        }
    }
}

impl Engine {
    /// Makes the losing change of `conflict` again at the hub, tracked
    /// there so that it reaches every spoke, and records the undo. Holds
    /// the hub's integration lock while it writes.
    pub async fn undo_conflict(&self, conflict: &LoggedConflict) -> Result<ConflictWrite> {
        let state = self.conflict_log(conflict)?;
        if let Some(at) = &conflict.undone_at {
            return Err(refused(conflict, format!("it was undone already, at {at}")));
        }
        let written = self.write_back(conflict, None).await?;
        state.mark_undone(conflict.id).await?;
        Ok(written)
    }

    /// Settles `conflict`, held for a decision, keeping `keep`: the spoke's
    /// losing change or a value is written at the hub as a new change; the
    /// hub's side needs no write. Records the resolution.
    pub async fn resolve_conflict(
        &self,
        conflict: &LoggedConflict,
        keep: Keep,
    ) -> Result<ConflictWrite> {
        let state = self.conflict_log(conflict)?;
        if conflict.rule != "manual" {
            return Err(refused(
                conflict,
                format!(
                    "it was decided by rule {}, not held for a decision (`hetsync conflicts \
                     undo` brings its losing change back)",
                    conflict.rule
                ),
            ));
        }
        if let Some(at) = &conflict.resolved_at {
            return Err(refused(
                conflict,
                format!("it was resolved already, at {at}"),
            ));
        }
        let written = match &keep {
            Keep::Hub => ConflictWrite {
                id: conflict.id,
                table: conflict.table.clone(),
                code: conflict.code.clone(),
                field: conflict.field.clone(),
                written: "nothing".into(),
            },
            Keep::Spoke => self.write_back(conflict, None).await?,
            Keep::Value(text) => self.write_back(conflict, Some(text)).await?,
        };
        state.mark_resolved(conflict.id, &keep.recorded()).await?;
        Ok(written)
    }

    /// The state store that holds `conflict`'s log.
    fn conflict_log(&self, conflict: &LoggedConflict) -> Result<&dyn crate::state::StateStore> {
        self.state
            .as_deref()
            .ok_or_else(|| refused(conflict, "acting on it needs the state store".into()))
    }

    /// Writes `conflict`'s losing change at the hub, with its field set to
    /// `value` when given (a field conflict only), tracked there.
    async fn write_back(
        &self,
        conflict: &LoggedConflict,
        value: Option<&str>,
    ) -> Result<ConflictWrite> {
        let table = self
            .tables
            .iter()
            .find(|t| t.name == conflict.table)
            .ok_or_else(|| {
                refused(
                    conflict,
                    format!("table '{}' is not synced any more", conflict.table),
                )
            })?;
        let losing = conflict.loser_row.as_ref().ok_or_else(|| {
            refused(
                conflict,
                "its losing row was not kept (logged by an older hetsync, or its values do \
                 not fit the hub's types)"
                    .into(),
            )
        })?;
        if let LosingRow::Row(values) = losing {
            if values.len() != table.columns.len() {
                return Err(refused(
                    conflict,
                    format!(
                        "its losing row has {} values and table '{}' now {} columns",
                        values.len(),
                        table.name,
                        table.columns.len()
                    ),
                ));
            }
        }
        let code: CombinedCode = serde_json::from_str(&conflict.code).map_err(|e| {
            refused(
                conflict,
                format!("unreadable code {:?}: {e}", conflict.code),
            )
        })?;
        let field =
            match &conflict.field {
                None => None,
                Some(name) => Some(table.columns.iter().position(|c| c == name).ok_or_else(
                    || refused(conflict, format!("column '{name}' is not synced any more")),
                )?),
            };

        let hub = self.hub();
        let _lock = hub.lock_integration().await?;
        let current = hub.fetch(table, std::slice::from_ref(&code)).await?.pop();
        let (op, written) = match (losing, field, value) {
            (_, None, Some(_)) => {
                return Err(refused(
                    conflict,
                    "a value can be kept only in a conflict of one field; keep hub or spoke".into(),
                ))
            }
            (LosingRow::Row(_), Some(_), _) | (LosingRow::Deleted, Some(_), Some(_))
                if current.is_none() =>
            {
                return Err(refused(
                    conflict,
                    format!("row {code} of '{}' no longer exists on the hub", table.name),
                ))
            }
            (LosingRow::Deleted, _, None) => (RowOp::Delete { code: code.clone() }, "deleted"),
            (losing, Some(i), value) => {
                let mut values = match losing {
                    LosingRow::Row(values) => values.clone(),
                    LosingRow::Deleted => current.clone().unwrap_or_default(),
                };
                if let Some(text) = value {
                    let like = [&values[i], current.as_ref().map_or(&Value::Null, |c| &c[i])];
                    values[i] = value_like(like, text)
                        .map_err(|e| refused(conflict, format!("--keep {text:?}: {e}")))?;
                }
                (
                    RowOp::Upsert {
                        values,
                        fields: Some(vec![i]),
                    },
                    "field",
                )
            }
            (LosingRow::Row(values), None, None) => (
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
        self.write_rows(hub, Side::Hub, &table.name, vec![op], vec![tracking])
            .await?;
        tracing::info!(
            id = conflict.id,
            table = %table.name,
            code = %code,
            written,
            "a logged conflict's change written at the hub"
        );
        Ok(ConflictWrite {
            id: conflict.id,
            table: table.name.clone(),
            code: conflict.code.clone(),
            field: conflict.field.clone(),
            written: written.to_string(),
        })
    }

    /// Writes row operations of `table` (hub name), with their tracking
    /// entries, at `node` (on `side` of the deployment's rounds) outside a
    /// round: an edit of a row made after this starts keeps the edit, as
    /// in a round. The caller holds the hub's integration lock.
    pub(super) async fn write_rows(
        &self,
        node: &dyn Node,
        side: Side,
        table: &str,
        ops: Vec<RowOp>,
        tracking: Vec<TrackingEntry>,
    ) -> Result<()> {
        let mut run = RoundRun::new();
        let batch = ApplyBatch {
            ops: vec![(table.to_string(), ops)],
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

/// Why acting on `conflict` is refused.
fn refused(conflict: &LoggedConflict, why: String) -> Error {
    Error::Deployment(format!("conflict {}: {why}", conflict.id))
}

/// `text` read as the kind of value of the first of `like` that is not
/// NULL (text when both are): `NULL` is NULL whatever the kind.
fn value_like(like: [&Value; 2], text: &str) -> std::result::Result<Value, String> {
    if text == "NULL" {
        return Ok(Value::Null);
    }
    let kind = like.into_iter().find(|v| !matches!(v, Value::Null));
    match kind {
        None | Some(Value::Text(_)) | Some(Value::Null) => Ok(Value::Text(text.to_string())),
        Some(Value::Int(_)) => text
            .parse()
            .map(Value::Int)
            .map_err(|e| format!("not an integer ({e})")),
        Some(Value::Float(_)) => text
            .parse()
            .map(Value::Float)
            .map_err(|e| format!("not a number ({e})")),
        Some(Value::Bool(_)) => text
            .parse()
            .map(Value::Bool)
            .map_err(|_| "not true or false".to_string()),
        Some(Value::Bytes(_)) => {
            Err("a binary field's value cannot be given as text: keep hub or spoke".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_value_is_read_as_the_field_s_kind() {
        let int = Value::Int(1);
        let null = Value::Null;
        assert!(value_like([&int, &null], "42")
            .unwrap()
            .identical(&Value::Int(42)));
        assert!(value_like([&null, &Value::Float(1.0)], "2.5")
            .unwrap()
            .identical(&Value::Float(2.5)));
        assert!(value_like([&null, &null], "变电站")
            .unwrap()
            .identical(&Value::Text("变电站".into())));
        assert!(value_like([&int, &null], "NULL")
            .unwrap()
            .identical(&Value::Null));
        assert!(value_like([&int, &null], "many")
            .unwrap_err()
            .contains("integer"));
    }
}
