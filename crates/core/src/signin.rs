//! The browser sign-in's rules: which authorise requests are acceptable, who may sign in to
//! which app, and how repeated wrong passwords are slowed down.

use crate::clock::Millis;
use crate::error::Error;
use crate::mobile::Mobile;
use crate::model::{App, AppKind, MemberStatus, Person, PersonId};
use crate::service::Service;
use dingdir_proto::ids::AppKey;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The query of `GET /oauth2/auth`. WIRE.md §C3.
#[derive(Clone, Debug, Default)]
pub struct AuthorizeRequest {
    /// The app key.
    pub client_id: Option<String>,
    /// Where to send the browser back; must be registered.
    pub redirect_uri: Option<String>,
    /// Must be `code`.
    pub response_type: Option<String>,
    /// `openid` or `openid corpid`.
    pub scope: Option<String>,
    /// Echoed back on the redirect.
    pub state: Option<String>,
}

/// An authorise request that passed every check.
#[derive(Clone, Debug)]
pub struct Authorize {
    /// The app asking.
    pub app: App,
    /// The registered redirect URI it will go back to.
    pub redirect_uri: String,
    /// The normalised scope (`openid` or `openid corpid`).
    pub scope: String,
    /// The caller's state, echoed back.
    pub state: String,
}

/// Why an authorise request is refused; these show an error page and never redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// No app has this client id.
    #[error("unknown client_id")]
    UnknownClient,
    /// The redirect URI is not registered for the app.
    #[error("redirect_uri is not registered for this app")]
    BadRedirectUri,
    /// `response_type` is not `code`.
    #[error("response_type must be code")]
    BadResponseType,
    /// `scope` is not `openid` or `openid corpid`.
    #[error("scope must be openid or openid corpid")]
    BadScope,
}

/// Why a sign-in is refused; these show the sign-in page again.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown mobile, no password set, or wrong password (one error, so accounts do not leak).
    #[error("wrong mobile or password")]
    WrongPassword,
    /// Too many wrong passwords for this account lately.
    #[error("too many attempts")]
    TooManyAttempts,
    /// The app does not sign this person in (an internal app signs in only its corp's members).
    #[error("not a member of an organisation this app is installed in")]
    NotAMember,
    /// The store failed.
    #[error(transparent)]
    Domain(#[from] Error),
}

/// Failures before an account is slowed down, and the longest wait.
const FREE_ATTEMPTS: u32 = 5;
const MAX_WAIT_MS: Millis = 5 * 60 * 1000;
/// Accounts the throttle tracks at once. An entry is forgotten once its last failure is older
/// than the longest wait; a throttle full of live entries refuses attempts on accounts it does
/// not track yet, rather than forget one that is under attack.
const MAX_ENTRIES: usize = 10_000;

/// Counts recent wrong passwords per account (a well-formed mobile), in memory on each node.
///
/// An attempt is counted when it starts and forgiven when it succeeds, so
/// concurrent guesses cannot slip past the count. No request can poison the lock: nothing under
/// it can panic, and a poisoned lock is taken over rather than treated as "no throttle".
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Millis)>>,
}

/// How long an account with `n` failures, the last at `last`, must still wait at `now`.
fn wait_ms(n: u32, last: Millis, now: Millis) -> Millis {
    if n < FREE_ATTEMPTS {
        return 0;
    }
    let wait = (1000_i64 << (n - FREE_ATTEMPTS).min(16)).min(MAX_WAIT_MS);
    last.saturating_add(wait).saturating_sub(now).max(0)
}

