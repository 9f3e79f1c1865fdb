//! Test and benchmark support for hetsync: the databases tests run nodes on
//! ([`database::TestDatabase`]: SQLite files, throwaway PostgreSQL and
//! MariaDB servers that start on free loopback ports in temp dirs and stop
//! when dropped, so tests run in parallel without stepping on each other),
//! and the adapter conformance suite a plugin runs with one call.

pub mod conformance;
pub mod database;
pub mod mysql;
pub mod odbc;
pub mod pg;
pub mod plugins;
pub mod process;
pub mod sqlite;
pub mod tls;
