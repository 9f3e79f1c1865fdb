//! hetsync-config: the deployment file `hetsync.toml`.
//!
//! ```toml
//! state = "hetsync-state.db"          # optional; relative to this file
//!
//! [plugins]                           # optional
//! dir = "plugins"                     # adapter plugins (.so/.dll) to load; relative to this file
//! call_timeout_seconds = 1800         # a plugin call running longer is cancelled
//!
//! [sync]                              # optional
//! round_events = 25000                # tracking events a round reads per side at most
//! on_error = "stop"                    # or "park": set a change that cannot sync aside, go on
//! retention = "30d"                   # purge tracking rows every peer has integrated, once
//!                                     # this old (after each sync, or `hetsync purge`)
//! stale_after = "90d"                 # a spoke that has not synced for this long no longer
//!                                     # holds the purge back; it resyncs when it returns
//! backup = "none"                     # or "round": keep the rows each round writes as they
//!                                     # were (`hetsync rollback`); or "file": copy SQLite
//!                                     # nodes whole before a round writes to them
//! backup_keep = 10                    # for the newest N rounds
//! interval = "30s"                    # how often `hetsync run` syncs each spoke
//! push = true                         # `hetsync run` also starts a spoke's rounds when a
//!                                     # change is committed on it or on the hub
//! debounce = "200ms"                  # that long after the change, so a burst makes one round
//! failover_after = "90s"              # with a standby: `hetsync run` promotes it once the hub
//!                                     # has missed its heartbeats this long (3 × interval)
//!
//! [[node]]
//! name = "hub"
//! adapter = "sqlite"                  # which adapter serves the node
//! url = "hub.db"                      # adapter URL; ${VAR} reads an environment variable
//! role = "hub"                        # exactly one hub; every other node is a spoke, or
//!                                     # (at most one) "standby": a hot standby of the hub
//!
//! [[node]]
//! name = "planner_zhang"
//! adapter = "sqlite"
//! url = "planner_zhang.db"
//! role = "spoke"
//! priority = 10                       # optional: for tables with conflict = "priority" (default 0)
//! default_user = "zhang"              # optional: for conflict = "user_level", the user of edits
//!                                     # whose database records none (SQLite)
//! interval = "5m"                     # optional: `hetsync run` syncs this spoke this often
//!
//! [users]                             # optional: for conflict = "user_level"
//! zhang = 10                          # database user = level (a user not listed has 0)
//! "王工" = 20
//!
//! [[table]]
//! name = "变电站表"
//! code = ["单位序号", "年份", "ID"]   # the combined code
//! form = "field"                      # "field" (default) or "table"
//! conflict = "latest"                 # who wins a conflict: "latest" (default), "hub", "priority",
//!                                     # "user_level" or "manual" (the hub's side until resolved)
//! allow_lossy = false                 # refuse lossy column mappings (the default)
//! on_unfit = "error"                  # a value that does not fit: "error" (default) or "truncate"
//! ```
//!
//! `mapping = "MappingFile.xml"` (top level, optional) names the mapping file
//! that renames tables and fields per spoke; without the key, a
//! `MappingFile.xml` next to this file is used when it exists.
//!
//! Unknown keys and bad values are errors naming the file, line, column and key.

use hetsync_core::mapping::convert::UnfitPolicy;
use hetsync_core::schema::{ConflictPolicy, SyncForm, TableDef, UserLevels};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where something stands in the config file (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
}

/// A config error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// Where, when known.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(l) => write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                l.line,
                l.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The center every spoke exchanges changes with.
    Hub,
    /// A spoke (slave) that exchanges data only with the hub.
    Spoke,
    /// The hub's hot standby: synced before the spokes in every pass, with
    /// the hub's changes and watermarks mirrored, so it can take the hub's
    /// place (`hetsync promote`, or `hetsync run`'s failover).
    Standby,
}

/// One node of the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// Unique name.
    pub name: String,
    /// Adapter name (e.g. `sqlite`).
    pub adapter: String,
    /// Adapter URL, environment references expanded. May hold a secret: never log it.
    pub url: String,
    /// Hub or spoke.
    pub role: Role,
    /// Where the node's `adapter` key stands (for errors about the adapter).
    pub adapter_at: Location,
    /// `[node.options]`: adapter-specific settings, checked against what the
    /// adapter declares before it connects.
    pub options: BTreeMap<String, serde_json::Value>,
    /// Where each option's value stands.
    pub options_at: BTreeMap<String, Location>,
    /// `priority = N`: the node's weight in conflicts of tables with
    /// `conflict = "priority"` (`None`: not set, counts as 0).
    pub priority: Option<i64>,
    /// `default_user = "…"`: in conflicts of tables with
    /// `conflict = "user_level"`, the user of the changes made on this node
    /// whose database recorded none.
    pub default_user: Option<String>,
    /// `interval = "…"`: how often `hetsync run` syncs this spoke, instead
    /// of `[sync] interval`.
    pub interval: Option<std::time::Duration>,
}

