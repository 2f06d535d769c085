//! The encrypted backup file: a stream cut into chunks of at most 1 MiB,
//! each sealed by the service's key ring (`exam_vault`: AES-256-GCM, a fresh
//! nonce and the key id in every chunk), so a backup of any size is written
//! and read with bounded memory.
//!
//! ```text
//! "EXAMBAK1" | file id (16 random bytes) | chunk* ; chunk = u32 BE length | sealed text
//! ```
//!
//! Each chunk's associated data is the file id, its index and whether it is
//! the last: a chunk moved to another place or another file does not open,
//! and a file cut short (no last chunk) is refused, not read as shorter.
//! Encryption is this file's business alone: [`seal_chunk`] and
//! [`open_chunk`] are the one place a cipher is called.

use std::io::{self, Read, Write};
use std::sync::Arc;

use exam_vault::KeyRing;

const MAGIC: &[u8; 8] = b"EXAMBAK1";
const CHUNK: usize = 1 << 20;
/// A sealed chunk is base64 of nonce, ciphertext and tag: never near this.
const MAX_SEALED: usize = 2 * CHUNK;

fn ad(file_id: &[u8; 16], index: u64, last: bool) -> Vec<u8> {
    let mut ad = Vec::with_capacity(40);
    ad.extend_from_slice(b"exam-backup/v1/");
    ad.extend_from_slice(file_id);
    ad.extend_from_slice(&index.to_be_bytes());
    ad.push(u8::from(last));
    ad
}

/// The cipher step: one chunk in.
fn seal_chunk(keys: &KeyRing, plain: &[u8], ad: &[u8]) -> io::Result<String> {
    keys.seal(plain, ad).map_err(io::Error::other)
}

/// The cipher step: one chunk out.
fn open_chunk(keys: &KeyRing, sealed: &str, ad: &[u8]) -> io::Result<Vec<u8>> {
    keys.open(sealed, ad)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes a sealed stream; [`SealWriter::finish`] writes the last chunk
/// (without it the file does not open).
pub struct SealWriter<W: Write> {
    keys: Arc<KeyRing>,
    out: W,
    file_id: [u8; 16],
    index: u64,
    buf: Vec<u8>,
}

impl<W: Write> SealWriter<W> {
    pub fn new(keys: Arc<KeyRing>, mut out: W) -> io::Result<Self> {
        let file_id = exam_protocol::auth::random_bytes::<16>();
        out.write_all(MAGIC)?;
        out.write_all(&file_id)?;
        Ok(Self {
            keys,
            out,
            file_id,
            index: 0,
            buf: Vec::with_capacity(CHUNK),
        })
    }

    fn emit(&mut self, last: bool) -> io::Result<()> {
        let sealed = seal_chunk(&self.keys, &self.buf, &ad(&self.file_id, self.index, last))?;
        let len = u32::try_from(sealed.len()).map_err(io::Error::other)?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(sealed.as_bytes())?;
        self.index += 1;
        self.buf.clear();
        Ok(())
    }

    /// Seals what is buffered as the last chunk and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.emit(true)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.emit(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunks are sealed whole; `finish` writes the rest.
        Ok(())
    }
}

/// Reads a sealed stream back; fails on a wrong key, an altered or moved
/// chunk, or a file cut short.
pub struct OpenReader<R: Read> {
    keys: Arc<KeyRing>,
    input: R,
    file_id: [u8; 16],
    index: u64,
    plain: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> OpenReader<R> {
    pub fn new(keys: Arc<KeyRing>, mut input: R) -> io::Result<Self> {
        let mut magic = [0u8; 8];
        input
            .read_exact(&mut magic)
            .map_err(|_| bad("not a backup file"))?;
        if &magic != MAGIC {
            return Err(bad("not a backup file (wrong magic)"));
        }
        let mut file_id = [0u8; 16];
        input
            .read_exact(&mut file_id)
            .map_err(|_| bad("file cut short"))?;
        Ok(Self {
            keys,
            input,
            file_id,
            index: 0,
            plain: Vec::new(),
            at: 0,
            done: false,
        })
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let mut len = [0u8; 4];
        self.input
            .read_exact(&mut len)
            .map_err(|_| bad("file cut short: its last chunk is missing"))?;
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_SEALED {
            return Err(bad("chunk length out of range"));
        }
        let mut sealed = vec![0u8; len];
        self.input
            .read_exact(&mut sealed)
            .map_err(|_| bad("file cut short inside a chunk"))?;
        let sealed = String::from_utf8(sealed).map_err(|_| bad("chunk is not sealed text"))?;
        // The chunk says nothing of being last: try as a middle chunk, then
        // as the last (the associated data differs in that one byte).
        let plain = match open_chunk(&self.keys, &sealed, &ad(&self.file_id, self.index, false)) {
            Ok(p) => p,
            Err(_) => {
                let p = open_chunk(&self.keys, &sealed, &ad(&self.file_id, self.index, true))
                    .map_err(|e| bad(&format!("chunk {} does not open: {e}", self.index)))?;
                self.done = true;
                let mut more = [0u8; 1];
                if self.input.read(&mut more)? != 0 {
                    return Err(bad("data after the last chunk"));
                }
                p
            }
        };
        self.index += 1;
        self.plain = plain;
        self.at = 0;
        Ok(())
    }
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.plain.len() {
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.plain.len() - self.at);
        out[..n].copy_from_slice(&self.plain[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(keys: &Arc<KeyRing>, data: &[u8]) -> Vec<u8> {
        let mut w = SealWriter::new(keys.clone(), Vec::new()).unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn open_all(keys: &Arc<KeyRing>, file: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        OpenReader::new(keys.clone(), file)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn streams_of_any_length_round_trip() {
        let keys = Arc::new(KeyRing::generate().unwrap());
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 7] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let file = round_trip(&keys, &data);
            assert_eq!(open_all(&keys, &file).unwrap(), data, "length {len}");
        }
    }

    #[test]
    fn the_plain_text_is_not_in_the_file() {
        let keys = Arc::new(KeyRing::generate().unwrap());
        let file = round_trip(&keys, "110105194912310021 张三 13800138000".as_bytes());
        let text = String::from_utf8_lossy(&file);
        assert!(!text.contains("110105194912310021") && !text.contains("13800138000"));
    }

    #[test]
    fn damage_a_wrong_key_or_a_cut_is_refused() {
        let keys = Arc::new(KeyRing::generate().unwrap());
        let data = vec![7u8; CHUNK + 100];
        let file = round_trip(&keys, &data);
        let mut flipped = file.clone();
        let i = flipped.len() / 2;
        flipped[i] ^= 1;
        assert!(open_all(&keys, &flipped).is_err());
        let other = Arc::new(KeyRing::generate().unwrap());
        assert!(open_all(&other, &file).is_err());
        // Cut after the first (full, middle) chunk: no last chunk.
        let first_len = u32::from_be_bytes(file[24..28].try_into().unwrap()) as usize;
        let cut = &file[..28 + first_len];
        let e = open_all(&keys, cut).unwrap_err();
        assert!(e.to_string().contains("cut short"), "{e}");
        assert!(open_all(&keys, b"not a backup at all").is_err());
    }
}
