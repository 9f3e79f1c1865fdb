//! Value conversion, in one place for every direction: a value read from a
//! column of canonical type `from` is decoded into a [`Datum`], then encoded
//! for canonical type `to`. Adapters only map their native values to
//! [`Value`]s; every cross-type rule (and every check that a value fits) is
//! here, so a SQLite → MariaDB column behaves like a PostgreSQL → MariaDB one.
//!
//! Each canonical type has one canonical value form, which both sides of a
//! comparison are brought to:
//!
//! | canonical type | value |
//! |---|---|
//! | bool | `Bool` |
//! | int8 … int64 | `Int` |
//! | decimal(p,s), money(s) | `Text`, e.g. `-12.3400` (exactly `s` decimals; unconstrained decimals without trailing zeros) |
//! | float32, float64 | `Float` |
//! | char, varchar, text | `Text` (`char` without trailing spaces) |
//! | binary(n) | `Bytes`, zero-padded to `n` |
//! | varbinary, blob | `Bytes` |
//! | date | `Text`, `YYYY-MM-DD` |
//! | time(f) | `Text`, `HH:MM:SS[.ffffff]` (no trailing zeros) |
//! | timestamp(f) | `Text`, `YYYY-MM-DD HH:MM:SS[.ffffff]`; with time zone: in UTC |
//! | interval | `Text` as the database prints it |
//! | uuid | `Text`, lowercase with hyphens |
//! | json | `Text`, compact with sorted keys, numbers as written |

use super::loss::{Loss, MONEY_DIGITS};
use crate::types::CanonicalType;
use crate::value::Value;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value does not fit a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unfit {
    /// What would be lost.
    pub loss: Loss,
    /// The value and the limit it breaks.
    pub message: String,
}

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.loss)
    }
}

fn unfit(loss: Loss, message: impl Into<String>) -> Unfit {
    Unfit {
        loss,
        message: message.into(),
    }
}

/// What to do with a value that does not fit its target column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnfitPolicy {
    /// Refuse the batch with an error naming table, code and column.
    #[default]
    Error,
    /// Cut text and bytes to the length, decimals to the scale and times to
    /// the fractional digits the target holds, and log each cut. Other losses
    /// (range, precision, Unicode, kind) are still errors.
    Truncate,
}

/// A converted value and, under [`UnfitPolicy::Truncate`], what was cut.
#[derive(Clone, Debug, PartialEq)]
pub struct Converted {
    /// The value in the target's canonical form.
    pub value: Value,
    /// The cut made to fit it, if any.
    pub truncated: Option<Unfit>,
}

/// Brings a value read from a column of type `t` to its canonical form.
pub fn normalize(value: Value, t: &CanonicalType) -> Result<Value, Unfit> {
    convert(value, t, t, UnfitPolicy::Error).map(|c| c.value)
}

/// Converts a value in the canonical form of `from` (or as an adapter read
/// it) into the canonical form of `to`.
pub fn convert(
    value: Value,
    from: &CanonicalType,
    to: &CanonicalType,
    policy: UnfitPolicy,
) -> Result<Converted, Unfit> {
    let datum = decode(value, from)?;
    let mut out = Encoder {
        policy,
        truncated: None,
    };
    let value = out.encode(datum, to)?;
    Ok(Converted {
        value,
        truncated: out.truncated,
    })
}

/// A value with its meaning decided.
#[derive(Clone, Debug, PartialEq)]
enum Datum {
    Null,
    Bool(bool),
    Int(i64),
    /// A decimal and the scale its source prints it with.
    Dec(Dec, Option<u32>),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
}

/// An exact decimal number: sign, integer digits without leading zeros,
/// fraction digits without trailing zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Dec {
    negative: bool,
    int: String,
    frac: String,
}

