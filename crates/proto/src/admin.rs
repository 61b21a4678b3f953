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
    /// `GET`: every metric in the Prometheus text exposition (admin or metrics token).
    pub const PROMETHEUS: &str = "/_dingdir/metrics/prometheus";
    /// `GET`: the directory at a glance.
    pub const GLANCE: &str = "/_dingdir/glance";
    /// `GET`: the inspector page; `POST`: sign in to it with the admin token.
    pub const INSPECTOR: &str = "/_dingdir/inspector";
    /// `GET`: the inspector's script.
    pub const INSPECTOR_SCRIPT: &str = "/_dingdir/inspector/app.js";
    /// `GET`: the inspector's styles.
    pub const INSPECTOR_STYLE: &str = "/_dingdir/inspector/app.css";
    /// `GET` the fault rules, `POST` one, `DELETE` them all.
    pub const FAULTS: &str = "/_dingdir/faults";
    /// `DELETE` one fault rule.
    pub const FAULT: &str = "/_dingdir/faults/{id}";
    /// `GET` journal entries (filters in the query), `DELETE` them all.
    pub const JOURNAL: &str = "/_dingdir/journal";
    /// `GET`: how many journal entries match the filters.
    pub const JOURNAL_COUNT: &str = "/_dingdir/journal/count";
    /// `GET`: matching journal entries as server-sent events, as they are recorded.
    pub const JOURNAL_FOLLOW: &str = "/_dingdir/journal/follow";
    /// `GET` the rate limits every node enforces, `PUT` a new set, `DELETE` them all.
    pub const RATE_LIMITS: &str = "/_dingdir/rate-limits";
    /// Every admin path starts with this.
    pub const PREFIX: &str = "/_dingdir/";
    /// Callback registrations with their delivery state.
    pub const CALLBACKS: &str = "/_dingdir/callbacks";
    /// One app's callback registration.
    pub const CALLBACK: &str = "/_dingdir/callbacks/{appKey}";
    /// The change log, with each entry's delivery to each subscribed app.
    pub const EVENTS: &str = "/_dingdir/events";
    /// This node's open Stream connections.
    pub const STREAM_CONNECTIONS: &str = "/_dingdir/stream/connections";
    /// Close one Stream connection.
    pub const STREAM_CLOSE_ONE: &str = "/_dingdir/stream/connections/{id}/close";
    /// Make one Stream connection a zombie.
    pub const STREAM_ZOMBIE: &str = "/_dingdir/stream/connections/{id}/zombie";
    /// Close every Stream connection on this node, or an app's.
    pub const STREAM_CLOSE: &str = "/_dingdir/stream/close";
    /// `PUT` an app's scripted ack fault on this node, `DELETE` it.
    pub const STREAM_ACKS: &str = "/_dingdir/stream/acks/{appKey}";
    /// An app's Stream delivery: its cursor and every push.
    pub const STREAM_ATTEMPTS: &str = "/_dingdir/stream/attempts";
    /// The custom group robots.
    pub const ROBOTS: &str = "/_dingdir/robots";
    /// One custom group robot, by its webhook token.
    pub const ROBOT: &str = "/_dingdir/robots/{token}";
    /// Every message taken, by conversation.
    pub const INBOX: &str = "/_dingdir/inbox";
    /// A person writes to a bot.
    pub const CHAT: &str = "/_dingdir/chat";
    /// A person reads what they were sent.
    pub const INBOX_READ: &str = "/_dingdir/inbox/read";
    /// The group chats.
    pub const GROUPS: &str = "/_dingdir/groups";
    /// An uploaded file's bytes, by media id: the `downloadUrl` messageFiles/download gives.
    pub const MEDIA: &str = "/_dingdir/media/{mediaId}";
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

/// The directory at a glance (`GET /_dingdir/glance`): its corps with their counts, its apps,
/// and how many people it holds; for the inspector page and a quick look.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Glance {
    /// Corps in corpId order, at most [`GLANCE_MAX`].
    pub corps: Vec<CorpGlance>,
    /// Apps in app-key order, at most [`GLANCE_MAX`].
    pub apps: Vec<AppGlance>,
    /// People (DingTalk accounts) in the directory.
    pub people: u64,
    /// Corps in all, shown or not.
    pub corp_count: u64,
    /// Apps in all, shown or not.
    pub app_count: u64,
}

/// The most corps and apps a glance lists.
pub const GLANCE_MAX: u64 = 500;

/// One corp at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpGlance {
    /// corpId.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Active members.
    pub members: u64,
    /// Departments, the root included.
    pub departments: u64,
}

