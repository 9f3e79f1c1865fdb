//! The adapter factory, the connected node and its connections. odbc-api
//! blocks: every call runs on tokio's blocking pool.

use crate::profile::{GenericDbms, Profile, Speaks, PROFILE};
use crate::url::{connection_string, redact};
use async_trait::async_trait;
use hetsync_core::adapter::{connect_within, AdapterFactory, Capabilities, Node, NodeSpec};
use hetsync_core::cache::ColumnCache;
use hetsync_core::dialect::dameng::Dameng;
use hetsync_core::dialect::Dialect;
use hetsync_core::error::DbCode;
use hetsync_core::options::{
    OptionSpec, CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, STATEMENT_TIMEOUT,
};
use hetsync_core::{Error, Result};
use odbc_api::{Connection, ConnectionOptions};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;
use tokio::sync::Mutex;

/// Creates [`OdbcNode`]s from `odbc:` URLs and a `profile` option.
pub struct OdbcAdapter;

/// The node options ODBC nodes take.
const OPTIONS: &[OptionSpec] = &[PROFILE, CONNECT_TIMEOUT, STATEMENT_TIMEOUT];

#[async_trait]
impl AdapterFactory for OdbcAdapter {
    fn name(&self) -> &'static str {
        "odbc"
    }

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn capabilities(&self) -> Capabilities {
        hetsync_core::dialect::postgres::CAPABILITIES
    }

    /// The kingbase profile's; each node tells its own profile's
    /// ([`Node::default_type_rules`]).
    fn default_type_rules(&self) -> &str {
        hetsync_core::dialect::pg_catalog::DEFAULT_TYPE_RULES
    }

    fn options(&self) -> Option<&'static [OptionSpec]> {
        Some(OPTIONS)
    }

    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        Ok(Box::new(OdbcNode::open(spec).await?))
    }
}

/// What went wrong inside a blocking call.
pub(crate) enum Failure {
    /// The driver or driver manager said so.
    Odbc(odbc_api::Error),
    /// A value came back in a form hetsync cannot read.
    Decode(String),
}

impl Failure {
    /// Whether the driver reported a duplicate of a unique key.
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(self, Failure::Odbc(e) if sql_state(e).as_deref() == Some("23505"))
    }
}

impl From<odbc_api::Error> for Failure {
    fn from(e: odbc_api::Error) -> Self {
        Failure::Odbc(e)
    }
}

/// The SQLSTATE of a driver error, if it carries one.
fn sql_state(e: &odbc_api::Error) -> Option<String> {
    match e {
        odbc_api::Error::Diagnostics { record, .. } => Some(record.state.as_str().to_string()),
        _ => None,
    }
}

/// How a node's connections are opened.
pub(crate) struct Settings {
    pub(crate) name: String,
    pub(crate) profile: Profile,
    connection_string: String,
    connect_timeout: Duration,
    statement_timeout: Option<Duration>,
    /// The SQL the node speaks (under the generic profile, as the driver
    /// said once [`OdbcNode::open`] asked).
    pub(crate) speaks: Speaks,
}

impl Settings {
    /// The node's SQL.
    pub(crate) fn dialect(&self) -> &'static dyn Dialect {
        match self.speaks {
            Speaks::Postgres => Profile::postgres(),
            Speaks::Dameng => &Dameng,
            Speaks::Generic(dbms) => dbms.dialect,
        }
    }

    /// Opens a connection and readies its session ([`Profile::session_setup`]).
    pub(crate) async fn connect(&self) -> Result<Connection<'static>> {
        let (conn_str, setup) = (
            self.connection_string.clone(),
            self.profile.session_setup(self.statement_timeout),
        );
        let login_timeout_sec = Some(self.connect_timeout.as_secs().max(1) as u32);
        let opening = tokio::task::spawn_blocking(move || {
            let env = odbc_api::environment()
                .map_err(|e| format!("the ODBC driver manager (unixODBC) is not usable: {e}"))?;
            let conn = env
                .connect_with_connection_string(
                    &conn_str,
                    ConnectionOptions {
                        login_timeout_sec,
                        ..Default::default()
                    },
                )
                .map_err(|e| e.to_string())?;
            for sql in &setup {
                conn.execute(sql, (), None).map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(conn)
        });
        let joined = async { opening.await.map_err(|e| e.to_string())? };
        connect_within(
            &self.name,
            &redact(&self.connection_string),
            self.connect_timeout,
            joined,
        )
        .await
    }
}

