//! The ODBC driver under the core's steps: statements on the node's
//! connection with parameters bound in order, rows decoded by column kind.

use crate::arrays::insert_rows;
use crate::barrier::{self, Barrier, BARRIER_WAIT};
use crate::catalog;
use crate::connection::{Failure, OdbcNode};
use crate::profile::{GenericDbms, Speaks, Transactions};
use crate::values::{meta_rows, parameters, table_rows};
use async_trait::async_trait;
use hetsync_core::adapter::IntegrationLock;
use hetsync_core::change::{RowOp, Watermark};
use hetsync_core::dialect::dameng::Dameng;
use hetsync_core::dialect::generic::Generic;
use hetsync_core::dialect::pg_catalog::ValueKind;
use hetsync_core::dialect::postgres::{COMMITTED_POSITION, INSTALL_LOCK, INTEGRATION_LOCK, XMIN};
use hetsync_core::dialect::{ColumnSql, Dialect, TxKind};
use hetsync_core::schema::SyncTable;
use hetsync_core::steps::apply::{
    fresh_row_arrived, fresh_rows, insert_values_sql, staging_column_list, staging_values,
};
use hetsync_core::steps::{self, CatalogQuestion, Driver, SelectSql, Session};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use odbc_api::Connection;
use std::sync::atomic::AtomicBool;
use tokio::sync::MutexGuard;

/// One operation's hold on a node's connection.
pub struct OdbcSession<'a> {
    pub(crate) node: &'a OdbcNode,
    _turn: MutexGuard<'a, ()>,
}

/// Runs a statement; the rows it changed (0 for a query, or when the
/// driver does not say).
fn execute_on(conn: &Connection<'_>, sql: &str, params: Vec<Value>) -> Result<u64, Failure> {
    let params = parameters(params);
    let mut statement = conn.preallocate()?;
    if statement.execute(sql, &params[..])?.is_some() {
        return Ok(0);
    }
    Ok(statement.row_count()?.unwrap_or(0) as u64)
}

/// Runs a query; its rows, of a synced table read by column kind
/// (`kinds`), or of hetsync's own tables by column type.
pub(crate) fn rows_on(
    conn: &Connection<'_>,
    sql: &str,
    params: Vec<Value>,
    kinds: Option<&[ValueKind]>,
) -> Result<Vec<Vec<Value>>, Failure> {
    let params = parameters(params);
    match (conn.execute(sql, &params[..], None)?, kinds) {
        (None, _) => Ok(Vec::new()),
        (Some(cursor), Some(kinds)) => table_rows(cursor, kinds),
        (Some(cursor), None) => meta_rows(cursor),
    }
}

/// One row holding a count: how the catalog answers "how many are there".
fn count_row(found: bool) -> Vec<Vec<Value>> {
    vec![vec![Value::Int(i64::from(found))]]
}

impl OdbcSession<'_> {
    /// The generic profile's SQL, `None` under another profile.
    fn generic(&self) -> Option<&'static Generic> {
        self.node.settings.speaks.generic().map(|dbms| dbms.dialect)
    }

    /// The dameng profile's commit barrier ([`crate::barrier`]).
    async fn barrier(&mut self) -> Result<Barrier<i64>> {
        let context = "waiting for open transactions";
        match self.node.run(context, barrier::barrier).await? {
            Barrier::Final(rows) => {
                steps::first_int(self.node(), &rows, "the last tracking seq").map(Barrier::Final)
            }
            Barrier::Busy(why) => Ok(Barrier::Busy(why)),
        }
    }

    /// A position the profile's SQL reads (`SELECT <expr>`).
    async fn read_position(&mut self, sql: &str) -> Result<Watermark> {
        let rows = self.query(sql, &[], "reading the snapshot").await?;
        let pos = steps::first_int(self.node.name(), &rows, "the snapshot")?;
        Ok(Watermark::at(pos))
    }
}

