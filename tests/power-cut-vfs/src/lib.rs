//! A SQLite VFS for tests that behaves like a disk losing power.
//!
//! A kill with SIGKILL does not lose data the process wrote: the kernel's
//! page cache holds it and writes it out later. A power cut does: whatever
//! was written but not yet `fsync`ed is gone. This VFS wraps the default
//! one ("unix") and models the page cache inside the process: writes and
//! truncations of the main database, its WAL and its rollback journal are
//! kept in memory, per file path (so every connection of the process sees
//! them, as it would see the page cache), until `xSync` writes them to the
//! real file and syncs it. When the process dies, the unsynced writes die
//! with it, exactly the writes a power cut would lose. SQLite's own crash
//! tests (`test6.c`, crashsql) work the same way.
//!
//! The cache is per process: another process reading the same files
//! through the plain VFS while this one runs may see stale pages (the test
//! harness never does that; it reads only after the kiosk died).
//!
//! Simplifications, all in the direction of losing more, not less: every
//! unsynced write is lost (a real disk may keep some of them); the WAL-index
//! (`-shm`) is not buffered, but SQLite rebuilds it from the WAL when the
//! first connection opens after a crash, so its content does not matter.
//! File creation and deletion are not delayed.
//!
//! [`register`] installs it, optionally as the default VFS, so code under
//! test opens its databases through it unchanged.
//!
//! A harness that kills the process cannot ask it afterwards whether the
//! VFS was in use. [`report_to`] keeps a small file up to date instead
//! (written with the kernel's page cache, so it survives the kill): how
//! many writes went through the buffer and how many bytes were unsynced,
//! i.e. lost at the moment the process died. [`probe`] writes a database
//! that is never synced: through this VFS it is empty after the process
//! dies, through the plain one it is not.

#![allow(unsafe_code)] // a VFS is a table of C callbacks

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

/// The SQLite this VFS is built for: a harness reads with it what the
/// process left behind (the journal, a server's store) with no second copy.
pub use rusqlite;
use rusqlite::ffi;

/// An unsynced change to a file, replayed in order over the real file's
/// content when reading and applied to it on `xSync`.
#[derive(Debug)]
enum Op {
    Write(i64, Vec<u8>),
    Truncate(i64),
}

/// The page cache of one file: what was changed since its last sync.
#[derive(Debug, Default)]
struct Pending {
    ops: Vec<Op>,
}

type Shared = Arc<Mutex<Pending>>;

/// Unsynced changes by file path, shared by every handle on the file.
static CACHE: Mutex<BTreeMap<String, Shared>> = Mutex::new(BTreeMap::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The wrapped VFS, found once at registration.
struct Real(*mut ffi::sqlite3_vfs);
// SAFETY: the default VFS is a static object of SQLite, safe to use from
// any thread (SQLite is built threadsafe).
unsafe impl Send for Real {}
unsafe impl Sync for Real {}
static REAL: OnceLock<Real> = OnceLock::new();

fn real_vfs() -> *mut ffi::sqlite3_vfs {
    REAL.get().expect("registered").0
}

/// Our file object: SQLite allocates `szOsFile` bytes for it; the real
/// VFS's file object lives right behind this header.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    /// Null for files passed straight through (temporary files).
    pending: *const Mutex<Pending>,
}

const HEADER: usize = std::mem::size_of::<File>().next_multiple_of(16);

unsafe fn real_file(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    unsafe { (f as *mut u8).add(HEADER) as *mut ffi::sqlite3_file }
}

unsafe fn methods(real: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    unsafe { &*(*real).pMethods }
}

/// The shared page cache of this file, if it is buffered.
unsafe fn pending<'a>(f: *mut ffi::sqlite3_file) -> Option<&'a Mutex<Pending>> {
    unsafe { (*(f as *mut File)).pending.as_ref() }
}

#[derive(Debug)]
pub struct RegisterError(pub String);

impl std::fmt::Display for RegisterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "power-cut VFS: {}", self.0)
    }
}

