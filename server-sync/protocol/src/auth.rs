//! Signed kiosk requests.
//!
//! At enrolment the kiosk generates an Ed25519 key pair and hands the server
//! only its public half (with a one-time enrolment secret), so the server
//! holds no secret that could sign as a kiosk. Each request then carries a
//! timestamp, a random nonce and a signature over method, path, kiosk id,
//! timestamp, nonce and the body's SHA-256. The server refuses requests more
//! than [`MAX_SKEW_MS`] away from its clock and nonces it has seen before.
//!
//! Randomness is this crate's one outside input besides the clock: it is
//! read from the OS random source in [`random_bytes`] only, which
//! [`KioskKey::generate`], [`KioskKey::sign`] and [`random_token`] call.
//! Their cores take the randomness as an argument ([`KioskKey::from_secret`],
//! [`KioskKey::sign_with_nonce`]), so they are deterministic and tested so.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

pub const H_KIOSK: &str = "x-kiosk-id";
pub const H_TIMESTAMP: &str = "x-kiosk-timestamp";
pub const H_NONCE: &str = "x-kiosk-nonce";
pub const H_SIGNATURE: &str = "x-kiosk-signature";
pub const H_VERSION: &str = "x-protocol-version";

/// Requests older or newer than this (5 minutes) are refused.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the request is not signed: header {0} is missing")]
    MissingHeader(&'static str),
    #[error("header {0} is malformed")]
    Malformed(&'static str),
    #[error(
        "the request's timestamp is {skew_s} s away from the server's clock (limit 300 s): refused as expired"
    )]
    Expired { skew_s: i64 },
    #[error("the signature does not match the request")]
    BadSignature,
    #[error("this nonce was already used: refused as a replay")]
    Replayed,
    #[error("unknown or unenrolled kiosk")]
    UnknownKiosk,
}

/// The signed headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub kiosk_id: String,
    pub timestamp_ms: i64,
    pub nonce: String,
    pub signature: String,
}

impl SignedHeaders {
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            (H_KIOSK, self.kiosk_id.clone()),
            (H_TIMESTAMP, self.timestamp_ms.to_string()),
            (H_NONCE, self.nonce.clone()),
            (H_SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads the headers through a lookup function (framework-agnostic).
    pub fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, AuthError> {
        let need = |h: &'static str| get(h).ok_or(AuthError::MissingHeader(h));
        let timestamp_ms = need(H_TIMESTAMP)?
            .parse()
            .map_err(|_| AuthError::Malformed(H_TIMESTAMP))?;
        let nonce = need(H_NONCE)?;
        if nonce.len() < 16 || nonce.len() > 64 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::Malformed(H_NONCE));
        }
        let kiosk_id = need(H_KIOSK)?;
        if !valid_kiosk_id(kiosk_id) {
            return Err(AuthError::Malformed(H_KIOSK));
        }
        Ok(Self {
            kiosk_id: kiosk_id.to_string(),
            timestamp_ms,
            nonce: nonce.to_string(),
            signature: need(H_SIGNATURE)?.to_string(),
        })
    }
}

/// Kiosk ids are short and printable: letters, digits, '-' and '_'.
pub fn valid_kiosk_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn message(method: &str, path: &str, kiosk_id: &str, ts: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let body_hash = hex::encode(Sha256::digest(body));
    format!("exam-kiosk-v1\n{method}\n{path}\n{kiosk_id}\n{ts}\n{nonce}\n{body_hash}").into_bytes()
}

/// A kiosk's signing identity, kept in its journal after enrolment.
#[derive(Clone)]
pub struct KioskKey {
    pub kiosk_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for KioskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KioskKey({}, <secret>)", self.kiosk_id)
    }
}

impl KioskKey {
    pub fn generate(kiosk_id: &str) -> Self {
        Self {
            kiosk_id: kiosk_id.to_string(),
            key: SigningKey::from_bytes(&random_bytes::<32>()),
        }
    }
    pub fn from_secret(kiosk_id: &str, secret: &[u8; 32]) -> Self {
        Self {
            kiosk_id: kiosk_id.to_string(),
            key: SigningKey::from_bytes(secret),
        }
    }
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
    pub fn public_key_b64(&self) -> String {
        B64.encode(self.key.verifying_key().to_bytes())
    }

