//! Human-readable output of rounds, status and verification.

use hetsync_core::change::Stamp;
use hetsync_core::engine::report::{RoundReport, StatusReport, SyncMode, VerifyReport};
use hetsync_core::plan::{Conflict, ConflictKind, TableCounts};

fn counts_text(counts: &TableCounts) -> String {
    if counts.is_empty() {
        return "nothing".into();
    }
    counts
        .iter()
        .map(|(table, c)| match (c.upserts, c.deletes) {
            (u, 0) => format!("{table} {u} row(s)"),
            (0, d) => format!("{table} {d} delete(s)"),
            (u, d) => format!("{table} {u} row(s) + {d} delete(s)"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn who(stamp: &Stamp) -> String {
    format!("{} at {}", stamp.origin, stamp.time_text())
}

/// One line describing a conflict and its winner.
pub fn conflict_line(c: &Conflict) -> String {
    let what = match (&c.field, c.kind) {
        (Some(f), _) => format!("{}{} field {f}", c.table, c.code),
        (None, ConflictKind::DeleteUpdate) => format!("{}{} delete vs update", c.table, c.code),
        (None, ConflictKind::UpdateUpdate) => format!("{}{} whole row", c.table, c.code),
    };
    format!(
        "{what}: kept {} ({}), over {} ({})",
        c.winner_value,
        who(&c.winner),
        c.loser_value,
        who(&c.loser)
    )
}

/// Prints round reports.
pub fn print_rounds(reports: &[RoundReport]) {
    for r in reports {
        let mode = match r.mode {
            SyncMode::Full => "full",
            SyncMode::Incremental => "incremental",
        };
        println!("{} ⇄ {} ({mode}, {} ms)", r.spoke, r.hub, r.duration_ms);
        println!("  ↑ to {}: {}", r.hub, counts_text(&r.uploaded));
        println!("  ↓ to {}: {}", r.spoke, counts_text(&r.downloaded));
        for c in &r.conflicts {
            println!("  ⚡ {}", conflict_line(c));
        }
        if r.retries > 0 {
            println!(
                "  (retried {} time(s): rows changed during the round)",
                r.retries
            );
        }
    }
}

/// Prints the status table.
pub fn print_status(status: &StatusReport) {
    println!(
        "{:<20} {:<6} {:<8} {:>9} {:>9} {:>9}  last successful sync",
        "node", "role", "adapter", "position", "to send", "to get"
    );
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
    for n in &status.nodes {
        let position = if n.installed {
            opt(n.position.map(|p| p.0 as u64))
        } else {
            "not installed".into()
        };
        let last = match (&n.last_success, &n.last_failure) {
            (_, Some(f)) => format!(
                "FAILED at {}: {}",
                f.finished_at,
                f.error.as_deref().unwrap_or("")
            ),
            (Some(s), None) => s.finished_at.clone(),
            (None, None) if n.role == "spoke" => "never".into(),
            _ => String::new(),
        };
        println!(
            "{:<20} {:<6} {:<8} {:>9} {:>9} {:>9}  {last}",
            n.name,
            n.role,
            n.adapter,
            position,
            opt(n.pending_upload),
            opt(n.pending_download)
        );
        if let Some(e) = &n.error {
            println!("{:<20} error: {e}", "");
        }
    }
}

/// Prints a verification report.
pub fn print_verify(report: &VerifyReport) {
    for t in &report.tables {
        let bad: Vec<_> = t.nodes.iter().filter(|n| n.differences > 0).collect();
        if bad.is_empty() {
            println!(
                "✔ {}: {} row(s), identical on {} node(s)",
                t.table,
                t.hub_rows,
                t.nodes.len() + 1
            );
            continue;
        }
        println!("✘ {}: hub has {} row(s)", t.table, t.hub_rows);
        for n in bad {
            println!(
                "  {}: {} row(s), {} difference(s)",
                n.node, n.rows, n.differences
            );
            for code in &n.missing {
                println!("    missing {code}");
            }
            for code in &n.extra {
                println!("    extra   {code}");
            }
            for (code, fields) in &n.differing {
                println!("    differs {code}: {}", fields.join(", "));
            }
        }
    }
    println!(
        "{}",
        if report.ok {
            "all copies match"
        } else {
            "copies differ"
        }
    );
}
