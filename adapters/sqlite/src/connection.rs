//! The adapter factory, the connected node and its connection handling.

use async_trait::async_trait;
use hetsync_core::adapter::{AdapterFactory, Capabilities, Node, NodeSpec};
use hetsync_core::dialect::sqlite::{Sqlite, SNAPSHOT, TRIGGERS};
use hetsync_core::options::{OptionKind, OptionSpec};
use hetsync_core::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::ConnectOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long a statement waits for another writer before giving up, unless
/// the node's `busy_timeout` option says otherwise.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The node options SQLite nodes take.
const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "busy_timeout",
        kind: OptionKind::Duration,
        doc: "how long a statement waits for another writer of the file (default 30s)",
    },
    OptionSpec {
        name: "capture",
        kind: OptionKind::Choice(&["trigger", "snapshot"]),
        doc: "how changes are captured: \"trigger\" (row triggers, the default) or \
              \"snapshot\" (no triggers: each round compares the tables with copies of them)",
    },
];

/// Creates [`SqliteNode`]s. URLs: `sqlite://path/to/file.db`, `sqlite:file.db`
/// or a bare path; relative paths are resolved against the config directory.
/// The file must exist: hetsync never creates an empty database by accident.
pub struct SqliteAdapter;

/// The capabilities of SQLite.
pub const CAPABILITIES: Capabilities = hetsync_core::dialect::sqlite::CAPABILITIES;

/// Resolves a SQLite URL to a file path.
pub fn resolve_path(url: &str, base_dir: &Path) -> std::result::Result<PathBuf, String> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() {
        return Err("the URL names no file".into());
    }
    if path.contains('?') {
        return Err("query options in SQLite URLs are not supported".into());
    }
    let path = Path::new(path);
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    })
}

#[async_trait]
impl AdapterFactory for SqliteAdapter {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn default_type_rules(&self) -> &str {
        crate::types::DEFAULT_TYPE_RULES
    }

    fn options(&self) -> Option<&'static [OptionSpec]> {
        Some(OPTIONS)
    }

    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        let busy = spec.duration_option(&OPTIONS[0])?.unwrap_or(BUSY_TIMEOUT);
        let fail = |message: String| Error::Connect {
            node: spec.name.clone(),
            message,
        };
        let path = resolve_path(&spec.url, &spec.base_dir).map_err(fail)?;
        if !path.is_file() {
            return Err(fail(format!(
                "database file {} does not exist",
                path.display()
            )));
        }
        let mut node = SqliteNode::open(&spec.name, &path, busy).await?;
        if spec.choice_option(&OPTIONS[1])? == "snapshot" {
            node.dialect = &SNAPSHOT;
        }
        Ok(Box::new(node))
    }
}

/// A connected SQLite database.
pub struct SqliteNode {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) conn: Mutex<SqliteConnection>,
    /// Set while a transaction the core began is open on `conn`.
    pub(crate) open_tx: AtomicBool,
    /// Push mode's connection watching the file for commits; made by the
    /// first `await_changes`.
    pub(crate) watch: Mutex<Option<crate::watch::Watch>>,
    /// The node's SQL: how it captures changes.
    pub(crate) dialect: &'static Sqlite,
}

impl SqliteNode {
    /// Opens an existing database file; a statement waits up to `busy` for
    /// another writer.
    pub async fn open(name: &str, path: &Path, busy: Duration) -> Result<SqliteNode> {
        let fail = |message: String| Error::Connect {
            node: name.to_string(),
            message,
        };
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .busy_timeout(busy)
            .foreign_keys(true)
            .connect()
            .await
            .map_err(|e| fail(e.to_string()))?;
        crate::digest::register(&mut conn).await.map_err(fail)?;
        Ok(SqliteNode {
            name: name.to_string(),
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            open_tx: AtomicBool::new(false),
            watch: Mutex::new(None),
            dialect: &TRIGGERS,
        })
    }
}
