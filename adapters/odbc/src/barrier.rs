//! The dameng profile's commit barrier
//! ([`hetsync_core::dialect::dameng::Dameng::barrier_sql`]): the `seq` up
//! to which every tracking row is final. The table lock is asked for
//! without waiting and asked again for a bounded time, so that writers,
//! which wait behind a lock asked for with a wait, are held up no longer
//! than one attempt.

use crate::connection::Failure;
use crate::session::rows_on;
use hetsync_core::dialect::dameng::Dameng;
use hetsync_core::value::Value;
use odbc_api::Connection;
use std::time::{Duration, Instant};

/// How long the barrier tries for the lock while writers are open.
pub(crate) const BARRIER_WAIT: Duration = Duration::from_secs(2);

/// The pause between two tries.
const RETRY: Duration = Duration::from_millis(50);

/// The result of the commit barrier.
pub(crate) enum Barrier<Seq> {
    /// Every tracking row up to this `seq` is final.
    Final(Seq),
    /// A transaction stayed open longer than [`BARRIER_WAIT`]; what the
    /// last try said.
    Busy(String),
}

/// Runs the barrier in a transaction of its own, ended before it returns
/// (the lock with it), autocommit back on; once the lock is granted, the
/// rows of the last-`seq` query.
pub(crate) fn barrier(conn: &Connection<'_>) -> Result<Barrier<Vec<Vec<Value>>>, Failure> {
    let [lock, last] = Dameng.barrier_sql();
    conn.set_autocommit(false)?;
    let started = Instant::now();
    let result = loop {
        match conn.execute(&lock, (), None) {
            Ok(_) => break rows_on(conn, &last, Vec::new(), None).map(Barrier::Final),
            Err(e) if started.elapsed() >= BARRIER_WAIT => break Ok(Barrier::Busy(e.to_string())),
            Err(_) => {
                let _ = conn.rollback();
                std::thread::sleep(RETRY);
            }
        }
    };
    let ended = conn.rollback();
    let restored = conn.set_autocommit(true);
    ended?;
    restored?;
    result
}
