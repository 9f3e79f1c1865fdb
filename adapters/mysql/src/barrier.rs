//! The commit barrier: the position up to which every tracking row is final.
//!
//! `LOCK TABLES … READ` on the tracking table cannot be granted while any
//! transaction holds the table's write metadata lock, which every writer
//! keeps until it ends; a writer that starts later gets a greater sequence,
//! since auto-increment values only grow. So once the lock is granted, every
//! tracking row up to the last sequence is committed (or rolled back for good).

use crate::connection::MysqlNode;
use crate::session::DIALECT;
use hetsync_core::dialect::{Dialect, TRACKING};
use sqlx::mysql::MySqlConnection;
use sqlx::Executor;

/// How long the commit barrier waits for open transactions (seconds). While
/// it waits, new writes to synced tables wait behind it, so it stays short.
pub(crate) const BARRIER_WAIT_SECS: u32 = 2;

/// The result of the commit barrier.
pub(crate) enum Barrier {
    /// Every tracking row up to this sequence is final.
    Final(i64),
    /// A transaction stayed open longer than the barrier waits.
    Busy,
}

impl MysqlNode {
    /// The largest tracking sequence a fresh read sees: past every
    /// committed tracking row.
    pub(crate) async fn last_sequence(
        &self,
        conn: &mut MySqlConnection,
    ) -> hetsync_core::Result<i64> {
        sqlx::query_scalar::<_, i64>(&format!(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS SIGNED) FROM {}",
            DIALECT.ident(TRACKING)
        ))
        .fetch_one(&mut *conn)
        .await
        .map_err(self.err("reading the last tracking sequence"))
    }

    /// Waits until no transaction that wrote tracking rows is still open,
    /// then reads the last sequence.
    pub(crate) async fn barrier(
        &self,
        conn: &mut MySqlConnection,
    ) -> hetsync_core::Result<Barrier> {
        self.exec(
            conn,
            &format!("SET SESSION lock_wait_timeout = {BARRIER_WAIT_SECS}"),
            "preparing the commit barrier",
        )
        .await?;
        let locked = conn
            .execute(format!("LOCK TABLES {} READ", DIALECT.ident(TRACKING)).as_str())
            .await;
        let result = match locked {
            Err(e)
                if crate::connection::error_number(&e)
                    == Some(crate::connection::code::LOCK_WAIT_TIMEOUT) =>
            {
                Ok(Barrier::Busy)
            }
            Err(e) => Err(self.err("waiting for open transactions")(e)),
            Ok(_) => {
                let last = self.last_sequence(conn).await;
                self.exec(conn, "UNLOCK TABLES", "ending the commit barrier")
                    .await?;
                last.map(Barrier::Final)
            }
        };
        self.exec(
            conn,
            "SET SESSION lock_wait_timeout = DEFAULT",
            "ending the commit barrier",
        )
        .await?;
        result
    }
}
