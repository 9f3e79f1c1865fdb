//! A dry run of a round (`hetsync sync --dry-run`): what a spoke's next
//! round would move, decide and leave out, read and planned exactly as the
//! round reads and plans, with nothing written and no watermark moved.

use super::round::{count_events, counts, Planned, RoundRun};
use super::Engine;
use crate::plan::{TableCounts, TablePlan};
use crate::report::{RefusedChange, RoundPreview};
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
        Ok(RoundPreview {
            spoke: s.name().to_string(),
            hub: self.hub().name().to_string(),
            mode,
            events_read: (count_events(&local), count_events(&remote)),
            uploaded: count(|p| &p.upload),
            downloaded: count(|p| &p.download),
            conflicts: plan.conflicts().cloned().collect(),
            compared_whole: compare_whole.iter().map(|t| t.name.clone()).collect(),
            stops,
            refused,
            more: rest.is_some(),
        })
    }
}
