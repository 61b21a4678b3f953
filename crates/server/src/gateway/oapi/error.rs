//! The one place the legacy gateway's errors take their wire form.

use crate::request::{self, request_id};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dingdir_core::Error as Domain;
use dingdir_proto::oapi::{Envelope, OapiError, errcode, path};

/// A legacy-gateway failure: a domain error, or one of the HTTP edge's own.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// What the domain refused.
    #[error(transparent)]
    Domain(#[from] Domain),
    /// No route has this path; `api_name` is the TOP method name it would have been.
    #[error("unknown route {api_name}")]
    UnknownRoute {
        /// `dingtalk.oapi.v2.user.notexist` for `/topapi/v2/user/notexist`.
        api_name: String,
    },
    /// The route takes POST only.
    #[error("needs POST")]
    NeedsPost,
    /// The route takes GET only.
    #[error("needs GET")]
    NeedsGet,
    /// The body could not be read as the endpoint's parameters.
    #[error("bad body: {0}")]
    BadBody(String),
    /// The body is over the size limit.
    #[error("body too large")]
    BodyTooLarge,
    /// A handler panicked.
    #[error("handler panicked")]
    Panicked,
    /// Over the in-flight limit.
    #[error("busy")]
    Busy,
    /// Over a rate limit ([`dingdir_core::rate`]).
    #[error("over the rate limit of {limit} per {per:?}")]
    RateLimited {
        /// The limit's window.
        per: dingdir_proto::admin::RateWindow,
        /// Whether it is the global per-API limit (every app together).
        all_apps: bool,
        /// Calls allowed in it.
        limit: u64,
        /// Calls counted in it, this one included.
        hits: u64,
        /// The window, in ms since the epoch.
        window: (i64, i64),
        /// The path called.
        path: String,
    },
    /// A custom robot refused a message (docs/wire/robots.md §A3).
    #[error("robot refused: {0}")]
    Robot(dingdir_core::robot::RobotRefusal),
    /// A work-notification or media refusal, with its own errcode, never wrapped.
    #[error("refused: {0}")]
    Refusal(dingdir_core::notice::OapiRefusal),
    /// A fault rule's answer ([`crate::faults`]).
    #[error("injected errcode {errcode}")]
    Injected {
        /// The errcode.
        errcode: i64,
        /// The errmsg.
        errmsg: String,
    },
    /// An input only one path's wire form has, refused with that path's own code (the old
    /// batch delete's `useridlist`).
    #[error("refused: {errmsg}")]
    Refused {
        /// The errcode.
        errcode: i64,
        /// The errmsg.
        errmsg: &'static str,
    },
}

/// An errcode, its message, and whether `/topapi/*` wraps it as `88` + `sub_code`.
struct Parts {
    errcode: i64,
    errmsg: String,
    wrapped: bool,
}

fn direct(errcode: i64, errmsg: impl Into<String>) -> Parts {
    Parts {
        errcode,
        errmsg: errmsg.into(),
        wrapped: false,
    }
}

fn wrapped(errcode: i64, errmsg: impl Into<String>) -> Parts {
    Parts {
        errcode,
        errmsg: errmsg.into(),
        wrapped: true,
    }
}

impl Error {
    pub(crate) fn unknown_route(p: &str) -> Self {
        let api_name = format!(
            "dingtalk.oapi.{}",
            p.trim_start_matches(path::TOPAPI_PREFIX)
                .trim_matches('/')
                .replace('/', ".")
        );
        Self::UnknownRoute { api_name }
    }

    pub(crate) fn method_not_allowed(path: &str) -> Self {
        match super::Endpoint::at(path).map(super::Endpoint::method) {
            Some(m) if m == Method::GET => Self::NeedsGet,
            _ => Self::NeedsPost,
        }
    }

