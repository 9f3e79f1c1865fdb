//! The convergence digest: a two-level hash tree over a table's rows that
//! every node computes alike, whatever its database, so copies are compared
//! by exchanging hashes instead of rows.
//!
//! - A row's text is the canonical encoding of its values in column order
//!   ([`row_text`]): per value its length in bytes, a kind letter and its
//!   canonical text; `-` for NULL. Its hash is the MD5 of that text.
//! - A row falls in one of `buckets` buckets by the MD5 of its code's text:
//!   so bucket membership does not depend on any database's collation or
//!   order, and the same code is in the same bucket on every node.
//! - A bucket's digest is its row count and the sum of the first 60 bits of
//!   its rows' hashes: order-free, so a database computes it with `GROUP BY`.
//!   Two copies of a bucket are equal when both agree (a chance collision of
//!   60-bit sums is the only way two different buckets look alike).
//!
//! Comparing two nodes compares the bucket digests and descends only into
//! the buckets that differ, where rows are compared by code and hash; only
//! the rows that differ are read whole. A node computes the digest in its
//! own SQL where its dialect can spell every column's canonical text
//! ([`crate::dialect::Dialect::digest_value_sql`]); otherwise the engine
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
    /// Sum of the first 60 bits of the rows' hashes.
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
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(RowHash(out))
    }

    /// The first 60 bits (15 hex digits), the part a bucket sums.
    pub fn prefix(&self) -> u64 {
        let first = u64::from_be_bytes(self.0[..8].try_into().expect("8 bytes"));
        first >> 4
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

/// The kind letter of a non-NULL value in a row's text.
pub fn kind_letter(value: &Value) -> char {
    match value {
        Value::Null => '-',
        Value::Bool(_) => 'b',
        Value::Int(_) => 'i',
        Value::Float(_) => 'f',
        Value::Text(_) => 't',
        Value::Bytes(_) => 'x',
    }
}

/// Appends one value's encoding: `-` for NULL, else its canonical text's
/// length in bytes, its kind letter and the text. The canonical text of a
/// boolean is `1` or `0`, of an integer its decimal digits, of a float the
/// 16 lowercase hex digits of its IEEE bits (big-endian), of bytes their
/// lowercase hex, of a text the text.
pub fn push_value(out: &mut Vec<u8>, value: &Value) {
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let text: std::borrow::Cow<'_, str> = match value {
        Value::Null => {
            out.push(b'-');
            return;
        }
        Value::Bool(b) => (if *b { "1" } else { "0" }).into(),
        Value::Int(i) => i.to_string().into(),
        Value::Float(f) => hex(&f.to_bits().to_be_bytes()).into(),
        Value::Text(s) => s.as_str().into(),
        Value::Bytes(b) => hex(b).into(),
    };
    out.extend_from_slice(text.len().to_string().as_bytes());
    out.push(kind_letter(value) as u8);
    out.extend_from_slice(text.as_bytes());
}

/// The text of a row (canonical values in column order).
pub fn row_text(row: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
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
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('-') {
            values.push(Value::Null);
            rest = after;
            continue;
        }
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let len: usize = rest[..digits].parse().ok()?;
        let letter = rest[digits..].chars().next()?;
        let body = rest.get(digits + 1..digits + 1 + len)?;
        rest = &rest[digits + 1 + len..];
        let bytes = |hex: &str| -> Option<Vec<u8>> {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect()
        };
        values.push(match letter {
            'b' => Value::Bool(body == "1"),
            'i' => Value::Int(body.parse().ok()?),
            'f' => Value::Float(f64::from_bits(u64::from_str_radix(body, 16).ok()?)),
            't' => Value::Text(body.to_string()),
            'x' => Value::Bytes(bytes(body)?),
            _ => return None,
        });
    }
    Some(values)
}

/// The hash of a row and the bucket of its code, out of `buckets`.
pub fn digest_row(row: &[Value], code: &[usize], buckets: u32) -> (u32, RowHash) {
    let code_values: Vec<Value> = code.iter().map(|&i| row[i].clone()).collect();
    let bucket = RowHash::of(&row_text(&code_values)).bucket(buckets);
    (bucket, RowHash::of(&row_text(row)))
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
            "2i429t变电站-1b14x00ff16f3ff8000000000000"
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
        assert_eq!(parse_text("3i12"), None);
        assert_eq!(parse_text("2q12"), None);
    }

    #[test]
    fn hashes_prefixes_and_buckets_read_the_md5_digits() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e
        let h = RowHash::of(b"");
        assert_eq!(
            RowHash::from_hex("d41d8cd98f00b204e9800998ecf8427e"),
            Some(h)
        );
        assert_eq!(h.prefix(), 0xd41d8cd98f00b20);
        assert_eq!(h.bucket(1 << 16), 0xd41d8cd % (1 << 16));
        assert_eq!(RowHash::from_hex("xyz"), None);
    }

    #[test]
    fn bucket_counts_are_powers_of_two_near_the_target() {
        assert_eq!(buckets_for(0), 1);
        assert_eq!(buckets_for(100), 4);
        assert_eq!(buckets_for(1_000_000), 32_768);
        assert_eq!(buckets_for(u64::MAX), MAX_BUCKETS);
    }
}
