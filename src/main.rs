//! `hetsync`: see [`hetsync::entry`].

/// mimalloc, not glibc's malloc: a round allocates and frees millions of
/// small values, and glibc spent about a third of an incremental round's
/// time consolidating and unlinking freed chunks (bench group `sqlite`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hetsync::entry::main()
}
