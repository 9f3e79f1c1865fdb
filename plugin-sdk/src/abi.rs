//! The C ABI between the host and a plugin, version [`ABI_MAJOR`].
//!
//! Loading is two-stage. The host first calls [`AbiMajorFn`] (exported as
//! `hetsync_abi_major`) and reads nothing else unless it returns
//! [`ABI_MAJOR`]. It then calls [`InitFn`] (`hetsync_plugin_init`), which
//! fills a [`PluginVTable`]. That table starts with its own `struct_size`;
//! later versions only ever append fields.
//!
//! Growth: each side reads the other's `struct_size` first and uses only
//! `min(ours, theirs)` bytes of the other's table ([`read_table`]); a field
//! beyond the peer's size is absent (`None`, 0). An operation the plugin
//! does not know is answered [`Status::UNSUPPORTED`].
//!
//! Every request and result crosses as MessagePack bytes (see
//! [`crate::wire`]). A buffer is freed by the side that allocated it: an
//! [`OwnedBuffer`] carries its own `release` callback, and a [`ByteView`] is
//! only borrowed for the duration of the call it is passed to.

use std::ffi::c_void;

/// The ABI major version. A plugin with a different one is refused before
/// anything else is read from it.
pub const ABI_MAJOR: u32 = 1;

/// Symbol of the stage-one entry point, [`AbiMajorFn`].
pub const ABI_MAJOR_SYMBOL: &str = "hetsync_abi_major";

/// Symbol of the stage-two entry point, [`InitFn`].
pub const INIT_SYMBOL: &str = "hetsync_plugin_init";

/// `hetsync_abi_major`: the ABI major version the library was built for.
pub type AbiMajorFn = unsafe extern "C" fn() -> u32;

/// `hetsync_plugin_init(host, runtime_threads, out, out_size, error)`.
///
/// Fills at most `min(out_size, size of its own table)` bytes of `out` (which
/// the host zeroed) and sets `out.struct_size` to the size of the plugin's
/// own table; the host then uses `min` of the two sizes. On failure it
/// returns a status other than [`Status::OK`] and may leave a UTF-8 message
/// in `*error`. `runtime_threads` is the number of worker threads of the
/// runtime the plugin starts for itself. The host calls it once per library.
pub type InitFn = unsafe extern "C" fn(
    host: *const HostVTable,
    runtime_threads: u32,
    out: *mut PluginVTable,
    out_size: usize,
    error: *mut OwnedBuffer,
) -> Status;

/// The outcome of a call. A `#[repr(transparent)]` integer rather than a
/// Rust enum, so that an unknown value from a foreign library is not
/// undefined behaviour.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(pub i32);

impl Status {
    /// Success; the result holds the answer (MessagePack).
    pub const OK: Status = Status(0);
    /// The adapter returned an error; the result holds a MessagePack
    /// [`hetsync_core::Error`].
    pub const ERROR: Status = Status(1);
    /// The adapter panicked; the result holds the panic message (UTF-8).
    pub const PANIC: Status = Status(2);
    /// The host cancelled the call; the result is empty.
    pub const CANCELLED: Status = Status(3);
    /// The plugin could not read the request; the result holds a UTF-8 message.
    pub const BAD_REQUEST: Status = Status(4);
    /// The plugin does not know the requested operation (it was built
    /// before the operation existed); the result holds a UTF-8 message. The
    /// host falls back or reports that the plugin does not support it.
    pub const UNSUPPORTED: Status = Status(5);
}

/// Bytes borrowed for the duration of one call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ByteView {
    /// First byte (may be dangling when `len` is 0).
    pub ptr: *const u8,
    /// Number of bytes.
    pub len: usize,
}

impl ByteView {
    /// Borrows a slice.
    pub fn of(bytes: &[u8]) -> ByteView {
        ByteView {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }

    /// The bytes.
    ///
    /// # Safety
    /// `ptr` must point at `len` readable bytes that outlive the returned slice.
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        if self.len == 0 || self.ptr.is_null() {
            return &[];
        }
        std::slice::from_raw_parts(self.ptr, self.len)
    }
}

/// Releases an [`OwnedBuffer`]'s memory; called once by whoever received it.
pub type ReleaseFn = unsafe extern "C" fn(ptr: *mut u8, len: usize, cap: usize);

/// Bytes handed over to the other side, which copies them and then calls
/// `release` exactly once.
#[repr(C)]
#[derive(Debug)]
pub struct OwnedBuffer {
    /// First byte.
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
    /// Allocated capacity (meaningful to `release` only).
    pub cap: usize,
    /// Frees the buffer in the allocator that made it; `None` for an empty buffer.
    pub release: Option<ReleaseFn>,
}

unsafe extern "C" fn release_vec(ptr: *mut u8, len: usize, cap: usize) {
    drop(Vec::from_raw_parts(ptr, len, cap));
}

impl OwnedBuffer {
    /// A buffer that holds nothing and needs no release.
    pub const EMPTY: OwnedBuffer = OwnedBuffer {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
        release: None,
    };

    /// Hands over a vector, to be freed by this side's allocator.
    pub fn from_vec(bytes: Vec<u8>) -> OwnedBuffer {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        OwnedBuffer {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
            release: Some(release_vec),
        }
    }

    /// Copies the bytes out and releases the buffer.
    ///
    /// # Safety
    /// The buffer must come from [`OwnedBuffer::from_vec`] on either side (or
    /// follow its contract) and must not have been released yet.
    pub unsafe fn take(self) -> Vec<u8> {
        let bytes = ByteView {
            ptr: self.ptr,
            len: self.len,
        }
        .as_slice()
        .to_vec();
        if let Some(release) = self.release {
            release(self.ptr, self.len, self.cap);
        }
        bytes
    }
}

