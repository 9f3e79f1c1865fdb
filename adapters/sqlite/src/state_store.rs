//! The state store in an embedded SQLite file (`hetsync-state.db` next to the
//! config): every round, every conflict with both values, the parked
//! changes.

use async_trait::async_trait;
use hetsync_core::code::CombinedCode;
use hetsync_core::mapping::discover::Dictionary;
use hetsync_core::report::{RoundReport, SyncMode};
use hetsync_core::state::{
    ConflictFilter, LastRound, LoggedChange, LoggedConflict, Parked, PreImage, StateStore,
};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::path::Path;
use std::time::Duration;
use tokio::sync::Mutex;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS rounds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        spoke TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT NOT NULL,
        ok INTEGER NOT NULL,
        mode TEXT,
        rows_moved INTEGER,
        conflicts INTEGER,
        spoke_watermark INTEGER,
        hub_watermark INTEGER,
        error TEXT,
        report TEXT)",
    "CREATE INDEX IF NOT EXISTS rounds_by_spoke ON rounds(spoke, id)",
    "CREATE TABLE IF NOT EXISTS conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        round_id INTEGER NOT NULL REFERENCES rounds(id),
        table_name TEXT NOT NULL,
        code TEXT NOT NULL,
        field TEXT,
        kind TEXT NOT NULL,
        winner_node TEXT NOT NULL,
        winner_time TEXT NOT NULL,
        winner_value TEXT,
        loser_node TEXT NOT NULL,
        loser_time TEXT NOT NULL,
        loser_value TEXT,
        uid TEXT,
        rule TEXT,
        winner_user TEXT,
        loser_user TEXT,
        loser_row TEXT,
        undone_at TEXT,
        resolved_at TEXT,
        resolution TEXT)",
    "CREATE TABLE IF NOT EXISTS dictionaries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        node TEXT NOT NULL,
        adapter TEXT NOT NULL,
        harvested_at TEXT NOT NULL,
        dictionary TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS dictionaries_by_node ON dictionaries(node, id)",
    "CREATE TABLE IF NOT EXISTS pre_images (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        round TEXT NOT NULL,
        node TEXT NOT NULL,
        table_name TEXT NOT NULL,
        code TEXT NOT NULL,
        row TEXT,
        UNIQUE (round, node, table_name, code))",
    "CREATE TABLE IF NOT EXISTS parked (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        spoke TEXT NOT NULL,
        node TEXT NOT NULL,
        table_name TEXT NOT NULL,
        code TEXT NOT NULL,
        stamp TEXT,
        error TEXT NOT NULL,
        parked_at TEXT NOT NULL,
        retry INTEGER NOT NULL DEFAULT 0,
        stale INTEGER NOT NULL DEFAULT 0,
        UNIQUE (spoke, node, table_name, code))",
    "CREATE TABLE IF NOT EXISTS promotions (
        epoch INTEGER PRIMARY KEY,
        node TEXT NOT NULL,
        promoted_at TEXT NOT NULL)",
];

/// A [`StateStore`] in a SQLite file.
pub struct SqliteStateStore {
    conn: Mutex<SqliteConnection>,
}

