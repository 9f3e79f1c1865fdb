//! `verify`: compares every synced table on every spoke with the hub, by
//! combined code and canonical values.

use super::Engine;
use crate::adapter::Node;
use crate::code::CombinedCode;
use crate::mapping::node::MappedNode;
use crate::report::{NodeDiff, TableVerify, VerifyReport};
use crate::schema::SyncTable;
use crate::value::Value;
use crate::Result;
use std::collections::{BTreeMap, HashSet};

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
        for table in &self.tables {
            let hub_rows = self.load(&self.hub, table).await?;
            let mut tv = TableVerify {
                table: table.name.clone(),
                hub_rows: hub_rows.len() as u64,
                nodes: Vec::new(),
            };
            for spoke in &self.spokes {
                let diff = self.compare(spoke, table, &hub_rows).await?;
                report.ok &= diff.differences == 0;
                tv.nodes.push(diff);
            }
            report.tables.push(tv);
        }
        Ok(report)
    }

    async fn scan_all(
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

    async fn load(
        &self,
        node: &MappedNode,
        table: &SyncTable,
    ) -> Result<BTreeMap<CombinedCode, Vec<Value>>> {
        let mut rows = BTreeMap::new();
        self.scan_all(node, table, |code, row| {
            rows.insert(code, row);
        })
        .await?;
        Ok(rows)
    }

    async fn compare(
        &self,
        node: &MappedNode,
        table: &SyncTable,
        hub_rows: &BTreeMap<CombinedCode, Vec<Value>>,
    ) -> Result<NodeDiff> {
        let mut diff = NodeDiff {
            node: node.name().to_string(),
            ..NodeDiff::default()
        };
        let mut seen = HashSet::new();
        self.scan_all(node, table, |code, row| {
            diff.rows += 1;
            match hub_rows.get(&code) {
                None => {
                    diff.differences += 1;
                    if diff.extra.len() < LISTED {
                        diff.extra.push(code.clone());
                    }
                }
                Some(hub_row) => {
                    let fields: Vec<String> = (0..table.columns.len())
                        .filter(|&i| !row[i].identical(&hub_row[i]))
                        .map(|i| table.columns[i].clone())
                        .collect();
                    if !fields.is_empty() {
                        diff.differences += 1;
                        if diff.differing.len() < LISTED {
                            diff.differing.push((code.clone(), fields));
                        }
                    }
                }
            }
            seen.insert(code);
        })
        .await?;
        for code in hub_rows.keys().filter(|c| !seen.contains(*c)) {
            diff.differences += 1;
            if diff.missing.len() < LISTED {
                diff.missing.push(code.clone());
            }
        }
        Ok(diff)
    }
}
