//! DingTalk's new gateway (`api.dingtalk.com`): camelCase bodies, real HTTP statuses, errors as
//! `{"code","message","requestid"}`. Sources: WIRE.md §A and §C, SDK-WIRE.md §1-2.

use serde::{Deserialize, Serialize};

/// Paths of the new gateway, in axum 0.8 route syntax (also the client's URL templates).
pub mod path {
    /// `GET /v1.0/contact/users/{unionId}`: GetUser (seed 000).
    pub const GET_USER: &str = "/v1.0/contact/users/{unionId}";
    /// `POST /v1.0/oauth2/accessToken`: an app token. WIRE.md §C2.
    pub const ACCESS_TOKEN: &str = "/v1.0/oauth2/accessToken";
    /// `POST /v1.0/oauth2/userAccessToken`: a user token from a code or refresh token. WIRE.md §C3.
    pub const USER_ACCESS_TOKEN: &str = "/v1.0/oauth2/userAccessToken";
    /// `POST /v1.0/oauth2/corpAccessToken`: a third-party enterprise app's token for one corp. WIRE.md §C4.
    pub const CORP_ACCESS_TOKEN: &str = "/v1.0/oauth2/corpAccessToken";
    /// `GET /v1.0/contact/empLeaveRecords`: departed members in a time window.
    /// docs/wire/directory-read.md §2.16.
    pub const EMP_LEAVE_RECORDS: &str = "/v1.0/contact/empLeaveRecords";
    /// Every new-gateway path starts with this.
    pub const PREFIX: &str = "/v1.0/";
}

/// The header that carries the access token on the new gateway, and nothing else does. WIRE.md §A2.
pub const ACCESS_TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";
/// Response header echoing the body's `requestid`. WIRE.md §A3.
pub const REQUEST_ID_HEADER: &str = "x-acs-request-id";
/// Response header with a 32-hex trace id. WIRE.md §A3.
pub const TRACE_ID_HEADER: &str = "x-acs-trace-id";
/// Content type of every new-gateway answer. WIRE.md §A3.
pub const CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// Error body of the new gateway. WIRE.md §A1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code such as `invalidParameter.user.notFound`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Request id, `8-4-4-4-12` upper-case hex; lower-case key as DingTalk sends it.
    pub requestid: String,
    /// Present on permission errors: the scopes the call needs. WIRE.md §A1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessdenieddetail: Option<AccessDeniedDetail>,
}

/// Which scopes a refused call needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessDeniedDetail {
    /// Scope names, e.g. `["Contact.User.Read"]`.
    pub required_scopes: Vec<String>,
}

/// Error codes of the new gateway. Each cites where it was seen.
pub mod code {
    /// Token header missing (400). WIRE.md §A2, probe P7/P10.
    pub const MISSING_TOKEN: &str = "AuthenticationFailed.MissingParameter";
    /// Token invalid or expired (400). WIRE.md §A2, probe P6.
    pub const INVALID_AUTHENTICATION: &str = "InvalidAuthentication";
    /// One app calling one API past its per-second limit: HTTP 403.
    pub const QPS_LIMIT: &str = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi";
    /// Every app together calling one API past its global limit: HTTP 403.
    /// docs/wire/rate-limits.md §2.
    pub const API_QPS_LIMIT: &str = "Forbidden.AccessDenied.QpsLimitForApi";
    /// One app calling one API past its per-minute limit: HTTP 403.
    pub const QPM_LIMIT: &str = "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi";
    /// An organisation past its monthly API quota: HTTP 403 (dingtalk.com help 1061621972).
    pub const API_COUNT_LIMIT: &str = "Forbidden.AccessDenied.ApiCountLimitForOrg";
    /// Missing scope, or the wrong kind of token (403). WIRE.md §A2.
    pub const ACCESS_DENIED: &str = "Forbidden.AccessDenied.AccessTokenPermissionDenied";
    /// User not found or not visible (404). Seed 000, WIRE.md §A2.
    pub const USER_NOT_FOUND: &str = "invalidParameter.user.notFound";
    /// No such department (404); our choice, as no new-gateway department read is served yet.
    pub const DEPT_NOT_FOUND: &str = "invalidParameter.dept.notFound";
    /// A member or department outside the app's contact range (403); our choice, as no
    /// new-gateway read checks the range yet.
    pub const OUT_OF_RANGE: &str = "Forbidden.AccessDenied.OutOfAuthScope";
    /// Unknown path or method (404). WIRE.md §A2.
    pub const NOT_FOUND: &str = "InvalidAction.NotFound";
    /// Stream mode: bad client id or secret on `connections/open` (401). WIRE.md §A2 notes
    /// (zfanswer/dify-on-dingtalk#28); dingdir also answers it for a bad or used ticket.
    pub const AUTH_FAILED: &str = "authFailed";
    /// Stream mode: the app holds the most connections it may (403); our choice, DingTalk
    /// documents the limit (50) but not its answer.
    pub const CONNECTION_LIMIT: &str = "Forbidden.AccessDenied.ConnectionLimit";
    /// Bad app key or secret (400). WIRE.md §C2, probe P3.
    pub const INVALID_CLIENT: &str = "invalidClientIdOrSecret";
    /// Bad, used or expired authorisation code (400). WIRE.md §C3.
    pub const INVALID_CODE: &str = "invalidCode";
    /// Bad, used or expired refresh token (400); our choice, DingTalk documents none.
    pub const INVALID_REFRESH_TOKEN: &str = "invalidRefreshToken";
    /// Unknown suite key (400). WIRE.md §C4.
    pub const INVALID_SUITE_KEY: &str = "invalidSuiteKey";
    /// Wrong suite ticket (400). WIRE.md §C4.
    pub const INVALID_SUITE_TICKET: &str = "invalidSuiteTicket";
    /// The corp has not authorised the suite (400). WIRE.md §C4.
    pub const INVALID_AUTH_INFO: &str = "invalidAuthInfo";
    /// A missing or malformed parameter (400). WIRE.md §A2.
    pub const MISSING_PARAMETER: &str = "MissingParameter";
    /// A body that is not the JSON the endpoint takes (400). WIRE.md §A2.
    pub const INVALID_PARAMETER: &str = "invalidParameter";
    /// A parameter out of what the API allows (empLeaveRecords' page). docs/wire/directory-read.md §2.16.
    pub const PARAM_INVALID: &str = "invalidParameter.param.invalid";
    /// An empty body on an endpoint that takes JSON (400). WIRE.md §A2.
    pub const MISSING_BODY: &str = "Missingbody";
    /// A body over the size limit (413); our choice.
    pub const BODY_TOO_LARGE: &str = "RequestEntityTooLarge";
    /// Overload or a store that does not answer (503). WIRE.md §A2.
    pub const SYSTEM_BUSY: &str = "system.busy";
    /// An unexpected server fault (500). WIRE.md §A2, probe P4.
    pub const UNKNOWN_ERROR: &str = "unknownError";
}

