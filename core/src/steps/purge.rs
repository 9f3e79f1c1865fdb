//! Purging tracking rows every peer has integrated and that are older than
//! the retention ([`crate::adapter::Capture::purge_tracking`]).

use super::install::{installed_settings, meta, meta_json, meta_set, require_capture};
use super::{begin, commit, first, int_of, rollback, Session};
use crate::change::{PurgedHistory, Watermark};
use crate::dialect::TxKind;
use crate::value::Value;
use crate::{Error, Result};
use std::time::Instant;

/// Tracking rows one purge batch spans at most: each batch is one short
/// `DELETE` of its own (about 40 ms for SQLite on this project's bench
/// machine), so writers never wait on one for long.
pub const PURGE_BATCH: usize = 1_000;

/// The meta row that records how far purges went ([`PurgedHistory`], JSON).
const PURGED_HISTORY: &str = "purged_history";

/// Deletes the tracking rows at or before `integrated` made before
/// `before_micros` (UTC µs), in batches of [`PURGE_BATCH`] rows in `seq`
/// order, each committed alone; the newest tracking row is always kept.
/// The first batch that deletes anything records the purge in
/// [`PURGED_HISTORY`] in its own transaction, so a peer behind it is
/// found stale even when the purge stops half-way.
/// Stops at the first batch with nothing to purge: the rows from there on
/// are too young or not integrated yet (a later purge goes further). Where
/// a write locks the whole database (SQLite), it pauses after each batch as
/// long as the batch took, so that writers waiting meanwhile get their
/// turn. Returns how many rows were deleted.
pub async fn purge<S: Session + ?Sized>(
    s: &mut S,
    integrated: Watermark,
    before_micros: i64,
) -> Result<u64> {
    require_capture(s).await?;
    let d = s.dialect();
    let node = s.node().to_string();
    let before = d.stamp_value(before_micros).ok_or_else(|| {
        Error::Setup(format!(
            "node '{node}': the purge time {before_micros} µs is out of range"
        ))
    })?;
    let mut condition = d.position_params(integrated);
    condition.push(before);
    let bounds = s
        .query(&d.tracking_bounds_sql(), &[], "reading the tracking bounds")
        .await?;
    let bound = |i: usize| -> Result<Option<i64>> {
        match bounds.first().and_then(|r| r.get(i)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => int_of(&node, v, "a tracking sequence").map(Some),
        }
    };
    let (Some(mut from), Some(newest)) = (bound(0)?, bound(1)?) else {
        return Ok(0);
    };
    let yields = d.row_lock_clause().is_none();
    let mut deleted = 0;
    while from < newest {
        let started = Instant::now();
        let step = s
            .query(
                &d.tracking_step_sql(PURGE_BATCH),
                &[Value::Int(from)],
                "finding tracking rows to purge",
            )
            .await;
        let Some(step) = yield_when_busy(&node, deleted, step)? else {
            break;
        };
        let to = match first(&step) {
            Some(v) => int_of(&node, v, "a tracking sequence")?.min(newest),
            None => newest,
        };
        let mut params = vec![Value::Int(from), Value::Int(to)];
        params.extend(condition.iter().cloned());
        let record = (deleted == 0).then_some(PurgedHistory {
            upto: integrated,
            before_micros,
        });
        let batch = purge_batch(s, &params, record).await;
        let Some(batch) = yield_when_busy(&node, deleted, batch)? else {
            break;
        };
        if batch == 0 {
            break;
        }
        deleted += batch;
        from = to;
        if yields {
            tokio::time::sleep(started.elapsed()).await;
        }
    }
    Ok(deleted)
}

/// What a purge step gave, `None` when the database stayed busy past its
/// timeout (a writer that never pauses, on a database that locks whole):
/// the purge stops there with a warning, keeping what it deleted, and the
/// next purge goes on. A purge is housekeeping: it yields to writers.
fn yield_when_busy<T>(node: &str, deleted: u64, step: Result<T>) -> Result<Option<T>> {
    match step {
        Ok(done) => Ok(Some(done)),
        Err(e @ Error::Transient { .. }) => {
            tracing::warn!(
                node,
                deleted,
                error = %e,
                "purge stopped early: the database stayed busy; the next purge goes on"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One batch of a purge in a transaction of its own, recording `record`
/// with it when it deleted anything. Returns how many rows it deleted.
async fn purge_batch<S: Session + ?Sized>(
    s: &mut S,
    params: &[Value],
    record: Option<PurgedHistory>,
) -> Result<u64> {
    let d = s.dialect();
    begin(s, TxKind::Write).await?;
    let done = async {
        let deleted = s
            .execute(&d.purge_batch_sql(), params, "purging tracking rows")
            .await?;
        if let (Some(record), true) = (record, deleted > 0) {
            record_purged(s, record).await?;
        }
        Ok(deleted)
    }
    .await;
    match done {
        Ok(deleted) => {
            commit(s, "purging tracking rows").await?;
            Ok(deleted)
        }
        Err(e) => {
            rollback(s).await;
            Err(e)
        }
    }
}

/// How far purges have deleted this node's tracking rows.
pub async fn purged_history<S: Session + ?Sized>(s: &mut S) -> Result<Option<PurgedHistory>> {
    let settings = installed_settings(s).await?;
    meta_json(s.node(), &settings, PURGED_HISTORY)
}

/// [`PURGED_HISTORY`] as recorded.
async fn read_purged<S: Session + ?Sized>(s: &mut S) -> Result<Option<PurgedHistory>> {
    let settings = meta(s).await?;
    meta_json(s.node(), &settings, PURGED_HISTORY)
}

/// Widens the recorded [`PurgedHistory`] to take in `record`, in the
/// caller's transaction.
async fn record_purged<S: Session + ?Sized>(s: &mut S, record: PurgedHistory) -> Result<()> {
    let widened = match read_purged(s).await? {
        None => record,
        Some(before) => PurgedHistory {
            upto: before.upto.max(record.upto),
            before_micros: before.before_micros.max(record.before_micros),
        },
    };
    let json = serde_json::to_string(&widened).expect("a purged history serializes");
    meta_set(s, PURGED_HISTORY, &json).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_stops_the_purge_and_other_errors_fail_it() {
        let busy = Error::Transient {
            node: "spoke".into(),
            context: "starting a transaction".into(),
            message: "database is locked".into(),
        };
        assert_eq!(yield_when_busy("spoke", 7, Ok(3)).unwrap(), Some(3));
        assert_eq!(yield_when_busy::<u64>("spoke", 7, Err(busy)).unwrap(), None);
        let broken = yield_when_busy::<u64>("spoke", 7, Err(Error::Setup("no table".into())));
        assert!(matches!(broken, Err(Error::Setup(_))));
    }
}
