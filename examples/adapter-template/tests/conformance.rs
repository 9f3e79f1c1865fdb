//! hetsync's adapter conformance suite on this plugin, loaded from the
//! library `cargo test` built, as hetsync will load it. Replace
//! `SqliteFiles` with your database's `TestDatabase` (see
//! `hetsync_testkit::database`): how to create a fresh database for a test
//! and connect to it as an application.

use hetsync_testkit::conformance::check_plugin;
use hetsync_testkit::plugins::built_beside_tests;
use hetsync_testkit::sqlite::SqliteFiles;

#[tokio::test]
async fn the_plugin_conforms() {
    check_plugin(
        &SqliteFiles,
        &built_beside_tests("hetsync_adapter_template"),
    )
    .await;
}