#[async_trait]
impl Session for OdbcSession<'_> {
    fn node(&self) -> &str {
        self.node.name()
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.node.settings.dialect()
    }

    fn open_transaction(&self) -> &AtomicBool {
        &self.node.open_tx
    }

    async fn execute(&mut self, sql: &str, params: &[Value], context: &str) -> Result<u64> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.node
            .run(context, move |conn| execute_on(conn, &sql, params))
            .await
    }

    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        context: &str,
    ) -> Result<Vec<Vec<Value>>> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.node
            .run(context, move |conn| rows_on(conn, &sql, params, None))
            .await
    }

    /// As the profile's transactions go: PostgreSQL's statements; under
    /// the generic profile as the database's do ([`Transactions`]); DM8's
    /// the driver's, set by the dialect's `SET TRANSACTION`.
    async fn begin_transaction(&mut self, kind: TxKind) -> Result<()> {
        let context = "starting a transaction";
        let first: Vec<String> = match self.node.settings.speaks {
            Speaks::Postgres => return steps::begin_by_sql(self, kind).await,
            Speaks::Generic(GenericDbms {
                transactions: Transactions::Statements { begin },
                ..
            }) => {
                for sql in begin.begin_sql(kind) {
                    self.execute(&sql, &[], context).await?;
                }
                return Ok(());
            }
            Speaks::Generic(GenericDbms {
                transactions: Transactions::Driver { serializable },
                ..
            }) => match kind {
                TxKind::Write => vec![serializable.to_string()],
                TxKind::ReadSnapshot => Vec::new(),
            },
            Speaks::Dameng => Dameng.begin_sql(kind),
        };
        self.node
            .run(context, move |conn| {
                conn.set_autocommit(false)?;
                for sql in &first {
                    conn.execute(sql, (), None)?;
                }
                Ok(())
            })
            .await
    }

    async fn end_transaction(&mut self, commit: bool, context: &str) -> Result<()> {
        if !self.node.settings.speaks.driver_transactions() {
            return steps::end_by_sql(self, commit, context).await;
        }
        self.node
            .run(context, move |conn| {
                let ended = match commit {
                    true => conn.commit(),
                    false => conn.rollback(),
                };
                if ended.is_err() {
                    // What failed to commit is not left half-open.
                    let _ = conn.rollback();
                }
                // Autocommit back on: the next statement outside a
                // transaction commits by itself.
                let restored = conn.set_autocommit(true);
                ended?;
                restored.map_err(Failure::from)
            })
            .await
    }

    /// Under the generic profile, the driver's catalog functions.
    async fn catalog(
        &mut self,
        question: CatalogQuestion<'_>,
        context: &str,
    ) -> Result<Vec<Vec<Value>>> {
        if self.generic().is_none() {
            return steps::catalog_by_sql(self, question, context).await;
        }
        let owned = |t: &str| t.to_string();
        match question {
            CatalogQuestion::TableCount(table) => {
                let table = owned(table);
                self.node
                    .run(context, move |conn| {
                        catalog::table_exists(conn, &table).map(count_row)
                    })
                    .await
            }
            CatalogQuestion::ColumnCount(table, column) => {
                let (table, column) = (owned(table), owned(column));
                self.node
                    .run(context, move |conn| {
                        catalog::column_exists(conn, &table, &column).map(count_row)
                    })
                    .await
            }
            CatalogQuestion::CaptureObjects => {
                self.node.run(context, catalog::capture_objects).await
            }
            CatalogQuestion::CaptureDefinitions => {
                self.node.run(context, catalog::capture_definitions).await
            }
        }
    }

    async fn select_rows(
        &mut self,
        table: &SyncTable,
        sql: SelectSql<'_>,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let columns = self.sync_columns(table).await?;
        let list: Vec<String> = match self.node.settings.speaks {
            Speaks::Generic(dbms) => columns.iter().map(|c| dbms.select_expr(c)).collect(),
            Speaks::Dameng => columns.iter().map(|c| Dameng.ident(&c.name)).collect(),
            Speaks::Postgres => columns.iter().map(|c| c.select_expr()).collect(),
        };
        let sql = sql(&list.join(", "));
        let kinds: Vec<ValueKind> = columns.iter().map(|c| c.kind).collect();
        let params = params.to_vec();
        self.node
            .run(&format!("reading table '{}'", table.name), move |conn| {
                rows_on(conn, &sql, params, Some(&kinds))
            })
            .await
    }

    async fn columns(&mut self, table: &SyncTable) -> Result<Vec<ColumnSql>> {
        Ok(self
            .sync_columns(table)
            .await?
            .iter()
            .map(|c| c.sql())
            .collect())
    }

    async fn begin_read(&mut self, since: Watermark) -> Result<Watermark> {
        if let Speaks::Dameng = self.node.settings.speaks {
            let upto = match self.barrier().await? {
                Barrier::Final(last) => last,
                Barrier::Busy(why) => {
                    tracing::warn!(
                        node = %self.node.name(),
                        "a transaction that changed synced tables has been open for more than \
                         {} s ({why}); its changes and later ones are read once it ends",
                        BARRIER_WAIT.as_secs()
                    );
                    since.pos
                }
            };
            // The snapshot is taken after the barrier, so every change up
            // to `upto` is in it.
            steps::begin(self, TxKind::ReadSnapshot).await?;
            return Ok(Watermark::at(upto));
        }
        // Every change of a transaction older than the snapshot's xmin is
        // committed or rolled back: reading up to it is final.
        steps::begin(self, TxKind::ReadSnapshot).await?;
        self.position().await
    }

    /// Kingbase: the snapshot's xmin. Dameng: the last `seq` behind the
    /// commit barrier. Generic: the last `seq` handed out (only the engine
    /// writes the tracking table, one transaction at a time: every `seq`
    /// up to it is committed).
    async fn position(&mut self) -> Result<Watermark> {
        match self.node.settings.speaks {
            Speaks::Generic(dbms) => self.read_position(&dbms.dialect.position_sql()).await,
            Speaks::Dameng => match self.barrier().await? {
                Barrier::Final(last) => Ok(Watermark::at(last)),
                Barrier::Busy(why) => Err(Error::Transient {
                    node: self.node.name().to_string(),
                    context: "waiting for open transactions".into(),
                    message: format!(
                        "a transaction that changed synced tables has been open for more than \
                         {} s ({why}); the full sync starts once it ends",
                        BARRIER_WAIT.as_secs()
                    ),
                }),
            },
            Speaks::Postgres => self.read_position(&format!("SELECT {XMIN}")).await,
        }
    }

    /// Dameng: every committed tracking row is visible to a fresh read.
    async fn committed_position(&mut self) -> Result<Watermark> {
        match self.node.settings.speaks {
            Speaks::Generic(_) => self.position().await,
            Speaks::Dameng => self.read_position(&Dameng.last_seq_sql()).await,
            Speaks::Postgres => self.read_position(COMMITTED_POSITION).await,
        }
    }

    /// Kingbase: an advisory lock. The others: nothing portable; install's
    /// statements are idempotent.
    async fn lock_install(&mut self) -> Result<()> {
        if !matches!(self.node.settings.speaks, Speaks::Postgres) {
            return Ok(());
        }
        self.query(INSTALL_LOCK, &[], "locking install")
            .await
            .map(|_| ())
    }

    async fn stage(&mut self, table: &SyncTable, ops: &[RowOp]) -> Result<()> {
        let d = self.dialect();
        let n = table.columns.len();
        let rows = ops
            .iter()
            .map(|op| staging_values(table, op, self.node()))
            .collect::<Result<Vec<_>>>()?;
        let width = 2 * n + 1;
        let (into, columns) = (d.staging_table(&table.name), staging_column_list(n));
        let statement = move |rows| insert_values_sql(d, &into, &columns, rows, width);
        self.node
            .run(&format!("staging rows of '{}'", table.name), move |conn| {
                insert_rows(conn, &statement, rows, width, d.max_params())
            })
            .await
    }

    /// Generic and dameng: the batch's codes are looked up first, then
    /// inserted (a driver's duplicate-key error has no SQLSTATE of its
    /// own: `23000` is every integrity error); the write transaction keeps
    /// other writers out meanwhile.
    async fn insert_fresh(&mut self, table: &SyncTable, ops: &[RowOp]) -> Result<Option<u64>> {
        if !matches!(self.node.settings.speaks, Speaks::Postgres) {
            return steps::apply::insert_fresh_by_inserts(self, table, ops)
                .await
                .map(Some);
        }
        let rows: Vec<Vec<Value>> = fresh_rows(self.node(), table, ops)?
            .into_iter()
            .map(<[Value]>::to_vec)
            .collect();
        let count = rows.len() as u64;
        let d = self.dialect();
        let width = table.columns.len();
        let (into, columns) = (table.name.clone(), d.column_list(table));
        let statement = move |rows| insert_values_sql(d, &into, &columns, rows, width);
        // A fresh batch fails rather than overwrite a row that arrived
        // since the pass began: the table's unique code says so.
        let inserted = self
            .node
            .run(
                &format!("inserting rows into '{}'", table.name),
                move |conn| match insert_rows(conn, &statement, rows, width, d.max_params()) {
                    Err(failure) if failure.is_unique_violation() => Ok(false),
                    done => done.map(|()| true),
                },
            )
            .await?;
        match inserted {
            true => Ok(Some(count)),
            false => Err(fresh_row_arrived(self.node(), table)),
        }
    }
}

