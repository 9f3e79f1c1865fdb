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
//! - apply: prepared statements in one transaction (SQLite has no procedures).

mod apply;
mod capture;
mod connection;
mod ddl;
mod dictionary;
mod state_store;
pub mod types;
mod values;

pub use connection::{SqliteAdapter, SqliteNode};
pub use state_store::SqliteStateStore;
