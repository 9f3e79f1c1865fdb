use super::*;

const GOOD: &str = r#"
[[node]]
name = "hub"
adapter = "sqlite"
url = "hub.db"
role = "hub"

[[node]]
name = "a"
adapter = "sqlite"
url = "sqlite://a.db"
role = "spoke"

[[table]]
name = "变电站表"
code = ["单位序号", "年份", "ID"]
form = "field"

[[table]]
name = "地区概况表"
code = ["ID"]
form = "table"
"#;

fn parse_at(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new("/etc/hetsync/hetsync.toml"))
}

#[test]
fn a_good_config_loads() {
    let c = parse_at(GOOD).unwrap();
    assert_eq!(c.hub().name, "hub");
    assert_eq!(c.spokes().count(), 1);
    assert_eq!(c.tables[0].code, vec!["单位序号", "年份", "ID"]);
    assert_eq!(c.tables[1].form, SyncForm::Table);
    assert_eq!(c.state_path, Path::new("/etc/hetsync/hetsync-state.db"));
}

#[test]
fn unknown_keys_name_file_line_and_key() {
    let text = GOOD.replace("form = \"field\"", "form = \"field\"\ncolour = \"red\"");
    let e = parse_at(&text).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with("/etc/hetsync/hetsync.toml:18:1:"),
        "{shown}"
    );
    assert!(shown.contains("colour"), "{shown}");
}

#[test]
fn bad_values_name_the_line() {
    let text = GOOD.replace("form = \"table\"", "form = \"rows\"");
    let e = parse_at(&text).unwrap_err();
    assert_eq!(e.location.unwrap().line, 22, "{e}");
    assert!(e.message.contains("rows"), "{e}");
}

#[test]
fn two_hubs_are_refused_at_the_second() {
    let text = GOOD.replace("role = \"spoke\"", "role = \"hub\"");
    let e = parse_at(&text).unwrap_err();
    assert_eq!(e.location.unwrap().line, 8, "{e}");
}

