//! Databases reached through real ODBC drivers: the drivers are registered
//! in a temporary `odbcinst.ini` (`ODBCSYSINI`, never `/etc`), and each
//! kind runs a throwaway server of the database behind the driver.

use crate::database::{TestConnection, TestDatabase};
use crate::pg::PgServer;
use hetsync_core::value::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Where Debian's ODBC driver packages put their libraries.
const DRIVER_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/odbc",
    "/usr/lib/aarch64-linux-gnu/odbc",
    "/usr/lib/odbc",
    "/usr/lib64",
];

/// The drivers tests use: name in `odbcinst.ini`, library, package.
const DRIVERS: &[(&str, &str, &str)] = &[
    ("PostgreSQL Unicode", "psqlodbcw.so", "odbc-postgresql"),
    ("SQLite3", "libsqlite3odbc.so", "libsqliteodbc"),
    ("MariaDB Unicode", "libmaodbc.so", "odbc-mariadb"),
];

/// Writes the test drivers into an `odbcinst.ini` of this process's and
/// points `ODBCSYSINI` at it (once per process, before any ODBC call);
/// panics naming the package of a driver that is not installed.
pub fn register_drivers() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = crate::plugins::target_dir().join(format!("odbc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the odbcinst.ini directory");
        let mut ini = String::new();
        for (name, library, package) in DRIVERS {
            let path = DRIVER_DIRS
                .iter()
                .map(|d| Path::new(d).join(library))
                .find(|p| p.exists())
                .unwrap_or_else(|| {
                    panic!("the ODBC driver {library} is not installed (apt-get install {package})")
                });
            ini.push_str(&format!("[{name}]\nDriver = {}\n\n", path.display()));
        }
        std::fs::write(dir.join("odbcinst.ini"), ini).expect("write odbcinst.ini");
        std::fs::write(dir.join("odbc.ini"), "").expect("write odbc.ini");
        // Once, before this process opens an ODBC environment; spawned
        // hetsync processes inherit it.
        std::env::set_var("ODBCSYSINI", &dir);
        std::env::set_var("ODBCINI", dir.join("odbc.ini"));
        dir
    })
}

/// A throwaway PostgreSQL server reached through psqlODBC, as the ODBC
/// adapter's `kingbase` profile (KingbaseES speaks PostgreSQL's SQL): the
/// live stand-in for Kingbase.
pub struct KingbaseOverPsqlodbc {
    pg: PgServer,
}

impl KingbaseOverPsqlodbc {
    /// Starts the server and registers the drivers.
    pub fn start() -> KingbaseOverPsqlodbc {
        register_drivers();
        KingbaseOverPsqlodbc {
            pg: PgServer::start(),
        }
    }

    /// The ODBC URL of a database on the server.
    pub fn url(&self, database: &str) -> String {
        psqlodbc_url(&self.pg, database)
    }
}

/// The ODBC URL of a database on a test PostgreSQL server through psqlODBC
/// (call [`register_drivers`] first).
pub fn psqlodbc_url(server: &PgServer, database: &str) -> String {
    format!(
        "odbc:Driver={{PostgreSQL Unicode}};Server=127.0.0.1;Port={};Database={database};Uid=postgres;",
        server.port
    )
}

/// The database an ODBC URL of [`KingbaseOverPsqlodbc::url`] names.
fn database_of(url: &str) -> &str {
    url.split(';')
        .find_map(|attr| attr.strip_prefix("Database="))
        .unwrap_or_else(|| panic!("{url} names no database"))
}

#[async_trait::async_trait]
impl TestDatabase for KingbaseOverPsqlodbc {
    fn adapter(&self) -> &str {
        "odbc"
    }

    fn node_options(&self) -> &str {
        "profile = \"kingbase\"\n"
    }

    fn plugin(&self) -> Option<&str> {
        Some("odbc")
    }

    async fn create(&self, dir: &Path, node: &str) -> String {
        let url = self.pg.create(dir, node).await;
        let database = url.rsplit('/').next().expect("a database name");
        self.url(database)
    }

    async fn connect(&self, dir: &Path, url: &str) -> Box<dyn TestConnection> {
        // The application reaches the same database natively.
        self.pg.connect(dir, &self.pg.url(database_of(url))).await
    }

