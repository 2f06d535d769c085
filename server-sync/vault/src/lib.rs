//! Personal data at rest (S2, issue 17 item 9): the service's key ring,
//! AES-256-GCM sealing and keyed blind indexes.
//!
//! - A [`KeyRing`] holds numbered data-encryption keys and one separate
//!   blind-index key. It is read from a key file that only its owner may
//!   read ([`KeyRing::load_file`]) or from an environment variable
//!   ([`KeyRing::load`]); it is never printed (`Debug` shows key ids only) and
//!   its keys are wiped from memory when it is dropped.
//! - [`KeyRing::seal`] encrypts with the newest data key and a fresh random
//!   96-bit nonce; the stored form names the format version and the key id
//!   (`sealed:v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`), so after a
//!   rotation ([`KeyRing::rotate`]) old values still open and a rekey pass
//!   finds them ([`KeyRing::needs_rekey`]). The caller's associated data
//!   (table, column, row) is authenticated with it: a value copied to another
//!   row or column does not open.
//! - [`KeyRing::blind_index`] is HMAC-SHA256 under the index key, separated
//!   by [`IndexKind`], truncated to 128 bits in hex: equal inputs give equal
//!   tokens, so exact and prefix lookups work without the value in clear.
//!   The index key does not rotate with the data keys (every stored token
//!   would change with it).

mod keyfile;

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};

use sha2::Sha256;
use zeroize::Zeroizing;

pub use keyfile::{DEFAULT_ENV, check_owner_only};

/// The prefix of every sealed value (and of sealed configuration secrets).
pub const SEALED_PREFIX: &str = "sealed:v1:";

/// Bytes of a blind-index token (hex doubles it).
const INDEX_BYTES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "no data key configured: set data_key_file (or {DEFAULT_ENV}); make one with `exam-server gen-data-key --out FILE`"
    )]
    NoKeys,
    #[error(
        "key file {path} may be read by group or others (mode {mode:o}): chmod 600 it (the file holds the keys to every personal datum)"
    )]
    KeyFileOpen { path: String, mode: u32 },
    #[error("key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("key file line {line}: {reason}")]
    Parse { line: usize, reason: &'static str },
    #[error("key file already exists: {0} (rotate with --add, never overwrite keys)")]
    Exists(String),
    #[error("not a sealed value")]
    NotSealed,
    #[error("sealed with data key {0}, which this key ring does not hold")]
    UnknownKey(u32),
    #[error("sealed value does not open: wrong key, wrong place, or altered")]
    Tampered,
    #[error("sealed text is not UTF-8")]
    NotText,
    #[error("the OS random source failed: {0}")]
    Random(String),
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;

/// What a blind index is of: each kind is keyed apart (domain separation),
/// so a mobile's token never equals an ID number's or a name prefix's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// The canonical 18-character ID number (upper-case check digit).
    IdNumber,
    /// An 11-digit mobile number.
    Mobile,
    /// A normalised prefix of a name (the desk's name search).
    NamePrefix,
    /// A link's subject and expiry: the MAC of a signed link (the phone
    /// page, a room screen).
    LinkToken,
}

impl IndexKind {
    fn tag(self) -> &'static [u8] {
        match self {
            IndexKind::IdNumber => b"exam-vault/index/id_number",
            IndexKind::Mobile => b"exam-vault/index/mobile",
            IndexKind::NamePrefix => b"exam-vault/index/name_prefix",
            IndexKind::LinkToken => b"exam-vault/index/link_token",
        }
    }
}

struct DataKey {
    id: u32,
    raw: Zeroizing<[u8; 32]>,
    /// Built once: the AES key schedule is most of a small seal's cost.
    cipher: Aes256Gcm,
}

/// The data keys (by id, oldest first) and the blind-index key.
pub struct KeyRing {
    data: Vec<DataKey>,
    index: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("data_key_ids", &self.key_ids())
            .field("index_key", &"<redacted>")
            .finish()
    }
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::fill(b.as_mut_slice()).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(b)
}

impl KeyRing {
    /// A new ring: data key 1 and an index key, from the OS random source.
    pub fn generate() -> Result<Self> {
        Self::from_parts(vec![(1, random::<32>()?)], random::<32>()?)
    }

    pub(crate) fn from_parts(
        data: Vec<(u32, Zeroizing<[u8; 32]>)>,
        index: Zeroizing<[u8; 32]>,
    ) -> Result<Self> {
        let mut data: Vec<DataKey> = data
            .into_iter()
            .map(|(id, raw)| DataKey {
                id,
                cipher: Aes256Gcm::new((&*raw).into()),
                raw,
            })
            .collect();
        data.sort_by_key(|k| k.id);
        if data.is_empty() {
            return Err(VaultError::NoKeys);
        }
        Ok(Self { data, index })
    }