/// One app at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppGlance {
    /// The app key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// `internal`, `third_party_enterprise` or `third_party_personal`.
    pub kind: String,
    /// The owning corp of an internal app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp: Option<String>,
}

/// A scripted fault: which gateway requests it matches, what it does to them, and when it fires.
/// Every matcher given must hold; none given matches every gateway request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The endpoint's name, as the compatibility matrix lists it (`V2UserGetByMobile`, `GetUser`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The calling app's key: the token's app, or the app key a token request sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The corp the call acts in: the token's corp, or the corp id a corp-token request sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp: Option<String>,
    /// The member the call names: its `userid` parameter, or the unionId in a
    /// `/v1.0/contact/users/{unionId}` path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Parameters (query, JSON body or form body) that must have exactly these values.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
    /// What the fault does.
    pub action: FaultAction,
    /// When it fires among the requests it matches; always, by default.
    #[serde(default)]
    pub fire: FaultFire,
}

/// What a fault does to a request it fires on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// Answer a legacy-gateway error: `{"errcode", "errmsg"}` in the endpoint's envelope (with
    /// `request_id` on `/topapi/` paths), HTTP 200 as DingTalk sends them.
    Errcode {
        /// The errcode, e.g. `-1` (系统繁忙) or `90018`.
        errcode: i64,
        /// The errmsg; `-1` defaults to `系统繁忙`, any other code needs one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        errmsg: Option<String>,
    },
    /// Answer a new-gateway error: `{"code", "message", "requestid"}` with this HTTP status.
    Error {
        /// HTTP status, 400 to 599.
        status: u16,
        /// The code, e.g. `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`.
        code: String,
        /// The message.
        message: String,
    },
    /// Hold the request this long, then serve it.
    Delay {
        /// Milliseconds, at most 600,000.
        ms: u64,
    },
    /// Close the connection without an answer body: the client sees the connection drop.
    Drop,
    /// Serve the request, then send only the first half of the answer's body and close.
    Truncate,
}

/// When a fault fires among the requests it matches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultFire {
    /// On every match.
    #[default]
    Always,
    /// On the next N matches, then never.
    Next(u64),
    /// On every match after the first N.
    After(u64),
    /// On each match with this probability, drawn from a generator seeded with `seed`: the same
    /// seed and the same requests fire on the same matches, so a failing run replays exactly.
    Probability {
        /// Between 0 and 1.
        p: f64,
        /// The generator's seed.
        seed: u64,
    },
}

/// A fault rule as the server holds it, with its counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultView {
    /// The rule's id on this node, for `DELETE /_dingdir/faults/{id}`.
    pub id: u64,
    /// The rule as given.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Requests it matched.
    pub matched: u64,
    /// Requests it fired on.
    pub fired: u64,
}

/// The fault rules of one node, in the order they are tried.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultList {
    /// The rules.
    pub faults: Vec<FaultView>,
}

/// The answer to clearing the fault rules or the journal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleared {
    /// How many rules or entries there were.
    pub cleared: u64,
}

/// One DingTalk-gateway request as the journal keeps it. Secrets, tokens, passwords and sign-in
/// codes in the query and both bodies are replaced by `"<redacted>"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Its place in this node's journal, from 1; never reused until the node restarts.
    pub seq: u64,
    /// When it arrived, in milliseconds since the Unix epoch (the server's clock).
    pub at_ms: i64,
    /// `api` (api.dingtalk.com) or `oapi` (oapi.dingtalk.com).
    pub gateway: String,
    /// The HTTP method.
    pub method: String,
    /// The path with its query, redacted.
    pub path: String,
    /// The endpoint's name, when a route serves the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The answer's `x-acs-request-id`.
    pub request_id: String,
    /// The calling app's key, when the token or the parameters name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The corp the call acts in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp: Option<String>,
    /// The member the call names (`userid`, or a GetUser path's unionId).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The HTTP status; absent when no answer was sent (a `drop` fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// DingTalk's code: the legacy `errcode` (`"0"` on success), or the new gateway's `code` on
    /// an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Time to the answer's head, in microseconds.
    pub duration_us: u64,
    /// The request body: JSON when it is JSON, else text; cut at 64 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<serde_json::Value>,
    /// The answer body, the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_body: Option<serde_json::Value>,
    /// The fault rule that fired on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultFired>,
}

/// A fault rule that fired on a journal entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultFired {
    /// The rule's id.
    pub id: u64,
    /// Its action's kind: `errcode`, `error`, `delay`, `drop` or `truncate`.
    pub kind: String,
}