impl std::error::Error for RegisterError {}

/// Registers the VFS under `name` (once per process); `make_default` makes
/// every later `open` in the process use it.
pub fn register(name: &str, make_default: bool) -> Result<(), RegisterError> {
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.get().is_some() {
        return Err(RegisterError("already registered".into()));
    }
    // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS, a static.
    let real = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
    if real.is_null() {
        return Err(RegisterError("no default VFS".into()));
    }
    REAL.get_or_init(|| Real(real));
    // SAFETY: copying the real VFS keeps its helpers (xAccess, xRandomness,
    // pAppData...) working; only open and delete are ours.
    let mut vfs: ffi::sqlite3_vfs = unsafe { *real };
    let zname = CString::new(name).map_err(|_| RegisterError("name has a NUL byte".into()))?;
    vfs.zName = zname.into_raw();
    vfs.pNext = std::ptr::null_mut();
    vfs.szOsFile = (HEADER + unsafe { (*real).szOsFile } as usize) as c_int;
    vfs.xOpen = Some(x_open);
    vfs.xDelete = Some(x_delete);
    let vfs = Box::leak(Box::new(vfs));
    // SAFETY: the VFS object is leaked, so it lives as long as the process.
    let rc = unsafe { ffi::sqlite3_vfs_register(vfs, make_default as c_int) };
    if rc != ffi::SQLITE_OK {
        return Err(RegisterError(format!("sqlite3_vfs_register: {rc}")));
    }
    DONE.get_or_init(|| ());
    Ok(())
}

/// What [`report_to`] writes: buffered writes so far and bytes unsynced now.
#[derive(Debug)]
struct Counts {
    writes: u64,
    unsynced: u64,
    file: Option<std::fs::File>,
}

static COUNTS: Mutex<Counts> = Mutex::new(Counts {
    writes: 0,
    unsynced: 0,
    file: None,
});

fn count(change: impl FnOnce(&mut Counts)) {
    let mut c = lock(&COUNTS);
    change(&mut c);
    if let Some(f) = &c.file {
        // One fixed-width line, rewritten in place with one `pwrite`, so a
        // reader after a kill finds a whole line.
        let line = format!("writes {:020} unsynced {:020}\n", c.writes, c.unsynced);
        // A report that cannot be written shows as a stale count, which the
        // harness reads as "nothing lost": never a false pass of its check.
        let _ = f.write_at(line.as_bytes(), 0);
    }
}

/// From now on keeps `path` (created or truncated) up to date with the
/// number of writes buffered and the bytes not yet synced, both counted from
/// this call: after the process is killed, what the cut lost. Read it with
/// [`read_report`].
pub fn report_to(path: &Path) -> std::io::Result<()> {
    let f = std::fs::File::create(path)?;
    count(|c| {
        *c = Counts {
            writes: 0,
            unsynced: 0,
            file: Some(f),
        }
    });
    Ok(())
}

/// A report written by [`report_to`]: (buffered writes, unsynced bytes).
pub fn read_report(path: &Path) -> std::io::Result<(u64, u64)> {
    let text = std::fs::read_to_string(path)?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, text.clone());
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["writes", w, "unsynced", u] => {
            Ok((w.parse().map_err(|_| bad())?, u.parse().map_err(|_| bad())?))
        }
        _ => Err(bad()),
    }
}

/// Writes a one-row database at `path` through the default VFS and never
/// syncs it (`synchronous=OFF`). Through this VFS, the rows live only in the
/// process: once it is gone the file is empty. Through the plain VFS the
/// kernel keeps them. A harness that checks the file after the process died
/// learns which of the two the process used.
pub fn probe(path: &Path) -> rusqlite::Result<()> {
    let c = rusqlite::Connection::open(path)?;
    c.execute_batch(
        "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF;
         CREATE TABLE IF NOT EXISTS probe(x); INSERT INTO probe VALUES (1);",
    )
}

