//! `hetsync run`: the long-running service. Each spoke has its own
//! schedule (`[sync] interval`, or the node's `interval`): when it is due,
//! its rounds run until it has what was final when they began (as one
//! `sync --node` does), and it is due again an interval later. A spoke
//! whose round fails is tried again after a delay that doubles with each
//! failure in a row ([`Schedule`]), and the engine is opened afresh, so a
//! node that comes back is connected again; the other spokes keep their own
//! schedules. With `[sync] retention`, tracking rows are purged after a
//! spoke's rounds at most once an hour.
//!
//! The first SIGTERM or SIGINT lets the round under way finish, then the
//! service exits 0; a second one ends it at once (exit 130), which crash
//! safety covers like any interrupted round.

use crate::cli::Cli;
use crate::monitor::Monitor;
use crate::output;
use crate::setup::{exit, open_engine};
use anyhow::Result;
use hetsync_adapter_sqlite::SqliteStateStore;
use hetsync_core::engine::{Engine, EngineOptions, SyncPass};
use hetsync_core::state::StateStore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

mod push;

/// The longest a failing spoke waits between tries.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// How often tracking rows are purged at most.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// When each spoke's next rounds are due.
#[derive(Debug)]
pub struct Schedule {
    spokes: Vec<SpokeClock>,
}

#[derive(Debug)]
struct SpokeClock {
    name: String,
    interval: Duration,
    next: Instant,
    failures: u32,
}

impl Schedule {
    /// Every spoke due at `now`, each with its interval.
    pub fn new(spokes: Vec<(String, Duration)>, now: Instant) -> Schedule {
        Schedule {
            spokes: spokes
                .into_iter()
                .map(|(name, interval)| SpokeClock {
                    name,
                    interval,
                    next: now,
                    failures: 0,
                })
                .collect(),
        }
    }

    /// The spoke due first and when; `None` without spokes.
    pub fn next_due(&self) -> Option<(&str, Instant)> {
        self.spokes
            .iter()
            .min_by_key(|s| s.next)
            .map(|s| (s.name.as_str(), s.next))
    }

    fn clock(&mut self, spoke: &str) -> &mut SpokeClock {
        self.spokes
            .iter_mut()
            .find(|s| s.name == spoke)
            .expect("a scheduled spoke")
    }

    /// A spoke's rounds succeeded at `now`: due again an interval later.
    pub fn succeeded(&mut self, spoke: &str, now: Instant) {
        let clock = self.clock(spoke);
        clock.failures = 0;
        clock.next = now + clock.interval;
    }

    /// Push mode: a change for `spoke` was committed; due at `at` unless
    /// due sooner. A failing spoke keeps its backoff.
    pub fn hurry(&mut self, spoke: &str, at: Instant) {
        if let Some(clock) = self.spokes.iter_mut().find(|s| s.name == spoke) {
            if clock.failures == 0 && clock.next > at {
                clock.next = at;
            }
        }
    }

    /// The scheduled spokes.
    fn names(&self) -> Vec<String> {
        self.spokes.iter().map(|s| s.name.clone()).collect()
    }

    /// A spoke's rounds failed at `now`: due again after its interval
    /// doubled once per failure in a row (the interval itself after the
    /// first), at most [`MAX_BACKOFF`] or the interval if that is longer.
    /// Returns the delay.
    pub fn failed(&mut self, spoke: &str, now: Instant) -> Duration {
        let clock = self.clock(spoke);
        let doublings = clock.failures.min(16);
        clock.failures += 1;
        let delay = clock
            .interval
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF.max(clock.interval));
        clock.next = now + delay;
        delay
    }
}

/// The signals that stop the service: the first asks for a stop after the
/// round under way, a second ends the process at once.
#[derive(Clone, Default)]
struct Shutdown {
    requested: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Shutdown {
    /// Listens for SIGTERM and SIGINT (Ctrl-C where there is no SIGTERM).
    fn listen() -> Result<Shutdown> {
        let shutdown = Shutdown::default();
        let mut signals = Signals::new()?;
        let on_signal = shutdown.clone();
        tokio::spawn(async move {
            signals.next().await;
            on_signal.requested.store(true, Ordering::SeqCst);
            on_signal.notify.notify_waiters();
            crate::say!(
                "hetsync run: stopping after the round under way (a second signal stops at once)"
            );
            signals.next().await;
            eprintln!("hetsync run: stopped at once; the round under way is left to crash safety");
            std::process::exit(130);
        });
        Ok(shutdown)
    }

    fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Waits until `until`, or less when a stop is asked for.
    async fn sleep_until(&self, until: Instant) {
        // Made before the check: it takes a stop asked for from here on.
        let notified = self.notify.notified();
        if self.requested() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(until) => {}
            _ = notified => {}
        }
    }
}

