//! MariaDB/MySQL column types → canonical types: the dialect layer's
//! ([`hetsync_core::dialect::mysql_types`]), shared with the ODBC adapter's
//! generic profile on MariaDB and MySQL.

pub use hetsync_core::dialect::mysql_types::{
    canonical, ColumnRow, Declared, COLUMNS_SQL, DEFAULT_TYPE_RULES,
};