fn op_bytes(op: &Op) -> u64 {
    match op {
        Op::Write(_, d) => d.len() as u64,
        Op::Truncate(_) => 0,
    }
}

/// Drops every unsynced write of this process, as a power cut would, for
/// tests that cut within one process (connections must be reopened after).
pub fn cut_power() {
    for p in lock(&CACHE).values() {
        lock(p).ops.clear();
    }
    count(|c| c.unsynced = 0);
}

/// Bytes written but not yet synced, over all files (for tests).
pub fn unsynced_bytes() -> usize {
    lock(&CACHE)
        .values()
        .map(|p| {
            lock(p)
                .ops
                .iter()
                .map(|op| match op {
                    Op::Write(_, d) => d.len(),
                    Op::Truncate(_) => 0,
                })
                .sum::<usize>()
        })
        .sum()
}

const BUFFERED: c_int =
    ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_MAIN_JOURNAL;

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    unsafe {
        let f = file as *mut File;
        (*f).base.pMethods = std::ptr::null();
        (*f).pending = std::ptr::null();
        let real = real_vfs();
        let rc = ((*real).xOpen.expect("xOpen"))(real, name, real_file(file), flags, out_flags);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if flags & BUFFERED != 0 && !name.is_null() {
            let key = CStr::from_ptr(name).to_string_lossy().into_owned();
            let shared = lock(&CACHE).entry(key).or_default().clone();
            (*f).pending = Arc::into_raw(shared);
        }
        (*f).base.pMethods = &METHODS;
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn x_delete(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    unsafe {
        if !name.is_null() {
            let key = CStr::from_ptr(name).to_string_lossy();
            if let Some(p) = lock(&CACHE).remove(key.as_ref()) {
                let dropped: u64 = lock(&p).ops.drain(..).map(|op| op_bytes(&op)).sum();
                count(|c| c.unsynced = c.unsynced.saturating_sub(dropped));
            }
        }
        let real = real_vfs();
        ((*real).xDelete.expect("xDelete"))(real, name, sync_dir)
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    // Version 2: shared memory for WAL, but no memory-mapped I/O (xFetch
    // would read around the buffered writes).
    iVersion: 2,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let f = file as *mut File;
        // Closing does not sync: the changes stay in the shared cache.
        if !(*f).pending.is_null() {
            drop(Arc::from_raw((*f).pending));
            (*f).pending = std::ptr::null();
        }
        let real = real_file(file);
        (methods(real).xClose.expect("xClose"))(real)
    }
}

/// The real file's size, then the unsynced changes.
unsafe fn effective_size(real: *mut ffi::sqlite3_file, p: &Pending) -> Result<i64, c_int> {
    let mut size: ffi::sqlite3_int64 = 0;
    let rc = unsafe { (methods(real).xFileSize.expect("xFileSize"))(real, &mut size) };
    if rc != ffi::SQLITE_OK {
        return Err(rc);
    }
    for op in &p.ops {
        size = match op {
            Op::Write(off, d) => size.max(off + d.len() as i64),
            Op::Truncate(n) => *n,
        };
    }
    Ok(size)
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amt: c_int,
    off: ffi::sqlite3_int64,
) -> c_int {
    unsafe {
        let real = real_file(file);
        let read = methods(real).xRead.expect("xRead");
        let Some(p) = pending(file) else {
            return read(real, buf, amt, off);
        };
        let p = lock(p);
        // The real VFS zero-fills what lies past the end of the file.
        let rc = read(real, buf, amt, off);
        if rc != ffi::SQLITE_OK && rc != ffi::SQLITE_IOERR_SHORT_READ {
            return rc;
        }
        let out = std::slice::from_raw_parts_mut(buf as *mut u8, amt as usize);
        let end = off + amt as i64;
        for op in &p.ops {
            match op {
                Op::Write(at, d) => {
                    let (from, to) = ((*at).max(off), (at + d.len() as i64).min(end));
                    if from < to {
                        out[(from - off) as usize..(to - off) as usize]
                            .copy_from_slice(&d[(from - at) as usize..(to - at) as usize]);
                    }
                }
                Op::Truncate(n) if *n < end => out[((*n).max(off) - off) as usize..].fill(0),
                Op::Truncate(_) => {}
            }
        }
        match effective_size(real, &p) {
            Ok(size) if size >= end => ffi::SQLITE_OK,
            Ok(_) => ffi::SQLITE_IOERR_SHORT_READ,
            Err(rc) => rc,
        }
    }
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amt: c_int,
    off: ffi::sqlite3_int64,
) -> c_int {
    unsafe {
        let real = real_file(file);
        let Some(p) = pending(file) else {
            return (methods(real).xWrite.expect("xWrite"))(real, buf, amt, off);
        };
        let data = std::slice::from_raw_parts(buf as *const u8, amt as usize).to_vec();
        lock(p).ops.push(Op::Write(off, data));
        count(|c| {
            c.writes += 1;
            c.unsynced += amt as u64;
        });
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    unsafe {
        let real = real_file(file);
        let Some(p) = pending(file) else {
            return (methods(real).xTruncate.expect("xTruncate"))(real, size);
        };
        lock(p).ops.push(Op::Truncate(size));
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    unsafe {
        let real = real_file(file);
        let m = methods(real);
        if let Some(p) = pending(file) {
            let mut p = lock(p);
            let ops = std::mem::take(&mut p.ops);
            for (i, op) in ops.iter().enumerate() {
                let rc = match op {
                    Op::Write(off, d) => (m.xWrite.expect("xWrite"))(
                        real,
                        d.as_ptr() as *const c_void,
                        d.len() as c_int,
                        *off,
                    ),
                    Op::Truncate(n) => (m.xTruncate.expect("xTruncate"))(real, *n),
                };
                if rc != ffi::SQLITE_OK {
                    // Not written: the cache keeps this change and the rest.
                    let synced: u64 = ops[..i].iter().map(op_bytes).sum();
                    count(|c| c.unsynced = c.unsynced.saturating_sub(synced));
                    p.ops = ops.into_iter().skip(i).collect();
                    return rc;
                }
            }
            let synced: u64 = ops.iter().map(op_bytes).sum();
            count(|c| c.unsynced = c.unsynced.saturating_sub(synced));
        }
        (m.xSync.expect("xSync"))(real, flags)
    }
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    unsafe {
        let real = real_file(file);
        let Some(p) = pending(file) else {
            return (methods(real).xFileSize.expect("xFileSize"))(real, size);
        };
        match effective_size(real, &lock(p)) {
            Ok(s) => {
                *size = s;
                ffi::SQLITE_OK
            }
            Err(rc) => rc,
        }
    }
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real).xLock.expect("xLock"))(real, level)
    }
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real).xUnlock.expect("xUnlock"))(real, level)
    }
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real)
            .xCheckReservedLock
            .expect("xCheckReservedLock"))(real, out)
    }
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    unsafe {
        let real = real_file(file);
        // A size hint would grow the real file behind the buffered writes.
        if op == ffi::SQLITE_FCNTL_SIZE_HINT && pending(file).is_some() {
            return ffi::SQLITE_OK;
        }
        (methods(real).xFileControl.expect("xFileControl"))(real, op, arg)
    }
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real).xSectorSize.expect("xSectorSize"))(real)
    }
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real)
            .xDeviceCharacteristics
            .expect("xDeviceCharacteristics"))(real)
    }
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real).xShmMap.expect("xShmMap"))(real, page, size, extend, out)
    }
}

unsafe extern "C" fn x_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real).xShmLock.expect("xShmLock"))(real, offset, n, flags)
    }
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    unsafe {
        let real = real_file(file);
        (methods(real).xShmBarrier.expect("xShmBarrier"))(real)
    }
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    unsafe {
        let real = real_file(file);
        (methods(real).xShmUnmap.expect("xShmUnmap"))(real, delete)
    }
}