/// A loaded, validated deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The config file.
    pub path: PathBuf,
    /// Its directory: relative paths are resolved against it.
    pub base_dir: PathBuf,
    /// The state store file.
    pub state_path: PathBuf,
    /// Nodes in file order.
    pub nodes: Vec<NodeConfig>,
    /// Synced tables in file order.
    pub tables: Vec<TableDef>,
    /// Where adapter plugins are loaded from.
    pub plugins: PluginsConfig,
    /// The mapping file (`MappingFile.xml`).
    pub mapping: MappingPath,
    /// How rounds run.
    pub sync: SyncConfig,
}

/// A duration greater than zero ("30s", "2m", "250ms").
fn positive_duration(text: &str) -> Result<std::time::Duration, String> {
    match hetsync_core::options::parse_duration(text)? {
        d if d.is_zero() => Err(format!("{text:?} is no interval: give one longer than 0")),
        d => Ok(d),
    }
}

/// The default of [`SyncConfig::debounce`].
pub const DEFAULT_DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(200);

/// The default of [`SyncConfig::interval`].
pub const DEFAULT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// The `[sync]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Tracking events a round reads per side at most: a backlog drains in
    /// rounds of this size, each committing its progress.
    pub round_events: u64,
    /// What a round does with a change it cannot sync: stop (all or
    /// nothing), or park it and go on.
    pub on_error: hetsync_core::engine::OnError,
    /// How old a tracking row every peer has integrated must be before it
    /// is purged; `None`: tracking rows are kept.
    pub retention: Option<std::time::Duration>,
    /// How long a spoke may go without a successful round before the purge
    /// stops keeping the hub's tracking rows for it (it then resyncs when
    /// it returns); `None`: every spoke holds them until it syncs.
    pub stale_after: Option<std::time::Duration>,
    /// What a round keeps before it writes to a node: the rows it writes,
    /// for `hetsync rollback` (`backup = "round"`), or a copy of a SQLite
    /// node's file (`backup = "file"`).
    pub backup: hetsync_core::engine::Backup,
    /// How many rounds' pre-images (or file copies per node) are kept.
    pub backup_keep: usize,
    /// How often `hetsync run` syncs each spoke.
    pub interval: std::time::Duration,
    /// Push mode: `hetsync run` also starts a spoke's rounds when a
    /// change is committed on it or on the hub, without waiting for its
    /// interval.
    pub push: bool,
    /// In push mode, how long after a change its rounds start, so a burst
    /// of commits makes one round.
    pub debounce: std::time::Duration,
    /// With a standby: how long the hub may miss its heartbeats before
    /// `hetsync run` promotes the standby; `None`: three intervals
    /// ([`Config::failover_after`]).
    pub failover_after: Option<std::time::Duration>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            round_events: hetsync_core::engine::DEFAULT_ROUND_EVENTS,
            on_error: hetsync_core::engine::OnError::Stop,
            retention: None,
            stale_after: None,
            backup: hetsync_core::engine::Backup::None,
            backup_keep: hetsync_core::engine::DEFAULT_BACKUP_KEEP,
            interval: DEFAULT_INTERVAL,
            push: true,
            debounce: DEFAULT_DEBOUNCE,
            failover_after: None,
        }
    }
}

/// Where the mapping file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingPath {
    /// Its path, resolved against the config's directory.
    pub path: PathBuf,
    /// Whether the config names it (then it must exist); otherwise it is
    /// used only when it exists.
    pub required: bool,
}

/// The `[plugins]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginsConfig {
    /// The plugin directory, resolved against the config's directory.
    pub dir: Option<PathBuf>,
    /// How long one plugin call may run before it is cancelled.
    pub call_timeout: std::time::Duration,
}

/// The default limit of one plugin call.
pub const DEFAULT_PLUGIN_CALL_TIMEOUT: std::time::Duration =
    std::time::Duration::from_secs(30 * 60);

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            dir: None,
            call_timeout: DEFAULT_PLUGIN_CALL_TIMEOUT,
        }
    }
}

