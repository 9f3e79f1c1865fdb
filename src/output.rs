//! Human-readable output of rounds, status and verification.

use hetsync_core::change::Stamp;
use hetsync_core::engine::NodePurge;
use hetsync_core::plan::{Conflict, ConflictKind, TableCounts};
use hetsync_core::report::{
    Prefer, RepairReport, RoundPreview, RoundReport, StatusReport, SyncMode, VerifyReport,
};

/// Writes a line to stdout like `println!`, through [`say`].
#[macro_export]
macro_rules! say {
    () => {
        $crate::output::say(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::say(format_args!($($arg)*))
    };
}

/// Writes a line to stdout. When the reader went away (`hetsync status |
/// head -1`), the process ends quietly with the status a shell gives a
/// process killed by SIGPIPE (141), as other command-line tools do, instead
/// of panicking.
pub fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("hetsync: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

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

/// Where (by whom, when recorded) and when a change was made.
fn who(stamp: &Stamp) -> String {
    format!(
        "{}{} at {}",
        stamp.origin,
        by_user(stamp.user.as_deref()),
        stamp.time_text()
    )
}

/// ` by USER` when a user is known.
fn by_user(user: Option<&str>) -> String {
    user.map(|u| format!(" by {u}")).unwrap_or_default()
}

/// One line describing a conflict and its winner.
pub fn conflict_line(c: &Conflict) -> String {
    let what = match (&c.field, c.kind) {
        (Some(f), _) => format!("{}{} field {f}", c.table, c.code),
        (None, ConflictKind::DeleteUpdate) => format!("{}{} delete vs update", c.table, c.code),
        (None, ConflictKind::UpdateUpdate) => format!("{}{} whole row", c.table, c.code),
    };
    format!(
        "{what}: kept {} ({}), over {} ({}), by rule {}",
        c.winner_value,
        who(&c.winner),
        c.loser_value,
        who(&c.loser),
        c.rule
    )
}

/// Prints round reports.
pub fn print_rounds(reports: &[RoundReport]) {
    for r in reports {
        let mode = match r.mode {
            SyncMode::Full => "full",
            SyncMode::Incremental => "incremental",
            SyncMode::Repair => "repair",
            SyncMode::Resync => "resync of a stale spoke",
        };
        let follow_up = if r.follow_up {
            ", follow-up: receives what later spokes sent"
        } else {
            ""
        };
        crate::say!(
            "{} ⇄ {} ({mode}, {} ms{follow_up}; round {})",
            r.spoke,
            r.hub,
            r.duration_ms,
            r.id
        );
        crate::say!("  ↑ to {}: {}", r.hub, counts_text(&r.uploaded));
        crate::say!("  ↓ to {}: {}", r.spoke, counts_text(&r.downloaded));
        for c in &r.conflicts {
            crate::say!("  ⚡ {}", conflict_line(c));
        }
        for path in &r.backups {
            crate::say!("  (backed up before writing: {path})");
        }
        if !r.rewound.is_empty() {
            crate::say!(
                "  (the tracking table went back on {} — restored from an older backup, or \
                 recreated: all its captured changes were read again)",
                r.rewound.join(", ")
            );
        }
        if r.mode == SyncMode::Incremental && !r.compared_whole.is_empty() {
            crate::say!(
                "  (new in the configuration, compared row by row: {})",
                r.compared_whole.join(", ")
            );
        }
        if r.more {
            crate::say!("  (stopped at round_events; the next round goes on)");
        }
        if r.parked > 0 {
            crate::say!(
                "  ({} change(s) parked: they cannot be synced as they are; `hetsync parked`)",
                r.parked
            );
        }
        if r.retries > 0 {
            crate::say!(
                "  (retried {} step(s): a busy database, a deadlock or a race with an edit)",
                r.retries
            );
        }
    }
}

/// Prints what the end of a bulk load recorded per table.
pub fn print_bulk_recorded(node: &str, recorded: &[hetsync_core::change::BulkRecorded]) {
    for r in recorded {
        crate::say!(
            "bulk end on node '{node}': {}: {} new or changed row(s), {} deleted, recorded for the next round",
            r.table,
            r.changed,
            r.deleted
        );
    }
    crate::say!("capture resumed on node '{node}'");
}

/// Prints what a rollback wrote back per node.
pub fn print_rolled_back(round: &str, done: &[hetsync_core::engine::RolledBack]) {
    for d in done {
        let per = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(t, n)| format!("{t} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        crate::say!(
            "rollback of round {round} on {}: written back [{}], deleted [{}]; the other nodes follow in their next rounds",
            d.node,
            per(&d.restored),
            per(&d.deleted)
        );
    }
}

/// Prints what a purge deleted per node, or why it kept a node's rows.
pub fn print_purged(purged: &[NodePurge]) {
    for p in purged {
        match &p.kept {
            Some(why) => crate::say!("purge {}: kept every tracking row ({why})", p.node),
            None => crate::say!("purge {}: {} tracking row(s) deleted", p.node, p.deleted),
        }
        if !p.released.is_empty() {
            crate::say!(
                "purge {}: not kept for {} (past stale_after: each resyncs when it returns)",
                p.node,
                p.released.join(", ")
            );
        }
    }
}

/// Prints what each spoke's next round would do (`sync --dry-run`).
pub fn print_previews(previews: &[RoundPreview]) {
    for p in previews {
        let mode = match p.mode {
            SyncMode::Full => "full",
            SyncMode::Resync => "resync of a stale spoke",
            _ => "incremental",
        };
        crate::say!(
            "{} ⇄ {} ({mode}, dry run: {} + {} change(s) read)",
            p.spoke,
            p.hub,
            p.events_read.0,
            p.events_read.1
        );
        crate::say!("  ↑ would go to {}: {}", p.hub, counts_text(&p.uploaded));
        crate::say!(
            "  ↓ would go to {}: {}",
            p.spoke,
            counts_text(&p.downloaded)
        );
        for c in &p.conflicts {
            crate::say!("  ⚡ {}", conflict_line(c));
        }
        if !p.compared_whole.is_empty() {
            crate::say!(
                "  (compared row by row in this round, what differs not counted above: {})",
                p.compared_whole.join(", ")
            );
        }
        let fate = if p.stops {
            "would stop the round ([sync] on_error = \"stop\")"
        } else {
            "would be parked"
        };
        for c in &p.conversions {
            let rows = c.rows.map_or(String::new(), |n| format!(", {n} row(s)"));
            crate::say!(
                "  ≈ {}.{} {} ('{}' on {}): {}, {}{rows}",
                c.table,
                c.column,
                c.direction,
                c.local,
                p.spoke,
                c.types,
                c.fidelity
            );
        }
        for r in &p.refused {
            crate::say!(
                "  ✗ {}{} on {} {}: {}",
                r.refused.table,
                r.refused.code,
                r.node,
                if r.held { "would be held" } else { fate },
                r.refused.message
            );
        }
        if p.more {
            crate::say!(
                "  (more changes follow: the sync would run further rounds, not planned here)"
            );
        }
    }
    crate::say!("dry run: nothing was written");
}

/// Prints what `repair` found and rewrote, per spoke and table.
pub fn print_repairs(reports: &[RepairReport]) {
    for r in reports {
        let kept = match r.prefer {
            Prefer::Hub => format!("kept {}'s copy", r.round.hub),
            Prefer::Spoke => format!("kept {}'s copy", r.round.spoke),
        };
        crate::say!(
            "{} ⇄ {} (repair, {kept}, {} ms)",
            r.round.spoke,
            r.round.hub,
            r.round.duration_ms
        );
        for t in &r.tables {
            if t.differing_buckets == 0 {
                crate::say!("  ✔ {}: {} row(s), identical", t.table, t.hub_rows);
                continue;
            }
            crate::say!(
                "  {}: {} row(s) on {}, {} on {}; {} of {} bucket(s) differed: {} differing, {} only on {}, {} only on {}; read {} row(s) from {}, {} from {}",
                t.table,
                t.hub_rows,
                r.round.hub,
                t.spoke_rows,
                r.round.spoke,
                t.differing_buckets,
                t.buckets,
                t.differing,
                t.missing,
                r.round.hub,
                t.extra,
                r.round.spoke,
                t.rows_read.0,
                r.round.hub,
                t.rows_read.1,
                r.round.spoke
            );
        }
        crate::say!("  ↑ to {}: {}", r.round.hub, counts_text(&r.round.uploaded));
        crate::say!(
            "  ↓ to {}: {}",
            r.round.spoke,
            counts_text(&r.round.downloaded)
        );
        for c in &r.round.conflicts {
            crate::say!("  ⚡ {}", conflict_line(c));
        }
    }
}

/// Prints the parked changes.
pub fn print_parked(parked: &[hetsync_core::state::Parked]) {
    if parked.is_empty() {
        crate::say!("no parked changes");
        return;
    }
    for p in parked {
        let retry = if p.retry { " (retry asked)" } else { "" };
        crate::say!(
            "{:>5}  {} ⇄ hub: {}'s change of {}{}, {} {}{retry}",
            p.id,
            p.spoke,
            p.node,
            p.table,
            p.code,
            if p.stale { "held" } else { "parked" },
            p.parked_at
        );
        crate::say!("       {}", p.error);
    }
}

/// Prints what `conflicts undo` or `conflicts resolve` wrote.
pub fn print_conflict_write(w: &hetsync_core::engine::ConflictWrite) {
    let what = match (w.written.as_str(), &w.field) {
        ("nothing", _) => {
            crate::say!(
                "conflict {}: {}{} keeps the hub's side, as it stands everywhere",
                w.id,
                w.table,
                w.code
            );
            return;
        }
        ("deleted", _) => "deleted again".to_string(),
        (_, Some(field)) => format!("{field} written"),
        _ => "written back whole".to_string(),
    };
    crate::say!(
        "conflict {}: {}{} {what} at the hub; every spoke gets it in its next round",
        w.id,
        w.table,
        w.code
    );
}

/// Prints logged conflicts.
pub fn print_conflicts(conflicts: &[hetsync_core::state::LoggedConflict]) {
    if conflicts.is_empty() {
        crate::say!("no conflicts logged");
        return;
    }
    for c in conflicts {
        let field = c
            .field
            .as_deref()
            .map(|f| format!(".{f}"))
            .unwrap_or_default();
        crate::say!(
            "{:>5}  {} {}{field} ({}), decided {} in {}'s round by rule {}",
            c.id,
            c.table,
            c.code,
            c.kind,
            c.decided_at,
            c.spoke,
            c.rule
        );
        for (label, change) in [("won ", &c.winner), ("lost", &c.loser)] {
            crate::say!(
                "       {label} {}{} at {}: {}",
                change.node,
                by_user(change.user.as_deref()),
                change.time,
                change.value.as_deref().unwrap_or("NULL")
            );
        }
        if let Some(at) = &c.undone_at {
            crate::say!("       undone at {at}: the losing change was made again");
        }
        match (&c.resolved_at, &c.resolution) {
            (Some(at), Some(kept)) => crate::say!("       resolved at {at}: kept {kept}"),
            _ if c.awaiting() => crate::say!(
                "       awaiting a decision: `hetsync conflicts resolve {} --keep hub|spoke|VALUE`",
                c.id
            ),
            _ => {}
        }
    }
}

/// Prints the status table.
pub fn print_status(status: &StatusReport) {
    crate::say!(
        "{:<20} {:<6} {:<8} {:>9} {:>9} {:>9}  last successful sync",
        "node",
        "role",
        "adapter",
        "position",
        "to send",
        "to get"
    );
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
    for n in &status.nodes {
        let position = if n.unreachable {
            "unreachable".into()
        } else if n.installed {
            n.position.map_or("-".to_string(), |p| p.to_string())
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
            (None, None) if n.role != "hub" => "never".into(),
            _ => String::new(),
        };
        crate::say!(
            "{:<20} {:<6} {:<8} {:>9} {:>9} {:>9}  {last}",
            n.name,
            n.role,
            n.adapter,
            position,
            opt(n.pending_upload),
            opt(n.pending_download)
        );
        if let Some(e) = &n.error {
            crate::say!("{:<20} error: {e}", "");
        }
        if n.parked > 0 {
            crate::say!("{:<20} {} change(s) parked: `hetsync parked`", "", n.parked);
        }
        if let Some(since) = n.bulk.values().min() {
            crate::say!(
                "{:<20} bulk mode since {}: capture suspended on {}; rounds wait for \
                 `hetsync bulk end --node {}`",
                "",
                hetsync_core::change::format_micros(*since),
                n.bulk.keys().cloned().collect::<Vec<_>>().join(", "),
                n.name
            );
        }
        if n.stale {
            crate::say!(
                "{:<20} stale: the hub purged changes it never received; its next round \
                 resyncs it from the hub (changes it cannot decide are held: `hetsync parked`)",
                ""
            );
        }
        if !n.awaiting_comparison.is_empty() {
            crate::say!(
                "{:<20} new in the configuration, compared row by row next round: {}",
                "",
                n.awaiting_comparison.join(", ")
            );
        }
    }
    if status.awaiting_conflicts > 0 {
        crate::say!(
            "{} conflict(s) await a decision: `hetsync conflicts --awaiting`",
            status.awaiting_conflicts
        );
    }
}

/// Prints a verification report.
pub fn print_verify(report: &VerifyReport) {
    for t in &report.tables {
        let bad: Vec<_> = t.nodes.iter().filter(|n| n.differences > 0).collect();
        if bad.is_empty() {
            crate::say!(
                "✔ {}: {} row(s), identical on {} node(s)",
                t.table,
                t.hub_rows,
                t.nodes.len() + 1
            );
            continue;
        }
        crate::say!("✘ {}: hub has {} row(s)", t.table, t.hub_rows);
        for n in bad {
            crate::say!(
                "  {}: {} row(s), {} difference(s)",
                n.node,
                n.rows,
                n.differences
            );
            for code in &n.missing {
                crate::say!("    missing {code}");
            }
            for code in &n.extra {
                crate::say!("    extra   {code}");
            }
            for (code, fields) in &n.differing {
                crate::say!("    differs {code}: {}", fields.join(", "));
            }
        }
    }
    crate::say!(
        "{}",
        if report.ok {
            "all copies match"
        } else {
            "copies differ"
        }
    );
}

/// One adapter as `hetsync plugins` shows it.
#[derive(Debug, serde::Serialize)]
pub struct AdapterEntry {
    /// The name used in `adapter = "…"`.
    pub name: String,
    /// The adapter's version.
    pub version: String,
    /// `built-in` or `plugin`.
    pub origin: &'static str,
    /// The library, for a plugin.
    pub path: Option<std::path::PathBuf>,
    /// The SDK a plugin was built with.
    pub sdk_version: Option<String>,
    /// What its databases can do.
    pub capabilities: hetsync_core::adapter::Capabilities,
}

/// A library refused at load.
#[derive(Debug, serde::Serialize)]
pub struct RefusedEntry {
    /// The library.
    pub path: std::path::PathBuf,
    /// Why.
    pub reason: String,
}

/// What `hetsync plugins` prints.
#[derive(Debug, serde::Serialize)]
pub struct AdapterListing {
    /// Usable adapters, built-ins first.
    pub adapters: Vec<AdapterEntry>,
    /// Libraries refused at load.
    pub refused: Vec<RefusedEntry>,
}

impl AdapterListing {
    /// Lists registered adapters and refusals.
    pub fn of(
        adapters: &[hetsync_plugin_sdk::Registered],
        refused: &[hetsync_plugin_sdk::LoadError],
    ) -> AdapterListing {
        use hetsync_plugin_sdk::Origin;
        AdapterListing {
            adapters: adapters
                .iter()
                .map(|a| AdapterEntry {
                    name: a.factory.name().to_string(),
                    version: a.factory.version().to_string(),
                    origin: match a.origin {
                        Origin::BuiltIn => "built-in",
                        Origin::Plugin(_) => "plugin",
                    },
                    path: match &a.origin {
                        Origin::BuiltIn => None,
                        Origin::Plugin(p) => Some(p.clone()),
                    },
                    sdk_version: a.sdk_version.clone(),
                    capabilities: a.factory.capabilities(),
                })
                .collect(),
            refused: refused
                .iter()
                .map(|r| RefusedEntry {
                    path: r.path.clone(),
                    reason: r.reason.to_string(),
                })
                .collect(),
        }
    }
}

fn capabilities_text(c: &hetsync_core::adapter::Capabilities) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if c.procedures {
        parts.push("procedures");
    }
    if c.statement_triggers {
        parts.push("statement triggers");
    }
    if c.merge {
        parts.push("merge");
    }
    parts.push(match c.bulk_copy {
        hetsync_core::adapter::BulkCopyKind::StagingTable => "bulk copy into staging",
        hetsync_core::adapter::BulkCopyKind::PreparedStatements => "prepared statements",
    });
    parts.join(", ")
}

fn adapter_line(a: &AdapterEntry) -> String {
    let from = match (&a.path, &a.sdk_version) {
        (Some(path), Some(sdk)) => format!("plugin {} (SDK {sdk})", path.display()),
        (Some(path), None) => format!("plugin {}", path.display()),
        _ => "built-in".to_string(),
    };
    format!(
        "{:<12} {:<9} {from}\n{:<12} {:<9} {}",
        a.name,
        a.version,
        "",
        "",
        capabilities_text(&a.capabilities)
    )
}

/// Prints `hetsync plugins`.
pub fn print_adapters(listing: &AdapterListing) {
    for a in &listing.adapters {
        crate::say!("{}", adapter_line(a));
    }
    for r in &listing.refused {
        crate::say!("refused {}: {}", r.path.display(), r.reason);
    }
}

/// Prints `hetsync plugins check` for an accepted library.
pub fn print_check(listing: &AdapterListing) {
    for a in &listing.adapters {
        crate::say!(
            "ok: {} is a usable plugin with ABI {}",
            a.path
                .as_deref()
                .unwrap_or(std::path::Path::new("?"))
                .display(),
            hetsync_plugin_sdk::abi::ABI_MAJOR
        );
        crate::say!("{}", adapter_line(a));
    }
}

/// Prints what `discover` found.
pub fn print_discover(report: &crate::discover::DiscoverReport) {
    use hetsync_core::mapping::loss::Fidelity;
    for n in &report.nodes {
        crate::say!(
            "node {} ({}): {} table(s) harvested",
            n.node,
            n.adapter,
            n.tables
        );
    }
    let fidelity = |f: &Option<Fidelity>| match f {
        Some(f) => f.to_string(),
        None => "no conversion".into(),
    };
    for t in &report.tables {
        crate::say!();
        if !t.on_hub {
            crate::say!("✘ {}: missing on the hub", t.table);
            continue;
        }
        if !t.missing_code.is_empty() {
            crate::say!(
                "✘ {}: code column(s) {} missing on the hub",
                t.table,
                t.missing_code.join(", ")
            );
        }
        let clean = crate::discover::problems_of(t).is_empty();
        let tidy = t.spokes.iter().all(|s| {
            s.exists
                && s.missing_columns.is_empty()
                && s.extra_columns.is_empty()
                && s.differences.is_empty()
                && s.primary_key.is_none()
                && s.local_table == t.table
        });
        let mark = match (clean, tidy) {
            (false, _) => "✘",
            (true, true) => "✔",
            (true, false) => "•",
        };
        crate::say!("{mark} {} (code: {})", t.table, t.code.join(", "));
        for s in &t.spokes {
            let name = if s.local_table == t.table {
                String::new()
            } else {
                format!(" as '{}'", s.local_table)
            };
            if !s.exists {
                crate::say!("  {}: table '{}' is missing", s.node, s.local_table);
                continue;
            }
            crate::say!("  {}{name}:", s.node);
            for d in &s.differences {
                let names = if d.column == d.local {
                    d.column.clone()
                } else {
                    format!("{} → {}", d.column, d.local)
                };
                crate::say!(
                    "    {names}: {} ↔ {}; to node {}, to hub {}",
                    d.hub_type,
                    d.local_type,
                    fidelity(&d.to_node),
                    fidelity(&d.to_hub)
                );
            }
            if !s.missing_columns.is_empty() {
                crate::say!("    missing there: {}", s.missing_columns.join(", "));
            }
            if !s.extra_columns.is_empty() {
                crate::say!("    only there: {}", s.extra_columns.join(", "));
            }
            if let Some(key) = &s.primary_key {
                crate::say!(
                    "    primary key ({}) differs from the hub's ({})",
                    key.join(", "),
                    t.hub_primary_key.join(", ")
                );
            }
            if s.differences.is_empty()
                && s.missing_columns.is_empty()
                && s.extra_columns.is_empty()
            {
                crate::say!("    same columns and types");
            }
        }
    }
    for u in &report.unmatched {
        crate::say!();
        crate::say!("not synced on {}: {}", u.node, u.tables.join(", "));
    }
    if let Some(path) = &report.mapping_written {
        crate::say!();
        crate::say!("wrote {}: edit slaveTable/slaveField to rename, isDeleted=\"true\" to leave a field out", path.display());
    }
}

/// `hetsync promote`.
pub fn print_promoted(p: &crate::failover::Promoted) {
    crate::say!(
        "promoted '{}' to the hub (epoch {}); '{}' is its standby from now on",
        p.hub,
        p.epoch,
        p.standby
    );
    if !p.old_hub_reachable {
        crate::say!(
            "'{}' cannot be reached: when it is back, its first round uploads what it captured \
             that never reached '{}'",
            p.standby,
            p.hub
        );
    }
}
