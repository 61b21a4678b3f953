//! Argon2 checks of app secrets and passwords, off the async workers and bounded.
//!
//! An Argon2id check takes tens of milliseconds of one core and 19 MiB. Run on an async worker, a
//! flood of wrong secrets stalls every other request; run without a bound, it takes the memory
//! with it. So checks run on `concurrency` threads of their own, and a check that finds no free
//! thread is refused at once ([`Error::Overloaded`], the gateway's "system busy"). Dedicated
//! threads, each with Argon2's working memory allocated once, rather than tokio's blocking pool:
//! there every thread's allocator kept the 19 MiB it last used, and a flood of guesses took RSS
//! past 280 MiB.
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

/// One check for a hashing thread: the secret, the PHC string, and where the outcome goes.
struct Job {
    tag: [u8; 32],
    secret: String,
    hash: String,
    /// For an app secret: the app key, to derive its token key once the secret verifies.
    derive: Option<String>,
    done: tokio::sync::watch::Sender<Option<Check>>,
    permit: tokio::sync::OwnedSemaphorePermit,
}

/// What is known, and what is being checked: callers with the same (context, hash, secret)
/// while it is checked wait for that check instead of taking a place of their own, so twenty
/// workers of one app asking for its token at once cost one Argon2 check, not nineteen refusals.
#[derive(Default)]
struct Memo {
    /// Wrong outcomes (guesses), bounded.
    wrong: HashMap<[u8; 32], Check>,
    /// Right outcomes: one per secret that really verified, bounded as well.
    right: HashMap<[u8; 32], Check>,
    pending: HashMap<[u8; 32], tokio::sync::watch::Receiver<Option<Check>>>,
}

/// A check's outcome: whether the secret matched, and for an app secret that did, the key its
/// tokens are derived with ([`crate::secret::app_token_key`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Check {
    pub(crate) ok: bool,
    pub(crate) app_token_key: Option<[u8; 32]>,
}

/// The bounded Argon2 checker.
pub(crate) struct Verifier {
    permits: Arc<tokio::sync::Semaphore>,
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
    key: [u8; 32],
    memo: Arc<Mutex<Memo>>,
}

