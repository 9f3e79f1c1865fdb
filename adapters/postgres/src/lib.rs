//! hetsync adapter for PostgreSQL.
//!
//! - capture: statement-level triggers with transition tables write the
//!   tracking rows of a whole statement set-based (one `INSERT … SELECT` per
//!   statement), keeping changed-field detection and no-op suppression;
//! - loop prevention: a transaction-local setting (`hetsync.apply`), not the
//!   login name, so the application and hetsync may share one login;
//! - watermarks are transaction ids: a round reads only changes of
//!   transactions older than its snapshot's xmin, so a long transaction that
//!   commits late is read by a later round, never skipped;
//! - apply: `COPY` into a temporary staging table, then the per-table apply
//!   function created at install time (delete, then update and insert) runs
//!   the whole batch set-based;
//! - or, with the node option `capture = "logical"`, capture by logical
//!   decoding: writers pay nothing, a round first drains the replication
//!   slot (`pgoutput`) into the tracking table and the engine's writes are
//!   marked with a replication origin ([`hetsync_core::dialect::pg_logical`]).
//!
//! The SQL is [`hetsync_core::dialect::postgres`]'s (Kingbase reuses it) and
//! the order of steps the core's; this crate holds the driver: connection,
//! binding, decoding, COPY.

mod connection;
mod copy;
mod dictionary;
mod logical;
mod pgoutput;
mod session;
pub mod types;
mod values;

pub use connection::{PostgresAdapter, PostgresNode};
pub use session::PostgresSession;
