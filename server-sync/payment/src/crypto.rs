//! The v3 wire's cryptography, both directions:
//! - the merchant signs each request (`Authorization: WECHATPAY2-SHA256-RSA2048
//!   mchid=..,nonce_str=..,signature=..,timestamp=..,serial_no=..`) over
//!   `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n` with its private key;
//! - the platform signs each answer and notification (`Wechatpay-Timestamp`,
//!   `-Nonce`, `-Signature`, `-Serial`) over `TIMESTAMP\nNONCE\nBODY\n`;
//! - notification resources (and certificates) are AES-256-GCM sealed with
//!   the 32-byte APIv3 key, the nonce and associated data sent beside them.
//!
//! RSA is PKCS#1 v1.5 with SHA-256; keys travel as PKCS#8 / SPKI PEM, the
//! forms the platform hands out and the SDKs load.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::error::{NotifyError, PaymentError};

/// The only signature scheme v3 defines.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// Signed timestamps further than this from our clock are refused (replay
/// window the platform documents: five minutes).
pub const MAX_SKEW_SECS: i64 = 300;

/// A fresh RSA-2048 key (the simulator's keys, the tests' keys).
pub fn generate_rsa_key() -> Result<RsaPrivateKey, PaymentError> {
    RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
        .map_err(|e| PaymentError::Config(format!("RSA key generation: {e}")))
}

pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, PaymentError> {
    RsaPrivateKey::from_pkcs8_pem(pem.trim())
        .map_err(|e| PaymentError::Config(format!("private key (PKCS#8 PEM expected): {e}")))
}

pub fn public_key_from_pem(pem: &str) -> Result<RsaPublicKey, PaymentError> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .map_err(|e| PaymentError::Config(format!("public key (SPKI PEM expected): {e}")))
}

pub fn private_key_to_pem(key: &RsaPrivateKey) -> Result<Zeroizing<String>, PaymentError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| PaymentError::Config(format!("encoding private key: {e}")))
}

pub fn public_key_to_pem(key: &RsaPublicKey) -> Result<String, PaymentError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| PaymentError::Config(format!("encoding public key: {e}")))
}

/// Random printable nonce (32 upper-case hex characters, as the SDKs make).
pub fn nonce_str() -> String {
    let mut b = [0u8; 16];
    // The OS random source failing is not a condition to limp on.
    getrandom::fill(&mut b).unwrap_or_else(|e| panic!("OS random source: {e}"));
    hex::encode_upper(b)
}

/// 12 printable characters: the AES-GCM nonce as the platform sends it.
pub fn gcm_nonce_str() -> String {
    nonce_str()[..12].to_string()
}

/// Sign `message` (PKCS#1 v1.5, SHA-256), base64.
pub fn rsa_sign(key: &RsaPrivateKey, message: &[u8]) -> String {
    let sig = SigningKey::<Sha256>::new(key.clone()).sign(message);
    B64.encode(sig.to_bytes())
}

/// Verify a base64 signature over `message`.
pub fn rsa_verify(key: &RsaPublicKey, message: &[u8], signature_b64: &str) -> bool {
    let Ok(raw) = B64.decode(signature_b64.trim()) else {
        return false;
    };
    let Ok(sig) = Signature::try_from(raw.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(message, &sig)
        .is_ok()
}

/// What the merchant signs for a request.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    ts: i64,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{path_and_query}\n{ts}\n{nonce}\n{body}\n")
}

/// What the platform signs for an answer or a notification.
pub fn response_message(ts: i64, nonce: &str, body: &str) -> String {
    format!("{ts}\n{nonce}\n{body}\n")
}

/// The merchant's identity and key: signs requests.
#[derive(Clone)]
pub struct MerchantSigner {
    pub mchid: String,
    /// Serial number of the merchant's API certificate (upper-case hex).
    pub serial_no: String,
    key: RsaPrivateKey,
}

impl MerchantSigner {
    pub fn new(mchid: impl Into<String>, serial_no: impl Into<String>, key: RsaPrivateKey) -> Self {
        Self {
            mchid: mchid.into(),
            serial_no: serial_no.into(),
            key,
        }
    }

