//! The traits an adapter implements. An adapter connects to one kind of
//! database; a connected [`Node`] implements [`Capture`], [`TypeMapping`] and
//! [`Apply`]. Dialect differences are named [`Capabilities`], never checks of
//! the adapter's name.

use crate::change::{ApplyBatch, ApplyOutcome, ChangeSet, ReadRange, Watermark};
use crate::code::CombinedCode;
use crate::digest::{BucketDigest, RowDigest};
use crate::schema::{SyncTable, TableShape};
use crate::types::CanonicalType;
use crate::value::Value;
use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::path::PathBuf;

/// How an adapter loads rows in bulk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkCopyKind {
    /// Prepared statements executed row by row inside one transaction.
    PreparedStatements,
    /// A staging table filled by the database's bulk protocol (COPY, bulk insert).
    StagingTable,
}

/// What a database can do, as named flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Stored procedures exist (apply goes through per-table procedures).
    pub procedures: bool,
    /// Statement-level triggers with transition tables exist.
    pub statement_triggers: bool,
    /// A MERGE statement exists.
    pub merge: bool,
    /// How rows are loaded in bulk.
    pub bulk_copy: BulkCopyKind,
}

/// Everything a node needs to connect: its name, the adapter's URL and the
/// directory relative paths are resolved against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    /// The node's name in the deployment.
    pub name: String,
    /// Connection URL (adapter-specific; may hold a secret, never log it).
    pub url: String,
    /// Directory of the configuration file.
    pub base_dir: PathBuf,
    /// Adapter-specific node options from `[node.options]` (empty when
    /// there are none); each adapter reads and checks its own.
    pub options: std::collections::BTreeMap<String, serde_json::Value>,
}

impl NodeSpec {
    /// A node reached by `url` alone: no configuration directory, no options.
    pub fn from_url(name: &str, url: &str) -> NodeSpec {
        NodeSpec {
            name: name.to_string(),
            url: url.to_string(),
            base_dir: PathBuf::new(),
            options: Default::default(),
        }
    }
}

/// An exclusive, cross-process lock on a hub's integration; released on drop.
pub struct IntegrationLock(pub Box<dyn Any + Send + Sync>);

/// Change capture: tracking table and triggers, reading changes.
#[async_trait]
pub trait Capture: Send + Sync {
    /// Creates the tracking table, the bookkeeping tables and one trigger per
    /// table and operation. Idempotent: running it again recreates the triggers.
    async fn install(&self, tables: &[SyncTable]) -> Result<()>;

    /// Removes exactly what [`Capture::install`] made. Base tables are untouched.
    async fn uninstall(&self) -> Result<()>;

    /// Whether install has run on this node.
    async fn is_installed(&self) -> Result<bool>;

    /// Reads the final changes of `range`, with the current rows of the
    /// changed codes, in one consistent snapshot. A read that stops at the
    /// range's limit says where the rest ends ([`ChangeSet::rest`]).
    async fn read_changes(&self, tables: &[SyncTable], range: &ReadRange) -> Result<ChangeSet>;

    /// The current end of the tracking table.
    async fn position(&self) -> Result<Watermark>;

    /// A position past every change committed so far, where
    /// [`Capture::position`] is only as far as every change is final (a
    /// transaction-id horizon that an open transaction holds back): a
    /// read up to it or beyond takes every change committed before this
    /// call. The final position by default (a sequence).
    async fn committed_position(&self) -> Result<Watermark> {
        self.position().await
    }

    /// Counts tracking events after `since`, leaving out those integrated
    /// from `exclude_origin` (events made locally always count).
    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64>;

    /// The watermark of `peer` integrated into this node, `None` if never synced.
    async fn peer_watermark(&self, peer: &str) -> Result<Option<Watermark>>;

    /// The tables whose first full comparison with `peer` is complete, as
    /// last recorded with a watermark ([`crate::change::PeerMark::tables`]);
    /// `None` when none was ever recorded.
    async fn synced_tables(&self, peer: &str) -> Result<Option<Vec<String>>>;

