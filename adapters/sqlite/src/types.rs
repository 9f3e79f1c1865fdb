//! SQLite declared types → canonical types: the dialect layer's
//! ([`hetsync_core::dialect::sqlite_types`]), shared with the ODBC
//! adapter's generic profile on SQLite.

pub use hetsync_core::dialect::sqlite_types::{canonical, DEFAULT_TYPE_RULES};
