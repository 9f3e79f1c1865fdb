//! Push mode on SQLite: a read-only connection of its own polls
//! `PRAGMA data_version`, which moves whenever another connection commits
//! to the file (the application, or hetsync's own).

use crate::connection::SqliteNode;
use hetsync_core::adapter::ChangeSign;
use hetsync_core::{Error, Result};
use std::time::{Duration, Instant};

/// How often the file's data version is read while waiting.
const POLL: Duration = Duration::from_millis(50);

/// The watching connection and the data version it last saw.
pub(crate) struct Watch {
    conn: rusqlite::Connection,
    version: i64,
}

impl Watch {
    fn open(node: &SqliteNode) -> Result<Watch> {
        let conn = rusqlite::Connection::open_with_flags(
            &node.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| watch_error(node, e))?;
        let mut watch = Watch { conn, version: 0 };
        watch.version = watch.read().map_err(|e| watch_error(node, e))?;
        Ok(watch)
    }

    fn read(&mut self) -> rusqlite::Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
    }
}

fn watch_error(node: &SqliteNode, e: rusqlite::Error) -> Error {
    Error::Database {
        node: node.name.clone(),
        context: "watching the file for commits".into(),
        message: e.to_string(),
    }
}

impl SqliteNode {
    /// [`hetsync_core::adapter::Capture::await_changes`]: the first call
    /// opens the watching connection; later ones poll its data version
    /// until it moves or `timeout` passes. A file locked by a writer reads
    /// as no change yet: its commit moves the version.
    pub(crate) async fn await_commit(&self, timeout: Duration) -> Result<ChangeSign> {
        let mut guard = self.watch.lock().await;
        let Some(watch) = guard.as_mut() else {
            *guard = Some(Watch::open(self)?);
            return Ok(ChangeSign::Changed);
        };
        let deadline = Instant::now() + timeout;
        loop {
            match watch.read() {
                Ok(version) if version != watch.version => {
                    watch.version = version;
                    return Ok(ChangeSign::Changed);
                }
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) => {}
                Err(e) => {
                    *guard = None;
                    return Err(watch_error(self, e));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(ChangeSign::Quiet);
            }
            tokio::time::sleep(POLL.min(deadline - now)).await;
        }
    }
}