    /// The conflicts batches recorded here ([`ApplyBatch::log`]) that the
    /// engine has not yet logged and forgotten (a round that failed after
    /// a commit leaves them), in uid order.
    async fn pending_conflicts(&self) -> Result<Vec<crate::plan::Conflict>>;

    /// Forgets recorded conflicts the engine has logged (unknown uids are
    /// no error).
    async fn forget_conflicts(&self, uids: &[String]) -> Result<()>;

    /// Deletes the tracking rows at or before `integrated` (every peer has
    /// integrated them) made before `before_micros` (UTC µs), in short
    /// batches; keeps the newest tracking row. Returns how many it deleted.
    async fn purge_tracking(&self, integrated: Watermark, before_micros: i64) -> Result<u64>;

    /// How far [`Capture::purge_tracking`] has deleted this node's tracking
    /// rows, recorded with the first row it deleted; `None` when it never
    /// deleted any.
    async fn purged_history(&self) -> Result<Option<crate::change::PurgedHistory>>;

    /// Suspends capture on `tables` for a bulk load begun at `since` (UTC
    /// µs), keeping a copy of each to compare with at its end; the node
    /// then refuses rounds until [`Capture::bulk_end`].
    async fn bulk_begin(&self, tables: &[SyncTable], since: i64) -> Result<()>;

    /// Ends the bulk load on the node's tables among `tables`: gives them
    /// their capture back and records, set-based, what the load changed
    /// (whole-row changes and deletes stamped `stamp`, UTC µs, by `user`).
    async fn bulk_end(
        &self,
        tables: &[SyncTable],
        stamp: i64,
        user: Option<&str>,
    ) -> Result<Vec<crate::change::BulkRecorded>>;

    /// The tables in bulk mode, each with the time (UTC µs) its load began.
    async fn bulk_tables(&self) -> Result<std::collections::BTreeMap<String, i64>>;

    /// Push mode (`hetsync run`): waits up to `timeout` for a sign that
    /// something was committed on the node since the previous call (the
    /// first call only starts watching). A sign may be spurious (a round
    /// then finds nothing) but none is lost while the node is reachable.
    /// [`ChangeSign::Unsupported`] by default: the service then polls
    /// [`Capture::position`].
    async fn await_changes(&self, _timeout: std::time::Duration) -> Result<ChangeSign> {
        Ok(ChangeSign::Unsupported)
    }
}

/// What [`Capture::await_changes`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChangeSign {
    /// Something may have changed.
    Changed,
    /// Nothing within the timeout.
    Quiet,
    /// The node cannot tell: poll its position.
    #[default]
    Unsupported,
}

/// Native ⇄ canonical types and the data dictionary.
#[async_trait]
pub trait TypeMapping: Send + Sync {
    /// Describes a table, `None` when it does not exist.
    async fn describe(&self, table: &str) -> Result<Option<TableShape>>;

    /// Names of the user tables (hetsync's own, starting with
    /// [`crate::schema::META_TABLE_PREFIX`], are left out), sorted.
    async fn list_tables(&self) -> Result<Vec<String>>;
}

/// Writing: batches, lookups, scans, the integration lock.
#[async_trait]
pub trait Apply: Send + Sync {
    /// Applies a batch in one transaction with capture suppressed: all or nothing.
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome>;