/// Forwards one log event to the host. `level`: 1 error … 5 trace.
pub type LogFn = unsafe extern "C" fn(level: u32, target: ByteView, message: ByteView);

/// A `#[repr(C)]` function table that starts with its own size and only
/// ever grows at the end, so that [`read_table`] can read an older or newer
/// peer's table.
///
/// # Safety
/// The type must be `#[repr(C)]`, start with `struct_size: usize`, and be
/// valid for any prefix of its bytes copied over [`Table::ABSENT`] (its
/// fields are integers, `Option` of function pointers, and [`ByteView`]s).
pub unsafe trait Table: Copy {
    /// The table with every field absent: `None`, 0, empty.
    const ABSENT: Self;
}

/// Reads the peer's table at `table`: its `struct_size` first, then only
/// `min(size_of::<T>(), struct_size)` bytes; every field beyond the peer's
/// size keeps its [`Table::ABSENT`] value. The table's `struct_size` stays
/// as the peer wrote it; `None` when `table` is null.
///
/// # Safety
/// `table` must be null or point at a table whose first `struct_size` bytes
/// (as written at its start) are readable.
pub unsafe fn read_table<T: Table>(table: *const T) -> Option<T> {
    if table.is_null() {
        return None;
    }
    let theirs = table.cast::<usize>().read_unaligned();
    let size = theirs.min(std::mem::size_of::<T>());
    let mut ours = T::ABSENT;
    std::ptr::copy_nonoverlapping(table.cast::<u8>(), (&mut ours as *mut T).cast::<u8>(), size);
    Some(ours)
}

/// Writes the first `min(size_of::<T>(), room)` bytes of `table` to `out`.
///
/// # Safety
/// `out` must point at `room` writable bytes.
pub unsafe fn write_table<T: Table>(table: &T, out: *mut T, room: usize) {
    let size = room.min(std::mem::size_of::<T>());
    std::ptr::copy_nonoverlapping((table as *const T).cast::<u8>(), out.cast::<u8>(), size);
}

/// What the host offers the plugin. Starts with its own size; fields are
/// only ever appended.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostVTable {
    /// `size_of::<HostVTable>()` as the host built it.
    pub struct_size: usize,
    /// The host's log sink.
    pub log: Option<LogFn>,
    /// The most verbose level the host records (0 off, 1 error … 5 trace):
    /// the plugin does not format events the host would drop.
    pub max_log_level: u32,
}

// SAFETY: `#[repr(C)]`, starts with `struct_size`; every field is valid
// when zero.
unsafe impl Table for HostVTable {
    const ABSENT: HostVTable = HostVTable {
        struct_size: 0,
        log: None,
        max_log_level: 0,
    };
}

/// Called exactly once per submitted call with its outcome. `result` belongs
/// to the receiver, which copies it and calls its `release`.
pub type DoneFn =
    unsafe extern "C" fn(ctx: *mut c_void, call: u64, status: Status, result: OwnedBuffer);

/// Starts a call: `request` is a MessagePack [`crate::wire::Request`],
/// borrowed until `submit` returns. Returns the call's id (never 0), and
/// `done` is later called exactly once with `ctx`; it may run before
/// `submit` returns. Returns 0 when the call could not start, and then
/// `done` is never called.
pub type SubmitFn = unsafe extern "C" fn(request: ByteView, done: DoneFn, ctx: *mut c_void) -> u64;

/// Asks a running call to stop; its `done` is then called with
/// [`Status::CANCELLED`] (or its real outcome, if it finished first).
/// Unknown or finished ids are ignored.
pub type CancelFn = unsafe extern "C" fn(call: u64);

/// Hands over a MessagePack [`crate::wire::PluginStats`] in `*out`: what
/// the plugin holds right now. Answers synchronously.
pub type StatsFn = unsafe extern "C" fn(out: *mut OwnedBuffer) -> Status;

/// The plugin's function table, filled by [`InitFn`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PluginVTable {
    /// `size_of::<PluginVTable>()` as the plugin built it.
    pub struct_size: usize,
    /// The MessagePack [`crate::wire::Manifest`], owned by the plugin for
    /// the life of the process.
    pub manifest: ByteView,
    /// Starts a call.
    pub submit: Option<SubmitFn>,
    /// Cancels a call.
    pub cancel: Option<CancelFn>,
    /// What the plugin holds (appended after the first ABI-1 table, of
    /// [`PluginVTable::V1_SIZE`] bytes; absent from plugins built before).
    pub stats: Option<StatsFn>,
}

impl PluginVTable {
    /// The size of the first ABI-1 table (`struct_size`, `manifest`,
    /// `submit`, `cancel`): the smallest table a host accepts.
    pub const V1_SIZE: usize = std::mem::offset_of!(PluginVTable, stats);
}

// SAFETY: `#[repr(C)]`, starts with `struct_size`; every field is valid
// when zero.
unsafe impl Table for PluginVTable {
    const ABSENT: PluginVTable = PluginVTable {
        struct_size: 0,
        manifest: ByteView {
            ptr: std::ptr::null(),
            len: 0,
        },
        submit: None,
        cancel: None,
        stats: None,
    };
}

/// A raw pointer that may be moved to another thread: the ABI promises the
/// pointee is only used by the side that made it.
#[derive(Clone, Copy, Debug)]
pub struct SendPtr(pub *mut c_void);

// SAFETY: the context pointer is opaque to the side that carries it; only
// its owner dereferences it, from any thread, as the ABI documents.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}
