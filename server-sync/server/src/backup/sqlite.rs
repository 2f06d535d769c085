//! SQLite backups as page images.
//!
//! The snapshot is SQLite's online backup API (through rusqlite, in one
//! step: one read transaction, so one consistent state of the database,
//! WAL included, while the service keeps writing). Unlike `VACUUM INTO`,
//! which rebuilds the file and moves every page after the first table that
//! grew, the backup API copies page for page: page N of the snapshot is
//! page N of the store. That is what makes a page-level incremental real:
//! it holds only the pages that differ from the full snapshot it builds
//! on, and the new length; restoring is the full image with those pages
//! written over it.
//!
//! Plain text of an incremental file (inside the sealed container):
//! `"EXSQINC1" | page size u32 | pages u64 | (page number u64 | page)*`.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exam_vault::KeyRing;

use super::container::{OpenReader, SealWriter};

const INC_MAGIC: &[u8; 8] = b"EXSQINC1";

/// The file of a `sqlite:` URL (`None` for an in-memory store).
pub fn path_of_url(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// A temporary file removed when dropped (snapshots hold personal data).
pub struct TempFile(pub PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A consistent copy of the live database at `live`, made beside it (the
/// same disk and permissions as the store itself; removed when dropped).
pub fn snapshot(live: &Path) -> io::Result<TempFile> {
    let name = format!(
        ".{}.snapshot-{}",
        live.file_name().and_then(|n| n.to_str()).unwrap_or("store"),
        hex::encode(exam_protocol::auth::random_bytes::<6>())
    );
    let tmp = TempFile(live.with_file_name(name));
    let src = rusqlite::Connection::open_with_flags(
        live,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(io::Error::other)?;
    src.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(io::Error::other)?;
    let mut dst = rusqlite::Connection::open(&tmp.0).map_err(io::Error::other)?;
    {
        let backup = rusqlite::backup::Backup::new(&src, &mut dst).map_err(io::Error::other)?;
        // Every page in one step: one read transaction, one state (in
        // WAL mode the writer goes on meanwhile). Busy only while another
        // connection changes the journal mode or recovers: wait a little.
        let mut tries = 0;
        loop {
            match backup.step(-1).map_err(io::Error::other)? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => {}
                _ if tries < 300 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                _ => return Err(io::Error::other("the store stayed locked for 30 s")),
            }
        }
    }
    dst.close().map_err(|(_, e)| io::Error::other(e))?;
    Ok(tmp)
}

/// Page size (from the header), page count and SHA-256 of a database image.
pub fn image_facts(path: &Path) -> io::Result<(u32, u64, String)> {
    let mut f = File::open(path)?;
    let mut header = [0u8; 100];
    f.read_exact(&mut header)?;
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u32::from(n),
    };
    let len = f.metadata()?.len();
    if page_size < 512 || len % u64::from(page_size) != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a whole SQLite database image",
        ));
    }
    let (sha, _) = super::manifest::file_sha256(path)?;
    Ok((page_size, len / u64::from(page_size), sha))
}

/// Seals the whole image into `out`.
pub fn write_full<W: Write>(keys: &Arc<KeyRing>, image: &Path, out: W) -> io::Result<W> {
    let mut w = SealWriter::new(keys.clone(), out)?;
    io::copy(&mut BufReader::new(File::open(image)?), &mut w)?;
    w.finish()
}

/// Seals the pages of `image` that differ from the full backup `base` (read
/// back through its seal, so the base is also proven readable). Returns the
/// writer and how many pages were stored.
pub fn write_incremental<W: Write>(
    keys: &Arc<KeyRing>,
    base: &Path,
    image: &Path,
    page_size: u32,
    pages: u64,
    out: W,
) -> io::Result<(W, u64)> {
    let ps = page_size as usize;
    let mut old = OpenReader::new(keys.clone(), BufReader::new(File::open(base)?))?;
    let mut new = BufReader::new(File::open(image)?);
    let mut w = SealWriter::new(keys.clone(), out)?;
    w.write_all(INC_MAGIC)?;
    w.write_all(&page_size.to_be_bytes())?;
    w.write_all(&pages.to_be_bytes())?;
    let (mut a, mut b) = (vec![0u8; ps], vec![0u8; ps]);
    let mut old_done = false;
    let mut stored = 0u64;
    for pgno in 1..=pages {
        new.read_exact(&mut b)?;
        let same = !old_done && {
            match read_page(&mut old, &mut a)? {
                true => a == b,
                false => {
                    old_done = true;
                    false
                }
            }
        };
        if !same {
            w.write_all(&pgno.to_be_bytes())?;
            w.write_all(&b)?;
            stored += 1;
        }
    }
    Ok((w.finish()?, stored))
}

/// Reads one whole page; false at the end of the stream.
fn read_page(r: &mut impl Read, page: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < page.len() {
        let n = r.read(&mut page[got..])?;
        if n == 0 {
            return if got == 0 {
                Ok(false)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "partial page in the base backup",
                ))
            };
        }
        got += n;
    }
    Ok(true)
}

/// Rebuilds the database image at `to`: the full backup, then (if given)
/// the incremental's pages over it. Returns the image's SHA-256.
pub fn rebuild(
    keys: &Arc<KeyRing>,
    full: &Path,
    incremental: Option<&Path>,
    to: &Path,
) -> io::Result<String> {
    let mut out = BufWriter::new(File::create(to)?);
    io::copy(
        &mut OpenReader::new(keys.clone(), BufReader::new(File::open(full)?))?,
        &mut out,
    )?;
    let mut f = out.into_inner().map_err(|e| e.into_error())?;
    if let Some(inc) = incremental {
        let mut r = OpenReader::new(keys.clone(), BufReader::new(File::open(inc)?))?;
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)?;
        if &magic != INC_MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a SQLite incremental backup",
            ));
        }
        let mut ps = [0u8; 4];
        r.read_exact(&mut ps)?;
        let page_size = u32::from_be_bytes(ps);
        let mut n = [0u8; 8];
        r.read_exact(&mut n)?;
        let pages = u64::from_be_bytes(n);
        f.set_len(pages * u64::from(page_size))?;
        let mut page = vec![0u8; page_size as usize];
        loop {
            let mut no = [0u8; 8];
            if !read_page(&mut r, &mut no)? {
                break;
            }
            let pgno = u64::from_be_bytes(no);
            if pgno == 0 || pgno > pages {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "page number out of range",
                ));
            }
            r.read_exact(&mut page)?;
            f.seek(SeekFrom::Start((pgno - 1) * u64::from(page_size)))?;
            f.write_all(&page)?;
        }
    }
    f.sync_all()?;
    drop(f);
    Ok(super::manifest::file_sha256(to)?.0)
}

/// A read-only URL for an image that nothing else has open.
pub fn immutable_url(path: &Path) -> String {
    format!("sqlite://{}?mode=ro&immutable=true", path.display())
}

/// Whether a SQLite file has no tables (or does not exist).
pub fn is_empty_store(path: &Path) -> io::Result<bool> {
    if !path.exists() {
        return Ok(true);
    }
    if std::fs::metadata(path)?.len() == 0 {
        return Ok(true);
    }
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(io::Error::other)?;
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(io::Error::other)?;
    Ok(n == 0)
}
