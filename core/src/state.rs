//! The state store: sync history and the conflict log. Watermarks that decide
//! what a round reads live on the nodes themselves (written in the same
//! transaction as the data); the state store keeps a copy for `status`.

use crate::change::Stamp;
use crate::code::CombinedCode;
use crate::mapping::discover::Dictionary;
use crate::report::RoundReport;
use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The last recorded round of a spoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRound {
    /// When it finished (RFC 3339).
    pub finished_at: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// The error, for a failed round.
    pub error: Option<String>,
}

/// A change a round left out and parked (`[sync] on_error = "park"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parked {
    /// Its id (`hetsync parked retry|drop ID`).
    pub id: i64,
    /// The spoke whose round parked it.
    pub spoke: String,
    /// The node whose change it is.
    pub node: String,
    /// The table (hub name).
    pub table: String,
    /// The row's combined code.
    pub code: CombinedCode,
    /// The change's stamp, when known.
    pub stamp: Option<Stamp>,
    /// Why it could not be synced.
    pub error: String,
    /// When it was parked (RFC 3339).
    pub parked_at: String,
    /// `hetsync parked retry` asked the next round to read the row again.
    pub retry: bool,
    /// Held by the resync of a stale spoke: a change made before the hub's
    /// history of the time was purged, so whether the hub changed the row
    /// too is unknown. The row is left as it is on both sides (no change
    /// of it syncs either way) until `retry` sends the spoke's row or
    /// `drop` brings the hub's.
    #[serde(default)]
    pub stale: bool,
}

/// One side of a logged conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedChange {
    /// The node the change was made on.
    pub node: String,
    /// When it was made (RFC 3339).
    pub time: String,
    /// The value (`deleted` for a delete; the whole row in form `table`).
    pub value: Option<String>,
    /// The database user who made it, where its node recorded one.
    #[serde(default)]
    pub user: Option<String>,
}

/// A conflict from the conflict log (`hetsync conflicts`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedConflict {
    /// Its id in the log.
    pub id: i64,
    /// The spoke of the round that decided it.
    pub spoke: String,
    /// When that round finished (RFC 3339).
    pub decided_at: String,
    /// The table (hub name).
    pub table: String,
    /// The row's combined code, as JSON.
    pub code: String,
    /// The field, for a form `field` update/update conflict.
    pub field: Option<String>,
    /// `update_update` or `delete_update`.
    pub kind: String,
    /// The rule that decided: `latest`, `hub` or `priority`.
    pub rule: String,
    /// The change that won.
    pub winner: LoggedChange,
    /// The change that lost.
    pub loser: LoggedChange,
    /// The losing side's row as it was (hub column order): what `hetsync
    /// conflicts undo` brings back; `None` when it was not kept (logged
    /// by an older hetsync, or a value of the spoke's that does not fit
    /// the hub's types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loser_row: Option<crate::plan::LosingRow>,
    /// When `hetsync conflicts undo` brought the losing change back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_at: Option<String>,
    /// For a conflict held for a decision (rule `manual`): when `hetsync
    /// conflicts resolve` settled it; `None` while it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    /// What was kept: `hub`, `spoke` or `value <v>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

impl LoggedConflict {
    /// Held for a decision that has not been made yet.
    pub fn awaiting(&self) -> bool {
        self.rule == "manual" && self.resolved_at.is_none()
    }
}

/// A row as it was before a round wrote it (`[sync] backup = "round"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreImage {
    /// The node it was written on.
    pub node: String,
    /// The table (hub name).
    pub table: String,
    /// The row's combined code.
    pub code: CombinedCode,
    /// The row, in the hub's column order; `None`: the row did not exist.
    pub row: Option<Vec<crate::value::Value>>,
}

/// Which logged conflicts to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConflictFilter {
    /// Only this table (hub name).
    pub table: Option<String>,
    /// Only those decided at or after this time (RFC 3339, UTC).
    pub since: Option<String>,
    /// Only the one with this id.
    pub id: Option<i64>,
    /// Only those held for a decision not made yet (rule `manual`).
    pub awaiting: bool,
}

/// Where hetsync keeps its own history.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Records a finished round (its conflicts go to the conflict log).
    async fn record_round(&self, report: &RoundReport) -> Result<()>;
    /// Records a failed round, with what it committed before it failed
    /// (`committed`: the round as far as the hub's commit, when the failure
    /// came after it).
    async fn record_failure(
        &self,
        spoke: &str,
        error: &str,
        committed: Option<&RoundReport>,
    ) -> Result<()>;
    /// The last successful round of a spoke.
    async fn last_success(&self, spoke: &str) -> Result<Option<LastRound>>;
    /// The last round of a spoke, successful or not.
    async fn last_round(&self, spoke: &str) -> Result<Option<LastRound>>;
    /// Stores a node's harvested data dictionary (`hetsync discover`).
    async fn record_dictionary(&self, dictionary: &Dictionary) -> Result<()>;
    /// The last dictionary harvested from a node.
    async fn last_dictionary(&self, node: &str) -> Result<Option<Dictionary>>;
    /// Records a promotion: `node` acts as the hub from `epoch` on
    /// (`hetsync promote`, or `hetsync run`'s failover).
    async fn record_promotion(&self, epoch: u64, node: &str) -> Result<()>;
    /// The latest promotion recorded: its epoch and node.
    async fn last_promotion(&self) -> Result<Option<(u64, String)>>;
    /// Parks a change (`id`, `parked_at` and `retry` are set here); one
    /// already parked for the same spoke, node, table and code is replaced.
    async fn park(&self, parked: &Parked) -> Result<()>;
    /// The parked changes, of one spoke or of all, oldest first.
    async fn parked(&self, spoke: Option<&str>) -> Result<Vec<Parked>>;
    /// Asks the next round of its spoke to read a parked change's row
    /// again; false when there is no such id.
    async fn retry_parked(&self, id: i64) -> Result<bool>;
    /// Forgets a parked change; false when there is no such id.
    async fn drop_parked(&self, id: i64) -> Result<bool>;
    /// The logged conflicts the filter lets through, oldest first.
    async fn conflicts(&self, filter: &ConflictFilter) -> Result<Vec<LoggedConflict>>;
    /// Keeps the pre-images of rows round `round` is about to write on
    /// `node` (the first one kept per row stays), and forgets the
    /// pre-images of all but the newest `keep` rounds.
    async fn keep_pre_images(
        &self,
        round: &str,
        node: &str,
        table: &str,
        rows: &[(CombinedCode, Option<Vec<crate::value::Value>>)],
        keep: usize,
    ) -> Result<()>;
    /// The pre-images round `round` kept, of one node or of all, oldest
    /// first.
    async fn pre_images(&self, round: &str, node: Option<&str>) -> Result<Vec<PreImage>>;
    /// Records that the logged conflict `id` was undone, now.
    async fn mark_undone(&self, id: i64) -> Result<()>;
    /// Records that the held conflict `id` was resolved, now, keeping
    /// `resolution`.
    async fn mark_resolved(&self, id: i64, resolution: &str) -> Result<()>;
}
