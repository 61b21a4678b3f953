//! The client's one error type. Wire errors stay typed, one variant per gateway, so a caller can
//! match on `code` or `errcode` instead of parsing text; transport and decode failures are apart.

use dingdir_proto::{api, oapi};
use serde_json::Value;

/// Why a call failed.
///
/// ```
/// use dingdir_client::Error;
///
/// let e = Error::Oapi {
///     errcode: 88,
///     errmsg: "ding talk error[subcode=40014,submsg=不合法的access_token]".to_owned(),
///     sub_code: Some("40014".to_owned()),
///     sub_msg: Some("不合法的access_token".to_owned()),
///     request_id: Some("16l4ew3d47pdp".to_owned()),
/// };
/// assert!(e.is_token_invalid());
/// assert_eq!(e.to_string(), "errcode 88 (sub_code 40014): 不合法的access_token (request id 16l4ew3d47pdp)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The new gateway (`api.dingtalk.com`) refused: an HTTP 4xx/5xx with
    /// `{"code","message","requestid"}`. WIRE.md §A.
    #[error("{status} {code}: {message}{}", api_tail(request_id, required_scopes))]
    Api {
        /// The HTTP status, e.g. `404`.
        status: u16,
        /// The machine-readable code, e.g. `invalidParameter.user.notFound` (see [`api::code`]).
        code: String,
        /// The human-readable message, usually Chinese.
        message: String,
        /// The body's `requestid` (or the `x-acs-request-id` header when the body has none).
        request_id: String,
        /// On permission errors, the scopes the call needs (`accessdenieddetail.requiredScopes`).
        required_scopes: Vec<String>,
    },
    /// The legacy gateway (`oapi.dingtalk.com`) answered HTTP 200 with a non-zero `errcode`.
    /// WIRE.md §B.
    #[error("{}", oapi_text(*errcode, errmsg, sub_code.as_deref(), sub_msg.as_deref(), request_id.as_deref()))]
    Oapi {
        /// The code, e.g. `60121`; `88` when the TOP layer wraps a token or permission failure.
        errcode: i64,
        /// The message.
        errmsg: String,
        /// The wrapped code on `errcode 88`, a string such as `"40014"`.
        sub_code: Option<String>,
        /// The wrapped message on `errcode 88`.
        sub_msg: Option<String>,
        /// `request_id`; present on `/topapi/*` answers, absent on `/gettoken`.
        request_id: Option<String>,
    },
    /// No answer: the connection failed, timed out, or broke mid-answer. The source says why; URLs
    /// that carry a secret or a token in their query are reported without it.
    #[error("no answer from the server")]
    Transport(#[source] reqwest::Error),
    /// An answer came that is not the gateway's JSON (an HTML error page, a truncated body, a
    /// success body of another shape).
    #[error("HTTP {status}: cannot read the answer: {reason}; body: {body}")]
    Decode {
        /// The HTTP status of the answer.
        status: u16,
        /// What did not parse.
        reason: String,
        /// The start of the body (at most 512 bytes, lossily decoded).
        body: String,
    },
    /// A walk over a list's pages ([`Client::list_all_users`](crate::Client::list_all_users))
    /// cannot go on: a page said `has_more` but gave no `next_cursor`, gave a cursor the walk had
    /// already visited, or the walk reached its page limit. The pages read so far are dropped.
    #[error("paging stopped after {pages} pages: {reason}{}", request_id_tail(request_id.as_deref()))]
    Paging {
        /// The pages read, the one that stopped the walk included.
        pages: usize,
        /// Why the walk stopped.
        reason: String,
        /// The request id of the page that stopped it.
        request_id: Option<String>,
    },
    /// A setting that cannot work, such as a base URL that does not parse.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn request_id_tail(request_id: Option<&str>) -> String {
    request_id.map(|id| format!(" (request id {id})")).unwrap_or_default()
}

fn api_tail(request_id: &str, scopes: &[String]) -> String {
    match (request_id.is_empty(), scopes.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" (request id {request_id})"),
        (true, false) => format!(" (required scopes: {})", scopes.join(", ")),
        (false, false) => format!(" (request id {request_id}; required scopes: {})", scopes.join(", ")),
    }
}

fn oapi_text(
    errcode: i64,
    errmsg: &str,
    sub_code: Option<&str>,
    sub_msg: Option<&str>,
    request_id: Option<&str>,
) -> String {
    let mut s = match sub_code {
        Some(sub) => format!("errcode {errcode} (sub_code {sub}): {}", sub_msg.unwrap_or(errmsg)),
        None => format!("errcode {errcode}: {errmsg}"),
    };
    if let Some(id) = request_id {
        s.push_str(&format!(" (request id {id})"));
    }
    s
}

