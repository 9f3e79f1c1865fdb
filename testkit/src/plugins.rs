//! Builds plugin libraries for tests: the plugin crate of every adapter
//! (`plugins/<adapter>`), and the test libraries of `testkit/plugins`.
//!
//! A build runs once per test process, in the target directory of the
//! `cargo test` that runs the tests (cargo releases its lock before it runs
//! them), so it compiles only what the test build did not already compile.
//! Built files are copied out (into `target/plugin-tests/…`) at once, since a
//! later build may replace them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace")
        .to_path_buf()
}

/// Where tests keep copies of the libraries and binaries they built.
pub fn target_dir() -> PathBuf {
    workspace_root().join("target").join("plugin-tests")
}

/// The file name of a shared library on this platform (`libx.so`, `x.dll`).
pub fn library_file(stem: &str) -> String {
    format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Runs `cargo build --quiet` with these arguments in `dir` (into cargo's
/// own target directory, the one of the tests) and returns the paths of the
/// files it built (libraries, binaries). Panics with cargo's errors (and the
/// free disk space, the usual cause of a build that fails only on some
/// machines) when it fails.
pub fn cargo_build(dir: &Path, args: &[&str]) -> Vec<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--message-format=json-render-diagnostics",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cargo");
    if !output.status.success() {
        let disk = Command::new("df")
            .args(["-h"])
            .arg(workspace_root().join("target"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        panic!(
            "cargo build {args:?} in {} failed ({}):\n{}\n{disk}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .flat_map(|message| match &message["filenames"] {
            serde_json::Value::Array(files) => files.clone(),
            _ => Vec::new(),
        })
        .filter_map(|file| file.as_str().map(PathBuf::from))
        .collect()
}

/// The built file named `name` among a build's files ([`cargo_build`]).
pub fn built_file<'a>(files: &'a [PathBuf], name: &str) -> &'a Path {
    files
        .iter()
        .find(|f| f.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("the build made no {name}; it made {files:?}"))
}

/// The plugin library of the crate whose tests are running: `cargo test`
/// builds a `cdylib` crate's library next to its test executables. `crate`
/// is the library's crate name (`hetsync_adapter_template`).
pub fn built_beside_tests(krate: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let path = exe
        .parent()
        .expect("the test executable's directory")
        .join(library_file(krate));
    assert!(
        path.exists(),
        "{} was not built: is `crate-type` of the library [\"rlib\", \"cdylib\"]?",
        path.display()
    );
    path
}

/// The adapters shipped as plugins, by crate suffix (`hetsync-plugin-<a>`).
pub const ADAPTERS: [&str; 4] = ["sqlite", "postgres", "mysql", "odbc"];

/// The test libraries of `testkit/plugins/examples`: broken ones, an older
/// one (`old_sqlite`) and a multi-adapter one (`profiles`).
pub const TEST_PLUGINS: [&str; 9] = [
    "not_a_plugin",
    "wrong_abi",
    "small_table",
    "panicking",
    "garbage",
    "silent",
    "unsupporting",
    "old_sqlite",
    "profiles",
];

/// Serializes this process's builds into the shared target directory with
/// the copying of their results (a later build may replace a library that
/// an earlier one left there).
static BUILDING: Mutex<()> = Mutex::new(());

/// Copies a built file into `dir` as `name`: into a temporary name of this
/// process's, then renamed, so that a process that has the old file mapped
/// keeps its own copy and test processes copying at once never write one
/// file together.
fn install_copy(from: &Path, dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create plugin copy dir");
    let to = dir.join(name);
    let partial = dir.join(format!(".{name}.{}.partial", std::process::id()));
    std::fs::copy(from, &partial).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    std::fs::rename(&partial, &to).expect("rename plugin copy");
    to
}

/// Builds (once per process) every adapter plugin and every test library,
/// and copies them into `target/plugin-tests/plugins/`; returns that directory.
pub fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let _building = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
        let mut args: Vec<String> = Vec::new();
        for a in ADAPTERS {
            args.push("-p".into());
            args.push(format!("hetsync-plugin-{a}"));
        }
        args.extend(["-p", "hetsync-test-plugins", "--lib", "--examples"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let files = cargo_build(&workspace_root(), &args);
        let copies = target_dir().join("plugins");
        for name in ADAPTERS
            .map(plugin_file)
            .into_iter()
            .chain(TEST_PLUGINS.map(library_file))
        {
            install_copy(built_file(&files, &name), &copies, &name);
        }
        copies
    })
}

/// The file name of an adapter's plugin library (`libhetsync_plugin_sqlite.so`).
pub fn plugin_file(adapter: &str) -> String {
    library_file(&format!("hetsync_plugin_{adapter}"))
}

/// The plugin library of an adapter (`sqlite`, `postgres`, `mysql`).
pub fn adapter_plugin(adapter: &str) -> PathBuf {
    built().join(plugin_file(adapter))
}

/// A directory holding the plugin library of one adapter alone (a
/// deployment's `[plugins] dir`).
/// Copied once per process, from this process's build.
pub fn adapter_plugin_dir(adapter: &str) -> PathBuf {
    static COPIED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut copied = COPIED.lock().unwrap_or_else(|e| e.into_inner());
    let dir = target_dir().join(format!("only-{adapter}"));
    if !copied.iter().any(|a| a == adapter) {
        let name = plugin_file(adapter);
        install_copy(&adapter_plugin(adapter), &dir, &name);
        copied.push(adapter.to_string());
    }
    dir
}

/// A test library of `testkit/plugins/examples/<name>.rs`.
pub fn test_plugin(name: &str) -> PathBuf {
    built().join(library_file(name))
}

/// Builds (once per process) a `hetsync` binary with no built-in adapter
/// but SQLite (`--no-default-features`, as the example `hetsync-bare`, the
/// same program); returns its path.
pub fn bare_binary() -> &'static Path {
    static BARE: OnceLock<PathBuf> = OnceLock::new();
    BARE.get_or_init(|| {
        let _building = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
        let files = cargo_build(
            &workspace_root(),
            &[
                "-p",
                "hetsync",
                "--example",
                "hetsync-bare",
                "--no-default-features",
            ],
        );
        let suffix = std::env::consts::EXE_SUFFIX;
        let built = built_file(&files, &format!("hetsync-bare{suffix}"));
        install_copy(
            built,
            &target_dir().join("bare"),
            &format!("hetsync{suffix}"),
        )
    })
}

/// Builds `examples/adapter-template` as a vendor would, with one plain
/// `cargo build` in its directory (once per process); returns the plugin.
pub fn template_plugin() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let _building = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
        let dir = workspace_root().join("examples").join("adapter-template");
        let files = cargo_build(&dir, &[]);
        let name = library_file("hetsync_adapter_template");
        install_copy(
            built_file(&files, &name),
            &target_dir().join("template"),
            &name,
        )
    })
}