/// SIGTERM and SIGINT; Ctrl-C where there is no SIGTERM.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the service until a signal stops it; with `listen`, serves its
/// metrics, health and status page there ([`crate::monitor`]).
pub async fn run(cli: &Cli, listen: Option<&str>, max_lag: Option<Duration>) -> Result<u8> {
    let config = hetsync_config::load(&cli.config)?;
    let monitoring = match listen {
        Some(addr) => Some(Monitoring::start(&config, addr, max_lag).await?),
        None => None,
    };
    let spokes: Vec<(String, Duration)> = config
        .nodes
        .iter()
        .filter(|n| n.role == hetsync_config::Role::Spoke)
        .map(|n| (n.name.clone(), n.interval.unwrap_or(config.sync.interval)))
        .collect();
    let shutdown = Shutdown::listen()?;
    crate::say!(
        "hetsync run: {} spoke(s), rounds every {} (SIGTERM or Ctrl-C stops after the round under way)",
        spokes.len(),
        humantime(config.sync.interval)
    );
    let hub = config.hub().name.clone();
    // Polling a node that cannot tell of its commits slows down to this.
    let max_poll = spokes
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap_or(config.sync.interval)
        .min(push::MAX_POLL);
    let mut schedule = Schedule::new(spokes, Instant::now());
    let commits = push::Commits::default();
    let mut opened: Option<Opened> = None;
    let mut last_purge: Option<Instant> = None;
    while let Some((spoke, due)) = schedule.next_due() {
        let spoke = spoke.to_string();
        tokio::select! {
            _ = shutdown.sleep_until(due) => {}
            _ = commits.wait(), if config.sync.push => {
                let at = Instant::now() + config.sync.debounce;
                for node in commits.take() {
                    // The hub's changes are for every spoke.
                    for s in schedule.names() {
                        if node == hub || node == s {
                            schedule.hurry(&s, at);
                        }
                    }
                }
                continue;
            }
        }
        if shutdown.requested() {
            break;
        }
        let current = match opened.take() {
            Some(current) => current,
            None => match open_for_run(cli).await {
                Ok(engine) => Opened::new(engine, config.sync.push.then_some((&commits, max_poll))),
                Err(e) => {
                    if let Some(monitoring) = &monitoring {
                        monitoring.not_opened(&spoke, &e);
                    }
                    let delay = schedule.failed(&spoke, Instant::now());
                    eprintln!(
                        "hetsync run: cannot open the deployment for {spoke}: {e:#}; next try in {}",
                        humantime(delay)
                    );
                    continue;
                }
            },
        };
        let pass = current
            .engine
            .sync_pass(std::slice::from_ref(&spoke))
            .await?;
        if let Some(monitoring) = &monitoring {
            monitoring.passed(&current.engine, &spoke, &pass).await;
        }
        let uploaded = pass
            .rounds
            .iter()
            .any(|r| r.uploaded.values().any(|c| c.upserts + c.deletes > 0));
        // An idle round says nothing (the log has it at `info`).
        let eventful: Vec<_> = pass
            .rounds
            .into_iter()
            .filter(|r| r.rows_moved() > 0 || !r.conflicts.is_empty() || r.parked > 0)
            .collect();
        output::print_rounds(&eventful);
        if !pass.failed.is_empty() {
            let delay = schedule.failed(&spoke, Instant::now());
            for (spoke, e) in &pass.failed {
                eprintln!(
                    "hetsync run: round failed for {spoke}: {e}; next try in {}",
                    humantime(delay)
                );
            }
            // Opened afresh for the next round: a node may be back.
            continue;
        }
        schedule.succeeded(&spoke, Instant::now());
        // What it brought to the hub is for the other spokes too, now: it
        // is committed, there is no burst to wait for.
        if config.sync.push && uploaded {
            let now = Instant::now();
            for other in schedule.names().iter().filter(|s| **s != spoke) {
                schedule.hurry(other, now);
            }
        }
        if let Some(retention) = config.sync.retention {
            if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                last_purge = Some(Instant::now());
                match current.engine.purge(retention).await {
                    Ok(purged) => output::print_purged(&purged),
                    Err(e) => eprintln!("hetsync run: purging tracking rows failed: {e}"),
                }
            }
        }
        opened = Some(current);
    }
    crate::say!("hetsync run: stopped");
    Ok(exit::OK)
}

/// What the service shows on its listener: the [`Monitor`], fed after
/// each spoke's rounds with their reports, the statuses of the hub and the
/// spoke, and the parked changes.
struct Monitoring {
    monitor: Arc<Monitor>,
    state: SqliteStateStore,
    hub: String,
}

