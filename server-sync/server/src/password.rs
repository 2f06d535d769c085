//! Staff password hashing: Argon2id with a random salt (S2). Hashing is
//! deliberately slow, so it runs off the async threads; what a request
//! may start goes through a [`HashGate`], which bounds how many hashes run
//! at once (each takes 19 MiB) and how many requests wait for one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

/// Every hash slot is taken and the waiting line is full (or the wait ran
/// out): the caller answers "busy, retry" at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins at once: retry in a moment")]
pub struct Busy;

/// At most `slots` hashes at once; at most `max_waiting` requests waiting
/// for a slot, each for at most `wait`. The slot is held by the hashing
/// thread itself, so a request that is dropped (its client gone) keeps its
/// slot until the hash really ends: the bound is on work, not on requests.
#[derive(Debug)]
pub struct HashGate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
}

impl HashGate {
    pub fn new(slots: usize, max_waiting: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.clamp(1, Semaphore::MAX_PERMITS))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            wait,
        }
    }

    async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Busy> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let got = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match got {
            Ok(Ok(p)) => Ok(p),
            _ => Err(Busy),
        }
    }

    /// [`verify`] within the bound.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Busy> {
        let permit = self.slot().await?;
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify_now(&password, &hash)
        })
        .await
        .unwrap_or(false))
    }

    /// Checks `password` against several hashes (the password history)
    /// with one slot: whether any matches.
    pub async fn matches_any(&self, password: String, hashes: Vec<String>) -> Result<bool, Busy> {
        let permit = self.slot().await?;
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hashes.iter().any(|h| verify_now(&password, h))
        })
        .await
        .unwrap_or(true))
    }

    /// [`hash`] within the bound.
    pub async fn hash(&self, password: String) -> Result<String, Busy> {
        let permit = self.slot().await?;
        let _permit = permit;
        Ok(hash(password).await)
    }

    /// Hashes running now (for the metrics and the flood benchmark).
    pub fn busy_slots(&self, slots: usize) -> usize {
        slots.saturating_sub(self.slots.available_permits())
    }
}

fn verify_now(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

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

/// Unbounded: for tests only (requests go through a [`HashGate`]).
#[cfg(test)]
pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_now(&password, &hash))
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_gate_bounds_hashes_and_answers_busy_when_the_line_is_full() {
        let h = hash("Hospital-Lobby7".into()).await;
        let gate = Arc::new(HashGate::new(1, 2, Duration::from_secs(30)));
        // One hashing, two waiting: the fourth is told "busy" at once.
        let mut running = Vec::new();
        for _ in 0..3 {
            let (g, h) = (gate.clone(), h.clone());
            running.push(tokio::spawn(async move {
                g.verify("Hospital-Lobby7".into(), h).await
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = std::time::Instant::now();
        assert_eq!(gate.verify("x".into(), h.clone()).await, Err(Busy));
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "busy at once"
        );
        for r in running {
            assert_eq!(r.await.unwrap(), Ok(true));
        }
        // A short wait that runs out is "busy" too.
        let quick = HashGate::new(1, 8, Duration::from_millis(1));
        let slot = quick.slot().await.unwrap();
        assert_eq!(quick.verify("x".into(), h.clone()).await, Err(Busy));
        drop(slot);
        assert_eq!(quick.verify("Hospital-Lobby7".into(), h).await, Ok(true));
    }
}
