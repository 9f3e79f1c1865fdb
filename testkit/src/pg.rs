//! Throwaway PostgreSQL servers: `initdb` + `pg_ctl` in a temp dir on a free
//! loopback port (as the `postgres` user when running as root), `fsync=off`,
//! stopped and removed on drop. Tests running in parallel each get their own.

use crate::process::succeeded;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// The server options it was started with (`pg_ctl -o`).
    opts: String,
    /// Its nodes capture by logical decoding (the server runs with
    /// `wal_level = logical`).
    logical: bool,
}

/// Runs `pgbench` with `args` against the database at `url` (a
/// `postgres://` URL, which libpq takes in place of a database name),
/// failing with its errors; its report (stdout).
pub fn pgbench(url: &str, args: &[&str]) -> String {
    let out = Command::new(bin_dir().join("pgbench"))
        .args(args)
        .arg(url)
        .output()
        .expect("run pgbench");
    succeeded(out, &format!("pgbench {args:?} on {url}"))
}

/// The PostgreSQL binaries directory (`initdb`, `pg_ctl`, `pgbench`, …):
/// `HETSYNC_PG_BIN`, else the newest under `/usr/lib/postgresql`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HETSYNC_PG_BIN") {
        return PathBuf::from(dir);
    }
    for version in ["17", "16", "15"] {
        let dir = PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"));
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    panic!("no PostgreSQL server found under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set HETSYNC_PG_BIN)");
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn run(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `pg_ctl start` of `data` with server options `opts`, waiting until it
/// accepts connections; whether it did.
fn pg_ctl_start(bin: &Path, data: &Path, log: &Path, opts: &str) -> bool {
    run(
        bin,
        "pg_ctl",
        &[
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "-o",
            opts,
            "start",
        ],
    )
    .status
    .success()
}

impl PgServer {
    /// Starts a new server.
    pub fn start() -> PgServer {
        Self::start_with(None, false)
    }

    /// Starts a new server with `wal_level = logical`, whose nodes capture
    /// by logical decoding (`capture = "logical"`).
    pub fn start_logical() -> PgServer {
        Self::start_with(None, true)
    }

    /// Starts a new server that accepts TCP connections only over TLS, with
    /// a certificate `ca` signed (unix-socket connections stay plain).
    pub fn start_tls(ca: &crate::tls::TestCa) -> PgServer {
        Self::start_with(Some(ca), false)
    }

    fn start_with(tls: Option<&crate::tls::TestCa>, logical: bool) -> PgServer {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        if running_as_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success(), "chown the server dir to postgres");
        }
        let data = dir.path().join("data");
        let data_s = data.to_str().unwrap();
        let out = run(
            &bin,
            "initdb",
            &[
                "-D",
                data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        succeeded(out, "initdb");
        let mut tls_opts = String::new();
        if let Some(ca) = tls {
            // The server reads its key only when the server user owns it
            // and no one else may read it.
            for (from, to) in [
                (ca.server_cert(), "server.pem"),
                (ca.server_key(), "server.key"),
            ] {
                std::fs::copy(&from, data.join(to)).expect("copy the server certificate");
            }
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            )
            .expect("write pg_hba.conf");
            if running_as_root() {
                let ok = Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&data)
                    .status()
                    .unwrap();
                assert!(ok.success(), "chown the certificate to postgres");
            }
            let ok = Command::new("chmod")
                .arg("600")
                .arg(data.join("server.key"))
                .status()
                .unwrap();
            assert!(ok.success(), "chmod the server key");
            tls_opts = " -c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server.key".into();
        }
        let log = dir.path().join("server.log");
        let wal_opts = match logical {
            true => " -c wal_level=logical -c max_replication_slots=1000",
            false => "",
        };
        for _attempt in 0..5 {
            let port = free_port();
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=40{tls_opts}{wal_opts}",
                dir.path().display()
            );
            if pg_ctl_start(&bin, &data, &log, &opts) {
                return PgServer {
                    dir,
                    bin,
                    port,
                    opts,
                    logical,
                };
            }
        }
        panic!(
            "pg_ctl start failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Kills the server's processes with SIGKILL, as a crash would: the
    /// postmaster and every backend, at once.
    pub fn kill(&self) {
        let pid_file = self.dir.path().join("data").join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file).expect("postmaster.pid");
        let postmaster: u32 = text.lines().next().unwrap().trim().parse().unwrap();
        let mut pids = vec![postmaster];
        pids.extend(crate::process::children_of(postmaster));
        crate::process::kill_9(&pids);
        // The dead postmaster may stay a zombie (nobody reaps it here), which
        // a new one would take for a running server: its lock files go.
        std::fs::remove_file(&pid_file).expect("remove postmaster.pid");
        let socket_lock = self.dir.path().join(format!(".s.PGSQL.{}.lock", self.port));
        let _ = std::fs::remove_file(socket_lock);
    }

    /// Starts the server again on its port and data (after [`Self::kill`]):
    /// it recovers from its log as after a crash.
    pub fn restart(&self) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("server.log");
        assert!(
            pg_ctl_start(&self.bin, &data, &log, &self.opts),
            "pg_ctl start after a kill failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// URL of a database on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's binaries directory (`psql`, `pg_dump`, …).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Creates a database.
    pub async fn create_db(&self, name: &str) {
        use sqlx::Connection;
        // Over the unix socket, which stays plain on a TLS-only server.
        let options = sqlx::postgres::PgConnectOptions::new()
            .socket(self.dir.path())
            .port(self.port)
            .username("postgres")
            .database("postgres");
        let mut conn = sqlx::PgConnection::connect_with(&options)
            .await
            .expect("connect to postgres");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create database");
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = run(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

#[async_trait::async_trait]
impl crate::database::TestDatabase for PgServer {
    fn kill_server(&self) -> bool {
        self.kill();
        true
    }

    fn restart_server(&self) {
        self.restart();
    }

    fn adapter(&self) -> &str {
        "postgres"
    }

    fn node_options(&self) -> &str {
        match self.logical {
            true => "capture = \"logical\"\n",
            false => "",
        }
    }

    async fn create(&self, _dir: &Path, node: &str) -> String {
        let database = crate::database::fresh_name(node);
        self.create_db(&database).await;
        self.url(&database)
    }

    async fn connect(&self, _dir: &Path, url: &str) -> Box<dyn crate::database::TestConnection> {
        use sqlx::Connection;
        Box::new(
            sqlx::PgConnection::connect(url)
                .await
                .unwrap_or_else(|e| panic!("connect to {url}: {e}")),
        )
    }

    fn local_events_query(&self, after: i64) -> String {
        format!(
            "SELECT seq, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text \
             FROM _hetsync_tracking WHERE seq > {after} AND origin IS NULL ORDER BY seq"
        )
    }

    fn shift_local_events_sql(&self, after: i64, millis: i64) -> String {
        format!(
            "UPDATE _hetsync_tracking SET changed_at = changed_at + interval '{millis} milliseconds' \
             WHERE seq > {after} AND origin IS NULL"
        )
    }
}

#[async_trait::async_trait]
impl crate::database::TestConnection for sqlx::PgConnection {
    async fn execute(&mut self, sql: &str) -> Result<u64, String> {
        sqlx::query(sql)
            .execute(self)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string())
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Vec<hetsync_core::value::Value>>, String> {
        crate::database::decoded(sqlx::query(sql).fetch_all(self).await, value)
    }
}

fn value(row: &sqlx::postgres::PgRow, i: usize) -> hetsync_core::value::Value {
    use hetsync_core::value::Value;
    use sqlx::{Row, TypeInfo, ValueRef};
    let raw = row.try_get_raw(i).expect("raw");
    if raw.is_null() {
        return Value::Null;
    }
    match raw.type_info().name() {
        "INT8" => Value::Int(row.get(i)),
        "INT4" => Value::Int(row.get::<i32, _>(i) as i64),
        "FLOAT8" => Value::Float(row.get(i)),
        "BOOL" => Value::Bool(row.get(i)),
        "BYTEA" => Value::Bytes(row.get(i)),
        _ => Value::Text(row.get(i)),
    }
}
