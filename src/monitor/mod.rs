//! What `hetsync run --listen ADDR` shows while it runs: Prometheus
//! metrics (`/metrics`), a health check (`/health`) and a status page
//! (`/`). The service feeds a [`Monitor`] after each spoke's rounds; the
//! listener only reads it, so a scrape never touches a database.

mod http;
mod metrics;
mod page;

pub use http::serve;

use chrono::{DateTime, Utc};
use hetsync_core::plan::Conflict;
use hetsync_core::report::{NodeStatus, RoundReport};
use hetsync_core::state::Parked;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How many recent rounds and conflicts the status page keeps.
const RECENT: usize = 50;

/// The shortest allowed lag by default: a round of a large change may take
/// longer than three short intervals.
const MIN_DEFAULT_LAG: Duration = Duration::from_secs(60);

/// The service's view of the deployment, shared with the listener.
pub struct Monitor {
    metrics: metrics::Metrics,
    view: Mutex<View>,
}

/// What the status page and the health check show.
struct View {
    started: DateTime<Utc>,
    nodes: Vec<NodeView>,
    rounds: VecDeque<RoundLine>,
    conflicts: VecDeque<ConflictLine>,
    parked: Vec<Parked>,
}

/// One node as the service last saw it.
struct NodeView {
    name: String,
    role: &'static str,
    adapter: String,
    /// The longest allowed time since the last successful round, for a
    /// node that has rounds (not while it acts as the hub).
    allowed_lag: Duration,
    /// As last read after a round of it ([`hetsync_core::engine::Engine::node_status`]).
    status: Option<NodeStatus>,
    /// Why the service could not reach the node (the hub, when the
    /// deployment could not be opened); cleared by the next status read.
    unreachable: Option<String>,
    last_success: Option<DateTime<Utc>>,
    last_result: Option<RoundResult>,
}

impl NodeView {
    /// The longest allowed time since the last successful round; `None`
    /// while the node acts as the hub (it has no rounds of its own).
    fn max_lag(&self) -> Option<Duration> {
        (self.role != "hub").then_some(self.allowed_lag)
    }
}

/// How a spoke's last rounds ended.
struct RoundResult {
    at: DateTime<Utc>,
    error: Option<String>,
}

/// One round on the status page: a round that moved rows, had conflicts
/// or parked changes, or a failure (idle rounds are only counted).
struct RoundLine {
    finished_at: DateTime<Utc>,
    spoke: String,
    mode: String,
    uploaded: u64,
    downloaded: u64,
    conflicts: usize,
    duration_ms: u64,
    error: Option<String>,
}

/// A conflict a round of `spoke` decided.
struct ConflictLine {
    spoke: String,
    conflict: Conflict,
}

/// `/health`: healthy while every node is reachable and every spoke's last
/// round succeeded within its allowed lag.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Every node is healthy.
    pub healthy: bool,
    /// Each node, hub first.
    pub nodes: Vec<NodeHealth>,
}

/// One node's part of [`Health`].
#[derive(Debug, Serialize)]
pub struct NodeHealth {
    /// The node.
    pub name: String,
    /// `hub` or `spoke`.
    pub role: &'static str,
    /// Reachable, and for a spoke its last round succeeded within its
    /// allowed lag.
    pub healthy: bool,
    /// Spokes: `ok` or `failed`; `None` before its first round here.
    pub last_round: Option<&'static str>,
    /// Spokes: seconds since its last successful round (since the service
    /// started when it has none).
    pub lag_seconds: Option<f64>,
    /// Spokes: the allowed lag.
    pub max_lag_seconds: Option<f64>,
    /// What is wrong, when something is.
    pub problem: Option<String>,
}

impl Monitor {
    /// A monitor of `config`'s nodes. A spoke's allowed lag is `max_lag`,
    /// or three times its interval (at least a minute).
    pub fn new(config: &hetsync_config::Config, max_lag: Option<Duration>) -> Monitor {
        Monitor {
            metrics: metrics::Metrics::new(),
            view: Mutex::new(View {
                started: Utc::now(),
                nodes: node_views(config, max_lag, Vec::new()),
                rounds: VecDeque::new(),
                conflicts: VecDeque::new(),
                parked: Vec::new(),
            }),
        }
    }

