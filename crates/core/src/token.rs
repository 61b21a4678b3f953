//! Tokens, authorisation codes and refresh tokens: what is stored, and how long each lives.

use crate::clock::Millis;
use crate::model::PersonId;
use dingdir_proto::ids::{AppKey, CorpId};

/// What a token was issued as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// An app token (`/gettoken`, `/v1.0/oauth2/accessToken`): one per app, renewed while valid.
    App,
    /// A third-party enterprise app's token for one authorised corp: new on every request.
    Corp,
    /// A user token from the sign-in flow (or the admin API): acts for one person.
    User,
}

impl TokenKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Corp => "corp",
            Self::User => "user",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "app" => Some(Self::App),
            "corp" => Some(Self::Corp),
            "user" => Some(Self::User),
            _ => None,
        }
    }
}

/// A stored access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's [`digest`](crate::secret::digest): the store never holds the token itself.
    pub digest: String,
    /// App, corp or user token.
    pub kind: TokenKind,
    /// The app it was issued to.
    pub app_key: AppKey,
    /// The corp it acts in: the owner of an internal app, the corp of a corp token, the corp
    /// chosen at sign-in for a user token.
    pub corp_id: Option<CorpId>,
    /// The person a user token acts for.
    pub person_id: Option<PersonId>,
    /// Expiry, in milliseconds since the epoch.
    pub expires_at: Millis,
}

/// What an authorisation code or refresh token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The app.
    pub app_key: AppKey,
    /// The person.
    pub person_id: PersonId,
    /// The corp reported as `corpId` (only when the scope included `corpid`).
    pub corp_id: Option<CorpId>,
    /// The OAuth scope asked for, e.g. `openid corpid`.
    pub scope: String,
}

/// An authorisation code: single use, five minutes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRecord {
    /// The code's [`digest`](crate::secret::digest).
    pub digest: String,
    /// What it grants.
    pub grant: Grant,
    /// Expiry, in milliseconds since the epoch.
    pub expires_at: Millis,
}

/// A refresh token: single use (each refresh returns a new one), thirty days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRecord {
    /// The refresh token's [`digest`](crate::secret::digest).
    pub digest: String,
    /// What it grants.
    pub grant: Grant,
    /// Expiry, in milliseconds since the epoch.
    pub expires_at: Millis,
}

/// An app token as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAppToken {
    /// The token's [`digest`](crate::secret::digest), to look it up by.
    pub digest: String,
    /// What the token is derived from with the app's secret ([`app_token`](crate::secret::app_token));
    /// none for a token stored before tokens were derived, which cannot be given out again.
    pub nonce: Option<String>,
}

/// How long an authorisation code lives. WIRE.md §C3.
pub const CODE_TTL_MS: Millis = 5 * 60 * 1000;
/// How long a refresh token lives. WIRE.md §C3.
pub const REFRESH_TTL_MS: Millis = 30 * 24 * 3600 * 1000;
/// The default access-token lifetime. WIRE.md §C1.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 7200;
