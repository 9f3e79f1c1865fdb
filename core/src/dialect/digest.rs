//! The convergence digest in a database's own SQL ([`crate::digest`]): the
//! statements are templates over a few primitives ([`DigestSql`]) that a
//! dialect offers when its database can spell every value's canonical text
//! exactly. Each template is a transcription of [`crate::digest::row_text`],
//! [`crate::digest::RowHash::bucket`] and [`crate::digest::BucketDigest`].

use super::Dialect;
use crate::schema::SyncTable;
use crate::types::CanonicalType;

/// The expressions a database needs to compute the digest itself.
pub trait DigestSql: Send + Sync {
    /// The canonical text of column expression `c` of canonical type `t`
    /// and its kind letter, exactly as [`crate::digest::push_value`] writes
    /// the value the adapter reads from it; `None` when the database cannot
    /// spell it exactly (its rows are then streamed and hashed by the engine).
    fn value(&self, c: &str, t: &CanonicalType) -> Option<(char, String)>;
    /// The length in UTF-8 bytes of a text expression, as text.
    fn byte_length(&self, text: &str) -> String;
    /// Text expressions concatenated (NULL when one is NULL).
    fn concat(&self, parts: &[String]) -> String;
    /// The 32 lowercase hex digits of the MD5 of a text's UTF-8 bytes.
    fn md5_hex(&self, text: &str) -> String;
    /// The integer the first `digits` hex digits of a hex text spell.
    fn hex_prefix(&self, hex: &str, digits: u32) -> String;
    /// An aggregate: the exact sum of an integer expression, as text.
    fn sum_text(&self, expr: &str) -> String;
}

/// The digest text of `columns` of a row over alias `t`: per column its
/// encoding, `-` for NULL; `None` when a column's type cannot be spelled.
fn text_sql(
    d: &dyn Dialect,
    g: &dyn DigestSql,
    table: &SyncTable,
    types: &[CanonicalType],
    columns: impl Iterator<Item = usize>,
) -> Option<String> {
    let parts = columns
        .map(|i| {
            let c = format!("t.{}", d.ident(&table.columns[i]));
            let (letter, text) = g.value(&c, types.get(i)?)?;
            let encoded = g.concat(&[g.byte_length(&text), d.literal(&letter.to_string()), text]);
            Some(format!("COALESCE({encoded}, '-')"))
        })
        .collect::<Option<Vec<String>>>()?;
    Some(g.concat(&parts))
}

/// The texts of a row's code and of the whole row.
fn code_and_row(
    d: &dyn Dialect,
    table: &SyncTable,
    types: &[CanonicalType],
) -> Option<(&'static dyn DigestSql, String, String)> {
    let g = d.digest()?;
    let code = text_sql(d, g, table, types, table.code.iter().copied())?;
    let row = text_sql(d, g, table, types, 0..table.columns.len())?;
    Some((g, code, row))
}

/// The bucket of a row, out of `buckets`, by its code's text.
fn bucket_sql(g: &dyn DigestSql, code: &str, buckets: u32) -> String {
    format!("{} % {buckets}", g.hex_prefix(&g.md5_hex(code), 7))
}

/// Per bucket with rows: the bucket, its row count and the sum of its
/// rows' 60-bit hash prefixes (as text).
pub fn buckets_sql(
    d: &dyn Dialect,
    table: &SyncTable,
    types: &[CanonicalType],
    buckets: u32,
) -> Option<String> {
    let (g, code, row) = code_and_row(d, table, types)?;
    Some(format!(
        "SELECT d.b, count(*), {} FROM (SELECT {} AS b, {} AS h FROM {} AS t) AS d GROUP BY d.b",
        g.sum_text("d.h"),
        bucket_sql(g, &code, buckets),
        g.hex_prefix(&g.md5_hex(&row), 15),
        d.ident(&table.name)
    ))
}

/// The code's text and the row's hash (hex) of every row in `n` given
/// buckets (the parameters), out of `buckets`.
pub fn rows_sql(
    d: &dyn Dialect,
    table: &SyncTable,
    types: &[CanonicalType],
    buckets: u32,
    n: usize,
) -> Option<String> {
    let (g, code, row) = code_and_row(d, table, types)?;
    let params: Vec<String> = (1..=n).map(|p| d.placeholder(p)).collect();
    Some(format!(
        "SELECT {code}, {} FROM {} AS t WHERE {} IN ({})",
        g.md5_hex(&row),
        d.ident(&table.name),
        bucket_sql(g, &code, buckets),
        params.join(", ")
    ))
}
