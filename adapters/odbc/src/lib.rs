//! hetsync adapter for databases reached through ODBC (unixODBC and the
//! database vendor's driver).
//!
//! A node names an ODBC data source or a whole connection string
//! (`url = "odbc:DSN=planning"`, `url = "odbc:Driver={…};Server=…;"`) and
//! a profile (`[node.options] profile = "…"`), which says which SQL the
//! database speaks:
//!
//! - `kingbase`: KingbaseES, which is PostgreSQL-derived, through its ODBC
//!   driver (or PostgreSQL through psqlODBC): PostgreSQL's dialect
//!   ([`hetsync_core::dialect::postgres::KINGBASE`]) with ODBC's `?`
//!   parameter markers: statement triggers, the `hetsync.apply` setting
//!   against loops, transaction-id watermarks, set-based apply functions;
//!   rows are staged, and a new copy filled, by `INSERT`s of a few rows
//!   each, run with arrays of parameter sets;
//! - `dameng` and `generic` are refused for now, with an error that says so.
//!
//! The SQL is the dialect layer's and the order of steps the core's; this
//! crate holds the driver: connection, binding, decoding, error classes.
//! odbc-api is blocking: every call runs on tokio's blocking pool, one at a
//! time per node.

mod arrays;
mod connection;
mod dictionary;
mod profile;
mod session;
mod url;
mod values;

pub use connection::{OdbcAdapter, OdbcNode};
pub use profile::Profile;
pub use session::OdbcSession;
