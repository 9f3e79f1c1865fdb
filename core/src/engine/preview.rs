//! A dry run of a round (`hetsync sync --dry-run`): what a spoke's next
//! round would move, decide and leave out, read and planned exactly as the
//! round reads and plans, with nothing written and no watermark moved.

use super::round::{count_events, counts, Planned, RoundRun};
use super::Engine;
use crate::mapping::resolve::Conversion;
use crate::plan::{TableCounts, TablePlan};
use crate::report::{PlannedConversion, RefusedChange, RoundPreview};
use crate::Result;

impl Engine {
    /// Plans the next round of `spoke` and reports it. The hub's
    /// integration lock is held while both sides are read (as a round
    /// holds it), and released before this returns.
    pub async fn preview(&self, spoke: &str) -> Result<RoundPreview> {
        let s = self.spoke(spoke)?;
        let planned = {
            let _lock = self.hub().lock_integration().await?;
            self.read_and_plan(s, &mut RoundRun::new(), None, true)
                .await?
        };
        let Planned {
            mode,
            compare_whole,
            local,
            remote,
            rest,
            parking,
            held,
            plan,
            ..
        } = planned;
        let count = |ops_of: fn(&TablePlan) -> &[crate::change::RowOp]| -> TableCounts {
            counts(plan.tables.iter().map(|(t, p)| (t, ops_of(p))))
        };
        let stops = !parking.is_empty() && !self.parks();
        let held = held.into_iter().map(|refused| RefusedChange {
            node: s.name().to_string(),
            refused,
            held: true,
        });
        let refused: Vec<RefusedChange> = parking
            .into_iter()
            .map(|(node, refused)| RefusedChange {
                node,
                refused,
                held: false,
            })
            .chain(held)
            .collect();
        let uploaded = count(|p| &p.upload);
        let downloaded = count(|p| &p.download);
        let whole: Vec<String> = compare_whole.iter().map(|t| t.name.clone()).collect();
        let conversions = self.conversions(spoke, [&uploaded, &downloaded], &whole)?;
        Ok(RoundPreview {
            spoke: s.name().to_string(),
            hub: self.hub().name().to_string(),
            mode,
            events_read: (count_events(&local), count_events(&remote)),
            uploaded,
            downloaded,
            conflicts: plan.conflicts().cloned().collect(),
            compared_whole: whole,
            stops,
            conversions,
            refused,
            more: rest.is_some(),
        })
    }

    /// The columns of `spoke` whose values the round converts: per table,
    /// those crossing to the hub when `moved[0]` (uploads) counts rows of
    /// it, to the spoke when `moved[1]` (downloads) does; both ways for a
    /// table compared `whole`.
    fn conversions(
        &self,
        spoke: &str,
        moved: [&TableCounts; 2],
        whole: &[String],
    ) -> Result<Vec<PlannedConversion>> {
        let node = self.mapped(spoke)?;
        let mut out = Vec::new();
        for table in &self.tables {
            let Some(map) = node.table_map(&table.name) else {
                continue;
            };
            let compared = whole.contains(&table.name);
            for (direction, counts) in ["to hub", "to spoke"].into_iter().zip(moved) {
                let rows = counts.get(&table.name).map(|c| c.upserts);
                if !compared && rows.is_none_or(|n| n == 0) {
                    continue;
                }
                for c in &map.columns {
                    let (conversion, fidelity, types) = match direction {
                        "to hub" => (
                            &c.inbound,
                            &c.fidelity_in,
                            (&c.local_native, &c.logical_native),
                        ),
                        _ => (
                            &c.outbound,
                            &c.fidelity_out,
                            (&c.logical_native, &c.local_native),
                        ),
                    };
                    if *conversion == Conversion::Pass {
                        continue;
                    }
                    out.push(PlannedConversion {
                        table: table.name.clone(),
                        column: c.logical.clone(),
                        local: c.local.clone(),
                        direction: direction.to_string(),
                        types: format!("{} → {}", types.0, types.1),
                        fidelity: fidelity.to_string(),
                        rows: rows.filter(|_| !compared),
                    });
                }
            }
        }
        Ok(out)
    }
}
