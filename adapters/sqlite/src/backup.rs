//! `[sync] backup = "file"`: before a round writes to the node, a copy of
//! its whole file by SQLite's online backup, `<file>.bak-<round id>`, made
//! under a read of one consistent snapshot and renamed into place when
//! complete; the newest `keep` copies stay.

use crate::connection::SqliteNode;
use crate::direct::Direct;
use hetsync_core::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

impl SqliteNode {
    /// Copies the database to `<file>.bak-<suffix>` and deletes all but the
    /// newest `keep` copies.
    pub(crate) async fn backup_to_file(&self, suffix: &str, keep: usize) -> Result<PathBuf> {
        let target = sibling(&self.path, &format!(".bak-{suffix}"));
        let part = sibling(&target, ".part");
        let context = format!("backing up the database to {}", target.display());
        let mut conn = self.conn.lock().await;
        Direct::default()
            .run(&mut conn, |db| {
                let mut copy = rusqlite::Connection::open(&part)?;
                // One step of every page, under one read, so the copy is one
                // consistent snapshot whatever writers do meanwhile (busy:
                // tried again after a pause).
                let backup = rusqlite::backup::Backup::new(db, &mut copy)?;
                backup.run_to_completion(i32::MAX, Duration::from_millis(50), None)
            })
            .await
            .map_err(self.direct_err(&context))?;
        drop(conn);
        let io = |e: std::io::Error| Error::Database {
            node: self.name.clone(),
            context: context.clone(),
            message: e.to_string(),
        };
        std::fs::rename(&part, &target).map_err(io)?;
        prune(&self.path, keep).map_err(io)?;
        Ok(target)
    }
}

/// `path` with `tail` appended to its file name.
fn sibling(path: &Path, tail: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(tail);
    PathBuf::from(name)
}

/// Deletes all but the newest `keep` complete copies of the database at
/// `path` (newest by modification time).
fn prune(path: &Path, keep: usize) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(
        "{}.bak-",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut copies = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && !name.ends_with(".part") {
            copies.push((entry.metadata()?.modified()?, entry.path()));
        }
    }
    copies.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, old) in copies.into_iter().skip(keep) {
        std::fs::remove_file(old)?;
    }
    Ok(())
}
