//! Deliberately broken libraries (built from `testkit/plugins/examples`):
//! each is refused or fails its call with a clear error naming the file,
//! and none crashes or hangs the host.

use hetsync_core::adapter::{AdapterFactory, NodeSpec};
use hetsync_core::Error;
use hetsync_plugin_sdk::{LoadOptions, PluginAdapter, PluginLibrary, Refusal, Registry};
use hetsync_testkit::plugins::{adapter_plugin, test_plugin};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn options() -> LoadOptions {
    LoadOptions {
        runtime_threads: 1,
        call_timeout: Duration::from_millis(500),
    }
}

fn refusal(path: &Path) -> Refusal {
    let e = PluginLibrary::load(path, &options()).expect_err("refused");
    assert_eq!(e.path, path);
    assert!(
        e.to_string().contains(&path.display().to_string()),
        "the error names the file: {e}"
    );
    e.reason
}

fn spec() -> NodeSpec {
    NodeSpec {
        name: "n".into(),
        url: "unused".into(),
        base_dir: PathBuf::from("."),
        options: Default::default(),
    }
}

fn load(name: &str) -> PluginAdapter {
    PluginAdapter::new(PluginLibrary::load(&test_plugin(name), &options()).expect("loads"))
}

#[test]
fn a_file_that_is_not_a_library_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("libnotes.so");
    std::fs::write(&path, "these are not machine instructions").unwrap();
    assert!(matches!(refusal(&path), Refusal::NotALibrary(_)));
    let missing = dir.path().join("libmissing.so");
    assert!(matches!(refusal(&missing), Refusal::NotALibrary(_)));
}

#[test]
fn a_library_without_the_entry_symbol_is_not_a_plugin() {
    let reason = refusal(&test_plugin("not_a_plugin"));
    assert!(matches!(reason, Refusal::NotAPlugin), "{reason}");
    assert!(reason.to_string().contains("hetsync_abi_major"), "{reason}");
}

#[test]
fn a_wrong_abi_major_is_refused_before_init_runs() {
    // Its init aborts the process: reaching it would fail the whole test run.
    let reason = refusal(&test_plugin("wrong_abi"));
    assert!(
        matches!(reason, Refusal::AbiMismatch { found: 99 }),
        "{reason}"
    );
    assert!(reason.to_string().starts_with("AbiMismatch"), "{reason}");
}

#[test]
fn a_too_small_function_table_is_refused() {
    // Smaller than the first ABI-1 table: later tables may be smaller than
    // today's, never than that one.
    let reason = refusal(&test_plugin("small_table"));
    let needed = hetsync_plugin_sdk::abi::PluginVTable::V1_SIZE;
    assert!(
        matches!(reason, Refusal::TableTooSmall { found, needed: n } if found == 2 * std::mem::size_of::<usize>() && n == needed),
        "{reason}"
    );
}

#[tokio::test]
async fn a_panic_inside_a_call_becomes_an_error_and_the_plugin_keeps_working() {
    let adapter = load("panicking");
    let node = adapter.connect(&spec()).await.expect("connect works");
    for _ in 0..3 {
        let e = node
            .describe("变电站表")
            .await
            .expect_err("describe panics");
        let Error::Plugin { plugin, message } = &e else {
            panic!("not a plugin error: {e}")
        };
        assert!(
            plugin.contains("panicking.so") || plugin.contains("panicking"),
            "{plugin}"
        );
        assert!(
            message.contains("panicked during 'describe'")
                && message.contains("deliberate panic describing 变电站表"),
            "{message}"
        );
    }
    assert!(node.position().await.is_err());
}

#[tokio::test]
async fn garbage_answers_are_an_error_naming_the_file() {
    let adapter = load("garbage");
    let path = test_plugin("garbage");
    let Err(e) = adapter.connect(&spec()).await else {
        panic!("garbage accepted")
    };
    let shown = e.to_string();
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert!(shown.contains("unreadable answer to 'connect'"), "{shown}");
}

#[tokio::test]
async fn an_operation_the_plugin_does_not_know_is_an_error_saying_so() {
    let adapter = load("unsupporting");
    let Err(e) = adapter.connect(&spec()).await else {
        panic!("an unsupported connect succeeded")
    };
    let Error::Plugin { plugin, message } = &e else {
        panic!("not a plugin error: {e}")
    };
    assert!(plugin.contains("unsupporting"), "{plugin}");
    assert_eq!(
        message,
        "does not support 'connect': unknown operation (built long ago)"
    );
}

fn cancellations() -> u64 {
    // SAFETY: the library is already loaded by the test; the symbol's type is
    // the one `silent.rs` defines.
    unsafe {
        let lib = libloading::Library::new(test_plugin("silent")).unwrap();
        let f = lib
            .get::<unsafe extern "C" fn() -> u64>(b"silent_cancelled")
            .unwrap();
        let n = f();
        std::mem::forget(lib);
        n
    }
}

#[tokio::test]
async fn a_plugin_that_never_answers_times_out_and_is_cancelled() {
    let adapter = load("silent");
    let before = cancellations();
    let started = std::time::Instant::now();
    let Err(e) = adapter.connect(&spec()).await else {
        panic!("a silent plugin answered")
    };
    assert!(started.elapsed() < Duration::from_secs(10), "the host hung");
    let shown = e.to_string();
    assert!(
        shown.contains("did not answer 'connect' within 500ms; the call was cancelled"),
        "{shown}"
    );
    assert!(shown.contains("silent"), "{shown}");
    assert!(cancellations() > before, "the host cancelled the call");

    // A caller that gives up first (its future dropped) cancels too.
    let before = cancellations();
    let gave_up = tokio::time::timeout(Duration::from_millis(50), adapter.connect(&spec())).await;
    assert!(gave_up.is_err());
    assert!(cancellations() > before, "dropping the call cancelled it");
}

