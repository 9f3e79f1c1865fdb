//! The conflicts batches recorded on the node ([`crate::change::ApplyBatch::log`])
//! until the engine has copied them to its conflict log.

use super::{into_text, Session};
use crate::plan::Conflict;
use crate::Result;
use crate::{value::Value, Error};

/// The recorded conflicts, in uid order.
pub async fn pending<S: Session + ?Sized>(s: &mut S) -> Result<Vec<Conflict>> {
    let d = s.dialect();
    let rows = s
        .query(
            &d.conflicts_pending_sql(),
            &[],
            "reading recorded conflicts",
        )
        .await?;
    let node = s.node().to_string();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = row.into_iter();
        let (Some(uid), Some(body)) = (values.next(), values.next()) else {
            continue;
        };
        let uid = into_text(&node, uid, "a conflict id")?.unwrap_or_default();
        let body = into_text(&node, body, "a recorded conflict")?.unwrap_or_default();
        let mut conflict: Conflict = serde_json::from_str(&body).map_err(|e| Error::Database {
            node: node.clone(),
            context: "reading recorded conflicts".into(),
            message: format!("conflict {uid} is unreadable: {e}"),
        })?;
        conflict.uid = Some(uid);
        out.push(conflict);
    }
    Ok(out)
}

/// Forgets the recorded conflicts with these uids.
pub async fn forget<S: Session + ?Sized>(s: &mut S, uids: &[String]) -> Result<()> {
    let d = s.dialect();
    for chunk in uids.chunks(d.max_params().clamp(1, 1_000)) {
        let params: Vec<Value> = chunk.iter().cloned().map(Value::Text).collect();
        s.execute(
            &d.conflict_forget_sql(chunk.len()),
            &params,
            "forgetting logged conflicts",
        )
        .await?;
    }
    Ok(())
}