impl Monitoring {
    /// Starts serving on `addr` and says where.
    async fn start(
        config: &hetsync_config::Config,
        addr: &str,
        max_lag: Option<Duration>,
    ) -> Result<Monitoring> {
        let monitor = Arc::new(Monitor::new(config, max_lag));
        let local = crate::monitor::serve(addr, monitor.clone()).await?;
        crate::say!(
            "hetsync run: status page on http://{local}/, metrics on http://{local}/metrics, \
             health on http://{local}/health"
        );
        Ok(Monitoring {
            monitor,
            state: SqliteStateStore::open(&config.state_path).await?,
            hub: config.hub().name.clone(),
        })
    }

    /// The deployment could not be opened for `spoke`'s rounds: the hub
    /// is unreachable (or a plugin or the mapping failed).
    fn not_opened(&self, spoke: &str, error: &anyhow::Error) {
        let error = format!("{error:#}");
        self.monitor.node_unreachable(&self.hub, &error);
        self.monitor
            .rounds_finished(&[], &[(spoke.to_string(), error)]);
    }

    /// `spoke`'s rounds ended with `pass`.
    async fn passed(&self, engine: &Engine, spoke: &str, pass: &SyncPass) {
        let failed: Vec<(String, String)> = pass
            .failed
            .iter()
            .map(|(spoke, e)| (spoke.clone(), e.to_string()))
            .collect();
        self.monitor.rounds_finished(&pass.rounds, &failed);
        for node in [engine.hub().name(), spoke] {
            match engine.node_status(node).await {
                Ok(status) => self.monitor.node_read(status),
                Err(e) => tracing::warn!(node, error = %e, "reading the status for the monitor"),
            }
        }
        match self.state.parked(None).await {
            Ok(parked) => self.monitor.parked(parked),
            Err(e) => tracing::warn!(error = %e, "reading the parked changes for the monitor"),
        }
    }
}

/// The deployment as the service opened it, with push mode's watchers of
/// its nodes (stopped when it is dropped).
struct Opened {
    engine: Arc<Engine>,
    _watchers: Option<push::Watchers>,
}

impl Opened {
    /// `engine`, its nodes watched for commits when `push` says where to
    /// tell of them and how slowly to poll at most.
    fn new(engine: Engine, push: Option<(&push::Commits, Duration)>) -> Opened {
        let engine = Arc::new(engine);
        let watchers = push.map(|(commits, max_poll)| push::watch(&engine, commits, max_poll));
        Opened {
            engine,
            _watchers: watchers,
        }
    }
}

/// The engine of the deployment, with no purge after each pass: purges
/// run on their own clock ([`PURGE_EVERY`]).
async fn open_for_run(cli: &Cli) -> Result<Engine> {
    let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
    let options = EngineOptions {
        retention: None,
        ..engine.options().clone()
    };
    Ok(engine.with_options(options))
}

/// A duration as an operator writes it ("30s", "2m", "1h", "250ms").
fn humantime(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        ms if ms % 3_600_000 == 0 && ms > 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 && ms > 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spokes_keep_their_own_clocks_and_failures_back_off_to_a_cap() {
        let start = Instant::now();
        let s = |n: u64| Duration::from_secs(n);
        let mut schedule = Schedule::new(vec![("a".into(), s(30)), ("b".into(), s(60))], start);
        assert_eq!(schedule.next_due().map(|d| d.1), Some(start));
        schedule.succeeded("a", start);
        assert_eq!(schedule.next_due(), Some(("b", start)));
        let delays: Vec<Duration> = (0..8).map(|_| schedule.failed("b", start)).collect();
        assert_eq!(
            delays,
            [60, 120, 240, 480, 600, 600, 600, 600].map(s),
            "doubled per failure in a row, at most ten minutes"
        );
        // b's failures leave a's clock alone.
        assert_eq!(schedule.next_due(), Some(("a", start + s(30))));
        schedule.succeeded("b", start);
        assert_eq!(schedule.failed("b", start), s(60), "a success resets it");
        // An interval longer than the cap is the cap.
        let mut slow = Schedule::new(vec![("c".into(), s(3600))], start);
        assert_eq!(slow.failed("c", start), s(3600));
        assert_eq!(slow.failed("c", start), s(3600));
    }

    #[test]
    fn durations_print_as_written() {
        let cases = [
            (30_000, "30s"),
            (120_000, "2m"),
            (3_600_000, "1h"),
            (250, "250ms"),
        ];
        for (ms, text) in cases {
            assert_eq!(humantime(Duration::from_millis(ms)), text);
        }
    }
}
