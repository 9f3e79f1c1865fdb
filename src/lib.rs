//! The `hetsync` binary's library: adapter registry, commands, output, the
//! demo and the program itself ([`entry`]); `main.rs` only calls it.

pub mod cli;
pub mod commands;
pub mod demo;
pub mod discover;
pub mod entry;
pub mod failover;
pub mod faults;
pub mod monitor;
pub mod output;
pub mod progress;
pub mod registry;
pub mod run;
pub mod setup;
