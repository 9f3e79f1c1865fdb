//! The adapter conformance suite (`hetsync_testkit::conformance`) against
//! each adapter twice: linked in, and loaded from its plugin library; and
//! against the vendor template as a vendor builds it.

mod support;

use hetsync_plugin_sdk::{LoadOptions, PluginLibrary};
use hetsync_testkit::conformance::{check_adapter, check_plugin};
use support::{
    built_in_adapter, KINGBASE_ODBC, MARIADB_ODBC, MYSQL, POSTGRES, SQLITE, SQLITE_ODBC,
    SQLITE_SNAPSHOT,
};

macro_rules! both_ways {
    ($($name:ident: $kind:expr),* $(,)?) => {
        mod linked_in {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let db = ($kind.start)();
                    check_adapter(&*db, built_in_adapter($kind)).await;
                }
            )*
        }
        mod loaded_from_plugin {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let db = ($kind.start)();
                    let library = hetsync_testkit::plugins::adapter_plugin(db.adapter());
                    check_plugin(&*db, &library).await;
                }
            )*
        }
    };
}

both_ways!(
    sqlite: SQLITE,
    sqlite_snapshot: SQLITE_SNAPSHOT,
    postgres: POSTGRES,
    mysql: MYSQL,
    kingbase_odbc: KINGBASE_ODBC,
    generic_odbc: SQLITE_ODBC,
    generic_odbc_mariadb: MARIADB_ODBC,
);

/// The vendor template (`examples/adapter-template`) builds with one plain
/// `cargo build` in its directory, as a vendor builds it, into a library
/// that loads as adapter `template` (its own tests run the suite on it).
#[test]
fn the_adapter_template_builds_and_loads() {
    let path = hetsync_testkit::plugins::template_plugin();
    let library =
        PluginLibrary::load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(library.manifest.adapter, "template");
}