#[test]
fn empty_and_duplicate_codes_are_refused() {
    let e = parse_at(&GOOD.replace(r#"["ID"]"#, "[]")).unwrap_err();
    assert!(e.message.contains("at least one column"), "{e}");
    let e = parse_at(&GOOD.replace(r#"["ID"]"#, r#"["ID", "ID"]"#)).unwrap_err();
    assert!(e.message.contains("appears twice"), "{e}");
}

#[test]
fn duplicate_node_names_are_refused() {
    let e = parse_at(&GOOD.replace("name = \"a\"", "name = \"hub\"")).unwrap_err();
    assert!(e.message.contains("defined twice"), "{e}");
}

#[test]
fn urls_read_environment_variables() {
    std::env::set_var("HETSYNC_TEST_DB", "from-env.db");
    let c = parse_at(&GOOD.replace("\"hub.db\"", "\"${HETSYNC_TEST_DB}\"")).unwrap();
    assert_eq!(c.hub().url, "from-env.db");
    let e = parse_at(&GOOD.replace("\"hub.db\"", "\"${HETSYNC_NOT_SET_ANYWHERE}\"")).unwrap_err();
    assert!(e.message.contains("HETSYNC_NOT_SET_ANYWHERE"), "{e}");
    assert_eq!(e.location.unwrap().line, 5);
}

#[test]
fn every_shipped_example_parses() {
    // Every variable a shipped example reads; an example that reads another
    // one fails here naming it.
    for (name, value) in [
        (
            "PLANNING_PG_URL",
            "postgres://sync:secret@localhost/planning",
        ),
        (
            "PLANNING_MARIADB_URL",
            "mysql://sync:secret@localhost/planning",
        ),
        ("PLANNING_KINGBASE_ODBC", "DSN=kingbase_planning;UID=sync"),
        ("PLANNING_DAMENG_ODBC", "DSN=dm_planning;UID=SYNC"),
    ] {
        std::env::set_var(name, value);
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let file = entry.unwrap().path().join("hetsync.toml");
        let config = load(&file).unwrap_or_else(|e| panic!("{e}"));
        assert!(config.spokes().count() >= 1);
        seen += 1;
    }
    assert!(seen >= 2, "examples found: {seen}");
}

#[test]
fn plugins_table_resolves_the_directory_and_timeout() {
    let c = parse_at(GOOD).unwrap();
    assert_eq!(c.plugins, PluginsConfig::default());
    let text = format!("[plugins]\ndir = \"plugins\"\ncall_timeout_seconds = 90\n{GOOD}");
    let c = parse_at(&text).unwrap();
    assert_eq!(
        c.plugins.dir.as_deref(),
        Some(Path::new("/etc/hetsync/plugins"))
    );
    assert_eq!(c.plugins.call_timeout, std::time::Duration::from_secs(90));
    let e = parse_at(&format!("[plugins]\ndirectory = \"x\"\n{GOOD}")).unwrap_err();
    assert_eq!(e.location.unwrap().line, 2, "{e}");
    assert!(e.message.contains("directory"), "{e}");
    let e = parse_at(&format!("[plugins]\ncall_timeout_seconds = 0\n{GOOD}")).unwrap_err();
    assert!(e.message.contains("at least 1"), "{e}");
}

#[test]
fn conflict_policies_load_with_the_nodes_priorities() {
    let text = GOOD
        .replace("role = \"spoke\"", "role = \"spoke\"\npriority = 5")
        .replace(
            "form = \"field\"",
            "form = \"field\"\nconflict = \"priority\"",
        )
        .replace("form = \"table\"", "form = \"table\"\nconflict = \"hub\"");
    let c = parse_at(&text).unwrap();
    assert_eq!(
        c.tables[0].conflict,
        ConflictPolicy::Priority(BTreeMap::from([("a".to_string(), 5)]))
    );
    assert_eq!(c.tables[1].conflict, ConflictPolicy::Hub);
    assert_eq!(c.nodes[1].priority, Some(5));
    assert_eq!(c.nodes[0].priority, None);
}

#[test]
fn priority_without_priorities_and_unknown_policies_are_refused() {
    let text = GOOD.replace(
        "form = \"field\"",
        "form = \"field\"\nconflict = \"priority\"",
    );
    let e = parse_at(&text).unwrap_err();
    assert_eq!(e.location.unwrap().line, 18, "{e}");
    assert!(
        e.message.contains("变电站表") && e.message.contains("priority = N"),
        "{e}"
    );
    let text = GOOD.replace(
        "form = \"field\"",
        "form = \"field\"\nconflict = \"oldest\"",
    );
    let e = parse_at(&text).unwrap_err();
    assert_eq!(e.location.unwrap().line, 18, "{e}");
    assert!(
        e.message.contains("oldest") && e.message.contains("hub"),
        "{e}"
    );
}

#[test]
fn user_level_loads_the_users_and_the_nodes_default_users() {
    let text = format!(
        "[users]\nzhang = 10\n\"王工\" = 20\n{}",
        GOOD.replace(
            "role = \"spoke\"",
            "role = \"spoke\"\ndefault_user = \"王工\""
        )
        .replace(
            "form = \"field\"",
            "form = \"field\"\nconflict = \"user_level\"",
        )
    );
    let c = parse_at(&text).unwrap();
    assert_eq!(
        c.tables[0].conflict,
        ConflictPolicy::UserLevel(UserLevels {
            levels: BTreeMap::from([("zhang".to_string(), 10), ("王工".to_string(), 20)]),
            default_users: BTreeMap::from([("a".to_string(), "王工".to_string())]),
        })
    );
    assert_eq!(c.nodes[1].default_user.as_deref(), Some("王工"));
    assert_eq!(c.tables[1].conflict, ConflictPolicy::Latest);
}

#[test]
fn user_level_without_users_is_refused_and_levels_must_be_numbers() {
    let text = GOOD.replace(
        "form = \"field\"",
        "form = \"field\"\nconflict = \"user_level\"",
    );
    let e = parse_at(&text).unwrap_err();
    assert_eq!(e.location.unwrap().line, 18, "{e}");
    assert!(
        e.message.contains("变电站表") && e.message.contains("[users]"),
        "{e}"
    );
    let e = parse_at(&format!("[users]\nzhang = \"high\"\n{GOOD}")).unwrap_err();
    assert_eq!(e.location.unwrap().line, 2, "{e}");
}

#[test]
fn retention_and_stale_after_load_as_durations() {
    let c = parse_at(&format!(
        "[sync]\nretention = \"30d\"\nstale_after = \"12h\"\n{GOOD}"
    ))
    .unwrap();
    assert_eq!(
        c.sync.retention,
        Some(std::time::Duration::from_secs(30 * 86_400))
    );
    assert_eq!(
        c.sync.stale_after,
        Some(std::time::Duration::from_secs(12 * 3_600))
    );
    assert_eq!(parse_at(GOOD).unwrap().sync.stale_after, None);
    let e = parse_at(&format!("[sync]\nstale_after = \"soon\"\n{GOOD}")).unwrap_err();
    assert_eq!(e.location.unwrap().line, 2, "{e}");
    assert!(e.message.contains("stale_after"), "{e}");
}

#[test]
fn run_intervals_load_per_deployment_and_per_spoke() {
    let c = parse_at(GOOD).unwrap();
    assert_eq!(c.sync.interval, std::time::Duration::from_secs(30));
    assert!(c.nodes.iter().all(|n| n.interval.is_none()));
    let text = format!("[sync]\ninterval = \"250ms\"\n{GOOD}").replacen(
        "role = \"spoke\"",
        "role = \"spoke\"\ninterval = \"2m\"",
        1,
    );
    let c = parse_at(&text).unwrap();
    assert_eq!(c.sync.interval, std::time::Duration::from_millis(250));
    let spoke = c.nodes.iter().find(|n| n.interval.is_some()).unwrap();
    assert_eq!(spoke.interval, Some(std::time::Duration::from_secs(120)));
    let e = parse_at(&format!("[sync]\ninterval = \"0s\"\n{GOOD}")).unwrap_err();
    assert_eq!(e.location.unwrap().line, 2, "{e}");
    assert!(e.message.contains("[sync] interval"), "{e}");
    let on_hub = GOOD.replacen("role = \"hub\"", "role = \"hub\"\ninterval = \"1m\"", 1);
    let e = parse_at(&on_hub).unwrap_err();
    assert!(
        e.message.contains("the hub has no rounds of its own"),
        "{e}"
    );
}

#[test]
fn backup_loads_each_mode_and_refuses_others() {
    use hetsync_core::engine::Backup;
    let c = parse_at(&format!(
        "[sync]\nbackup = \"round\"\nbackup_keep = 3\n{GOOD}"
    ))
    .unwrap();
    assert_eq!(c.sync.backup, Backup::Round);
    assert_eq!(c.sync.backup_keep, 3);
    assert_eq!(parse_at(GOOD).unwrap().sync.backup, Backup::None);
    let c = parse_at(&format!("[sync]\nbackup = \"file\"\n{GOOD}")).unwrap();
    assert_eq!(c.sync.backup, Backup::File);
    let e = parse_at(&format!("[sync]\nbackup = \"tape\"\n{GOOD}")).unwrap_err();
    assert_eq!(e.location.unwrap().line, 2, "{e}");
    assert!(e.message.contains("\"none\", \"round\" or \"file\""), "{e}");
    let e = parse_at(&format!("[sync]\nbackup_keep = 0\n{GOOD}")).unwrap_err();
    assert!(e.message.contains("backup_keep"), "{e}");
}

#[test]
fn one_standby_loads_with_its_failover_time_and_a_second_is_refused() {
    let standby = "\n[[node]]\nname = \"hub2\"\nadapter = \"sqlite\"\nurl = \"hub2.db\"\nrole = \"standby\"\n";
    let c = parse_at(&format!("{GOOD}{standby}")).unwrap();
    assert_eq!(c.standby().map(|n| n.name.as_str()), Some("hub2"));
    assert_eq!(c.spokes().count(), 1, "the standby is no spoke");
    assert_eq!(c.failover_after(), std::time::Duration::from_secs(90));
    let c = parse_at(&format!(
        "[sync]\ninterval = \"10s\"\nfailover_after = \"45s\"\n{GOOD}{standby}"
    ))
    .unwrap();
    assert_eq!(c.failover_after(), std::time::Duration::from_secs(45));
    assert!(parse_at(GOOD).unwrap().standby().is_none());
    let two = format!("{GOOD}{standby}{}", standby.replace("hub2", "hub3"));
    let e = parse_at(&two).unwrap_err();
    assert!(
        e.message.contains("a second node has role = \"standby\""),
        "{e}"
    );
    assert_eq!(e.location.unwrap().line, 30, "{e}");
    let e = parse_at(&format!("[sync]\nfailover_after = \"soon\"\n{GOOD}")).unwrap_err();
    assert!(e.message.contains("[sync] failover_after"), "{e}");
}
