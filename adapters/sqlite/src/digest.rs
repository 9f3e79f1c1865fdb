//! The SQL functions SQLite lacks for computing the convergence digest
//! itself ([`hetsync_core::dialect::digest`]): `hetsync_row_text(kinds, …)`,
//! a row's digest text; `hetsync_md5(x)`, the MD5 of a text's or blob's
//! bytes as 32 lowercase hex digits; and `hetsync_hex_int(hex, digits)`, the
//! integer the first `digits` hex digits spell. Registered on every
//! connection the adapter opens.

use hetsync_core::digest::{push_hex_value, push_plain, push_text, RowHash};
use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::ffi::{c_int, CStr};

/// Registers the functions on `conn`.
pub(crate) async fn register(conn: &mut SqliteConnection) -> Result<(), String> {
    let mut handle = conn.lock_handle().await.map_err(|e| e.to_string())?;
    let db = handle.as_raw_handle().as_ptr();
    let functions: [(&CStr, c_int, Callback); 3] = [
        (c"hetsync_row_text", -1, row_text),
        (c"hetsync_md5", 1, md5_hex),
        (c"hetsync_hex_int", 2, hex_int),
    ];
    for (name, args, callback) in functions {
        // SAFETY: `db` is the connection's open handle, which the lock keeps
        // from the connection's worker thread for the duration of the call;
        // the name is a NUL-terminated static string; the callback matches
        // the signature SQLite calls and needs no user data.
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                db,
                name.as_ptr(),
                args,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
                std::ptr::null_mut(),
                Some(callback),
                None,
                None,
                None,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(format!(
                "registering SQL function {}: SQLite error {rc}",
                name.to_string_lossy()
            ));
        }
    }
    Ok(())
}

type Callback =
    unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value);

/// The bytes of argument `i`, `None` when it is NULL.
///
/// # Safety
/// `argv` must hold at least `i + 1` values of the current call.
unsafe fn argument<'a>(argv: *mut *mut ffi::sqlite3_value, i: usize) -> Option<&'a [u8]> {
    let value = *argv.add(i);
    if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
        return None;
    }
    // Text is read as its UTF-8 bytes; anything else as its blob bytes.
    let (data, len) = if ffi::sqlite3_value_type(value) == ffi::SQLITE_BLOB {
        let data = ffi::sqlite3_value_blob(value) as *const u8;
        (data, ffi::sqlite3_value_bytes(value))
    } else {
        let data = ffi::sqlite3_value_text(value);
        (data, ffi::sqlite3_value_bytes(value))
    };
    if data.is_null() || len <= 0 {
        return Some(&[]);
    }
    Some(std::slice::from_raw_parts(data, len as usize))
}

/// `hetsync_row_text(kinds, v1, …)`: per letter of `kinds` and value, the
/// value's encoding ([`hetsync_core::digest::push_value`]) as the SQL the
/// other dialects spell it: `-` for NULL; `i` the value's text, `t` its
/// bytes with their length, `x` the hex of its bytes, `b` its truth. A value
/// of another kind than its letter is written as SQLite converts it, so it
/// never matches a value read right.
unsafe extern "C" fn row_text(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let message = c"hetsync_row_text: one kind letter per value";
    if argc < 1 {
        ffi::sqlite3_result_error(ctx, message.as_ptr(), -1);
        return;
    }
    let kinds = argument(argv, 0).unwrap_or_default();
    if kinds.len() != argc as usize - 1 {
        ffi::sqlite3_result_error(ctx, message.as_ptr(), -1);
        return;
    }
    let mut out = Vec::with_capacity(128);
    for (i, kind) in kinds.iter().enumerate() {
        let Some(bytes) = argument(argv, i + 1) else {
            out.push(b'-');
            continue;
        };
        match kind {
            b't' => push_text(&mut out, bytes),
            b'x' => push_hex_value(&mut out, b'x', bytes),
            b'b' => {
                let truth = ffi::sqlite3_value_double(*argv.add(i + 1)) != 0.0;
                push_plain(&mut out, b'b', if truth { b"1" } else { b"0" });
            }
            _ => push_plain(&mut out, *kind, bytes),
        }
    }
    ffi::sqlite3_result_text(
        ctx,
        out.as_ptr() as *const _,
        out.len() as c_int,
        ffi::SQLITE_TRANSIENT(),
    );
}

/// `hetsync_md5(x)`.
unsafe extern "C" fn md5_hex(
    ctx: *mut ffi::sqlite3_context,
    _argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let Some(bytes) = argument(argv, 0) else {
        ffi::sqlite3_result_null(ctx);
        return;
    };
    let hex = RowHash::of(bytes).to_hex();
    ffi::sqlite3_result_text(
        ctx,
        hex.as_ptr() as *const _,
        hex.len() as c_int,
        ffi::SQLITE_TRANSIENT(),
    );
}

/// `hetsync_hex_int(hex, digits)`.
unsafe extern "C" fn hex_int(
    ctx: *mut ffi::sqlite3_context,
    _argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let digits = ffi::sqlite3_value_int(*argv.add(1)).clamp(0, 15) as usize;
    let parsed = argument(argv, 0).and_then(|hex| {
        let text = std::str::from_utf8(hex.get(..digits)?).ok()?;
        i64::from_str_radix(text, 16).ok()
    });
    match parsed {
        Some(n) => ffi::sqlite3_result_int64(ctx, n),
        None => ffi::sqlite3_result_null(ctx),
    }
}

#[cfg(test)]
mod tests {
    use hetsync_core::digest::{row_text, RowHash};
    use hetsync_core::value::Value;
    use sqlx::{Connection, Row, SqliteConnection};

    async fn connection() -> SqliteConnection {
        let mut conn = SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("open");
        super::register(&mut conn).await.expect("register");
        conn
    }

    async fn text(conn: &mut SqliteConnection, sql: &str) -> Result<String, sqlx::Error> {
        sqlx::query(sql).fetch_one(conn).await.map(|r| r.get(0))
    }

    #[tokio::test]
    async fn a_row_text_is_the_engines() {
        let mut conn = connection().await;
        let got = text(
            &mut conn,
            "SELECT hetsync_row_text('itxbbtxi', -42, '名前;x', x'00ff', 1, 0, '', x'', NULL)",
        )
        .await
        .expect("row text");
        let want = row_text(&[
            Value::Int(-42),
            Value::Text("名前;x".into()),
            Value::Bytes(vec![0, 255]),
            Value::Bool(true),
            Value::Bool(false),
            Value::Text(String::new()),
            Value::Bytes(Vec::new()),
            Value::Null,
        ]);
        assert_eq!(got.as_bytes(), want);
        let md5 = text(&mut conn, "SELECT hetsync_md5('abc')").await.unwrap();
        assert_eq!(md5, RowHash::of(b"abc").to_hex());
        let prefix: i64 = sqlx::query("SELECT hetsync_hex_int('00ff10', 4)")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(prefix, 0xff);
    }

    #[tokio::test]
    async fn a_value_of_another_kind_never_spells_a_right_one() {
        let mut conn = connection().await;
        let real = text(&mut conn, "SELECT hetsync_row_text('i', 1.5)").await;
        assert_eq!(real.unwrap(), "i1.5;");
        let blob_in_text = text(&mut conn, "SELECT hetsync_row_text('t', x'4142')").await;
        assert_eq!(blob_in_text.unwrap(), "t2:AB");
        let wrong = text(&mut conn, "SELECT hetsync_row_text('ii', 1)").await;
        let error = wrong.expect_err("a kind letter per value").to_string();
        assert!(error.contains("one kind letter per value"), "{error}");
    }
}
