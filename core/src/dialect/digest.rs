//! The convergence digest in a database's own SQL ([`crate::digest`]): the
//! statements are templates over a few primitives ([`DigestSql`]) that a
//! dialect offers when its database can spell every value's canonical text
//! exactly. Each template is a transcription of [`crate::digest::row_text`],
//! [`crate::digest::RowHash::bucket`] and [`crate::digest::BucketDigest`].

use super::Dialect;
use crate::schema::SyncTable;
use crate::types::CanonicalType;

/// How a database spells one value's canonical text.
pub enum Spelled {
    /// A kind letter and a text that never holds `;` (numbers, hex).
    Plain(char, String),
    /// A text, which needs its length in front.
    Text(String),
}

/// One column of a row's digest text: its SQL expression and the
/// canonical type its values are read as.
pub type DigestColumn<'a> = (String, &'a CanonicalType);

/// The expressions a database needs to compute the digest itself.
pub trait DigestSql: Send + Sync {
    /// The digest text of a row's `columns`, in order, exactly as
    /// [`crate::digest::row_text`] writes the values the adapter reads from
    /// them; `None` when the database cannot spell one of them exactly (its
    /// rows are then streamed and hashed by the engine).
    fn row_text(&self, columns: &[DigestColumn<'_>]) -> Option<String>;
    /// The 32 lowercase hex digits of the MD5 of a text's UTF-8 bytes.
    fn md5_hex(&self, text: &str) -> String;
    /// The integer the first `digits` hex digits of a hex text spell.
    fn hex_prefix(&self, hex: &str, digits: u32) -> String;
    /// An aggregate: the exact sum of an integer expression, as text.
    fn sum_text(&self, expr: &str) -> String;
}

/// A database whose SQL spells each value's text, so that a row's digest
/// text is their concatenation ([`spelled_row_text`]).
pub trait SpellsValues {
    /// The canonical text of column expression `c` of canonical type `t`,
    /// exactly as [`crate::digest::push_value`] writes the value the
    /// adapter reads from it; `None` when the database cannot spell it.
    fn value(&self, c: &str, t: &CanonicalType) -> Option<Spelled>;
    /// The length in UTF-8 bytes of a text expression.
    fn byte_length(&self, text: &str) -> String;
    /// Expressions concatenated as text (NULL when one is NULL): standard
    /// SQL's `||` unless the database spells it otherwise.
    fn concat(&self, parts: &[String]) -> String {
        format!("({})", parts.join(" || "))
    }
}

/// The digest text of a row as the concatenation of its columns'
/// spellings, `-` for NULL ([`DigestSql::row_text`] of a database that
/// [`SpellsValues`]).
pub fn spelled_row_text(s: &dyn SpellsValues, columns: &[DigestColumn<'_>]) -> Option<String> {
    let parts = columns
        .iter()
        .map(|(c, t)| {
            let encoded = match s.value(c, t)? {
                Spelled::Plain(letter, text) => {
                    s.concat(&[format!("'{letter}'"), text, "';'".into()])
                }
                Spelled::Text(text) => {
                    s.concat(&["'t'".into(), s.byte_length(&text), "':'".into(), text])
                }
            };
            Some(format!("COALESCE({encoded}, '-')"))
        })
        .collect::<Option<Vec<String>>>()?;
    Some(s.concat(&parts))
}

/// The digest text of `columns` of a row over alias `t`.
fn text_sql(
    d: &dyn Dialect,
    g: &dyn DigestSql,
    table: &SyncTable,
    types: &[CanonicalType],
    columns: impl Iterator<Item = usize>,
) -> Option<String> {
    let columns = columns
        .map(|i| Some((format!("t.{}", d.ident(&table.columns[i])), types.get(i)?)))
        .collect::<Option<Vec<DigestColumn<'_>>>>()?;
    g.row_text(&columns)
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

/// The bucket of a row, out of `buckets` ([`crate::digest::bucket_of`]):
/// a code of one integer column by its value, any other by its text's MD5.
fn bucket_sql(
    d: &dyn Dialect,
    g: &dyn DigestSql,
    table: &SyncTable,
    types: &[CanonicalType],
    code: &str,
    buckets: u32,
) -> String {
    use CanonicalType as C;
    match table.code.as_slice() {
        [i] if matches!(types[*i], C::Int8 | C::Int16 | C::Int32 | C::Int64) => {
            let c = format!("t.{}", d.ident(&table.columns[*i]));
            format!("(({c} % {buckets}) + {buckets}) % {buckets}")
        }
        _ => format!("{} % {buckets}", g.hex_prefix(&g.md5_hex(code), 7)),
    }
}

/// Per bucket with rows: the bucket, its row count and the sum of its
/// rows' 48-bit hash prefixes (as text).
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
        bucket_sql(d, g, table, types, &code, buckets),
        g.hex_prefix(&g.md5_hex(&row), 12),
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
        bucket_sql(d, g, table, types, &code, buckets),
        params.join(", ")
    ))
}
