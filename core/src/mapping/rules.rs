//! Type rules: which native type a column of one database
//! becomes on another. Rules are directional: `from` names the source
//! column's type, `to` the target's native type, so a rule `money → double`
//! says nothing about `double → money`.
//!
//! Every adapter ships a default rule table (its [`crate::adapter::AdapterFactory::default_type_rules`]);
//! an operator's `types.toml` next to `hetsync.toml` comes first:
//!
//! ```toml
//! [[rule]]
//! from = "money"               # canonical type name, or the source's native type name
//! to = "double"                # native type on the target; {length} {precision} {scale} {fraction}
//! target = "mysql"             # only towards this adapter (default: any)
//! source = "postgres"          # only from this adapter (default: any)
//! table = "变电站表"             # only this hub table (default: any)
//! column = "容量"               # only this column (default: any)
//! max_length = 16383           # only when the source length is at most this
//! ```
//!
//! The first matching rule wins: the operator's rules in file order, then the
//! target adapter's defaults. A default table lists context-dependent rules
//! (a `varchar` that fits the target's limit) before their fallbacks.

use crate::types::CanonicalType;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One directional rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRule {
    /// The source column's canonical type name (`varchar`, `timestamptz`, …),
    /// which matches its canonical type only, or another native type name
    /// (`nvarchar`, `timestamp with time zone`), which matches the native
    /// type without its parenthesised modifiers.
    pub from: String,
    /// The target's native type, with `{length}`, `{precision}`, `{scale}`
    /// and `{fraction}` taken from the source column.
    pub to: String,
    /// Only towards this adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Only from this adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only for this hub table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Only for this hub column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Only when the source's length (characters or bytes) is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// A rule file: `[[rule]]` tables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRules {
    /// Rules in file order.
    #[serde(default, rename = "rule")]
    pub rules: Vec<TypeRule>,
}

/// The source column a rule is asked about.
pub struct RuleSource<'a> {
    /// The source node's adapter.
    pub adapter: &'a str,
    /// The hub table.
    pub table: &'a str,
    /// The hub column.
    pub column: &'a str,
    /// The source's native type.
    pub native: &'a str,
    /// Its canonical type.
    pub canonical: Option<&'a CanonicalType>,
}

impl TypeRules {
    /// Parses rule text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> crate::Result<TypeRules> {
        toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let before = &text[..s.start];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!(":{line}:{column}")
                })
                .unwrap_or_default();
            crate::Error::Deployment(format!("{origin}{at}: {}", e.message()))
        })
    }

    /// Reads a rule file; a missing file is no rules.
    pub fn load_if_exists(path: &Path) -> crate::Result<TypeRules> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TypeRules::default()),
            Err(e) => Err(crate::Error::Deployment(format!(
                "{}: cannot read: {e}",
                path.display()
            ))),
        }
    }

    /// The target's native type for a source column: the first matching
    /// operator rule, else the first matching default of the target adapter.
    pub fn target_type(
        &self,
        defaults: &TypeRules,
        target: &str,
        source: &RuleSource<'_>,
    ) -> Option<String> {
        let native = native_name(source.native);
        self.rules
            .iter()
            .chain(&defaults.rules)
            .find(|r| r.matches(target, source, &native))
            .map(|r| r.apply(source.canonical))
    }
}

impl TypeRule {
    /// Whether the rule applies to `s` (whose native type, as a rule
    /// names it, is `native`: [`native_name`]) towards `target`.
    fn matches(&self, target: &str, s: &RuleSource<'_>, native: &str) -> bool {
        let named = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        // A canonical name matches the canonical type only: PostgreSQL's
        // `timestamp(6) with time zone` is a `timestamptz`, never a
        // `timestamp` by its first word.
        let type_matches = match s.canonical {
            Some(c) if KIND_NAMES.contains(&self.from.as_str()) => kind_name(c) == self.from,
            _ => native.eq_ignore_ascii_case(&self.from),
        };
        let fits = self
            .max_length
            .is_none_or(|max| s.canonical.and_then(length).is_some_and(|n| n <= max));
        type_matches
            && fits
            && named(&self.target, target)
            && named(&self.source, s.adapter)
            && named(&self.table, s.table)
            && named(&self.column, s.column)
    }

    fn apply(&self, canonical: Option<&CanonicalType>) -> String {
        use CanonicalType as C;
        let (mut length, mut precision, mut scale, mut fraction) = (None, None, None, None);
        match canonical {
            Some(C::Char { length: n, .. } | C::Varchar { length: n, .. })
            | Some(C::Binary { length: n } | C::Varbinary { length: n }) => length = Some(*n),
            Some(C::Decimal {
                precision: p,
                scale: s,
            }) => {
                precision = *p;
                scale = Some(*s);
            }
            Some(C::Money { scale: s }) => {
                precision = Some(super::loss::MONEY_DIGITS);
                scale = Some(*s);
            }
            Some(C::Time { fraction: f } | C::Timestamp { fraction: f, .. }) => fraction = Some(*f),
            _ => {}
        }
        let mut out = self.to.clone();
        for (name, value) in [
            ("{length}", length),
            ("{precision}", precision),
            ("{scale}", scale),
            ("{fraction}", fraction),
        ] {
            if let Some(v) = value {
                out = out.replace(name, &v.to_string());
            }
        }
        out
    }
}

