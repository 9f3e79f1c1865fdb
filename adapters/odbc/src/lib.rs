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
//! - `generic`: any database behind an ODBC driver, without triggers:
//!   generic SQL ([`hetsync_core::dialect::generic`], the identifier quote
//!   chosen by the database's name, `SQL_DBMS_NAME`), capture by snapshot
//!   difference, the catalog through the driver's catalog functions
//!   (`catalog`), the driver's transactions (autocommit off, a writer
//!   serializable), or SQLite's own `BEGIN IMMEDIATE` under its driver;
//! - `dameng`: DM8's Oracle-like dialect
//!   ([`hetsync_core::dialect::dameng`]): row triggers, a package variable
//!   against loops, the tracking `seq` behind a commit barrier (`barrier`),
//!   the driver's transactions set by `SET TRANSACTION`, rows applied by
//!   statements, the catalog through the driver's catalog functions.
//!
//! The SQL is the dialect layer's and the order of steps the core's; this
//! crate holds the driver: connection, binding, decoding, error classes.
//! odbc-api is blocking: every call runs on tokio's blocking pool, one at a
//! time per node.

mod arrays;
mod barrier;
mod catalog;
mod connection;
mod dictionary;
mod profile;
mod session;
mod url;
mod values;

pub use connection::{OdbcAdapter, OdbcNode};
pub use profile::Profile;
pub use session::OdbcSession;
