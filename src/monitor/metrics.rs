//! The service's Prometheus metrics (`/metrics`).

use hetsync_core::report::{NodeStatus, RoundReport};
use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Round durations, seconds: from a steady one-row round to a full sync.
const DURATION_BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 300.0,
];

/// The metric families, registered in one registry.
pub(super) struct Metrics {
    registry: Registry,
    rounds: IntCounterVec,
    rows: IntCounterVec,
    conflicts: IntCounterVec,
    duration: HistogramVec,
    parked: IntGaugeVec,
    pending: IntGaugeVec,
    lag: GaugeVec,
    up: IntGaugeVec,
}

impl Metrics {
    pub(super) fn new() -> Metrics {
        let registry = Registry::new();
        // Names and labels are constants: registering them cannot fail.
        let register = |c: Box<dyn prometheus::core::Collector>| {
            registry.register(c).expect("a metric registered once");
        };
        let rounds = IntCounterVec::new(
            Opts::new(
                "hetsync_rounds_total",
                "Rounds run, by spoke and result (ok, failed).",
            ),
            &["spoke", "result"],
        )
        .expect("valid metric");
        let rows = IntCounterVec::new(
            Opts::new(
                "hetsync_rows_total",
                "Rows written (upserts and deletes), by spoke, direction (upload: to the hub, \
                 download: to the spoke) and table.",
            ),
            &["spoke", "direction", "table"],
        )
        .expect("valid metric");
        let conflicts = IntCounterVec::new(
            Opts::new(
                "hetsync_conflicts_total",
                "Conflicts decided, by spoke and table.",
            ),
            &["spoke", "table"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "hetsync_round_duration_seconds",
                "Duration of successful rounds, by spoke.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["spoke"],
        )
        .expect("valid metric");
        let parked = IntGaugeVec::new(
            Opts::new(
                "hetsync_parked_changes",
                "Changes parked, by spoke (hetsync parked).",
            ),
            &["spoke"],
        )
        .expect("valid metric");
        let pending = IntGaugeVec::new(
            Opts::new(
                "hetsync_pending_events",
                "Captured changes not yet integrated, by spoke and direction (upload: the \
                 spoke's, download: the hub's for it), as read after its last round.",
            ),
            &["node", "direction"],
        )
        .expect("valid metric");
        let lag = GaugeVec::new(
            Opts::new(
                "hetsync_lag_seconds",
                "Seconds since the spoke's last successful round (since the service started \
                 when it has none).",
            ),
            &["node"],
        )
        .expect("valid metric");
        let up = IntGaugeVec::new(
            Opts::new(
                "hetsync_node_up",
                "1 when the node could be reached at its last read.",
            ),
            &["node"],
        )
        .expect("valid metric");
        register(Box::new(rounds.clone()));
        register(Box::new(rows.clone()));
        register(Box::new(conflicts.clone()));
        register(Box::new(duration.clone()));
        register(Box::new(parked.clone()));
        register(Box::new(pending.clone()));
        register(Box::new(lag.clone()));
        register(Box::new(up.clone()));
        Metrics {
            registry,
            rounds,
            rows,
            conflicts,
            duration,
            parked,
            pending,
            lag,
            up,
        }
    }

    /// A successful round.
    pub(super) fn round(&self, r: &RoundReport) {
        self.rounds.with_label_values(&[&r.spoke, "ok"]).inc();
        for (direction, counts) in [("upload", &r.uploaded), ("download", &r.downloaded)] {
            for (table, c) in counts {
                self.rows
                    .with_label_values(&[&r.spoke, direction, table])
                    .inc_by(c.rows());
            }
        }
        for c in &r.conflicts {
            self.conflicts
                .with_label_values(&[&r.spoke, &c.table])
                .inc();
        }
        self.duration
            .with_label_values(&[&r.spoke])
            .observe(r.duration_ms as f64 / 1000.0);
    }

    /// A failed round of `spoke`.
    pub(super) fn failed_round(&self, spoke: &str) {
        self.rounds.with_label_values(&[spoke, "failed"]).inc();
    }

    /// A node's status as just read.
    pub(super) fn node(&self, st: &NodeStatus) {
        self.up
            .with_label_values(&[&st.name])
            .set(i64::from(!st.unreachable));
        for (direction, pending) in [
            ("upload", st.pending_upload),
            ("download", st.pending_download),
        ] {
            if let Some(n) = pending {
                self.pending
                    .with_label_values(&[&st.name, direction])
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    /// A node that could not be reached.
    pub(super) fn unreachable(&self, node: &str) {
        self.up.with_label_values(&[node]).set(0);
    }

    /// The changes parked for `spoke`.
    pub(super) fn parked(&self, spoke: &str, count: usize) {
        self.parked
            .with_label_values(&[spoke])
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// A spoke's lag now.
    pub(super) fn lag(&self, node: &str, seconds: f64) {
        self.lag.with_label_values(&[node]).set(seconds);
    }

    /// Every metric in the Prometheus text format.
    pub(super) fn text(&self) -> String {
        let mut text = String::new();
        if let Err(e) = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut text) {
            tracing::error!(error = %e, "encoding the metrics");
        }
        text
    }
}
