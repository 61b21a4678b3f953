//! The browser sign-in's rules: which authorise requests are acceptable, who may sign in to
//! which app, and how repeated wrong passwords are slowed down.

use crate::clock::Millis;
use crate::error::Error;
use crate::mobile::Mobile;
use crate::model::{App, AppKind, MemberStatus, Person, PersonId};
use crate::secret;
use crate::service::Service;
use dingdir_proto::ids::AppKey;
use std::collections::HashMap;
use std::sync::Mutex;

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

/// Counts recent wrong passwords per account, in memory on each node.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Millis)>>,
}

impl Throttle {
    /// How long `key` must still wait before its next attempt is checked, in milliseconds.
    fn wait_ms(&self, key: &str, now: Millis) -> Millis {
        let Ok(map) = self.failures.lock() else { return 0 };
        match map.get(key) {
            Some(&(n, last)) if n >= FREE_ATTEMPTS => {
                let wait = (1000_i64 << (n - FREE_ATTEMPTS).min(16)).min(MAX_WAIT_MS);
                (last + wait - now).max(0)
            }
            _ => 0,
        }
    }

    fn fail(&self, key: &str, now: Millis) {
        if let Ok(mut map) = self.failures.lock() {
            let entry = map.entry(key.to_owned()).or_insert((0, now));
            *entry = (entry.0.saturating_add(1), now);
        }
    }

    fn succeed(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
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
    pub async fn sign_in(&self, app: &App, mobile: &str, password: &str) -> Result<Person, SignInError> {
        // People type spaces into forms; the sign-in page forgives what the API does not.
        let mobile = mobile.trim();
        let key = Mobile::parse(mobile)
            .map(|m| m.to_string())
            .unwrap_or_else(|_| mobile.trim().to_owned());
        let now = self.now();
        if self.throttle.wait_ms(&key, now) > 0 {
            return Err(SignInError::TooManyAttempts);
        }
        let person = match Mobile::parse(mobile) {
            Ok(m) => self.store().person_by_mobile(&m).await.map_err(Error::from)?,
            Err(_) => None,
        };
        let ok = match &person {
            Some(p) => p.password_hash.as_deref().is_some_and(|h| secret::verify(password, h)),
            None => false,
        };
        match person {
            Some(p) if ok => {
                self.throttle.succeed(&key);
                self.admit(app, p).await
            }
            _ => {
                self.throttle.fail(&key, now);
                Err(SignInError::WrongPassword)
            }
        }
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
            assert_eq!(t.wait_ms("k", 1000 + i), 0);
            t.fail("k", 1000 + i);
        }
        assert_eq!(t.wait_ms("k", 1004), 1000);
        assert_eq!(t.wait_ms("k", 2004), 0);
        t.fail("k", 2004);
        assert_eq!(t.wait_ms("k", 2004), 2000);
        assert_eq!(t.wait_ms("other", 2004), 0);
        t.succeed("k");
        assert_eq!(t.wait_ms("k", 2004), 0);
    }
}