    /// Adds a data key with the next id; new seals use it from now on.
    /// Returns its id.
    pub fn rotate(&mut self) -> Result<u32> {
        let id = self.current_key_id() + 1;
        let raw = random::<32>()?;
        self.data.push(DataKey {
            id,
            cipher: Aes256Gcm::new((&*raw).into()),
            raw,
        });
        Ok(id)
    }

    /// The id of the key new seals use (the highest).
    pub fn current_key_id(&self) -> u32 {
        self.data.last().map_or(0, |k| k.id)
    }

    pub fn key_ids(&self) -> Vec<u32> {
        self.data.iter().map(|k| k.id).collect()
    }

    fn key(&self, id: u32) -> Option<&DataKey> {
        self.data.iter().find(|k| k.id == id)
    }

    /// Encrypts `plaintext` under the newest key, binding `ad` (where the
    /// value lives: table, column, row) to it.
    pub fn seal(&self, plaintext: &[u8], ad: &[u8]) -> Result<String> {
        let key = self.data.last().ok_or(VaultError::NoKeys)?;
        let nonce = random::<12>()?;
        let header = format!("{SEALED_PREFIX}{}:", key.id);
        let aad = [header.as_bytes(), ad].concat();
        let ct = key
            .cipher
            .encrypt(
                &Nonce::from(*nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Tampered)?;
        let mut body = Vec::with_capacity(12 + ct.len());
        body.extend_from_slice(nonce.as_slice());
        body.extend_from_slice(&ct);
        Ok(header + &B64.encode(body))
    }

    pub fn seal_str(&self, plaintext: &str, ad: &[u8]) -> Result<String> {
        self.seal(plaintext.as_bytes(), ad)
    }

    /// Decrypts a value sealed by [`seal`](Self::seal) with the same `ad`.
    pub fn open(&self, sealed: &str, ad: &[u8]) -> Result<Vec<u8>> {
        let (id, body) = split(sealed)?;
        let key = self.key(id).ok_or(VaultError::UnknownKey(id))?;
        let body = B64.decode(body).map_err(|_| VaultError::Tampered)?;
        if body.len() < 12 + 16 {
            return Err(VaultError::Tampered);
        }
        let nonce: [u8; 12] = body[..12].try_into().map_err(|_| VaultError::Tampered)?;
        let header = &sealed[..header_len(sealed)];
        let aad = [header.as_bytes(), ad].concat();
        key.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &body[12..],
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Tampered)
    }

    pub fn open_string(&self, sealed: &str, ad: &[u8]) -> Result<String> {
        String::from_utf8(self.open(sealed, ad)?).map_err(|_| VaultError::NotText)
    }

    /// True when `sealed` is sealed under an older key than the newest
    /// (a rekey pass seals it again).
    pub fn needs_rekey(&self, sealed: &str) -> bool {
        key_id_of(sealed).is_some_and(|id| id != self.current_key_id())
    }

    /// A keyed, one-way token of `normalized` (the caller normalises: the
    /// same person must always give the same input).
    pub fn blind_index(&self, kind: IndexKind, normalized: &str) -> String {
        // HMAC accepts keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.index.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(kind.tag());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        let out = mac.finalize().into_bytes();
        hex::encode(&out[..INDEX_BYTES])
    }
}

/// Associated data of sealed configuration values (`exam-server seal-secret`).
const CONFIG_AD: &[u8] = b"exam-server/config";

impl KeyRing {
    /// Seals a configuration secret (a database URL or its password).
    pub fn seal_config(&self, secret: &str) -> Result<String> {
        self.seal_str(secret, CONFIG_AD)
    }

    /// A configuration value as written: opened when sealed, else as is.
    pub fn reveal_config(&self, value: &str) -> Result<String> {
        if value.starts_with(SEALED_PREFIX) {
            self.open_string(value, CONFIG_AD)
        } else {
            Ok(value.to_string())
        }
    }
}

fn header_len(sealed: &str) -> usize {
    // "sealed:v1:" + digits + ":"
    let rest = &sealed[SEALED_PREFIX.len()..];
    SEALED_PREFIX.len() + rest.find(':').map_or(rest.len(), |i| i + 1)
}

fn split(sealed: &str) -> Result<(u32, &str)> {
    let rest = sealed
        .strip_prefix(SEALED_PREFIX)
        .ok_or(VaultError::NotSealed)?;
    let (id, body) = rest.split_once(':').ok_or(VaultError::NotSealed)?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VaultError::NotSealed);
    }
    let id = id.parse().map_err(|_| VaultError::NotSealed)?;
    Ok((id, body))
}

/// True when `s` has the sealed form (it may still fail to open).
pub fn is_sealed(s: &str) -> bool {
    split(s).is_ok()
}

/// The data key id a sealed value names.
pub fn key_id_of(sealed: &str) -> Option<u32> {
    split(sealed).ok().map(|(id, _)| id)
}

#[cfg(test)]
mod tests;