    #[deny(clippy::wildcard_enum_match_arm)]
    fn parts(&self, envelope: Envelope) -> Parts {
        let topapi = envelope == Envelope::Top;
        match self {
            // WIRE.md §B2, probe P9 ("access_token is blank"); documented 41001 off topapi.
            Self::Domain(Domain::TokenMissing) if topapi => wrapped(errcode::TOKEN_MISSING, "access_token is blank"),
            Self::Domain(Domain::TokenMissing) => direct(41001, "缺少access_token参数"),
            // WIRE.md §B1-B2, probe P8/P11; expired tokens answer as invalid ones.
            Self::Domain(Domain::TokenInvalid | Domain::TokenExpired) => {
                wrapped(errcode::TOKEN_INVALID, "不合法的access_token")
            }
            // WIRE.md §B2: 88 + "60011" with the missing permission named.
            Self::Domain(
                Domain::ScopeMissing { scope } | Domain::WrongAppType { scope } | Domain::WrongTokenKind { scope },
            ) => wrapped(errcode::NO_PERMISSION, format!("应用尚未开通所需的权限：[{scope}]")),
            // Seed 003.
            Self::Domain(Domain::UserNotFound) => direct(errcode::USER_NOT_FOUND, "找不到该用户"),
            // docs/wire/directory-read.md §1.6: the real text of 60003.
            Self::Domain(Domain::DepartmentNotFound) => direct(errcode::DEPT_NOT_FOUND, "部门不存在"),
            // docs/wire/directory-read.md §1.4: the real texts, sent plain (UNCONFIRMED on /topapi).
            Self::Domain(Domain::UserOutOfRange) => {
                direct(errcode::USER_OUT_OF_RANGE, "请求的员工userid不在授权范围内")
            }
            Self::Domain(Domain::DepartmentOutOfRange) => {
                direct(errcode::DEPT_OUT_OF_RANGE, "请求的部门id不在授权范围内")
            }
            // docs/wire/writes-and-callbacks.md §1: the error table's codes and texts.
            Self::Domain(Domain::WriteRefused(why)) => refused(*why),
            // docs/wire/writes-and-callbacks.md §2.6: the error table's callback codes.
            Self::Domain(Domain::CallbackRefused(why)) => callback_refused(why),
            Self::Domain(Domain::AppNotFound) => direct(errcode::BAD_APP_CREDENTIALS, "不合法的appKey或appSecret"),
            Self::Domain(Domain::MobileMissing) => direct(errcode::INVALID_PARAMETER, "无效的参数：mobile"),
            Self::Domain(Domain::InvalidParameter { name }) => {
                direct(errcode::INVALID_PARAMETER, format!("无效的参数：{name}"))
            }
            // docs/wire/directory-read.md §1.6: the endpoint pages' texts.
            Self::Domain(Domain::IllegalParameter { .. }) => direct(errcode::ILLEGAL_PARAMETER, "参数非法"),
            Self::Domain(Domain::CursorInvalid) => direct(errcode::BAD_CURSOR, "无效的偏移量"),
            Self::Domain(Domain::PageSizeInvalid) => direct(errcode::BAD_PAGE_SIZE, "无效的size"),
            Self::Domain(Domain::MobileMalformed) => direct(errcode::BAD_MOBILE, "企业中无效的手机号"),
            // WIRE.md §C1, probe P1 and P2.
            Self::Domain(Domain::BadAppSecret) => direct(errcode::BAD_APP_CREDENTIALS, "不合法的appKey或appSecret"),
            Self::Domain(Domain::AppCredentialsMissing) => {
                direct(errcode::MISSING_PARAMETER, "缺少参数 corpid or appkey")
            }
            // Not served on this gateway today; the documented codes of the global table.
            Self::Domain(Domain::BadSuiteKey | Domain::BadSuiteTicket) => direct(40089, "不合法的corpId或corpSecret"),
            Self::Domain(Domain::NotAuthorised) => direct(50002, "不在授权范围"),
            // docs/wire/directory-read.md §2.15: the newest real answer is in English.
            Self::Domain(Domain::CodeInvalid | Domain::RefreshTokenInvalid) => {
                direct(40078, "nonexistent temp auth code")
            }
            // Seed 003: -1 系统繁忙, for overload and for anything the server cannot do now.
            Self::Domain(Domain::Overloaded | Domain::Store(_)) | Self::Busy | Self::Panicked => {
                direct(errcode::SYSTEM_BUSY, "系统繁忙")
            }
            // WIRE.md §B1, probe P14 (topapi); §C4, probe P12 (other paths).
            Self::UnknownRoute { api_name } if topapi => direct(
                errcode::UNKNOWN_API,
                format!("Invalid method[submsg=不合法ApiName，ApiName = {api_name}]"),
            ),
            Self::UnknownRoute { .. } => direct(errcode::URI_NOT_FOUND, "请求的URI地址不存在"),
            // WIRE.md §B2.
            Self::NeedsPost => direct(errcode::NEEDS_POST, "需要POST请求"),
            Self::NeedsGet => direct(errcode::NEEDS_GET, "需要GET请求"),
            Self::BadBody(why) => direct(errcode::INVALID_PARAMETER, format!("无效的参数：{why}")),
            Self::BodyTooLarge => direct(errcode::INVALID_PARAMETER, "无效的参数：请求体过大"),
            // docs/wire/rate-limits.md: 90018 per second, 90006 per minute; a TOP-layer refusal,
            // so wrapped in 88 on /topapi/ as the 2018 capture of 90002 is.
            Self::RateLimited {
                per,
                all_apps,
                limit,
                hits,
                window,
                path,
            } => rate_limited((*per, *all_apps), (*limit, *hits), *window, path, topapi),
            // As the rule gives it: a rule that wants the 88 wrapper gives errcode 88.
            Self::Robot(why) => {
                let (errcode, errmsg) = why.wire();
                direct(errcode, errmsg)
            }
            Self::Injected { errcode, errmsg } => direct(*errcode, errmsg.clone()),
            // docs/wire/messages.md §B and §C: each refusal's code, as the endpoint answers it.
            Self::Refusal(r) => direct(r.errcode, r.errmsg.clone()),
            Self::Refused { errcode, errmsg } => direct(*errcode, (*errmsg).to_owned()),
        }
    }
}