/// `POST /v1.0/oauth2/accessToken` request. SDK-WIRE.md §1.2.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAccessTokenRequest {
    /// The app's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_key: Option<String>,
    /// The app's secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
}

/// Token answer of `accessToken` and `corpAccessToken`. WIRE.md §C2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenResponse {
    /// 32 lower-case hex characters.
    pub access_token: String,
    /// Seconds until expiry, a JSON number.
    pub expire_in: u64,
}

/// `POST /v1.0/oauth2/corpAccessToken` request. SDK-WIRE.md §1.2.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCorpAccessTokenRequest {
    /// The suite's key (a third-party enterprise app's key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_key: Option<String>,
    /// The suite's secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_secret: Option<String>,
    /// The corp the token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_corp_id: Option<String>,
    /// The suite ticket DingTalk pushes to the suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_ticket: Option<String>,
}

/// `POST /v1.0/oauth2/userAccessToken` request. SDK-WIRE.md §1.2.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetUserTokenRequest {
    /// The app's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The app's secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The authorisation code, for `authorization_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The refresh token, for `refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `authorization_code` or `refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
}

/// `POST /v1.0/oauth2/userAccessToken` answer. WIRE.md §C3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTokenResponse {
    /// The user access token.
    pub access_token: String,
    /// The refresh token (30 days).
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expire_in: u64,
    /// The corp chosen at sign-in, only when the scope included `corpid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
}

/// GetUser answer: empty fields are left out, `visitor` is always present. WIRE.md §D2.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetUserResponse {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// National digits, full or masked; only with `Contact.User.mobile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// The person's id in the calling app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_id: Option<String>,
    /// The person's id under the calling app's developer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union_id: Option<String>,
    /// Personal email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Country calling code of `mobile`, e.g. `"86"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    /// Whether the person is a visitor; a JSON boolean (the Node SDK checks). SDK-WIRE.md §2.3.
    pub visitor: bool,
}

/// `GET /v1.0/contact/empLeaveRecords` query (contact_1_0 `ListEmpLeaveRecords`).
/// docs/wire/directory-read.md §2.16.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEmpLeaveRecordsRequest {
    /// The window's start, ISO 8601 (`2024-01-01T00:00:00Z`; a time without a zone is UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// The window's end; at most 365 days after the start. Without it the start must lie within
    /// the last 365 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `0` (or nothing) for the first page, then the last page's `nextToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Records per page, 1 to 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
}

/// One page of departures; `nextToken` is left out on the last page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEmpLeaveRecordsResponse {
    /// Where the next page starts; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// The departures, oldest first.
    pub records: Vec<EmpLeaveRecord>,
}

/// One departed member. Every field is a string, as the Node SDK's model requires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmpLeaveRecord {
    /// The userid the member had.
    pub user_id: String,
    /// Their in-org name.
    pub name: String,
    /// Country calling code of `mobile`, e.g. `86`; `""` when they had no mobile.
    pub state_code: String,
    /// National digits; `""` when they had no mobile.
    pub mobile: String,
    /// When they left, ISO 8601 in UTC: `2021-01-06T11:47:37Z`.
    pub leave_time: String,
    /// `oapi`, `cancel`, `leave`, `unknown` or `delete`.
    pub leave_reason: String,
}
