//! Signed, expiring links for pages without a login: the patient's phone
//! page (`v<visit>`) and a room screen (`s<campus>.<room>`). The token is
//! `<subject>~<expiry, unix seconds>~<MAC>`, the MAC an HMAC-SHA256 under
//! the vault's index key with its own domain tag (`IndexKind::LinkToken`),
//! so only this service makes them and any instance checks them.

use chrono::{DateTime, Utc};
use exam_vault::{IndexKind, KeyRing};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A visit's phone page.
    Visit(i64),
    /// A room's screen.
    Screen { campus: String, room: String },
}

impl Subject {
    fn encode(&self) -> String {
        match self {
            Subject::Visit(id) => format!("v{id}"),
            Subject::Screen { campus, room } => format!("s{campus}.{room}"),
        }
    }
    fn decode(s: &str) -> Option<Self> {
        if let Some(id) = s.strip_prefix('v') {
            return id.parse().ok().map(Subject::Visit);
        }
        let (campus, room) = s.strip_prefix('s')?.split_once('.')?;
        Some(Subject::Screen {
            campus: campus.into(),
            room: room.into(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not valid")]
    Invalid,
    #[error("this link has expired")]
    Expired,
}

fn mac(keys: &KeyRing, body: &str) -> String {
    keys.blind_index(IndexKind::LinkToken, body)[..32].to_string()
}

fn safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub fn sign(keys: &KeyRing, subject: &Subject, expires: DateTime<Utc>) -> String {
    let body = format!("{}~{}", subject.encode(), expires.timestamp());
    format!("{body}~{}", mac(keys, &body))
}

pub fn verify(keys: &KeyRing, token: &str, now: DateTime<Utc>) -> Result<Subject, LinkError> {
    let (body, tag) = token.rsplit_once('~').ok_or(LinkError::Invalid)?;
    let (subject, exp) = body.split_once('~').ok_or(LinkError::Invalid)?;
    if !safe(subject) || tag.len() != 32 {
        return Err(LinkError::Invalid);
    }
    // Constant time: the tags are compared byte by byte without an early out.
    let want = mac(keys, body);
    let diff = want
        .bytes()
        .zip(tag.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(LinkError::Invalid);
    }
    let exp: i64 = exp.parse().map_err(|_| LinkError::Invalid)?;
    if now.timestamp() > exp {
        return Err(LinkError::Expired);
    }
    Subject::decode(subject).ok_or(LinkError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KeyRing {
        KeyRing::generate().expect("keys")
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires_and_not_when_changed() {
        let k = keys();
        let now = Utc::now();
        let s = Subject::Visit(42);
        let t = sign(&k, &s, now + chrono::Duration::hours(1));
        assert_eq!(verify(&k, &t, now), Ok(s));
        assert_eq!(
            verify(&k, &t, now + chrono::Duration::hours(2)),
            Err(LinkError::Expired)
        );
        let forged = t.replacen("v42", "v43", 1);
        assert_eq!(verify(&k, &forged, now), Err(LinkError::Invalid));
        let screen = Subject::Screen {
            campus: "main".into(),
            room: "us1".into(),
        };
        let t = sign(&k, &screen, now + chrono::Duration::days(1));
        assert_eq!(verify(&k, &t, now), Ok(screen));
        for bad in ["", "~~", "v1~x~y", "v1~99999999999~0000"] {
            assert_eq!(verify(&k, bad, now), Err(LinkError::Invalid), "{bad}");
        }
    }
}
