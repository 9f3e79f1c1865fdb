//! Named points in a round where a fault can be injected, to prove that a
//! round stopped anywhere and rerun converges without loss or duplication.

use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A point in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultPoint {
    /// Both sides' changes are read, nothing is planned yet.
    AfterRead,
    /// The round is planned, nothing is written yet.
    AfterPlan,
    /// The hub committed the uploads, the spoke has not been written.
    AfterHubApply,
    /// One batch of an initial full sync was written.
    AfterFullSyncBatch,
    /// The spoke committed the downloads, the state store has not recorded the round.
    AfterSpokeApply,
}

impl FaultPoint {
    /// Every point, in round order.
    pub const ALL: [FaultPoint; 5] = [
        FaultPoint::AfterRead,
        FaultPoint::AfterPlan,
        FaultPoint::AfterHubApply,
        FaultPoint::AfterFullSyncBatch,
        FaultPoint::AfterSpokeApply,
    ];

    /// The point's name as used in `HETSYNC_FAULT`.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultPoint::AfterRead => "after_read",
            FaultPoint::AfterPlan => "after_plan",
            FaultPoint::AfterHubApply => "after_hub_apply",
            FaultPoint::AfterFullSyncBatch => "after_full_sync_batch",
            FaultPoint::AfterSpokeApply => "after_spoke_apply",
        }
    }
}

impl fmt::Display for FaultPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultPoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FaultPoint::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FaultPoint::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown fault point '{s}' (known: {})", names.join(", "))
            })
    }
}

/// Called at every [`FaultPoint`]; an error aborts the round there.
#[async_trait]
pub trait FaultHook: Send + Sync {
    /// The round of `spoke` reached `point`.
    async fn reached(&self, spoke: &str, point: FaultPoint) -> Result<()>;
}

/// The hook that never fails.
pub struct NoFaults;

#[async_trait]
impl FaultHook for NoFaults {
    async fn reached(&self, _: &str, _: FaultPoint) -> Result<()> {
        Ok(())
    }
}
