//! Staff password hashing: Argon2id with a random salt (S2). Hashing is
//! deliberately slow, so it runs off the async threads.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub async fn hash(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .expect("argon2 with default parameters")
            .to_string()
    })
    .await
    .expect("hashing task")
}

pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, so refusing an unknown user name takes as
/// long as refusing a wrong password.
pub async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY.get_or_init(|| hash(generate())).await.clone()
}

/// A one-time password that passes the policy: four groups of random
/// characters from an unambiguous alphabet, joined by '-'.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = exam_protocol::auth::random_bytes::<16>();
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    // Guarantee three classes whatever the random draw gave.
    format!("{}-{}-{}-Aa7", &chars[..4], &chars[4..8], &chars[8..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let all: std::collections::BTreeSet<String> = (0..50).map(|_| generate()).collect();
        assert_eq!(all.len(), 50, "fifty draws, fifty passwords");
        for pw in &all {
            exam_domain::password::check("admin", pw).unwrap();
        }
    }

    #[tokio::test]
    async fn only_the_password_hashed_verifies() {
        let h = hash("Hospital-Lobby7".into()).await;
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("Hospital-Lobby7".into(), h.clone()).await);
        for wrong in ["hospital-lobby7", "Hospital-Lobby", "Hospital-Lobby7 ", ""] {
            assert!(!verify(wrong.into(), h.clone()).await, "{wrong:?}");
        }
        // A fresh salt each time: the same password, two hashes, each
        // verifying only its own password.
        let again = hash("Hospital-Lobby7".into()).await;
        assert_ne!(h, again);
        assert!(verify("Hospital-Lobby7".into(), again).await);
        // A damaged or foreign hash refuses, it does not panic.
        assert!(!verify("Hospital-Lobby7".into(), "not a hash".into()).await);
        assert!(!verify("Hospital-Lobby7".into(), h[..h.len() - 4].to_string()).await);
        assert!(!verify("x".into(), dummy_hash().await).await);
    }
}
