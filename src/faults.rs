//! Crash drills: `HETSYNC_FAULT=<point>[:<action>]` makes a round stop at a
//! named [`FaultPoint`]. Actions: `error` (the round fails, default), `abort`
//! (the process aborts like a crash), `pause` (the process hangs there, to be
//! killed with `kill -9`). For tests and operators rehearsing recovery.

use async_trait::async_trait;
use hetsync_core::engine::{FaultHook, FaultPoint};
use hetsync_core::{Error, Result};

/// What to do at the fault point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Fail the round with an error.
    Error,
    /// Abort the process.
    Abort,
    /// Hang until killed.
    Pause,
}

/// A fault hook configured from the environment.
pub struct EnvFaults {
    point: FaultPoint,
    action: FaultAction,
}

impl EnvFaults {
    /// Reads `HETSYNC_FAULT`; `None` when unset.
    pub fn from_env() -> std::result::Result<Option<EnvFaults>, String> {
        let Ok(spec) = std::env::var("HETSYNC_FAULT") else {
            return Ok(None);
        };
        let (point, action) = spec.split_once(':').unwrap_or((spec.as_str(), "error"));
        let action = match action {
            "error" => FaultAction::Error,
            "abort" => FaultAction::Abort,
            "pause" => FaultAction::Pause,
            other => {
                return Err(format!(
                    "HETSYNC_FAULT: unknown action '{other}' (error, abort, pause)"
                ))
            }
        };
        Ok(Some(EnvFaults {
            point: point.parse().map_err(|e| format!("HETSYNC_FAULT: {e}"))?,
            action,
        }))
    }
}

#[async_trait]
impl FaultHook for EnvFaults {
    async fn reached(&self, spoke: &str, point: FaultPoint) -> Result<()> {
        if point != self.point {
            return Ok(());
        }
        eprintln!("hetsync: HETSYNC_FAULT reached {point} in the round of {spoke}");
        match self.action {
            FaultAction::Error => Err(Error::Injected(point.to_string())),
            FaultAction::Abort => std::process::abort(),
            FaultAction::Pause => loop {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            },
        }
    }
}
