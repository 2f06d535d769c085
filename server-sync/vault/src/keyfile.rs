//! The key file: plain text, one key a line, readable by its owner only.
//!
//! ```text
//! # exam-vault keys: keep this file mode 600 and back it up apart from the store
//! index <base64 of 32 bytes>
//! data 1 <base64 of 32 bytes>
//! data 2 <base64 of 32 bytes>
//! ```
//!
//! The same text may come from an environment variable (for containers),
//! with `;` between keys where newlines are awkward.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::{Zeroize, Zeroizing};

use crate::{KeyRing, Result, VaultError};

/// The environment variable the service reads the key text from when no
/// key file is configured.
pub const DEFAULT_ENV: &str = "EXAM_DATA_KEY";

fn key32(text: &str, line: usize) -> Result<Zeroizing<[u8; 32]>> {
    let mut bytes = Zeroizing::new(B64.decode(text.trim()).map_err(|_| VaultError::Parse {
        line,
        reason: "key is not base64",
    })?);
    if bytes.len() != 32 {
        bytes.zeroize();
        return Err(VaultError::Parse {
            line,
            reason: "a key is 32 bytes",
        });
    }
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(&bytes);
    Ok(k)
}

/// Refuses a file that group or others may read or write: the key file
/// opens every personal datum in the store.
#[cfg(unix)]
pub fn check_owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| VaultError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(VaultError::KeyFileOpen {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_owner_only(_path: &Path) -> Result<()> {
    Ok(())
}

impl KeyRing {
    /// Parses the key file's text (newlines or `;` between entries).
    pub fn from_text(text: &str) -> Result<Self> {
        let mut data = Vec::new();
        let mut index = None;
        let entries = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim_start().starts_with('#'))
            .flat_map(|(n, l)| l.split(';').map(move |e| (n + 1, e.trim())));
        for (line, l) in entries {
            if l.is_empty() {
                continue;
            }
            let parts: Vec<&str> = l.split_whitespace().collect();
            match parts.as_slice() {
                ["index", key] => {
                    if index.is_some() {
                        return Err(VaultError::Parse {
                            line,
                            reason: "a second index key",
                        });
                    }
                    index = Some(key32(key, line)?);
                }
                ["data", id, key] => {
                    let id: u32 = id.parse().map_err(|_| VaultError::Parse {
                        line,
                        reason: "a data key's id is a number",
                    })?;
                    if id == 0 || data.iter().any(|(i, _)| *i == id) {
                        return Err(VaultError::Parse {
                            line,
                            reason: "data key ids are unique numbers from 1",
                        });
                    }
                    data.push((id, key32(key, line)?));
                }
                _ => {
                    return Err(VaultError::Parse {
                        line,
                        reason: "expected `index KEY` or `data ID KEY`",
                    });
                }
            }
        }
        let index = index.ok_or(VaultError::Parse {
            line: 0,
            reason: "no index key",
        })?;
        if data.is_empty() {
            return Err(VaultError::Parse {
                line: 0,
                reason: "no data key",
            });
        }
        Self::from_parts(data, index)
    }

    /// The key file's text. It is the secret itself: written only to a
    /// file of mode 600 ([`write_new_file`](Self::write_new_file)).
    pub(crate) fn to_text(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::from(
            "# exam-vault keys: keep this file mode 600 and back it up apart from the store.\n\
             # New data is sealed with the highest data key, older ones open what they sealed.\n",
        ));
        s.push_str(&format!("index {}\n", B64.encode(self.index.as_slice())));
        for k in &self.data {
            s.push_str(&format!("data {} {}\n", k.id, B64.encode(k.raw.as_slice())));
        }
        s
    }

    /// Reads a key file, refusing one that group or others may read.
    pub fn load_file(path: &Path) -> Result<Self> {
        check_owner_only(path)?;
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| VaultError::Io {
                    path: path.display().to_string(),
                    source,
                })?,
            );
        Self::from_text(&text)
    }

    /// The key file if one is named, else the text in environment variable
    /// `env`; neither is [`VaultError::NoKeys`].
    pub fn load(file: Option<&Path>, env: &str) -> Result<Self> {
        if let Some(f) = file {
            return Self::load_file(f);
        }
        match std::env::var(env) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                Self::from_text(&text)
            }
            Err(_) => Err(VaultError::NoKeys),
        }
    }

    /// Writes a new key file (mode 600); an existing file is never replaced.
    pub fn write_new_file(&self, path: &Path) -> Result<()> {
        let io = |source| VaultError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                VaultError::Exists(path.display().to_string())
            } else {
                io(e)
            }
        })?;
        f.write_all(self.to_text().as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }

    /// Rewrites an existing key file with this ring (after a rotation):
    /// written beside it and renamed over it, so a crash leaves the old
    /// file or the new one, never half of one.
    pub fn replace_file(&self, path: &Path) -> Result<()> {
        check_owner_only(path)?;
        let tmp = path.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        self.write_new_file(&tmp)?;
        std::fs::rename(&tmp, path).map_err(|source| VaultError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}
