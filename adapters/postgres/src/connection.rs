//! The adapter factory, the connected node and its connections.

use crate::dictionary::Column;
use async_trait::async_trait;
use hetsync_core::adapter::{AdapterFactory, BulkCopyKind, Capabilities, Node, NodeSpec};
use hetsync_core::cache::ColumnCache;
use hetsync_core::{Error, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use tokio::sync::Mutex;

/// Creates [`PostgresNode`]s from `postgres://user:password@host:port/database` URLs.
pub struct PostgresAdapter;

/// The capabilities of PostgreSQL.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: true,
    statement_triggers: true,
    merge: true,
    bulk_copy: BulkCopyKind::StagingTable,
};

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

    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        Ok(Box::new(
            PostgresNode::connect(&spec.name, &spec.url).await?,
        ))
    }
}

/// A connected PostgreSQL database.
pub struct PostgresNode {
    pub(crate) name: String,
    pub(crate) options: PgConnectOptions,
    pub(crate) conn: Mutex<PgConnection>,
    pub(crate) columns: ColumnCache<Column>,
}

impl PostgresNode {
    /// Connects; the URL's password never appears in errors.
    pub async fn connect(name: &str, url: &str) -> Result<PostgresNode> {
        let fail = |message: String| Error::Connect {
            node: name.to_string(),
            message,
        };
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| {
                fail(format!(
                    "bad URL {}: {e}",
                    hetsync_core::adapter::redact_url(url)
                ))
            })?
            .application_name("hetsync")
            // Canonical values: instants in UTC, ISO dates.
            .options([("TimeZone", "UTC"), ("DateStyle", "ISO")]);
        let conn = options.connect().await.map_err(|e| fail(e.to_string()))?;
        Ok(PostgresNode {
            name: name.to_string(),
            options,
            conn: Mutex::new(conn),
            columns: ColumnCache::new(),
        })
    }

    /// Wraps a driver error with this node's name and what was being done.
    pub(crate) fn err(&self, context: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
        let context = context.to_string();
        move |e| Error::db(&self.name, context.clone(), e)
    }

    /// Opens an extra connection (for the integration lock).
    pub(crate) async fn extra_connection(&self) -> Result<PgConnection> {
        self.options.connect().await.map_err(|e| Error::Connect {
            node: self.name.clone(),
            message: e.to_string(),
        })
    }

    /// Starts a transaction on the main connection.
    pub(crate) async fn begin<'c>(
        &self,
        conn: &'c mut PgConnection,
        statement: &'static str,
    ) -> Result<sqlx::Transaction<'c, sqlx::Postgres>> {
        conn.begin_with(statement)
            .await
            .map_err(self.err("starting a transaction"))
    }
}

impl Node for PostgresNode {
    fn adapter(&self) -> &str {
        "postgres"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }
}
