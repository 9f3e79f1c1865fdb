//! Loss classification: what a mapping from one canonical type to another can
//! do to a value, decided from the types alone before any data moves.

use crate::types::CanonicalType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One way a value can change when it crosses a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Significant digits (a 64-bit integer in a double, a double in a float).
    Precision,
    /// Digits after the decimal point.
    Scale,
    /// Magnitude: the target holds smaller numbers, or fewer years.
    Range,
    /// Characters or bytes beyond the target's length.
    Length,
    /// An instant becomes a wall-clock reading, or the other way round.
    TimeZone,
    /// Fractional-second digits.
    Fraction,
    /// Characters a non-Unicode target cannot store.
    Unicode,
    /// Values must be parsed into another kind of type (text into a number,
    /// a timestamp into a date) and some will not parse.
    Kind,
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::Precision => "precision",
            Loss::Scale => "scale",
            Loss::Range => "range",
            Loss::Length => "length",
            Loss::TimeZone => "time zone",
            Loss::Fraction => "fractional seconds",
            Loss::Unicode => "Unicode",
            Loss::Kind => "kind of value",
        })
    }
}

/// How faithfully every value of one type crosses into another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fidelity", content = "losses", rename_all = "snake_case")]
pub enum Fidelity {
    /// The same type.
    Exact,
    /// Every value fits and converts back unchanged.
    Widening,
    /// Some values do not fit, for these reasons.
    Lossy(Vec<Loss>),
}

impl fmt::Display for Fidelity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fidelity::Exact => f.write_str("exact"),
            Fidelity::Widening => f.write_str("widening"),
            Fidelity::Lossy(losses) => {
                let names: Vec<String> = losses.iter().map(Loss::to_string).collect();
                write!(f, "lossy ({})", names.join(", "))
            }
        }
    }
}

/// The families of canonical types a classification reasons about.
enum Family {
    Bool,
    /// Integers of this many bits.
    Int(u32),
    /// Fixed point: integer digits (`None`: unbounded) and scale (`None`: unbounded).
    Fixed(Option<u32>, Option<u32>),
    /// Floats with this many significant decimal digits kept exactly.
    Float(u32),
    /// Text: length (`None`: unbounded), Unicode.
    Text(Option<u32>, bool),
    /// Bytes: length (`None`: unbounded).
    Bytes(Option<u32>),
    Date,
    Time(u32),
    Timestamp(u32, bool),
    Interval,
    Uuid,
    Json,
}

fn family(t: &CanonicalType) -> Family {
    use CanonicalType as C;
    match *t {
        C::Bool => Family::Bool,
        C::Int8 => Family::Int(8),
        C::Int16 => Family::Int(16),
        C::Int32 => Family::Int(32),
        C::Int64 => Family::Int(64),
        C::Decimal {
            precision: Some(p),
            scale,
        } => Family::Fixed(Some(p.saturating_sub(scale)), Some(scale)),
        C::Decimal {
            precision: None, ..
        } => Family::Fixed(None, None),
        C::Money { scale } => Family::Fixed(Some(MONEY_DIGITS - scale), Some(scale)),
        C::Float32 => Family::Float(6),
        C::Float64 => Family::Float(15),
        C::Char { length, unicode } | C::Varchar { length, unicode } => {
            Family::Text(Some(length), unicode)
        }
        C::Text { unicode } => Family::Text(None, unicode),
        C::Binary { length } | C::Varbinary { length } => Family::Bytes(Some(length)),
        C::Blob => Family::Bytes(None),
        C::Date => Family::Date,
        C::Time { fraction } => Family::Time(fraction),
        C::Timestamp {
            fraction,
            time_zone,
        } => Family::Timestamp(fraction, time_zone),
        C::Interval => Family::Interval,
        C::Uuid => Family::Uuid,
        C::Json => Family::Json,
    }
}

/// Total digits of a money amount (PostgreSQL's money is a 64-bit count of cents).
pub(crate) const MONEY_DIGITS: u32 = 19;

/// Decimal digits of the largest integer of `bits` bits.
fn int_digits(bits: u32) -> u32 {
    match bits {
        8 => 3,
        16 => 5,
        32 => 10,
        _ => 19,
    }
}

/// The longest text form of a type's values, when there is one.
fn text_width(from: &Family) -> Option<u32> {
    match *from {
        Family::Bool => Some(5),
        Family::Int(bits) => Some(int_digits(bits) + 1),
        Family::Fixed(Some(i), Some(s)) => Some(i + s + 2),
        Family::Float(_) => None,
        Family::Date => Some(10),
        Family::Time(f) => Some(8 + if f > 0 { f + 1 } else { 0 }),
        Family::Timestamp(f, _) => Some(19 + if f > 0 { f + 1 } else { 0 }),
        Family::Uuid => Some(36),
        _ => None,
    }
}

/// Classifies the mapping `from → to`. Directional: `money → float64` and
/// `float64 → money` are classified separately.
pub fn classify(from: &CanonicalType, to: &CanonicalType) -> Fidelity {
    if from == to {
        return Fidelity::Exact;
    }
    let mut losses = losses(&family(from), &family(to));
    losses.sort();
    if losses.is_empty() {
        Fidelity::Widening
    } else {
        Fidelity::Lossy(losses)
    }
}