/// Every name [`kind_name`] gives.
const KIND_NAMES: &[&str] = &[
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "decimal",
    "numeric",
    "float32",
    "float64",
    "money",
    "char",
    "varchar",
    "text",
    "binary",
    "varbinary",
    "blob",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "uuid",
    "json",
];

/// A native type's name as a rule's `from` gives it: without its
/// parenthesised modifiers, words single-spaced (`timestamp(6) with time
/// zone` → `timestamp with time zone`).
fn native_name(native: &str) -> String {
    let mut bare = String::with_capacity(native.len());
    let mut depth = 0usize;
    for c in native.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => bare.push(c),
            _ => {}
        }
    }
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The name a rule's `from` uses for a canonical type.
pub fn kind_name(t: &CanonicalType) -> &'static str {
    use CanonicalType as C;
    match t {
        C::Bool => "bool",
        C::Int8 => "int8",
        C::Int16 => "int16",
        C::Int32 => "int32",
        C::Int64 => "int64",
        C::Decimal {
            precision: Some(_), ..
        } => "decimal",
        C::Decimal {
            precision: None, ..
        } => "numeric",
        C::Float32 => "float32",
        C::Float64 => "float64",
        C::Money { .. } => "money",
        C::Char { .. } => "char",
        C::Varchar { .. } => "varchar",
        C::Text { .. } => "text",
        C::Binary { .. } => "binary",
        C::Varbinary { .. } => "varbinary",
        C::Blob => "blob",
        C::Date => "date",
        C::Time { .. } => "time",
        C::Timestamp {
            time_zone: false, ..
        } => "timestamp",
        C::Timestamp {
            time_zone: true, ..
        } => "timestamptz",
        C::Interval => "interval",
        C::Uuid => "uuid",
        C::Json => "json",
    }
}