/// A refused directory write's errcode and text. docs/wire/writes-and-callbacks.md §1.
fn callback_refused(why: &dingdir_core::callback::CallbackRefusal) -> Parts {
    use dingdir_core::callback::CallbackRefusal as R;
    match why {
        R::Exists => direct(errcode::CALLBACK_EXISTS, "回调地址已经存在"),
        R::Missing => direct(errcode::CALLBACK_MISSING, "回调地址已不存在"),
        R::Invalid(why) => direct(errcode::CALLBACK_BAD_FIELD, format!("回调参数错误：{why}")),
        R::Unreachable(why) => direct(errcode::CALLBACK_UNREACHABLE, format!("url地址访问异常：{why}")),
        R::NotSuccess(why) => direct(errcode::CALLBACK_NOT_SUCCESS, format!("返回文本非success：{why}")),
    }
}

fn refused(why: dingdir_core::Refusal) -> Parts {
    use dingdir_core::Refusal as R;
    let (code, text) = match why {
        R::UserIdTaken => (errcode::USERID_TAKEN, "UserID在公司中已存在"),
        R::MobileTaken => (errcode::MOBILE_TAKEN, "手机号码在公司中已存在"),
        R::MobileInvalid => (errcode::MOBILE_INVALID, "手机号码不合法"),
        R::ParentNotFound => (errcode::PARENT_NOT_FOUND, "父亲部门不存在"),
        R::DepartmentHasMembers => (errcode::DEPT_HAS_MEMBERS, "不允许删除有成员的部门"),
        R::DepartmentHasChildren => (errcode::DEPT_HAS_CHILDREN, "不允许删除有子部门的部门"),
        R::RootUndeletable => (errcode::ROOT_UNDELETABLE, "不允许删除根部门"),
        R::RootUnchangeable => (errcode::ROOT_UNCHANGEABLE, "不允许更新根部门"),
        R::DepartmentCycle => (errcode::DEPT_CYCLE, "部门不能设置为自己的子部门"),
        R::DepartmentNameTaken => (errcode::DEPT_NAME_TAKEN, "父部门下该部门名称已存在"),
    };
    direct(code, text)
}

/// The rate-limit answer. The 90018 text is a guess modelled on the real 90002 text
/// (docs/wire/rate-limits.md §1): the official sentence, then the API, the window in Beijing
/// time, the limit and when the refusal ends. 90006's text is the global error table's.
fn rate_limited(
    (per, all_apps): (dingdir_proto::admin::RateWindow, bool),
    (limit, hits): (u64, u64),
    (start, end): (i64, i64),
    path: &str,
    topapi: bool,
) -> Parts {
    let api = if topapi {
        format!(
            "dingtalk.oapi.{}",
            path.trim_start_matches(path::TOPAPI_PREFIX)
                .trim_matches('/')
                .replace('/', ".")
        )
    } else {
        path.to_owned()
    };
    let (code, errmsg) = match per {
        // The global per-API limit: the 2019 capture's code and text, word for word in form.
        dingdir_proto::admin::RateWindow::Second | dingdir_proto::admin::RateWindow::Minute if all_apps => (
            errcode::API_QPS_LIMIT,
            format!(
                "您的服务器调用钉钉开放平台当前接口的所有请求都被暂时禁用了, apiPath({api}), 从 {} 到 {} 请求总次数超过了 {limit} 次, 处罚将在 {} 结束.",
                beijing(start),
                beijing(end - 1),
                beijing(end)
            ),
        ),
        dingdir_proto::admin::RateWindow::Second => (
            errcode::APP_QPS_LIMIT,
            format!(
                "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了, apiPath({api}), 从 {} 到 {} 请求总次数超过了 {limit} 次, 处罚将在 {} 结束.",
                beijing(start),
                beijing(end - 1),
                beijing(end)
            ),
        ),
        dingdir_proto::admin::RateWindow::Minute => (
            errcode::APP_QPM_LIMIT,
            "您当前使用的CorpId及CorpSecret调用当前接口次数过多，请求被暂时禁用了，仅对企业自己的Accesstoken有效"
                .to_owned(),
        ),
        dingdir_proto::admin::RateWindow::Month => (
            errcode::ORG_MONTHLY_QUOTA,
            format!(
                "您的企业本月api调用量已超过限制,调用量:{hits}次,额度:{limit}次,请登录开发者后台-资源管理-查看用量明细"
            ),
        ),
    };
    if topapi {
        wrapped(code, errmsg)
    } else {
        direct(code, errmsg)
    }
}

