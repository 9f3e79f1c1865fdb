//! One pull round of a spoke:
//! 1. read the spoke's changes since the hub last integrated them;
//! 2. read the hub's changes since the spoke last integrated them;
//! 3. plan (pure);
//! 4. apply uploads at the hub, with the spoke's new watermark, in one transaction;
//! 5. apply downloads at the spoke, with the hub's new watermark, in one transaction.
//!
//! Each watermark is stored on the node that integrated the changes, in the
//! same transaction, so a round stopped anywhere either left a side untouched
//! or recorded exactly what it integrated: rerunning reads precisely what is
//! still missing. A row the round writes that was edited after it was read
//! is settled by the applying node under a row lock (the later change wins,
//! see [`crate::plan::settle`]); nothing starts over. A step that fails with
//! a retryable error (a deadlock, a busy database, a race the guard caught)
//! is retried alone, with backoff.

use super::park::{refused, Parking};
use super::standby::Mirrored;
use super::{Backup, Engine, FaultPoint};
use crate::adapter::Node;
use crate::change::{
    ApplyBatch, ApplyOutcome, ChangeSet, ConflictLog, PeerMark, ReadRange, RowOp, TableChanges,
    TrackingEntry, Watermark,
};
use crate::code::CombinedCode;
use crate::plan::settle::Settle;
use crate::plan::{plan_round, Conflict, OpCounts, Peers, RoundPlan, Side, TableCounts, TablePlan};
use crate::report::{RoundReport, SyncMode};
use crate::schema::SyncTable;
use crate::Result;
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::time::Instant;

/// How long to wait before retry number `retry` (from 1): 50 ms doubling up
/// to 1.6 s, less a varying part so concurrent rounds do not retry in step.
fn backoff(retry: u32) -> std::time::Duration {
    let base = 50u64 << retry.saturating_sub(1).min(5);
    let spread = u64::from(std::process::id() ^ retry.wrapping_mul(2_654_435_761)) % (base / 2 + 1);
    std::time::Duration::from_millis(base - spread)
}

/// What a round keeps while it runs: its id (the prefix of its conflicts'
/// uids), how many batches it sent, how many steps it retried, and the
/// round as far as the hub's commit once that landed (what a round that
/// fails later has done).
pub(super) struct RoundRun {
    id: String,
    batches: u32,
    retries: u32,
    committed: Option<RoundReport>,
    /// The changes it parked: node, table and code.
    pub(super) parked: HashSet<(String, String, CombinedCode)>,
    /// The nodes it backed up before writing to them (`[sync] backup =
    /// "file"`), each with its copy where it is one file.
    pub(super) backed_up: BTreeMap<String, Option<std::path::PathBuf>>,
    /// A round of the standby: what it leaves for the spokes' watermarks
    /// of the standby.
    mirrored: Option<Mirrored>,
}

impl RoundRun {
    pub(super) fn new() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static ROUNDS: AtomicU64 = AtomicU64::new(0);
        RoundRun {
            id: format!(
                "{:x}-{:x}-{}",
                chrono::Utc::now().timestamp_micros(),
                std::process::id(),
                ROUNDS.fetch_add(1, Ordering::Relaxed)
            ),
            batches: 0,
            retries: 0,
            committed: None,
            parked: HashSet::new(),
            backed_up: BTreeMap::new(),
            mirrored: None,
        }
    }

    /// The round's id.
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    /// How often a step was retried so far.
    pub(super) fn retries(&self) -> u32 {
        self.retries
    }

    /// The conflict log of the round's next batch: `conflicts` (the
    /// engine's decisions) get uids, and the node numbers its own after
    /// the batch's prefix.
    pub(super) fn log(&mut self, mut conflicts: Vec<Conflict>) -> ConflictLog {
        self.batches += 1;
        let prefix = format!("{}/{}/", self.id, self.batches);
        for (n, c) in conflicts.iter_mut().enumerate() {
            c.uid = Some(format!("{prefix}e{n}"));
        }
        ConflictLog {
            conflicts,
            prefix: format!("{prefix}n"),
        }
    }
}