fn length(t: &CanonicalType) -> Option<u32> {
    use CanonicalType as C;
    match t {
        C::Char { length, .. } | C::Varchar { length, .. } => Some(*length),
        C::Binary { length } | C::Varbinary { length } => Some(*length),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One type of every kind, a short and a long one where rules choose
    /// by length.
    fn every_kind() -> Vec<CanonicalType> {
        use CanonicalType as C;
        let mut kinds = vec![
            C::Bool,
            C::Int8,
            C::Int16,
            C::Int32,
            C::Int64,
            C::Decimal {
                precision: Some(15),
                scale: 4,
            },
            C::Decimal {
                precision: None,
                scale: 0,
            },
            C::Float32,
            C::Float64,
            C::Money { scale: 2 },
            C::Text { unicode: true },
            C::Blob,
            C::Date,
            C::Time { fraction: 6 },
            C::Timestamp {
                fraction: 3,
                time_zone: false,
            },
            C::Timestamp {
                fraction: 6,
                time_zone: true,
            },
            C::Interval,
            C::Uuid,
            C::Json,
        ];
        for length in [10, 100_000] {
            kinds.extend([
                C::Char {
                    length,
                    unicode: true,
                },
                C::Varchar {
                    length,
                    unicode: true,
                },
                C::Binary { length },
                C::Varbinary { length },
            ]);
        }
        kinds
    }

    #[test]
    fn every_default_rule_table_names_a_type_for_every_canonical_type() {
        use crate::dialect::{dameng, generic, mssql_types, mysql_types, pg_catalog, sqlite_types};
        let tables = [
            ("postgres", pg_catalog::DEFAULT_TYPE_RULES),
            ("mssql", mssql_types::DEFAULT_TYPE_RULES),
            ("sqlite", sqlite_types::DEFAULT_TYPE_RULES),
            ("mysql", mysql_types::DEFAULT_TYPE_RULES),
            ("dameng", dameng::DEFAULT_TYPE_RULES),
            ("generic", generic::DEFAULT_TYPE_RULES),
        ];
        for (name, text) in tables {
            let defaults = TypeRules::parse(text, name).expect("the defaults parse");
            for kind in every_kind() {
                let to = TypeRules::default().target_type(&defaults, name, &source("", &kind));
                let to = to.unwrap_or_else(|| panic!("{name}: no rule for {kind:?}"));
                assert!(
                    !to.contains('{'),
                    "{name}: {kind:?} → {to}: a placeholder left"
                );
            }
        }
    }

    #[test]
    fn kind_names_lists_every_name_a_canonical_type_has() {
        for kind in every_kind() {
            assert!(KIND_NAMES.contains(&kind_name(&kind)), "{kind:?}");
        }
        assert_eq!(KIND_NAMES.len(), 23);
    }

    /// A canonical name matches by the canonical type, never by the first
    /// word of a native name; other names match the whole native name.
    #[test]
    fn a_time_zone_timestamp_is_never_taken_for_a_plain_one() {
        let defaults = TypeRules::parse(crate::dialect::sqlite_types::DEFAULT_TYPE_RULES, "sqlite")
            .expect("the defaults parse");
        let kind = CanonicalType::Timestamp {
            fraction: 6,
            time_zone: true,
        };
        let to =
            |native| TypeRules::default().target_type(&defaults, "sqlite", &source(native, &kind));
        assert_eq!(
            to("timestamp(6) with time zone").as_deref(),
            Some("TIMESTAMPTZ(6)")
        );
        let operator = TypeRules::parse(
            "[[rule]]\nfrom = \"timestamp with time zone\"\nto = \"TEXT\"\n",
            "types.toml",
        )
        .unwrap();
        let by_native = operator.target_type(
            &defaults,
            "sqlite",
            &source("timestamp(6) with time zone", &kind),
        );
        assert_eq!(by_native.as_deref(), Some("TEXT"));
        assert_eq!(native_name("character  varying(40)"), "character varying");
    }

    #[test]
    fn dameng_text_is_counted_in_characters_up_to_what_a_row_holds() {
        let defaults = TypeRules::parse(crate::dialect::dameng::DEFAULT_TYPE_RULES, "dameng")
            .expect("the defaults parse");
        let to = |length| {
            let kind = CanonicalType::Varchar {
                length,
                unicode: true,
            };
            TypeRules::default().target_type(&defaults, "odbc", &source("varchar", &kind))
        };
        assert_eq!(to(40).as_deref(), Some("VARCHAR(40 CHAR)"));
        assert_eq!(to(2047).as_deref(), Some("VARCHAR(2047 CHAR)"));
        assert_eq!(to(2048).as_deref(), Some("CLOB"));
    }

    const MYSQL: &str = r#"
        [[rule]]
        from = "varchar"
        max_length = 16383
        to = "varchar({length})"
        [[rule]]
        from = "varchar"
        to = "longtext"
        [[rule]]
        from = "decimal"
        to = "decimal({precision},{scale})"
        [[rule]]
        from = "float64"
        to = "double"
    "#;

    fn source<'a>(native: &'a str, canonical: &'a CanonicalType) -> RuleSource<'a> {
        RuleSource {
            adapter: "postgres",
            table: "变电站表",
            column: "容量",
            native,
            canonical: Some(canonical),
        }
    }

    #[test]
    fn defaults_depend_on_the_source_length() {
        let defaults = TypeRules::parse(MYSQL, "mysql defaults").unwrap();
        let none = TypeRules::default();
        let short = CanonicalType::Varchar {
            length: 100,
            unicode: true,
        };
        let long = CanonicalType::Varchar {
            length: 20000,
            unicode: true,
        };
        assert_eq!(
            none.target_type(&defaults, "mysql", &source("varchar(100)", &short))
                .as_deref(),
            Some("varchar(100)")
        );
        assert_eq!(
            none.target_type(&defaults, "mysql", &source("varchar(20000)", &long))
                .as_deref(),
            Some("longtext")
        );
    }

    #[test]
    fn operator_rules_come_first_and_are_directional() {
        let defaults = TypeRules::parse(MYSQL, "mysql defaults").unwrap();
        let user = TypeRules::parse(
            "[[rule]]\nfrom = \"decimal\"\nto = \"double\"\ntarget = \"mysql\"\ncolumn = \"容量\"\n",
            "types.toml",
        )
        .unwrap();
        let dec = CanonicalType::Decimal {
            precision: Some(12),
            scale: 4,
        };
        assert_eq!(
            user.target_type(&defaults, "mysql", &source("numeric(12,4)", &dec))
                .as_deref(),
            Some("double")
        );
        let other = RuleSource {
            column: "其他",
            ..source("numeric(12,4)", &dec)
        };
        assert_eq!(
            user.target_type(&defaults, "mysql", &other).as_deref(),
            Some("decimal(12,4)")
        );
        // The rule names decimal → double; a double source still maps by the defaults.
        assert_eq!(
            user.target_type(
                &defaults,
                "mysql",
                &source("float8", &CanonicalType::Float64)
            )
            .as_deref(),
            Some("double")
        );
        assert_eq!(
            user.target_type(
                &TypeRules::default(),
                "postgres",
                &source("numeric(12,4)", &dec)
            ),
            None
        );
    }

    #[test]
    fn rule_files_reject_unknown_keys_with_a_position() {
        let e = TypeRules::parse(
            "[[rule]]\nfrom = \"money\"\nto = \"double\"\ntarge = \"mysql\"\n",
            "types.toml",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("types.toml:4:1: unknown field `targe`"),
            "{e}"
        );
    }
}