fn state_err(e: impl std::fmt::Display) -> Error {
    Error::State(e.to_string())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl SqliteStateStore {
    /// Opens (creating if needed) the state file.
    pub async fn open(path: &Path) -> Result<Self> {
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(30))
            .connect()
            .await
            .map_err(|e| Error::State(format!("cannot open {}: {e}", path.display())))?;
        for sql in SCHEMA {
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map_err(state_err)?;
        }
        // State files made before conflicts had ids, or recorded the rule
        // that decided, the users, the losing row, undos and resolutions,
        // get the columns.
        for column in [
            "uid",
            "rule",
            "winner_user",
            "loser_user",
            "loser_row",
            "undone_at",
            "resolved_at",
            "resolution",
        ] {
            let has: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pragma_table_info('conflicts') WHERE name = ?1",
            )
            .bind(column)
            .fetch_one(&mut conn)
            .await
            .map_err(state_err)?;
            if has == 0 {
                sqlx::query(&format!("ALTER TABLE conflicts ADD COLUMN {column} TEXT"))
                    .execute(&mut conn)
                    .await
                    .map_err(state_err)?;
            }
        }
        // Parked changes gained the resync's held ones.
        let has: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pragma_table_info('parked') WHERE name = 'stale'",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(state_err)?;
        if has == 0 {
            sqlx::query("ALTER TABLE parked ADD COLUMN stale INTEGER NOT NULL DEFAULT 0")
                .execute(&mut conn)
                .await
                .map_err(state_err)?;
        }
        sqlx::query("CREATE UNIQUE INDEX IF NOT EXISTS conflicts_by_uid ON conflicts(uid)")
            .execute(&mut conn)
            .await
            .map_err(state_err)?;
        Ok(SqliteStateStore {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `sql` on the parked change `id`; whether there was one.
    async fn on_parked(&self, sql: &str, id: i64) -> Result<bool> {
        let mut conn = self.conn.lock().await;
        let done = sqlx::query(sql)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(state_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn last(&self, spoke: &str, only_ok: bool) -> Result<Option<LastRound>> {
        let mut conn = self.conn.lock().await;
        let row = sqlx::query(
            "SELECT finished_at, ok, error FROM rounds WHERE spoke = ?1 AND (ok = 1 OR ?2 = 0) ORDER BY id DESC LIMIT 1",
        )
        .bind(spoke)
        .bind(only_ok as i64)
        .fetch_optional(&mut *conn)
        .await
        .map_err(state_err)?;
        row.map(|r| {
            Ok(LastRound {
                finished_at: r.try_get(0).map_err(state_err)?,
                ok: r.try_get::<i64, _>(1).map_err(state_err)? != 0,
                error: r.try_get(2).map_err(state_err)?,
            })
        })
        .transpose()
    }
}

/// A row of the conflict log as [`StateStore::conflicts`] selects it.
fn logged_conflict(r: &sqlx::sqlite::SqliteRow) -> Result<LoggedConflict> {
    let text = |i: usize| r.try_get::<String, _>(i).map_err(state_err);
    let change = |i: usize, user: usize| -> Result<LoggedChange> {
        Ok(LoggedChange {
            node: text(i)?,
            time: text(i + 1)?,
            value: r.try_get(i + 2).map_err(state_err)?,
            user: r.try_get(user).map_err(state_err)?,
        })
    };
    // Kinds are stored by their Rust names; entries logged before the rule
    // was recorded were all decided by the only rule there was.
    let kind = match text(6)?.as_str() {
        "UpdateUpdate" => "update_update".to_string(),
        "DeleteUpdate" => "delete_update".to_string(),
        other => other.to_string(),
    };
    Ok(LoggedConflict {
        id: r.try_get(0).map_err(state_err)?,
        spoke: text(1)?,
        decided_at: text(2)?,
        table: text(3)?,
        code: text(4)?,
        field: r.try_get(5).map_err(state_err)?,
        kind,
        rule: r
            .try_get::<Option<String>, _>(7)
            .map_err(state_err)?
            .unwrap_or_else(|| "latest".into()),
        winner: change(8, 14)?,
        loser: change(11, 15)?,
        loser_row: r
            .try_get::<Option<String>, _>(16)
            .map_err(state_err)?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(state_err)?,
        undone_at: r.try_get(17).map_err(state_err)?,
        resolved_at: r.try_get(18).map_err(state_err)?,
        resolution: r.try_get(19).map_err(state_err)?,
    })
}

/// A round's mode as the `rounds` table stores it.
fn mode_text(mode: SyncMode) -> String {
    format!("{mode:?}").to_lowercase()
}

#[async_trait]
impl StateStore for SqliteStateStore {
    async fn record_round(&self, report: &RoundReport) -> Result<()> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await.map_err(state_err)?;
        let json = serde_json::to_string(report).map_err(state_err)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rounds(spoke, started_at, finished_at, ok, mode, rows_moved, conflicts, spoke_watermark, hub_watermark, report)
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        )
        .bind(&report.spoke)
        .bind(&report.started_at)
        .bind(now())
        .bind(mode_text(report.mode))
        .bind(report.rows_moved() as i64)
        .bind(report.conflicts.len() as i64)
        .bind(report.spoke_watermark.pos)
        .bind(report.hub_watermark.pos)
        .bind(json)
        .fetch_one(&mut *tx)
        .await
        .map_err(state_err)?;
        for c in &report.conflicts {
            let loser_row = c
                .loser_row
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(state_err)?;
            sqlx::query(
                "INSERT OR IGNORE INTO conflicts(round_id, table_name, code, field, kind, winner_node, winner_time, winner_value, loser_node, loser_time, loser_value, uid, rule, winner_user, loser_user, loser_row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )
            .bind(id)
            .bind(&c.table)
            .bind(c.code.to_json())
            .bind(&c.field)
            .bind(format!("{:?}", c.kind))
            .bind(&c.winner.origin)
            .bind(c.winner.time_text())
            .bind(&c.winner_value)
            .bind(&c.loser.origin)
            .bind(c.loser.time_text())
            .bind(&c.loser_value)
            .bind(&c.uid)
            .bind(c.rule.name())
            .bind(&c.winner.user)
            .bind(&c.loser.user)
            .bind(loser_row)
            .execute(&mut *tx)
            .await
            .map_err(state_err)?;
        }
        tx.commit().await.map_err(state_err)
    }

    async fn record_failure(
        &self,
        spoke: &str,
        error: &str,
        committed: Option<&RoundReport>,
    ) -> Result<()> {
        let mut conn = self.conn.lock().await;
        let json = committed
            .map(serde_json::to_string)
            .transpose()
            .map_err(state_err)?;
        sqlx::query(
            "INSERT INTO rounds(spoke, started_at, finished_at, ok, mode, rows_moved, conflicts, spoke_watermark, error, report)
             VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(spoke)
        .bind(committed.map(|r| r.started_at.clone()))
        .bind(now())
        .bind(committed.map(|r| mode_text(r.mode)))
        .bind(committed.map(|r| r.rows_moved() as i64))
        .bind(committed.map(|r| r.conflicts.len() as i64))
        .bind(committed.map(|r| r.spoke_watermark.pos))
        .bind(error)
        .bind(json)
        .execute(&mut *conn)
        .await
        .map_err(state_err)?;
        Ok(())
    }

    async fn last_success(&self, spoke: &str) -> Result<Option<LastRound>> {
        self.last(spoke, true).await
    }

    async fn last_round(&self, spoke: &str) -> Result<Option<LastRound>> {
        self.last(spoke, false).await
    }

    async fn record_dictionary(&self, dictionary: &Dictionary) -> Result<()> {
        let json = serde_json::to_string(dictionary).map_err(state_err)?;
        let mut conn = self.conn.lock().await;
        sqlx::query(
            "INSERT INTO dictionaries(node, adapter, harvested_at, dictionary) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&dictionary.node)
        .bind(&dictionary.adapter)
        .bind(now())
        .bind(json)
        .execute(&mut *conn)
        .await
        .map_err(state_err)?;
        Ok(())
    }

    async fn record_promotion(&self, epoch: u64, node: &str) -> Result<()> {
        let epoch = i64::try_from(epoch).map_err(state_err)?;
        let mut conn = self.conn.lock().await;
        sqlx::query(
            "INSERT OR REPLACE INTO promotions(epoch, node, promoted_at) VALUES (?1, ?2, ?3)",
        )
        .bind(epoch)
        .bind(node)
        .bind(now())
        .execute(&mut *conn)
        .await
        .map_err(state_err)?;
        Ok(())
    }

    async fn last_promotion(&self) -> Result<Option<(u64, String)>> {
        let mut conn = self.conn.lock().await;
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT epoch, node FROM promotions ORDER BY epoch DESC LIMIT 1")
                .fetch_optional(&mut *conn)
                .await
                .map_err(state_err)?;
        Ok(row.map(|(epoch, node)| (u64::try_from(epoch).unwrap_or(0), node)))
    }

    async fn park(&self, parked: &Parked) -> Result<()> {
        let code = serde_json::to_string(&parked.code).map_err(state_err)?;
        let stamp = parked
            .stamp
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(state_err)?;
        let mut conn = self.conn.lock().await;
        sqlx::query(
            "INSERT OR REPLACE INTO parked(spoke, node, table_name, code, stamp, error, parked_at, retry, stale)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
        )
        .bind(&parked.spoke)
        .bind(&parked.node)
        .bind(&parked.table)
        .bind(code)
        .bind(stamp)
        .bind(&parked.error)
        .bind(now())
        .bind(parked.stale)
        .execute(&mut *conn)
        .await
        .map_err(state_err)?;
        Ok(())
    }

    async fn parked(&self, spoke: Option<&str>) -> Result<Vec<Parked>> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query(
            "SELECT id, spoke, node, table_name, code, stamp, error, parked_at, retry, stale FROM parked
             WHERE ?1 IS NULL OR spoke = ?1 ORDER BY id",
        )
        .bind(spoke)
        .fetch_all(&mut *conn)
        .await
        .map_err(state_err)?;
        rows.iter()
            .map(|r| {
                let json = |i: usize| -> Result<Option<String>> { r.try_get(i).map_err(state_err) };
                Ok(Parked {
                    id: r.try_get(0).map_err(state_err)?,
                    spoke: r.try_get(1).map_err(state_err)?,
                    node: r.try_get(2).map_err(state_err)?,
                    table: r.try_get(3).map_err(state_err)?,
                    code: serde_json::from_str(&json(4)?.unwrap_or_default()).map_err(state_err)?,
                    stamp: json(5)?
                        .map(|s| serde_json::from_str(&s))
                        .transpose()
                        .map_err(state_err)?,
                    error: r.try_get(6).map_err(state_err)?,
                    parked_at: r.try_get(7).map_err(state_err)?,
                    retry: r.try_get::<i64, _>(8).map_err(state_err)? != 0,
                    stale: r.try_get::<i64, _>(9).map_err(state_err)? != 0,
                })
            })
            .collect()
    }

    async fn retry_parked(&self, id: i64) -> Result<bool> {
        self.on_parked("UPDATE parked SET retry = 1 WHERE id = ?1", id)
            .await
    }

    async fn drop_parked(&self, id: i64) -> Result<bool> {
        self.on_parked("DELETE FROM parked WHERE id = ?1", id).await
    }

    async fn conflicts(&self, filter: &ConflictFilter) -> Result<Vec<LoggedConflict>> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query(
            "SELECT c.id, r.spoke, r.finished_at, c.table_name, c.code, c.field, c.kind, c.rule,
                    c.winner_node, c.winner_time, c.winner_value, c.loser_node, c.loser_time, c.loser_value,
                    c.winner_user, c.loser_user, c.loser_row, c.undone_at, c.resolved_at, c.resolution
             FROM conflicts AS c JOIN rounds AS r ON r.id = c.round_id
             WHERE (?1 IS NULL OR c.table_name = ?1) AND (?2 IS NULL OR r.finished_at >= ?2)
               AND (?3 IS NULL OR c.id = ?3)
               AND (?4 = 0 OR (c.rule = 'manual' AND c.resolved_at IS NULL))
             ORDER BY c.id",
        )
        .bind(&filter.table)
        .bind(&filter.since)
        .bind(filter.id)
        .bind(filter.awaiting)
        .fetch_all(&mut *conn)
        .await
        .map_err(state_err)?;
        rows.iter().map(logged_conflict).collect()
    }

    async fn keep_pre_images(
        &self,
        round: &str,
        node: &str,
        table: &str,
        rows: &[(CombinedCode, Option<Vec<Value>>)],
        keep: usize,
    ) -> Result<()> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await.map_err(state_err)?;
        let known: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pre_images WHERE round = ?1)")
                .bind(round)
                .fetch_one(&mut *tx)
                .await
                .map_err(state_err)?;
        for (code, row) in rows {
            let row = row
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(state_err)?;
            sqlx::query(
                "INSERT OR IGNORE INTO pre_images(round, node, table_name, code, row)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(round)
            .bind(node)
            .bind(table)
            .bind(code.to_json())
            .bind(row)
            .execute(&mut *tx)
            .await
            .map_err(state_err)?;
        }
        // A round's first batch makes the rounds before the newest `keep`
        // go (its later batches leave the same rounds).
        if known {
            return tx.commit().await.map_err(state_err);
        }
        sqlx::query(
            "DELETE FROM pre_images WHERE round NOT IN (
                 SELECT round FROM pre_images GROUP BY round ORDER BY min(id) DESC LIMIT ?1)",
        )
        .bind(keep as i64)
        .execute(&mut *tx)
        .await
        .map_err(state_err)?;
        tx.commit().await.map_err(state_err)
    }

    async fn pre_images(&self, round: &str, node: Option<&str>) -> Result<Vec<PreImage>> {
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query(
            "SELECT node, table_name, code, row FROM pre_images
             WHERE round = ?1 AND (?2 IS NULL OR node = ?2) ORDER BY id",
        )
        .bind(round)
        .bind(node)
        .fetch_all(&mut *conn)
        .await
        .map_err(state_err)?;
        rows.iter()
            .map(|r| {
                let code: String = r.try_get(2).map_err(state_err)?;
                let row: Option<String> = r.try_get(3).map_err(state_err)?;
                Ok(PreImage {
                    node: r.try_get(0).map_err(state_err)?,
                    table: r.try_get(1).map_err(state_err)?,
                    code: serde_json::from_str(&code).map_err(state_err)?,
                    row: row
                        .map(|json| serde_json::from_str(&json))
                        .transpose()
                        .map_err(state_err)?,
                })
            })
            .collect()
    }

    async fn mark_resolved(&self, id: i64, resolution: &str) -> Result<()> {
        let mut conn = self.conn.lock().await;
        sqlx::query("UPDATE conflicts SET resolved_at = ?2, resolution = ?3 WHERE id = ?1")
            .bind(id)
            .bind(now())
            .bind(resolution)
            .execute(&mut *conn)
            .await
            .map_err(state_err)?;
        Ok(())
    }

    async fn mark_undone(&self, id: i64) -> Result<()> {
        let mut conn = self.conn.lock().await;
        sqlx::query("UPDATE conflicts SET undone_at = ?2 WHERE id = ?1")
            .bind(id)
            .bind(now())
            .execute(&mut *conn)
            .await
            .map_err(state_err)?;
        Ok(())
    }

    async fn last_dictionary(&self, node: &str) -> Result<Option<Dictionary>> {
        let mut conn = self.conn.lock().await;
        let json: Option<String> = sqlx::query_scalar(
            "SELECT dictionary FROM dictionaries WHERE node = ?1 ORDER BY id DESC LIMIT 1",
        )
        .bind(node)
        .fetch_optional(&mut *conn)
        .await
        .map_err(state_err)?;
        json.map(|j| serde_json::from_str(&j).map_err(state_err))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `(id, id + add)`, coded by id.
    fn rows(ids: &[i64], add: i64) -> Vec<(CombinedCode, Option<Vec<Value>>)> {
        ids.iter()
            .map(|&id| {
                let row = vec![Value::Int(id), Value::Int(id + add)];
                (
                    CombinedCode::from_row(&row, &[0]).expect("a code"),
                    Some(row),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn pre_images_keep_the_first_image_and_the_newest_rounds() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = SqliteStateStore::open(&dir.path().join("s.db"))
            .await
            .expect("open");
        for round in ["r1", "r2", "r3"] {
            // Two batches per round, the second writing row 2 again.
            state
                .keep_pre_images(round, "hub", "t", &rows(&[1, 2], 0), 2)
                .await
                .unwrap();
            state
                .keep_pre_images(round, "hub", "t", &rows(&[2, 3], 100), 2)
                .await
                .unwrap();
        }
        assert!(state.pre_images("r1", None).await.unwrap().is_empty());
        for round in ["r2", "r3"] {
            let kept = state.pre_images(round, Some("hub")).await.unwrap();
            let got: Vec<_> = kept
                .iter()
                .map(|p| p.row.clone().unwrap()[1].to_string())
                .collect();
            assert_eq!(got, ["1", "2", "103"], "{round}");
        }
    }
}
