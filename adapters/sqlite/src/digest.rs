//! The SQL functions SQLite lacks for computing the convergence digest
//! itself ([`hetsync_core::dialect::digest`]): `hetsync_md5(x)`, the MD5 of a
//! text's or blob's bytes as 32 lowercase hex digits, and
//! `hetsync_hex_int(hex, digits)`, the integer the first `digits` hex digits
//! spell. Registered on every connection the adapter opens.

use hetsync_core::digest::RowHash;
use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::ffi::{c_int, CStr};

/// Registers the functions on `conn`.
pub(crate) async fn register(conn: &mut SqliteConnection) -> Result<(), String> {
    let mut handle = conn.lock_handle().await.map_err(|e| e.to_string())?;
    let db = handle.as_raw_handle().as_ptr();
    let functions: [(&CStr, c_int, Callback); 2] = [
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
