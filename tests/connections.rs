//! How nodes connect: TLS to PostgreSQL and MariaDB servers that admit the
//! test login over TCP only with TLS, checked against a throwaway
//! certificate authority (a connection that works went over TLS, a
//! certificate from another CA is refused); the connect and statement
//! timeouts of `[node.options]`.

use hetsync_adapter_mysql::MysqlAdapter;
use hetsync_adapter_postgres::PostgresAdapter;
use hetsync_core::adapter::{AdapterFactory, NodeSpec};
use hetsync_core::schema::{ConflictPolicy, SyncForm, SyncTable};
use hetsync_testkit::mysql::MysqlServer;
use hetsync_testkit::pg::PgServer;
use hetsync_testkit::tls::TestCa;
use sqlx::{Connection, Executor};
use std::time::{Duration, Instant};

fn spec(url: String) -> NodeSpec {
    spec_with(url, &[])
}

fn spec_with(url: String, options: &[(&str, &str)]) -> NodeSpec {
    NodeSpec {
        name: "tls".into(),
        url,
        base_dir: std::env::temp_dir(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect(),
    }
}

fn table_t() -> SyncTable {
    SyncTable {
        name: "t".into(),
        columns: vec!["k".into()],
        code: vec![0],
        form: SyncForm::Field,
        conflict: ConflictPolicy::Latest,
    }
}

async fn refused(factory: &dyn AdapterFactory, url: String) -> String {
    match factory.connect(&spec(url)).await {
        Ok(_) => panic!("the connection was accepted"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn postgres_over_tls_with_a_ca_file() {
    let ca = TestCa::new();
    let server = PgServer::start_tls(&ca);
    server.create_db("tls").await;
    let base = server.url("tls");

    let plain = refused(&PostgresAdapter, format!("{base}?sslmode=disable")).await;
    assert!(plain.contains("cannot connect to node 'tls'"), "{plain}");

    let verified = format!(
        "{base}?sslmode=verify-full&sslrootcert={}",
        ca.ca_cert().display()
    );
    let node = PostgresAdapter.connect(&spec(verified)).await.expect("TLS");
    assert!(!node.is_installed().await.unwrap());
    node.install(&[]).await.expect("install over TLS");
    assert!(node.is_installed().await.unwrap());

    // `require` encrypts without checking the certificate.
    let node = PostgresAdapter
        .connect(&spec(format!("{base}?sslmode=require")))
        .await
        .expect("sslmode=require");
    assert!(node.is_installed().await.unwrap());

    let other = TestCa::new();
    let wrong = refused(
        &PostgresAdapter,
        format!(
            "{base}?sslmode=verify-full&sslrootcert={}",
            other.ca_cert().display()
        ),
    )
    .await;
    assert!(
        wrong.contains("cannot connect to node 'tls'")
            && wrong.to_lowercase().contains("certificate"),
        "{wrong}"
    );
}

#[tokio::test]
async fn mariadb_over_tls_with_a_ca_file() {
    let ca = TestCa::new();
    let server = MysqlServer::start_tls(&ca);
    server.create_db("tls").await;
    let mut root = sqlx::MySqlConnection::connect(&server.url("tls"))
        .await
        .unwrap();
    root.execute("CREATE USER 'tls'@'%' REQUIRE SSL")
        .await
        .unwrap();
    root.execute("GRANT ALL ON tls.* TO 'tls'@'%'")
        .await
        .unwrap();
    let base = format!("mysql://tls@127.0.0.1:{}/tls", server.port);

    let plain = refused(&MysqlAdapter, format!("{base}?ssl-mode=DISABLED")).await;
    assert!(plain.contains("cannot connect to node 'tls'"), "{plain}");

    let verified = format!(
        "{base}?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
        ca.ca_cert().display()
    );
    let node = MysqlAdapter.connect(&spec(verified)).await.expect("TLS");
    node.install(&[]).await.expect("install over TLS");
    assert!(node.is_installed().await.unwrap());

    let other = TestCa::new();
    let wrong = refused(
        &MysqlAdapter,
        format!(
            "{base}?ssl-mode=VERIFY_CA&ssl-ca={}",
            other.ca_cert().display()
        ),
    )
    .await;
    assert!(wrong.contains("cannot connect to node 'tls'"), "{wrong}");
}

/// A listener that completes TCP handshakes and never says a word.
fn silent_server() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

#[tokio::test]
async fn a_silent_server_times_out_naming_node_host_and_port() {
    let (_listener, port) = silent_server();
    for (factory, url) in [
        (
            &PostgresAdapter as &dyn AdapterFactory,
            format!("postgres://u@127.0.0.1:{port}/db"),
        ),
        (&MysqlAdapter, format!("mysql://u@127.0.0.1:{port}/db")),
    ] {
        let started = Instant::now();
        let err = match factory
            .connect(&spec_with(url, &[("connect_timeout", "1s")]))
            .await
        {
            Ok(_) => panic!("a silent server was taken for a database"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&format!(
                "cannot connect to node 'tls': 127.0.0.1:{port}: no answer within 1s"
            )),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn a_statement_timeout_ends_a_wait_for_a_lock() {
    let pg = PgServer::start();
    pg.create_db("st").await;
    let mut holder = sqlx::PgConnection::connect(&pg.url("st")).await.unwrap();
    holder
        .execute("CREATE TABLE t (k bigint PRIMARY KEY)")
        .await
        .unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let node = PostgresAdapter
        .connect(&spec_with(pg.url("st"), &[("statement_timeout", "300ms")]))
        .await
        .unwrap();
    let started = Instant::now();
    let err = node.count_rows(&table_t()).await.unwrap_err().to_string();
    assert!(err.contains("statement timeout"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    holder.execute("ROLLBACK").await.unwrap();
    assert_eq!(node.count_rows(&table_t()).await.unwrap(), 0);

    let maria = MysqlServer::start();
    maria.create_db("st").await;
    let mut holder = sqlx::MySqlConnection::connect(&maria.url("st"))
        .await
        .unwrap();
    holder
        .execute("CREATE TABLE t (k bigint PRIMARY KEY)")
        .await
        .unwrap();
    holder.execute("LOCK TABLES t WRITE").await.unwrap();
    let node = MysqlAdapter
        .connect(&spec_with(
            maria.url("st"),
            &[("statement_timeout", "300ms")],
        ))
        .await
        .unwrap();
    let started = Instant::now();
    let err = node.count_rows(&table_t()).await.unwrap_err().to_string();
    assert!(err.contains("node 'tls'"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    holder.execute("UNLOCK TABLES").await.unwrap();
    assert_eq!(node.count_rows(&table_t()).await.unwrap(), 0);
}