impl Engine {
    /// Runs one step of a round, retrying it alone while it fails with a
    /// retryable error, up to `max_retries` times with backoff.
    pub(super) async fn step<T, F, Fut>(
        &self,
        node: &str,
        what: &str,
        run: &mut RoundRun,
        mut step: F,
    ) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut tries = 0;
        loop {
            match step(tries).await {
                Err(e) if e.is_retryable() && tries < self.options.max_retries => {
                    tries += 1;
                    run.retries += 1;
                    let wait = backoff(tries);
                    tracing::warn!(
                        node,
                        step = what,
                        error = %e,
                        retry = tries,
                        wait_ms = wait.as_millis() as u64,
                        "step retried"
                    );
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// Runs one round of `spoke` against the hub, holding the hub's
    /// integration lock. It reads [`super::EngineOptions::round_events`]
    /// per side at most ([`RoundReport::more`] says when it stopped there);
    /// [`Engine::sync_pass`] runs rounds until a spoke has caught up.
    pub async fn sync_spoke(&self, spoke: &str) -> Result<RoundReport> {
        self.round(spoke, None).await.map(|(report, _, _)| report)
    }

    /// Runs one round of `spoke` reading up to `ends` at most; with the
    /// report, the ends for the next round when this one stopped at its
    /// event limit (those it was given, or where it found the final
    /// changes to end), and for a round of the standby what it mirrored.
    pub(super) async fn round(
        &self,
        spoke: &str,
        ends: Option<Ends>,
    ) -> Result<(RoundReport, Option<Ends>, Option<Mirrored>)> {
        let s = self.spoke(spoke)?;
        let _lock = self.hub().lock_integration().await?;
        let mut run = RoundRun::new();
        match self.try_round(s, &mut run, ends).await {
            Err(e) => {
                if let Some(state) = &self.state {
                    let committed = run.committed.as_mut().map(|r| {
                        r.retries = run.retries;
                        &*r
                    });
                    state
                        .record_failure(spoke, &e.to_string(), committed)
                        .await?;
                }
                Err(e)
            }
            Ok((mut report, rest)) => {
                report.retries = run.retries;
                self.record(s, &report).await?;
                tracing::info!(
                    spoke,
                    mode = ?report.mode,
                    moved = report.rows_moved(),
                    conflicts = report.conflicts.len(),
                    retries = report.retries,
                    more = report.more,
                    "round finished"
                );
                Ok((report, rest, run.mirrored))
            }
        }
    }

    /// Records a finished round (or repair) of spoke `s`; the conflicts it
    /// logged may then be forgotten by the nodes.
    pub(super) async fn record(&self, s: &dyn Node, report: &RoundReport) -> Result<()> {
        if let Some(state) = &self.state {
            state.record_round(report).await?;
        }
        // Logged (or handed to the caller): the nodes may forget them.
        let uids: Vec<String> = report
            .conflicts
            .iter()
            .filter_map(|c| c.uid.clone())
            .collect();
        if !uids.is_empty() {
            for node in [self.hub(), s] {
                // Left there, they are read again next round and logged no
                // second time (the log keys them by uid).
                if let Err(e) = node.forget_conflicts(&uids).await {
                    tracing::warn!(node = node.name(), error = %e, "forgetting logged conflicts");
                }
            }
        }
        Ok(())
    }

    async fn fault(&self, spoke: &dyn Node, point: FaultPoint) -> Result<()> {
        self.faults.reached(spoke.name(), point).await
    }

    /// Reads both sides of a round of `s` and plans it; writes nothing.
    /// With `refused_kept`, changes a read left out are kept in
    /// [`Planned::parking`] whatever `[sync] on_error` says (a preview
    /// reports them instead of stopping on the first).
    pub(super) async fn read_and_plan<'e>(
        &'e self,
        s: &dyn Node,
        run: &mut RoundRun,
        ends: Option<Ends>,
        refused_kept: bool,
    ) -> Result<Planned<'e>> {
        let hub = self.hub();
        let started = Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let recorded_spoke_mark = self
            .step(hub.name(), "reading a watermark", run, |_| {
                hub.peer_watermark(s.name())
            })
            .await?;
        let spoke_mark = recorded_spoke_mark.unwrap_or_default();
        let hub_mark = self
            .step(s.name(), "reading a watermark", run, |_| {
                s.peer_watermark(hub.name())
            })
            .await?;
        let full = hub_mark.is_none();
        if full {
            self.refuse_whole_after_failover(s).await?;
        }
        let stale = self.stale(s, hub_mark, run).await?;
        let mode = super::stale::mode(full, stale.is_some());
        // Tables without a first full comparison with this spoke (all of
        // them in its first round; later, tables added to the configuration)
        // are compared whole in this round, which then records them.
        let synced = match full {
            true => None,
            false => {
                self.step(s.name(), "reading the synced tables", run, |_| {
                    s.synced_tables(hub.name())
                })
                .await?
            }
        };
        let mut compare_whole: Vec<&SyncTable> = match (full, &synced) {
            (true, _) => self.tables.iter().collect(),
            // Recorded before tables were: every table then configured had
            // its full comparison.
            (false, None) => Vec::new(),
            (false, Some(synced)) => self.not_compared(synced),
        };
        // The record changes when a table is compared now or left the
        // configuration (the list holds each configured table once).
        let record_tables = synced
            .as_ref()
            .is_none_or(|synced| !compare_whole.is_empty() || synced.len() != self.tables.len());

        // Conflicts a failed round made final and could not log.
        let mut conflicts = Vec::new();
        for node in [hub, s] {
            conflicts.extend(
                self.step(node.name(), "reading recorded conflicts", run, |_| {
                    node.pending_conflicts()
                })
                .await?,
            );
        }

        // A spoke's first round compares every row, and a stale spoke's
        // round resyncs it: their reads are not bounded.
        let limit = match full || stale.is_some() {
            true => None,
            false => self.options.round_events,
        };
        let mut local_range = ReadRange::since(spoke_mark)
            .until(ends.map(|e| e.spoke))
            .limit(limit);
        if self.is_standby(s.name()) {
            local_range = local_range.only_local();
        }
        let mut rewound = Vec::new();
        let local = self.read_side(s, local_range, run, &mut rewound).await?;
        if self.is_standby(s.name()) {
            self.require_local_only(s, &local)?;
        }
        if !rewound.is_empty() {
            // Its rows went back too: what it had received may be gone.
            compare_whole = self.tables.iter().collect();
        }
        // A spoke that never synced compares every row below instead of
        // replaying the hub's whole history. The spoke's own changes come
        // back as nothing but echoes: the hub integrates one spoke at a time,
        // so no other change to the same field can land after one unseen.
        // The hub is read up to its current end, the pass's own earlier
        // writes there (left out as this spoke's) included: its watermark on
        // the spoke then passes them, so neither the next read nor the
        // guard of the next write to the hub reads past them again. Only
        // the changes up to where the pass's first round found the hub's
        // final changes ending keep the pass going ([`Ends`]).
        let remote = match hub_mark {
            Some(mark) => {
                let range = ReadRange::since(mark).limit(limit).excluding(s.name());
                self.read_side(hub, range, run, &mut rewound).await?
            }
            None => ChangeSet {
                upto: self
                    .step(hub.name(), "reading the position", run, |_| hub.position())
                    .await?,
                ..ChangeSet::default()
            },
        };
        let read_ms = started.elapsed().as_millis();
        let hub_end = ends.map_or(remote.rest.unwrap_or(remote.upto), |e| e.hub);
        let hub_more = remote.rest.is_some() && remote.upto < hub_end;
        let rest = (local.rest.is_some() || hub_more).then(|| {
            ends.unwrap_or(Ends {
                spoke: local.rest.unwrap_or(local.upto),
                hub: hub_end,
            })
        });
        let (mut local, mut remote) = (local, remote);
        let mut parking = Parking::new();
        self.take_refused(&mut local, s.name(), &mut parking, refused_kept)?;
        self.take_refused(&mut remote, hub.name(), &mut parking, refused_kept)?;
        let parked_before = self
            .retry_parked(s, &mut local, &mut remote, &mut parking)
            .await?;
        let held = self.hold(s.name(), stale, &parked_before, &mut local, &mut remote);
        self.complete_rows(s, &mut local, &mut remote, &mut parking, run)
            .await?;
        let complete_ms = started.elapsed().as_millis();
        self.fault(s, FaultPoint::AfterRead).await?;

        let peers = Peers {
            spoke: s.name(),
            hub: hub.name(),
            absent_deletes: self.standby.is_some(),
        };
        let plan = plan_round(&self.tables, peers, &local, &remote);
        Ok(Planned {
            started,
            started_at,
            spoke_mark,
            spoke_unmarked: recorded_spoke_mark.is_none(),
            hub_mark,
            mode,
            compare_whole,
            record_tables,
            conflicts,
            local,
            remote,
            rest,
            parking,
            held,
            stale: stale.is_some(),
            parked_before,
            plan,
            rewound,
            read_ms,
            complete_ms,
        })
    }

    async fn try_round(
        &self,
        s: &dyn Node,
        run: &mut RoundRun,
        ends: Option<Ends>,
    ) -> Result<(RoundReport, Option<Ends>)> {
        let hub = self.hub();
        let standby = self.is_standby(s.name());
        let hub_marks = match standby {
            true => Some(self.hub_marks(s, run).await?),
            false => None,
        };
        let Planned {
            started,
            started_at,
            spoke_mark,
            spoke_unmarked,
            hub_mark,
            mode,
            compare_whole,
            record_tables,
            mut conflicts,
            local,
            remote,
            rest,
            parking,
            held,
            stale,
            parked_before,
            mut plan,
            rewound,
            read_ms,
            complete_ms,
        } = self.read_and_plan(s, run, ends, false).await?;
        self.fault(s, FaultPoint::AfterPlan).await?;
        self.park(s.name(), &parking, run).await?;
        self.hold_parked(s.name(), &held, run).await?;

        let hub_tracking = plan
            .tables
            .iter_mut()
            .flat_map(|(_, p)| std::mem::take(&mut p.hub_tracking))
            .collect();
        let log = run.log(plan.conflicts().cloned().collect());
        conflicts.extend(log.conflicts.iter().cloned());
        let (up, up_counts) = batch(
            &mut plan,
            |p| (&mut p.upload, None),
            hub_tracking,
            PeerMark {
                peer: s.name().to_string(),
                watermark: local.upto,
                tables: None,
            },
            (remote.upto, self.settle(Side::Hub), log),
        );
        let mut hub_written = ApplyOutcome::default();
        // The standby's watermark is on the hub from its first round on:
        // when the hub comes back as the standby of the promoted one, its
        // rounds read the new hub from there (without one, it would be
        // compared whole, its edits the new hub superseded taken as new).
        if !up.has_no_rows() || local.upto != spoke_mark || (standby && spoke_unmarked) {
            hub_written = self.apply_parking(hub, up, s.name(), s.name(), run).await?;
            conflicts.append(&mut hub_written.conflicts);
        }
        let hub_applied_ms = started.elapsed().as_millis();
        // The hub's side is final: a failure from here on reports it.
        run.committed = Some(RoundReport {
            id: run.id.clone(),
            spoke: s.name().to_string(),
            hub: hub.name().to_string(),
            mode,
            started_at,
            duration_ms: hub_applied_ms as u64,
            events_read: (count_events(&local), count_events(&remote)),
            uploaded: up_counts.clone(),
            downloaded: TableCounts::new(),
            hub_written: hub_written.clone(),
            spoke_written: ApplyOutcome::default(),
            conflicts: conflicts.clone(),
            spoke_watermark: local.upto,
            hub_watermark: hub_mark.unwrap_or_default(),
            retries: 0,
            follow_up: false,
            more: rest.is_some(),
            compared_whole: compare_whole.iter().map(|t| t.name.clone()).collect(),
            rewound,
            parked: run.parked.len() as u64,
            backups: Vec::new(),
        });
        self.fault(s, FaultPoint::AfterHubApply).await?;

        let mut spoke_written = ApplyOutcome::default();
        let mut downloaded = TableCounts::new();
        let mut uploaded = up_counts;
        if !compare_whole.is_empty() {
            let full = self
                .reconcile(s, &compare_whole, local.upto, remote.upto, run)
                .await?;
            add_outcome(&mut spoke_written, full.spoke_written);
            add_outcome(&mut hub_written, full.hub_written);
            merge_counts(&mut downloaded, full.downloaded);
            merge_counts(&mut uploaded, full.uploaded);
        }
        if stale {
            // Before the spoke's watermark of the hub passes the purged
            // history: a resync stopped here is done again next round.
            let tables: Vec<&SyncTable> = self
                .tables
                .iter()
                .filter(|t| !compare_whole.iter().any(|c| c.name == t.name))
                .collect();
            let untouched = self.untouched(s, &parked_before, run, &plan)?;
            let resynced = self.resync(s, &tables, &untouched, local.upto, run).await?;
            add_outcome(&mut spoke_written, resynced.written);
            merge_counts(&mut downloaded, resynced.downloaded);
            conflicts.extend(resynced.conflicts);
        }

        // The standby records what it downloads with the original stamps,
        // as the hub records uploads; and where it stood before.
        let standby_positions = match standby {
            true => Some((
                self.step(hub.name(), "reading the position", run, |_| {
                    hub.committed_position()
                })
                .await?,
                self.step(s.name(), "reading the position", run, |_| s.position())
                    .await?,
            )),
            false => None,
        };
        let (mut down, down_counts) = batch(
            &mut plan,
            |p| (&mut p.download, Some(&mut p.download_stamps)),
            Vec::new(),
            PeerMark {
                peer: hub.name().to_string(),
                watermark: remote.upto,
                tables: record_tables.then(|| self.tables.iter().map(|t| t.name.clone()).collect()),
            },
            (local.upto, self.settle(Side::Spoke), run.log(Vec::new())),
        );
        merge_counts(&mut downloaded, down_counts);
        if standby {
            down.tracking = std::mem::take(&mut down.stamps);
        }
        if !down.has_no_rows() || hub_mark != Some(remote.upto) || record_tables {
            let mut written = self
                .apply_parking(s, down, hub.name(), s.name(), run)
                .await?;
            conflicts.append(&mut written.conflicts);
            add_outcome(&mut spoke_written, written);
        }
        conflicts.append(&mut hub_written.conflicts);
        conflicts.append(&mut spoke_written.conflicts);
        if let (Some(marks), Some(positions)) = (hub_marks, standby_positions) {
            run.mirrored = Some(
                self.after_standby_round(s, marks, (spoke_mark, remote.upto), positions)
                    .await?,
            );
        }
        self.fault(s, FaultPoint::AfterSpokeApply).await?;
        tracing::debug!(
            spoke = s.name(),
            read_ms,
            complete_ms,
            hub_applied_ms,
            done_ms = started.elapsed().as_millis(),
            "round phases (milliseconds since the round started)"
        );

        let mut report = run.committed.take().expect("set at the hub's commit");
        report.duration_ms = started.elapsed().as_millis() as u64;
        report.uploaded = uploaded;
        report.downloaded = downloaded;
        report.hub_written = hub_written;
        report.spoke_written = spoke_written;
        report.conflicts = conflicts;
        report.hub_watermark = remote.upto;
        report.parked = run.parked.len() as u64;
        report.backups = run
            .backed_up
            .values()
            .flatten()
            .map(|p| p.display().to_string())
            .collect();
        self.settle_parked(s, &parked_before, &local, &remote)
            .await?;
        Ok((report, rest))
    }
}

/// Where a spoke's rounds in one `sync` go on to, per side: where the final
/// changes ended when the first of them read, so that a backlog drains in
/// rounds of bounded size and writers that keep going cannot keep the
/// `sync` running. The spoke is read up to there at most; the hub up to its
/// current end (a round that stops short of it goes on only while it is
/// short of this end too).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ends {
    spoke: Watermark,
    hub: Watermark,
}

