//! PostgreSQL types → canonical types: the dialect layer's
//! ([`hetsync_core::dialect::pg_catalog`]), shared with every adapter that
//! speaks PostgreSQL's SQL.

pub use hetsync_core::dialect::pg_catalog::{canonical, DEFAULT_TYPE_RULES};
