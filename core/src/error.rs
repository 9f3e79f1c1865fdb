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
    /// Someone edited a row the round was about to write; the round is retried.
    #[error("node '{node}': rows changed while the round was running ({detail}); retry")]
    ConcurrentEdit { node: String, detail: String },
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

impl Error {
    /// Builds a [`Error::Database`] from any displayable driver error.
    pub fn db(node: &str, context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Error::Database {
            node: node.to_string(),
            context: context.into(),
            message: err.to_string(),
        }
    }
}
