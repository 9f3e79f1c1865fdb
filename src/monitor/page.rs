//! The status page (`/`): one self-contained HTML page, no script, no
//! outside resource, refreshing itself. Every value is escaped (maud
//! escapes whatever it interpolates): node, table and column names and row
//! values are user data.

use super::{Health, View};
use chrono::{DateTime, SecondsFormat, Utc};
use hetsync_core::change::Stamp;
use hetsync_core::plan::ConflictKind;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Seconds between the page's refreshes.
const REFRESH_SECONDS: u32 = 5;

/// Rows of each recent list shown.
const SHOWN: usize = 20;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin-bottom:1.5em}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.n{text-align:right}\
.ok{color:#176f2c}.bad{color:#b3261e;font-weight:bold}.note{color:#666}";

/// The page for `view` as of `now`.
pub(super) fn render(view: &View, health: &Health, now: DateTime<Utc>) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(REFRESH_SECONDS);
                title { "hetsync status" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 {
                    "hetsync "
                    @if health.healthy {
                        span #health .ok { "healthy" }
                    } @else {
                        span #health .bad { "failing" }
                    }
                }
                p .note {
                    "As of " (time(now)) "; running since " (time(view.started))
                    ". This page reloads every " (REFRESH_SECONDS) " s."
                }
                (nodes(view, health))
                (rounds(view))
                (conflicts(view))
                (parked(view))
            }
        }
    }
    .into_string()
}

fn nodes(view: &View, health: &Health) -> Markup {
    html! {
        h2 { "Nodes" }
        table #nodes {
            tr {
                th { "node" } th { "role" } th { "adapter" } th { "reachable" }
                th { "pending up" } th { "pending down" } th { "lag" }
                th { "last round" } th { "result" }
            }
            @for (node, h) in view.nodes.iter().zip(&health.nodes) {
                @let st = node.status.as_ref();
                tr data-node=(node.name) {
                    td .name { (node.name) }
                    td { (node.role) }
                    td { (node.adapter) }
                    @if node.unreachable.is_some() || st.is_some_and(|s| s.unreachable) {
                        td .bad { "no" }
                    } @else if st.is_some() {
                        td .ok { "yes" }
                    } @else {
                        td { "not read yet" }
                    }
                    td .n .pending-up { (count(st.and_then(|s| s.pending_upload))) }
                    td .n .pending-down { (count(st.and_then(|s| s.pending_download))) }
                    td .n .lag {
                        @if let Some(lag) = h.lag_seconds { (format!("{lag:.0} s")) }
                    }
                    td .last {
                        @if let Some(r) = &node.last_result { (time(r.at)) }
                    }
                    @if let Some(problem) = &h.problem {
                        td .result .bad { (problem) }
                    } @else if let Some(r) = &node.last_result {
                        td .result .ok { (if r.error.is_none() { "ok" } else { "failed" }) }
                    } @else {
                        td .result {}
                    }
                }
            }
        }
    }
}

fn rounds(view: &View) -> Markup {
    html! {
        h2 { "Recent rounds" }
        @if view.rounds.is_empty() {
            p .note { "No round has moved a row yet (idle rounds are only counted, in /metrics)." }
        } @else {
            table #rounds {
                tr {
                    th { "finished" } th { "spoke" } th { "mode" } th { "rows up" }
                    th { "rows down" } th { "conflicts" } th { "duration" } th { "result" }
                }
                @for r in view.rounds.iter().rev().take(SHOWN) {
                    tr {
                        td { (time(r.finished_at)) }
                        td { (r.spoke) }
                        td { (r.mode) }
                        td .n .up { (r.uploaded) }
                        td .n .down { (r.downloaded) }
                        td .n { (r.conflicts) }
                        td .n { (r.duration_ms) " ms" }
                        @match &r.error {
                            None => td .ok { "ok" },
                            Some(e) => td .bad { (e) },
                        }
                    }
                }
            }
        }
    }
}

fn conflicts(view: &View) -> Markup {
    html! {
        h2 { "Recent conflicts" }
        @if view.conflicts.is_empty() {
            p .note { "None since the service started." }
        } @else {
            table #conflicts {
                tr {
                    th { "spoke" } th { "table" } th { "row" } th { "field" } th { "kind" }
                    th { "rule" } th { "kept" } th { "overwritten" }
                }
                @for line in view.conflicts.iter().rev().take(SHOWN) {
                    @let c = &line.conflict;
                    tr {
                        td { (line.spoke) }
                        td { (c.table) }
                        td { (c.code) }
                        td { (c.field.as_deref().unwrap_or("(row)")) }
                        td { (match c.kind {
                            ConflictKind::UpdateUpdate => "update/update",
                            ConflictKind::DeleteUpdate => "delete/update",
                        }) }
                        td { (c.rule) }
                        td .winner { (c.winner_value) br; span .note { (change(&c.winner)) } }
                        td .loser { (c.loser_value) br; span .note { (change(&c.loser)) } }
                    }
                }
            }
        }
    }
}

