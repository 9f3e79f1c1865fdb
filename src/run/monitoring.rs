//! What `hetsync run --listen` shows: the [`Monitor`] fed after each
//! spoke's rounds.

use crate::monitor::Monitor;
use anyhow::Result;
use hetsync_adapter_sqlite::SqliteStateStore;
use hetsync_core::engine::{Engine, SyncPass};
use hetsync_core::state::StateStore;
use std::sync::Arc;
use std::time::Duration;

/// What the service shows on its listener: the [`Monitor`], fed after
/// each spoke's rounds with their reports, the statuses of the hub and the
/// spoke, and the parked changes.
pub(super) struct Monitoring {
    monitor: Arc<Monitor>,
    state: SqliteStateStore,
    hub: String,
}

impl Monitoring {
    /// Starts serving on `addr` and says where.
    pub(super) async fn start(
        config: &hetsync_config::Config,
        addr: &str,
        max_lag: Option<Duration>,
    ) -> Result<Monitoring> {
        let monitor = Arc::new(Monitor::new(config, max_lag));
        let local = crate::monitor::serve(addr, monitor.clone()).await?;
        crate::say!(
            "hetsync run: status page on http://{local}/, metrics on http://{local}/metrics, \
             health on http://{local}/health"
        );
        Ok(Monitoring {
            monitor,
            state: SqliteStateStore::open(&config.state_path).await?,
            hub: config.hub().name.clone(),
        })
    }

    /// The configuration was read again: its nodes, hub and allowed lags.
    pub(super) fn reconfigure(
        &mut self,
        config: &hetsync_config::Config,
        max_lag: Option<Duration>,
    ) {
        self.monitor.reconfigure(config, max_lag);
        self.hub = config.hub().name.clone();
    }

    /// The deployment could not be opened for `spoke`'s rounds: the hub
    /// is unreachable (or a plugin or the mapping failed).
    pub(super) fn not_opened(&self, spoke: &str, error: &anyhow::Error) {
        let error = format!("{error:#}");
        self.monitor.node_unreachable(&self.hub, &error);
        self.monitor
            .rounds_finished(&[], &[(spoke.to_string(), error)]);
    }

    /// `spoke`'s rounds ended with `pass`.
    pub(super) async fn passed(&self, engine: &Engine, spoke: &str, pass: &SyncPass) {
        let failed: Vec<(String, String)> = pass
            .failed
            .iter()
            .map(|(spoke, e)| (spoke.clone(), e.to_string()))
            .collect();
        self.monitor.rounds_finished(&pass.rounds, &failed);
        for node in [Some(engine.hub().name()), engine.standby(), Some(spoke)]
            .into_iter()
            .flatten()
        {
            match engine.node_status(node).await {
                Ok(status) => self.monitor.node_read(status),
                Err(e) => tracing::warn!(node, error = %e, "reading the status for the monitor"),
            }
        }
        match self.state.parked(None).await {
            Ok(parked) => self.monitor.parked(parked),
            Err(e) => tracing::warn!(error = %e, "reading the parked changes for the monitor"),
        }
    }
}
