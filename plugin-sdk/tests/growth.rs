//! The ABI grows without breaking either side: an older plugin (first ABI-1
//! table and manifest) loads into this host and works; a host with an
//! older, smaller table loads this SDK's plugins, which read and write no
//! byte beyond it; an operation a plugin does not know is answered
//! `UNSUPPORTED`; one library offers several adapters. The libraries are
//! built from `testkit/plugins/examples`.

use hetsync_core::adapter::{AdapterFactory, NodeSpec};
use hetsync_core::change::Watermark;
use hetsync_core::schema::{ConflictPolicy, SyncForm, SyncTable};
use hetsync_core::Error;
use hetsync_plugin_sdk::abi::{
    ByteView, HostVTable, InitFn, OwnedBuffer, PluginVTable, Status, SubmitFn, INIT_SYMBOL,
};
use hetsync_plugin_sdk::wire::{encode, PluginStats};
use hetsync_plugin_sdk::{LoadOptions, PluginAdapter, PluginLibrary, Registry};
use hetsync_testkit::plugins::{adapter_plugin, test_plugin};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Executor};
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

const TABLE: &str = "变电站表";

/// A SQLite file holding one table with one row.
async fn database(dir: &Path) -> PathBuf {
    let path = dir.join("node.db");
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    conn.execute(r#"CREATE TABLE "变电站表" ("编号" INTEGER PRIMARY KEY, "名称" TEXT)"#)
        .await
        .unwrap();
    conn.execute(r#"INSERT INTO "变电站表" VALUES (1, '东郊')"#)
        .await
        .unwrap();
    path
}

fn spec(path: &Path, options: serde_json::Value) -> NodeSpec {
    NodeSpec {
        name: "节点".into(),
        url: path.display().to_string(),
        base_dir: path.parent().unwrap().to_path_buf(),
        options: serde_json::from_value(options).unwrap(),
    }
}

fn table() -> SyncTable {
    SyncTable {
        name: TABLE.into(),
        columns: vec!["编号".into(), "名称".into()],
        code: vec![0],
        form: SyncForm::Field,
        conflict: ConflictPolicy::Latest,
    }
}

fn load(name: &str) -> PluginLibrary {
    PluginLibrary::load(&test_plugin(name), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn an_older_plugin_loads_works_and_lacks_only_what_came_later() {
    let library = load("old_sqlite");
    assert_eq!(library.table_size, PluginVTable::V1_SIZE);
    assert!(library.manifest.adapters.is_empty(), "an old manifest");
    let names: Vec<&str> = library.adapters.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["old_sqlite"]);

    // What came later is absent, and said so clearly.
    let e = library.stats().expect_err("an old table has no stats");
    let Error::Plugin { plugin, message } = &e else {
        panic!("not a plugin error: {e}")
    };
    assert!(
        plugin.contains("old_sqlite")
            && plugin.contains(&test_plugin("old_sqlite").display().to_string()),
        "{plugin}"
    );
    assert_eq!(
        message,
        &format!(
            "does not support 'stats': its function table of {} bytes ends before that function",
            PluginVTable::V1_SIZE
        )
    );

    // It connects and does real work on a SQLite file.
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path()).await;
    let adapter = PluginAdapter::new(library);
    let node = adapter
        .connect(&spec(&path, serde_json::json!({})))
        .await
        .expect("connect");
    assert_eq!(node.adapter(), "old_sqlite");
    assert_eq!(node.list_tables().await.unwrap(), [TABLE]);
    let shape = node.describe(TABLE).await.unwrap().expect("found");
    let columns: Vec<&str> = shape.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["编号", "名称"]);
    assert!(!node.is_installed().await.unwrap());
    node.install(&[table()]).await.unwrap();
    assert!(node.is_installed().await.unwrap());
    assert_eq!(node.count_rows(&table()).await.unwrap(), 1);
    let rows = node.scan(&table(), None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(node.count_events(Watermark::at(0), None).await.unwrap(), 0);
    node.uninstall().await.unwrap();
    assert!(!node.is_installed().await.unwrap());
}

/// Polls the plugin's stats until they are `expected` (for two seconds at
/// most); returns the last.
async fn stats_until(library: &PluginLibrary, expected: PluginStats) -> PluginStats {
    for _ in 0..200 {
        let stats = library.stats().unwrap();
        if stats == expected {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    library.stats().unwrap()
}

#[tokio::test]
async fn one_library_offers_several_adapters_each_usable_with_its_options() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path()).await;
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(
        test_plugin("profiles"),
        plugins.join(test_plugin("profiles").file_name().unwrap()),
    )
    .unwrap();
    let mut registry = Registry::new(Vec::new());
    registry
        .load_dir(&plugins, &LoadOptions::default())
        .unwrap();
    assert!(registry.refused().is_empty());
    let names: Vec<&str> = registry
        .adapters()
        .iter()
        .map(|a| a.factory.name())
        .collect();
    assert_eq!(names, ["profile_one", "profile_two"]);

    for name in ["profile_one", "profile_two"] {
        let adapter = &registry.find(name).unwrap().factory;
        let node = adapter
            .connect(&spec(
                &path,
                serde_json::json!({ "require_tables": [TABLE] }),
            ))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(node.adapter(), name);
        assert_eq!(node.list_tables().await.unwrap(), [TABLE]);
    }

    // The options cross the boundary as they were given, and the adapter
    // they are for reads them.
    let two = &registry.find("profile_two").unwrap().factory;
    let Err(e) = two
        .connect(&spec(
            &path,
            serde_json::json!({ "require_tables": ["缺失"] }),
        ))
        .await
    else {
        panic!("a missing required table was accepted")
    };
    assert!(
        e.to_string()
            .contains(r#"required table "缺失" is missing"#),
        "{e}"
    );
    let unknown = serde_json::json!({
        "pool": { "size": 12345678901234_i64, "ratio": 1.5, "on": true, "名": "值" }
    });
    let Err(e) = two.connect(&spec(&path, unknown)).await else {
        panic!("an unknown option was accepted")
    };
    let shown = e.to_string();
    assert!(
        shown.contains("adapter 'profile_two' has no option 'pool'"),
        "{shown}"
    );
    for part in [
        r#""size":12345678901234"#,
        r#""ratio":1.5"#,
        r#""on":true"#,
        r#""名":"值""#,
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }

    // The same library again clashes by name and is refused whole.
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    std::fs::copy(test_plugin("profiles"), again.join("libprofiles_again.so")).unwrap();
    registry.load_dir(&again, &LoadOptions::default()).unwrap();
    let refused = registry.refused().last().expect("refused").to_string();
    assert!(
        refused.contains("adapter 'profile_one' is already provided by"),
        "{refused}"
    );
    assert_eq!(registry.adapters().len(), 2);
}

#[tokio::test]
async fn a_current_plugin_reports_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path()).await;
    // A library no other test of this process loads: its counts are ours.
    let library = PluginLibrary::load(&adapter_plugin("sqlite"), &LoadOptions::default()).unwrap();
    assert_eq!(library.table_size, std::mem::size_of::<PluginVTable>());
    let adapter = PluginAdapter::new(library);
    let library = adapter.library();
    assert_eq!(library.stats().unwrap(), PluginStats::default());
    let node = adapter
        .connect(&spec(&path, serde_json::json!({})))
        .await
        .unwrap();
    let lock = node.lock_integration().await.unwrap();
    let held = PluginStats {
        nodes: 1,
        locks: 1,
        calls: 0,
    };
    assert_eq!(library.stats().unwrap(), held);
    // Releasing and closing are sent without waiting for their answers.
    drop(lock);
    let unlocked = PluginStats { locks: 0, ..held };
    assert_eq!(
        stats_until(library, unlocked).await,
        unlocked,
        "unlock released the lock"
    );
    drop(node);
    let closed = PluginStats::default();
    assert_eq!(
        stats_until(library, closed).await,
        closed,
        "close forgot the node"
    );
}

/// Completes a raw call: `ctx` is a boxed sender.
unsafe extern "C" fn done(ctx: *mut c_void, _call: u64, status: Status, result: OwnedBuffer) {
    let sender = Box::from_raw(ctx.cast::<mpsc::Sender<(Status, Vec<u8>)>>());
    let _ = sender.send((status, result.take()));
}

/// Sends raw request bytes through `submit` and waits for the answer.
fn raw_call(submit: SubmitFn, request: &[u8]) -> (Status, String) {
    let (sender, receiver) = mpsc::channel::<(Status, Vec<u8>)>();
    let ctx = Box::into_raw(Box::new(sender)).cast::<c_void>();
    // SAFETY: the request is borrowed for the call; `done` takes `ctx` back.
    let call = unsafe { submit(ByteView::of(request), done, ctx) };
    assert_ne!(call, 0, "the call started");
    let (status, bytes) = receiver.recv_timeout(Duration::from_secs(30)).unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// An older host: its own table holds only `struct_size` (whatever follows
/// in memory is not part of it), and its room for the plugin's table ends
/// after `cancel`. The plugin must read and write nothing beyond either,
/// and answer an operation it does not know `UNSUPPORTED`.
#[test]
fn an_older_host_is_served_within_its_tables_and_unknown_operations_are_unsupported() {
    /// A host table claiming one word, followed by bytes that would crash
    /// the plugin if it read them as the log callback.
    #[repr(C)]
    struct ShortHost {
        struct_size: usize,
        not_ours: [usize; 4],
    }
    let host = ShortHost {
        struct_size: std::mem::size_of::<usize>(),
        not_ours: [usize::MAX; 4],
    };
    const WORDS: usize = 16;
    const SENTINEL: usize = 0x5A5A_5A5A;
    let mut out = [SENTINEL; WORDS];
    let mut error = OwnedBuffer::EMPTY;
    // SAFETY: the library stays loaded for the process; the symbol's type
    // is fixed by ABI 1; every pointer is valid for the call.
    let status = unsafe {
        let library = Box::leak(Box::new(
            libloading::Library::new(test_plugin("profiles")).unwrap(),
        ));
        let init = library.get::<InitFn>(INIT_SYMBOL.as_bytes()).unwrap();
        init(
            (&host as *const ShortHost).cast::<HostVTable>(),
            1,
            out.as_mut_ptr().cast::<PluginVTable>(),
            PluginVTable::V1_SIZE,
            &mut error,
        )
    };
    assert_eq!(status, Status::OK, "{:?}", unsafe { error.take() });
    let word = std::mem::size_of::<usize>();
    assert_eq!(
        out[0],
        std::mem::size_of::<PluginVTable>(),
        "it says how big its table is"
    );
    assert!(
        out[PluginVTable::V1_SIZE / word..]
            .iter()
            .all(|w| *w == SENTINEL),
        "nothing written beyond the host's room: {out:x?}"
    );
    let submit_at = std::mem::offset_of!(PluginVTable, submit) / word;
    // SAFETY: the plugin wrote its `submit` there (an `Option<fn>` is one word).
    let submit: Option<SubmitFn> = unsafe { std::mem::transmute(out[submit_at]) };
    let submit = submit.expect("submit");

    let mut unknown = BTreeMap::new();
    unknown.insert("frobnicate", BTreeMap::from([("node", 1)]));
    let (status, message) = raw_call(submit, &encode(&unknown));
    assert_eq!(status, Status::UNSUPPORTED, "{message}");
    assert!(
        message.starts_with("unknown operation 'frobnicate'"),
        "{message}"
    );

    // A known operation it cannot read is a bad request, not unsupported.
    let mut bad = BTreeMap::new();
    bad.insert("describe", BTreeMap::from([("node", "not a number")]));
    let (status, message) = raw_call(submit, &encode(&bad));
    assert_eq!(status, Status::BAD_REQUEST, "{message}");
}
