//! The integration lock of a SQLite hub: an exclusive `flock`-style lock on
//! `<database>.hetsync-lock`, which the operating system releases when the
//! process dies.

use hetsync_core::adapter::IntegrationLock;
use hetsync_core::{Error, Result};
use std::fs::File;
use std::path::Path;
use std::time::Duration;

/// Holds the lock until dropped.
pub(crate) struct FileLock(File);

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl FileLock {
    /// Waits for the lock of the database at `path`, polling every 100 ms
    /// and saying so every 10 s.
    pub(crate) async fn acquire(node: &str, path: &Path) -> Result<IntegrationLock> {
        let mut lock_path = path.to_path_buf().into_os_string();
        lock_path.push(".hetsync-lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::db(node, "opening the integration lock file", e))?;
        let mut polls: u64 = 0;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(IntegrationLock(Box::new(FileLock(file)))),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if polls.is_multiple_of(100) {
                        tracing::info!(node, "waiting for another hetsync to finish integrating");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    polls += 1;
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::db(node, "taking the integration lock", e))
                }
            }
        }
    }
}
