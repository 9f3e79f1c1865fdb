//! Profiles: which SQL the database behind an ODBC data source speaks.

use hetsync_core::adapter::NodeSpec;
use hetsync_core::dialect::generic::{self, Generic};
use hetsync_core::dialect::pg_catalog::{Column, ValueKind};
use hetsync_core::dialect::postgres::{Postgres, KINGBASE};
use hetsync_core::dialect::{sqlite, Dialect};
use hetsync_core::options::{OptionKind, OptionSpec};
use hetsync_core::{Error, Result};
use std::time::Duration;

/// `profile`: the SQL the database speaks (required).
pub(crate) const PROFILE: OptionSpec = OptionSpec {
    name: "profile",
    kind: OptionKind::Choice(&["kingbase", "dameng", "generic"]),
    doc: "the SQL the database behind the data source speaks (required): \"kingbase\" \
          (KingbaseES, or PostgreSQL through psqlODBC: PostgreSQL's SQL), \"dameng\" (DM8: \
          Oracle-like SQL, row triggers) or \"generic\" (any database, captured by snapshot \
          difference, no triggers)",
};

/// What an ODBC node speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// KingbaseES (PostgreSQL-derived), or PostgreSQL itself through
    /// psqlODBC: PostgreSQL's dialect with `?` markers.
    Kingbase,
    /// Dameng (DM8): its Oracle-like dialect
    /// ([`hetsync_core::dialect::dameng`]), row triggers, the commit
    /// barrier, the catalog through the driver's catalog functions.
    Dameng,
    /// A database known only by its driver: generic SQL
    /// ([`hetsync_core::dialect::generic`]), capture by snapshot
    /// difference, the catalog through the driver's catalog functions.
    Generic,
}

/// The SQL a connected node speaks, by its profile and, under the generic
/// one, by the database its driver names: every choice between the
/// profiles' ways is made by it.
#[derive(Clone, Copy)]
pub(crate) enum Speaks {
    /// PostgreSQL's (the kingbase profile).
    Postgres,
    /// DM8's (the dameng profile).
    Dameng,
    /// Generic SQL for the database the driver named.
    Generic(GenericDbms),
}

impl Speaks {
    /// The generic profile's database, `None` under the others.
    pub(crate) fn generic(self) -> Option<GenericDbms> {
        match self {
            Speaks::Generic(dbms) => Some(dbms),
            Speaks::Postgres | Speaks::Dameng => None,
        }
    }

    /// How the node's column types map, where the driver's catalog
    /// describes them (`None`: PostgreSQL's catalog queries do).
    pub(crate) fn driver_catalog(self) -> Option<NativeTypes> {
        match self {
            Speaks::Generic(dbms) => Some(dbms.types),
            Speaks::Dameng => Some(NativeTypes::Dameng),
            Speaks::Postgres => None,
        }
    }

    /// The default type rules towards the node: the rules of the database
    /// it speaks, or standard SQL names for one known only by its driver.
    pub(crate) fn default_type_rules(self) -> &'static str {
        match self {
            Speaks::Postgres => hetsync_core::dialect::pg_catalog::DEFAULT_TYPE_RULES,
            Speaks::Dameng => hetsync_core::dialect::dameng::DEFAULT_TYPE_RULES,
            Speaks::Generic(dbms) => match dbms.types {
                NativeTypes::Sqlite => hetsync_core::dialect::sqlite_types::DEFAULT_TYPE_RULES,
                NativeTypes::Mysql => hetsync_core::dialect::mysql_types::DEFAULT_TYPE_RULES,
                NativeTypes::Dameng => hetsync_core::dialect::dameng::DEFAULT_TYPE_RULES,
                NativeTypes::Driver => generic::DEFAULT_TYPE_RULES,
            },
        }
    }

    /// Whether transactions are the driver's (autocommit off), not begun
    /// and ended by statements.
    pub(crate) fn driver_transactions(self) -> bool {
        match self {
            Speaks::Generic(dbms) => matches!(dbms.transactions, Transactions::Driver { .. }),
            Speaks::Dameng => true,
            Speaks::Postgres => false,
        }
    }

    /// Whether the integration lock is held inside this process (no lock
    /// of the database that a crashed holder gives back is used).
    pub(crate) fn lock_in_process(self) -> bool {
        !matches!(self, Speaks::Postgres)
    }
}

/// What the generic profile must know of the database behind a driver,
/// by the name the driver reports (`SQL_DBMS_NAME`).
#[derive(Clone, Copy)]
pub(crate) struct GenericDbms {
    /// The SQL, with the database's identifier quotes.
    pub(crate) dialect: &'static Generic,
    /// How its transactions start and end.
    pub(crate) transactions: Transactions,
    /// How its column types map to canonical ones.
    pub(crate) types: NativeTypes,
}

