//! Node options (`[node.options]` in `hetsync.toml`): the keys an adapter
//! declares, their types, and reading them. The binary checks a node's
//! options against its adapter's declaration before connecting, so an
//! unknown key or a value of the wrong type is a configuration error with
//! its file, line and column; an adapter then reads them typed.

use crate::adapter::NodeSpec;
use crate::{Error, Result};
use std::time::Duration;

/// The kind of value an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// A duration written as text with a unit: `"250ms"`, `"10s"`, `"2m"`, `"1h"`.
    Duration,
    /// Any text.
    Text,
    /// One of these words (the first is the default).
    Choice(&'static [&'static str]),
}

/// One key an adapter accepts under `[node.options]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionSpec {
    /// The key.
    pub name: &'static str,
    /// Its type.
    pub kind: OptionKind,
    /// What it does, with its default.
    pub doc: &'static str,
}

/// How long a connection attempt may take unless `connect_timeout` says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `connect_timeout`, accepted by every network adapter.
pub const CONNECT_TIMEOUT: OptionSpec = OptionSpec {
    name: "connect_timeout",
    kind: OptionKind::Duration,
    doc: "how long a connection attempt may wait for the server (default 10s)",
};

/// `statement_timeout`, accepted by adapters whose database can bound one statement.
pub const STATEMENT_TIMEOUT: OptionSpec = OptionSpec {
    name: "statement_timeout",
    kind: OptionKind::Duration,
    doc: "the longest one statement may run, lock waits included (default: no limit)",
};

/// Parses a duration with a unit: `ms`, `s`, `m` or `h` (`"1.5s"` works).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || {
        format!("{text:?} is not a duration such as \"500ms\", \"10s\", \"2m\", \"1h\" or \"7d\"")
    };
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86_400.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

/// Reads a duration option's value.
fn duration_of(
    spec: &OptionSpec,
    value: &serde_json::Value,
) -> std::result::Result<Duration, String> {
    match value {
        serde_json::Value::String(text) => parse_duration(text),
        other => Err(format!(
            "option `{}` takes a duration as text such as \"10s\", not {other}",
            spec.name
        )),
    }
}

/// Checks one value against its spec.
fn check_value(spec: &OptionSpec, value: &serde_json::Value) -> std::result::Result<(), String> {
    match spec.kind {
        OptionKind::Duration => duration_of(spec, value).map(|_| ()),
        OptionKind::Text if value.is_string() => Ok(()),
        OptionKind::Text => Err(format!("option `{}` takes text, not {value}", spec.name)),
        OptionKind::Choice(words) => choice_of(spec, words, value).map(|_| ()),
    }
}

/// Reads a choice option's value: one of `words`.
fn choice_of(
    spec: &OptionSpec,
    words: &'static [&'static str],
    value: &serde_json::Value,
) -> std::result::Result<&'static str, String> {
    let quoted = || {
        words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match value {
        serde_json::Value::String(text) => words
            .iter()
            .find(|w| **w == text.as_str())
            .copied()
            .ok_or_else(|| format!("option `{}` is {}, not {text:?}", spec.name, quoted())),
        other => Err(format!(
            "option `{}` is {}, not {other}",
            spec.name,
            quoted()
        )),
    }
}

/// Checks options against what an adapter declares; the error names the
/// offending key, for the caller to place in the file.
pub fn check_options(
    adapter: &str,
    specs: &[OptionSpec],
    options: &std::collections::BTreeMap<String, serde_json::Value>,
) -> std::result::Result<(), (String, String)> {
    for (key, value) in options {
        let Some(spec) = specs.iter().find(|s| s.name == key) else {
            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
            return Err((
                key.clone(),
                format!(
                    "unknown option `{key}` for adapter '{adapter}' (known: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        check_value(spec, value).map_err(|message| (key.clone(), message))?;
    }
    Ok(())
}

impl NodeSpec {
    /// A duration option, `None` when not set; a bad value is an error
    /// naming the node (the binary has checked built-in adapters' options
    /// already, so this guards plugins and direct callers).
    pub fn duration_option(&self, spec: &OptionSpec) -> Result<Option<Duration>> {
        self.options
            .get(spec.name)
            .map(|value| duration_of(spec, value).map_err(|m| self.option_error(m)))
            .transpose()
    }

    /// A choice option's word, its first word when not set.
    pub fn choice_option(&self, spec: &OptionSpec) -> Result<&'static str> {
        let OptionKind::Choice(words) = spec.kind else {
            panic!("option `{}` is not a choice", spec.name);
        };
        match self.options.get(spec.name) {
            None => Ok(words[0]),
            Some(value) => choice_of(spec, words, value).map_err(|m| self.option_error(m)),
        }
    }

    fn option_error(&self, message: String) -> Error {
        Error::Deployment(format!("node '{}': {message}", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10")
            .unwrap_err()
            .contains("\"10\" is not a duration"));
        assert!(parse_duration("ten s").is_err());
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key() {
        let specs = [CONNECT_TIMEOUT];
        let mut options = BTreeMap::new();
        options.insert("connect_timeout".to_string(), serde_json::json!("5s"));
        assert!(check_options("pg", &specs, &options).is_ok());
        options.insert("colour".to_string(), serde_json::json!("red"));
        let (key, message) = check_options("pg", &specs, &options).unwrap_err();
        assert_eq!(key, "colour");
        assert!(
            message.contains("unknown option `colour` for adapter 'pg' (known: connect_timeout)"),
            "{message}"
        );
        options.remove("colour");
        options.insert("connect_timeout".to_string(), serde_json::json!(5));
        let (key, message) = check_options("pg", &specs, &options).unwrap_err();
        assert_eq!(key, "connect_timeout");
        assert!(message.contains("takes a duration as text"), "{message}");
    }

    #[test]
    fn choices_name_the_words() {
        const MODE: OptionSpec = OptionSpec {
            name: "mode",
            kind: OptionKind::Choice(&["a", "b"]),
            doc: "",
        };
        let mut spec = NodeSpec::from_url("n", "x");
        assert_eq!(spec.choice_option(&MODE).unwrap(), "a");
        spec.options.insert("mode".into(), serde_json::json!("b"));
        assert_eq!(spec.choice_option(&MODE).unwrap(), "b");
        assert!(check_options("pg", &[MODE], &spec.options).is_ok());
        spec.options.insert("mode".into(), serde_json::json!("c"));
        let (key, message) = check_options("pg", &[MODE], &spec.options).unwrap_err();
        assert_eq!(key, "mode");
        assert!(
            message.contains(r#"option `mode` is "a" or "b", not "c""#),
            "{message}"
        );
        let e = spec.choice_option(&MODE).unwrap_err().to_string();
        assert!(e.contains("node 'n'"), "{e}");
    }
}
