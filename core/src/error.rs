//! The error type shared by the core and every adapter.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Result alias used throughout hetsync.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while syncing. Serializable, so that an
/// adapter plugin's error reaches the engine unchanged (a
/// [`Error::ConcurrentEdit`] from a plugin still makes the round retry).
#[derive(Debug, Error, Serialize, Deserialize)]
pub enum Error {
    /// A node could not be reached or opened.
    #[error("cannot connect to node '{node}': {message}")]
    Connect { node: String, message: String },
    /// The database rejected a statement.
    #[error("database error on node '{node}' while {context}: {message}")]
    Database {
        node: String,
        context: String,
        message: String,
    },
    /// A synced table or column does not fit what hetsync needs.
    #[error("table '{table}': {message}")]
    Schema { table: String, message: String },
    /// A value found in a database cannot be used as asked (e.g. a NULL combined code).
    #[error("table '{table}', combined code {code}: {message}")]
    Data {
        table: String,
        code: String,
        message: String,
    },
    /// The database refused a write by one of its own constraints (a
    /// unique key, a foreign key, a check, a NOT NULL): with `[sync]
    /// on_error = "park"` the change is parked.
    #[error("node '{node}' refused a write by one of its constraints while {context}: {message}")]
    Constraint {
        node: String,
        context: String,
        message: String,
    },
    /// Someone edited a row the round was about to write; the round is retried.
    #[error("node '{node}': rows changed while the round was running ({detail}); retry")]
    ConcurrentEdit { node: String, detail: String },
    /// A failure that a retry may well not meet again: a deadlock, a
    /// serialization failure, a busy database, lock or commit barrier. The
    /// round retries it with backoff (see [`Error::is_retryable`]).
    #[error("node '{node}' was busy while {context}: {message}")]
    Transient {
        node: String,
        context: String,
        message: String,
    },
    /// A node is not set up as hetsync needs: install has not run, or a
    /// newer hetsync made its tables.
    #[error("{0}")]
    Setup(String),
    /// A fault was injected at a named point (tests and crash drills).
    #[error("fault injected at {0}")]
    Injected(String),
    /// The deployment itself is wrong (unknown node, no hub, ...).
    #[error("{0}")]
    Deployment(String),
    /// The state store failed.
    #[error("state store: {0}")]
    State(String),
    /// An adapter plugin misbehaved: it could not be loaded, panicked, sent
    /// an unreadable answer or did not answer in time.
    #[error("plugin {plugin}: {message}")]
    Plugin { plugin: String, message: String },
}

/// The code a database gave an error, per SQL family: what
/// [`Error::from_db`] classifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbCode<'a> {
    /// A five-character SQLSTATE (PostgreSQL, Kingbase, ODBC drivers).
    SqlState(&'a str),
    /// A MySQL/MariaDB error number.
    Mysql(u16),
    /// A SQLite result code, primary or extended.
    Sqlite(i64),
    /// A SQL Server error number.
    Mssql(u32),
}

impl DbCode<'_> {
    /// Whether the error goes away when the work is retried: serialization
    /// failures and deadlocks (SQLSTATE 40001, 40P01; MySQL 1213, 1205;
    /// SQL Server 1205), a lock not granted in time (55P03) and a busy or
    /// locked SQLite database.
    pub fn is_transient(self) -> bool {
        match self {
            DbCode::SqlState(state) => matches!(state, "40001" | "40P01" | "55P03"),
            DbCode::Mysql(number) => matches!(number, 1205 | 1213),
            DbCode::Sqlite(code) => matches!(code & 0xff, 5 | 6),
            DbCode::Mssql(number) => number == 1205,
        }
    }
}

impl DbCode<'_> {
    /// Whether the database refused a write by one of its constraints:
    /// SQLSTATE class 23; MySQL 1048 (NOT NULL), 1062 (unique), 1451/1452
    /// (foreign key), 3819 and 4025 (check); SQLite's SQLITE_CONSTRAINT;
    /// SQL Server 515, 547, 2601, 2627.
    pub fn is_constraint(self) -> bool {
        match self {
            DbCode::SqlState(state) => state.starts_with("23"),
            DbCode::Mysql(number) => matches!(number, 1048 | 1062 | 1451 | 1452 | 3819 | 4025),
            DbCode::Sqlite(code) => code & 0xff == 19,
            DbCode::Mssql(number) => matches!(number, 515 | 547 | 2601 | 2627),
        }
    }

    /// What the operator must do about an error that is a missing privilege
    /// or server setting rather than a fault: `None` for other errors.
    pub fn advice(self) -> Option<&'static str> {
        match self {
            DbCode::Mysql(1419) => Some(
                "MariaDB writes a binary log and `log_bin_trust_function_creators` is off, \
                 so creating triggers needs the SUPER privilege: grant it to hetsync's login, \
                 or have an administrator run `SET GLOBAL log_bin_trust_function_creators = 1` \
                 (and set it in the server's configuration), then run `hetsync install` again",
            ),
            _ => None,
        }
    }
}

impl Error {
    /// Builds a [`Error::Database`] from any displayable driver error.
    pub fn db(node: &str, context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Error::Database {
            node: node.to_string(),
            context: context.into(),
            message: err.to_string(),
        }
    }

    /// Builds the error of a failed statement: [`Error::Transient`] when
    /// the database's code says a retry may succeed, [`Error::Constraint`]
    /// when it names one of the database's constraints, [`Error::Setup`] with
    /// what to do when it names a missing privilege or setting
    /// ([`DbCode::advice`]), [`Error::Database`] otherwise. Every adapter
    /// classifies its errors here.
    pub fn from_db(
        node: &str,
        context: impl Into<String>,
        code: Option<DbCode<'_>>,
        err: impl std::fmt::Display,
    ) -> Self {
        if let Some(advice) = code.and_then(DbCode::advice) {
            return Error::Setup(format!(
                "node '{node}': {}: {advice} ({err})",
                context.into()
            ));
        }
        if code.is_some_and(DbCode::is_transient) {
            Error::Transient {
                node: node.to_string(),
                context: context.into(),
                message: err.to_string(),
            }
        } else if code.is_some_and(DbCode::is_constraint) {
            Error::Constraint {
                node: node.to_string(),
                context: context.into(),
                message: err.to_string(),
            }
        } else {
            Error::db(node, context, err)
        }
    }

    /// Whether a round that failed with this error is retried: a concurrent
    /// edit of a row it wrote, or a transient failure.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::ConcurrentEdit { .. } | Error::Transient { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlocks_and_busy_databases_are_transient() {
        for code in [
            DbCode::SqlState("40001"),
            DbCode::SqlState("40P01"),
            DbCode::Mysql(1213),
            DbCode::Mysql(1205),
            DbCode::Mssql(1205),
            DbCode::Sqlite(5),
            DbCode::Sqlite(517),
        ] {
            assert!(code.is_transient(), "{code:?}");
            let e = Error::from_db("n", "writing", Some(code), "boom");
            assert!(e.is_retryable(), "{e}");
            assert!(e.to_string().contains("node 'n'"), "{e}");
        }
        for code in [
            DbCode::SqlState("23505"),
            DbCode::Mysql(1062),
            DbCode::Sqlite(19),
            DbCode::Sqlite(2067),
        ] {
            assert!(!code.is_transient(), "{code:?}");
            assert!(code.is_constraint(), "{code:?}");
            let e = Error::from_db("n", "writing", Some(code), "boom");
            assert!(matches!(e, Error::Constraint { .. }), "{e}");
        }
        assert!(!Error::from_db("n", "x", None, "boom").is_retryable());
    }
}
