//! The engine: runs rounds, initial full syncs, verification and status over
//! connected nodes. Planning is delegated to [`crate::plan`]; this module only
//! moves data and records what happened.

mod bulk;
mod compare;
mod fault;
mod full;
mod park;
mod preview;
mod purge;
mod repair;
mod rollback;
mod round;
mod stale;
mod standby;
mod status;
mod undo;
mod verify;

pub use crate::report::{RoundPreview, RoundReport, StatusReport, SyncMode, VerifyReport};
pub use fault::{FaultHook, FaultPoint, NoFaults};
pub use purge::NodePurge;
pub use rollback::RolledBack;
pub use standby::{node_epoch, record_epoch, EPOCH_PEER};
pub use status::status_without_hub;
pub use undo::{ConflictWrite, Keep};

use crate::adapter::Node;
use crate::mapping::file::MappingFile;
use crate::mapping::node::MappedNode;
use crate::mapping::resolve::TableMap;
use crate::mapping::resolve_deployment;
use crate::schema::{SyncTable, TableDef};
use crate::state::StateStore;
use crate::{Error, Result};
use std::sync::Arc;

/// Reports progress of long work (full syncs). The binary draws bars; the
/// default does nothing.
pub trait Progress: Send + Sync {
    /// Starts a unit of work with a known total.
    fn start(&self, label: &str, total: u64);
    /// Advances the current unit.
    fn advance(&self, n: u64);
    /// Finishes the current unit.
    fn finish(&self);
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// The connected nodes of a deployment and the tables they share.
pub struct Deployment {
    /// The hub.
    pub hub: Box<dyn Node>,
    /// The spokes that could be connected, in configured order.
    pub spokes: Vec<Box<dyn Node>>,
    /// The spokes that could not: their rounds fail, the others run.
    pub unreachable: Vec<Unreachable>,
    /// Synced tables, in configured order.
    pub tables: Vec<TableDef>,
    /// Table and field names per spoke (`MappingFile.xml`); without it every
    /// node uses the hub's names.
    pub mapping: Option<MappingFile>,
    /// The hub's standby: one of the spokes (connected or not), synced
    /// first in every pass ([`standby`]).
    pub standby: Option<String>,
}

/// A spoke that could not be connected (refused, silent, wrong password):
/// `sync` fails its rounds naming it and runs the others', `status`
/// reports it as such.
#[derive(Clone, Debug)]
pub struct Unreachable {
    /// The node's name.
    pub name: String,
    /// Its adapter.
    pub adapter: String,
    /// Why it could not be connected (the endpoint and the driver's words).
    pub message: String,
}

impl Unreachable {
    /// The connection error, as a round reports it.
    pub fn error(&self) -> Error {
        Error::Connect {
            node: self.name.clone(),
            message: self.message.clone(),
        }
    }
}

/// Tunables of the engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Rows per batch in full syncs and verification.
    pub batch_size: usize,
    /// How often a step of a round is retried on a retryable error.
    pub max_retries: u32,
    /// Tracking events a round reads per side at most (`None`: all that
    /// are final); a `sync` runs rounds until it has what was final when
    /// it began.
    pub round_events: Option<u64>,
    /// What a round does with a change whose row cannot be read.
    pub on_error: OnError,
    /// How old a tracking row every peer has integrated must be before
    /// [`Engine::purge`] deletes it; `None`: a `sync` purges nothing.
    pub retention: Option<std::time::Duration>,
    /// How long a spoke may go without a successful round (as the state
    /// store recorded it) before [`Engine::purge`] stops keeping the hub's
    /// tracking rows for it; `None`: every spoke holds them until it syncs.
    pub stale_after: Option<std::time::Duration>,
    /// What a round keeps before it writes to a node (`[sync] backup`).
    pub backup: Backup,
    /// Rounds whose pre-images are kept (`[sync] backup_keep`).
    pub backup_keep: usize,
    /// Lets a spoke that synced with the old hub but has no watermark of
    /// the promoted one be compared whole (`hetsync sync --force`).
    pub force_whole: bool,
}

