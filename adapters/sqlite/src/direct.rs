//! Statements run directly on the connection's SQLite handle (through
//! rusqlite, over the same libsqlite3-sys as sqlx-sqlite): parameters bound
//! from canonical values without copies, rows read straight into canonical
//! values. sqlx-sqlite runs every statement on a worker thread, copies each
//! value of each row (`sqlite3_value_dup`) and sends the rows one by one
//! through a channel; for the bulk reads and writes of a round that was
//! most of their cost (bench group `sqlite`).

use hetsync_core::value::Value;
use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::SqliteConnection;

/// What a direct statement failed with.
pub(crate) enum DirectError {
    /// The connection's handle could not be taken from its worker.
    Handle(sqlx::Error),
    /// SQLite refused the statement, or a value could not be read.
    Sqlite(rusqlite::Error),
}

impl DirectError {
    /// SQLite's extended result code, where SQLite gave one.
    pub(crate) fn code(&self) -> Option<i64> {
        match self {
            DirectError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                Some(e.extended_code.into())
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for DirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectError::Handle(e) => e.fmt(f),
            DirectError::Sqlite(e) => e.fmt(f),
        }
    }
}

impl From<rusqlite::Error> for DirectError {
    fn from(e: rusqlite::Error) -> Self {
        DirectError::Sqlite(e)
    }
}

/// A canonical value bound as a parameter, borrowed.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Float(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

/// Reads a value by its storage class; text must be UTF-8.
fn value(column: usize, v: ValueRef<'_>) -> rusqlite::Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(bytes) => Value::Text(
            std::str::from_utf8(bytes)
                .map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        column,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?
                .to_string(),
        ),
        ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
    })
}

/// A rusqlite view of one connection's handle, kept for a session so that
/// the statements it prepared are reused (a bulk statement of thousands
/// of parameters costs more to parse than to run).
#[derive(Default)]
pub(crate) struct Direct {
    view: Option<rusqlite::Connection>,
}

impl Direct {
    /// Runs `f` on `conn`'s handle, which the lock keeps from the worker
    /// thread meanwhile. `conn` is the same connection on every call: the
    /// session that owns this view holds it, and drops the view first.
    pub(crate) async fn run<R>(
        &mut self,
        conn: &mut SqliteConnection,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
    ) -> Result<R, DirectError> {
        let mut handle = conn.lock_handle().await.map_err(DirectError::Handle)?;
        let view = match &mut self.view {
            Some(view) => view,
            // SAFETY: the handle is the connection's open database, used
            // by this view only while the lock gives it to this call alone.
            // The view does not own it (it never closes it); its prepared
            // statements are finalized when it drops, which the session
            // holding the connection does before it lets the connection go.
            None => self.view.insert(unsafe {
                rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr())
            }?),
        };
        let out = f(view);
        drop(handle);
        Ok(out?)
    }

    /// Runs one statement that returns no rows with `params`; the rows it
    /// changed.
    pub(crate) async fn execute(
        &mut self,
        conn: &mut SqliteConnection,
        sql: &str,
        params: &[Value],
    ) -> Result<u64, DirectError> {
        self.run(conn, |c| {
            let mut statement = c.prepare_cached(sql)?;
            let changed =
                statement.execute(rusqlite::params_from_iter(params.iter().map(Param)))?;
            Ok(changed as u64)
        })
        .await
    }

    /// Runs one query with `params`; every row, the first `width` columns
    /// of each (all of them when `None`).
    pub(crate) async fn query(
        &mut self,
        conn: &mut SqliteConnection,
        sql: &str,
        params: &[Value],
        width: Option<usize>,
    ) -> Result<Vec<Vec<Value>>, DirectError> {
        self.run(conn, |c| {
            let mut statement = c.prepare_cached(sql)?;
            let width = width.unwrap_or(statement.column_count());
            let mut rows = statement.query(rusqlite::params_from_iter(params.iter().map(Param)))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(
                    (0..width)
                        .map(|i| value(i, row.get_ref(i)?))
                        .collect::<rusqlite::Result<Vec<Value>>>()?,
                );
            }
            Ok(out)
        })
        .await
    }
}