/// Legacy codes that mean "this token is no good, get another": the community SDK's list
/// (33001, 40001, 42001, 40014; SDK-WIRE.md §3.5). WIRE.md §B2.
const OAPI_TOKEN_INVALID: [i64; 4] = [oapi::errcode::TOKEN_INVALID, 42001, 40001, 33001];
/// `429 systemBusy`, the other spelling some products use for "too frequent". WIRE.md §A2.
const API_SYSTEM_BUSY_ALT: &str = "systemBusy";
/// `400 accesstoken.expired`, listed in DingTalk's global table for some products. WIRE.md §A2.
const API_TOKEN_EXPIRED: &str = "accesstoken.expired";

impl Error {
    /// The legacy code that decides what happened: `sub_code` when the TOP layer wrapped it in
    /// `errcode 88`, otherwise `errcode`.
    fn oapi_effective(&self) -> Option<i64> {
        match self {
            Self::Oapi { errcode, sub_code, .. } if *errcode == oapi::errcode::TOP_WRAPPED => sub_code
                .as_deref()
                .and_then(|s| s.trim().parse().ok())
                .or(Some(*errcode)),
            Self::Oapi { errcode, .. } => Some(*errcode),
            Self::Api { .. } | Self::Transport(_) | Self::Decode { .. } | Self::Paging { .. } | Self::Config(_) => None,
        }
    }

    fn api_code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            Self::Oapi { .. } | Self::Transport(_) | Self::Decode { .. } | Self::Paging { .. } | Self::Config(_) => {
                None
            }
        }
    }

    /// The user does not exist, or is not visible to the caller: new gateway
    /// `invalidParameter.user.notFound` (404), legacy `60121` (unknown or departed).
    pub fn is_not_found(&self) -> bool {
        self.api_code() == Some(api::code::USER_NOT_FOUND)
            || self.oapi_effective() == Some(oapi::errcode::USER_NOT_FOUND)
    }

    /// The access token is invalid or expired, so a fresh token may succeed: new gateway
    /// `InvalidAuthentication` (or `accesstoken.expired`); legacy `40014`, `42001`, `40001`,
    /// `33001`, also when wrapped as `errcode 88` with that `sub_code`.
    pub fn is_token_invalid(&self) -> bool {
        matches!(
            self.api_code(),
            Some(api::code::INVALID_AUTHENTICATION | API_TOKEN_EXPIRED)
        ) || self.oapi_effective().is_some_and(|c| OAPI_TOKEN_INVALID.contains(&c))
    }

    /// DingTalk is overloaded; the same call may succeed later: legacy `-1`, new gateway
    /// `system.busy` (or `systemBusy`).
    pub fn is_system_busy(&self) -> bool {
        matches!(self.api_code(), Some(api::code::SYSTEM_BUSY | API_SYSTEM_BUSY_ALT))
            || self.oapi_effective() == Some(oapi::errcode::SYSTEM_BUSY)
    }

    /// The app lacks a permission, or the token is of the wrong kind (an app token where a user
    /// token is due): new gateway `Forbidden.AccessDenied.AccessTokenPermissionDenied` (403),
    /// legacy `60011` (usually wrapped as `errcode 88`). See [`Error::required_scopes`].
    pub fn is_permission_denied(&self) -> bool {
        self.api_code() == Some(api::code::ACCESS_DENIED) || self.oapi_effective() == Some(oapi::errcode::NO_PERMISSION)
    }

    /// The request id DingTalk gave the failed call, to quote in a support ticket.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { request_id, .. } => Some(request_id).filter(|s| !s.is_empty()).map(String::as_str),
            Self::Oapi { request_id, .. } | Self::Paging { request_id, .. } => request_id.as_deref(),
            Self::Transport(_) | Self::Decode { .. } | Self::Config(_) => None,
        }
    }

    /// The scopes a refused new-gateway call needs (empty otherwise).
    pub fn required_scopes(&self) -> &[String] {
        match self {
            Self::Api { required_scopes, .. } => required_scopes,
            Self::Oapi { .. } | Self::Transport(_) | Self::Decode { .. } | Self::Paging { .. } | Self::Config(_) => &[],
        }
    }

    /// The HTTP status of the answer, when one came (legacy errors come with 200).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Decode { status, .. } => Some(*status),
            Self::Oapi { .. } => Some(200),
            Self::Transport(e) => e.status().map(|s| s.as_u16()),
            // About a walk of many answers, not one.
            Self::Paging { .. } | Self::Config(_) => None,
        }
    }

    /// A new-gateway error from its wire body.
    pub(crate) fn from_api(status: u16, e: api::ApiError, header_request_id: Option<String>) -> Self {
        let request_id = if e.requestid.is_empty() {
            header_request_id.unwrap_or_default()
        } else {
            e.requestid
        };
        Self::Api {
            status,
            code: e.code,
            message: e.message,
            request_id,
            required_scopes: e.accessdenieddetail.map(|d| d.required_scopes).unwrap_or_default(),
        }
    }

    /// A legacy error from its wire body.
    pub(crate) fn from_oapi(e: oapi::OapiError, header_request_id: Option<String>) -> Self {
        Self::Oapi {
            errcode: e.errcode,
            errmsg: e.errmsg,
            sub_code: e.sub_code,
            sub_msg: e.sub_msg,
            request_id: e.request_id.or(header_request_id),
        }
    }

    pub(crate) fn decode(status: u16, reason: impl std::fmt::Display, body: &[u8]) -> Self {
        const KEEP: usize = 512;
        let cut = &body[..body.len().min(KEEP)];
        Self::Decode {
            status,
            reason: reason.to_string(),
            body: String::from_utf8_lossy(cut).into_owned(),
        }
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A JSON string field under any of `names` (the official SDK reads `Code`|`code`,
/// `RequestId`|`requestid`|`requestId`; WIRE.md §A1).
fn field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| v.get(n).and_then(Value::as_str))
}

