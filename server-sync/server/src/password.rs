//! Staff password hashing: Argon2id with a random salt (S2). Hashing is
//! deliberately slow, so it runs off the async threads; what a request
//! may start goes through a [`HashGate`], which bounds how many hashes run
//! at once (each takes 19 MiB) and how many requests wait for one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};
use tokio::sync::Semaphore;

/// The work memory of one Argon2 computation, kept between uses.
type Memory = Vec<Block>;

/// Stored hashes asking for more than this many 1 KiB blocks are refused
/// rather than computed (the service writes 19 MiB ones).
const MAX_BLOCKS: usize = 64 * 1024;

/// Every hash slot is taken and the waiting line is full (or the wait ran
/// out): the caller answers "busy, retry" at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins at once: retry in a moment")]
pub struct Busy;

/// At most `slots` hashes at once; at most `max_waiting` requests waiting
/// for a slot, each for at most `wait`. The slot is held by the hashing
/// thread itself, so a request that is dropped (its client gone) keeps its
/// slot until the hash really ends: the bound is on work, not on requests.
///
/// The 19 MiB each hash works in is taken from a pool and put back after,
/// so the memory is allocated once per slot and reused: what the gate
/// bounds is the memory itself, not only the number of hashes (a fresh
/// allocation per hash on a changing blocking thread would leave each
/// thread's allocator holding its own 19 MiB).
#[derive(Debug)]
pub struct HashGate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
    memory: Arc<std::sync::Mutex<Vec<Memory>>>,
}

impl HashGate {
    pub fn new(slots: usize, max_waiting: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.clamp(1, Semaphore::MAX_PERMITS))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            wait,
            memory: Arc::default(),
        }
    }

    /// Every slot taken and the waiting line full: a new request would be
    /// told "busy" (checked first, so a flood costs no store lookups).
    pub fn saturated(&self) -> bool {
        self.slots.available_permits() == 0
            && self.waiting.load(Ordering::SeqCst) >= self.max_waiting
    }

    /// Runs `f` on a blocking thread with a slot's work memory.
    async fn with_memory<T: Send + 'static>(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
        f: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Option<T> {
        let pool = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let take = |p: &std::sync::Mutex<Vec<Memory>>| {
                p.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop()
            };
            let mut memory = take(&pool).unwrap_or_default();
            let out = f(&mut memory);
            pool.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(memory);
            out
        })
        .await
        .ok()
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
        Ok(self
            .with_memory(permit, move |m| verify_in(m, &password, &hash))
            .await
            .unwrap_or(false))
    }

    /// Checks `password` against several hashes (the password history)
    /// with one slot: whether any matches.
    pub async fn matches_any(&self, password: String, hashes: Vec<String>) -> Result<bool, Busy> {
        let permit = self.slot().await?;
        Ok(self
            .with_memory(permit, move |m| {
                hashes.iter().any(|h| verify_in(m, &password, h))
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

/// Does `password` hash to the PHC string `phc`? Computed in `memory`
/// (grown to the hash's size once, then reused); the outputs compared in
/// constant time. A malformed or foreign hash is a no.
fn verify_in(memory: &mut Memory, password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .is_ok()
        && crate::staff_auth::ct_eq(&out, expected.as_bytes())
}

#[cfg(test)]
fn verify_now(password: &str, hash: &str) -> bool {
    verify_in(&mut Memory::new(), password, hash)
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
    // Letters, a digit and a symbol whatever the random draw gave.
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
