//! SQL text helpers shared by every dialect. Identifiers and literals that end
//! up in DDL (where parameters cannot be bound) always go through these.

/// Quotes an identifier with `quote` (`"` for ANSI SQL, `` ` `` for MySQL),
/// doubling any embedded quote character.
pub fn quote_ident_with(name: &str, quote: char) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push(quote);
    for c in name.chars() {
        if c == quote {
            out.push(quote);
        }
        out.push(c);
    }
    out.push(quote);
    out
}

/// Quotes an identifier the ANSI way: `"name"`.
pub fn quote_ident(name: &str) -> String {
    quote_ident_with(name, '"')
}

/// Quotes a string literal: `'text'`, doubling embedded single quotes.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Joins quoted identifiers with `, `.
pub fn ident_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_ident_with("a`b", '`'), "`a``b`");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_ident("变电站表"), "\"变电站表\"");
    }
}