/// Which journal entries a query, a count or a follow wants; every filter given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalFilter {
    /// The endpoint's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The calling app's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The corp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp: Option<String>,
    /// The member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// DingTalk's code (`-1`, `0`, `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Entries that arrived at or after this time (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
    /// Entries that arrived before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
    /// Entries after this `seq`: to read on from the last entry seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// Only entries a fault rule fired on (`true`), or none (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faulted: Option<bool>,
    /// At most this many entries, the newest (default 100, at most 10,000; ignored by count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// Journal entries, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JournalPage {
    /// The matching entries, at most `limit` of the newest.
    pub entries: Vec<JournalEntry>,
    /// Entries the journal let go of since it started (to stay in its bounds): a count that
    /// moves during a test means the journal is too small for it.
    pub evicted: u64,
}

/// How many journal entries match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalCount {
    /// The count.
    pub count: u64,
}

/// A rate limit: at most `limit` calls per `per` window by one app to one endpoint, as DingTalk
/// counts its QPS limit (per appKey and API). Calls past it in the window are refused with the
/// gateway's own rate-limit answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Only this app's calls; every app's (each counted apart) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Only this endpoint (its name in docs/COMPATIBILITY.md); every endpoint (each counted
    /// apart) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Calls allowed per window, 1 or more.
    pub limit: u64,
    /// The window.
    #[serde(default)]
    pub per: RateWindow,
    /// Count every app's calls together: DingTalk's global per-API limit, answered `90002` and
    /// `Forbidden.AccessDenied.QpsLimitForApi` (per second or minute; `app` must be absent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_apps: bool,
}

/// The fixed window a rate limit counts in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RateWindow {
    /// One second, as DingTalk's QPS limits (90018, `QpsLimitForAppkeyAndApi`).
    #[default]
    Second,
    /// One minute (90006, `QpmLimitForAppkeyAndApi`).
    Minute,
    /// A calendar month in China Standard Time, as DingTalk counts an organisation's monthly API
    /// quota (90020, `ApiCountLimitForOrg`): such a limit counts the calls made in each corp,
    /// by every app to every endpoint the limit matches, together.
    Month,
}

/// The rate limits of the whole cluster, as the store holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Every limit; a call must be within all that match it.
    pub limits: Vec<RateLimit>,
}

/// `PUT /_dingdir/callbacks/{appKey}`: register or replace an app's HTTP event callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRegistration {
    /// The receiver's absolute `http` or `https` URL.
    pub url: String,
    /// The signing token.
    pub token: String,
    /// The 43-character `EncodingAESKey`.
    pub aes_key: String,
    /// Event types (`call_back_tag`s); empty or absent means every contact event.
    #[serde(default)]
    pub events: Vec<String>,
    /// `app_key` (default) or `corp_id`: the key that closes each plaintext.
    #[serde(default)]
    pub receive_id: Option<String>,
    /// Whether to send `check_url` first and refuse the registration on a wrong answer, as
    /// DingTalk does (default `true`).
    #[serde(default = "yes")]
    pub check_url: bool,
}

fn yes() -> bool {
    true
}

/// One registration as `GET /_dingdir/callbacks` lists it (without its token and key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackInfo {
    /// The subscribing app.
    pub app_key: String,
    /// Where events go.
    pub url: String,
    /// The event types subscribed to; empty means every contact event.
    pub events: Vec<String>,
    /// `app_key` or `corp_id`.
    pub receive_id: String,
    /// The change log's last entry when the app registered.
    pub registered_seq: i64,
    /// The last entry delivered (acknowledged or not wanted).
    pub delivered_seq: i64,
    /// Failed attempts at the next entry in a row.
    pub failures: u32,
    /// When the next attempt is due (ms since the epoch), after a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<i64>,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The node holding the delivery lease.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    /// Until when (ms since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
}

/// `GET /_dingdir/callbacks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackList {
    /// By app key.
    pub callbacks: Vec<CallbackInfo>,
}

/// One subscribed app's view of one change-log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryInfo {
    /// The app.
    pub app_key: String,
    /// `delivered`, `pending` (not yet tried) or `retrying` (tried and failed; tried again at
    /// `next_attempt_at`).
    pub state: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When a `retrying` entry is tried next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<i64>,
}

/// One change-log entry as `GET /_dingdir/events` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    /// Its position: 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// When it was committed (ms since the epoch).
    pub at: i64,
    /// The corp.
    pub corp_id: String,
    /// DingTalk's event type (`user_add_org`, ...).
    pub event_type: String,
    /// The userid, or the department id in decimal.
    pub subject: String,
    /// Each app it is for, by app key.
    pub deliveries: Vec<DeliveryInfo>,
}