    fn local_events_query(&self, after: i64) -> String {
        self.pg.local_events_query(after)
    }

    fn shift_local_events_sql(&self, after: i64, millis: i64) -> String {
        self.pg.shift_local_events_sql(after, millis)
    }

    fn kill_server(&self) -> bool {
        self.pg.kill_server()
    }

    fn restart_server(&self) {
        self.pg.restart_server()
    }
}

/// The [`TestDatabase`] methods every database behind the ODBC adapter's
/// generic profile shares: capture by snapshot difference, and a tracking
/// table that stamps changes in UTC microseconds.
macro_rules! generic_profile {
    () => {
        fn adapter(&self) -> &str {
            "odbc"
        }

        fn node_options(&self) -> &str {
            "profile = \"generic\"\n"
        }

        fn captures_by_snapshot(&self) -> bool {
            true
        }

        fn plugin(&self) -> Option<&str> {
            Some("odbc")
        }

        fn local_events_query(&self, after: i64) -> String {
            crate::sqlite::SqliteFiles.local_events_query(after)
        }

        fn shift_local_events_sql(&self, after: i64, millis: i64) -> String {
            format!(
                "UPDATE _hetsync_tracking SET changed_at = changed_at + {} \
                 WHERE seq > {after} AND origin IS NULL",
                millis * 1000
            )
        }
    };
}

/// SQLite files reached through the SQLite ODBC driver by the ODBC
/// adapter's `generic` profile: generic SQL, capture by snapshot
/// difference (no triggers), the catalog through the driver. The
/// application edits the same file through the driver too.
pub struct SqliteOverOdbc;

impl SqliteOverOdbc {
    /// Registers the drivers (SQLite needs no server).
    pub fn start() -> SqliteOverOdbc {
        register_drivers();
        SqliteOverOdbc
    }
}

/// An application's connection through an ODBC driver; every call runs
/// on tokio's blocking pool (a driver waits for a busy database there, not
/// on the test's runtime thread).
pub struct OdbcConnection(Arc<Mutex<odbc_api::Connection<'static>>>);

impl OdbcConnection {
    /// Connects with an ODBC connection string.
    pub async fn open(conn_str: String) -> OdbcConnection {
        let conn = tokio::task::spawn_blocking(move || {
            odbc_api::environment()
                .expect("the ODBC driver manager")
                .connect_with_connection_string(&conn_str, Default::default())
                .unwrap_or_else(|e| panic!("connect to {conn_str}: {e}"))
        })
        .await
        .expect("connect");
        OdbcConnection(Arc::new(Mutex::new(conn)))
    }

    /// Runs `work` on the connection on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&odbc_api::Connection<'static>) -> Result<T, odbc_api::Error> + Send + 'static,
    ) -> Result<T, String> {
        let conn = self.0.clone();
        tokio::task::spawn_blocking(move || work(&conn.lock().expect("the connection")))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }
}

/// Whether a column's type is a C type code for 64-bit integers
/// (`SQL_C_SBIGINT`, `SQL_C_UBIGINT`), which the SQLite ODBC driver
/// reports for `INTEGER` columns under `BigInt=1`.
pub fn is_c_bigint(data_type: odbc_api::sys::SqlDataType) -> bool {
    [-25, -27].contains(&data_type.0)
}

/// A value of a result column as SQLite's own client reads it: integers,
/// reals, bytes and text; a `NUMERIC` column's value as the number it
/// holds.
fn odbc_value(
    row: &mut odbc_api::CursorRow<'_>,
    col: u16,
    data_type: odbc_api::DataType,
) -> Result<Value, odbc_api::Error> {
    use odbc_api::DataType as T;
    let mut buf = Vec::new();
    if let T::Binary { .. } | T::Varbinary { .. } | T::LongVarbinary { .. } = data_type {
        return Ok(match row.get_binary(col, &mut buf)? {
            true => Value::Bytes(buf),
            false => Value::Null,
        });
    }
    if !row.get_text(col, &mut buf)? {
        return Ok(Value::Null);
    }
    let text = String::from_utf8(buf).expect("UTF-8 text");
    let number = |text: &str| {
        text.parse()
            .map(Value::Int)
            .or_else(|_| text.parse().map(Value::Float))
            .ok()
    };
    Ok(match data_type {
        T::BigInt | T::Integer | T::SmallInt | T::TinyInt | T::Bit => {
            number(&text).unwrap_or(Value::Text(text))
        }
        T::Other { data_type, .. } if is_c_bigint(data_type) => {
            number(&text).unwrap_or(Value::Text(text))
        }
        T::Real | T::Float { .. } | T::Double => {
            text.parse().map(Value::Float).unwrap_or(Value::Text(text))
        }
        T::Numeric { .. } | T::Decimal { .. } => number(&text).unwrap_or(Value::Text(text)),
        _ => Value::Text(text),
    })
}