/// What a round read and planned before writing anything
/// ([`Engine::read_and_plan`]).
pub(super) struct Planned<'e> {
    pub started: Instant,
    pub started_at: String,
    /// The spoke's watermark on the hub: where its changes are read from.
    pub spoke_mark: Watermark,
    /// The hub has recorded no watermark of the spoke yet.
    pub spoke_unmarked: bool,
    /// The hub's watermark on the spoke; `None` before its first round.
    pub hub_mark: Option<Watermark>,
    pub mode: SyncMode,
    /// Tables compared whole in this round (all in a first round).
    pub compare_whole: Vec<&'e SyncTable>,
    /// Whether the round records the spoke's synced tables.
    pub record_tables: bool,
    /// Conflicts a failed round made final and could not log.
    pub conflicts: Vec<Conflict>,
    /// The spoke's changes, with the rows of both sides.
    pub local: ChangeSet,
    /// The hub's changes, with the rows of both sides.
    pub remote: ChangeSet,
    /// Where the spoke's rounds go on to, when this one stopped short.
    pub rest: Option<Ends>,
    /// The changes left out, by node.
    pub parking: Parking,
    /// The spoke's changes a resync holds ([`super::stale`]).
    pub held: Vec<crate::change::Refused>,
    /// The spoke is stale: the round resyncs it.
    pub stale: bool,
    /// The changes parked before, as the state store listed them.
    pub parked_before: Vec<crate::state::Parked>,
    pub plan: RoundPlan,
    /// The nodes whose tracking table went back.
    pub rewound: Vec<String>,
    /// Milliseconds from the start to the end of the reads, and of
    /// completing the rows.
    pub read_ms: u128,
    pub complete_ms: u128,
}

