//! Profiles: which SQL the database behind an ODBC data source speaks.

use hetsync_core::adapter::NodeSpec;
use hetsync_core::dialect::postgres::{Postgres, KINGBASE};
use hetsync_core::options::{OptionKind, OptionSpec};
use hetsync_core::{Error, Result};
use std::time::Duration;

/// `profile`: the SQL the database speaks (required).
pub(crate) const PROFILE: OptionSpec = OptionSpec {
    name: "profile",
    kind: OptionKind::Choice(&["kingbase", "dameng", "generic"]),
    doc: "the SQL the database behind the data source speaks (required): \"kingbase\" \
          (KingbaseES, or PostgreSQL through psqlODBC: PostgreSQL's SQL), \"dameng\" or \
          \"generic\" (not built yet)",
};

/// What an ODBC node speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// KingbaseES (PostgreSQL-derived), or PostgreSQL itself through
    /// psqlODBC: PostgreSQL's dialect with `?` markers.
    Kingbase,
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
            other => Err(Error::Deployment(format!(
                "node '{}': the odbc profile \"{other}\" is not built in this version of \
                 hetsync; profile \"kingbase\" is (KingbaseES, or PostgreSQL through psqlODBC)",
                spec.name
            ))),
        }
    }

    /// The profile's SQL.
    pub fn dialect(self) -> &'static Postgres {
        match self {
            Profile::Kingbase => &KINGBASE,
        }
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
        }
    }
}
