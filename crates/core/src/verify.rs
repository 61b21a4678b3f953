//! Argon2 checks of app secrets and passwords, off the async workers and bounded.
//!
//! An Argon2id check takes tens of milliseconds of one core and 19 MiB. Run on an async worker, a
//! flood of wrong secrets stalls every other request; run without a bound, it takes the memory
//! with it. So checks run on the blocking pool, at most `concurrency` at once, and a check that
//! finds no free place is refused at once ([`Error::Overloaded`], the gateway's "system busy").
//!
//! A check's outcome is remembered under a keyed digest of (context, stored hash, secret), in
//! memory only and under a key this process drew at random: the same secret against the same
//! hash is not checked with Argon2 again, right or wrong, and a changed secret (a new hash) is
//! checked afresh. The memo is bounded; when full it is emptied, which only costs checks.

use crate::error::Error;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Outcomes remembered before the memo is emptied (about 100 bytes each).
const MEMO_CAPACITY: usize = 10_000;

/// The bounded Argon2 checker.
pub(crate) struct Verifier {
    permits: Arc<tokio::sync::Semaphore>,
    key: [u8; 32],
    memo: Mutex<HashMap<[u8; 32], bool>>,
}

impl Verifier {
    /// A checker running at most `concurrency` (at least one) Argon2 checks at once.
    pub(crate) fn new(concurrency: usize) -> Self {
        let mut key = [0u8; 32];
        // Without the OS random source the memo key is fixed; the memo stays correct, and it
        // never leaves the process.
        let _ = getrandom::fill(&mut key);
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))),
            key,
            memo: Mutex::new(HashMap::new()),
        }
    }

    fn tag(&self, context: &str, hash: &str, secret: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        for part in [context, hash, secret] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// Whether `secret` matches the PHC string `hash`. `context` (an app key, a mobile) keeps
    /// outcomes for different accounts apart when they share a hash, as unknown ones share the
    /// decoy. [`Error::Overloaded`] when every place is taken.
    pub(crate) async fn verify(&self, context: &str, secret: &str, hash: &str) -> Result<bool, Error> {
        let tag = self.tag(context, hash, secret);
        if let Some(&known) = self.memo.lock().unwrap_or_else(PoisonError::into_inner).get(&tag) {
            return Ok(known);
        }
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| Error::Overloaded)?;
        let (secret, hash) = (secret.to_owned(), hash.to_owned());
        // The permit goes with the check: a request that is dropped mid-check still holds its
        // place until Argon2 is done, so the bound holds.
        let ok = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            crate::secret::verify(&secret, &hash)
        })
        .await
        .map_err(|_| Error::Overloaded)?;
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if memo.len() >= MEMO_CAPACITY {
            memo.clear();
        }
        memo.insert(tag, ok);
        Ok(ok)
    }
}

/// Argon2 checks at once by default: half the cores, so a flood of guesses leaves the other half
/// to the requests that carry valid tokens.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outcomes_are_remembered_per_hash_and_a_full_pool_is_refused() {
        let v = Arc::new(Verifier::new(1));
        let hash = crate::secret::hash("right").unwrap();
        assert!(v.verify("app", "right", &hash).await.unwrap());
        assert!(!v.verify("app", "wrong", &hash).await.unwrap());
        // Remembered: no place is needed, even with the only place taken.
        let held = Arc::clone(&v.permits).try_acquire_owned().unwrap();
        assert!(v.verify("app", "right", &hash).await.unwrap());
        assert!(!v.verify("app", "wrong", &hash).await.unwrap());
        assert!(matches!(
            v.verify("app", "new guess", &hash).await,
            Err(Error::Overloaded)
        ));
        let other = crate::secret::hash("right").unwrap();
        assert!(
            matches!(v.verify("app", "right", &other).await, Err(Error::Overloaded)),
            "a new hash (a changed secret) is checked again"
        );
        drop(held);
        assert!(v.verify("app", "right", &other).await.unwrap());
    }
}