/// What a round does with a change it cannot sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// The round stops, naming it: all or nothing.
    #[default]
    Stop,
    /// It is parked in the state store with its error, and the rest of the
    /// round goes on (`hetsync parked`).
    Park,
}

/// What a round keeps before it writes to a node (`[sync] backup`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backup {
    /// Nothing.
    #[default]
    None,
    /// The rows it is about to write, as they are, in the state store, for
    /// [`Engine::rollback`].
    Round,
    /// A copy of the node's whole database file, `<file>.bak-<round id>`,
    /// by the database's online backup (paper 001's backup before every
    /// sync), where the node is one file (SQLite); elsewhere as [`Backup::Round`].
    File,
}

/// The default of [`EngineOptions::backup_keep`].
pub const DEFAULT_BACKUP_KEEP: usize = 10;

/// The default of [`EngineOptions::round_events`]. A round holds its
/// events with the current rows of both sides, about 3 kB per event in an
/// incremental SQLite round of a 10-column table: at 25,000 a 1M-row
/// change drained with a peak RSS of 159 MB in 32 s, at 100,000 with
/// 418 MB in 29 s (bench group `sqlite`, docs/benchmarks.md).
pub const DEFAULT_ROUND_EVENTS: u64 = 25_000;

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            batch_size: 20_000,
            max_retries: 5,
            round_events: Some(DEFAULT_ROUND_EVENTS),
            on_error: OnError::Stop,
            retention: None,
            stale_after: None,
            backup: Backup::None,
            backup_keep: DEFAULT_BACKUP_KEEP,
            force_whole: false,
        }
    }
}

/// Runs sync work on a [`Deployment`].
pub struct Engine {
    hub: MappedNode,
    spokes: Vec<MappedNode>,
    unreachable: Vec<Unreachable>,
    standby: Option<String>,
    tables: Vec<SyncTable>,
    state: Option<Arc<dyn StateStore>>,
    faults: Arc<dyn FaultHook>,
    progress: Arc<dyn Progress>,
    options: EngineOptions,
}

impl Engine {
    /// Resolves the synced tables on every node (names from the mapping
    /// file, types from each node's dictionary) and refuses lossy mappings
    /// the config does not allow. The engine then sees every node through
    /// its [`MappedNode`]: hub names, canonical values.
    pub async fn new(dep: Deployment) -> Result<Engine> {
        let unreachable: Vec<&str> = dep.unreachable.iter().map(|u| u.name.as_str()).collect();
        let resolved = resolve_deployment(
            &dep.tables,
            dep.hub.as_ref(),
            &dep.spokes,
            &unreachable,
            dep.mapping.as_ref(),
        )
        .await?;
        let mut tables = Vec::with_capacity(resolved.len());
        let mut hub_maps = Vec::with_capacity(resolved.len());
        let mut spoke_maps: Vec<Vec<TableMap>> = vec![Vec::new(); dep.spokes.len()];
        for table in resolved {
            if let Some(refused) = table.refusal() {
                return Err(refused);
            }
            for lossy in &table.lossy {
                tracing::info!(table = %lossy.table, "lossy mapping allowed by allow_lossy: {lossy}");
            }
            tables.push(table.table);
            hub_maps.push(table.hub);
            for (maps, map) in spoke_maps.iter_mut().zip(table.spokes) {
                maps.push(map);
            }
        }
        let hub = MappedNode::new(dep.hub, hub_maps);
        let spokes: Vec<MappedNode> = dep
            .spokes
            .into_iter()
            .zip(spoke_maps)
            .map(|(node, maps)| MappedNode::new(node, maps))
            .collect();
        if let Some(standby) = &dep.standby {
            let known = spokes.iter().any(|s| s.name() == standby)
                || dep.unreachable.iter().any(|u| &u.name == standby);
            if !known {
                return Err(Error::Deployment(format!(
                    "the standby '{standby}' is not among the spokes"
                )));
            }
        }
        Ok(Engine {
            hub,
            spokes,
            unreachable: dep.unreachable,
            standby: dep.standby,
            tables,
            state: None,
            faults: Arc::new(NoFaults),
            progress: Arc::new(NoProgress),
            options: EngineOptions::default(),
        })
    }

