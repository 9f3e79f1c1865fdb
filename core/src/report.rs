//! What the engine reports: rounds, verification, status. All serialize to
//! JSON for `--json`.

use crate::change::{ApplyOutcome, Watermark};
use crate::code::CombinedCode;
use crate::plan::{Conflict, OpCounts, TableCounts};
use crate::state::LastRound;
use serde::{Deserialize, Serialize};

/// Whether a round copied everything or only changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// First sync of a spoke: its changes, then a streamed comparison of every row.
    Full,
    /// Only changes since the spoke's last successful sync.
    Incremental,
    /// `hetsync repair`: the rows the convergence digest found different,
    /// rewritten from the preferred side.
    Repair,
    /// A stale spoke's round: the hub purged tracking rows it never
    /// received. Its changes that can be decided sync, the others are held,
    /// and every table is repaired from the hub.
    Resync,
}

/// What a spoke's next round would do (`hetsync sync --dry-run`), read and
/// planned as the round would, with nothing written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundPreview {
    /// The spoke.
    pub spoke: String,
    /// The hub.
    pub hub: String,
    /// Full (the spoke's first round) or incremental.
    pub mode: SyncMode,
    /// Tracking events read: (spoke, hub).
    pub events_read: (u64, u64),
    /// Rows the plan writes to the hub, per table.
    pub uploaded: TableCounts,
    /// Rows the plan writes to the spoke, per table.
    pub downloaded: TableCounts,
    /// The conflicts the plan decides, with their winners and rules.
    pub conflicts: Vec<Conflict>,
    /// Tables the round compares whole (all of them in a first round, or
    /// tables new to the configuration): what that comparison moves is
    /// known only as it runs, and is not in the counts.
    pub compared_whole: Vec<String>,
    /// Changes the round leaves out (a row that cannot be read as the
    /// hub's types ask, a row without a code): parked, or the round stops
    /// on the first (`stops`); and the changes a stale spoke's resync
    /// holds ([`SyncMode::Resync`]).
    pub refused: Vec<RefusedChange>,
    /// The round would stop on `refused` (`[sync] on_error = "stop"`).
    pub stops: bool,
    /// The columns whose values the round's writes convert between the
    /// spoke's types and the hub's, per direction.
    #[serde(default)]
    pub conversions: Vec<PlannedConversion>,
    /// The round reads a bounded number of events and more follow: the
    /// `sync` would run further rounds, which this preview does not plan.
    pub more: bool,
}

/// A column whose values a round converts on their way
/// ([`RoundPreview::conversions`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedConversion {
    /// The table (hub name).
    pub table: String,
    /// The column (hub name).
    pub column: String,
    /// The spoke's name of the column.
    pub local: String,
    /// `to hub` or `to spoke`.
    pub direction: String,
    /// `from → to`, native types.
    pub types: String,
    /// `exact`, `widening`, or what values can lose.
    pub fidelity: String,
    /// Rows the plan sends that way; `None` for a table compared whole,
    /// whose rows are known only as the comparison runs.
    pub rows: Option<u64>,
}

/// A change a round leaves out, and the node it was made on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefusedChange {
    /// The node whose change it is.
    pub node: String,
    /// The change and why.
    #[serde(flatten)]
    pub refused: crate::change::Refused,
    /// Held by a stale spoke's resync rather than refused.
    #[serde(default)]
    pub held: bool,
}

/// The outcome of one round of one spoke.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundReport {
    /// The round's id (`hetsync rollback ID` takes it).
    #[serde(default)]
    pub id: String,
    /// The spoke.
    pub spoke: String,
    /// The hub.
    pub hub: String,
    /// Full or incremental.
    pub mode: SyncMode,
    /// Start time (RFC 3339).
    pub started_at: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Tracking events read on the spoke and on the hub.
    pub events_read: (u64, u64),
    /// Rows sent to the hub, per table.
    pub uploaded: TableCounts,
    /// Rows sent to the spoke, per table.
    pub downloaded: TableCounts,
    /// What the hub's database did with them.
    pub hub_written: ApplyOutcome,
    /// What the spoke's database did with them.
    pub spoke_written: ApplyOutcome,
    /// Conflicts resolved.
    pub conflicts: Vec<Conflict>,
    /// The spoke's tracking position now integrated into the hub.
    pub spoke_watermark: Watermark,
    /// The hub's tracking position now integrated into the spoke.
    pub hub_watermark: Watermark,
    /// How often a step of the round was retried (a deadlock, a busy
    /// database, a race the guard caught); each step is retried alone.
    pub retries: u32,
    /// A follow-up round of one `sync`: a spoke synced later uploaded rows
    /// this spoke had not received ([`crate::engine::Engine::sync_pass`]).
    #[serde(default)]
    pub follow_up: bool,
    /// The round stopped at its event limit (`[sync] round_events`) with
    /// changes left that were final when the `sync` began: the same `sync`
    /// runs another round of this spoke.
    #[serde(default)]
    pub more: bool,
    /// Tables compared row by row in this round: every table in a spoke's
    /// first round, later the tables added to the configuration since.
    #[serde(default)]
    pub compared_whole: Vec<String>,
    /// Nodes whose tracking table went back (restored from an older
    /// backup, or recreated): all their captured changes were read again,
    /// and a spoke's rows compared whole.
    #[serde(default)]
    pub rewound: Vec<String>,
    /// Changes this round left out and parked (`[sync] on_error = "park"`).
    #[serde(default)]
    pub parked: u64,
    /// The copies of database files made before the round wrote to them
    /// (`[sync] backup = "file"`).
    #[serde(default)]
    pub backups: Vec<String>,
}

impl RoundReport {
    /// Rows moved in both directions.
    pub fn rows_moved(&self) -> u64 {
        self.rows_uploaded() + self.rows_downloaded()
    }

