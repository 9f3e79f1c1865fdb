//! Comparing a spoke's copy of a table with the hub's by the convergence
//! digest ([`crate::digest`]): the bucket digests of both, then the row
//! hashes of the buckets that differ, a bounded chunk of buckets at a time.
//! `verify` lists what differs, `repair` rewrites it.

use super::Engine;
use crate::adapter::{Apply, Node};
use crate::code::CombinedCode;
use crate::digest::{buckets_for, digest_row, BucketDigest, RowHash};
use crate::mapping::node::MappedNode;
use crate::schema::SyncTable;
use crate::value::Value;
use crate::Result;
use std::collections::{HashMap, HashSet};

/// Rows of both sides whose hashes one chunk of differing buckets may hold.
const ROWS_PER_CHUNK: u64 = 50_000;

/// How a row differs between the hub and a spoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Difference {
    /// On the hub only.
    Missing,
    /// On the spoke only.
    Extra,
    /// On both, with other values.
    Differs,
}

/// A table's bucket digests on one node.
pub(super) struct Digested {
    /// How many buckets the table is split into.
    pub buckets: u32,
    /// Per bucket.
    pub digests: Vec<BucketDigest>,
    /// Rows the node sent to compute them (none when its SQL did).
    pub rows_read: u64,
}

impl Digested {
    /// Rows in the table.
    pub fn rows(&self) -> u64 {
        self.digests.iter().map(|d| d.rows).sum()
    }
}

/// The comparison of one table between the hub and one spoke, read chunk
/// by chunk ([`Comparison::next_chunk`]).
pub(super) struct Comparison<'a> {
    engine: &'a Engine,
    spoke: &'a MappedNode,
    table: &'a SyncTable,
    hub_digest: &'a Digested,
    spoke_digest: Digested,
    /// Differing buckets not yet compared, last first.
    pending: Vec<u32>,
    /// Rows read so far from the hub and from the spoke.
    pub rows_read: (u64, u64),
}

impl Engine {
    /// The bucket digests of `table` on `node`, out of `buckets`: by the
    /// node's SQL, or hashed here from its streamed rows.
    async fn digested(
        &self,
        node: &MappedNode,
        table: &SyncTable,
        buckets: u32,
    ) -> Result<Digested> {
        let started = std::time::Instant::now();
        let digested = self.digested_by(node, table, buckets).await?;
        tracing::debug!(
            node = node.name(),
            table = %table.name,
            buckets,
            rows_read = digested.rows_read,
            ms = started.elapsed().as_millis() as u64,
            "table digest"
        );
        Ok(digested)
    }

    async fn digested_by(
        &self,
        node: &MappedNode,
        table: &SyncTable,
        buckets: u32,
    ) -> Result<Digested> {
        if let Some(digests) = node.digest_buckets(table, buckets).await? {
            return Ok(Digested {
                buckets,
                digests,
                rows_read: 0,
            });
        }
        let mut digests = vec![BucketDigest::default(); buckets as usize];
        let mut rows_read = 0;
        self.scan_all(node, table, |_, row| {
            let (bucket, hash) = digest_row(&row, &table.code, buckets);
            digests[bucket as usize].add(&hash);
            rows_read += 1;
        })
        .await?;
        Ok(Digested {
            buckets,
            digests,
            rows_read,
        })
    }

    /// The digests of `table` on the hub and on each of `spokes`, split for
    /// the hub's row count, all computed at once.
    pub(super) async fn digests(
        &self,
        table: &SyncTable,
        spokes: &[&MappedNode],
    ) -> Result<(Digested, Vec<Digested>)> {
        let buckets = buckets_for(self.hub.count_rows(table).await?);
        let spokes = futures_util::future::try_join_all(
            spokes.iter().map(|s| self.digested(s, table, buckets)),
        );
        let (hub, spokes) = tokio::join!(self.digested(&self.hub, table, buckets), spokes);
        Ok((hub?, spokes?))
    }

