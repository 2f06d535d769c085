//! The simulator's identities: a merchant (key pair, serial, mchid, appid,
//! APIv3 key) and the platform (key pair, `PUB_KEY_ID_...`). Generated at
//! start, or loaded from a directory where a previous start wrote them, so
//! a merchant-side process (the service, the Python SDK) can read its part.
//! These are test identities made on this machine: nothing here is a real
//! merchant's secret, and none of it is committed.

use std::path::Path;

use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{
    ApiV3Key, generate_rsa_key, private_key_from_pem, private_key_to_pem, public_key_to_pem,
};
use crate::error::PaymentError;

/// The non-secret identifiers, written as `merchant.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub mchid: String,
    pub appid: String,
    pub merchant_serial_no: String,
    pub platform_key_id: String,
}

pub struct SimKeys {
    pub id: Identity,
    pub merchant_key: RsaPrivateKey,
    pub platform_key: RsaPrivateKey,
    pub apiv3_key: ApiV3Key,
    apiv3_text: Zeroizing<String>,
}

/// File names in the keys directory.
pub const MERCHANT_KEY: &str = "merchant_private_key.pem";
pub const PLATFORM_KEY: &str = "platform_private_key.pem";
pub const PLATFORM_PUBLIC: &str = "platform_public_key.pem";
pub const APIV3_KEY: &str = "apiv3_key.txt";
pub const IDENTITY: &str = "merchant.json";

fn io(e: std::io::Error) -> PaymentError {
    PaymentError::Config(e.to_string())
}

fn write_secret(path: &Path, text: &str) -> Result<(), PaymentError> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(io)
}

impl SimKeys {
    pub fn generate(mchid: &str, appid: &str) -> Result<Self, PaymentError> {
        let (apiv3_key, apiv3_text) = ApiV3Key::generate();
        let serial = crate::crypto::nonce_str()[..16].to_string();
        let key_id = format!("PUB_KEY_ID_{}", &crate::crypto::nonce_str()[..24]);
        Ok(Self {
            id: Identity {
                mchid: mchid.into(),
                appid: appid.into(),
                merchant_serial_no: serial,
                platform_key_id: key_id,
            },
            merchant_key: generate_rsa_key()?,
            platform_key: generate_rsa_key()?,
            apiv3_key,
            apiv3_text,
        })
    }

    pub fn merchant_public(&self) -> RsaPublicKey {
        self.merchant_key.to_public_key()
    }

    pub fn platform_public(&self) -> RsaPublicKey {
        self.platform_key.to_public_key()
    }

    /// The merchant's gateway configuration with these test identities
    /// (what a merchant configures from its real keys).
    pub fn merchant_config(
        &self,
        base_url: &str,
        notify_url: &str,
        timeout: std::time::Duration,
    ) -> crate::wechat::WechatPayConfig {
        crate::wechat::WechatPayConfig {
            base_url: base_url.to_string(),
            mchid: self.id.mchid.clone(),
            appid: self.id.appid.clone(),
            merchant_serial_no: self.id.merchant_serial_no.clone(),
            merchant_key: self.merchant_key.clone(),
            platform_key_id: self.id.platform_key_id.clone(),
            platform_key: self.platform_public(),
            apiv3_key: self.apiv3_key.clone(),
            notify_url: notify_url.to_string(),
            timeout,
        }
    }

    /// Load from `dir` if `merchant.json` is there, else generate and write.
    pub fn load_or_generate(dir: &Path, mchid: &str, appid: &str) -> Result<Self, PaymentError> {
        if dir.join(IDENTITY).exists() {
            return Self::load(dir);
        }
        let k = Self::generate(mchid, appid)?;
        k.write(dir)?;
        Ok(k)
    }

    pub fn load(dir: &Path) -> Result<Self, PaymentError> {
        let read = |n: &str| std::fs::read_to_string(dir.join(n)).map_err(io);
        let id: Identity = serde_json::from_str(&read(IDENTITY)?)
            .map_err(|e| PaymentError::Config(format!("{IDENTITY}: {e}")))?;
        let apiv3_text = Zeroizing::new(read(APIV3_KEY)?.trim().to_string());
        Ok(Self {
            id,
            merchant_key: private_key_from_pem(&read(MERCHANT_KEY)?)?,
            platform_key: private_key_from_pem(&read(PLATFORM_KEY)?)?,
            apiv3_key: ApiV3Key::from_str_key(&apiv3_text)?,
            apiv3_text,
        })
    }

    pub fn write(&self, dir: &Path) -> Result<(), PaymentError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        write_secret(
            &dir.join(MERCHANT_KEY),
            &private_key_to_pem(&self.merchant_key)?,
        )?;
        write_secret(
            &dir.join(PLATFORM_KEY),
            &private_key_to_pem(&self.platform_key)?,
        )?;
        write_secret(&dir.join(APIV3_KEY), &self.apiv3_text)?;
        std::fs::write(
            dir.join(PLATFORM_PUBLIC),
            public_key_to_pem(&self.platform_public())?,
        )
        .map_err(io)?;
        let id = serde_json::to_string_pretty(&self.id)
            .map_err(|e| PaymentError::Config(e.to_string()))?;
        std::fs::write(dir.join(IDENTITY), id).map_err(io)
    }
}