    /// Rows written to the hub.
    pub fn rows_uploaded(&self) -> u64 {
        self.uploaded.values().map(OpCounts::rows).sum()
    }

    /// Rows written to the spoke.
    pub fn rows_downloaded(&self) -> u64 {
        self.downloaded.values().map(OpCounts::rows).sum()
    }
}

/// Which copy `repair` keeps where the hub's and a spoke's rows differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefer {
    /// The hub's rows are written to the spoke; rows only the spoke has
    /// are deleted there.
    Hub,
    /// The spoke's rows are written to the hub (and so reach the other
    /// spokes); rows only the hub has are deleted there.
    Spoke,
}

/// What `repair` found and rewrote in one table of one spoke.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRepair {
    /// Table name.
    pub table: String,
    /// Rows on the hub.
    pub hub_rows: u64,
    /// Rows on the spoke.
    pub spoke_rows: u64,
    /// Buckets the table was split into.
    pub buckets: u32,
    /// Buckets whose digests differed.
    pub differing_buckets: u64,
    /// Rows read from the hub and from the spoke beyond the digests: the
    /// row hashes of the differing buckets (every row, for a node that
    /// cannot compute the digest itself) and the rows rewritten.
    pub rows_read: (u64, u64),
    /// Rows only on the hub.
    pub missing: u64,
    /// Rows only on the spoke.
    pub extra: u64,
    /// Rows on both with other values.
    pub differing: u64,
}

/// One `repair` of one spoke, recorded as a round (mode `repair`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepairReport {
    /// The round: rows sent each way, what the databases did, conflicts
    /// with edits made meanwhile.
    pub round: RoundReport,
    /// Which copy was kept.
    pub prefer: Prefer,
    /// Per table.
    pub tables: Vec<TableRepair>,
}

/// Differences of one node against the hub in one table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeDiff {
    /// The node.
    pub node: String,
    /// Rows on the node.
    pub rows: u64,
    /// Codes on the hub but not on the node.
    pub missing: Vec<CombinedCode>,
    /// Codes on the node but not on the hub.
    pub extra: Vec<CombinedCode>,
    /// Codes on both whose values differ, with the differing columns.
    pub differing: Vec<(CombinedCode, Vec<String>)>,
    /// Total differing rows (lists above are capped).
    pub differences: u64,
    /// Rows read from the hub and the node to compare them beyond the
    /// digests (a node whose SQL computes the digest sends none for it).
    #[serde(default)]
    pub rows_read: u64,
}

/// Verification of one table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableVerify {
    /// Table name.
    pub table: String,
    /// Rows on the hub.
    pub hub_rows: u64,
    /// One entry per spoke.
    pub nodes: Vec<NodeDiff>,
}

/// Verification of every table on every node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// True when every node matches the hub.
    pub ok: bool,
    /// Per table.
    pub tables: Vec<TableVerify>,
    /// The spokes that could not be connected, so were not compared, with
    /// why.
    #[serde(default)]
    pub unreachable: Vec<String>,
}

/// Status of one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Node name.
    pub name: String,
    /// `hub` or `spoke`.
    pub role: String,
    /// Adapter name.
    pub adapter: String,
    /// Whether `install` has run.
    pub installed: bool,
    /// End of the node's tracking table.
    pub position: Option<Watermark>,
    /// Spoke: its captured changes not yet integrated into the hub.
    pub pending_upload: Option<u64>,
    /// Spoke: hub changes it has not pulled yet.
    pub pending_download: Option<u64>,
    /// Spoke: its tracking position integrated into the hub.
    pub spoke_watermark: Option<Watermark>,
    /// Spoke: the hub's tracking position it has integrated.
    pub hub_watermark: Option<Watermark>,
    /// Spoke: last successful round.
    pub last_success: Option<LastRound>,
    /// Spoke: last round, when it failed.
    pub last_failure: Option<LastRound>,
    /// Why the node's status could not be read completely.
    pub error: Option<String>,
    /// The node could not be connected (`error` says why).
    #[serde(default)]
    pub unreachable: bool,
    /// Spoke: changes its rounds parked (`hetsync parked`).
    #[serde(default)]
    pub parked: u64,
    /// Spoke: tables added to the configuration since its last round,
    /// whose rows its next round compares whole.
    #[serde(default)]
    pub awaiting_comparison: Vec<String>,
    /// Spoke: stale, its watermark of the hub behind the hub's purged
    /// history: its next round resyncs it ([`SyncMode::Resync`]).
    #[serde(default)]
    pub stale: bool,
    /// Tables in bulk mode (`hetsync bulk begin`), each with the time (UTC
    /// µs) its load began: capture is suspended there, and rounds refuse
    /// the node until `hetsync bulk end`.
    #[serde(default)]
    pub bulk: std::collections::BTreeMap<String, i64>,
}

impl NodeStatus {
    /// A node's status before anything is read.
    pub fn new(name: &str, role: &str, adapter: &str) -> NodeStatus {
        NodeStatus {
            name: name.to_string(),
            role: role.to_string(),
            adapter: adapter.to_string(),
            installed: false,
            position: None,
            pending_upload: None,
            pending_download: None,
            spoke_watermark: None,
            hub_watermark: None,
            last_success: None,
            last_failure: None,
            error: None,
            unreachable: false,
            parked: 0,
            awaiting_comparison: Vec::new(),
            stale: false,
            bulk: Default::default(),
        }
    }
}

/// Status of the deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Hub first, then spokes.
    pub nodes: Vec<NodeStatus>,
    /// Conflicts of `manual` tables waiting for `hetsync conflicts resolve`.
    #[serde(default)]
    pub awaiting_conflicts: u64,
}