impl Engine {
    /// How a node on `side` of this deployment's rounds settles edits made
    /// after the round read it.
    pub(super) fn settle(&self, side: Side) -> Settle {
        Settle {
            hub: self.hub().name().to_string(),
            side,
        }
    }

    /// The configured tables not among `synced`, those a spoke has not had
    /// its first full comparison of ([`crate::adapter::Capture::synced_tables`]).
    pub(super) fn not_compared<'a>(&'a self, synced: &[String]) -> Vec<&'a SyncTable> {
        self.tables
            .iter()
            .filter(|t| !synced.contains(&t.name))
            .collect()
    }

    /// Reads `range` of `node`. When the node's tracking table went back
    /// (restored from an older backup, or recreated), its positions no
    /// longer match what was integrated: everything it holds is read
    /// instead, with a warning, and the node is added to `rewound`.
    async fn read_side(
        &self,
        node: &dyn Node,
        range: ReadRange,
        run: &mut RoundRun,
        rewound: &mut Vec<String>,
    ) -> Result<ChangeSet> {
        let changes = self
            .step(node.name(), "reading changes", run, |_| {
                node.read_changes(&self.tables, &range)
            })
            .await?;
        if !changes.behind {
            return Ok(changes);
        }
        tracing::warn!(
            node = node.name(),
            since = %range.since,
            "the node's tracking table went back (restored from an older backup, or \
             recreated): reading all of its captured changes again"
        );
        rewound.push(node.name().to_string());
        let range = ReadRange {
            since: Watermark::default(),
            until: None,
            ..range
        };
        self.step(node.name(), "reading changes", run, |_| {
            node.read_changes(&self.tables, &range)
        })
        .await
    }

    /// Applies a batch at `node`, retrying it alone on retryable errors (a
    /// fresh batch is retried as an ordinary one: rows appeared meanwhile).
    pub(super) async fn apply_batch(
        &self,
        node: &dyn Node,
        batch: ApplyBatch,
        run: &mut RoundRun,
    ) -> Result<ApplyOutcome> {
        if self.options.backup == Backup::File && !run.backed_up.contains_key(node.name()) {
            let (id, keep) = (run.id().to_string(), self.options.backup_keep);
            let copy = self
                .step(node.name(), "backing up the database file", run, |_| {
                    node.backup_file(&id, keep)
                })
                .await?;
            if let Some(path) = &copy {
                tracing::info!(node = node.name(), path = %path.display(), "database file backed up");
            }
            run.backed_up.insert(node.name().to_string(), copy);
        }
        // A node copied whole needs no rows kept.
        let copied = run.backed_up.get(node.name()).is_some_and(Option::is_some);
        if self.options.backup != Backup::None && !copied {
            self.keep_pre_images(node, &batch, run).await?;
        }
        // Made only when a fresh batch has to be retried.
        let ordinary = std::sync::OnceLock::new();
        let (batch, ordinary) = (&batch, &ordinary);
        self.step(node.name(), "applying a batch", run, |tries| {
            let this = if tries == 0 || !batch.fresh {
                batch
            } else {
                ordinary.get_or_init(|| ApplyBatch {
                    fresh: false,
                    ..batch.clone()
                })
            };
            node.apply(&self.tables, this)
        })
        .await
    }

    /// Fetches, on each side, the current rows of the codes only the other
    /// side changed, so the planner knows every changed row on both sides.
    /// When parking, a row that cannot be read leaves the other side's
    /// change of it out, parked.
    async fn complete_rows(
        &self,
        s: &dyn Node,
        local: &mut ChangeSet,
        remote: &mut ChangeSet,
        parking: &mut Parking,
        run: &mut RoundRun,
    ) -> Result<()> {
        for table in &self.tables {
            let l = local.tables.entry(table.name.clone()).or_default();
            let r = remote.tables.entry(table.name.clone()).or_default();
            let (at_hub, at_spoke) = (codes_only_in(l, r), codes_only_in(r, l));
            for (code, message) in self.fetch_into(self.hub(), table, &at_hub, r, run).await? {
                let stamp = l.take_code(&code);
                parking.push((s.name().to_string(), refused(table, code, stamp, message)));
            }
            for (code, message) in self.fetch_into(s, table, &at_spoke, l, run).await? {
                let stamp = r.take_code(&code);
                let hub = self.hub().name().to_string();
                parking.push((hub, refused(table, code, stamp, message)));
            }
        }
        Ok(())
    }

    /// Fetches the current rows of `codes` from `node` into `into.rows`.
    /// When parking, the codes whose rows cannot be read are returned with
    /// why, instead of failing the round.
    async fn fetch_into(
        &self,
        node: &dyn Node,
        table: &SyncTable,
        codes: &[CombinedCode],
        into: &mut TableChanges,
        run: &mut RoundRun,
    ) -> Result<Vec<(CombinedCode, String)>> {
        let mut unreadable = Vec::new();
        for chunk in codes.chunks(FETCH_CHUNK) {
            let (rows, mut missing) = self
                .step(node.name(), "reading rows", run, |_| {
                    self.fetch_readable(node, table, chunk)
                })
                .await?;
            unreadable.append(&mut missing);
            into.add_rows(table, rows, node.name())?;
        }
        Ok(unreadable)
    }
}