#[async_trait::async_trait]
impl TestConnection for OdbcConnection {
    async fn execute(&mut self, sql: &str) -> Result<u64, String> {
        let sql = sql.to_string();
        self.run(move |conn| {
            let mut statement = conn.preallocate()?;
            statement.execute(&sql, ())?;
            Ok(statement.row_count()?.unwrap_or(0) as u64)
        })
        .await
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, String> {
        use odbc_api::{Cursor, ResultSetMetadata};
        let sql = sql.to_string();
        self.run(move |conn| {
            let Some(mut cursor) = conn.execute(&sql, (), None)? else {
                return Ok(Vec::new());
            };
            let n = cursor.num_result_cols()? as u16;
            let types = (1..=n)
                .map(|c| cursor.col_data_type(c))
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = Vec::new();
            while let Some(mut row) = cursor.next_row()? {
                let values = (1..=n)
                    .map(|c| odbc_value(&mut row, c, types[usize::from(c) - 1]))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(values);
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait::async_trait]
impl TestDatabase for SqliteOverOdbc {
    generic_profile!();

    async fn create(&self, dir: &Path, node: &str) -> String {
        let file = crate::sqlite::SqliteFiles.create(dir, node).await;
        // The driver waits up to 30 s for another writer, as the
        // application's connections do; `BigInt` describes INTEGER columns
        // as the 64-bit integers SQLite stores (SQL_BIGINT, not SQL_INTEGER).
        format!(
            "odbc:Driver={{SQLite3}};Database={};Timeout=30000;BigInt=1;",
            dir.join(file).display()
        )
    }

    /// Through the driver too: a second SQLite library in one process
    /// (sqlx's own) would release the driver's file locks whenever it
    /// closes the file (sqlite.org/howtocorrupt.html, 2.2.1).
    async fn connect(&self, _dir: &Path, url: &str) -> Box<dyn TestConnection> {
        let conn_str = url.strip_prefix("odbc:").expect("an odbc: URL").to_string();
        Box::new(OdbcConnection::open(conn_str).await)
    }
}

/// A throwaway MariaDB server reached through MariaDB Connector/ODBC by
/// the ODBC adapter's `generic` profile (backtick quotes, the driver's
/// serializable transactions, capture by snapshot difference). The
/// application reaches the same database natively.
pub struct MariadbOverOdbc {
    server: crate::mysql::MysqlServer,
}

impl MariadbOverOdbc {
    /// Starts the server and registers the drivers.
    pub fn start() -> MariadbOverOdbc {
        register_drivers();
        MariadbOverOdbc {
            server: crate::mysql::MysqlServer::start(),
        }
    }
}

#[async_trait::async_trait]
impl TestDatabase for MariadbOverOdbc {
    generic_profile!();

    async fn create(&self, dir: &Path, node: &str) -> String {
        let url = self.server.create(dir, node).await;
        let database = url.rsplit('/').next().expect("a database name");
        format!(
            "odbc:Driver={{MariaDB Unicode}};Server=127.0.0.1;Port={};Database={database};User=root;",
            self.server.port
        )
    }

    async fn connect(&self, dir: &Path, url: &str) -> Box<dyn TestConnection> {
        self.server
            .connect(dir, &self.server.url(database_of(url)))
            .await
    }

    fn series(&self, n: u64) -> String {
        self.server.series(n)
    }

    fn kill_server(&self) -> bool {
        self.server.kill_server()
    }

    fn restart_server(&self) {
        self.server.restart_server()
    }
}
