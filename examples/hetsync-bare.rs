//! The `hetsync` program once more, under another name: the plugin tests
//! build it without the built-in adapters (`--no-default-features`) beside
//! the test build, where a second build of the `hetsync` binary itself would
//! replace the one the other tests run.

/// As in `src/main.rs`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hetsync::entry::main()
}
