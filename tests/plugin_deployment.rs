//! A `hetsync` built without the PostgreSQL and MariaDB adapters, given
//! their plugin libraries in its plugin directory, runs a mixed deployment
//! (PostgreSQL hub, MariaDB and SQLite spokes) from config to the same rows,
//! byte for byte, as the stock binary with those adapters built in.

mod support;

use std::path::Path;
use std::process::Command;
use support::{Deploy, Servers, BASIC, MIXED};

fn run(binary: &Path, config: &Path, args: &[&str]) -> String {
    let out = Command::new(binary)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("HETSYNC_FAULT")
        .env_remove("HETSYNC_PLUGIN_DIR")
        .output()
        .expect("run hetsync");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "hetsync {args:?}: {text}");
    text
}

/// The same story on a deployment through `binary`.
async fn story(d: &Deploy, binary: &Path) {
    let config = d.config();
    d.seed_two_rows().await;
    run(binary, &config, &["install"]);
    run(binary, &config, &["sync"]);
    d.exec("wang", "UPDATE t_field SET a = 'from wang ✓' WHERE k = 1")
        .await;
    d.exec("zhang", "INSERT INTO t_row VALUES (3, 'zhang''s', 30, 0.1)")
        .await;
    d.exec("hub", "DELETE FROM t_field WHERE k = 2").await;
    d.exec("hub", "UPDATE t_row SET c = 2.5e-7 WHERE k = 2")
        .await;
    for _ in 0..2 {
        run(binary, &config, &["sync"]);
    }
    run(binary, &config, &["verify"]);
}

#[tokio::test]
async fn plugins_dropped_into_a_bare_binary_sync_like_the_built_ins() {
    let bare = hetsync_testkit::plugins::bare_binary();
    let plugins = [
        hetsync_testkit::plugins::adapter_plugin("postgres"),
        hetsync_testkit::plugins::adapter_plugin("mysql"),
    ];
    let topology = MIXED[0];
    let servers = Servers::for_topology(topology);
    let built_in = Deploy::on(topology, servers.clone(), &["wang", "zhang"], BASIC).await;
    let through_plugins = Deploy::on(topology, servers, &["wang", "zhang"], BASIC).await;

    // The operator's steps: copy the libraries into the plugin directory
    // the config names.
    let dir = through_plugins.dir.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    for p in &plugins {
        std::fs::copy(p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let config = through_plugins.config();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[plugins]\ndir = \"plugins\"\n")).unwrap();

    let listing: serde_json::Value =
        serde_json::from_str(&run(bare, &config, &["plugins", "--json"])).unwrap();
    let origins: Vec<(String, String)> = listing["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["origin"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        [
            ("sqlite".to_string(), "built-in".to_string()),
            ("mysql".to_string(), "plugin".to_string()),
            ("postgres".to_string(), "plugin".to_string()),
        ]
    );
    assert_eq!(listing["refused"], serde_json::json!([]));

    story(&built_in, Path::new(env!("CARGO_BIN_EXE_hetsync"))).await;
    story(&through_plugins, bare).await;

    for node in ["hub", "wang", "zhang"] {
        for table in ["t_field", "t_row"] {
            let a = built_in.rows(node, table).await;
            let b = through_plugins.rows(node, table).await;
            assert_eq!(a, b, "{node}.{table}");
        }
    }
    assert_eq!(built_in.rows("zhang", "t_row").await.len(), 3);
    built_in.assert_converged().await;
    through_plugins.assert_converged().await;
}
