//! hetsync adapter for SQLite, the embedded default.
//!
//! - capture: one tracking table `_hetsync_tracking` filled by plain SQL
//!   triggers (`json_array`, `strftime`: no function that only hetsync
//!   registers), so writes from any program are captured;
//! - loop prevention: the engine writes inside one `BEGIN IMMEDIATE`
//!   transaction that first inserts a row into `_hetsync_apply`; the triggers
//!   do nothing while that table is non-empty. SQLite admits one writer at a
//!   time and no other connection sees the uncommitted row, so this holds even
//!   when an application opens the same file the same way;
//! - apply: a batch staged into a temporary table by multi-row `INSERT`s,
//!   then applied set-based, in one transaction (SQLite has no procedures);
//! - statements with parameters and every read run directly on the
//!   connection's handle (module `direct`), not through sqlx-sqlite's worker.
//!
//! The SQL is [`hetsync_core::dialect::sqlite`]'s and the order of steps the
//! core's; this crate holds the driver: connection, binding, decoding.

mod backup;
mod connection;
mod dictionary;
mod digest;
mod direct;
mod lock;
mod session;
mod state_store;
pub mod types;
mod watch;

pub use connection::{SqliteAdapter, SqliteNode};
pub use session::SqliteSession;
pub use state_store::SqliteStateStore;