/// `GET /_dingdir/events?corp_id=&type=&after=&limit=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventList {
    /// By position.
    pub events: Vec<EventInfo>,
    /// The `after` of the next page, when there may be more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
}

/// One open Stream connection, as `GET /_dingdir/stream/connections` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConnectionView {
    /// The connection's id, also its frames' `connectionId`.
    pub id: String,
    /// The app that opened it.
    pub app_key: String,
    /// What it subscribed to.
    pub subscriptions: Vec<crate::stream::Subscription>,
    /// The `ua` it gave.
    pub ua: String,
    /// The `localIp` it gave.
    pub local_ip: String,
    /// Its TCP peer.
    pub peer: String,
    /// When it connected (ms since the epoch).
    pub opened_at: i64,
    /// Whether it is a zombie: open, but nothing is sent on it or read from it.
    pub zombie: bool,
    /// Frames pushed to it (events and callbacks).
    pub sent: u64,
    /// Acknowledgements read from it.
    pub acked: u64,
    /// SYSTEM pings it answered.
    pub pings_answered: u64,
}

/// `GET /_dingdir/stream/connections[?app_key=]`: this node's open connections.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConnectionList {
    /// The node answering: connections live on the node they were opened on.
    pub node: String,
    /// By id.
    pub connections: Vec<StreamConnectionView>,
}

/// `POST /_dingdir/stream/connections/{id}/close` and `POST /_dingdir/stream/close`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamClose {
    /// Only this app's connections (`/stream/close` only; absent: every app's).
    #[serde(default)]
    pub app_key: Option<String>,
    /// Send SYSTEM `disconnect` with this reason first and let the client close, as DingTalk
    /// does before it moves a connection; absent: close at once with no notice.
    #[serde(default)]
    pub notice: Option<String>,
    /// Drop the TCP connection with no close frame, as a network failure does.
    #[serde(default)]
    pub drop: bool,
}

/// `POST /_dingdir/stream/connections/{id}/zombie`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamZombie {
    /// End the zombie period after this long by closing the connection (absent: stay a
    /// zombie until the client gives up).
    #[serde(default)]
    pub for_ms: Option<u64>,
    /// How the period ends: with a close frame (default), or by dropping the TCP connection.
    #[serde(default)]
    pub drop: bool,
}

/// How an app's acknowledgements are mishandled, as `PUT /_dingdir/stream/acks/{appKey}` sets it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckFault {
    /// Ignore the acks, so the events are sent again after the ack timeout.
    #[serde(default)]
    pub drop: bool,
    /// Otherwise, act on each ack this long after it arrives.
    #[serde(default)]
    pub delay_ms: u64,
    /// For the next this many acks only (absent: until cleared).
    #[serde(default)]
    pub count: Option<u32>,
}

/// One push of one event to one app, as `GET /_dingdir/stream/attempts` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamAttemptView {
    /// The change-log entry.
    pub seq: i64,
    /// Its `eventId` header.
    pub event_id: String,
    /// When the push ended: acknowledged, refused, timed out or cut off (ms since the epoch).
    pub at: i64,
    /// The node that pushed it.
    pub node: String,
    /// `None` when acknowledged with success, otherwise why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /_dingdir/stream/attempts?app_key=&after=&limit=`: an app's Stream delivery.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDelivery {
    /// The app.
    pub app_key: String,
    /// The log's last entry when it first connected for events; `None` if it never has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_seq: Option<i64>,
    /// The last entry acknowledged with success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_seq: Option<i64>,
    /// Unacknowledged pushes of the next entry in a row.
    pub failures: u32,
    /// Why the last push was not acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The node holding the delivery lease.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    /// The scripted ack fault on this node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_fault: Option<AckFault>,
    /// Pushes, by entry and time.
    pub attempts: Vec<StreamAttemptView>,
}

/// `PUT /_dingdir/robots/{token}`: a custom group robot, as a group's admin adds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotSetup {
    /// The corp of the group.
    pub corp_id: String,
    /// The robot's name.
    pub name: String,
    /// The group chat it posts into (the inbox's `conversation`).
    pub group: String,
    /// The signing secret (`SEC…`): signing on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Up to 10 keywords: the keyword check on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// IPv4 addresses or CIDR ranges: the IP check on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_ranges: Vec<String>,
}

/// One robot, as `GET /_dingdir/robots` lists it (its secret is not shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotInfo {
    /// The webhook's `access_token`.
    pub token: String,
    /// The corp of the group.
    pub corp_id: String,
    /// The robot's name.
    pub name: String,
    /// The group it posts into.
    pub group: String,
    /// Whether signing is on.
    pub signed: bool,
    /// The keywords.
    pub keywords: Vec<String>,
    /// The IP ranges.
    pub ip_ranges: Vec<String>,
    /// Until when it refuses everything after going over 20 messages a minute (ms; 0: not).
    pub blocked_until: i64,
}

