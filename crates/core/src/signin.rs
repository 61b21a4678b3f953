//! The browser sign-in's rules: which authorise requests are acceptable, who may sign in to
//! which app, and how repeated wrong passwords are slowed down.

use crate::clock::Millis;
use crate::error::Error;
use crate::mobile::Mobile;
use crate::model::{App, AppKind, MemberStatus, Person, PersonId};
use crate::service::Service;
pub use crate::throttle::Throttle;
use dingdir_proto::ids::AppKey;

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
        let person = self.person_by_mobile(mobile).await?;
        let hash = person.as_ref().and_then(|p| p.password_hash.as_deref());
        let has_password = hash.is_some();
        let ok = self
            .verifier
            .verify(key, password, hash.unwrap_or(crate::verify::decoy_hash()))
            .await?;
        Ok(person.filter(|_| ok && has_password))
    }

    /// A single-use consent ticket for a person who just signed in: a fresh nonce, valid for
    /// `ttl_ms`. The store keeps only the digest of the nonce together with `binding` (who signed
    /// in, to which app and redirect, in which browser), so a ticket whose content was changed,
    /// even by someone who can seal forms with the store's id secret, spends nothing.
    pub async fn issue_consent_ticket(&self, ttl_ms: Millis, binding: &str) -> Result<String, Error> {
        let nonce = crate::secret::random_hex(16).map_err(|e| Error::Store(crate::StoreError::Other(Box::new(e))))?;
        self.store()
            .insert_ticket(&ticket_digest(&nonce, binding), self.now().saturating_add(ttl_ms))
            .await?;
        Ok(nonce)
    }

    /// Spends a consent ticket: `true` the first time, while it is valid and `binding` is the
    /// one it was issued with; `false` ever after.
    pub async fn spend_consent_ticket(&self, nonce: &str, binding: &str) -> Result<bool, Error> {
        Ok(self
            .store()
            .redeem_ticket(&ticket_digest(nonce, binding), self.now())
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

/// What the store keeps of a consent ticket: the digest of its nonce and what it is bound to.
fn ticket_digest(nonce: &str, binding: &str) -> String {
    crate::secret::digest(&format!("{nonce}\n{binding}"))
}
