//! dingdir's own admin API under `/_dingdir/`, behind an admin token (`Authorization: Bearer`).
//! Ours, versioned by us: fields are added, never renamed.

use serde::{Deserialize, Serialize};

/// Paths of the admin API.
pub mod path {
    /// `GET`: liveness and readiness together (no token needed).
    pub const HEALTH: &str = "/_dingdir/health";
    /// `GET`: the process answers (no token needed).
    pub const HEALTH_LIVE: &str = "/_dingdir/health/live";
    /// `GET`: the store answers (no token needed).
    pub const HEALTH_READY: &str = "/_dingdir/health/ready";
    /// `POST` a YAML seed: apply it.
    pub const SEED: &str = "/_dingdir/seed";
    /// `GET`: the whole directory as a YAML seed.
    pub const EXPORT: &str = "/_dingdir/export";
    /// `POST`: empty the store and re-apply the startup seed (`dev` only).
    pub const RESET: &str = "/_dingdir/reset";
    /// `POST`: mint a user access token for an (app, person) pair, without the browser.
    pub const USER_TOKENS: &str = "/_dingdir/tokens/user";
    /// `POST`: move the server's clock forward (only when started with `--test-clock`, or in `dev`).
    pub const CLOCK: &str = "/_dingdir/clock";
    /// `POST`: an in-app sign-in code (免登授权码) for a member, as `dd.getAuthCode` gives one.
    pub const AUTH_CODES: &str = "/_dingdir/auth-codes";
    /// `PUT`: set the suite ticket a third-party enterprise app must present for corp tokens.
    pub const SUITE_TICKET: &str = "/_dingdir/apps/{appKey}/suite-ticket";
    /// `GET`: requests served and store reads made by this node.
    pub const METRICS: &str = "/_dingdir/metrics";
    /// Every admin path starts with this.
    pub const PREFIX: &str = "/_dingdir/";
}

/// Answer of the health endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"` or `"unavailable"`.
    pub status: String,
    /// Whether the store answered (absent on `live`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// The server's version.
    pub version: String,
}

/// Error body of the admin API: the new gateway's shape, so one parser reads both.
pub type AdminError = crate::api::ApiError;

/// Answer of applying a seed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplySummary {
    /// Corps in the seed.
    pub corps: u64,
    /// Apps in the seed.
    pub apps: u64,
    /// People in the seed.
    pub people: u64,
    /// Memberships in the seed.
    pub memberships: u64,
}

/// Request to mint a user token: the app, and the person by membership or mobile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintUserTokenRequest {
    /// The app's key.
    pub app_key: String,
    /// The corp of `userid`, and the corp reported as `corpId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
    /// The person's userid in `corp_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
    /// The person's mobile, as national digits or `+CC-NNNN` (normal accounts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// The OAuth scope: `openid` or `openid corpid` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Request for an in-app sign-in code: the app that will redeem it and the member it names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintAuthCodeRequest {
    /// The app's key.
    pub app_key: String,
    /// The member's corp; optional for an internal app (its own corp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
    /// The member's userid.
    pub userid: String,
}

/// An in-app sign-in code: single use, for the app that asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    /// The code, for `/topapi/v2/user/getuserinfo` or `/user/getuserinfo`.
    pub code: String,
    /// Seconds it stays valid: 300.
    pub expires_in: u64,
}

/// Request to move the clock.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvanceClock {
    /// Seconds to move forward.
    pub advance_secs: u64,
}

/// The clock after a move.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    /// How far the clock is ahead of the system clock, in seconds.
    pub offset_secs: i64,
    /// The clock's time, in milliseconds since the epoch.
    pub now_ms: i64,
}

/// A suite ticket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteTicket {
    /// The ticket the suite must send as `suiteTicket`.
    pub suite_ticket: String,
}

/// Counters of one node since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Gateway requests (new, legacy and sign-in) that reached a handler or were shed.
    pub requests: u64,
    /// Reads this node made from the store.
    pub store_reads: u64,
}