/// Reads a new-gateway answer: the resource on 2xx, [`Error::Api`] on 4xx/5xx.
pub(crate) fn decode_api<T: serde::de::DeserializeOwned>(
    status: u16,
    header_request_id: Option<String>,
    body: &[u8],
) -> Result<T, Error> {
    if is_success(status) {
        return serde_json::from_slice(body).map_err(|e| Error::decode(status, e, body));
    }
    if let Ok(e) = serde_json::from_slice::<api::ApiError>(body) {
        return Err(Error::from_api(status, e, header_request_id));
    }
    // The proto shape did not fit (a key spelled another way, or no request id): read it the
    // lenient way the official SDK does before giving up.
    let value: Value = serde_json::from_slice(body).map_err(|e| Error::decode(status, e, body))?;
    let Some(code) = field(&value, &["code", "Code"]) else {
        return Err(Error::decode(status, "an error answer without a `code`", body));
    };
    let scopes = value
        .get("accessdenieddetail")
        .or_else(|| value.get("AccessDeniedDetail"))
        .and_then(|d| d.get("requiredScopes"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    Err(Error::Api {
        status,
        code: code.to_owned(),
        message: field(&value, &["message", "Message"]).unwrap_or_default().to_owned(),
        request_id: field(&value, &["requestid", "requestId", "RequestId"])
            .map(str::to_owned)
            .or(header_request_id)
            .unwrap_or_default(),
        required_scopes: scopes,
    })
}

/// Reads a legacy answer: HTTP 200 always, `errcode 0` (or none, as the community SDK counts it)
/// is success, any other `errcode` is [`Error::Oapi`]. WIRE.md §B1, SDK-WIRE.md §3.4.
pub(crate) fn decode_oapi<T: serde::de::DeserializeOwned>(
    status: u16,
    header_request_id: Option<String>,
    body: &[u8],
) -> Result<T, Error> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| Error::decode(status, e, body))?;
    // Real answers carry a JSON number; the docs' samples show `"errcode":"0"`. WIRE.md §B1.
    let errcode = match value.get("errcode") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match errcode {
        Some(oapi::errcode::OK) | None if is_success(status) => {
            if let (Some(code), Some(obj)) = (errcode, value.as_object_mut()) {
                obj.insert("errcode".to_owned(), Value::from(code));
            }
            serde_json::from_value(value).map_err(|e| Error::decode(status, e, body))
        }
        Some(code) if code != oapi::errcode::OK => {
            let text = |k: &str| match value.get(k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            Err(Error::from_oapi(
                oapi::OapiError {
                    errcode: code,
                    errmsg: text("errmsg").unwrap_or_default(),
                    sub_code: text("sub_code"),
                    sub_msg: text("sub_msg"),
                    request_id: text("request_id"),
                },
                header_request_id,
            ))
        }
        _ => Err(Error::decode(status, "not a legacy-gateway answer", body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dingdir_proto::api::GetUserResponse;
    use dingdir_proto::oapi::GetTokenResponse;

    fn api(status: u16, code: &str) -> Error {
        Error::Api {
            status,
            code: code.to_owned(),
            message: "m".to_owned(),
            request_id: "R".to_owned(),
            required_scopes: Vec::new(),
        }
    }

    fn oapi(errcode: i64, sub_code: Option<&str>) -> Error {
        Error::Oapi {
            errcode,
            errmsg: "m".to_owned(),
            sub_code: sub_code.map(str::to_owned),
            sub_msg: None,
            request_id: None,
        }
    }

    /// (error, not found, token invalid, system busy, permission denied)
    fn table() -> Vec<(Error, bool, bool, bool, bool)> {
        vec![
            (api(404, "invalidParameter.user.notFound"), true, false, false, false),
            (api(400, "InvalidAuthentication"), false, true, false, false),
            (api(400, "accesstoken.expired"), false, true, false, false),
            (
                api(400, "AuthenticationFailed.MissingParameter"),
                false,
                false,
                false,
                false,
            ),
            (api(503, "system.busy"), false, false, true, false),
            (api(429, "systemBusy"), false, false, true, false),
            (
                api(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied"),
                false,
                false,
                false,
                true,
            ),
            (
                api(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"),
                false,
                false,
                false,
                false,
            ),
            (api(404, "InvalidAction.NotFound"), false, false, false, false),
            (api(400, "invalidClientIdOrSecret"), false, false, false, false),
            (oapi(60121, None), true, false, false, false),
            (oapi(40014, None), false, true, false, false),
            (oapi(42001, None), false, true, false, false),
            (oapi(40001, None), false, true, false, false),
            (oapi(33001, None), false, true, false, false),
            (oapi(88, Some("40014")), false, true, false, false),
            (oapi(88, Some("40000")), false, false, false, false),
            (oapi(88, Some("60011")), false, false, false, true),
            (oapi(60011, None), false, false, false, true),
            (oapi(88, None), false, false, false, false),
            (oapi(-1, None), false, false, true, false),
            (oapi(40104, None), false, false, false, false),
            (oapi(400002, None), false, false, false, false),
            (oapi(40096, None), false, false, false, false),
            (Error::Config("x".to_owned()), false, false, false, false),
            (Error::decode(502, "bad", b"<html>"), false, false, false, false),
        ]
    }

    #[test]
    fn classification_helpers_follow_the_wire_tables() {
        for (e, not_found, token, busy, denied) in table() {
            assert_eq!(e.is_not_found(), not_found, "is_not_found {e:?}");
            assert_eq!(e.is_token_invalid(), token, "is_token_invalid {e:?}");
            assert_eq!(e.is_system_busy(), busy, "is_system_busy {e:?}");
            assert_eq!(e.is_permission_denied(), denied, "is_permission_denied {e:?}");
        }
    }

    #[test]
    fn api_errors_read_the_proto_shape_and_print_status_code_message_and_request_id() {
        let body = r#"{"code":"invalidParameter.user.notFound","message":"找不到该用户","requestid":"01A08FE7-CD6B-79BB-8B2E-35D8768AD457"}"#.as_bytes();
        let e = decode_api::<GetUserResponse>(404, Some("HEADER".to_owned()), body).unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(e.request_id(), Some("01A08FE7-CD6B-79BB-8B2E-35D8768AD457"));
        assert_eq!(
            e.to_string(),
            "404 invalidParameter.user.notFound: 找不到该用户 (request id 01A08FE7-CD6B-79BB-8B2E-35D8768AD457)"
        );
    }

    #[test]
    fn api_permission_errors_carry_the_required_scopes() {
        let body = r#"{"requestid":"R1","code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"没有调用该接口的权限","accessdenieddetail":{"requiredScopes":["Contact.User.Read"]}}"#.as_bytes();
        let e = decode_api::<GetUserResponse>(403, None, body).unwrap_err();
        assert!(e.is_permission_denied());
        assert_eq!(e.required_scopes(), ["Contact.User.Read".to_owned()]);
        assert_eq!(
            e.to_string(),
            "403 Forbidden.AccessDenied.AccessTokenPermissionDenied: 没有调用该接口的权限 (request id R1; required scopes: Contact.User.Read)"
        );
    }

    #[test]
    fn api_errors_in_other_spellings_are_read_leniently() {
        let body = r#"{"Code":"system.busy","Message":"系统繁忙","RequestId":"R2"}"#.as_bytes();
        let e = decode_api::<GetUserResponse>(500, None, body).unwrap_err();
        assert!(e.is_system_busy());
        assert_eq!(e.request_id(), Some("R2"));
        let body = r#"{"code":"unknownError","message":"未知错误"}"#.as_bytes();
        let e = decode_api::<GetUserResponse>(500, Some("FROM-HEADER".to_owned()), body).unwrap_err();
        assert_eq!(e.request_id(), Some("FROM-HEADER"));
    }

    #[test]
    fn non_json_and_shapeless_answers_are_decode_errors() {
        let e = decode_api::<GetUserResponse>(502, None, b"<html>bad gateway</html>").unwrap_err();
        assert!(matches!(&e, Error::Decode { status: 502, body, .. } if body == "<html>bad gateway</html>"));
        let e = decode_api::<GetUserResponse>(403, None, br#"{"status":1111,"wait":5}"#).unwrap_err();
        assert!(matches!(e, Error::Decode { status: 403, .. }));
        let e = decode_api::<GetUserResponse>(200, None, br#"{"nick":"x"}"#).unwrap_err();
        assert!(matches!(e, Error::Decode { status: 200, .. }), "visitor is required");
        let long = vec![b'x'; 2000];
        let Error::Decode { body, .. } = decode_api::<GetUserResponse>(500, None, &long).unwrap_err() else {
            panic!("not a decode error");
        };
        assert_eq!(body.len(), 512);
    }

    #[test]
    fn oapi_answers_succeed_on_errcode_zero_and_fail_typed_otherwise() {
        let ok = br#"{"errcode":0,"access_token":"abc","errmsg":"ok","expires_in":7200}"#;
        let t: GetTokenResponse = decode_oapi(200, None, ok).unwrap();
        assert_eq!((t.access_token.as_str(), t.expires_in), ("abc", 7200));
        let string_zero = br#"{"errcode":"0","access_token":"abc","errmsg":"ok","expires_in":7200}"#;
        assert_eq!(decode_oapi::<GetTokenResponse>(200, None, string_zero).unwrap(), t);

        let wrapped = r#"{"errcode":88,"sub_code":"60011","sub_msg":"应用尚未开通所需的权限：[qyapi_get_member_by_mobile]","errmsg":"ding talk error[subcode=60011,submsg=应用尚未开通所需的权限：[qyapi_get_member_by_mobile]]","request_id":"abc123"}"#;
        let e = decode_oapi::<GetTokenResponse>(200, None, wrapped.as_bytes()).unwrap_err();
        assert!(e.is_permission_denied());
        assert_eq!(
            e.to_string(),
            "errcode 88 (sub_code 60011): 应用尚未开通所需的权限：[qyapi_get_member_by_mobile] (request id abc123)"
        );
        let busy =
            decode_oapi::<GetTokenResponse>(200, None, r#"{"errcode":-1,"errmsg":"系统繁忙"}"#.as_bytes()).unwrap_err();
        assert!(busy.is_system_busy());
        assert_eq!(busy.to_string(), "errcode -1: 系统繁忙");
        let numeric_sub =
            decode_oapi::<GetTokenResponse>(200, None, br#"{"errcode":88,"sub_code":40014,"errmsg":"x"}"#).unwrap_err();
        assert!(numeric_sub.is_token_invalid());
        let e = decode_oapi::<GetTokenResponse>(
            200,
            Some("H".to_owned()),
            r#"{"errcode":"60121","errmsg":"找不到该用户"}"#.as_bytes(),
        )
        .unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(e.request_id(), Some("H"));
    }

    #[test]
    fn oapi_non_json_or_non_200_without_errcode_are_decode_errors() {
        let e = decode_oapi::<GetTokenResponse>(200, None, b"<html>").unwrap_err();
        assert!(matches!(e, Error::Decode { status: 200, .. }));
        let e = decode_oapi::<GetTokenResponse>(403, None, br#"{"status":1111,"punish":"deny"}"#).unwrap_err();
        assert!(matches!(e, Error::Decode { status: 403, .. }));
        let e = decode_oapi::<GetTokenResponse>(200, None, br#"{"errcode":0,"errmsg":"ok"}"#).unwrap_err();
        assert!(matches!(e, Error::Decode { status: 200, .. }), "no access_token");
    }
}
