//! hetsync's ODBC adapter as a plugin: drop the library into a plugin
//! directory of a hetsync built without that adapter.

hetsync_plugin_sdk::export_adapter!(hetsync_adapter_odbc::OdbcAdapter);