#[async_trait]
impl Driver for OdbcNode {
    type Session<'a> = OdbcSession<'a>;

    fn adapter(&self) -> &str {
        "odbc"
    }

    fn name(&self) -> &str {
        OdbcNode::name(self)
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.settings.dialect()
    }

    fn default_type_rules(&self) -> Option<&'static str> {
        Some(self.settings.speaks.default_type_rules())
    }

    async fn session(&self) -> Result<OdbcSession<'_>> {
        Ok(OdbcSession {
            node: self,
            _turn: self.turn.lock().await,
        })
    }

    /// Kingbase: a session-level advisory lock. Generic and dameng: a lock
    /// of this process (there is no portable lock a crashed holder
    /// releases), so one hetsync process at a time may run such a node's
    /// rounds.
    async fn lock_integration(&self) -> Result<IntegrationLock> {
        if self.settings.speaks.lock_in_process() {
            let held = self.integrating.clone().lock_owned().await;
            return Ok(IntegrationLock(Box::new(held)));
        }
        // A session-level lock, held by a connection of its own until it
        // is dropped (or the process dies).
        let conn = self.settings.connect().await?;
        let conn = self
            .blocking("taking the integration lock", move || {
                conn.execute(INTEGRATION_LOCK, (), None)?;
                Ok(conn)
            })
            .await?;
        Ok(IntegrationLock(Box::new(std::sync::Mutex::new(conn))))
    }

    fn forget_columns(&self) {
        self.columns.clear();
    }
}
