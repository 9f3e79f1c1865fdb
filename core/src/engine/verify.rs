//! `verify`: compares every synced table on every spoke with the hub by the
//! convergence digest ([`super::compare`]), and lists what differs.

use super::compare::Difference;
use super::Engine;
use crate::adapter::Node;
use crate::code::CombinedCode;
use crate::mapping::node::MappedNode;
use crate::report::{NodeDiff, TableVerify, VerifyReport};
use crate::schema::SyncTable;
use crate::value::Value;
use crate::Result;

/// At most this many codes are listed per node, table and kind of difference.
const LISTED: usize = 100;

impl Engine {
    /// Compares every connected spoke with the hub; lists the others.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport {
            ok: self.unreachable().is_empty(),
            tables: Vec::new(),
            unreachable: self
                .unreachable()
                .iter()
                .map(|u| u.error().to_string())
                .collect(),
        };
        let spokes: Vec<&MappedNode> = self.spokes.iter().collect();
        for table in &self.tables {
            let (hub_digest, spoke_digests) = self.digests(table, &spokes).await?;
            let mut tv = TableVerify {
                table: table.name.clone(),
                hub_rows: hub_digest.rows(),
                nodes: Vec::new(),
            };
            for (spoke, spoke_digest) in spokes.iter().copied().zip(spoke_digests) {
                let mut cmp = self.compare(spoke, table, &hub_digest, spoke_digest);
                let mut diff = NodeDiff {
                    node: spoke.name().to_string(),
                    rows: cmp.spoke_rows(),
                    ..NodeDiff::default()
                };
                while let Some(chunk) = cmp.next_chunk().await? {
                    let mut differs = Vec::new();
                    for (code, difference) in chunk {
                        diff.differences += 1;
                        let list = match difference {
                            Difference::Missing => &mut diff.missing,
                            Difference::Extra => &mut diff.extra,
                            Difference::Differs => {
                                if diff.differing.len() + differs.len() < LISTED {
                                    differs.push(code);
                                }
                                continue;
                            }
                        };
                        if list.len() < LISTED {
                            list.push(code);
                        }
                    }
                    let fields = self.differing_fields(spoke, table, &differs).await?;
                    diff.differing.extend(fields);
                }
                diff.rows_read = cmp.rows_read.0 + cmp.rows_read.1;
                for list in [&mut diff.missing, &mut diff.extra] {
                    list.sort();
                }
                diff.differing.sort();
                report.ok &= diff.differences == 0;
                tv.nodes.push(diff);
            }
            report.tables.push(tv);
        }
        Ok(report)
    }

    /// Streams every row of `table` on `node` in code order, values as read.
    pub(super) async fn scan_all(
        &self,
        node: &MappedNode,
        table: &SyncTable,
        mut each: impl FnMut(CombinedCode, Vec<Value>),
    ) -> Result<()> {
        let mut after: Option<CombinedCode> = None;
        loop {
            let rows = node
                .scan_exact(table, after.as_ref(), self.options.batch_size)
                .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in rows {
                let code = table.code_of(&row, node.name())?;
                after = Some(code.clone());
                each(code, row);
            }
        }
    }

    /// The columns in which each of `codes` differs between the hub and
    /// `spoke`.
    async fn differing_fields(
        &self,
        spoke: &MappedNode,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<Vec<(CombinedCode, Vec<String>)>> {
        let hub_rows = self.rows_of(&self.hub, table, codes).await?;
        let spoke_rows = self.rows_of(spoke, table, codes).await?;
        Ok(codes
            .iter()
            .filter_map(|code| {
                let (h, s) = (hub_rows.get(code)?, spoke_rows.get(code)?);
                let fields = (0..table.columns.len())
                    .filter(|&i| !s[i].identical(&h[i]))
                    .map(|i| table.columns[i].clone())
                    .collect();
                Some((code.clone(), fields))
            })
            .collect())
    }
}