/// Codes with events in `a` but none in `b`, sorted.
fn codes_only_in(a: &TableChanges, b: &TableChanges) -> Vec<CombinedCode> {
    let in_b: HashSet<&CombinedCode> = b.events.iter().map(|e| &e.code).collect();
    let mut codes: Vec<CombinedCode> = a
        .events
        .iter()
        .map(|e| &e.code)
        .filter(|c| !in_b.contains(c))
        .cloned()
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Codes per lookup query.
const FETCH_CHUNK: usize = 10_000;

/// The events of a change set.
pub(super) fn count_events(changes: &ChangeSet) -> u64 {
    changes.tables.values().map(|t| t.events.len() as u64).sum()
}

/// The writes per table of `ops` (tables without any left out).
pub(super) fn counts<'a>(ops: impl IntoIterator<Item = (&'a String, &'a [RowOp])>) -> TableCounts {
    ops.into_iter()
        .filter(|(_, o)| !o.is_empty())
        .map(|(t, o)| (t.clone(), OpCounts::of(o)))
        .collect()
}

/// Builds the batch for one direction of a plan, taking its operations
/// (and the stamps of downloads) out.
fn batch(
    plan: &mut RoundPlan,
    ops_of: impl Fn(&mut TablePlan) -> (&mut Vec<RowOp>, Option<&mut Vec<TrackingEntry>>),
    tracking: Vec<TrackingEntry>,
    peer: PeerMark,
    (guard, settle, log): (Watermark, Settle, ConflictLog),
) -> (ApplyBatch, TableCounts) {
    let mut stamps = Vec::new();
    let ops: Vec<(String, Vec<RowOp>)> = plan
        .tables
        .iter_mut()
        .map(|(t, p)| {
            let (ops, of_stamps) = ops_of(p);
            if let Some(more) = of_stamps {
                stamps.append(more);
            }
            (t.clone(), std::mem::take(ops))
        })
        .collect();
    let c = counts(ops.iter().map(|(t, o)| (t, o.as_slice())));
    (
        ApplyBatch {
            ops,
            tracking,
            peer: Some(peer),
            guard: Some(guard),
            fresh: false,
            settle: Some(settle),
            stamps,
            log: Some(log),
        },
        c,
    )
}

pub(super) fn add_outcome(total: &mut ApplyOutcome, mut more: ApplyOutcome) {
    total.inserted += more.inserted;
    total.updated += more.updated;
    total.deleted += more.deleted;
    total.conflicts.append(&mut more.conflicts);
}

pub(super) fn merge_counts(total: &mut TableCounts, more: TableCounts) {
    for (table, c) in more {
        let t = total.entry(table).or_default();
        t.upserts += c.upserts;
        t.deletes += c.deletes;
    }
}
