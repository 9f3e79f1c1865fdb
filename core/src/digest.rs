//! The convergence digest: a two-level hash tree over a table's rows that
//! every node computes alike, whatever its database, so copies are compared
//! by exchanging hashes instead of rows.
//!
//! - A row's text is the canonical encoding of its values in column order
//!   ([`row_text`]): per value a kind letter and its canonical text,
//!   delimited; `-` for NULL. Its hash is the MD5 of that text.
//! - A row falls in one of `buckets` buckets by its code ([`bucket_of`]):
//!   an integer code by its value modulo `buckets`, any other by the MD5 of
//!   its text. So bucket membership does not depend on any database's
//!   collation or order, and the same code is in the same bucket on every
//!   node.
//! - A bucket's digest is its row count and the sum of the first 48 bits of
//!   its rows' hashes: order-free, so a database computes it with `GROUP BY`.
//!   Two copies of a bucket are equal when both agree (a chance collision of
//!   48-bit sums is the only way two different buckets look alike).
//!
//! Comparing two nodes compares the bucket digests and descends only into
//! the buckets that differ, where rows are compared by code and hash; only
//! the rows that differ are read whole. A node computes the digest in its
//! own SQL where its dialect can spell every column's canonical text
//! ([`crate::dialect::digest::DigestSql`]); otherwise the engine
//! streams its rows and hashes them here. Both give the same numbers: the
//! SQL is a transcription of [`row_text`].

use crate::code::CombinedCode;
use crate::types::CanonicalType;
use crate::value::Value;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// Rows per bucket the engine aims at: small enough that a difference
/// reads few rows, large enough that the bucket list stays short.
pub const ROWS_PER_BUCKET: u64 = 32;

/// The most buckets a table is split into.
pub const MAX_BUCKETS: u32 = 1 << 16;

/// How many buckets a table of `rows` rows is split into: a power of two,
/// about [`ROWS_PER_BUCKET`] rows each.
pub fn buckets_for(rows: u64) -> u32 {
    let wanted = (rows / ROWS_PER_BUCKET).max(1);
    let pow2 = wanted.next_power_of_two().min(u64::from(MAX_BUCKETS));
    pow2 as u32
}

/// Whether a value read as `from` keeps its canonical text when converted
/// to `to` (when it fits): then a node's SQL may hash it as read.
pub fn keeps_text(from: &CanonicalType, to: &CanonicalType) -> bool {
    use CanonicalType as C;
    let integer = |t: &C| matches!(t, C::Int8 | C::Int16 | C::Int32 | C::Int64);
    let text = |t: &C| matches!(t, C::Varchar { .. } | C::Text { .. });
    let bytes = |t: &C| matches!(t, C::Varbinary { .. } | C::Blob);
    from == to || integer(from) && integer(to) || text(from) && text(to) || bytes(from) && bytes(to)
}

/// One bucket of a table on one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketDigest {
    /// Rows in the bucket.
    pub rows: u64,
    /// Sum of the first 48 bits of the rows' hashes ([`RowHash::prefix`]).
    pub sum: u128,
}

impl BucketDigest {
    /// Adds one row's hash.
    pub fn add(&mut self, hash: &RowHash) {
        self.rows += 1;
        self.sum += u128::from(hash.prefix());
    }
}

/// The MD5 of a row's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RowHash(pub [u8; 16]);

impl RowHash {
    /// Hashes a row's text.
    pub fn of(text: &[u8]) -> RowHash {
        RowHash(Md5::digest(text).into())
    }

    /// Parses the 32 hex digits a database's `md5()` returns.
    pub fn from_hex(hex: &str) -> Option<RowHash> {
        from_hex(hex)?.try_into().ok().map(RowHash)
    }

    /// The 32 lowercase hex digits, as a database's `md5()` spells them.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// The first 48 bits (12 hex digits), the part a bucket sums: a
    /// bucket of up to 32,767 rows sums within a signed 64-bit integer,
    /// which is all SQLite's `sum()` has.
    pub fn prefix(&self) -> u64 {
        let first = u64::from_be_bytes(self.0[..8].try_into().expect("8 bytes"));
        first >> 16
    }

    /// The bucket of a code whose text hashed to this, out of `buckets`:
    /// the first 28 bits (7 hex digits) modulo `buckets`.
    pub fn bucket(&self, buckets: u32) -> u32 {
        let first = u32::from_be_bytes(self.0[..4].try_into().expect("4 bytes"));
        (first >> 4) % buckets
    }
}

/// One row of a bucket that differs: its code and its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowDigest {
    /// The row's combined code.
    pub code: CombinedCode,
    /// The hash of the whole row.
    pub hash: RowHash,
}

/// Appends the lowercase hex digits of `bytes`.
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// The lowercase hex digits of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(2 * bytes.len());
    push_hex(&mut out, bytes);
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// The bytes hex digits spell; `None` for an odd count or a non-digit.
fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Appends one value's encoding, unambiguous in a row of them: `-` for
/// NULL; `i<decimal>;` for an integer, `b1;`/`b0;` for a boolean,
/// `f<16 hex digits of its IEEE bits, big-endian>;` for a float,
/// `x<lowercase hex>;` for bytes, and `t<length in UTF-8 bytes>:<text>` for
/// a text (the only kind that may hold `;`).
pub fn push_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(b'-'),
        Value::Bool(b) => push_plain(out, b'b', if *b { b"1" } else { b"0" }),
        Value::Int(i) => {
            use std::io::Write;
            write!(out, "i{i};").expect("writing to memory");
        }
        Value::Float(f) => push_hex_value(out, b'f', &f.to_bits().to_be_bytes()),
        Value::Bytes(b) => push_hex_value(out, b'x', b),
        Value::Text(t) => push_text(out, t.as_bytes()),
    }
}