    /// The configuration was read again: nodes added, gone or changed;
    /// what was seen of the nodes that stay, and every count, is kept.
    pub fn reconfigure(&self, config: &hetsync_config::Config, max_lag: Option<Duration>) {
        let mut view = self.view();
        let seen = std::mem::take(&mut view.nodes);
        view.nodes = node_views(config, max_lag, seen);
    }

    fn view(&self) -> MutexGuard<'_, View> {
        // A panic while holding it leaves a view that is still readable.
        self.view.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a spoke's rounds: those that succeeded, and the spokes
    /// whose round failed with why.
    pub fn rounds_finished(&self, rounds: &[RoundReport], failed: &[(String, String)]) {
        let now = Utc::now();
        let mut view = self.view();
        for r in rounds {
            self.metrics.round(r);
            if let Some(node) = view.node_mut(&r.spoke) {
                node.last_success = Some(now);
                node.last_result = Some(RoundResult {
                    at: now,
                    error: None,
                });
            }
            if r.rows_moved() > 0 || !r.conflicts.is_empty() || r.parked > 0 {
                view.push_round(RoundLine {
                    finished_at: now,
                    spoke: r.spoke.clone(),
                    mode: format!("{:?}", r.mode).to_lowercase(),
                    uploaded: r.rows_uploaded(),
                    downloaded: r.rows_downloaded(),
                    conflicts: r.conflicts.len(),
                    duration_ms: r.duration_ms,
                    error: None,
                });
            }
            for c in &r.conflicts {
                if view.conflicts.len() == RECENT {
                    view.conflicts.pop_front();
                }
                view.conflicts.push_back(ConflictLine {
                    spoke: r.spoke.clone(),
                    conflict: c.clone(),
                });
            }
        }
        for (spoke, error) in failed {
            self.metrics.failed_round(spoke);
            if let Some(node) = view.node_mut(spoke) {
                node.last_result = Some(RoundResult {
                    at: now,
                    error: Some(error.clone()),
                });
            }
            view.push_round(RoundLine {
                finished_at: now,
                spoke: spoke.clone(),
                mode: String::new(),
                uploaded: 0,
                downloaded: 0,
                conflicts: 0,
                duration_ms: 0,
                error: Some(error.clone()),
            });
        }
    }

    /// Records a node's status as just read.
    pub fn node_read(&self, status: NodeStatus) {
        self.metrics.node(&status);
        let mut view = self.view();
        let Some(node) = view.node_mut(&status.name) else {
            return;
        };
        let recorded = status
            .last_success
            .as_ref()
            .and_then(|s| DateTime::parse_from_rfc3339(&s.finished_at).ok())
            .map(|t| t.with_timezone(&Utc));
        node.last_success = node.last_success.max(recorded);
        node.unreachable = None;
        // The roles it acts in: the hub and its standby trade places at a
        // promotion.
        node.role = match status.role.as_str() {
            "hub" => "hub",
            "standby" => "standby",
            _ => "spoke",
        };
        node.status = Some(status);
    }

    /// Records that `node` could not be reached, with why.
    pub fn node_unreachable(&self, node: &str, error: &str) {
        self.metrics.unreachable(node);
        if let Some(node) = self.view().node_mut(node) {
            node.unreachable = Some(error.to_string());
        }
    }

    /// Records the parked changes, as the state store holds them.
    pub fn parked(&self, parked: Vec<Parked>) {
        let mut view = self.view();
        for node in view.nodes.iter().filter(|n| n.role != "hub") {
            let count = parked.iter().filter(|p| p.spoke == node.name).count();
            self.metrics.parked(&node.name, count);
        }
        view.parked = parked;
    }

    /// The health check's answer now.
    pub fn health(&self) -> Health {
        self.view().health(Utc::now())
    }

