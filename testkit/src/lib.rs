//! Test and benchmark support for hetsync: throwaway database servers that
//! start on free loopback ports in temp dirs and stop when dropped, so tests
//! run in parallel without stepping on each other.

pub mod mysql;
pub mod pg;
pub mod plugins;
pub mod tls;