impl Config {
    /// The hub.
    pub fn hub(&self) -> &NodeConfig {
        self.nodes
            .iter()
            .find(|n| n.role == Role::Hub)
            .expect("validated: one hub")
    }

    /// The spokes, in file order.
    pub fn spokes(&self) -> impl Iterator<Item = &NodeConfig> {
        self.nodes.iter().filter(|n| n.role == Role::Spoke)
    }

    /// The hub's standby, if one is configured.
    pub fn standby(&self) -> Option<&NodeConfig> {
        self.nodes.iter().find(|n| n.role == Role::Standby)
    }

    /// How long `hetsync run` lets the hub miss its heartbeats before it
    /// promotes the standby: `[sync] failover_after`, or three intervals.
    pub fn failover_after(&self) -> std::time::Duration {
        self.sync.failover_after.unwrap_or(self.sync.interval * 3)
    }

    /// An error about this config at a location.
    pub fn error_at(&self, location: Location, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.path.clone(),
            location: Some(location),
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    state: Option<Spanned<String>>,
    #[serde(default, rename = "node")]
    nodes: Vec<Spanned<RawNode>>,
    #[serde(default, rename = "table")]
    tables: Vec<Spanned<RawTable>>,
    plugins: Option<Spanned<RawPlugins>>,
    mapping: Option<String>,
    sync: Option<RawSync>,
    users: Option<Spanned<BTreeMap<String, i64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    round_events: Option<Spanned<u64>>,
    on_error: Option<Spanned<String>>,
    retention: Option<Spanned<String>>,
    stale_after: Option<Spanned<String>>,
    backup: Option<Spanned<String>>,
    backup_keep: Option<Spanned<usize>>,
    interval: Option<Spanned<String>>,
    push: Option<bool>,
    debounce: Option<Spanned<String>>,
    failover_after: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugins {
    dir: Option<String>,
    call_timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Spanned<String>,
    adapter: Spanned<String>,
    url: Spanned<String>,
    role: Role,
    priority: Option<i64>,
    default_user: Option<String>,
    interval: Option<Spanned<String>>,
    #[serde(default)]
    options: BTreeMap<String, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: Spanned<String>,
    code: Spanned<Vec<String>>,
    #[serde(default = "default_form")]
    form: SyncForm,
    conflict: Option<Spanned<RawConflict>>,
    #[serde(default)]
    allow_lossy: bool,
    #[serde(default)]
    on_unfit: UnfitPolicy,
}

fn default_form() -> SyncForm {
    SyncForm::Field
}

/// A table's `conflict` key: the policy's name.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawConflict {
    Latest,
    Hub,
    Priority,
    UserLevel,
    Manual,
}

/// Loads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        location: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(&text, path)
}