    /// The `Authorization` header value for one request.
    pub fn authorization(
        &self,
        method: &str,
        path_and_query: &str,
        body: &str,
        ts: i64,
        nonce: &str,
    ) -> String {
        let sig = rsa_sign(
            &self.key,
            request_message(method, path_and_query, ts, nonce, body).as_bytes(),
        );
        format!(
            "{SCHEME} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{sig}\",timestamp=\"{ts}\",serial_no=\"{}\"",
            self.mchid, self.serial_no
        )
    }
}

/// The parts of a merchant `Authorization` header (the platform side parses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub mchid: String,
    pub nonce_str: String,
    pub signature: String,
    pub timestamp: i64,
    pub serial_no: String,
}

impl Authorization {
    /// Parse `WECHATPAY2-SHA256-RSA2048 k="v",k="v",...`; `None` when it is
    /// not that scheme or a field is missing.
    pub fn parse(header: &str) -> Option<Self> {
        let rest = header.strip_prefix(SCHEME)?.strip_prefix(' ')?;
        let (mut mchid, mut nonce, mut sig, mut ts, mut serial) = (None, None, None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=')?;
            let v = v.strip_prefix('"')?.strip_suffix('"')?.to_string();
            match k {
                "mchid" => mchid = Some(v),
                "nonce_str" => nonce = Some(v),
                "signature" => sig = Some(v),
                "timestamp" => ts = Some(v.parse().ok()?),
                "serial_no" => serial = Some(v),
                _ => {}
            }
        }
        Some(Self {
            mchid: mchid?,
            nonce_str: nonce?,
            signature: sig?,
            timestamp: ts?,
            serial_no: serial?,
        })
    }

    pub fn verify(
        &self,
        key: &RsaPublicKey,
        method: &str,
        path_and_query: &str,
        body: &str,
    ) -> bool {
        let msg = request_message(
            method,
            path_and_query,
            self.timestamp,
            &self.nonce_str,
            body,
        );
        rsa_verify(key, msg.as_bytes(), &self.signature)
    }
}

/// The platform's key as the merchant knows it: verifies answers and
/// notifications. `key_id` is the serial the platform puts in
/// `Wechatpay-Serial` (a `PUB_KEY_ID_...` in public-key mode).
#[derive(Clone)]
pub struct PlatformVerifier {
    pub key_id: String,
    key: RsaPublicKey,
}

/// The four signature headers of an answer or a notification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
    /// `Wechatpay-Signature-Type`; absent means the only scheme there is.
    pub signature_type: Option<String>,
}

impl SignedHeaders {
    /// From (name, value) pairs, names case-insensitive (HTTP/2 lower-cases them).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, NotifyError> {
        let (mut ts, mut nonce, mut sig, mut serial, mut ty) = (None, None, None, None, None);
        for (k, v) in pairs {
            let v = v.to_string();
            match k.to_ascii_lowercase().as_str() {
                "wechatpay-timestamp" => ts = Some(v),
                "wechatpay-nonce" => nonce = Some(v),
                "wechatpay-signature" => sig = Some(v),
                "wechatpay-serial" => serial = Some(v),
                "wechatpay-signature-type" => ty = Some(v),
                _ => {}
            }
        }
        Ok(Self {
            timestamp: ts.ok_or(NotifyError::MissingHeader("Wechatpay-Timestamp"))?,
            nonce: nonce.ok_or(NotifyError::MissingHeader("Wechatpay-Nonce"))?,
            signature: sig.ok_or(NotifyError::MissingHeader("Wechatpay-Signature"))?,
            serial: serial.ok_or(NotifyError::MissingHeader("Wechatpay-Serial"))?,
            signature_type: ty,
        })
    }

    pub fn from_header_map(map: &reqwest::header::HeaderMap) -> Result<Self, NotifyError> {
        Self::from_pairs(
            map.iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
        )
    }
}

impl PlatformVerifier {
    pub fn new(key_id: impl Into<String>, key: RsaPublicKey) -> Self {
        Self {
            key_id: key_id.into(),
            key,
        }
    }