impl Verifier {
    /// A checker running at most `concurrency` (at least one) Argon2 checks at once.
    pub(crate) fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        let mut key = [0u8; 32];
        // Without the OS random source the memo key is fixed; the memo stays correct, and it
        // never leaves the process.
        let _ = getrandom::fill(&mut key);
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let memo = Arc::new(Mutex::new(Memo::default()));
        for i in 0..concurrency {
            let rx = Arc::clone(&rx);
            let memo = Arc::clone(&memo);
            // A thread that cannot be started leaves fewer threads; the permits still bound the
            // queue, and each job waits for a free thread.
            let _ = std::thread::Builder::new()
                .name(format!("dingdir-argon2-{i}"))
                .spawn(move || {
                    let mut blocks = Vec::new();
                    loop {
                        // The lock is held only to take a job, never while hashing.
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(job) = job else { return };
                        let ok = crate::secret::verify_reusing(&job.secret, &job.hash, &mut blocks);
                        let app_token_key = match &job.derive {
                            Some(app) if ok => crate::secret::app_token_key(&job.secret, app, &mut blocks),
                            Some(_) | None => None,
                        };
                        let check = Check { ok, app_token_key };
                        {
                            let mut memo = memo.lock().unwrap_or_else(PoisonError::into_inner);
                            memo.pending.remove(&job.tag);
                            // Right and wrong outcomes are kept apart: a flood of distinct
                            // guesses empties only the wrong ones, never a verified secret.
                            let kept = if ok { &mut memo.right } else { &mut memo.wrong };
                            if kept.len() >= MEMO_CAPACITY {
                                kept.clear();
                            }
                            kept.insert(job.tag, check);
                        }
                        // The place is free before the callers hear the outcome, so a client
                        // asking again at once finds it free.
                        drop(job.permit);
                        let _ = job.done.send(Some(check));
                    }
                });
        }
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(concurrency)),
            jobs: Mutex::new(tx),
            key,
            memo,
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
        Ok(self.check(context, secret, hash, None).await?.ok)
    }

    /// [`verify`](Self::verify) for an app secret: `Some` with the app's token key when it
    /// matches (derived with Argon2 once per process, with the check).
    pub(crate) async fn verify_app(&self, app_key: &str, secret: &str, hash: &str) -> Result<Option<[u8; 32]>, Error> {
        let check = self.check(app_key, secret, hash, Some(app_key)).await?;
        Ok(if check.ok { check.app_token_key } else { None })
    }

    async fn check(&self, context: &str, secret: &str, hash: &str, derive: Option<&str>) -> Result<Check, Error> {
        let tag = self.tag(
            if derive.is_some() { "app" } else { "account" },
            &format!("{context}\0{hash}"),
            secret,
        );
        let mut outcome = {
            let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(&known) = memo.right.get(&tag).or_else(|| memo.wrong.get(&tag)) {
                return Ok(known);
            }
            match memo.pending.get(&tag) {
                Some(checking) => checking.clone(),
                None => {
                    let permit = Arc::clone(&self.permits)
                        .try_acquire_owned()
                        .map_err(|_| Error::Overloaded)?;
                    // The job holds the place and reports to every caller: one that is dropped
                    // mid-check changes nothing, and the bound holds.
                    let (done, outcome) = tokio::sync::watch::channel(None);
                    let job = Job {
                        tag,
                        secret: secret.to_owned(),
                        hash: hash.to_owned(),
                        derive: derive.map(str::to_owned),
                        done,
                        permit,
                    };
                    self.jobs
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .send(job)
                        .map_err(|_| Error::Overloaded)?;
                    memo.pending.insert(tag, outcome.clone());
                    outcome
                }
            }
        };
        let ok = outcome.wait_for(Option::is_some).await.map_err(|_| Error::Overloaded)?;
        Ok((*ok).unwrap_or(Check {
            ok: false,
            app_token_key: None,
        }))
    }
}

/// A real Argon2id hash, verified against when the app key is unknown, so an unknown key costs
/// as much time as a wrong secret.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| crate::secret::hash("dingdir decoy").unwrap_or_default())
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

    /// Many callers with the same secret at once share one check; none is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_identical_checks_share_one_place() {
        let v = Arc::new(Verifier::new(1));
        let hash = crate::secret::hash("right").unwrap();
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let (v, hash) = (Arc::clone(&v), hash.clone());
                tokio::spawn(async move { v.verify("app", "right", &hash).await })
            })
            .collect();
        for c in calls {
            assert!(c.await.unwrap().unwrap());
        }
    }

    /// An app secret that verifies yields its slow token key, the same from memory as fresh;
    /// a wrong one yields none.
    #[tokio::test]
    async fn a_verified_app_secret_yields_its_token_key() {
        let v = Verifier::new(1);
        let hash = crate::secret::hash("right").unwrap();
        let key = v.verify_app("dingapp", "right", &hash).await.unwrap().unwrap();
        let mut blocks = Vec::new();
        assert_eq!(Some(key), crate::secret::app_token_key("right", "dingapp", &mut blocks));
        assert_eq!(v.verify_app("dingapp", "right", &hash).await.unwrap(), Some(key));
        assert_eq!(v.verify_app("dingapp", "wrong", &hash).await.unwrap(), None);
    }

    /// One caller after another never finds the place taken: it is freed before the outcome
    /// is sent.
    #[tokio::test]
    async fn sequential_checks_are_never_refused() {
        let v = Verifier::new(1);
        let hash = crate::secret::hash("right").unwrap();
        for i in 0..20 {
            assert!(
                !v.verify("app", &format!("guess {i}"), &hash).await.unwrap(),
                "check {i}"
            );
        }
    }
}