    /// Current rows of the given codes (absent codes are simply missing).
    async fn fetch(&self, table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<Vec<Value>>>;

    /// Up to `limit` rows whose code sorts after `after`, in code order.
    async fn scan(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>>;

    /// Number of rows in a table.
    async fn count_rows(&self, table: &SyncTable) -> Result<u64>;

    /// The convergence digest of a table out of `buckets` buckets
    /// ([`crate::digest`]), computed by the database (`types`: the
    /// canonical types its columns' values are read as); `None` when it
    /// cannot, and the engine streams and hashes the rows itself.
    async fn digest(
        &self,
        _table: &SyncTable,
        _types: &[CanonicalType],
        _buckets: u32,
    ) -> Result<Option<Vec<BucketDigest>>> {
        Ok(None)
    }

    /// The code and hash of every row in the buckets `which`, computed by
    /// the database; `None` when it cannot.
    async fn digest_rows(
        &self,
        _table: &SyncTable,
        _types: &[CanonicalType],
        _buckets: u32,
        _which: &[u32],
    ) -> Result<Option<Vec<RowDigest>>> {
        Ok(None)
    }

    /// Takes the integration lock (the hub integrates one spoke at a time).
    async fn lock_integration(&self) -> Result<IntegrationLock>;

    /// Copies the node's whole database to `<file>.bak-<suffix>` by the
    /// database's online backup, keeping the newest `keep` such copies;
    /// `None` where the node is not one file (only SQLite is).
    async fn backup_file(&self, _suffix: &str, _keep: usize) -> Result<Option<PathBuf>> {
        Ok(None)
    }
}

/// A connected node: everything an adapter does for one database.
pub trait Node: Capture + TypeMapping + Apply {
    /// The adapter's name (e.g. `sqlite`).
    fn adapter(&self) -> &str;
    /// The node's name in the deployment.
    fn name(&self) -> &str;
    /// What the database can do.
    fn capabilities(&self) -> Capabilities;
    /// The default type rules towards this node (TOML, as
    /// [`AdapterFactory::default_type_rules`]) when they are not its
    /// adapter's: an adapter whose nodes speak several databases (the ODBC
    /// adapter's profiles) tells them per node. `None`: the adapter's.
    fn default_type_rules(&self) -> Option<&str> {
        None
    }
}

/// Creates connected nodes for one database kind.
#[async_trait]
pub trait AdapterFactory: Send + Sync {
    /// The adapter name used in the config's `adapter` key.
    fn name(&self) -> &'static str;
    /// The adapter's version.
    fn version(&self) -> &'static str;
    /// What the adapter's databases can do (the same for every node).
    fn capabilities(&self) -> Capabilities;
    /// The default type rules towards this database, as a TOML `[[rule]]`
    /// list (see [`crate::mapping::rules`]): which native type a column of
    /// another database gets here.
    fn default_type_rules(&self) -> &str;
    /// The keys this adapter accepts under `[node.options]`, checked before
    /// connecting; `None` when it does not declare them (a plugin that
    /// checks its options when it connects).
    fn options(&self) -> Option<&'static [crate::options::OptionSpec]> {
        None
    }
    /// Connects to a node.
    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>>;
}

/// Runs a connection attempt of `node` to `endpoint` (`host:port`) within
/// `timeout`; a failure or a silence names the node and the endpoint.
pub async fn connect_within<T, E: std::fmt::Display>(
    node: &str,
    endpoint: &str,
    timeout: std::time::Duration,
    attempt: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    let fail = |message: String| crate::Error::Connect {
        node: node.to_string(),
        message: format!("{endpoint}: {message}"),
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(connected)) => Ok(connected),
        Ok(Err(e)) => Err(fail(e.to_string())),
        Err(_) => Err(fail(format!("no answer within {timeout:?}"))),
    }
}

/// Removes a password from a URL of the form `scheme://user:password@host/...`
/// so it can be shown or logged. The password is everything between the
/// first `:` after the user name and the last `@`, so a password that was
/// not percent-encoded (`Wr@ng#MY/pw`) is hidden whole; when in doubt more
/// is hidden, never less.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) if !rest[..colon].contains(['/', '?', '#']) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://sync:s3cret@db:5432/plan"),
            "postgres://sync:***@db:5432/plan"
        );
        assert_eq!(redact_url("sqlite://hub.db"), "sqlite://hub.db");
        assert_eq!(redact_url("hub.db"), "hub.db");
        assert_eq!(
            redact_url("mysql://sync:Wr@ng#MY/pw@db:3306/plan"),
            "mysql://sync:***@db:3306/plan"
        );
        assert_eq!(
            redact_url("postgres://sync:p%40ss@db/plan?sslmode=require"),
            "postgres://sync:***@db/plan?sslmode=require"
        );
        assert_eq!(redact_url("postgres://db/plan"), "postgres://db/plan");
    }
}
