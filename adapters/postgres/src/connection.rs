//! The adapter factory, the connected node and its connections.

use crate::dictionary::Column;
use async_trait::async_trait;
use hetsync_core::adapter::{connect_within, AdapterFactory, Capabilities, Node, NodeSpec};
use hetsync_core::cache::ColumnCache;
use hetsync_core::dialect::postgres::{Postgres, LOGICAL, NOTIFY_CHANNEL, TRIGGERS};
use hetsync_core::options::{
    OptionKind, OptionSpec, CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, STATEMENT_TIMEOUT,
};
use hetsync_core::{Error, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::Mutex;

/// Creates [`PostgresNode`]s from `postgres://user:password@host:port/database` URLs.
pub struct PostgresAdapter;

/// The capabilities of PostgreSQL.
pub const CAPABILITIES: Capabilities = hetsync_core::dialect::postgres::CAPABILITIES;

#[async_trait]
impl AdapterFactory for PostgresAdapter {
    fn name(&self) -> &'static str {
        "postgres"
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
        Ok(Box::new(PostgresNode::open(spec).await?))
    }
}

/// A connected PostgreSQL database.
pub struct PostgresNode {
    pub(crate) name: String,
    pub(crate) options: PgConnectOptions,
    pub(crate) conn: Mutex<PgConnection>,
    pub(crate) columns: ColumnCache<Column>,
    /// Set while a transaction the core began is open on `conn`.
    pub(crate) open_tx: AtomicBool,
    /// How long a connection attempt may wait.
    connect_timeout: Duration,
    /// The SQL of the node's kind of capture.
    pub(crate) dialect: &'static Postgres,
    /// Push mode's dedicated connection, listening on the capture
    /// triggers' channel; made by the first `await_changes`.
    pub(crate) listener: Mutex<Option<PgListener>>,
}

/// `capture`: how changes are captured.
const CAPTURE: OptionSpec = OptionSpec {
    name: "capture",
    kind: OptionKind::Choice(&["trigger", "logical"]),
    doc: "how changes are captured: \"trigger\" (statement-level triggers, the default) or \
          \"logical\" (logical decoding of the write-ahead log: needs wal_level = logical, \
          and a login with superuser or the REPLICATION attribute)",
};

/// The node options PostgreSQL nodes take.
const OPTIONS: &[OptionSpec] = &[CONNECT_TIMEOUT, STATEMENT_TIMEOUT, CAPTURE];

/// `host:port` of a server, for errors.
fn endpoint(options: &PgConnectOptions) -> String {
    format!("{}:{}", options.get_host(), options.get_port())
}

impl PostgresNode {
    /// Connects with default options; the URL's password never appears in errors.
    pub async fn connect(name: &str, url: &str) -> Result<PostgresNode> {
        Self::open(&NodeSpec::from_url(name, url)).await
    }

    /// Connects as `spec` says, with its node options.
    pub async fn open(spec: &NodeSpec) -> Result<PostgresNode> {
        let (name, url) = (spec.name.as_str(), spec.url.as_str());
        let connect_timeout = spec
            .duration_option(&CONNECT_TIMEOUT)?
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let dialect = match spec.choice_option(&CAPTURE)? {
            "logical" => &LOGICAL,
            _ => &TRIGGERS,
        };
        // Canonical values: instants in UTC, ISO dates.
        let mut settings = vec![
            ("TimeZone", "UTC".to_string()),
            ("DateStyle", "ISO".to_string()),
        ];
        if let Some(limit) = spec.duration_option(&STATEMENT_TIMEOUT)? {
            settings.push((
                "statement_timeout",
                format!("{}ms", limit.as_millis().max(1)),
            ));
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Connect {
                node: name.to_string(),
                message: format!("bad URL {}: {e}", hetsync_core::adapter::redact_url(url)),
            })?
            .application_name("hetsync")
            .options(settings);
        let conn = connect_within(
            name,
            &endpoint(&options),
            connect_timeout,
            options.connect(),
        )
        .await?;
        Ok(PostgresNode {
            name: name.to_string(),
            options,
            conn: Mutex::new(conn),
            columns: ColumnCache::new(),
            open_tx: AtomicBool::new(false),
            connect_timeout,
            dialect,
            listener: Mutex::new(None),
        })
    }

    /// A connection listening on the capture triggers' channel
    /// ([`NOTIFY_CHANNEL`]).
    pub(crate) async fn listen(&self) -> Result<PgListener> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.connect_timeout)
            .connect_lazy_with(self.options.clone());
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(self.err("listening for captured changes"))?;
        listener
            .listen(NOTIFY_CHANNEL)
            .await
            .map_err(self.err("listening for captured changes"))?;
        Ok(listener)
    }

    /// Opens an extra connection (for the integration lock).
    pub(crate) async fn extra_connection(&self) -> Result<PgConnection> {
        connect_within(
            &self.name,
            &endpoint(&self.options),
            self.connect_timeout,
            self.options.connect(),
        )
        .await
    }
}