    /// Check an answer's or a notification's signature over `body`; `now` is
    /// unix seconds (a parameter so the replay window is testable).
    pub fn verify(&self, h: &SignedHeaders, body: &str, now: i64) -> Result<(), NotifyError> {
        if let Some(t) = &h.signature_type
            && t != SCHEME
        {
            return Err(NotifyError::SignatureType(t.clone()));
        }
        if h.serial != self.key_id {
            return Err(NotifyError::UnknownSerial(h.serial.clone()));
        }
        let ts: i64 = h
            .timestamp
            .trim()
            .parse()
            .map_err(|_| NotifyError::Malformed("timestamp is not a number".into()))?;
        if (now - ts).abs() > MAX_SKEW_SECS {
            return Err(NotifyError::StaleTimestamp);
        }
        let msg = response_message(ts, &h.nonce, body);
        if rsa_verify(&self.key, msg.as_bytes(), &h.signature) {
            Ok(())
        } else {
            Err(NotifyError::BadSignature)
        }
    }
}

/// The platform's signing side (the simulator).
#[derive(Clone)]
pub struct PlatformSigner {
    pub key_id: String,
    key: RsaPrivateKey,
}

impl PlatformSigner {
    pub fn new(key_id: impl Into<String>, key: RsaPrivateKey) -> Self {
        Self {
            key_id: key_id.into(),
            key,
        }
    }

    pub fn sign(&self, body: &str, ts: i64) -> SignedHeaders {
        let nonce = nonce_str();
        let signature = rsa_sign(&self.key, response_message(ts, &nonce, body).as_bytes());
        SignedHeaders {
            timestamp: ts.to_string(),
            nonce,
            signature,
            serial: self.key_id.clone(),
            signature_type: Some(SCHEME.to_string()),
        }
    }
}

/// The merchant's APIv3 key: 32 bytes, handed out as 32 printable characters.
#[derive(Clone)]
pub struct ApiV3Key(Zeroizing<[u8; 32]>);

impl ApiV3Key {
    pub fn from_str_key(s: &str) -> Result<Self, PaymentError> {
        let b: [u8; 32] = s
            .trim()
            .as_bytes()
            .try_into()
            .map_err(|_| PaymentError::Config("APIv3 key must be exactly 32 bytes".into()))?;
        Ok(Self(Zeroizing::new(b)))
    }

