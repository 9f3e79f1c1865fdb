//! The convergence digest computed by a node's own SQL
//! ([`crate::dialect::digest`]).

use super::{into_text, Session};
use crate::code::CombinedCode;
use crate::dialect::digest::{buckets_sql, rows_sql};
use crate::digest::{parse_text, BucketDigest, RowDigest, RowHash};
use crate::schema::SyncTable;
use crate::types::CanonicalType;
use crate::value::Value;
use crate::{Error, Result};

/// The digest of every bucket of `table` (`types`: its columns' canonical
/// types), out of `buckets`; `None` when the dialect cannot compute it.
pub async fn buckets<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    types: &[CanonicalType],
    buckets: u32,
) -> Result<Option<Vec<BucketDigest>>> {
    let Some(sql) = buckets_sql(s.dialect(), table, types, buckets) else {
        return Ok(None);
    };
    let context = format!("computing the digest of '{}'", table.name);
    let rows = s.query(&sql, &[], &context).await?;
    let mut out = vec![BucketDigest::default(); buckets as usize];
    for row in rows {
        let [bucket, count, sum] = row.as_slice() else {
            return Err(unreadable(s.node(), &context, &row));
        };
        let bucket = super::int_of(s.node(), bucket, "a digest bucket")?;
        let slot = usize::try_from(bucket)
            .ok()
            .and_then(|b| out.get_mut(b))
            .ok_or_else(|| unreadable(s.node(), &context, &row))?;
        slot.rows = super::int_of(s.node(), count, "a digest row count")? as u64;
        slot.sum = into_text(s.node(), sum.clone(), "a digest sum")?
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| unreadable(s.node(), &context, &row))?;
    }
    Ok(Some(out))
}

/// The code and hash of every row of `table` in the buckets `which`, out of
/// `buckets`; `None` when the dialect cannot compute them.
pub async fn rows<S: Session + ?Sized>(
    s: &mut S,
    table: &SyncTable,
    types: &[CanonicalType],
    buckets: u32,
    which: &[u32],
) -> Result<Option<Vec<RowDigest>>> {
    let per_query = s.dialect().max_params().clamp(1, 1_000);
    let context = format!("reading the row digests of '{}'", table.name);
    let mut out = Vec::new();
    for chunk in which.chunks(per_query) {
        let Some(sql) = rows_sql(s.dialect(), table, types, buckets, chunk.len()) else {
            return Ok(None);
        };
        let params: Vec<Value> = chunk.iter().map(|&b| Value::Int(b.into())).collect();
        for row in s.query(&sql, &params, &context).await? {
            let digest = match row.as_slice() {
                [code, hash] => row_digest(s.node(), code, hash),
                _ => None,
            };
            out.push(digest.ok_or_else(|| unreadable(s.node(), &context, &row))?);
        }
    }
    Ok(Some(out))
}

fn row_digest(node: &str, code: &Value, hash: &Value) -> Option<RowDigest> {
    let code = into_text(node, code.clone(), "a code's digest text").ok()??;
    let hash = into_text(node, hash.clone(), "a row hash").ok()??;
    Some(RowDigest {
        code: CombinedCode::from_values(&parse_text(&code)?).ok()?,
        hash: RowHash::from_hex(&hash)?,
    })
}

fn unreadable(node: &str, context: &str, row: &[Value]) -> Error {
    Error::Database {
        node: node.to_string(),
        context: context.to_string(),
        message: format!("unexpected answer {row:?}"),
    }
}