    /// Records rounds in a state store.
    pub fn with_state(mut self, state: Arc<dyn StateStore>) -> Self {
        self.state = Some(state);
        self
    }

    /// Installs a fault hook (tests and crash drills).
    pub fn with_faults(mut self, faults: Arc<dyn FaultHook>) -> Self {
        self.faults = faults;
        self
    }

    /// Reports progress of long work.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// Overrides the tunables.
    pub fn with_options(mut self, options: EngineOptions) -> Self {
        self.options = options;
        self
    }

    /// The tunables.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// The resolved tables.
    pub fn tables(&self) -> &[SyncTable] {
        &self.tables
    }

    /// The hub.
    pub fn hub(&self) -> &dyn Node {
        &self.hub
    }

    /// The spokes that are connected.
    pub fn spokes(&self) -> impl Iterator<Item = &dyn Node> {
        self.spokes.iter().map(|s| s as &dyn Node)
    }

    /// The spokes that could not be connected.
    pub fn unreachable(&self) -> &[Unreachable] {
        &self.unreachable
    }

    /// Every configured spoke's name, the connected ones first.
    pub fn spoke_names(&self) -> Vec<String> {
        self.spokes()
            .map(|s| s.name())
            .chain(self.unreachable.iter().map(|u| u.name.as_str()))
            .map(str::to_string)
            .collect()
    }

    /// The connected spoke `name`; the connection error when it could not
    /// be connected.
    fn spoke(&self, name: &str) -> Result<&dyn Node> {
        if let Some(u) = self.unreachable.iter().find(|u| u.name == name) {
            return Err(u.error());
        }
        self.spokes().find(|s| s.name() == name).ok_or_else(|| {
            Error::Deployment(format!(
                "no spoke named '{name}' (spokes: {})",
                self.spoke_names().join(", ")
            ))
        })
    }

    /// The mapped node named `name` (the hub or a connected spoke).
    fn mapped(&self, name: &str) -> Result<&MappedNode> {
        std::iter::once(&self.hub)
            .chain(&self.spokes)
            .find(|m| m.name() == name)
            .ok_or_else(|| Error::Deployment(format!("no node named '{name}'")))
    }

