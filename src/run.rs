//! `hetsync run`: the long-running service. Each spoke has its own
//! schedule (`[sync] interval`, or the node's `interval`): when it is due,
//! its rounds run until it has what was final when they began (as one
//! `sync --node` does), and it is due again an interval later. A spoke
//! whose round fails is tried again after a delay that doubles with each
//! failure in a row ([`Schedule`]), and the engine is opened afresh, so a
//! node that comes back is connected again; the other spokes keep their own
//! schedules. In push mode a commit brings a spoke's rounds forward
//! ([`push`]). With `[sync] retention`, tracking rows are purged after a
//! spoke's rounds at most once an hour.
//!
//! The first SIGTERM or SIGINT lets the round under way finish, then the
//! service exits 0; a second one ends it at once (exit 130), which crash
//! safety covers like any interrupted round. SIGHUP reads the configuration
//! again between rounds; one that does not load is refused, naming why, and
//! the service goes on as it was.

mod heartbeat;
mod monitoring;
mod push;
mod schedule;
mod signals;

use schedule::Schedule;

use crate::cli::Cli;
use crate::output;
use crate::setup::{exit, open_engine};
use anyhow::Result;
use hetsync_config::Config;
use hetsync_core::engine::{Engine, EngineOptions};
use monitoring::Monitoring;
use signals::Control;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often tracking rows are purged at most.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Runs the service until a signal stops it; with `listen`, serves its
/// metrics, health and status page there ([`crate::monitor`]).
pub async fn run(cli: &Cli, listen: Option<&str>, max_lag: Option<Duration>) -> Result<u8> {
    let config = hetsync_config::load(&cli.config)?;
    let monitoring = match listen {
        Some(addr) => Some(Monitoring::start(&config, addr, max_lag).await?),
        None => None,
    };
    let control = Control::listen()?;
    let mut service = Service::new(cli, config, monitoring);
    while let Some((spoke, due)) = service.schedule.next_due() {
        let spoke = spoke.to_string();
        tokio::select! {
            _ = control.sleep_until(due) => {}
            _ = service.commits.wait(), if service.config.sync.push => {
                service.committed();
                continue;
            }
            _ = tokio::time::sleep_until(service.heartbeat.next),
                if service.config.standby().is_some() => {
                service.beat().await;
                continue;
            }
        }
        if control.stop_requested() {
            break;
        }
        if control.take_reload() {
            service.reload(max_lag);
            continue;
        }
        service.sync(&spoke).await?;
    }
    crate::say!("hetsync run: stopped");
    Ok(exit::OK)
}

/// The service's state between rounds.
struct Service<'c> {
    cli: &'c Cli,
    config: Config,
    schedule: Schedule,
    /// Push mode: the nodes with commits.
    commits: push::Commits,
    /// The slowest poll of a node that cannot tell of its commits.
    max_poll: Duration,
    /// The deployment, open while its rounds succeed.
    opened: Option<Opened>,
    monitoring: Option<Monitoring>,
    last_purge: Option<Instant>,
    /// With a standby: the hub's heartbeat.
    heartbeat: heartbeat::Heartbeat,
}

