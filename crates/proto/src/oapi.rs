//! DingTalk's legacy gateway (`oapi.dingtalk.com`): snake_case bodies, always HTTP 200, errors as
//! `{"errcode","errmsg","request_id"}`; on `/topapi/*` token and permission failures come wrapped
//! as `errcode 88` with a string `sub_code`. Sources: WIRE.md §B, SDK-WIRE.md §3, seed 003.

use serde::{Deserialize, Serialize};

/// Paths of the legacy gateway, in axum 0.8 route syntax.
pub mod path {
    /// `GET /gettoken?appkey=&appsecret=`: an app token. WIRE.md §C1.
    pub const GET_TOKEN: &str = "/gettoken";
    /// `POST /topapi/v2/user/getbymobile`: a userid by mobile (seed 003).
    pub const V2_USER_GET_BY_MOBILE: &str = "/topapi/v2/user/getbymobile";
    /// Paths under this prefix use the `errcode 88` wrapper for token errors. WIRE.md §B1.
    pub const TOPAPI_PREFIX: &str = "/topapi/";
}

/// The two answer envelopes of the legacy gateway. WIRE.md §0, §B1–B2, §C4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope {
    /// `/topapi/*`: content type [`TOPAPI_CONTENT_TYPE`], every answer carries `request_id`,
    /// token and permission failures are wrapped as `errcode 88` with a string `sub_code`.
    Top,
    /// Other legacy paths (`/gettoken`): content type [`CONTENT_TYPE`], codes answered
    /// directly, no `request_id`.
    Plain,
}

impl Envelope {
    /// The envelope of a path no endpoint serves, by its prefix.
    pub fn of_unknown_path(path: &str) -> Self {
        if path.starts_with(path::TOPAPI_PREFIX) {
            Self::Top
        } else {
            Self::Plain
        }
    }

    /// The answers' content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Top => TOPAPI_CONTENT_TYPE,
            Self::Plain => CONTENT_TYPE,
        }
    }
}

/// Content type of `/topapi/*` answers. WIRE.md §0.
pub const TOPAPI_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// Content type of other legacy answers (`/gettoken`). WIRE.md §0.
pub const CONTENT_TYPE: &str = "application/json";

/// The legacy error envelope, also the shape of a bare success (`errcode 0`). WIRE.md §B1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OapiError {
    /// A JSON number; `-1` exists (system busy).
    pub errcode: i64,
    /// Always present.
    pub errmsg: String,
    /// The wrapped code on `errcode 88`, a string such as `"40014"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_code: Option<String>,
    /// The wrapped message on `errcode 88`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_msg: Option<String>,
    /// Present on `/topapi/*` answers (12-13 lower-case alphanumerics), absent on `/gettoken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Legacy error codes. Each cites where it was seen.
pub mod errcode {
    /// Success.
    pub const OK: i64 = 0;
    /// System busy. Seed 003.
    pub const SYSTEM_BUSY: i64 = -1;
    /// Unknown `/topapi` method. WIRE.md §B1, probe P14.
    pub const UNKNOWN_API: i64 = 22;
    /// The TOP layer's wrapper for token and permission failures. WIRE.md §B1.
    pub const TOP_WRAPPED: i64 = 88;
    /// Unknown non-topapi path. WIRE.md §C4, probe P12.
    pub const URI_NOT_FOUND: i64 = 404;
    /// Missing token (as `sub_code`). WIRE.md §B2, probe P9.
    pub const TOKEN_MISSING: i64 = 40000;
    /// Invalid or expired token (directly, or as `sub_code`). WIRE.md §B2.
    pub const TOKEN_INVALID: i64 = 40014;
    /// Missing parameters to `/gettoken`. WIRE.md §B2, probe P2.
    pub const MISSING_PARAMETER: i64 = 40035;
    /// Bad app key or secret. WIRE.md §C1, probe P1.
    pub const BAD_APP_CREDENTIALS: i64 = 40096;
    /// Malformed mobile. Seed 003.
    pub const BAD_MOBILE: i64 = 40104;
    /// Needs GET. WIRE.md §B2.
    pub const NEEDS_GET: i64 = 43001;
    /// Needs POST. WIRE.md §B2.
    pub const NEEDS_POST: i64 = 43002;
    /// No permission or wrong app type (as `sub_code`). WIRE.md §B2.
    pub const NO_PERMISSION: i64 = 60011;
    /// User not found or departed. Seed 003.
    pub const USER_NOT_FOUND: i64 = 60121;
    /// Invalid parameter. Seed 003.
    pub const INVALID_PARAMETER: i64 = 400002;
}

/// `GET /gettoken` answer; `expires_in` must be a number (the community SDK adds it). SDK-WIRE.md §3.4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetTokenResponse {
    /// `0`.
    pub errcode: i64,
    /// The app token, 32 lower-case hex.
    pub access_token: String,
    /// `"ok"`.
    pub errmsg: String,
    /// Seconds until expiry.
    pub expires_in: u64,
}

/// `POST /topapi/v2/user/getbymobile` answer. Seed 003, WIRE.md §D3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByMobileResponse {
    /// `0`.
    pub errcode: i64,
    /// `"ok"`.
    pub errmsg: String,
    /// The match.
    pub result: GetByMobileResult,
    /// Request id.
    pub request_id: String,
}

/// The `result` of getbymobile, keys in the order of a real answer. WIRE.md §D3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByMobileResult {
    /// Exclusive accounts of the caller's corp with that mobile; always a JSON array, `[]` when
    /// not asked for. WIRE.md §D3.
    #[serde(default)]
    pub exclusive_account_userid_list: Vec<String>,
    /// The active normal-account member with that mobile; absent when only exclusive accounts match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
}

/// `POST /topapi/v2/user/getbymobile` request body, as the Java TOP SDK sends it: JSON with every
/// value a string, so the flag is `"true"`/`"false"` (topapi has refused JSON booleans, WIRE.md §B1
/// errcode 41; §B3). The token goes in `?access_token=`, not here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByMobileRequest {
    /// National digits, or `+CC-NNNN`.
    pub mobile: String,
    /// `"true"` to also list the caller corp's exclusive accounts with that mobile. WIRE.md §D3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_exclusive_account_search: Option<TopBool>,
}

/// A TOP boolean. Sent as the string `"true"` or `"false"`, as the Java TOP SDK sends every value
/// (topapi has refused JSON booleans, WIRE.md §B1 errcode 41; §B3); read from those strings or a
/// JSON boolean.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TopBool(pub bool);

impl Serialize for TopBool {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0 { "true" } else { "false" })
    }
}

impl<'de> Deserialize<'de> for TopBool {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Bool(bool),
            Text(String),
        }
        match Either::deserialize(deserializer)? {
            Either::Bool(b) => Ok(Self(b)),
            Either::Text(t) if t == "true" => Ok(Self(true)),
            Either::Text(t) if t == "false" => Ok(Self(false)),
            Either::Text(t) => Err(serde::de::Error::custom(format!("{t:?} is not \"true\" or \"false\""))),
        }
    }
}