#[test]
fn a_directory_keeps_the_good_plugins_and_lists_the_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["not_a_plugin", "wrong_abi", "panicking"] {
        let from = test_plugin(name);
        std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("README.txt"), "not a library, ignored").unwrap();
    let mut registry = Registry::new(Vec::new());
    registry.load_dir(dir.path(), &options()).unwrap();
    let names: Vec<&str> = registry
        .adapters()
        .iter()
        .map(|a| a.factory.name())
        .collect();
    assert_eq!(names, ["panicking"]);
    let refused: Vec<String> = registry.refused().iter().map(|r| r.to_string()).collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].contains("not_a_plugin") && refused[0].contains("not a hetsync plugin"));
    assert!(refused[1].contains("wrong_abi") && refused[1].contains("AbiMismatch"));

    // The same adapter twice: the second library is refused by name.
    let again = dir.path().join("copy");
    std::fs::create_dir(&again).unwrap();
    let from = test_plugin("panicking");
    std::fs::copy(&from, again.join("libpanicking_again.so")).unwrap();
    registry.load_dir(&again, &options()).unwrap();
    let last = registry.refused().last().unwrap().to_string();
    assert!(
        last.contains("adapter 'panicking' is already provided by"),
        "{last}"
    );
    assert!(registry
        .load_dir(&dir.path().join("absent"), &options())
        .is_err());
}

#[test]
fn an_adapter_plugin_passes_every_load_check() {
    let library = PluginLibrary::load(&adapter_plugin("sqlite"), &options()).expect("loads");
    assert_eq!(library.manifest.adapter, "sqlite");
    assert_eq!(
        library.manifest.abi_major,
        hetsync_plugin_sdk::abi::ABI_MAJOR
    );
    assert_eq!(
        library.manifest.sdk_version,
        hetsync_plugin_sdk::export::SDK_VERSION
    );
}

/// Runs `hetsync --config CONFIG ARGS…` in `dir`; returns its exit code and
/// its output (stdout, then stderr).
fn hetsync_in(dir: &Path, config: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .current_dir(dir)
        .env_remove("HETSYNC_PLUGIN_DIR")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn plugins_check_says_precisely_why_a_library_is_refused() {
    let check = |path: &Path| {
        let file = path.to_str().unwrap();
        hetsync_in(
            Path::new("."),
            Path::new("/nonexistent/hetsync.toml"),
            &["plugins", "check", file],
        )
    };
    let wrong = test_plugin("wrong_abi");
    let (code, text) = check(&wrong);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&wrong.display().to_string())
            && text.contains("AbiMismatch: built for plugin ABI 99"),
        "{text}"
    );
    // This binary has PostgreSQL built in: its plugin would clash.
    let (code, text) = check(&adapter_plugin("postgres"));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("adapter 'postgres' is already provided by the built-in adapter"),
        "{text}"
    );
    let (code, text) = check(&test_plugin("panicking"));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("is a usable plugin with ABI 1"), "{text}");
    assert!(
        text.contains("panicking") && text.contains("prepared statements"),
        "{text}"
    );
    // An older plugin (first ABI-1 table and manifest) is usable too.
    let (code, text) = check(&test_plugin("old_sqlite"));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("old_sqlite"), "{text}");
    // A library offering two adapters: both are listed.
    let (code, text) = check(&test_plugin("profiles"));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("profile_one") && text.contains("profile_two"),
        "{text}"
    );
}

#[test]
fn plugins_check_opens_a_bare_file_name_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let from = test_plugin("panicking");
    let name = from.file_name().unwrap().to_str().unwrap();
    std::fs::copy(&from, dir.path().join(name)).unwrap();
    std::fs::write(dir.path().join("empty.so"), "").unwrap();
    let config = dir.path().join("absent.toml");
    let (code, text) = hetsync_in(dir.path(), &config, &["plugins", "check", name]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("is a usable plugin") && text.contains("panicking"),
        "{text}"
    );
    // The file is there, so it is read, not looked for on the library path.
    let (code, text) = hetsync_in(dir.path(), &config, &["plugins", "check", "empty.so"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("plugin empty.so: cannot be opened as a shared library")
            && !text.contains("No such file"),
        "{text}"
    );
}

#[test]
fn a_plugin_directory_that_does_not_exist_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent.toml");
    let (code, text) = hetsync_in(
        dir.path(),
        &absent,
        &["--plugin-dir", "no-such-dir", "plugins"],
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("--plugin-dir no-such-dir: no such directory (a usage error"),
        "{text}"
    );
    // Named by the config: a configuration error naming the config file.
    let config = dir.path().join("hetsync.toml");
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/sqlite-pair/hetsync.toml");
    let text = std::fs::read_to_string(example).unwrap();
    std::fs::write(&config, format!("{text}\n[plugins]\ndir = \"gone\"\n")).unwrap();
    let (code, text) = hetsync_in(dir.path(), &config, &["plugins"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains(&format!("{}: [plugins] dir:", config.display()))
            && text.contains("gone is not a directory"),
        "{text}"
    );
    // An existing directory, even empty, is fine.
    std::fs::create_dir(dir.path().join("gone")).unwrap();
    let (code, text) = hetsync_in(dir.path(), &config, &["plugins"]);
    assert_eq!(code, Some(0), "{text}");
}
