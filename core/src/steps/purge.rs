//! Purging tracking rows every peer has integrated and that are older than
//! the retention ([`crate::adapter::Capture::purge_tracking`]).

use super::{first, install::require_capture, int_of, Session};
use crate::change::Watermark;
use crate::value::Value;
use crate::{Error, Result};
use std::time::Instant;

/// Tracking rows one purge batch spans at most: each batch is one short
/// `DELETE` of its own (about 40 ms for SQLite on this project's bench
/// machine), so writers never wait on one for long.
pub const PURGE_BATCH: usize = 1_000;

/// Deletes the tracking rows at or before `integrated` made before
/// `before_micros` (UTC µs), in batches of [`PURGE_BATCH`] rows in `seq`
/// order, each committed alone; the newest tracking row is always kept.
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
            .await?;
        let to = match first(&step) {
            Some(v) => int_of(&node, v, "a tracking sequence")?.min(newest),
            None => newest,
        };
        let mut params = vec![Value::Int(from), Value::Int(to)];
        params.extend(condition.iter().cloned());
        let batch = s
            .execute(&d.purge_batch_sql(), &params, "purging tracking rows")
            .await?;
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