    /// Fails naming every spoke that could not be connected: for work that
    /// needs every node.
    pub fn require_all_connected(&self) -> Result<()> {
        match self.unreachable.as_slice() {
            [] => Ok(()),
            [one] => Err(one.error()),
            many => Err(Error::Deployment(format!(
                "{} spokes cannot be connected: {}",
                many.len(),
                many.iter()
                    .map(|u| u.error().to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    /// The hub, then every connected spoke.
    pub fn nodes(&self) -> impl Iterator<Item = &dyn Node> {
        std::iter::once(self.hub()).chain(self.spokes())
    }

    /// Installs capture on every connected node (idempotent), then fails
    /// naming the spokes that could not be connected: `install` again once
    /// they are back.
    pub async fn install(&self) -> Result<()> {
        for node in self.nodes() {
            tracing::info!(node = node.name(), "installing capture");
            node.install(&self.tables).await?;
        }
        self.require_all_connected()
    }

    /// Removes capture from every node; nothing while one cannot be
    /// connected.
    pub async fn uninstall(&self) -> Result<()> {
        self.require_all_connected()?;
        for node in self.nodes() {
            tracing::info!(node = node.name(), "uninstalling capture");
            node.uninstall().await?;
        }
        Ok(())
    }

    /// Runs one round for every spoke, in configured order.
    pub async fn sync_all(&self) -> Result<Vec<RoundReport>> {
        let mut reports = Vec::new();
        for spoke in self.spokes() {
            reports.push(self.sync_spoke(spoke.name()).await?);
        }
        Ok(reports)
    }

    /// One `sync` of `spokes`: the rounds of each, in order, then one
    /// follow-up for every spoke that synced before the last spoke whose
    /// rounds uploaded rows (it has not received them yet). So that,
    /// without concurrent edits, every copy is equal afterwards; the
    /// follow-ups' own uploads (concurrent edits) wait for the next `sync`.
    /// A spoke's rounds take [`EngineOptions::round_events`] each and go on
    /// until they have what was final at the first one's start, however
    /// much is written meanwhile. A failing spoke does not keep the others
    /// from syncing; a deployment error (the configuration does not fit
    /// the databases) stops the pass.
    ///
    /// The standby, when there is one, is synced first whether `spokes`
    /// names it or not, and the spokes' watermarks of it follow the pass
    /// ([`standby`]).
    pub async fn sync_pass(&self, spokes: &[String]) -> Result<SyncPass> {
        let mut pass = SyncPass::default();
        let mut synced = Vec::new();
        let mut last_upload = None;
        let spokes: Vec<String> = self
            .standby
            .iter()
            .cloned()
            .chain(spokes.iter().filter(|s| !self.is_standby(s)).cloned())
            .collect();
        for (i, spoke) in spokes.iter().enumerate() {
            if let Some(uploaded) = pass.spoke(self, spoke, false).await? {
                if uploaded {
                    last_upload = Some(i);
                }
                synced.push(i);
            }
        }
        for i in synced.into_iter().filter(|&i| Some(i) < last_upload) {
            pass.spoke(self, &spokes[i], true).await?;
        }
        if !pass.mirrored.is_empty() {
            if let Err(e) = self.mark_standby_on_spokes(&pass.mirrored).await {
                tracing::warn!(error = %e, "moving the spokes' watermarks of the standby");
            }
        }
        if let Some(retention) = self.options.retention {
            pass.purged = Some(self.purge(retention).await);
        }
        Ok(pass)
    }
}

/// The rounds of one `sync` ([`Engine::sync_pass`]).
#[derive(Debug, Default)]
pub struct SyncPass {
    /// The rounds that succeeded, in the order they ran.
    pub rounds: Vec<RoundReport>,
    /// The spokes whose round failed, with why.
    pub failed: Vec<(String, Error)>,
    /// The purge after the rounds, with `[sync] retention`
    /// ([`EngineOptions::retention`]).
    pub purged: Option<Result<Vec<NodePurge>>>,
    /// What the standby's rounds mirrored, in the order they ran.
    mirrored: Vec<standby::Mirrored>,
}

impl SyncPass {
    /// Runs the rounds of `spoke` until it has what was final when the
    /// first began; whether they uploaded rows, `None` when one failed.
    async fn spoke(
        &mut self,
        engine: &Engine,
        spoke: &str,
        follow_up: bool,
    ) -> Result<Option<bool>> {
        let mut ends = None;
        let mut uploaded = false;
        loop {
            match engine.round(spoke, ends).await {
                Ok((mut report, rest, mirrored)) => {
                    self.mirrored.extend(mirrored);
                    report.follow_up = follow_up;
                    uploaded |= report.rows_uploaded() > 0;
                    self.rounds.push(report);
                    match rest {
                        Some(rest) => ends = Some(rest),
                        None => return Ok(Some(uploaded)),
                    }
                }
                Err(e @ Error::Deployment(_)) => return Err(e),
                Err(e) => {
                    self.failed.push((spoke.to_string(), e));
                    return Ok(None);
                }
            }
        }
    }
}