    /// `/metrics`: the Prometheus text format.
    pub fn metrics_text(&self) -> String {
        let now = Utc::now();
        let view = self.view();
        for node in view.nodes.iter().filter(|n| n.role != "hub") {
            self.metrics
                .lag(&node.name, view.lag(node, now).as_secs_f64());
        }
        drop(view);
        self.metrics.text()
    }

    /// `/`: the status page.
    pub fn page(&self) -> String {
        let now = Utc::now();
        let view = self.view();
        page::render(&view, &view.health(now), now)
    }
}

/// The views of `config`'s nodes: those of `seen` with the same name kept,
/// with their role, adapter and allowed lag as configured now.
fn node_views(
    config: &hetsync_config::Config,
    max_lag: Option<Duration>,
    mut seen: Vec<NodeView>,
) -> Vec<NodeView> {
    config
        .nodes
        .iter()
        .map(|n| {
            let interval = n.interval.unwrap_or(config.sync.interval);
            let kept = seen
                .iter()
                .position(|v| v.name == n.name)
                .map(|i| seen.swap_remove(i));
            NodeView {
                role: match n.role {
                    hetsync_config::Role::Hub => "hub",
                    hetsync_config::Role::Spoke => "spoke",
                    hetsync_config::Role::Standby => "standby",
                },
                adapter: n.adapter.clone(),
                allowed_lag: max_lag.unwrap_or((interval * 3).max(MIN_DEFAULT_LAG)),
                ..kept.unwrap_or_else(|| NodeView {
                    name: n.name.clone(),
                    role: "",
                    adapter: String::new(),
                    allowed_lag: Duration::ZERO,
                    status: None,
                    unreachable: None,
                    last_success: None,
                    last_result: None,
                })
            }
        })
        .collect()
}

impl View {
    fn node_mut(&mut self, name: &str) -> Option<&mut NodeView> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    fn push_round(&mut self, line: RoundLine) {
        if self.rounds.len() == RECENT {
            self.rounds.pop_front();
        }
        self.rounds.push_back(line);
    }

    /// Time since `node`'s last successful round, or since the service
    /// started when it had none.
    fn lag(&self, node: &NodeView, now: DateTime<Utc>) -> Duration {
        (now - node.last_success.unwrap_or(self.started))
            .to_std()
            .unwrap_or_default()
    }

    fn health(&self, now: DateTime<Utc>) -> Health {
        let nodes: Vec<NodeHealth> = self
            .nodes
            .iter()
            .map(|node| {
                let unreachable = node.unreachable.clone().or_else(|| {
                    node.status
                        .as_ref()
                        .filter(|s| s.unreachable)
                        .map(|s| s.error.clone().unwrap_or_default())
                });
                let max_lag = node.max_lag();
                let lag = max_lag.map(|_| self.lag(node, now));
                // The hub has no rounds: those it had as the standby, before
                // a promotion, no longer count.
                let failed = max_lag
                    .and(node.last_result.as_ref())
                    .and_then(|r| r.error.clone());
                let problem = match (unreachable, failed, lag.zip(max_lag)) {
                    (Some(e), _, _) => Some(format!("unreachable: {e}")),
                    (None, Some(e), _) => Some(format!("last round failed: {e}")),
                    (None, None, Some((lag, max))) if lag > max => Some(format!(
                        "no successful round for {}s (allowed {}s)",
                        lag.as_secs(),
                        max.as_secs()
                    )),
                    _ => None,
                };
                NodeHealth {
                    name: node.name.clone(),
                    role: node.role,
                    healthy: problem.is_none(),
                    last_round: max_lag
                        .and(node.last_result.as_ref())
                        .map(|r| match r.error {
                            None => "ok",
                            Some(_) => "failed",
                        }),
                    lag_seconds: lag.map(|l| l.as_secs_f64()),
                    max_lag_seconds: max_lag.map(|m| m.as_secs_f64()),
                    problem,
                }
            })
            .collect();
        Health {
            healthy: nodes.iter().all(|n| n.healthy),
            nodes,
        }
    }
}