/// Parses and validates config text; `path` names it in errors and anchors
/// relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let at = |offset: usize| location(text, offset);
    let err = |offset: Option<usize>, message: String| ConfigError {
        file: path.to_path_buf(),
        location: offset.map(at),
        message,
    };
    let raw: RawConfig = toml::from_str(text)
        .map_err(|e| err(e.span().map(|s| s.start), e.message().to_string()))?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base_dir = if base_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base_dir
    };

    let mut nodes: Vec<NodeConfig> = Vec::new();
    for node in &raw.nodes {
        let n = node.get_ref();
        let name = n.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(err(
                Some(n.name.span().start),
                "key `name`: a node needs a name".into(),
            ));
        }
        if nodes.iter().any(|x| x.name == name) {
            return Err(err(
                Some(n.name.span().start),
                format!("key `name`: node '{name}' is defined twice"),
            ));
        }
        let url = expand_env(n.url.get_ref()).map_err(|m| {
            err(
                Some(n.url.span().start),
                format!("key `url` of node '{name}': {m}"),
            )
        })?;
        let mut options = BTreeMap::new();
        let mut options_at = BTreeMap::new();
        for (key, value) in &n.options {
            let json = serde_json::to_value(value.get_ref()).map_err(|e| {
                err(
                    Some(value.span().start),
                    format!("option `{key}` of node '{name}': {e}"),
                )
            })?;
            options.insert(key.clone(), json);
            options_at.insert(key.clone(), at(value.span().start));
        }
        let interval = match &n.interval {
            None => None,
            Some(v) if n.role == Role::Hub => {
                return Err(err(
                    Some(v.span().start),
                    format!(
                        "key `interval` of node '{name}': the hub has no rounds of its own; set \
                         it on spokes, or `[sync] interval` for all"
                    ),
                ))
            }
            Some(v) => Some(positive_duration(v.get_ref()).map_err(|m| {
                err(
                    Some(v.span().start),
                    format!("key `interval` of node '{name}': {m}"),
                )
            })?),
        };
        nodes.push(NodeConfig {
            name,
            adapter: n.adapter.get_ref().clone(),
            url,
            role: n.role,
            adapter_at: at(n.adapter.span().start),
            options,
            options_at,
            priority: n.priority,
            default_user: n.default_user.clone(),
            interval,
        });
    }
    let hubs: Vec<&Spanned<RawNode>> = raw
        .nodes
        .iter()
        .filter(|n| n.get_ref().role == Role::Hub)
        .collect();
    match hubs.len() {
        0 => {
            return Err(err(
                None,
                "no node has role = \"hub\"; exactly one must".into(),
            ))
        }
        1 => {}
        _ => {
            return Err(err(
                Some(hubs[1].span().start),
                "a second node has role = \"hub\"; exactly one may".into(),
            ))
        }
    }
    if let Some(second) = raw
        .nodes
        .iter()
        .filter(|n| n.get_ref().role == Role::Standby)
        .nth(1)
    {
        return Err(err(
            Some(second.span().start),
            "a second node has role = \"standby\"; at most one may".into(),
        ));
    }
    if !nodes.iter().any(|n| n.role == Role::Spoke) {
        return Err(err(
            None,
            "no node has role = \"spoke\"; a deployment needs at least one".into(),
        ));
    }

    let mut tables: Vec<TableDef> = Vec::new();
    for table in &raw.tables {
        let t = table.get_ref();
        let name = t.name.get_ref().clone();
        if name.is_empty() {
            return Err(err(
                Some(t.name.span().start),
                "key `name`: a table needs a name".into(),
            ));
        }
        if tables.iter().any(|x| x.name == name) {
            return Err(err(
                Some(t.name.span().start),
                format!("key `name`: table '{name}' is listed twice"),
            ));
        }
        let code = t.code.get_ref().clone();
        if code.is_empty() {
            return Err(err(
                Some(t.code.span().start),
                format!("key `code` of table '{name}': list at least one column"),
            ));
        }
        if let Some(dup) = code
            .iter()
            .enumerate()
            .find(|(i, c)| code[..*i].contains(c))
        {
            return Err(err(
                Some(t.code.span().start),
                format!(
                    "key `code` of table '{name}': column '{}' appears twice",
                    dup.1
                ),
            ));
        }
        let conflict = match t.conflict.as_ref().map(|c| (*c.get_ref(), c.span())) {
            None | Some((RawConflict::Latest, _)) => ConflictPolicy::Latest,
            Some((RawConflict::Hub, _)) => ConflictPolicy::Hub,
            Some((RawConflict::Manual, _)) => ConflictPolicy::Manual,
            Some((RawConflict::Priority, span)) => {
                let priorities: BTreeMap<String, i64> = nodes
                    .iter()
                    .filter_map(|n| Some((n.name.clone(), n.priority?)))
                    .collect();
                if priorities.is_empty() {
                    return Err(err(
                        Some(span.start),
                        format!(
                            "key `conflict` of table '{name}': \"priority\" needs `priority = N` \
                             on the nodes ([[node]]); none has one"
                        ),
                    ));
                }
                ConflictPolicy::Priority(priorities)
            }
            Some((RawConflict::UserLevel, span)) => {
                let levels = raw.users.as_ref().map(|u| u.get_ref().clone());
                let Some(levels) = levels.filter(|l| !l.is_empty()) else {
                    return Err(err(
                        Some(span.start),
                        format!(
                            "key `conflict` of table '{name}': \"user_level\" needs a [users] \
                             table of database users and their levels (zhang = 10); there is none"
                        ),
                    ));
                };
                ConflictPolicy::UserLevel(UserLevels {
                    levels,
                    default_users: nodes
                        .iter()
                        .filter_map(|n| Some((n.name.clone(), n.default_user.clone()?)))
                        .collect(),
                })
            }
        };
        tables.push(TableDef {
            name,
            code,
            form: t.form,
            conflict,
            allow_lossy: t.allow_lossy,
            on_unfit: t.on_unfit,
        });
    }
    if tables.is_empty() {
        return Err(err(
            None,
            "no [[table]] is configured; nothing would be synced".into(),
        ));
    }

    let state_path = base_dir.join(
        raw.state
            .as_ref()
            .map(|s| s.get_ref().as_str())
            .unwrap_or("hetsync-state.db"),
    );
    let mut plugins = PluginsConfig::default();
    if let Some(raw_plugins) = &raw.plugins {
        let p = raw_plugins.get_ref();
        plugins.dir = p.dir.as_ref().map(|d| base_dir.join(d));
        if let Some(seconds) = p.call_timeout_seconds {
            if seconds == 0 {
                return Err(err(
                    Some(raw_plugins.span().start),
                    "[plugins] call_timeout_seconds must be at least 1".into(),
                ));
            }
            plugins.call_timeout = std::time::Duration::from_secs(seconds);
        }
    }
    let mapping = MappingPath {
        path: base_dir.join(raw.mapping.as_deref().unwrap_or("MappingFile.xml")),
        required: raw.mapping.is_some(),
    };
    let mut sync = SyncConfig::default();
    if let Some(events) = raw.sync.as_ref().and_then(|s| s.round_events.as_ref()) {
        if *events.get_ref() == 0 {
            return Err(err(
                Some(events.span().start),
                "[sync] round_events must be at least 1".into(),
            ));
        }
        sync.round_events = *events.get_ref();
    }
    if let Some(on_error) = raw.sync.as_ref().and_then(|s| s.on_error.as_ref()) {
        sync.on_error = match on_error.get_ref().as_str() {
            "stop" => hetsync_core::engine::OnError::Stop,
            "park" => hetsync_core::engine::OnError::Park,
            other => {
                return Err(err(
                    Some(on_error.span().start),
                    format!("[sync] on_error must be \"stop\" or \"park\", not \"{other}\""),
                ))
            }
        };
    }
    let duration = |key: &str, value: Option<&Spanned<String>>| {
        value
            .map(|v| {
                hetsync_core::options::parse_duration(v.get_ref())
                    .map_err(|m| err(Some(v.span().start), format!("[sync] {key}: {m}")))
            })
            .transpose()
    };
    let raw_sync = raw.sync.as_ref();
    sync.retention = duration("retention", raw_sync.and_then(|s| s.retention.as_ref()))?;
    sync.stale_after = duration("stale_after", raw_sync.and_then(|s| s.stale_after.as_ref()))?;
    if let Some(backup) = raw_sync.and_then(|s| s.backup.as_ref()) {
        use hetsync_core::engine::Backup;
        sync.backup = match backup.get_ref().as_str() {
            "none" => Backup::None,
            "round" => Backup::Round,
            "file" => Backup::File,
            other => {
                return Err(err(
                    Some(backup.span().start),
                    format!(
                        "[sync] backup must be \"none\", \"round\" or \"file\", not \"{other}\""
                    ),
                ))
            }
        };
    }
    if let Some(interval) = raw_sync.and_then(|s| s.interval.as_ref()) {
        sync.interval = positive_duration(interval.get_ref())
            .map_err(|m| err(Some(interval.span().start), format!("[sync] interval: {m}")))?;
    }
    if let Some(push) = raw_sync.and_then(|s| s.push) {
        sync.push = push;
    }
    if let Some(debounce) = duration("debounce", raw_sync.and_then(|s| s.debounce.as_ref()))? {
        sync.debounce = debounce;
    }
    if let Some(failover) = raw_sync.and_then(|s| s.failover_after.as_ref()) {
        sync.failover_after = Some(positive_duration(failover.get_ref()).map_err(|m| {
            err(
                Some(failover.span().start),
                format!("[sync] failover_after: {m}"),
            )
        })?);
    }
    if let Some(keep) = raw_sync.and_then(|s| s.backup_keep.as_ref()) {
        if *keep.get_ref() == 0 {
            return Err(err(
                Some(keep.span().start),
                "[sync] backup_keep must be at least 1".to_string(),
            ));
        }
        sync.backup_keep = *keep.get_ref();
    }
    Ok(Config {
        path: path.to_path_buf(),
        base_dir,
        state_path,
        nodes,
        tables,
        plugins,
        mapping,
        sync,
    })
}

/// Replaces `${NAME}` with the environment variable NAME.
fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').ok_or("unterminated ${...}")? + start;
        let var = &rest[start + 2..end];
        let value =
            std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?;
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn location(text: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location { line, column }
}

#[cfg(test)]
mod tests;