impl Throttle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Millis)>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts an attempt on `key`: `false` when the account must wait; otherwise the attempt is
    /// counted as a failure until [`succeed`](Self::succeed) or [`undo`](Self::undo).
    fn begin(&self, key: &str, now: Millis) -> bool {
        let mut map = self.map();
        if let Some(&(n, last)) = map.get(key) {
            if wait_ms(n, last, now) > 0 {
                return false;
            }
        } else if map.len() >= MAX_ENTRIES {
            map.retain(|_, &mut (_, last)| now.saturating_sub(last) < MAX_WAIT_MS);
            if map.len() >= MAX_ENTRIES {
                return false;
            }
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        *entry = (entry.0.saturating_add(1), now);
        true
    }

    /// The attempt succeeded: the account starts afresh.
    fn succeed(&self, key: &str) {
        self.map().remove(key);
    }

    /// The attempt could not be checked (the store or the checker failed): it does not count.
    fn undo(&self, key: &str) {
        let mut map = self.map();
        if let Some(entry) = map.get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
            if entry.0 == 0 {
                map.remove(key);
            }
        }
    }

    /// How many accounts are tracked.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether no account is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Service {
    /// Checks `GET /oauth2/auth`'s parameters against the registered app.
    pub async fn check_authorize(&self, req: &AuthorizeRequest) -> Result<Authorize, AuthorizeError> {
        let client = req.client_id.as_deref().unwrap_or_default();
        let app = match self.store().app(&AppKey(client.to_owned())).await {
            Ok(Some(app)) if !client.is_empty() => app,
            _ => return Err(AuthorizeError::UnknownClient),
        };
        let redirect_uri = req.redirect_uri.clone().unwrap_or_default();
        if !app.redirect_uris.contains(&redirect_uri) {
            return Err(AuthorizeError::BadRedirectUri);
        }
        if req.response_type.as_deref() != Some("code") {
            return Err(AuthorizeError::BadResponseType);
        }
        let mut parts: Vec<&str> = req
            .scope
            .as_deref()
            .unwrap_or_default()
            .split([' ', '+'])
            .filter(|s| !s.is_empty())
            .collect();
        parts.sort_unstable();
        parts.dedup();
        let scope = match parts.as_slice() {
            ["openid"] => "openid",
            ["corpid", "openid"] => "openid corpid",
            _ => return Err(AuthorizeError::BadScope),
        };
        Ok(Authorize {
            app,
            redirect_uri,
            scope: scope.to_owned(),
            state: req.state.clone().unwrap_or_default(),
        })
    }

    /// Signs a person in with mobile and password, for `app`.
    ///
    /// A malformed mobile is refused before anything is counted or remembered (it cannot be an
    /// account). Every well-formed mobile costs one Argon2 check, against the account's hash or
    /// a decoy, so the answer's timing does not tell which mobiles have accounts.
    pub async fn sign_in(&self, app: &App, mobile: &str, password: &str) -> Result<Person, SignInError> {
        // People type spaces into forms; the sign-in page forgives what the API does not.
        let Ok(mobile) = Mobile::parse(mobile.trim()) else {
            return Err(SignInError::WrongPassword);
        };
        let key = mobile.to_string();
        if !self.throttle.begin(&key, self.now()) {
            return Err(SignInError::TooManyAttempts);
        }
        let checked = self.check_password(&key, &mobile, password).await;
        match checked {
            Ok(Some(person)) => {
                self.throttle.succeed(&key);
                self.admit(app, person).await
            }
            Ok(None) => Err(SignInError::WrongPassword),
            Err(e) => {
                self.throttle.undo(&key);
                Err(SignInError::Domain(e))
            }
        }
    }

    /// The normal account with `mobile`, when `password` is its password.
    async fn check_password(&self, key: &str, mobile: &Mobile, password: &str) -> Result<Option<Person>, Error> {
        let person = self.store().person_by_mobile(mobile).await?;
        let hash = person.as_ref().and_then(|p| p.password_hash.as_deref());
        let has_password = hash.is_some();
        let ok = self
            .verifier
            .verify(key, password, hash.unwrap_or(crate::service::decoy_hash()))
            .await?;
        Ok(person.filter(|_| ok && has_password))
    }

    /// A single-use consent ticket for a person who just signed in: a fresh nonce, of which the
    /// store keeps only the digest, valid for `ttl_ms`.
    pub async fn issue_consent_ticket(&self, ttl_ms: Millis) -> Result<String, Error> {
        let nonce = crate::secret::random_hex(16).map_err(|e| Error::Store(crate::StoreError::Other(Box::new(e))))?;
        self.store()
            .insert_ticket(&crate::secret::digest(&nonce), self.now().saturating_add(ttl_ms))
            .await?;
        Ok(nonce)
    }

    /// Spends a consent ticket: `true` the first time, while it is valid; `false` ever after.
    pub async fn spend_consent_ticket(&self, nonce: &str) -> Result<bool, Error> {
        Ok(self
            .store()
            .redeem_ticket(&crate::secret::digest(nonce), self.now())
            .await?)
    }

    /// Signs a person in without a password (the `dev` one-click choices).
    pub async fn sign_in_as(&self, app: &App, person: &PersonId) -> Result<Person, SignInError> {
        let person = self
            .store()
            .person(person)
            .await
            .map_err(Error::from)?
            .ok_or(SignInError::WrongPassword)?;
        self.admit(app, person).await
    }

    /// An internal app signs in only active members of its corp; a third-party enterprise app
    /// only active members of a corp that authorised it; a personal app anyone.
    async fn admit(&self, app: &App, person: Person) -> Result<Person, SignInError> {
        if app.kind == AppKind::ThirdPartyPersonal {
            return Ok(person);
        }
        let installed = app.installed_in();
        let memberships = self.store().memberships_of(&person.id).await.map_err(Error::from)?;
        let member = memberships
            .iter()
            .any(|m| m.status == MemberStatus::Active && installed.contains(&m.corp_id));
        if member {
            Ok(person)
        } else {
            Err(SignInError::NotAMember)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_slows_down_after_five_failures_and_doubles() {
        let t = Throttle::default();
        for i in 0..5 {
            assert!(t.begin("k", 1000 + i), "attempt {i} is free");
        }
        assert!(!t.begin("k", 1004), "the sixth waits a second");
        assert!(!t.begin("k", 2003));
        assert!(t.begin("k", 2004));
        assert!(!t.begin("k", 2004), "then two seconds");
        assert!(t.begin("other", 2004));
        t.succeed("k");
        assert!(t.begin("k", 2004), "a success starts afresh");
    }

    #[test]
    fn an_attempt_that_could_not_be_checked_does_not_count() {
        let t = Throttle::default();
        for _ in 0..10 {
            assert!(t.begin("k", 0));
            t.undo("k");
        }
        assert!(t.is_empty());
    }

    #[test]
    fn throttle_time_saturates_instead_of_wrapping() {
        let t = Throttle::default();
        for _ in 0..5 {
            assert!(t.begin("k", i64::MAX - 1));
        }
        assert!(!t.begin("k", i64::MAX - 1), "the wait saturates at the end of time");
        assert!(t.begin("k", i64::MAX), "and has passed there");
        assert!(t.begin("j", i64::MIN));
        assert_eq!(wait_ms(30, i64::MAX, i64::MIN), i64::MAX);
    }

    #[test]
    fn throttle_is_bounded_and_forgets_stale_entries() {
        let t = Throttle::default();
        for i in 0..MAX_ENTRIES {
            assert!(t.begin(&format!("m{i}"), 0));
        }
        assert!(!t.begin("new", 1), "full of live entries: a new account is refused");
        assert!(t.begin("m0", 1), "a tracked account still counts");
        assert!(t.begin("new", MAX_WAIT_MS), "stale entries are forgotten");
        assert!(t.len() <= 2, "{} entries left", t.len());
    }
}
