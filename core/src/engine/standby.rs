//! The hub's hot standby (`role = "standby"`). It is a spoke whose rounds
//! run first in every pass, with three differences, so that it can take
//! the hub's place without a full resync:
//!
//! 1. **Mirrored history.** What its rounds download is recorded in its
//!    tracking table with the original stamps (origin and time), as the
//!    hub records uploads; its own rounds read only the edits made on it
//!    ([`crate::change::ReadRange::only_local`]). Promoted, its tracking
//!    table holds what a hub's does.
//! 2. **Replicated watermarks.** The hub's watermark of every other spoke
//!    is copied to the standby once the standby has every change those
//!    watermarks cover: read with a position past every change committed
//!    then ([`crate::adapter::Capture::committed_position`]), a watermark
//!    is copied when a round of the standby has read the hub that far.
//!    Promoted, it reads each spoke from there.
//! 3. **The spokes' watermarks of the standby.** After a pass, a spoke that
//!    has integrated the hub up to where a standby round of the pass read
//!    it gets, as its watermark of the standby, a position of the standby's
//!    from which it finds everything it may lack: the changes mirrored after
//!    that round began, and the standby's own edits not known to have
//!    reached the hub before that point ([`Mirrored`]). Reading from too
//!    early only reads changes again (rows are sent as they are now, the
//!    later stamp winning); from too late would miss some, which this
//!    never does.
//!
//! Which node acts as the hub is decided by epochs: `hetsync promote` (or
//! `hetsync run`'s failover) records a higher one on the standby
//! ([`EPOCH_PEER`]) and in the state store, and the configured node with
//! the highest acts as the hub; the other is the standby.

use super::round::RoundRun;
use super::Engine;
use crate::adapter::Node;
use crate::change::{ApplyBatch, ChangeSet, PeerMark, Watermark};
use crate::{Error, Result};

/// The peer row of hetsync's watermark table that holds a node's epoch:
/// the number of the promotion that made it the hub (none: 0).
pub const EPOCH_PEER: &str = "_hetsync_epoch";

/// The standby's row holding the earliest position of its own edits that
/// may not have reached the hub within what its rounds read there.
fn floor_peer(hub: &str) -> String {
    format!("_hetsync_standby_floor:{hub}")
}

/// The standby's row holding a hub position past every upload of its
/// edits so far.
fn uploaded_peer(hub: &str) -> String {
    format!("_hetsync_standby_uploaded:{hub}")
}

/// What one round of the standby leaves for the spokes' watermarks of it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mirrored {
    /// Where the round read the hub up to.
    hub_end: Watermark,
    /// Where a spoke that has integrated the hub up to `hub_end` reads the
    /// standby from once it is the hub.
    standby_from: Watermark,
}

/// The hub's watermarks of the other spokes, read before a standby round,
/// and a hub position past every change committed when they were read.
pub(super) struct HubMarks {
    marks: Vec<(String, Watermark)>,
    committed: Watermark,
}

/// A node's epoch ([`EPOCH_PEER`]); 0 before its capture is installed or
/// any promotion.
pub async fn node_epoch(node: &dyn Node) -> Result<u64> {
    if !node.is_installed().await? {
        return Ok(0);
    }
    Ok(node
        .peer_watermark(EPOCH_PEER)
        .await?
        .map_or(0, |w| u64::try_from(w.pos).unwrap_or(0)))
}

/// Records `epoch` as the node's epoch: it acts as the hub from now on.
pub async fn record_epoch(node: &dyn Node, epoch: u64) -> Result<()> {
    let epoch = i64::try_from(epoch)
        .map_err(|_| Error::Deployment(format!("epoch {epoch} is out of range")))?;
    write_mark(node, EPOCH_PEER, Watermark::at(epoch)).await
}

/// Writes one peer row on `node`, alone in its transaction.
async fn write_mark(node: &dyn Node, peer: &str, watermark: Watermark) -> Result<()> {
    let batch = ApplyBatch {
        peer: Some(PeerMark {
            peer: peer.to_string(),
            watermark,
            tables: None,
        }),
        ..ApplyBatch::default()
    };
    node.apply(&[], &batch).await.map(|_| ())
}

impl Engine {
    /// The connected standby's name, if it is among the spokes.
    pub fn standby(&self) -> Option<&str> {
        self.standby.as_deref()
    }

    /// Whether `node` is the standby.
    pub(super) fn is_standby(&self, node: &str) -> bool {
        self.standby.as_deref() == Some(node)
    }

    /// Before a round of the standby `s`: the hub's watermarks of every
    /// other spoke, then a position past every change committed by then.
    pub(super) async fn hub_marks(&self, s: &dyn Node, run: &mut RoundRun) -> Result<HubMarks> {
        let hub = self.hub();
        let mut marks = Vec::new();
        for spoke in self.spoke_names().into_iter().filter(|n| n != s.name()) {
            let mark = self
                .step(hub.name(), "reading a watermark", run, |_| {
                    hub.peer_watermark(&spoke)
                })
                .await?;
            if let Some(mark) = mark {
                marks.push((spoke, mark));
            }
        }
        let committed = self
            .step(hub.name(), "reading the position", run, |_| {
                hub.committed_position()
            })
            .await?;
        Ok(HubMarks { marks, committed })
    }