/// `GET /_dingdir/robots`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotList {
    /// By token.
    pub robots: Vec<RobotInfo>,
}

/// One message in the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMessage {
    /// Its position: increasing, never reused.
    pub seq: i64,
    /// When it was taken (ms since the epoch).
    pub at: i64,
    /// The corp.
    pub corp_id: String,
    /// The conversation: a group's name.
    pub conversation: String,
    /// `webhook_robot`.
    pub sender_kind: String,
    /// The sender's name.
    pub sender: String,
    /// The sender's id: the robot's token.
    pub sender_id: String,
    /// `text`, `markdown`, `link`, `actionCard` or `feedCard`.
    pub msgtype: String,
    /// The object of that type, as sent.
    pub content: serde_json::Value,
    /// Whom it @s, as sent (`atMobiles`, `atUserIds`, `isAtAll`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentions: Option<serde_json::Value>,
    /// The person a one-to-one message went to (a robot's chat, a work notification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The send it belongs to: the `processQueryKey` or the work notification's `task_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// When its person read it (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<i64>,
    /// When it was recalled (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalled_at: Option<i64>,
}

/// `POST /_dingdir/inbox/read`: a person reads what they were sent one to one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxRead {
    /// The person's userid.
    pub person: String,
    /// Up to this inbox position; everything when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<i64>,
}

/// What `POST /_dingdir/inbox/read` did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMarked {
    /// How many messages it marked read.
    pub marked: u64,
}

/// A group chat, as `GET /_dingdir/groups` lists it and `PUT /_dingdir/groups` takes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInfo {
    /// The corp.
    pub corp_id: String,
    /// The title, unique in the corp.
    pub name: String,
    /// Its `openConversationId` (derived; ignored when put).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub conversation_id: String,
    /// The owner's userid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The members' userids.
    #[serde(default)]
    pub members: Vec<String>,
    /// The app robots in it, by app key.
    #[serde(default)]
    pub bots: Vec<String>,
}

/// `GET /_dingdir/groups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupList {
    /// By corp and name.
    pub groups: Vec<GroupInfo>,
}

/// The query of `GET /_dingdir/inbox`; every field narrows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxFilter {
    /// One conversation: a group's name, `single:{appKey}:{userid}` or `notice:{appKey}:{userid}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// One sender: a robot's token or an app key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    /// What one person was sent one to one, or said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// One send: a `processQueryKey` or a work notification's `task_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Messages after this position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// When none match yet, wait up to this long (at most 60000 ms) for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
}

/// `GET /_dingdir/inbox?conversation=&sender_id=&person=&task=&after=&limit=&wait_ms=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxList {
    /// By position.
    pub messages: Vec<InboxMessage>,
    /// The `after` of the next page, when there may be more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
}

/// `POST /_dingdir/chat`: a person writes to a bot, in a group or one to one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSay {
    /// The bot's app (its `robotCode`).
    pub app_key: String,
    /// The person's userid.
    pub from: String,
    /// The text.
    pub text: String,
    /// The group written in; absent: the person's one-to-one chat with the bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Whether the message @s the bot (default `true`; always so one to one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_bot: Option<bool>,
    /// The corp the person writes in (default: the app's own, or first authorising, corp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
    /// A file uploaded in the corp (`/media/upload`) sent instead of `text`: the bot gets a
    /// `picture`, `file`, `audio` or `video` message whose `downloadCode` messageFiles/download
    /// takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

/// What `POST /_dingdir/chat` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSaid {
    /// The person's message's inbox position.
    pub seq: i64,
    /// The conversation, as the inbox names it (`single:{appKey}:{userid}` one to one).
    pub conversation: String,
    /// The chatbot message the bot was sent, as DingTalk shapes it.
    pub message: serde_json::Value,
    /// The Stream connection it went to; absent when the app has none subscribed to
    /// `/v1.0/im/bot/messages/get` on this node (the message is in the inbox all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// The bot's ack, when one came within the ack timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<crate::stream::Ack>,
    /// What the robot's HTTP callback answered, when the message went there (the app has one
    /// and no Stream connection took the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<BotHttpAnswer>,
}

/// What a robot's HTTP callback did with a person's message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotHttpAnswer {
    /// Its HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The inbox position of its synchronous reply, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_seq: Option<i64>,
    /// Why it did not take the message, or why its reply was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
