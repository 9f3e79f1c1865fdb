//! TLS to PostgreSQL and MariaDB servers that admit the test login over TCP
//! only with TLS, checked against a throwaway certificate authority: a
//! connection that works went over TLS, and a certificate from another CA is
//! refused.

use hetsync_adapter_mysql::MysqlAdapter;
use hetsync_adapter_postgres::PostgresAdapter;
use hetsync_core::adapter::{AdapterFactory, NodeSpec};
use hetsync_testkit::mysql::MysqlServer;
use hetsync_testkit::pg::PgServer;
use hetsync_testkit::tls::TestCa;
use sqlx::{Connection, Executor};

fn spec(url: String) -> NodeSpec {
    NodeSpec {
        name: "tls".into(),
        url,
        base_dir: std::env::temp_dir(),
        options: Default::default(),
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