    /// Fails when the standby's read of its own edits holds changes it
    /// integrated: its adapter (a plugin older than the standby hub) does
    /// not tell them apart, and uploading them would send them round.
    pub(super) fn require_local_only(&self, s: &dyn Node, local: &ChangeSet) -> Result<()> {
        let foreign = local
            .tables
            .values()
            .flat_map(|t| &t.events)
            .find(|e| e.stamp.origin != s.name());
        match foreign {
            None => Ok(()),
            Some(e) => Err(Error::Deployment(format!(
                "node '{}' cannot be the standby: its adapter '{}' read a change it integrated \
                 from '{}' as its own (a plugin older than the standby hub); update the plugin \
                 or make the node a spoke",
                s.name(),
                s.adapter(),
                e.stamp.origin
            ))),
        }
    }

    /// After a round of the standby `s` wrote its side: records where its
    /// own edits may still be missing from the hub, copies the hub's
    /// watermarks the round has covered, and says what the spokes'
    /// watermarks of the standby may become.
    ///
    /// `since` is where the round read the standby's edits from, `hub_end`
    /// where it read the hub up to, `uploaded` a hub position past its
    /// upload and `mirror_start` the standby's position before it wrote.
    pub(super) async fn after_standby_round(
        &self,
        s: &dyn Node,
        marks: HubMarks,
        (since, hub_end): (Watermark, Watermark),
        (uploaded, mirror_start): (Watermark, Watermark),
    ) -> Result<Mirrored> {
        let hub = self.hub().name();
        let (floor_row, uploaded_row) = (floor_peer(hub), uploaded_peer(hub));
        let before = s.peer_watermark(&uploaded_row).await?;
        // The edits uploaded before are within what this round read of the
        // hub once their uploads are: then only this round's may be missing.
        let floor = match before {
            Some(position) if position <= hub_end => since,
            Some(_) => s
                .peer_watermark(&floor_row)
                .await?
                .unwrap_or_default()
                .min(since),
            // Its first round as the standby: whether what it uploaded as
            // a spoke is within what the hub was read up to is unknown.
            None => Watermark::default(),
        };
        // The upload's end first: stopped between the two, the floor stays
        // lower than it need be, never higher.
        if before != Some(uploaded) {
            write_mark(s, &uploaded_row, uploaded).await?;
        }
        if s.peer_watermark(&floor_row).await? != Some(floor) {
            write_mark(s, &floor_row, floor).await?;
        }
        if marks.committed <= hub_end {
            for (spoke, mark) in marks.marks {
                if s.peer_watermark(&spoke).await?.is_none_or(|m| m < mark) {
                    write_mark(s, &spoke, mark).await?;
                }
            }
        }
        Ok(Mirrored {
            hub_end,
            standby_from: mirror_start.min(floor),
        })
    }

    /// Refuses the first round of spoke `s` with a promoted hub when it
    /// would compare `s` whole although `s` synced with the other node of
    /// the pair (it has a watermark of the standby): such a round takes
    /// every change `s` captured as new, and changes the old hub had long
    /// passed on would overwrite later ones. It happens only to a spoke
    /// that never synced while the standby was in place; `--force`
    /// ([`super::EngineOptions::force_whole`]) lets it go ahead.
    pub(super) async fn refuse_whole_after_failover(&self, s: &dyn Node) -> Result<()> {
        let Some(standby) = self.standby() else {
            return Ok(());
        };
        if self.options.force_whole || s.name() == standby {
            return Ok(());
        }
        if s.peer_watermark(standby).await?.is_none() {
            return Ok(());
        }
        Err(Error::Setup(format!(
            "spoke '{}' has no watermark of the hub '{}' but one of its standby '{standby}': \
             it never synced while the standby was in place, so its first round with '{}' \
             would compare it whole and take every change it captured as new, over later \
             ones; promote '{standby}' back once it can be reached, or run `hetsync sync \
             --node {} --force` to compare it whole anyway",
            s.name(),
            self.hub().name(),
            self.hub().name(),
            s.name()
        )))
    }

    /// After a pass whose standby rounds left `mirrored` (in the order they
    /// ran): every connected spoke that has integrated the hub up to where
    /// one of them read it gets its watermark of the standby moved forward.
    /// A spoke whose changes the standby has no watermark of yet gets none:
    /// promoted, the standby compares it whole.
    pub(super) async fn mark_standby_on_spokes(&self, mirrored: &[Mirrored]) -> Result<()> {
        let Some(standby) = self.standby() else {
            return Ok(());
        };
        let standby_node = self.spoke(standby)?;
        for spoke in self.spokes().filter(|n| n.name() != standby) {
            let Some(at_hub) = spoke.peer_watermark(self.hub().name()).await? else {
                continue;
            };
            let Some(from) = mirrored
                .iter()
                .rev()
                .find(|m| m.hub_end <= at_hub)
                .map(|m| m.standby_from)
            else {
                continue;
            };
            if standby_node.peer_watermark(spoke.name()).await?.is_none() {
                continue;
            }
            if spoke
                .peer_watermark(standby)
                .await?
                .is_none_or(|current| current < from)
            {
                write_mark(spoke, standby, from).await?;
            }
        }
        Ok(())
    }
}