    /// A random key of 32 alphanumeric characters.
    pub fn generate() -> (Self, Zeroizing<String>) {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).unwrap_or_else(|e| panic!("OS random source: {e}"));
        let mut s = Zeroizing::new(String::with_capacity(32));
        for b in raw {
            s.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
        }
        let key = Self::from_str_key(&s).unwrap_or_else(|_| unreachable!("32 ASCII characters"));
        (key, s)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(self.0.as_slice()).unwrap_or_else(|_| unreachable!("32-byte key"))
    }

    /// Decrypt a base64 `ciphertext` (with its 16-byte tag at the end).
    pub fn decrypt(
        &self,
        associated_data: &str,
        nonce: &str,
        ciphertext_b64: &str,
    ) -> Result<Vec<u8>, NotifyError> {
        let n: [u8; 12] = nonce
            .as_bytes()
            .try_into()
            .map_err(|_| NotifyError::Malformed("GCM nonce must be 12 bytes".into()))?;
        let ct = B64
            .decode(ciphertext_b64.trim())
            .map_err(|_| NotifyError::Malformed("ciphertext is not base64".into()))?;
        self.cipher()
            .decrypt(
                &Nonce::from(n),
                Payload {
                    msg: &ct,
                    aad: associated_data.as_bytes(),
                },
            )
            .map_err(|_| NotifyError::Decrypt)
    }

    /// Encrypt (the platform side); returns base64 ciphertext + tag.
    pub fn encrypt(
        &self,
        associated_data: &str,
        nonce: &str,
        plaintext: &[u8],
    ) -> Result<String, PaymentError> {
        let n: [u8; 12] = nonce
            .as_bytes()
            .try_into()
            .map_err(|_| PaymentError::Config("GCM nonce must be 12 bytes".into()))?;
        let ct = self
            .cipher()
            .encrypt(
                &Nonce::from(n),
                Payload {
                    msg: plaintext,
                    aad: associated_data.as_bytes(),
                },
            )
            .map_err(|_| PaymentError::Config("AES-GCM encryption failed".into()))?;
        Ok(B64.encode(ct))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One key for the module's tests: RSA generation is slow in debug builds.
    pub(crate) fn test_key() -> &'static RsaPrivateKey {
        static K: OnceLock<RsaPrivateKey> = OnceLock::new();
        K.get_or_init(|| generate_rsa_key().unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn authorization_round_trip_and_tamper() {
        let key = test_key();
        let signer = MerchantSigner::new(
            "1900000001",
            "5157F09EFDC096DE15EBE81A47057A72",
            key.clone(),
        );
        let h = signer.authorization(
            "POST",
            "/v3/pay/transactions/native",
            "{\"a\":1}",
            1_700_000_000,
            "N1",
        );
        let a = Authorization::parse(&h).unwrap_or_else(|| panic!("parse {h}"));
        assert_eq!(a.mchid, "1900000001");
        assert_eq!(a.timestamp, 1_700_000_000);
        let pubk = key.to_public_key();
        assert!(a.verify(&pubk, "POST", "/v3/pay/transactions/native", "{\"a\":1}"));
        assert!(!a.verify(&pubk, "POST", "/v3/pay/transactions/native", "{\"a\":2}"));
        assert!(!a.verify(&pubk, "GET", "/v3/pay/transactions/native", "{\"a\":1}"));
        assert!(Authorization::parse("Bearer x").is_none());
        assert!(Authorization::parse(&h.replace("serial_no", "serial")).is_none());
    }

    #[test]
    fn platform_signature_window_and_serial() {
        let key = test_key();
        let signer = PlatformSigner::new("PUB_KEY_ID_01", key.clone());
        let verifier = PlatformVerifier::new("PUB_KEY_ID_01", key.to_public_key());
        let h = signer.sign("{}", 1000);
        assert_eq!(verifier.verify(&h, "{}", 1000 + MAX_SKEW_SECS), Ok(()));
        assert_eq!(
            verifier.verify(&h, "{}", 1000 + MAX_SKEW_SECS + 1),
            Err(NotifyError::StaleTimestamp)
        );
        assert_eq!(
            verifier.verify(&h, "{ }", 1000),
            Err(NotifyError::BadSignature)
        );
        let other = PlatformVerifier::new("PUB_KEY_ID_02", key.to_public_key());
        assert!(matches!(
            other.verify(&h, "{}", 1000),
            Err(NotifyError::UnknownSerial(_))
        ));
        let mut wrong = h.clone();
        wrong.signature_type = Some("SM2".into());
        assert!(matches!(
            verifier.verify(&wrong, "{}", 1000),
            Err(NotifyError::SignatureType(_))
        ));
    }

    #[test]
    fn pem_round_trip() {
        let key = test_key();
        let pem = private_key_to_pem(key).unwrap_or_else(|e| panic!("{e}"));
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = private_key_from_pem(&pem).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&back, key);
        let p = public_key_to_pem(&key.to_public_key()).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(public_key_from_pem(&p).ok(), Some(key.to_public_key()));
    }

    #[test]
    fn gcm_round_trip_and_wrong_inputs() {
        let (k, _) = ApiV3Key::generate();
        let ct = k
            .encrypt("transaction", "0123456789ab", b"hello")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            k.decrypt("transaction", "0123456789ab", &ct),
            Ok(b"hello".to_vec())
        );
        assert_eq!(
            k.decrypt("refund", "0123456789ab", &ct),
            Err(NotifyError::Decrypt)
        );
        assert_eq!(
            k.decrypt("transaction", "0123456789ac", &ct),
            Err(NotifyError::Decrypt)
        );
        let (other, _) = ApiV3Key::generate();
        assert_eq!(
            other.decrypt("transaction", "0123456789ab", &ct),
            Err(NotifyError::Decrypt)
        );
        assert!(ApiV3Key::from_str_key("short").is_err());
    }

    /// A known answer: AES-256-GCM of the empty message with the all-zero key
    /// and nonce (NIST test case 13) — proves the layout is standard GCM with
    /// the tag appended, which is what the platform and the SDKs use.
    #[test]
    fn gcm_known_answer() {
        let k = ApiV3Key(Zeroizing::new([0u8; 32]));
        let nonce = String::from_utf8(vec![0u8; 12]).unwrap_or_default();
        let ct = k.encrypt("", &nonce, b"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            hex::encode(B64.decode(ct).unwrap_or_default()),
            "530f8afbc74536b9a963b4f1c4cb738b"
        );
    }
}