    /// Signs with a fresh nonce from the OS random source.
    pub fn sign(&self, method: &str, path: &str, body: &[u8], now_ms: i64) -> SignedHeaders {
        self.sign_with_nonce(method, path, body, now_ms, random_bytes::<16>())
    }

    /// Signs with the caller's nonce: no I/O, the same headers every time.
    pub fn sign_with_nonce(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        now_ms: i64,
        nonce: [u8; 16],
    ) -> SignedHeaders {
        let nonce = hex::encode(nonce);
        let sig = self
            .key
            .sign(&message(method, path, &self.kiosk_id, now_ms, &nonce, body));
        SignedHeaders {
            kiosk_id: self.kiosk_id.clone(),
            timestamp_ms: now_ms,
            nonce,
            signature: B64.encode(sig.to_bytes()),
        }
    }
}

/// Checks the time window and the signature. Replay (nonce reuse) is the
/// caller's job, since only it keeps the record of seen nonces.
pub fn verify(
    public_key_b64: &str,
    h: &SignedHeaders,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<(), AuthError> {
    let skew = now_ms - h.timestamp_ms;
    if skew.abs() > MAX_SKEW_MS {
        return Err(AuthError::Expired {
            skew_s: skew / 1000,
        });
    }
    let pk: [u8; 32] = B64
        .decode(public_key_b64)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(AuthError::UnknownKiosk)?;
    let pk = VerifyingKey::from_bytes(&pk).map_err(|_| AuthError::UnknownKiosk)?;
    let sig: [u8; 64] = B64
        .decode(&h.signature)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(AuthError::Malformed(H_SIGNATURE))?;
    pk.verify(
        &message(method, path, &h.kiosk_id, h.timestamp_ms, &h.nonce, body),
        &Signature::from_bytes(&sig),
    )
    .map_err(|_| AuthError::BadSignature)
}

/// `N` bytes from the OS random source: the only place this crate reads it.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source works");
    b
}

/// A fresh high-entropy secret for one-time use (enrolment secrets, session tokens).
pub fn random_token() -> String {
    hex::encode(random_bytes::<24>())
}

/// SHA-256 in hex: how high-entropy secrets are stored (never in plain text).
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_with_a_given_nonce_is_deterministic() {
        let k = KioskKey::from_secret("K-01", &[7; 32]);
        let a = k.sign_with_nonce("POST", "/x", b"{}", 1_000, [1; 16]);
        let b = k.sign_with_nonce("POST", "/x", b"{}", 1_000, [1; 16]);
        assert_eq!((&a.nonce, &a.signature), (&b.nonce, &b.signature));
        assert_eq!(a.nonce, "01".repeat(16));
        verify(&k.public_key_b64(), &a, "POST", "/x", b"{}", 1_000).unwrap();
        let c = k.sign_with_nonce("POST", "/x", b"{}", 1_000, [2; 16]);
        assert_ne!(a.signature, c.signature, "the nonce is signed");
    }

    #[test]
    fn sign_and_verify() {
        let k = KioskKey::generate("K-01");
        let pk = k.public_key_b64();
        let h = k.sign("POST", "/api/v1/kiosk/events", b"{}", 1_000_000);
        verify(
            &pk,
            &h,
            "POST",
            "/api/v1/kiosk/events",
            b"{}",
            1_000_000 + 1000,
        )
        .unwrap();
        assert_eq!(
            verify(&pk, &h, "POST", "/api/v1/kiosk/events", b"{ }", 1_000_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(&pk, &h, "POST", "/api/v1/kiosk/lookup", b"{}", 1_000_000),
            Err(AuthError::BadSignature)
        );
        assert!(matches!(
            verify(
                &pk,
                &h,
                "POST",
                "/api/v1/kiosk/events",
                b"{}",
                1_000_000 + MAX_SKEW_MS + 1
            ),
            Err(AuthError::Expired { .. })
        ));
        let other = KioskKey::generate("K-01");
        assert_eq!(
            verify(
                &other.public_key_b64(),
                &h,
                "POST",
                "/api/v1/kiosk/events",
                b"{}",
                1_000_000
            ),
            Err(AuthError::BadSignature)
        );
        let mut forged = h.clone();
        forged.kiosk_id = "K-02".into();
        assert_eq!(
            verify(
                &pk,
                &forged,
                "POST",
                "/api/v1/kiosk/events",
                b"{}",
                1_000_000
            ),
            Err(AuthError::BadSignature)
        );
    }
}
