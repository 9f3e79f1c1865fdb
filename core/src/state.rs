//! The state store: sync history and the conflict log. Watermarks that decide
//! what a round reads live on the nodes themselves (written in the same
//! transaction as the data); the state store keeps a copy for `status`.

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
}