/// Appends a value spelled without `;`: its kind letter, the spelling, `;`.
pub fn push_plain(out: &mut Vec<u8>, kind: u8, spelled: &[u8]) {
    out.push(kind);
    out.extend_from_slice(spelled);
    out.push(b';');
}

/// Appends a value spelled as hex digits: its kind letter, the lowercase
/// hex digits of `bytes`, `;`.
pub fn push_hex_value(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    out.push(kind);
    push_hex(out, bytes);
    out.push(b';');
}

/// Appends a text: `t`, its length in bytes, `:`, its bytes.
pub fn push_text(out: &mut Vec<u8>, bytes: &[u8]) {
    use std::io::Write;
    write!(out, "t{}:", bytes.len()).expect("writing to memory");
    out.extend_from_slice(bytes);
}

/// The text of a row (canonical values in column order).
pub fn row_text(row: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for value in row {
        push_value(&mut out, value);
    }
    out
}

/// Reads back the values of a text [`row_text`] wrote (a code's text, as a
/// node's SQL returns it); `None` when it is not such a text.
pub fn parse_text(text: &str) -> Option<Vec<Value>> {
    let mut values = Vec::new();
    let mut rest = text;
    while let Some(kind) = rest.chars().next() {
        rest = &rest[1..];
        if kind == '-' {
            values.push(Value::Null);
            continue;
        }
        if kind == 't' {
            let (len, after) = rest.split_once(':')?;
            let len: usize = len.parse().ok()?;
            values.push(Value::Text(after.get(..len)?.to_string()));
            rest = &after[len..];
            continue;
        }
        let (body, after) = rest.split_once(';')?;
        rest = after;
        values.push(match kind {
            'b' => Value::Bool(body == "1"),
            'i' => Value::Int(body.parse().ok()?),
            'f' => Value::Float(f64::from_bits(u64::from_str_radix(body, 16).ok()?)),
            'x' => Value::Bytes(from_hex(body)?),
            _ => return None,
        });
    }
    Some(values)
}

/// The bucket of a code, out of `buckets`: a code of one integer by its
/// value (`rem_euclid`), any other by the first 28 bits of the MD5 of its
/// text.
pub fn bucket_of(code: &[&Value], buckets: u32) -> u32 {
    match code {
        [Value::Int(i)] => i.rem_euclid(i64::from(buckets)) as u32,
        _ => {
            let mut text = Vec::new();
            for v in code {
                push_value(&mut text, v);
            }
            RowHash::of(&text).bucket(buckets)
        }
    }
}

/// The hash of a row and the bucket of its code, out of `buckets`.
pub fn digest_row(row: &[Value], code: &[usize], buckets: u32) -> (u32, RowHash) {
    let code_values: Vec<&Value> = code.iter().map(|&i| &row[i]).collect();
    (
        bucket_of(&code_values, buckets),
        RowHash::of(&row_text(row)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_text_says_each_value_once_and_unambiguously() {
        let row = [
            Value::Int(42),
            Value::Text("变电站".into()),
            Value::Null,
            Value::Bool(true),
            Value::Bytes(vec![0, 255]),
            Value::Float(1.5),
        ];
        assert_eq!(
            String::from_utf8(row_text(&row)).unwrap(),
            "i42;t9:变电站-b1;x00ff;f3ff8000000000000;"
        );
        // The same characters split differently are different rows.
        let a = row_text(&[Value::Text("a1".into()), Value::Text("b".into())]);
        let b = row_text(&[Value::Text("a".into()), Value::Text("1b".into())]);
        assert_ne!(a, b);
        assert_ne!(
            row_text(&[Value::Null]),
            row_text(&[Value::Text("-".into())])
        );
    }

    #[test]
    fn a_text_reads_back_into_its_values() {
        let row = vec![
            Value::Int(-42),
            Value::Text("线路表 1".into()),
            Value::Null,
            Value::Bool(false),
            Value::Bytes(vec![0, 255]),
            Value::Float(-0.25),
        ];
        let text = String::from_utf8(row_text(&row)).unwrap();
        assert_eq!(parse_text(&text), Some(row));
        assert_eq!(parse_text("t5:ab"), None);
        assert_eq!(parse_text("q12;"), None);
        assert_eq!(parse_text("i12"), None);
    }

    #[test]
    fn hashes_prefixes_and_buckets_read_the_md5_digits() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e
        let h = RowHash::of(b"");
        assert_eq!(
            RowHash::from_hex("d41d8cd98f00b204e9800998ecf8427e"),
            Some(h)
        );
        assert_eq!(h.prefix(), 0xd41d8cd98f00);
        assert_eq!(h.bucket(1 << 16), 0xd41d8cd % (1 << 16));
        assert_eq!(RowHash::from_hex("xyz"), None);
    }

    #[test]
    fn an_integer_code_falls_in_the_bucket_of_its_value() {
        assert_eq!(bucket_of(&[&Value::Int(70_000)], 1 << 16), 70_000 - 65_536);
        assert_eq!(bucket_of(&[&Value::Int(-1)], 8), 7);
        let text = Value::Text("线路-1".into());
        assert_eq!(
            bucket_of(&[&text], 1 << 16),
            RowHash::of("t8:线路-1".as_bytes()).bucket(1 << 16)
        );
    }

    #[test]
    fn bucket_counts_are_powers_of_two_near_the_target() {
        assert_eq!(buckets_for(0), 1);
        assert_eq!(buckets_for(100), 4);
        assert_eq!(buckets_for(1_000_000), 32_768);
        assert_eq!(buckets_for(u64::MAX), MAX_BUCKETS);
    }
}
