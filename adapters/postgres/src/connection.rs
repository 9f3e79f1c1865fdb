//! The adapter factory, the connected node and its connections.

use crate::dictionary::Column;
use async_trait::async_trait;
use hetsync_core::adapter::{connect_within, AdapterFactory, Capabilities, Node, NodeSpec};
use hetsync_core::cache::ColumnCache;
use hetsync_core::{Error, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
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
    /// Set while a transaction the core began is open on `conn`.
    pub(crate) open_tx: AtomicBool,
}

/// `host:port` of a server, for errors.
fn endpoint(options: &PgConnectOptions) -> String {
    format!("{}:{}", options.get_host(), options.get_port())
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
        let conn = connect_within(name, &endpoint(&options), options.connect()).await?;
        Ok(PostgresNode {
            name: name.to_string(),
            options,
            conn: Mutex::new(conn),
            columns: ColumnCache::new(),
            open_tx: AtomicBool::new(false),
        })
    }

    /// Opens an extra connection (for the integration lock).
    pub(crate) async fn extra_connection(&self) -> Result<PgConnection> {
        connect_within(&self.name, &endpoint(&self.options), self.options.connect()).await
    }
}
