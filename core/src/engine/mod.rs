//! The engine: runs rounds, initial full syncs, verification and status over
//! connected nodes. Planning is delegated to [`crate::plan`]; this module only
//! moves data and records what happened.

mod fault;
mod full;
pub mod report;
mod round;
mod status;
mod verify;

pub use fault::{FaultHook, FaultPoint, NoFaults};
pub use report::{RoundReport, StatusReport, SyncMode, VerifyReport};

use crate::adapter::Node;
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
    /// The spokes, in configured order.
    pub spokes: Vec<Box<dyn Node>>,
    /// Synced tables, in configured order.
    pub tables: Vec<TableDef>,
}

/// Tunables of the engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Rows per batch in full syncs and verification.
    pub batch_size: usize,
    /// How often a round is retried when rows change under it.
    pub max_retries: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            batch_size: 20_000,
            max_retries: 5,
        }
    }
}

/// Runs sync work on a [`Deployment`].
pub struct Engine {
    dep: Deployment,
    tables: Vec<SyncTable>,
    state: Option<Arc<dyn StateStore>>,
    faults: Arc<dyn FaultHook>,
    progress: Arc<dyn Progress>,
    options: EngineOptions,
}

impl Engine {
    /// Resolves the synced tables against the hub's dictionary and checks that
    /// every spoke has the same columns.
    pub async fn new(dep: Deployment) -> Result<Engine> {
        let mut tables = Vec::with_capacity(dep.tables.len());
        for def in &dep.tables {
            let shape = dep
                .hub
                .describe(&def.name)
                .await?
                .ok_or_else(|| Error::Schema {
                    table: def.name.clone(),
                    message: format!("does not exist on the hub '{}'", dep.hub.name()),
                })?;
            let table = SyncTable::resolve(def, &shape)?;
            for spoke in &dep.spokes {
                check_same_columns(&table, spoke.as_ref()).await?;
            }
            tables.push(table);
        }
        Ok(Engine {
            dep,
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

    /// The resolved tables.
    pub fn tables(&self) -> &[SyncTable] {
        &self.tables
    }

    /// The hub.
    pub fn hub(&self) -> &dyn Node {
        self.dep.hub.as_ref()
    }

    /// The spokes.
    pub fn spokes(&self) -> impl Iterator<Item = &dyn Node> {
        self.dep.spokes.iter().map(|s| s.as_ref())
    }

    fn spoke(&self, name: &str) -> Result<&dyn Node> {
        self.spokes().find(|s| s.name() == name).ok_or_else(|| {
            let names: Vec<&str> = self.spokes().map(|s| s.name()).collect();
            Error::Deployment(format!(
                "no spoke named '{name}' (spokes: {})",
                names.join(", ")
            ))
        })
    }

    fn all_nodes(&self) -> impl Iterator<Item = &dyn Node> {
        std::iter::once(self.hub()).chain(self.spokes())
    }

    /// Installs capture on every node (idempotent).
    pub async fn install(&self) -> Result<()> {
        for node in self.all_nodes() {
            tracing::info!(node = node.name(), "installing capture");
            node.install(&self.tables).await?;
        }
        Ok(())
    }

    /// Removes capture from every node.
    pub async fn uninstall(&self) -> Result<()> {
        for node in self.all_nodes() {
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
}

async fn check_same_columns(table: &SyncTable, node: &dyn Node) -> Result<()> {
    let shape = node
        .describe(&table.name)
        .await?
        .ok_or_else(|| Error::Schema {
            table: table.name.clone(),
            message: format!("does not exist on node '{}'", node.name()),
        })?;
    let theirs: Vec<&str> = shape.columns.iter().map(|c| c.name.as_str()).collect();
    let missing: Vec<&str> = table
        .columns
        .iter()
        .map(String::as_str)
        .filter(|c| !theirs.contains(c))
        .collect();
    let extra: Vec<&str> = theirs
        .iter()
        .copied()
        .filter(|c| !table.columns.iter().any(|x| x == c))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(Error::Schema {
        table: table.name.clone(),
        message: format!(
            "columns differ between the hub and node '{}': missing there [{}], only there [{}]",
            node.name(),
            missing.join(", "),
            extra.join(", ")
        ),
    })
}
