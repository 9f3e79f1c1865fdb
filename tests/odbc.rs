//! The ODBC adapter through the binary, as an operator runs it: nodes
//! reached through psqlODBC by the `kingbase` profile, the adapter loaded
//! from its plugin library (`[plugins] dir`), drivers registered in a
//! temporary `odbcinst.ini`. The sync rules, the randomized model, server
//! crashes and the type matrix run this adapter too (an ODBC spoke in the
//! mixed topologies, an ODBC hub in `support::ODBC_HUB`).

mod support;

use support::{basic_row as row, hetsync, output_text, Deploy, BASIC, ODBC_HUB};

#[tokio::test]
async fn an_odbc_hub_and_its_spokes_sync_both_ways_through_the_plugin() {
    let d = Deploy::with(ODBC_HUB, &["a", "b"], &BASIC[..1]).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, '变电站 ''甲''', 10, 0.5)",
    )
    .await;
    d.exec("a", "INSERT INTO t_field VALUES (2, 'from a', 20, 1.25)")
        .await;
    d.exec("b", "INSERT INTO t_field VALUES (3, 'from b', 30, -2.5)")
        .await;
    let plugins = d.run(&["plugins"]);
    assert!(plugins.contains("odbc"), "{plugins}");
    d.run(&["install"]);
    d.sync_to_convergence().await;
    let expected = vec![
        row(1, "变电站 '甲'", 10, 0.5),
        row(2, "from a", 20, 1.25),
        row(3, "from b", 30, -2.5),
    ];
    assert_eq!(d.rows("hub", "t_field").await, expected);

    // An edit on each side of the hub, then a delete made on the hub.
    d.exec("hub", "UPDATE t_field SET a = '改' WHERE k = 2")
        .await;
    d.exec("b", "UPDATE t_field SET b = 31 WHERE k = 3").await;
    d.exec("a", "DELETE FROM t_field WHERE k = 1").await;
    d.sync_to_convergence().await;
    assert_eq!(
        d.rows("b", "t_field").await,
        vec![row(2, "改", 20, 1.25), row(3, "from b", 31, -2.5)]
    );
    let verify = d.run(&["verify"]);
    assert!(verify.contains("identical"), "{verify}");
}

#[tokio::test]
async fn an_odbc_node_names_its_profile_and_a_limit_it_cannot_set_is_refused() {
    let d = Deploy::with(ODBC_HUB, &["a"], &BASIC[..1]).await;
    d.edit_config("profile = \"kingbase\"\n", "");
    let out = hetsync(&d.config(), &["install"]);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("node 'hub'") && text.contains("profile = \"kingbase\""),
        "the error names the node and the option: {text}"
    );
    d.edit_config(
        "[node.options]\n",
        "[node.options]\nprofile = \"dameng\"\nstatement_timeout = \"5s\"\n",
    );
    let text = output_text(&hetsync(&d.config(), &["install"]));
    assert!(
        text.contains("node 'hub'")
            && text.contains("the odbc profile \"dameng\" takes no statement_timeout"),
        "{text}"
    );
}

#[tokio::test]
async fn a_password_in_the_connection_string_never_reaches_an_error() {
    let d = Deploy::with(ODBC_HUB, &["a"], &BASIC[..1]).await;
    let url = d.node("hub").url.clone();
    // Nothing listens on port 1.
    let port = url
        .split(';')
        .find(|a| a.starts_with("Port="))
        .expect("a port")
        .to_string();
    let unreachable = url.replace(&port, "Port=1");
    d.edit_config(&url, &format!("{unreachable}Pwd={{s3cr;et}}}}zq9}};"));
    let out = hetsync(&d.config(), &["install"]);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("node 'hub'"), "{text}");
    assert!(
        text.contains("Pwd=***"),
        "the string is shown without its password: {text}"
    );
    for secret in ["s3cr", "zq9"] {
        assert!(!text.contains(secret), "'{secret}' leaked: {text}");
    }
}
