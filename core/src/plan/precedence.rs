//! Who wins a conflict: a table's [`ConflictPolicy`] applied to a change on
//! one side of a round against a change on the other side.
//!
//! The planner asks when both sides changed a row or field since the
//! spoke's last sync; settling at apply asks when the destination was edited
//! after the round read it. Both ask here, so the two always agree. Changes
//! of the same side are never weighed against each other by policy: a side
//! is represented by the change its state stands on (see `Summary::last`).

use super::Side;
use crate::change::Stamp;
use crate::schema::ConflictPolicy;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// The rule that decided a conflict, for the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The later change time (ties: the hub, then the spoke name that sorts
    /// first). Also what `priority` falls back to between equal priorities.
    #[default]
    Latest,
    /// The hub's side (policy `hub`).
    Hub,
    /// The higher priority of the nodes the changes were made on.
    Priority,
    /// The higher level of the database users who made the changes.
    UserLevel,
    /// The hub's side, until someone decides (policy `manual`).
    Manual,
}

impl Rule {
    /// The rule's name as the config and the log spell it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Latest => "latest",
            Rule::Hub => "hub",
            Rule::Priority => "priority",
            Rule::UserLevel => "user_level",
            Rule::Manual => "manual",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decision: whether the change asked about won, and by which rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The first change beats the second.
    pub wins: bool,
    /// The rule that decided.
    pub rule: Rule,
}

/// Whether change `a`, made on side `a_side` of the round, beats change `b`
/// of the other side under `policy`; `hub` is the hub's name.
pub fn decide(policy: &ConflictPolicy, hub: &str, a: &Stamp, a_side: Side, b: &Stamp) -> Verdict {
    let latest = || Verdict {
        wins: a.precedence(b, hub) == Ordering::Greater,
        rule: Rule::Latest,
    };
    // The higher weight wins; equal weights fall back to `latest`.
    let weighed = |a: i64, b: i64, rule| match a.cmp(&b) {
        Ordering::Equal => latest(),
        order => Verdict {
            wins: order == Ordering::Greater,
            rule,
        },
    };
    match policy {
        ConflictPolicy::Latest => latest(),
        ConflictPolicy::Hub => Verdict {
            wins: a_side == Side::Hub,
            rule: Rule::Hub,
        },
        ConflictPolicy::Priority(priorities) => {
            let of = |s: &Stamp| priorities.get(&s.origin).copied().unwrap_or(0);
            weighed(of(a), of(b), Rule::Priority)
        }
        ConflictPolicy::UserLevel(users) => {
            weighed(users.level(a), users.level(b), Rule::UserLevel)
        }
        ConflictPolicy::Manual => Verdict {
            wins: a_side == Side::Hub,
            rule: Rule::Manual,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::UserLevels;
    use std::collections::BTreeMap;

    fn stamp(time: i64, origin: &str) -> Stamp {
        Stamp::new(time, origin)
    }

    #[test]
    fn latest_takes_the_later_time_and_gives_ties_to_the_hub() {
        let p = ConflictPolicy::Latest;
        let v = decide(&p, "hub", &stamp(2, "a"), Side::Spoke, &stamp(1, "hub"));
        assert_eq!((v.wins, v.rule), (true, Rule::Latest));
        let v = decide(&p, "hub", &stamp(1, "a"), Side::Spoke, &stamp(1, "hub"));
        assert!(!v.wins);
    }

    #[test]
    fn hub_takes_the_hub_side_whatever_the_times() {
        let p = ConflictPolicy::Hub;
        // The hub side's change was made on another spoke, and earlier.
        let v = decide(&p, "hub", &stamp(9, "a"), Side::Spoke, &stamp(1, "b"));
        assert_eq!((v.wins, v.rule), (false, Rule::Hub));
        let v = decide(&p, "hub", &stamp(1, "b"), Side::Hub, &stamp(9, "a"));
        assert_eq!((v.wins, v.rule), (true, Rule::Hub));
    }

    #[test]
    fn manual_keeps_the_hub_side_until_someone_decides() {
        let p = ConflictPolicy::Manual;
        let v = decide(&p, "hub", &stamp(9, "a"), Side::Spoke, &stamp(1, "b"));
        assert_eq!((v.wins, v.rule), (false, Rule::Manual));
        let v = decide(&p, "hub", &stamp(1, "hub"), Side::Hub, &stamp(9, "a"));
        assert_eq!((v.wins, v.rule), (true, Rule::Manual));
    }

    #[test]
    fn priority_takes_the_higher_node_and_falls_back_to_time() {
        let p = ConflictPolicy::Priority(BTreeMap::from([("a".into(), 5), ("hub".into(), 1)]));
        let v = decide(&p, "hub", &stamp(1, "a"), Side::Spoke, &stamp(9, "hub"));
        assert_eq!((v.wins, v.rule), (true, Rule::Priority));
        // A node the map does not name has 0: below the hub's 1.
        let v = decide(&p, "hub", &stamp(9, "b"), Side::Spoke, &stamp(1, "hub"));
        assert_eq!((v.wins, v.rule), (false, Rule::Priority));
        // Equal priorities (b and c both 0): the later change.
        let v = decide(&p, "hub", &stamp(9, "b"), Side::Spoke, &stamp(1, "c"));
        assert_eq!((v.wins, v.rule), (true, Rule::Latest));
    }

    fn by(time: i64, origin: &str, user: Option<&str>) -> Stamp {
        Stamp {
            user: user.map(String::from),
            ..stamp(time, origin)
        }
    }

    #[test]
    fn user_level_takes_the_higher_user_then_the_default_user_then_time() {
        let p = ConflictPolicy::UserLevel(UserLevels {
            levels: BTreeMap::from([
                ("chief".into(), 10),
                ("clerk".into(), 1),
                ("intern".into(), -1),
            ]),
            default_users: BTreeMap::from([("lite".into(), "chief".into())]),
        });
        let (chief, clerk) = (Some("chief"), Some("clerk"));
        // (change a, its side, change b) and the verdict on a.
        let cases = [
            // The chief's older edit beats the clerk's later one, either side.
            (
                (1, "a", chief),
                Side::Spoke,
                (9, "hub", clerk),
                (true, Rule::UserLevel),
            ),
            (
                (9, "hub", clerk),
                Side::Hub,
                (1, "a", chief),
                (false, Rule::UserLevel),
            ),
            // No recorded user: the origin's default user (lite → chief).
            (
                (1, "lite", None),
                Side::Spoke,
                (9, "hub", clerk),
                (true, Rule::UserLevel),
            ),
            // A recorded user is not replaced by the default.
            (
                (1, "lite", clerk),
                Side::Spoke,
                (9, "hub", clerk),
                (false, Rule::Latest),
            ),
            // Unknown users and none at all count 0: equal, the later change.
            (
                (9, "a", Some("guest")),
                Side::Spoke,
                (1, "b", None),
                (true, Rule::Latest),
            ),
            // A user below 0 loses to an unknown one.
            (
                (9, "a", Some("intern")),
                Side::Spoke,
                (1, "hub", None),
                (false, Rule::UserLevel),
            ),
        ];
        for ((at, on, user), side, (b_at, b_on, b_user), expected) in cases {
            let v = decide(&p, "hub", &by(at, on, user), side, &by(b_at, b_on, b_user));
            assert_eq!(
                (v.wins, v.rule),
                expected,
                "{on} {user:?} against {b_on} {b_user:?}"
            );
        }
    }
}
