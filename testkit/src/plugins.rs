//! Builds plugin libraries for tests: every adapter with its `plugin`
//! feature, and the deliberately broken libraries of `testkit/plugins`.
//!
//! The build runs once per test process, in its own target directory
//! (`target/plugin-tests`): the `cargo test` that runs the tests still holds
//! the lock of the main one, and a `plugin` feature must never be unified
//! into the binary's build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace")
        .to_path_buf()
}

/// The target directory of plugin builds made by tests.
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

/// Runs `cargo` with these arguments against `manifest` into `target`; panics
/// with cargo's output when it fails.
pub fn cargo_build(manifest: &Path, target: &Path, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest)
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo build {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The adapters that can be built as plugins, by crate suffix.
pub const ADAPTERS: [&str; 3] = ["sqlite", "postgres", "mysql"];

/// Builds (once) every adapter plugin and every test library; returns the
/// directory holding the adapter plugins (`libhetsync_adapter_<name>.so`).
/// Test libraries are in its `examples/` subdirectory.
pub fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = workspace_root();
        let features: Vec<String> = ADAPTERS
            .iter()
            .map(|a| format!("hetsync-adapter-{a}/plugin"))
            .collect();
        let mut args: Vec<String> = Vec::new();
        for a in ADAPTERS {
            args.push("-p".into());
            args.push(format!("hetsync-adapter-{a}"));
        }
        args.extend(
            ["-p", "hetsync-test-plugins", "--lib", "--examples", "--features"]
                .map(String::from),
        );
        args.push(features.join(","));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cargo_build(&root.join("Cargo.toml"), &target_dir(), &args);
        target_dir().join("debug")
    })
}

/// The plugin library of an adapter (`sqlite`, `postgres`, `mysql`).
pub fn adapter_plugin(adapter: &str) -> PathBuf {
    built().join(library_file(&format!("hetsync_adapter_{adapter}")))
}

/// A broken test library of `testkit/plugins/examples/<name>.rs`.
pub fn test_plugin(name: &str) -> PathBuf {
    built().join("examples").join(library_file(name))
}
