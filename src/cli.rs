//! The command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// hetsync keeps tables in different database systems in sync, in both
/// directions, while people keep editing every copy.
#[derive(Debug, Parser)]
#[command(name = "hetsync", version = version_text(), about, long_about = None)]
pub struct Cli {
    /// The deployment file.
    #[arg(
        long,
        short,
        global = true,
        env = "HETSYNC_CONFIG",
        default_value = "hetsync.toml"
    )]
    pub config: PathBuf,
    /// A directory of adapter plugins (.so/.dll) to load, besides the
    /// config's `[plugins] dir`. Repeatable.
    #[arg(long = "plugin-dir", global = true, env = "HETSYNC_PLUGIN_DIR")]
    pub plugin_dirs: Vec<PathBuf>,
    /// Log filter for stderr, e.g. `info`, `debug`, `hetsync_core=trace`.
    #[arg(long, global = true, env = "HETSYNC_LOG", default_value = "warn")]
    pub log: String,
    /// How log lines are written to stderr: `text`, or `json` (one object
    /// per line, for log collectors).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--version`: the version, the plugin ABI this binary loads and its
/// built-in adapters.
fn version_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let adapters: Vec<&str> = crate::registry::builtin_adapters()
            .iter()
            .map(|a| a.name())
            .collect();
        format!(
            "{} (plugin ABI {}; built-in adapters: {})",
            env!("CARGO_PKG_VERSION"),
            hetsync_plugin_sdk::abi::ABI_MAJOR,
            adapters.join(", ")
        )
    })
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the tracking table and triggers on every node (idempotent).
    Install,
    /// Remove exactly what install created; data tables are untouched.
    /// Refused while a spoke has changes not yet synced.
    Uninstall {
        /// Remove it anyway, discarding the changes not yet synced.
        #[arg(long)]
        force: bool,
    },
    /// Run one sync round for every spoke, or for one.
    Sync {
        /// Only this spoke.
        #[arg(long)]
        node: Option<String>,
        /// Print the round reports as JSON: a list of round reports, and
        /// `{"spoke": …, "error": …}` for each spoke whose round failed.
        #[arg(long)]
        json: bool,
        /// Plan each spoke's next round and print what it would do: rows
        /// each way per table, conflicts with their winners, what it would
        /// park. Nothing is written and no watermark moves.
        #[arg(long)]
        dry_run: bool,
        /// After a failover: compare whole a spoke that synced with the
        /// old hub but never while the standby was in place, taking every
        /// change it captured as new (refused without it).
        #[arg(long)]
        force: bool,
    },
    /// Run as a service: sync each spoke every `[sync] interval` (or its
    /// node's `interval`), retrying a failing spoke with a growing delay,
    /// until SIGTERM or Ctrl-C (the round under way finishes first).
    Run {
        /// Serve Prometheus metrics (/metrics), a health check (/health)
        /// and a status page (/) on this address, e.g. "127.0.0.1:9108"
        /// (port 0: any free port; the address is printed).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// For /health: the longest allowed time since a spoke's last
        /// successful round, e.g. "90s", "10m" (default: three times its
        /// interval, at least a minute).
        #[arg(long, requires = "listen", value_parser = parse_lag)]
        max_lag: Option<std::time::Duration>,
    },
    /// Make the hub's standby (`role = "standby"`) act as the hub, now and
    /// from now on; the hub becomes its standby and, when it is back,
    /// uploads what it captured that never reached the standby. `hetsync
    /// run` does this itself once the hub misses its heartbeats for
    /// `[sync] failover_after`.
    Promote {
        /// The standby.
        node: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show pending changes, watermarks and last sync per node.
    Status {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// For monitoring: exit 1 when a node cannot be read, a spoke's
        /// last round failed or it never synced, or (with --max-lag) its
        /// last successful round is older than that.
        #[arg(long)]
        check: bool,
        /// With --check: the longest allowed time since a spoke's last
        /// successful round, e.g. "90s", "10m", "2h".
        #[arg(long, requires = "check", value_parser = parse_lag)]
        max_lag: Option<std::time::Duration>,
    },
    /// Compare every synced table on every node; exit 3 when they differ.
    Verify {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare each spoke's tables with the hub's by digest and rewrite only
    /// the rows that differ, keeping the preferred copy. Logged like a
    /// round; rows written to the hub reach the other spokes.
    Repair {
        /// Only this spoke.
        #[arg(long)]
        node: Option<String>,
        /// Only this table (repeatable).
        #[arg(long)]
        table: Vec<String>,
        /// Whose copy to keep where a row differs.
        #[arg(long, value_enum, default_value_t = PreferArg::Hub)]
        prefer: PreferArg,
        /// Print the repair reports as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the changes rounds parked (`[sync] on_error = "park"`), or
    /// retry or drop one.
    Parked {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Retry or drop one.
        #[command(subcommand)]
        action: Option<ParkedAction>,
    },
    /// Suspend capture on a node's tables for a large load, and record the
    /// load when it is done (paper 001's bulk mode).
    Bulk {
        /// Begin or end.
        #[command(subcommand)]
        action: BulkAction,
    },
    /// Write back the rows a round changed, as they were before it
    /// (`[sync] backup = "round"`), each as a new change on its node, so
    /// that the other nodes follow in their next rounds.
    Rollback {
        /// The round's id (`hetsync sync` prints it).
        round: String,
        /// Only the rows it changed on this node.
        #[arg(long)]
        node: Option<String>,
        /// Print what was written back per node as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete the tracking rows every peer has integrated and that are older
    /// than the retention (`[sync] retention`, which `sync` also applies
    /// after its rounds), in short batches; the newest row of each node stays.
    Purge {
        /// Print what was purged per node as JSON.
        #[arg(long)]
        json: bool,
        /// The retention for this run, e.g. "30d", "12h" (default: the
        /// config's `[sync] retention`).
        #[arg(long, value_parser = parse_lag)]
        retention: Option<std::time::Duration>,
    },
    /// List the conflicts rounds decided, oldest first: both changes (node,
    /// time, value) and the rule that decided.
    Conflicts {
        /// Print as JSON.
        #[arg(long, global = true)]
        json: bool,
        /// Only this table (its hub name).
        #[arg(long)]
        table: Option<String>,
        /// Only those decided since then: a time back from now ("24h",
        /// "7d") or a UTC time ("2026-11-29", "2026-11-29T08:00:00Z").
        #[arg(long, value_parser = parse_since)]
        since: Option<String>,
        /// Only those held for a decision (`conflict = "manual"`) not made yet.
        #[arg(long)]
        awaiting: bool,
        /// Undo one, or resolve a held one.
        #[command(subcommand)]
        action: Option<ConflictsAction>,
    },
    /// Harvest every node's data dictionary into the state store and compare
    /// the synced tables across nodes (names, types, what each mapping loses).
    Discover {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Write MappingFile.xml next to the config (same names everywhere,
        /// types as found, or as the type rules propose) for you to edit.
        #[arg(long)]
        write_mapping: bool,
        /// Replace an existing mapping file.
        #[arg(long, requires = "write_mapping")]
        force: bool,
    },
    /// List the adapters: built in and loaded from plugin directories.
    Plugins {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Check one library instead.
        #[command(subcommand)]
        action: Option<PluginsAction>,
    },
    /// Print a completion script for a shell (e.g. `hetsync completions
    /// bash > /etc/bash_completion.d/hetsync`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Run the whole story on embedded SQLite with no setup.
    Demo {
        /// Where to create the demo deployment (replaced if it holds a previous demo).
        #[arg(long, default_value = "hetsync-demo")]
        dir: PathBuf,
    },
}

/// `hetsync parked` subcommands.
#[derive(Debug, Subcommand)]
pub enum ParkedAction {
    /// Make the spoke's next round read the row again (fix it first).
    Retry {
        /// The parked change's id.
        id: i64,
    },
    /// Forget it: the change is not synced. A held change (a stale
    /// spoke's resync) gets the hub's copy of its row on the spoke.
    Drop {
        /// The parked change's id.
        id: i64,
    },
}

/// `hetsync bulk` subcommands.
#[derive(Debug, Subcommand)]
pub enum BulkAction {
    /// Suspend capture on the node's tables (keeping a copy of each to
    /// compare with at the end): load the data at full speed, then run
    /// `bulk end`. Rounds refuse the node meanwhile.
    Begin {
        /// The node (the hub or a spoke).
        #[arg(long)]
        node: String,
        /// Only this table (its hub name; repeat for more). Default: every
        /// synced table.
        #[arg(long = "table")]
        tables: Vec<String>,
    },
    /// Give the tables their capture back and record what the load changed
    /// (new and changed rows, deleted rows) as changes made now, which the
    /// next round ships.
    End {
        /// The node.
        #[arg(long)]
        node: String,
        /// The database user to record the changes as (what `user_level`
        /// conflicts weigh); default: none.
        #[arg(long)]
        user: Option<String>,
        /// Print what was recorded per table as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// What `conflicts` does to one logged conflict.
#[derive(Debug, Subcommand)]
pub enum ConflictsAction {
    /// Bring the losing change back: it is made again at the hub as a new
    /// change, and every spoke receives it in its next round.
    Undo {
        /// The conflict's id (`hetsync conflicts`).
        id: i64,
    },
    /// Settle a conflict held for a decision (`conflict = "manual"`):
    /// keep the hub's side (which stood meanwhile), the spoke's losing
    /// change, or a value of the field, written at the hub as a new change.
    Resolve {
        /// The conflict's id (`hetsync conflicts --awaiting`).
        id: i64,
        /// `hub`, `spoke`, or a value for the field (`NULL` for NULL; a
        /// text spelled hub or spoke: --value).
        #[arg(long, required_unless_present = "value", conflicts_with = "value")]
        keep: Option<String>,
        /// A value for the field, whatever it spells.
        #[arg(long)]
        value: Option<String>,
    },
}

/// Whose copy `repair` keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PreferArg {
    /// The hub's: written to the spoke, rows only the spoke has deleted.
    Hub,
    /// The spoke's: written to the hub (and on to the other spokes), rows
    /// only the hub has deleted.
    Spoke,
}

impl From<PreferArg> for hetsync_core::report::Prefer {
    fn from(p: PreferArg) -> Self {
        match p {
            PreferArg::Hub => hetsync_core::report::Prefer::Hub,
            PreferArg::Spoke => hetsync_core::report::Prefer::Spoke,
        }
    }
}

/// `hetsync plugins` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginsAction {
    /// Load one library and say whether it is a usable plugin, and if not
    /// precisely why.
    Check {
        /// The library file.
        file: PathBuf,
    },
}

/// A duration: `--max-lag`, `--retention`.
fn parse_lag(text: &str) -> Result<std::time::Duration, String> {
    hetsync_core::options::parse_duration(text)
}

/// `--since`: a duration back from now or a UTC time, as an RFC 3339 time
/// with milliseconds (the form the state store keeps).
fn parse_since(text: &str) -> Result<String, String> {
    let micros = match hetsync_core::options::parse_duration(text) {
        Ok(back) => {
            let back = chrono::Duration::from_std(back).map_err(|e| e.to_string())?;
            (chrono::Utc::now() - back).timestamp_micros()
        }
        Err(_) => hetsync_core::change::parse_micros(text)
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| t.and_utc().timestamp_micros())
            })
            .ok_or_else(|| {
                format!(
                    "{text:?} is neither a duration (\"24h\", \"7d\") nor a UTC time \
                     (\"2026-11-29\", \"2026-11-29T08:00:00Z\")"
                )
            })?,
    };
    Ok(hetsync_core::change::format_micros(micros))
}