    /// Compares `table` on `spoke` with the hub, from their digests.
    pub(super) fn compare<'a>(
        &'a self,
        spoke: &'a MappedNode,
        table: &'a SyncTable,
        hub_digest: &'a Digested,
        spoke_digest: Digested,
    ) -> Comparison<'a> {
        let pending = (0..hub_digest.buckets)
            .rev()
            .filter(|&b| hub_digest.digests[b as usize] != spoke_digest.digests[b as usize])
            .collect();
        let rows_read = (0, spoke_digest.rows_read);
        Comparison {
            engine: self,
            spoke,
            table,
            hub_digest,
            spoke_digest,
            pending,
            rows_read,
        }
    }

    /// The code and hash of every row of `node` in buckets `which`, and how
    /// many rows the node sent for them.
    async fn row_hashes(
        &self,
        node: &MappedNode,
        table: &SyncTable,
        buckets: u32,
        which: &[u32],
    ) -> Result<(HashMap<CombinedCode, RowHash>, u64)> {
        let mut out = HashMap::new();
        if let Some(rows) = node.digest_row_hashes(table, buckets, which).await? {
            let read = rows.len() as u64;
            for row in rows {
                if out.insert(row.code.clone(), row.hash).is_some() {
                    return Err(table.duplicate_code(&row.code, node.name()));
                }
            }
            return Ok((out, read));
        }
        let wanted: HashSet<u32> = which.iter().copied().collect();
        let mut read = 0;
        let mut duplicate = None;
        self.scan_all(node, table, |code, row| {
            read += 1;
            let (bucket, hash) = digest_row(&row, &table.code, buckets);
            if wanted.contains(&bucket) && out.insert(code.clone(), hash).is_some() {
                duplicate.get_or_insert(code);
            }
        })
        .await?;
        match duplicate {
            Some(code) => Err(table.duplicate_code(&code, node.name())),
            None => Ok((out, read)),
        }
    }

    /// Rows of `codes` on `node`, by code, values as read (nothing cut).
    pub(super) async fn rows_of(
        &self,
        node: &MappedNode,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<HashMap<CombinedCode, Vec<Value>>> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(self.options.batch_size) {
            table.key_rows(node.fetch_exact(table, chunk).await?, node.name(), &mut out)?;
        }
        Ok(out)
    }
}

impl Comparison<'_> {
    /// Rows on the spoke.
    pub fn spoke_rows(&self) -> u64 {
        self.spoke_digest.rows()
    }

    /// Buckets whose digests differ.
    pub fn differing_buckets(&self) -> usize {
        self.pending.len()
    }

    /// The differences in the next chunk of differing buckets, in no
    /// particular order; `None` when every differing bucket is done.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<(CombinedCode, Difference)>>> {
        let rows_in = |b: u32| {
            self.hub_digest.digests[b as usize].rows + self.spoke_digest.digests[b as usize].rows
        };
        let mut chunk = Vec::new();
        let mut rows = 0;
        while let Some(&b) = self.pending.last() {
            if !chunk.is_empty() && rows + rows_in(b) > ROWS_PER_CHUNK {
                break;
            }
            rows += rows_in(b);
            chunk.push(b);
            self.pending.pop();
        }
        if chunk.is_empty() {
            return Ok(None);
        }
        let (e, buckets) = (self.engine, self.hub_digest.buckets);
        let (hub, spoke) = tokio::join!(
            e.row_hashes(&e.hub, self.table, buckets, &chunk),
            e.row_hashes(self.spoke, self.table, buckets, &chunk)
        );
        let ((hub, hub_read), (mut spoke, spoke_read)) = (hub?, spoke?);
        self.rows_read.0 += hub_read;
        self.rows_read.1 += spoke_read;
        let mut out = Vec::new();
        for (code, hash) in hub {
            match spoke.remove(&code) {
                None => out.push((code, Difference::Missing)),
                Some(theirs) if theirs != hash => out.push((code, Difference::Differs)),
                Some(_) => {}
            }
        }
        out.extend(spoke.into_keys().map(|code| (code, Difference::Extra)));
        Ok(Some(out))
    }
}