impl<'c> Service<'c> {
    fn new(cli: &'c Cli, config: Config, monitoring: Option<Monitoring>) -> Service<'c> {
        let mut service = Service {
            cli,
            schedule: Schedule::new(Vec::new(), Instant::now()),
            max_poll: push::MAX_POLL,
            config,
            commits: push::Commits::default(),
            opened: None,
            monitoring,
            last_purge: None,
            heartbeat: heartbeat::Heartbeat::new(Instant::now()),
        };
        service.configured();
        service
    }

    /// Takes [`Service::config`] as it is now: every spoke due at once.
    fn configured(&mut self) {
        let config = &self.config;
        let spokes: Vec<(String, Duration)> = config
            .nodes
            .iter()
            .filter(|n| n.role == hetsync_config::Role::Spoke)
            .map(|n| (n.name.clone(), n.interval.unwrap_or(config.sync.interval)))
            .collect();
        crate::say!(
            "hetsync run: {} spoke(s), rounds every {} (SIGTERM or Ctrl-C stops after the round \
             under way, SIGHUP reads the configuration again)",
            spokes.len(),
            humantime(config.sync.interval)
        );
        self.max_poll = spokes
            .iter()
            .map(|s| s.1)
            .max()
            .unwrap_or(config.sync.interval)
            .min(push::MAX_POLL);
        self.schedule = Schedule::new(spokes, Instant::now());
    }

    /// SIGHUP: the configuration read again, the deployment opened afresh
    /// with it at the next round; or, when it does not load, why, and the
    /// service goes on as it was.
    fn reload(&mut self, max_lag: Option<Duration>) {
        match hetsync_config::load(&self.cli.config) {
            Ok(config) => {
                self.config = config;
                self.opened = None;
                if let Some(monitoring) = &mut self.monitoring {
                    monitoring.reconfigure(&self.config, max_lag);
                }
                crate::say!("hetsync run: configuration read again");
                self.configured();
            }
            Err(e) => eprintln!(
                "hetsync run: the configuration was not read again, the service goes on as it \
                 was: {e:#}"
            ),
        }
    }

    /// Checks the hub's heartbeat; once it has missed them for `[sync]
    /// failover_after`, promotes the standby, opens the deployment afresh
    /// and makes every spoke due.
    async fn beat(&mut self) {
        let now = Instant::now();
        self.heartbeat.next = now + self.config.sync.interval;
        let beat = match crate::failover::heartbeat(&self.config, &self.cli.plugin_dirs).await {
            Ok(beat) => beat,
            Err(e) => {
                eprintln!("hetsync run: checking the hub's heartbeat: {e:#}");
                return;
            }
        };
        let Some(why) = beat.missed else {
            self.heartbeat.answered();
            return;
        };
        let down_for = self.heartbeat.down_for(now);
        if !self.heartbeat.missed(now, self.config.failover_after()) {
            tracing::warn!(hub = %beat.hub, error = %why, "the hub missed its heartbeat");
            return;
        }
        let Some(standby) = beat.standby else {
            return;
        };
        eprintln!(
            "hetsync run: the hub '{}' has missed its heartbeats for {} ({why}): promoting '{standby}'",
            beat.hub,
            humantime(down_for)
        );
        match crate::failover::promote(&self.cli.config, &self.cli.plugin_dirs, &standby).await {
            Ok(promoted) => {
                output::print_promoted(&promoted);
                self.opened = None;
                self.schedule.all_due(Instant::now());
            }
            Err(e) => eprintln!("hetsync run: promoting '{standby}' failed: {e:#}"),
        }
    }

    /// Push mode: nodes had commits; their spokes' rounds (every spoke's,
    /// for the hub or its standby, which every pass syncs first) start a
    /// debounce later.
    fn committed(&mut self) {
        let at = Instant::now() + self.config.sync.debounce;
        let spokes = self.schedule.names();
        for node in self.commits.take() {
            for spoke in &spokes {
                if node == *spoke || !spokes.contains(&node) {
                    self.schedule.hurry(spoke, at);
                }
            }
        }
    }

    /// Runs the rounds of `spoke`, which is due; an error only when the
    /// configuration does not fit the databases.
    async fn sync(&mut self, spoke: &str) -> Result<()> {
        let current = match self.opened.take() {
            Some(current) => current,
            None => match open_for_run(self.cli).await {
                Ok(engine) => Opened::new(
                    engine,
                    self.config
                        .sync
                        .push
                        .then_some((&self.commits, self.max_poll)),
                ),
                Err(e) => {
                    if let Some(monitoring) = &self.monitoring {
                        monitoring.not_opened(spoke, &e);
                    }
                    let delay = self.schedule.failed(spoke, Instant::now());
                    eprintln!(
                        "hetsync run: cannot open the deployment for {spoke}: {e:#}; next try in {}",
                        humantime(delay)
                    );
                    return Ok(());
                }
            },
        };
        let pass = current.engine.sync_pass(&[spoke.to_string()]).await?;
        if let Some(monitoring) = &self.monitoring {
            monitoring.passed(&current.engine, spoke, &pass).await;
        }
        let uploaded = pass.rounds.iter().any(|r| r.rows_uploaded() > 0);
        // An idle round says nothing (the log has it at `info`).
        let eventful: Vec<_> = pass
            .rounds
            .into_iter()
            .filter(|r| r.rows_moved() > 0 || !r.conflicts.is_empty() || r.parked > 0)
            .collect();
        output::print_rounds(&eventful);
        // The standby's rounds run first in every pass; when they fail,
        // the spoke's own still count.
        let (own, standby): (Vec<_>, Vec<_>) =
            pass.failed.iter().partition(|(name, _)| name == spoke);
        for (name, e) in &standby {
            eprintln!("hetsync run: round failed for the standby {name}: {e}");
        }
        if !own.is_empty() {
            let delay = self.schedule.failed(spoke, Instant::now());
            for (spoke, e) in &own {
                eprintln!(
                    "hetsync run: round failed for {spoke}: {e}; next try in {}",
                    humantime(delay)
                );
            }
            // Opened afresh for the next round: a node may be back.
            return Ok(());
        }
        self.schedule.succeeded(spoke, Instant::now());
        // What it brought to the hub is for the other spokes too, now: it
        // is committed, there is no burst to wait for.
        if self.config.sync.push && uploaded {
            let now = Instant::now();
            for other in self.schedule.names().iter().filter(|s| *s != spoke) {
                self.schedule.hurry(other, now);
            }
        }
        if let Some(retention) = self.config.sync.retention {
            if self.last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                self.last_purge = Some(Instant::now());
                match current.engine.purge(retention).await {
                    Ok(purged) => output::print_purged(&purged),
                    Err(e) => eprintln!("hetsync run: purging tracking rows failed: {e}"),
                }
            }
        }
        // A standby that failed may be back by the next round.
        if standby.is_empty() {
            self.opened = Some(current);
        }
        Ok(())
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