impl Dec {
    fn parse(text: &str) -> Option<Dec> {
        let t = text.trim();
        let (negative, t) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(e) => (&t[..e], t[e + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{int}{frac}");
        let point = int.len() as i64 + exponent as i64;
        if !(-400..=400).contains(&point) {
            return None;
        }
        let (int, frac) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat(-point as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let int = int.trim_start_matches('0').to_string();
        let frac = frac.trim_end_matches('0').to_string();
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Some(Dec {
            negative,
            int,
            frac,
        })
    }

    fn of_int(i: i64) -> Dec {
        Dec::parse(&i.to_string()).expect("an integer is a decimal")
    }

    /// The shortest decimal that reads back as `f`.
    fn of_float(f: f64) -> Result<Dec, Unfit> {
        if !f.is_finite() {
            return Err(unfit(Loss::Range, format!("{f} is not a finite number")));
        }
        Ok(Dec::parse(&f.to_string()).expect("a finite float prints as a decimal"))
    }

    fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    /// Prints with exactly `scale` decimals, or as few as needed.
    fn format(&self, scale: Option<u32>) -> String {
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        out.push_str(if self.int.is_empty() { "0" } else { &self.int });
        let frac = match scale {
            Some(s) => format!("{:0<width$}", self.frac, width = s as usize),
            None => self.frac.clone(),
        };
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&frac);
        }
        out
    }

    fn to_i64(&self) -> Option<i64> {
        if !self.frac.is_empty() {
            return None;
        }
        self.format(None).parse().ok()
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(None))
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Whether a value of this kind can stand for a `t` at all (a text may
/// still fail to parse): a BLOB cannot be a text, nor a number a date. A
/// database with loose typing (SQLite) can store any kind in any column;
/// such a value is refused before it crosses, never rewritten (a BLOB would
/// become the text `\x…` on PostgreSQL). The kinds [`decode`] reads.
pub fn holds(t: &CanonicalType, value: &Value) -> bool {
    use CanonicalType as C;
    let integer = matches!(t, C::Int8 | C::Int16 | C::Int32 | C::Int64);
    let text = matches!(t, C::Char { .. } | C::Varchar { .. } | C::Text { .. });
    let number = matches!(
        t,
        C::Decimal { .. } | C::Money { .. } | C::Float32 | C::Float64
    );
    match value {
        Value::Null | Value::Text(_) => true,
        Value::Bool(_) => integer || matches!(t, C::Bool),
        Value::Int(_) => integer || number || text || matches!(t, C::Bool),
        Value::Float(_) => number || text,
        Value::Bytes(b) => {
            matches!(t, C::Binary { .. } | C::Varbinary { .. } | C::Blob)
                || matches!(t, C::Uuid) && b.len() == 16
        }
    }
}

/// The kind of a value, for saying which one a column cannot hold.
pub fn kind_of(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Int(_) => "an integer".into(),
        Value::Float(_) => "a floating-point number".into(),
        Value::Text(_) => "a text".into(),
        Value::Bytes(b) => format!("a BLOB ({} bytes)", b.len()),
    }
}

/// Reads a value stored in a column of type `t` (as the adapter delivered it).
fn decode(value: Value, t: &CanonicalType) -> Result<Datum, Unfit> {
    use CanonicalType as C;
    if let Value::Null = value {
        return Ok(Datum::Null);
    }
    let bad = |v: &Value| unfit(Loss::Kind, format!("{} is not a valid {t}", show(v)));
    Ok(match (t, value) {
        (C::Bool, Value::Bool(b)) => Datum::Bool(b),
        (C::Bool, Value::Int(i @ (0 | 1))) => Datum::Bool(i == 1),
        (C::Bool, Value::Text(s)) => {
            Datum::Bool(parse_bool(&s).ok_or_else(|| bad(&Value::Text(s)))?)
        }
        (C::Int8 | C::Int16 | C::Int32 | C::Int64, Value::Int(i)) => Datum::Int(i),
        (C::Int8 | C::Int16 | C::Int32 | C::Int64, Value::Bool(b)) => Datum::Int(b as i64),
        (C::Int8 | C::Int16 | C::Int32 | C::Int64, Value::Text(s)) => {
            Datum::Int(s.trim().parse().map_err(|_| bad(&Value::Text(s.clone())))?)
        }
        (C::Decimal { .. } | C::Money { .. }, Value::Int(i)) => {
            Datum::Dec(Dec::of_int(i), scale_of(t))
        }
        (C::Decimal { .. } | C::Money { .. }, Value::Float(f)) => {
            Datum::Dec(Dec::of_float(f)?, scale_of(t))
        }
        (C::Decimal { .. } | C::Money { .. }, Value::Text(s)) => Datum::Dec(
            Dec::parse(&s).ok_or_else(|| bad(&Value::Text(s.clone())))?,
            scale_of(t),
        ),
        (C::Float32 | C::Float64, Value::Float(f)) => Datum::Float(f),
        (C::Float32 | C::Float64, Value::Int(i)) => Datum::Float(i as f64),
        (C::Float32 | C::Float64, Value::Text(s)) => {
            Datum::Float(parse_float(&s).ok_or_else(|| bad(&Value::Text(s.clone())))?)
        }
        (C::Char { .. }, Value::Text(s)) => Datum::Text(s.trim_end_matches(' ').to_string()),
        (C::Varchar { .. } | C::Text { .. } | C::Interval, Value::Text(s)) => Datum::Text(s),
        (C::Char { .. } | C::Varchar { .. } | C::Text { .. }, Value::Int(i)) => {
            Datum::Text(i.to_string())
        }
        (C::Char { .. } | C::Varchar { .. } | C::Text { .. }, Value::Float(f)) => {
            Datum::Text(float_text(f))
        }
        (C::Binary { .. } | C::Varbinary { .. } | C::Blob, Value::Bytes(b)) => Datum::Bytes(b),
        (C::Binary { .. } | C::Varbinary { .. } | C::Blob, Value::Text(s)) => {
            Datum::Bytes(s.into_bytes())
        }
        (C::Date, Value::Text(s)) => {
            Datum::Date(parse_date(&s).ok_or_else(|| bad(&Value::Text(s.clone())))?)
        }
        (C::Time { .. }, Value::Text(s)) => {
            Datum::Time(parse_time(&s).ok_or_else(|| bad(&Value::Text(s.clone())))?)
        }
        (C::Timestamp { time_zone, .. }, Value::Text(s)) => Datum::Timestamp(
            parse_timestamp(&s, *time_zone).ok_or_else(|| bad(&Value::Text(s.clone())))?,
        ),
        (C::Uuid, Value::Text(s)) => {
            Datum::Text(parse_uuid(&s).ok_or_else(|| bad(&Value::Text(s.clone())))?)
        }
        (C::Uuid, Value::Bytes(b)) if b.len() == 16 => Datum::Text(format_uuid(&b)),
        (C::Json, Value::Text(s)) => {
            Datum::Text(normalize_json(&s).ok_or_else(|| bad(&Value::Text(s.clone())))?)
        }
        (_, other) => return Err(bad(&other)),
    })
}

/// Writes a datum in the canonical form of `t`, checking that it fits.
struct Encoder {
    policy: UnfitPolicy,
    truncated: Option<Unfit>,
}

impl Encoder {
    /// A cut that [`UnfitPolicy::Truncate`] may make: recorded, or an error.
    fn cut(&mut self, why: Unfit) -> Result<(), Unfit> {
        match self.policy {
            UnfitPolicy::Truncate => {
                self.truncated = Some(why);
                Ok(())
            }
            UnfitPolicy::Error => Err(why),
        }
    }

    fn encode(&mut self, d: Datum, t: &CanonicalType) -> Result<Value, Unfit> {
        use CanonicalType as C;
        if d == Datum::Null {
            return Ok(Value::Null);
        }
        let kind = |d: &Datum| {
            unfit(
                Loss::Kind,
                format!("{} cannot be stored as {t}", describe(d)),
            )
        };
        Ok(match t {
            C::Bool => Value::Bool(match &d {
                Datum::Bool(b) => *b,
                Datum::Int(0) => false,
                Datum::Int(1) => true,
                Datum::Text(s) => parse_bool(s).ok_or_else(|| kind(&d))?,
                Datum::Int(_) | Datum::Dec(..) | Datum::Float(_) => {
                    match self.encode(d.clone(), &C::Int64)? {
                        Value::Int(0) => false,
                        Value::Int(1) => true,
                        _ => {
                            return Err(unfit(
                                Loss::Range,
                                format!("{} is not 0 or 1", describe(&d)),
                            ))
                        }
                    }
                }
                _ => return Err(kind(&d)),
            }),
            C::Int8 | C::Int16 | C::Int32 | C::Int64 => {
                let i = match &d {
                    Datum::Int(i) => *i,
                    Datum::Bool(b) => *b as i64,
                    Datum::Dec(x, _) => match x.to_i64() {
                        Some(i) => i,
                        None if !x.frac.is_empty() => {
                            return Err(unfit(
                                Loss::Scale,
                                format!("{x} has decimals; {t} has none"),
                            ))
                        }
                        None => {
                            return Err(unfit(Loss::Range, format!("{x} is out of range for {t}")))
                        }
                    },
                    Datum::Float(f) => {
                        return self.encode(Datum::Dec(Dec::of_float(*f)?, None), t);
                    }
                    Datum::Text(s) => s.trim().parse().map_err(|_| kind(&d))?,
                    _ => return Err(kind(&d)),
                };
                let (min, max) = int_range(t);
                if i < min || i > max {
                    return Err(unfit(
                        Loss::Range,
                        format!("{i} is out of range for {t} ({min}…{max})"),
                    ));
                }
                Value::Int(i)
            }
            C::Decimal { precision, scale } => {
                let int_digits = precision.map(|p| p.saturating_sub(*scale));
                let scale = precision.map(|_| *scale);
                self.fixed(d, t, int_digits, scale)?
            }
            C::Money { scale } => self.fixed(d, t, Some(MONEY_DIGITS - scale), Some(*scale))?,
            C::Float32 | C::Float64 => {
                let f = match &d {
                    Datum::Float(f) => *f,
                    Datum::Int(i) => {
                        let f = *i as f64;
                        if f as i128 != *i as i128 {
                            return Err(unfit(
                                Loss::Precision,
                                format!("{i} has more digits than {t} keeps"),
                            ));
                        }
                        f
                    }
                    Datum::Bool(b) => *b as i64 as f64,
                    Datum::Dec(x, _) => {
                        let f: f64 = x.format(None).parse().map_err(|_| kind(&d))?;
                        if Dec::of_float(f)? != *x {
                            return Err(unfit(
                                Loss::Precision,
                                format!("{x} has more digits than {t} keeps"),
                            ));
                        }
                        f
                    }
                    Datum::Text(s) => parse_float(s).ok_or_else(|| kind(&d))?,
                    _ => return Err(kind(&d)),
                };
                if *t == C::Float32 && !f.is_nan() && (f as f32) as f64 != f {
                    return Err(unfit(
                        Loss::Precision,
                        format!("{f} has more digits than {t} keeps"),
                    ));
                }
                Value::Float(f)
            }
            C::Char { length, unicode } | C::Varchar { length, unicode } => {
                self.text(d, t, Some(*length), *unicode)?
            }
            C::Text { unicode } => self.text(d, t, None, *unicode)?,
            C::Binary { .. } | C::Varbinary { .. } | C::Blob => {
                let mut b = match d {
                    Datum::Bytes(b) => b,
                    Datum::Text(s) => s.into_bytes(),
                    other => return Err(kind(&other)),
                };
                let limit = match t {
                    C::Binary { length } | C::Varbinary { length } => Some(*length as usize),
                    _ => None,
                };
                if let Some(n) = limit.filter(|n| b.len() > *n) {
                    self.cut(unfit(
                        Loss::Length,
                        format!("{} bytes do not fit {t}", b.len()),
                    ))?;
                    b.truncate(n);
                }
                if let C::Binary { length } = t {
                    b.resize(*length as usize, 0);
                }
                Value::Bytes(b)
            }
            C::Date => Value::Text(match d {
                Datum::Date(x) => format_date(x),
                Datum::Timestamp(ts) if ts.time() == NaiveTime::MIN => format_date(ts.date()),
                Datum::Timestamp(ts) => {
                    return Err(unfit(
                        Loss::Precision,
                        format!("{} has a time of day; {t} has none", format_timestamp(ts)),
                    ))
                }
                Datum::Text(ref s) => format_date(parse_date(s).ok_or_else(|| kind(&d))?),
                other => return Err(kind(&other)),
            }),
            C::Time { fraction } => {
                let time = match d {
                    Datum::Time(x) => x,
                    Datum::Text(ref s) => parse_time(s).ok_or_else(|| kind(&d))?,
                    other => return Err(kind(&other)),
                };
                let time = self.fraction(time, *fraction, t, |x| format_time(*x))?;
                Value::Text(format_time(time))
            }
            C::Timestamp {
                fraction,
                time_zone,
            } => {
                let ts = match d {
                    Datum::Timestamp(x) => x,
                    Datum::Date(x) => x.and_time(NaiveTime::MIN),
                    Datum::Text(ref s) => parse_timestamp(s, *time_zone).ok_or_else(|| kind(&d))?,
                    other => return Err(kind(&other)),
                };
                let time = self.fraction(ts.time(), *fraction, t, |_| format_timestamp(ts))?;
                Value::Text(format_timestamp(ts.date().and_time(time)))
            }
            C::Interval => match d {
                Datum::Text(s) => Value::Text(s),
                other => return Err(kind(&other)),
            },
            C::Uuid => match d {
                Datum::Text(ref s) => Value::Text(parse_uuid(s).ok_or_else(|| kind(&d))?),
                Datum::Bytes(ref b) if b.len() == 16 => Value::Text(format_uuid(b)),
                other => return Err(kind(&other)),
            },
            C::Json => match d {
                Datum::Text(ref s) => Value::Text(normalize_json(s).ok_or_else(|| kind(&d))?),
                other => return Err(kind(&other)),
            },
        })
    }

    /// A fixed-point number with at most `int_digits` before and `scale` after the point.
    fn fixed(
        &mut self,
        d: Datum,
        t: &CanonicalType,
        int_digits: Option<u32>,
        scale: Option<u32>,
    ) -> Result<Value, Unfit> {
        let mut x = match &d {
            Datum::Dec(x, _) => x.clone(),
            Datum::Int(i) => Dec::of_int(*i),
            Datum::Bool(b) => Dec::of_int(*b as i64),
            Datum::Float(f) => Dec::of_float(*f)?,
            Datum::Text(s) => Dec::parse(s).ok_or_else(|| {
                unfit(
                    Loss::Kind,
                    format!("{} cannot be stored as {t}", describe(&d)),
                )
            })?,
            other => {
                return Err(unfit(
                    Loss::Kind,
                    format!("{} cannot be stored as {t}", describe(other)),
                ))
            }
        };
        if let Some(s) = scale.filter(|s| x.frac.len() > *s as usize) {
            self.cut(unfit(
                Loss::Scale,
                format!("{x} has more than {s} decimals, the scale of {t}"),
            ))?;
            x.frac.truncate(s as usize);
            x.frac = x.frac.trim_end_matches('0').to_string();
            x.negative &= !x.is_zero();
        }
        if let Some(i) = int_digits.filter(|i| x.int.len() > *i as usize) {
            return Err(unfit(
                Loss::Range,
                format!("{x} has more than {i} digits before the point, the limit of {t}"),
            ));
        }
        Ok(Value::Text(x.format(scale)))
    }

    fn text(
        &mut self,
        d: Datum,
        t: &CanonicalType,
        length: Option<u32>,
        unicode: bool,
    ) -> Result<Value, Unfit> {
        let mut s = match d {
            Datum::Text(s) => s,
            Datum::Bool(b) => b.to_string(),
            Datum::Int(i) => i.to_string(),
            Datum::Dec(x, scale) => x.format(scale),
            Datum::Float(f) => float_text(f),
            Datum::Date(x) => format_date(x),
            Datum::Time(x) => format_time(x),
            Datum::Timestamp(x) => format_timestamp(x),
            Datum::Bytes(b) => String::from_utf8(b).map_err(|_| {
                unfit(
                    Loss::Kind,
                    format!("bytes that are not UTF-8 cannot be stored as {t}"),
                )
            })?,
            Datum::Null => unreachable!("NULL is returned before"),
        };
        if matches!(t, CanonicalType::Char { .. }) {
            s.truncate(s.trim_end_matches(' ').len());
        }
        if !unicode {
            if let Some(c) = s.chars().find(|c| *c > '\u{ff}') {
                return Err(unfit(
                    Loss::Unicode,
                    format!("'{c}' (U+{:04X}) cannot be stored in {t}", c as u32),
                ));
            }
        }
        if let Some(n) = length {
            if let Some((cut, _)) = s.char_indices().nth(n as usize) {
                self.cut(unfit(
                    Loss::Length,
                    format!("{} characters do not fit {t}", s.chars().count()),
                ))?;
                s.truncate(cut);
            }
        }
        Ok(Value::Text(s))
    }

    /// Checks (or cuts) a time's fraction to `digits` digits.
    fn fraction(
        &mut self,
        time: NaiveTime,
        digits: u32,
        t: &CanonicalType,
        show: impl Fn(&NaiveTime) -> String,
    ) -> Result<NaiveTime, Unfit> {
        let unit = 10u32.pow(9 - digits.min(6));
        let nanos = time.nanosecond();
        if nanos.is_multiple_of(unit) {
            return Ok(time);
        }
        self.cut(unfit(
            Loss::Fraction,
            format!(
                "{} has more than {digits} fractional-second digits, the limit of {t}",
                show(&time)
            ),
        ))?;
        Ok(time
            .with_nanosecond(nanos - nanos % unit)
            .expect("fewer nanoseconds are valid"))
    }
}

fn describe(d: &Datum) -> String {
    match d {
        Datum::Null => "NULL".into(),
        Datum::Bool(b) => b.to_string(),
        Datum::Int(i) => i.to_string(),
        Datum::Dec(x, scale) => x.format(*scale),
        Datum::Float(f) => float_text(*f),
        Datum::Text(s) => show(&Value::Text(s.clone())),
        Datum::Bytes(b) => format!("{} bytes", b.len()),
        Datum::Date(x) => format_date(*x),
        Datum::Time(x) => format_time(*x),
        Datum::Timestamp(x) => format_timestamp(*x),
    }
}

/// The scale a fixed-point type prints its values with.
fn scale_of(t: &CanonicalType) -> Option<u32> {
    match t {
        CanonicalType::Decimal {
            precision: Some(_),
            scale,
        }
        | CanonicalType::Money { scale } => Some(*scale),
        _ => None,
    }
}

fn int_range(t: &CanonicalType) -> (i64, i64) {
    match t {
        CanonicalType::Int8 => (i8::MIN as i64, i8::MAX as i64),
        CanonicalType::Int16 => (i16::MIN as i64, i16::MAX as i64),
        CanonicalType::Int32 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "1" | "y" | "yes" | "on" => Some(true),
        "f" | "false" | "0" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s.trim() {
        "Infinity" | "inf" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        t => t.parse().ok(),
    }
}

fn float_text(f: f64) -> String {
    match f {
        f if f.is_nan() => "NaN".into(),
        f64::INFINITY => "Infinity".into(),
        f64::NEG_INFINITY => "-Infinity".into(),
        f => f.to_string(),
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    match s.len() {
        10 => date_prefix(s.as_bytes()),
        _ => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
    }
}

fn format_date(d: NaiveDate) -> String {
    match d.year() {
        0..=9999 => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        _ => d.format("%Y-%m-%d").to_string(),
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    match time_prefix(s.as_bytes()) {
        Some((t, used)) if used == s.len() => Some(t),
        _ => NaiveTime::parse_from_str(s, "%H:%M:%S%.f").ok(),
    }
}

/// `HH:MM:SS` plus the fraction's significant digits (at most six).
fn format_time(t: NaiveTime) -> String {
    let mut out = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
    let micros = t.nanosecond() / 1000;
    if micros != 0 {
        let frac = format!("{micros:06}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out
}

fn format_timestamp(ts: NaiveDateTime) -> String {
    format!("{} {}", format_date(ts.date()), format_time(ts.time()))
}

/// The number in ASCII digits `b`.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// `YYYY-MM-DD` at the start of `s`.
fn date_prefix(s: &[u8]) -> Option<NaiveDate> {
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&s[0..4])? as i32,
        digits(&s[5..7])?,
        digits(&s[8..10])?,
    )
}

/// `HH:MM:SS[.fraction]` at the start of `s`, and how many bytes it took.
fn time_prefix(s: &[u8]) -> Option<(NaiveTime, usize)> {
    if s.len() < 8 || s[2] != b':' || s[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(&s[0..2])?, digits(&s[3..5])?, digits(&s[6..8])?);
    let mut used = 8;
    let mut nanos = 0;
    if s.get(8) == Some(&b'.') {
        let frac = s[9..].iter().take_while(|b| b.is_ascii_digit()).count();
        if frac == 0 || frac > 9 {
            return None;
        }
        nanos = digits(&s[9..9 + frac])? * 10u32.pow(9 - frac as u32);
        used = 9 + frac;
    }
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos).map(|t| (t, used))
}

/// An offset suffix in seconds east of UTC: `Z`, `+HH`, `+HHMM`, `+HH:MM`.
fn offset_suffix(s: &[u8]) -> Option<i64> {
    if s == b"Z" {
        return Some(0);
    }
    let sign = match s.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &s[1..];
    let (h, m) = match rest.len() {
        2 => (digits(rest)?, 0),
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    Some(sign * i64::from(h * 3600 + m * 60))
}

/// Reads a timestamp with or without an offset. With an offset, an instant
/// (`time_zone`) is converted to UTC; a wall-clock reading keeps its local
/// digits. Without one, an instant is taken to be in UTC (adapters read them
/// in UTC sessions).
fn parse_timestamp(s: &str, time_zone: bool) -> Option<NaiveDateTime> {
    let s = s.trim();
    let b = s.as_bytes();
    // The forms databases print, read by hand: chrono's format parser is the
    // slow part of a conversion.
    if let Some(date) = date_prefix(b) {
        if b.len() == 10 {
            return Some(date.and_time(NaiveTime::MIN));
        }
        if matches!(b[10], b' ' | b'T') {
            if let Some((time, used)) = time_prefix(&b[11..]) {
                let local = date.and_time(time);
                let rest = &b[11 + used..];
                if rest.is_empty() {
                    return Some(local);
                }
                if let Some(offset) = offset_suffix(rest) {
                    return Some(if time_zone {
                        local - chrono::TimeDelta::seconds(offset)
                    } else {
                        local
                    });
                }
            }
        }
    }
    let zoned = ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"];
    let with_offset = zoned
        .iter()
        .find_map(|f| DateTime::parse_from_str(s, f).ok())
        .or_else(|| DateTime::parse_from_rfc3339(s).ok());
    with_offset.map(|dt| {
        if time_zone {
            dt.naive_utc()
        } else {
            dt.naive_local()
        }
    })
}

fn parse_uuid(s: &str) -> Option<String> {
    let hex: String = s
        .trim()
        .trim_matches(['{', '}'])
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

fn format_uuid(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    parse_uuid(&hex).expect("32 hex digits")
}

/// Compact JSON with object keys sorted; numbers keep their written digits.
fn normalize_json(s: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(s).ok()?;
    serde_json::to_string(&v).ok()
}

#[cfg(test)]
mod tests;
