//! The kiosk's enrolment, kept in its journal's settings table (on the data
//! partition, which survives updates). The signing key never leaves it and
//! is never logged.

use exam_protocol::auth::KioskKey;
use offline_store::{Journal, StoreError};

#[derive(Debug, Clone)]
pub struct Enrolment {
    pub key: KioskKey,
    pub server_url: String,
    pub campus: String,
    pub zone: String,
}

const KEYS: [&str; 5] = ["kiosk_id", "kiosk_key", "server_url", "campus", "zone"];

pub fn load(j: &Journal) -> Result<Option<Enrolment>, StoreError> {
    let mut v = Vec::with_capacity(KEYS.len());
    for k in KEYS {
        match j.setting(k)? {
            Some(s) => v.push(s),
            None => return Ok(None),
        }
    }
    let secret: [u8; 32] = hex::decode(&v[1])
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt("kiosk_key setting".into()))?;
    Ok(Some(Enrolment {
        key: KioskKey::from_secret(&v[0], &secret),
        server_url: v[2].clone(),
        campus: v[3].clone(),
        zone: v[4].clone(),
    }))
}

/// The key this kiosk enrols with, created and saved before the first
/// attempt so that every retry presents the same key.
pub fn pending_key(j: &mut Journal, kiosk_id: &str) -> Result<KioskKey, StoreError> {
    if let Some(hex_key) = j.setting("pending_kiosk_key")? {
        let secret: [u8; 32] = hex::decode(&hex_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| StoreError::Corrupt("pending_kiosk_key setting".into()))?;
        return Ok(KioskKey::from_secret(kiosk_id, &secret));
    }
    let key = KioskKey::generate(kiosk_id);
    j.set_setting("pending_kiosk_key", &hex::encode(key.secret_bytes()))?;
    Ok(key)
}

pub fn save(j: &mut Journal, e: &Enrolment) -> Result<(), StoreError> {
    let values = [
        e.key.kiosk_id.clone(),
        hex::encode(e.key.secret_bytes()),
        e.server_url.clone(),
        e.campus.clone(),
        e.zone.clone(),
    ];
    for (k, v) in KEYS.iter().zip(values) {
        j.set_setting(k, &v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = offline_store::Journal::open(dir.path().join("j.db")).unwrap();
        assert!(super::load(&j).unwrap().is_none());
        let e = super::Enrolment {
            key: exam_protocol::auth::KioskKey::generate("K-1"),
            server_url: "http://x".into(),
            campus: "main".into(),
            zone: "lobby".into(),
        };
        super::save(&mut j, &e).unwrap();
        let back = super::load(&j).unwrap().unwrap();
        assert_eq!(back.key.public_key_b64(), e.key.public_key_b64());
        assert_eq!(back.campus, "main");
    }
}