/// A connected database behind an ODBC driver.
pub struct OdbcNode {
    pub(crate) settings: Settings,
    /// The node's connection; `turn` gives it to one operation at a time.
    conn: Arc<StdMutex<Connection<'static>>>,
    pub(crate) turn: Mutex<()>,
    /// The integration lock of the profiles that hold it in the process
    /// (one engine of this process integrates at a time).
    pub(crate) integrating: Arc<Mutex<()>>,
    pub(crate) columns: ColumnCache<hetsync_core::dialect::pg_catalog::Column>,
    /// Set while a transaction the core began is open on `conn`.
    pub(crate) open_tx: AtomicBool,
}

impl Drop for OdbcNode {
    /// Ends a transaction a cancelled call left open (by statement and by
    /// the driver, whichever began it): a driver may refuse to disconnect
    /// in the middle of one, and odbc-api panics when it does.
    fn drop(&mut self) {
        if !self.open_tx.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let _ = conn.execute("ROLLBACK", (), None);
        let _ = conn.rollback();
        let _ = conn.set_autocommit(true);
    }
}

impl OdbcNode {
    /// Connects as `spec` says, with its node options; the connection
    /// string's password never appears in errors.
    pub async fn open(spec: &NodeSpec) -> Result<OdbcNode> {
        let profile = Profile::of(spec)?;
        let statement_timeout = spec.duration_option(&STATEMENT_TIMEOUT)?;
        if profile != Profile::Kingbase && statement_timeout.is_some() {
            let name = spec.choice_option(&PROFILE)?;
            return Err(Error::Deployment(format!(
                "node '{}': the odbc profile \"{name}\" takes no statement_timeout (there is no \
                 portable way to set one); leave it out",
                spec.name
            )));
        }
        let mut settings = Settings {
            name: spec.name.clone(),
            profile,
            connection_string: connection_string(&spec.url)
                .map_err(|message| Error::Connect {
                    node: spec.name.clone(),
                    message,
                })?
                .to_string(),
            connect_timeout: spec
                .duration_option(&CONNECT_TIMEOUT)?
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            statement_timeout,
            speaks: match profile {
                Profile::Dameng => Speaks::Dameng,
                // Until the driver names the generic profile's database.
                Profile::Kingbase | Profile::Generic => Speaks::Postgres,
            },
        };
        let mut conn = settings.connect().await?;
        if profile == Profile::Generic {
            let (back, dbms) = tokio::task::spawn_blocking(move || {
                let dbms = conn.database_management_system_name();
                (conn, dbms)
            })
            .await
            .map_err(|e| Error::db(&spec.name, "asking the driver for its database", e))?;
            conn = back;
            let dbms = dbms.map_err(|e| {
                Error::db(
                    &spec.name,
                    "asking the driver for its database (SQL_DBMS_NAME)",
                    e,
                )
            })?;
            tracing::debug!(node = %spec.name, dbms = %dbms, "generic ODBC profile");
            settings.speaks = Speaks::Generic(GenericDbms::named(&dbms));
        }
        Ok(OdbcNode {
            settings,
            conn: Arc::new(StdMutex::new(conn)),
            turn: Mutex::new(()),
            integrating: Arc::new(Mutex::new(())),
            columns: ColumnCache::new(),
            open_tx: AtomicBool::new(false),
        })
    }

    /// The node's name.
    pub(crate) fn name(&self) -> &str {
        &self.settings.name
    }

    /// Runs `work` on the node's connection on the blocking pool. Errors
    /// name the node and `context`, classified by SQLSTATE.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        context: &str,
        work: impl FnOnce(&Connection<'static>) -> std::result::Result<T, Failure> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.clone();
        self.blocking(context, move || {
            work(&conn.lock().unwrap_or_else(|p| p.into_inner()))
        })
        .await
    }

    /// Runs `work` on the blocking pool, its errors as [`OdbcNode::run`]'s.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        context: &str,
        work: impl FnOnce() -> std::result::Result<T, Failure> + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::db(self.name(), context, e))?
            .map_err(|f| self.error(context, f))
    }

    /// Wraps a failure with this node's name, what was being done and its class.
    pub(crate) fn error(&self, context: &str, failure: Failure) -> Error {
        match failure {
            Failure::Odbc(e) => {
                let state = sql_state(&e);
                Error::from_db(
                    self.name(),
                    context,
                    state.as_deref().map(DbCode::SqlState),
                    e,
                )
            }
            Failure::Decode(message) => Error::db(self.name(), context, message),
        }
    }
}
