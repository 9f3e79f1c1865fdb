//! The adapter factory, the connected node and its connections.

use crate::dictionary::Column;
use async_trait::async_trait;
use hetsync_core::adapter::{
    connect_within, redact_url, AdapterFactory, Capabilities, Node, NodeSpec,
};
use hetsync_core::cache::ColumnCache;
use hetsync_core::error::DbCode;
use hetsync_core::options::{
    OptionSpec, CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, STATEMENT_TIMEOUT,
};
use hetsync_core::{Error, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};
use sqlx::{ConnectOptions, Executor};
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::Mutex;

/// Creates [`MysqlNode`]s from `mysql://user:password@host:port/database`
/// (or `mariadb://…`) URLs.
pub struct MysqlAdapter;

/// The capabilities of MariaDB and MySQL.
pub const CAPABILITIES: Capabilities = hetsync_core::dialect::mysql::CAPABILITIES;

/// MySQL error numbers hetsync reacts to.
pub(crate) mod code {
    /// `ER_LOCK_WAIT_TIMEOUT`: a lock was not granted in time.
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
}

/// The MySQL error number of a driver error, if the server sent one.
pub(crate) fn error_number(e: &sqlx::Error) -> Option<u16> {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<MySqlDatabaseError>())
        .map(|m| m.number())
}

#[async_trait]
impl AdapterFactory for MysqlAdapter {
    fn name(&self) -> &'static str {
        "mysql"
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
        Ok(Box::new(MysqlNode::open(spec).await?))
    }
}

/// A connected MariaDB or MySQL database.
pub struct MysqlNode {
    pub(crate) name: String,
    pub(crate) options: MySqlConnectOptions,
    pub(crate) conn: Mutex<MySqlConnection>,
    pub(crate) columns: ColumnCache<Column>,
    /// Set while a transaction the core began is open on `conn`.
    pub(crate) open_tx: AtomicBool,
    /// How connections are opened: timeout, statement limit.
    session: SessionLimits,
}

/// The node options MariaDB/MySQL nodes take.
const OPTIONS: &[OptionSpec] = &[CONNECT_TIMEOUT, STATEMENT_TIMEOUT];

/// The limits every connection of a node gets.
#[derive(Clone, Copy)]
struct SessionLimits {
    connect_timeout: Duration,
    /// MariaDB's `max_statement_time`.
    statement_timeout: Option<Duration>,
}

impl MysqlNode {
    /// Connects with default options; the URL's password never appears in errors.
    pub async fn connect(name: &str, url: &str) -> Result<MysqlNode> {
        Self::open(&NodeSpec::from_url(name, url)).await
    }

    /// Connects as `spec` says, with its node options.
    pub async fn open(spec: &NodeSpec) -> Result<MysqlNode> {
        let (name, url) = (spec.name.as_str(), spec.url.as_str());
        let fail = |message: String| Error::Connect {
            node: name.to_string(),
            message,
        };
        let limits = SessionLimits {
            connect_timeout: spec
                .duration_option(&CONNECT_TIMEOUT)?
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            statement_timeout: spec.duration_option(&STATEMENT_TIMEOUT)?,
        };
        let normalized = match url.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => url.to_string(),
        };
        let options = MySqlConnectOptions::from_str(&normalized)
            .map_err(|e| fail(format!("bad URL {}: {e}", redact_url(url))))?;
        if options.get_database().is_none() {
            return Err(fail(format!(
                "URL {} names no database (mysql://user:password@host:port/database)",
                redact_url(url)
            )));
        }
        let node = MysqlNode {
            name: name.to_string(),
            conn: Mutex::new(Self::open_connection(name, &options, limits).await?),
            options,
            columns: ColumnCache::new(),
            open_tx: AtomicBool::new(false),
            session: limits,
        };
        Ok(node)
    }

    /// Opens a connection in the session state hetsync relies on: string
    /// literals with backslash escapes (the triggers and procedures made on
    /// it keep that mode), UTC for `TIMESTAMP` columns, capture not
    /// silenced, and the node's statement limit.
    async fn open_connection(
        name: &str,
        options: &MySqlConnectOptions,
        limits: SessionLimits,
    ) -> Result<MySqlConnection> {
        let fail = |e: sqlx::Error| Error::Connect {
            node: name.to_string(),
            message: e.to_string(),
        };
        let endpoint = format!("{}:{}", options.get_host(), options.get_port());
        let mut conn =
            connect_within(name, &endpoint, limits.connect_timeout, options.connect()).await?;
        conn.execute(
            "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', ''), \
             time_zone = '+00:00', @hetsync_apply = NULL",
        )
        .await
        .map_err(fail)?;
        if let Some(limit) = limits.statement_timeout {
            let seconds = limit.as_secs_f64().max(0.001);
            conn.execute(format!("SET SESSION max_statement_time = {seconds}").as_str())
                .await
                .map_err(fail)?;
        }
        Ok(conn)
    }

    /// Wraps a driver error with this node's name, what was being done and
    /// its class (by MySQL error number).
    pub(crate) fn err(&self, context: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
        let context = context.to_string();
        move |e| {
            let number = error_number(&e).map(DbCode::Mysql);
            Error::from_db(&self.name, context.clone(), number, e)
        }
    }

    /// Opens an extra connection (for the integration lock).
    pub(crate) async fn extra_connection(&self) -> Result<MySqlConnection> {
        Self::open_connection(&self.name, &self.options, self.session).await
    }

    /// Runs statements without parameters over the text protocol (some, such
    /// as `LOCK TABLES` and `CREATE TRIGGER`, cannot be prepared).
    pub(crate) async fn exec(
        &self,
        conn: &mut MySqlConnection,
        sql: &str,
        context: &str,
    ) -> Result<()> {
        conn.execute(sql).await.map_err(self.err(context))?;
        Ok(())
    }
}
