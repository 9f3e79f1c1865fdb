//! The adapter factory, the connected node and its connections.

use crate::dictionary::Column;
use async_trait::async_trait;
use hetsync_core::adapter::{
    redact_url, AdapterFactory, BulkCopyKind, Capabilities, Node, NodeSpec,
};
use hetsync_core::cache::ColumnCache;
use hetsync_core::{Error, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};
use sqlx::{ConnectOptions, Executor};
use std::str::FromStr;
use tokio::sync::Mutex;

/// Creates [`MysqlNode`]s from `mysql://user:password@host:port/database`
/// (or `mariadb://…`) URLs.
pub struct MysqlAdapter;

/// The capabilities of MariaDB and MySQL.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: true,
    statement_triggers: false,
    merge: false,
    bulk_copy: BulkCopyKind::StagingTable,
};

/// MySQL error numbers hetsync reacts to.
pub(crate) mod code {
    /// `ER_LOCK_WAIT_TIMEOUT`: a lock was not granted in time.
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    /// `ER_LOCK_DEADLOCK`: the transaction was chosen as a deadlock victim.
    pub const DEADLOCK: u16 = 1213;
    /// `ER_DUP_ENTRY`: a unique key already holds the value.
    pub const DUPLICATE_KEY: u16 = 1062;
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

    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        Ok(Box::new(MysqlNode::connect(&spec.name, &spec.url).await?))
    }
}

/// A connected MariaDB or MySQL database.
pub struct MysqlNode {
    pub(crate) name: String,
    pub(crate) options: MySqlConnectOptions,
    pub(crate) conn: Mutex<MySqlConnection>,
    pub(crate) columns: ColumnCache<Column>,
}

impl MysqlNode {
    /// Connects; the URL's password never appears in errors.
    pub async fn connect(name: &str, url: &str) -> Result<MysqlNode> {
        let fail = |message: String| Error::Connect {
            node: name.to_string(),
            message,
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
            conn: Mutex::new(Self::open(name, &options).await?),
            options,
            columns: ColumnCache::new(),
        };
        Ok(node)
    }

    /// Opens a connection in the session state hetsync relies on: string
    /// literals with backslash escapes (the triggers and procedures made on
    /// it keep that mode), UTC for `TIMESTAMP` columns, capture not silenced.
    async fn open(name: &str, options: &MySqlConnectOptions) -> Result<MySqlConnection> {
        let fail = |e: sqlx::Error| Error::Connect {
            node: name.to_string(),
            message: e.to_string(),
        };
        let mut conn = options.connect().await.map_err(fail)?;
        conn.execute(
            "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', ''), \
             time_zone = '+00:00', @hetsync_apply = NULL",
        )
        .await
        .map_err(fail)?;
        Ok(conn)
    }

    /// Wraps a driver error with this node's name and what was being done.
    pub(crate) fn err(&self, context: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
        let context = context.to_string();
        move |e| Error::db(&self.name, context.clone(), e)
    }

    /// Opens an extra connection (for the integration lock).
    pub(crate) async fn extra_connection(&self) -> Result<MySqlConnection> {
        Self::open(&self.name, &self.options).await
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

impl Node for MysqlNode {
    fn adapter(&self) -> &str {
        "mysql"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }
}
