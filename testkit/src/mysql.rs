//! Throwaway MariaDB (or MySQL) servers: `mariadb-install-db` + `mariadbd`
//! in a temp dir on a free loopback port, `root` without a password, durability
//! off, killed and removed on drop. Tests running in parallel each get their own.

use crate::process::succeeded;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server.
pub struct MysqlServer {
    dir: tempfile::TempDir,
    child: std::sync::Mutex<Child>,
    pub port: u16,
    /// The arguments it was started with.
    args: Vec<String>,
}

/// Finds a program in `HETSYNC_MARIADB_BIN`, the PATH or the sbin directories.
fn find(names: &[&str]) -> PathBuf {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("HETSYNC_MARIADB_BIN") {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.extend(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from));
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("none of {names:?} found (apt-get install mariadb-server, or set HETSYNC_MARIADB_BIN)");
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Options for both the bootstrap and the server. Each server has a temp
/// dir of its own: a starting server deletes every `#sql*` file in its temp
/// dir, which would pull tables from under another server's bootstrap.
fn common_args(dir: &Path) -> Vec<String> {
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("server temp dir");
    let mut args = vec![
        "--no-defaults".to_string(),
        format!("--datadir={}", dir.join("data").display()),
        format!("--tmpdir={}", tmp.display()),
        "--innodb-log-file-size=8M".into(),
    ];
    if running_as_root() {
        args.push("--user=root".into());
    }
    args
}

/// Starts `mariadbd` with `args` and waits until it accepts connections on
/// `port`; `None` when it exited (most likely the port was taken).
fn spawn_ready(args: &[String], log: &Path, port: u16) -> Option<Child> {
    let started = std::fs::read_to_string(log).unwrap_or_default().len();
    let mut child = Command::new(find(&["mariadbd", "mysqld"]))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mariadbd");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        let log_text = std::fs::read_to_string(log).unwrap_or_default();
        if log_text[started.min(log_text.len())..].contains("ready for connections")
            && TcpStream::connect(("127.0.0.1", port)).is_ok()
        {
            return Some(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mariadbd did not start in 60 s: {log_text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl MysqlServer {
    /// Starts a new server.
    pub fn start() -> MysqlServer {
        Self::start_with(None, false)
    }

    /// Starts a new server with TLS, with a certificate `ca` signed.
    pub fn start_tls(ca: &crate::tls::TestCa) -> MysqlServer {
        Self::start_with(Some(ca), false)
    }

    /// Starts a new server that writes a binary log, as a replicated
    /// production server does (`log_bin_trust_function_creators` off).
    pub fn start_with_binlog() -> MysqlServer {
        Self::start_with(None, true)
    }

    fn start_with(tls: Option<&crate::tls::TestCa>, binlog: bool) -> MysqlServer {
        let binlog_args: Vec<String> = if binlog {
            vec![
                "--log-bin=binlog".into(),
                "--server-id=1".into(),
                "--log-bin-trust-function-creators=0".into(),
            ]
        } else {
            vec!["--skip-log-bin".into()]
        };
        let tls_args: Vec<String> = tls
            .map(|ca| {
                vec![
                    format!("--ssl-ca={}", ca.ca_cert().display()),
                    format!("--ssl-cert={}", ca.server_cert().display()),
                    format!("--ssl-key={}", ca.server_key().display()),
                ]
            })
            .unwrap_or_default();
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new(find(&["mariadb-install-db", "mysql_install_db"]))
            .args(common_args(dir.path()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .output()
            .expect("mariadb-install-db");
        succeeded(out, "mariadb-install-db");
        let log = dir.path().join("server.log");
        for _attempt in 0..5 {
            let port = free_port();
            let mut args = common_args(dir.path());
            args.extend([
                format!("--port={port}"),
                "--bind-address=127.0.0.1".into(),
                format!("--socket={}", dir.path().join("sock").display()),
                format!("--pid-file={}", dir.path().join("pid").display()),
                format!("--log-error={}", log.display()),
                "--skip-name-resolve".into(),
                "--character-set-server=utf8mb4".into(),
                "--collation-server=utf8mb4_unicode_ci".into(),
                "--innodb-buffer-pool-size=64M".into(),
                "--innodb-flush-log-at-trx-commit=2".into(),
                "--innodb-doublewrite=0".into(),
                "--max-connections=200".into(),
            ]);
            args.extend(tls_args.iter().cloned());
            args.extend(binlog_args.iter().cloned());
            if let Some(child) = spawn_ready(&args, &log, port) {
                return MysqlServer {
                    dir,
                    child: std::sync::Mutex::new(child),
                    port,
                    args,
                };
            }
        }
        panic!(
            "mariadbd failed to start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the server again on its port and data (after [`Self::kill`]):
    /// InnoDB recovers from its log as after a crash.
    pub fn restart(&self) {
        let log = self.dir.path().join("server.log");
        let child = spawn_ready(&self.args, &log, self.port).unwrap_or_else(|| {
            panic!(
                "mariadbd did not start again: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        *self.child.lock().unwrap() = child;
    }

    /// URL of a database on this server.
    pub fn url(&self, database: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's data and log directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a database (UTF-8, the server's default collation).
    pub async fn create_db(&self, name: &str) {
        use sqlx::{Connection, Executor};
        let mut conn =
            sqlx::MySqlConnection::connect(&format!("mysql://root@127.0.0.1:{}", self.port))
                .await
                .expect("connect to mariadb");
        conn.execute(
            format!(
                "CREATE DATABASE `{}` CHARACTER SET utf8mb4",
                name.replace('`', "``")
            )
            .as_str(),
        )
        .await
        .expect("create database");
    }
}

impl Drop for MysqlServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An application connection to MariaDB that quotes identifiers the ANSI
/// way (`ANSI_QUOTES`), so tests share SQL between databases.
pub async fn app_connection(url: &str) -> sqlx::MySqlConnection {
    use sqlx::{ConnectOptions, Executor};
    let mut conn = url
        .parse::<sqlx::mysql::MySqlConnectOptions>()
        .expect("MariaDB URL")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    conn.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
        .await
        .expect("set sql_mode");
    conn
}

#[async_trait::async_trait]
impl crate::database::TestDatabase for MysqlServer {
    fn kill_server(&self) -> bool {
        self.kill();
        true
    }

    fn restart_server(&self) {
        self.restart();
    }

    fn adapter(&self) -> &str {
        "mysql"
    }

    async fn create(&self, _dir: &Path, node: &str) -> String {
        let database = crate::database::fresh_name(node);
        self.create_db(&database).await;
        self.url(&database)
    }

    async fn connect(&self, _dir: &Path, url: &str) -> Box<dyn crate::database::TestConnection> {
        Box::new(app_connection(url).await)
    }

    fn series(&self, n: u64) -> String {
        format!("(SELECT seq AS i FROM seq_1_to_{n}) AS s")
    }

    fn local_events_query(&self, after: i64) -> String {
        format!(
            "SELECT seq, CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR) \
             FROM _hetsync_tracking WHERE seq > {after} AND origin IS NULL ORDER BY seq"
        )
    }

    fn shift_local_events_sql(&self, after: i64, millis: i64) -> String {
        format!(
            "UPDATE _hetsync_tracking SET changed_at = changed_at + INTERVAL {} MICROSECOND \
             WHERE seq > {after} AND origin IS NULL",
            millis * 1000
        )
    }
}

/// Statements run over the text protocol (`Executor::execute(&str)`), as a
/// MariaDB client types them: some statements (`CREATE TRIGGER`, multi-row
/// DDL) are refused as prepared statements.
#[async_trait::async_trait]
impl crate::database::TestConnection for sqlx::MySqlConnection {
    async fn execute(&mut self, sql: &str) -> Result<u64, String> {
        sqlx::Executor::execute(self, sql)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string())
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Vec<hetsync_core::value::Value>>, String> {
        crate::database::decoded(sqlx::Executor::fetch_all(self, sql).await, value)
    }
}

fn value(row: &sqlx::mysql::MySqlRow, i: usize) -> hetsync_core::value::Value {
    use hetsync_core::value::Value;
    use sqlx::{Row, TypeInfo, ValueRef};
    let raw = row.try_get_raw(i).expect("raw");
    if raw.is_null() {
        return Value::Null;
    }
    // Rows are read over the text protocol: every value arrives as text and
    // is decoded by its column type.
    let name = raw.type_info().name().to_string();
    match name.as_str() {
        n if n.ends_with("UNSIGNED") => {
            let v: u64 = row.try_get_unchecked(i).expect("unsigned");
            i64::try_from(v).map_or_else(|_| Value::Text(v.to_string()), Value::Int)
        }
        "BIGINT" | "INT" | "MEDIUMINT" | "SMALLINT" | "TINYINT" | "BOOLEAN" => {
            Value::Int(row.try_get_unchecked(i).expect("integer"))
        }
        "DOUBLE" => Value::Float(row.get(i)),
        "FLOAT" => Value::Float(row.get::<f32, _>(i) as f64),
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "VARBINARY" | "BINARY" => {
            Value::Bytes(row.get(i))
        }
        _ => Value::Text(row.try_get_unchecked(i).expect("text")),
    }
}
