//! Databases reached through real ODBC drivers: the drivers are registered
//! in a temporary `odbcinst.ini` (`ODBCSYSINI`, never `/etc`), and each
//! kind runs a throwaway server of the database behind the driver.

use crate::database::{TestConnection, TestDatabase};
use crate::pg::PgServer;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where Debian's ODBC driver packages put their libraries.
const DRIVER_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/odbc",
    "/usr/lib/aarch64-linux-gnu/odbc",
    "/usr/lib/odbc",
    "/usr/lib64",
];

/// The drivers tests use: name in `odbcinst.ini`, library, package.
const DRIVERS: &[(&str, &str, &str)] = &[("PostgreSQL Unicode", "psqlodbcw.so", "odbc-postgresql")];

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
