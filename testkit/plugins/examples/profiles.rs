//! One library offering two adapters, `profile_one` and `profile_two` (as
//! one ODBC library would offer `odbc`, `kingbase` and `dameng`), both
//! serving SQLite files and reading the node option `require_tables`.

use hetsync_test_plugins::Profile;

hetsync_plugin_sdk::export_adapter!(Profile("profile_one"), Profile("profile_two"));