/// `2019-02-13 20:40:04`: an instant in Beijing time (UTC+8), as the legacy gateway writes it.
fn beijing(ms: i64) -> String {
    dingdir_core::iso_time::format_utc(ms + 8 * 3_600_000)
        .trim_end_matches('Z')
        .replace('T', " ")
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let envelope = request::envelope();
        let Parts {
            errcode,
            errmsg,
            wrapped,
        } = self.parts(envelope);
        let logged = request::log_budget(crate::request::LogKind::Refusal);
        if logged && errcode == errcode::SYSTEM_BUSY {
            tracing::error!(request = %request::current(), error = %self, "legacy gateway answered system busy");
        } else if logged {
            tracing::info!(request = %request::current(), error = %self, errcode, "legacy gateway refused the request");
        }
        let topapi = envelope == Envelope::Top;
        let body = if wrapped && topapi {
            OapiError {
                errcode: errcode::TOP_WRAPPED,
                errmsg: format!("ding talk error[subcode={errcode},submsg={errmsg}]"),
                sub_code: Some(errcode.to_string()),
                sub_msg: Some(errmsg),
                request_id: Some(request_id()),
            }
        } else {
            OapiError {
                errcode,
                errmsg,
                sub_code: None,
                sub_msg: None,
                request_id: topapi.then(request_id),
            }
        };
        let mut response = json_response(&body);
        response
            .extensions_mut()
            .insert(crate::request::Answered::Errcode(body.errcode));
        response
    }
}

/// An HTTP 200 JSON answer in the envelope of the endpoint being served: its row's, so a
/// handler cannot answer in another.
pub(crate) fn json_response<T: serde::Serialize>(body: &T) -> Response {
    let bytes = crate::body::to_json(body);
    let mut response = (StatusCode::OK, bytes).into_response();
    let content_type = request::envelope().content_type();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A `/topapi/*` success carrying `result`.
pub(crate) fn top_ok<T: serde::Serialize>(result: &T) -> Response {
    json_response(&dingdir_proto::oapi::TopResponse {
        errcode: errcode::OK,
        errmsg: "ok".to_owned(),
        result,
        request_id: request_id(),
    })
}

/// A `/topapi/*` success with no `result` (an update or a delete).
pub(crate) fn top_done() -> Response {
    #[derive(serde::Serialize)]
    struct Done {
        errcode: i64,
        errmsg: &'static str,
        request_id: String,
    }
    json_response(&Done {
        errcode: errcode::OK,
        errmsg: "ok",
        request_id: request_id(),
    })
}

/// A `/topapi/*` success whose `result` is already serialised JSON (a cached page): the same
/// bytes [`top_ok`] would write, without serialising the result again.
pub(crate) fn top_ok_json(result: &[u8]) -> Response {
    let rid = serde_json::to_string(&request_id()).unwrap_or_else(|_| "\"\"".to_owned());
    let mut body = Vec::with_capacity(result.len() + 80);
    body.extend_from_slice(br#"{"errcode":0,"errmsg":"ok","result":"#);
    body.extend_from_slice(result);
    body.extend_from_slice(br#","request_id":"#);
    body.extend_from_slice(rid.as_bytes());
    body.push(b'}');
    let mut response = (StatusCode::OK, body).into_response();
    let content_type = request::envelope().content_type();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
