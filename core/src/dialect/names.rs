//! Names of the objects hetsync makes per table, fitted to a database's
//! identifier limit.

/// How long an identifier may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentLimit {
    /// No practical limit (SQLite).
    None,
    /// At most this many bytes of UTF-8 (PostgreSQL truncates at 63).
    Bytes(usize),
    /// At most this many characters (MySQL: 64).
    Chars(usize),
}

/// Hex digits of the hash suffix, plus its `_`.
const SUFFIX: usize = 17;

/// `prefix` + `table`, or, when that is longer than `limit`, `prefix` + the
/// longest head of `table` that fits + `_` + a 64-bit FNV-1a hash of the
/// whole table name, so two long names never collide on a shared head.
pub(crate) fn fit(prefix: &str, table: &str, limit: IdentLimit) -> String {
    let full = format!("{prefix}{table}");
    let (size, max): (fn(&str) -> usize, usize) = match limit {
        IdentLimit::None => return full,
        IdentLimit::Bytes(n) => (str::len, n),
        IdentLimit::Chars(n) => (|s: &str| s.chars().count(), n),
    };
    if size(&full) <= max {
        return full;
    }
    let hash = table.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let room = max.saturating_sub(SUFFIX + size(prefix));
    let mut head = String::new();
    for c in table.chars() {
        let mut longer = head.clone();
        longer.push(c);
        if size(&longer) > room {
            break;
        }
        head = longer;
    }
    format!("{prefix}{head}_{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_fit_and_stay_distinct() {
        for limit in [IdentLimit::Bytes(63), IdentLimit::Chars(64)] {
            let a = fit("_hetsync_capture_", &"变电站表".repeat(16), limit);
            let b = fit(
                "_hetsync_capture_",
                &format!("{}x", "变电站表".repeat(16)),
                limit,
            );
            let within = |s: &str| match limit {
                IdentLimit::Bytes(n) => s.len() <= n,
                IdentLimit::Chars(n) => s.chars().count() <= n,
                IdentLimit::None => true,
            };
            assert!(within(&a) && within(&b), "{a} {b}");
            assert_ne!(a, b);
        }
        assert_eq!(
            fit("_hetsync_apply_", "t", IdentLimit::Bytes(63)),
            "_hetsync_apply_t"
        );
        // Characters, not bytes: 21 CJK characters fit in 64 characters but not in 63 bytes.
        let cjk = "变".repeat(21);
        assert_eq!(fit("_p_", &cjk, IdentLimit::Chars(64)), format!("_p_{cjk}"));
        assert_ne!(fit("_p_", &cjk, IdentLimit::Bytes(63)), format!("_p_{cjk}"));
        assert_eq!(fit("_p_", &"x".repeat(200), IdentLimit::None).len(), 203);
    }
}
