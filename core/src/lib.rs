//! hetsync-core: the dialect-agnostic heart of hetsync.
//!
//! - [`value`]: canonical values that cross between adapters;
//! - [`code`]: the combined code, a row's identity on every node;
//! - [`change`]: change events (tracking rows), change sets, apply batches;
//! - [`schema`]: synced-table definitions and harvested table shapes;
//! - [`adapter`]: the Capture / TypeMapping / Apply traits an adapter implements;
//! - [`options`]: node options an adapter declares and reads;
//! - [`plan`]: pure planning of one sync round (no I/O);
//! - [`report`]: what a round, `status` and `verify` report;
//! - [`engine`]: runs rounds, full syncs, verification and status over adapters;
//! - [`sql`]: identifier and literal quoting shared by every dialect;
//! - [`dialect`]: the SQL text of every statement, per SQL family, driver-free;
//! - [`steps`]: the order of install, reading and apply, driving an adapter's session;
//! - [`state`]: the state store interface (sync history, conflict log);
//! - [`types`]: the canonical intermediate type set adapters map native types to.
//!
//! No database driver lives here: adapters bring their own.

pub mod adapter;
pub mod cache;
pub mod change;
pub mod code;
pub mod dialect;
pub mod digest;
pub mod engine;
pub mod error;
pub mod mapping;
pub mod options;
pub mod plan;
pub mod report;
pub mod schema;
pub mod sql;
pub mod state;
pub mod steps;
pub mod types;
pub mod value;

pub use error::{Error, Result};
