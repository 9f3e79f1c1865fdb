//! hetsync adapter for MariaDB 10.11+ and MySQL 8.
//!
//! - capture: one row trigger per table and operation (MySQL has no
//!   statement triggers), each a single `INSERT` into the tracking table,
//!   with binary-exact changed-field detection and no-op suppression;
//! - loop prevention: the session variable `@hetsync_apply`, set only on
//!   hetsync's own connection while it applies a batch;
//! - watermarks are tracking sequence numbers, made safe against
//!   out-of-order commits by a commit barrier: `LOCK TABLES … READ` on the
//!   tracking table waits until every transaction that wrote to it has ended,
//!   so everything up to the sequence read under the lock is final;
//! - apply: rows go by multi-row `INSERT` into a temporary staging table,
//!   then the per-table stored procedure made at install time applies the
//!   whole batch set-based; the guard is checked after the rows are locked.
//!
//! The SQL is [`hetsync_core::dialect::mysql`]'s and the order of steps the
//! core's; this crate holds the driver: connection, binding, decoding, the
//! commit barrier.

mod barrier;
mod connection;
mod dictionary;
mod session;
pub mod types;
mod values;

pub use connection::{MysqlAdapter, MysqlNode};
pub use session::MysqlSession;
