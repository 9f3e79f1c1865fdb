//! `odbc:` URLs: the ODBC connection string after the prefix, and that
//! string with its secrets hidden for messages.

/// The connection string of an `odbc:` URL (`odbc:DSN=planning;UID=sync`,
/// `odbc:Driver={PostgreSQL Unicode};Server=…`).
pub(crate) fn connection_string(url: &str) -> Result<&str, String> {
    let rest = url.strip_prefix("odbc:").ok_or_else(|| {
        format!(
            "URL {} is not an ODBC connection: write odbc:DSN=<name> or odbc:Driver={{…}};Server=…",
            hetsync_core::adapter::redact_url(&redact(url))
        )
    })?;
    if !rest.contains('=') {
        return Err(format!(
            "URL {} holds no connection attribute (odbc:DSN=<name> or odbc:Driver={{…}};…)",
            redact(url)
        ));
    }
    Ok(rest)
}

/// The attributes of a connection string, split at `;` outside `{…}`
/// (where `}}` is an escaped `}`).
fn attributes(conn: &str) -> Vec<&str> {
    let bytes = conn.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut braced, mut i) = (0, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'{' if !braced => braced = true,
            b'}' if braced && bytes.get(i + 1) == Some(&b'}') => i += 1,
            b'}' if braced => braced = false,
            b';' if !braced => {
                out.push(&conn[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&conn[start..]);
    out
}

/// The connection string with every password value replaced by `***`.
pub(crate) fn redact(conn: &str) -> String {
    attributes(conn)
        .into_iter()
        .map(|attr| match attr.split_once('=') {
            Some((key, _))
                if ["pwd", "password"].contains(&key.trim().to_ascii_lowercase().as_str()) =>
            {
                format!("{key}=***")
            }
            _ => attr.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("odbc:Driver={PostgreSQL Unicode};Server=h;UID=u;PWD={a;b}};c};Port=1"),
            "odbc:Driver={PostgreSQL Unicode};Server=h;UID=u;PWD=***;Port=1"
        );
        assert_eq!(redact("DSN=x;Password=s3cret"), "DSN=x;Password=***");
    }

    #[test]
    fn urls_need_the_prefix_and_an_attribute() {
        assert_eq!(connection_string("odbc:DSN=planning"), Ok("DSN=planning"));
        let err = connection_string("postgres://u:pw@h/db").unwrap_err();
        assert!(err.contains("odbc:DSN=") && !err.contains("pw@"), "{err}");
        assert!(connection_string("odbc:planning").is_err());
    }
}