/// How a generic database's columns are described and their types mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NativeTypes {
    /// By their ODBC SQL types, as the driver's `SQLColumns` gives them.
    Driver,
    /// By SQLite's rules over the declaration, which SQLite's driver
    /// reports whole as the type name (its SQL types are guesses:
    /// `DECIMAL(15,4)` is a VARCHAR of size 4).
    Sqlite,
    /// By MariaDB's rules over `information_schema.columns`
    /// (Connector/ODBC's `SQLColumns` loses fractional seconds,
    /// `tinyint(1)`, `json` and `uuid`).
    Mysql,
    /// By their ODBC SQL types, with integral `NUMBER`s (scale 0, up to
    /// 18 digits) read as integers: DM8's triggers write such a code part
    /// as a JSON number, which must match the row's.
    Dameng,
}

/// How a generic database's transactions start and end. A write
/// transaction must keep other writers from changing what it compared
/// until it ends, or a snapshot catch-up could take an application's
/// write into the snapshot without recording it.
#[derive(Clone, Copy)]
pub(crate) enum Transactions {
    /// The driver's: autocommit off, a write transaction made
    /// serializable first by this statement; ended by the driver.
    Driver {
        /// Makes the next transaction serializable.
        serializable: &'static str,
    },
    /// By statements, as the database's own dialect begins them, with
    /// autocommit left on (SQLite: a writer begins `IMMEDIATE`, taking the
    /// write lock before it reads, so two writers never deadlock upgrading
    /// their locks); ended by `COMMIT` or `ROLLBACK`.
    Statements {
        /// The dialect whose [`Dialect::begin_sql`] begins a transaction.
        begin: &'static dyn Dialect,
    },
}

impl GenericDbms {
    /// How a column is selected: by name, but floating-point numbers in
    /// text that holds all their digits, where the driver reads values as
    /// the text the database prints: a SQLite `REAL` with 18 significant
    /// digits (SQLite prints 15; `!` lifts printf's limit of 16), a MariaDB
    /// `FLOAT` as a `DOUBLE` (MariaDB prints a `FLOAT` with 6).
    pub(crate) fn select_expr(&self, column: &Column) -> String {
        let name = self.dialect.ident(&column.name);
        match (self.types, column.kind) {
            (NativeTypes::Sqlite, ValueKind::Float8) => format!(
                "CASE typeof({name}) WHEN 'real' THEN printf('%!.18g', {name}) ELSE {name} END"
            ),
            (NativeTypes::Mysql, ValueKind::Float4) => format!("CAST({name} AS DOUBLE)"),
            _ => name,
        }
    }

    /// The database of a `SQL_DBMS_NAME`: MySQL and MariaDB quote with
    /// backticks whatever their `sql_mode` and compare with `<=>`
    /// ([`generic::MYSQL`]); SQLite's transactions begin by
    /// statement; any other database gets the standard's `"` and
    /// `SET TRANSACTION ISOLATION LEVEL SERIALIZABLE`.
    pub(crate) fn named(dbms: &str) -> GenericDbms {
        let driver = Transactions::Driver {
            serializable: "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        };
        match dbms.to_ascii_lowercase().as_str() {
            "sqlite" => GenericDbms {
                dialect: &generic::ANSI,
                transactions: Transactions::Statements {
                    begin: &sqlite::TRIGGERS,
                },
                types: NativeTypes::Sqlite,
            },
            "mysql" | "mariadb" => GenericDbms {
                dialect: &generic::MYSQL,
                transactions: driver,
                types: NativeTypes::Mysql,
            },
            _ => GenericDbms {
                dialect: &generic::ANSI,
                transactions: driver,
                types: NativeTypes::Driver,
            },
        }
    }
}

impl Profile {
    /// The node's profile, from its required `profile` option.
    pub(crate) fn of(spec: &NodeSpec) -> Result<Profile> {
        if !spec.options.contains_key(PROFILE.name) {
            return Err(Error::Deployment(format!(
                "node '{}': an odbc node needs [node.options] profile = \"kingbase\", \
                 \"dameng\" or \"generic\" (the SQL its database speaks)",
                spec.name
            )));
        }
        match spec.choice_option(&PROFILE)? {
            "kingbase" => Ok(Profile::Kingbase),
            "dameng" => Ok(Profile::Dameng),
            "generic" => Ok(Profile::Generic),
            other => Err(Error::Deployment(format!(
                "node '{}': unknown odbc profile \"{other}\"",
                spec.name
            ))),
        }
    }

    /// The kingbase profile's PostgreSQL SQL (its catalog queries among it).
    pub(crate) fn postgres() -> &'static Postgres {
        &KINGBASE
    }

    /// Statements every new connection runs first: canonical values
    /// (instants in UTC, ISO dates) and the node's statement limit.
    pub(crate) fn session_setup(self, statement_timeout: Option<Duration>) -> Vec<String> {
        match self {
            Profile::Kingbase => {
                let mut out = vec![
                    "SET application_name = 'hetsync'".to_string(),
                    "SET TimeZone = 'UTC'".to_string(),
                    "SET DateStyle = 'ISO'".to_string(),
                ];
                if let Some(limit) = statement_timeout {
                    out.push(format!(
                        "SET statement_timeout = '{}ms'",
                        limit.as_millis().max(1)
                    ));
                }
                out
            }
            // Nothing is portable here (these take no statement_timeout:
            // `OdbcNode::open` refuses one).
            Profile::Dameng | Profile::Generic => Vec::new(),
        }
    }
}