fn losses(from: &Family, to: &Family) -> Vec<Loss> {
    use Family as F;
    let mut out = Vec::new();
    let mut lose = |cond: bool, loss: Loss| {
        if cond {
            out.push(loss);
        }
    };
    match (from, to) {
        (F::Bool, F::Bool | F::Int(_) | F::Float(_)) => {}
        (F::Bool, F::Fixed(i, _)) => lose(*i == Some(0), Loss::Range),
        (F::Int(_) | F::Fixed(..) | F::Float(_), F::Bool) => lose(true, Loss::Range),
        (F::Int(a), F::Int(b)) => lose(b < a, Loss::Range),
        (F::Int(a), F::Fixed(i, _)) => lose(i.is_some_and(|i| i < int_digits(*a)), Loss::Range),
        (F::Int(a), F::Float(d)) => lose(int_digits(*a) > *d, Loss::Precision),
        (F::Fixed(i, s), F::Int(b)) => {
            lose(s.is_none_or(|s| s > 0), Loss::Scale);
            lose(i.is_none_or(|i| i > int_digits(*b) - 1), Loss::Range);
        }
        (F::Fixed(i, s), F::Fixed(i2, s2)) => {
            lose(s2.is_some_and(|s2| s.is_none_or(|s| s > s2)), Loss::Scale);
            lose(i2.is_some_and(|i2| i.is_none_or(|i| i > i2)), Loss::Range);
        }
        (F::Fixed(i, s), F::Float(d)) => match (i, s) {
            (Some(i), Some(s)) => lose(i + s > *d, Loss::Precision),
            _ => lose(true, Loss::Precision),
        },
        (F::Float(_), F::Int(_)) => {
            lose(true, Loss::Scale);
            lose(true, Loss::Range);
        }
        (F::Float(_), F::Fixed(i, s)) => {
            // NaN and infinities fit no fixed-point type.
            lose(true, Loss::Range);
            lose(s.is_some() || i.is_some(), Loss::Scale);
        }
        (F::Float(a), F::Float(b)) => lose(b < a, Loss::Precision),
        (F::Text(n, u), F::Text(m, v)) => {
            lose(m.is_some_and(|m| n.is_none_or(|n| n > m)), Loss::Length);
            lose(*u && !*v, Loss::Unicode);
        }
        (F::Bytes(n), F::Bytes(m)) => {
            lose(m.is_some_and(|m| n.is_none_or(|n| n > m)), Loss::Length)
        }
        (F::Date, F::Date) => {}
        (F::Date, F::Timestamp(..)) => {}
        (F::Timestamp(..), F::Date) => lose(true, Loss::Precision),
        (F::Time(a), F::Time(b)) => lose(b < a, Loss::Fraction),
        (F::Timestamp(a, z), F::Timestamp(b, y)) => {
            lose(b < a, Loss::Fraction);
            lose(z != y, Loss::TimeZone);
        }
        (F::Interval, F::Interval) | (F::Uuid, F::Uuid) | (F::Json, F::Json) => {}
        (from, F::Text(m, _)) => match (text_width(from), from) {
            (_, F::Bytes(_)) => lose(true, Loss::Kind),
            (Some(w), _) => lose(m.is_some_and(|m| m < w), Loss::Length),
            (None, _) => lose(m.is_some(), Loss::Length),
        },
        _ => lose(true, Loss::Kind),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use CanonicalType as C;

    fn dec(p: u32, s: u32) -> C {
        C::Decimal {
            precision: Some(p),
            scale: s,
        }
    }

    #[test]
    fn rules_are_directional() {
        assert_eq!(classify(&dec(12, 4), &C::Float64), Fidelity::Widening);
        assert_eq!(
            classify(&C::Float64, &dec(12, 4)),
            Fidelity::Lossy(vec![Loss::Scale, Loss::Range])
        );
        assert_eq!(
            classify(&C::Money { scale: 2 }, &C::Float64),
            Fidelity::Lossy(vec![Loss::Precision])
        );
        assert_eq!(classify(&C::Int32, &C::Int64), Fidelity::Widening);
        assert_eq!(
            classify(&C::Int64, &C::Int32),
            Fidelity::Lossy(vec![Loss::Range])
        );
        assert_eq!(
            classify(&C::Int64, &C::Float64),
            Fidelity::Lossy(vec![Loss::Precision])
        );
    }

    #[test]
    fn text_time_and_decimal_losses_are_named() {
        let v = |length, unicode| C::Varchar { length, unicode };
        assert_eq!(classify(&v(20, true), &v(40, true)), Fidelity::Widening);
        assert_eq!(
            classify(&v(40, true), &v(20, true)),
            Fidelity::Lossy(vec![Loss::Length])
        );
        assert_eq!(
            classify(&C::Text { unicode: true }, &v(20, false)),
            Fidelity::Lossy(vec![Loss::Length, Loss::Unicode])
        );
        let ts = |fraction, time_zone| C::Timestamp {
            fraction,
            time_zone,
        };
        assert_eq!(
            classify(&ts(6, true), &ts(3, false)),
            Fidelity::Lossy(vec![Loss::TimeZone, Loss::Fraction])
        );
        assert_eq!(classify(&C::Date, &ts(0, false)), Fidelity::Widening);
        assert_eq!(classify(&dec(10, 2), &dec(12, 4)), Fidelity::Widening);
        assert_eq!(
            classify(&dec(12, 4), &dec(12, 2)),
            Fidelity::Lossy(vec![Loss::Scale])
        );
        assert_eq!(classify(&C::Int32, &v(11, false)), Fidelity::Widening);
        assert_eq!(
            classify(&C::Int32, &v(5, false)),
            Fidelity::Lossy(vec![Loss::Length])
        );
        assert_eq!(
            classify(&C::Text { unicode: true }, &C::Int64),
            Fidelity::Lossy(vec![Loss::Kind])
        );
        assert_eq!(
            classify(
                &C::Uuid,
                &C::Char {
                    length: 36,
                    unicode: false
                }
            ),
            Fidelity::Widening
        );
    }
}
