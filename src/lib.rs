//! The `hetsync` binary's library: adapter registry, commands, output and the
//! demo. `main.rs` only parses the command line and maps errors to exit codes.

pub mod cli;
pub mod commands;
pub mod demo;
pub mod discover;
pub mod faults;
pub mod output;
pub mod progress;
pub mod registry;
pub mod setup;
