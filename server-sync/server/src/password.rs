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
    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..50 {
            exam_domain::password::check("admin", &super::generate()).unwrap();
        }
    }
}