fn parked(view: &View) -> Markup {
    html! {
        @if !view.parked.is_empty() {
            h2 { "Parked changes" }
            table #parked {
                tr {
                    th { "id" } th { "spoke" } th { "node" } th { "table" } th { "row" }
                    th { "parked" } th { "why" }
                }
                @for p in &view.parked {
                    tr {
                        td .n { (p.id) }
                        td { (p.spoke) }
                        td { (p.node) }
                        td { (p.table) }
                        td { (p.code) }
                        td { (p.parked_at) }
                        td { (p.error) @if p.retry { " (retry asked)" } }
                    }
                }
            }
        }
    }
}

/// Where, when and by whom a change was made.
fn change(stamp: &Stamp) -> String {
    let by = stamp
        .user
        .as_deref()
        .map(|u| format!(" by {u}"))
        .unwrap_or_default();
    format!("on {} at {}{by}", stamp.origin, stamp.time_text())
}

fn count(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::super::Monitor;
    use hetsync_core::change::Stamp;
    use hetsync_core::code::{CombinedCode, KeyPart};
    use hetsync_core::plan::{Conflict, ConflictKind, Side};
    use hetsync_core::report::{NodeStatus, RoundReport, SyncMode};

    fn config(dir: &std::path::Path) -> hetsync_config::Config {
        let path = dir.join("hetsync.toml");
        std::fs::write(
            &path,
            "[[node]]\nname = \"hub\"\nadapter = \"sqlite\"\nurl = \"hub.db\"\nrole = \"hub\"\n\n\
             [[node]]\nname = \"<b>站</b>\"\nadapter = \"sqlite\"\nurl = \"s.db\"\nrole = \"spoke\"\n\n\
             [[table]]\nname = \"t\"\ncode = [\"k\"]\n",
        )
        .unwrap();
        hetsync_config::load(&path).unwrap()
    }

    #[test]
    fn every_user_value_on_the_page_is_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let monitor = Monitor::new(&config(dir.path()), None);
        let spoke = "<b>站</b>";
        let evil = "<img src=x onerror=alert(1)>";
        let mut report = RoundReport {
            id: "r1".into(),
            spoke: spoke.into(),
            hub: "hub".into(),
            mode: SyncMode::Incremental,
            started_at: String::new(),
            duration_ms: 12,
            events_read: (1, 0),
            uploaded: [("变电站表".to_string(), Default::default())].into(),
            downloaded: Default::default(),
            hub_written: Default::default(),
            spoke_written: Default::default(),
            conflicts: vec![Conflict {
                table: "变电站表".into(),
                code: CombinedCode(vec![KeyPart::Text(evil.into())]),
                field: Some("名称".into()),
                kind: ConflictKind::UpdateUpdate,
                winner_side: Side::Hub,
                winner: Stamp::new(0, "hub"),
                loser: Stamp::new(0, spoke),
                winner_value: format!("kept {evil}"),
                loser_value: "lost & gone".into(),
                rule: Default::default(),
                loser_row: None,
                uid: None,
            }],
            spoke_watermark: Default::default(),
            hub_watermark: Default::default(),
            retries: 0,
            follow_up: false,
            more: false,
            compared_whole: Vec::new(),
            rewound: Vec::new(),
            parked: 0,
            backups: Vec::new(),
        };
        report.uploaded.get_mut("变电站表").unwrap().upserts = 3;
        monitor.rounds_finished(&[report], &[]);
        monitor.node_read(NodeStatus {
            error: Some(evil.into()),
            ..NodeStatus::new(spoke, "spoke", "sqlite")
        });
        let page = monitor.page();
        for raw in [evil, spoke] {
            assert!(!page.contains(raw), "{raw} unescaped in:\n{page}");
        }
        for escaped in [
            "&lt;b&gt;站&lt;/b&gt;",
            "kept &lt;img src=x onerror=alert(1)&gt;",
            "lost &amp; gone",
            "变电站表",
            "名称",
        ] {
            assert!(page.contains(escaped), "{escaped} missing in:\n{page}");
        }
        assert!(
            page.contains("<meta http-equiv=\"refresh\" content=\"5\">"),
            "{page}"
        );
        // Self-contained: nothing loaded from anywhere.
        for outside in ["<script", "src=\"", "href=\""] {
            assert!(!page.contains(outside), "{outside} in:\n{page}");
        }
        let metrics = monitor.metrics_text();
        assert!(
            metrics.contains(
                "hetsync_rows_total{direction=\"upload\",spoke=\"<b>站</b>\",table=\"变电站表\"} 3"
            ),
            "{metrics}"
        );
        assert!(
            metrics.contains("hetsync_conflicts_total{spoke=\"<b>站</b>\",table=\"变电站表\"} 1"),
            "{metrics}"
        );
    }
}
