//! The one place the new gateway's errors take their wire form.

use crate::request::{self, request_id};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dingdir_core::{Error as Domain, StoreError};
use dingdir_proto::api::{AccessDeniedDetail, ApiError, CONTENT_TYPE, code};
use std::borrow::Cow;

/// An answer's status, code, message and access-denied detail.
type Parts = (StatusCode, Cow<'static, str>, String, Option<AccessDeniedDetail>);

/// A new-gateway failure: a domain error, or one of the HTTP edge's own.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// What the domain refused.
    #[error(transparent)]
    Domain(#[from] Domain),
    /// No route has this path and method.
    #[error("unknown route")]
    UnknownRoute,
    /// A JSON body was required and none came.
    #[error("missing body")]
    MissingBody,
    /// The body is not the JSON the endpoint takes.
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
    #[error("over the rate limit per {0:?} (every app together: {1})")]
    /// The window, and whether the limit is the global per-API one (every app together).
    RateLimited(dingdir_proto::admin::RateWindow, bool),
    /// Stream mode refused to open or connect: the status, the code and the message.
    #[error("stream refused: {0} {1}")]
    Stream(StatusCode, &'static str, String),
    /// An app robot's refusal (docs/wire/messages.md §A): HTTP 400 with its code.
    #[error("refused: {0}")]
    Refused(dingdir_core::app_robot::ApiRefusal),
    /// A fault rule's answer ([`crate::faults`]).
    #[error("injected {status} {code}")]
    Injected {
        /// The HTTP status.
        status: StatusCode,
        /// The code.
        code: String,
        /// The message.
        message: String,
    },
}

fn denied(scope: &str) -> Parts {
    (
        StatusCode::FORBIDDEN,
        Cow::Borrowed(code::ACCESS_DENIED),
        format!(
            "没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp/add-api-permission ({scope})"
        ),
        Some(AccessDeniedDetail {
            required_scopes: vec![scope.to_owned()],
        }),
    )
}

impl Error {
    #[deny(clippy::wildcard_enum_match_arm)]
    fn parts(&self) -> Parts {
        use StatusCode as S;
        let plain = |status, code: &'static str, msg: &str| (status, Cow::Borrowed(code), msg.to_owned(), None);
        match self {
            // WIRE.md §A2, seed 000.
            Self::Domain(Domain::UserNotFound) => plain(S::NOT_FOUND, code::USER_NOT_FOUND, "找不到该用户"),
            // No new-gateway endpoint reads departments yet; the code is our choice.
            Self::Domain(Domain::DepartmentNotFound) => plain(S::NOT_FOUND, code::DEPT_NOT_FOUND, "部门不存在"),
            Self::Domain(Domain::UserOutOfRange) => plain(S::FORBIDDEN, code::OUT_OF_RANGE, "员工不在授权范围内"),
            Self::Domain(Domain::DepartmentOutOfRange) => plain(S::FORBIDDEN, code::OUT_OF_RANGE, "部门不在授权范围内"),
            Self::Domain(Domain::MobileMissing) => plain(S::BAD_REQUEST, code::MISSING_PARAMETER, "缺少参数：mobile"),
            Self::Domain(Domain::MobileMalformed) => plain(S::BAD_REQUEST, code::INVALID_PARAMETER, "无效的手机号"),
            Self::Domain(Domain::InvalidParameter { name }) => (
                S::BAD_REQUEST,
                Cow::Borrowed(code::INVALID_PARAMETER),
                format!("参数错误：{name}"),
                None,
            ),
            // docs/wire/directory-read.md §2.16: the page's code and text, `%s` the parameter.
            Self::Domain(Domain::IllegalParameter { name }) => (
                S::BAD_REQUEST,
                Cow::Borrowed(code::PARAM_INVALID),
                format!("入参错误：{name}"),
                None,
            ),
            // No new-gateway endpoint writes the directory yet; the code is our choice.
            Self::Domain(Domain::WriteRefused(why)) => plain(S::CONFLICT, code::INVALID_PARAMETER, &why.to_string()),
            // No new-gateway endpoint registers callbacks; the code is our choice.
            Self::Domain(Domain::CallbackRefused(why)) => {
                plain(S::BAD_REQUEST, code::INVALID_PARAMETER, &why.to_string())
            }
            Self::Domain(Domain::AppNotFound) => plain(S::NOT_FOUND, code::INVALID_PARAMETER, "应用不存在"),
            Self::Domain(Domain::CursorInvalid) => {
                plain(S::BAD_REQUEST, code::INVALID_PARAMETER, "参数错误：nextToken")
            }
            Self::Domain(Domain::PageSizeInvalid) => {
                plain(S::BAD_REQUEST, code::INVALID_PARAMETER, "参数错误：maxResults")
            }
            // WIRE.md §A2, probe P7/P10.
            Self::Domain(Domain::TokenMissing) => plain(
                S::BAD_REQUEST,
                code::MISSING_TOKEN,
                "缺少参数：x-acs-dingtalk-access-token",
            ),
            // WIRE.md §A2, probe P6; expired tokens answer the same.
            Self::Domain(Domain::TokenInvalid | Domain::TokenExpired) => {
                plain(S::BAD_REQUEST, code::INVALID_AUTHENTICATION, "不合法的access_token")
            }
            // WIRE.md §A2 (casdoor PR #4469): missing scope, or the wrong kind of token.
            Self::Domain(
                Domain::ScopeMissing { scope } | Domain::WrongTokenKind { scope } | Domain::WrongAppType { scope },
            ) => denied(scope),
            // WIRE.md §C2, probe P3.
            Self::Domain(Domain::BadAppSecret | Domain::AppCredentialsMissing) => {
                plain(S::BAD_REQUEST, code::INVALID_CLIENT, "无效的clientId或者clientSecret")
            }
            // WIRE.md §C4.
            Self::Domain(Domain::BadSuiteKey) => {
                plain(S::BAD_REQUEST, code::INVALID_SUITE_KEY, "无效的suiteKey或suiteSecret")
            }
            Self::Domain(Domain::BadSuiteTicket) => {
                plain(S::BAD_REQUEST, code::INVALID_SUITE_TICKET, "无效的suiteTicket")
            }
            Self::Domain(Domain::NotAuthorised) => plain(S::BAD_REQUEST, code::INVALID_AUTH_INFO, "企业未授权该应用"),
            // WIRE.md §C3 (global table: invalidCode 无效的授权码).
            Self::Domain(Domain::CodeInvalid) => plain(S::BAD_REQUEST, code::INVALID_CODE, "无效的授权码"),
            // Ours: DingTalk documents no code for a bad refresh token.
            Self::Domain(Domain::RefreshTokenInvalid) => {
                plain(S::BAD_REQUEST, code::INVALID_REFRESH_TOKEN, "无效的refreshToken")
            }
            // WIRE.md §A2: system.busy.
            Self::Domain(
                Domain::Overloaded
                | Domain::Store(StoreError::Unavailable(_) | StoreError::TimedOut | StoreError::Stale(_)),
            )
            | Self::Busy => plain(S::SERVICE_UNAVAILABLE, code::SYSTEM_BUSY, "系统繁忙"),
            // WIRE.md §A2, probe P4.
            Self::Domain(Domain::Store(
                StoreError::Conflict(_) | StoreError::Refused(_) | StoreError::Corrupt(_) | StoreError::Other(_),
            ))
            | Self::Panicked => plain(S::INTERNAL_SERVER_ERROR, code::UNKNOWN_ERROR, "未知错误"),
            // WIRE.md §A2 (zhayujie/CowAgent#2490).
            Self::UnknownRoute => plain(
                S::NOT_FOUND,
                code::NOT_FOUND,
                "specified api is not found, please check your url and method.",
            ),
            // WIRE.md §A2 (aliyun/alibabacloud-php-sdk#36).
            Self::MissingBody => plain(S::BAD_REQUEST, code::MISSING_BODY, "body is mandatory for this action."),
            Self::BadBody(why) => (
                S::BAD_REQUEST,
                Cow::Borrowed(code::INVALID_PARAMETER),
                format!("请求体不是合法的JSON：{why}"),
                None,
            ),
            Self::BodyTooLarge => plain(S::PAYLOAD_TOO_LARGE, code::BODY_TOO_LARGE, "请求体过大"),
            // docs/wire/rate-limits.md §2: 403 with the global error table's code and text.
            // The global per-API limit (docs/wire/rate-limits.md §2): its own code; the message
            // is the same sentence (a guess: no capture of this body was found).
            Self::RateLimited(
                dingdir_proto::admin::RateWindow::Second | dingdir_proto::admin::RateWindow::Minute,
                true,
            ) => plain(
                S::FORBIDDEN,
                code::API_QPS_LIMIT,
                "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
            ),
            Self::RateLimited(dingdir_proto::admin::RateWindow::Second, _) => plain(
                S::FORBIDDEN,
                code::QPS_LIMIT,
                "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
            ),
            Self::RateLimited(dingdir_proto::admin::RateWindow::Minute, _) => plain(
                S::FORBIDDEN,
                code::QPM_LIMIT,
                "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
            ),
            // The message is a guess: only the code is published.
            Self::RateLimited(dingdir_proto::admin::RateWindow::Month, _) => plain(
                S::FORBIDDEN,
                code::API_COUNT_LIMIT,
                "您的企业本月api调用量已超过限制,请登录开发者后台-资源管理-查看用量明细",
            ),
            Self::Stream(status, code, message) => (*status, Cow::Borrowed(*code), message.clone(), None),
            Self::Injected { status, code, message } => (*status, Cow::Owned(code.clone()), message.clone(), None),
            Self::Refused(r) => (S::BAD_REQUEST, Cow::Borrowed(r.code), r.message.clone(), None),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message, accessdenieddetail) = self.parts();
        let logged = request::log_budget(crate::request::LogKind::Refusal);
        if logged && status.is_server_error() {
            tracing::error!(request = %request::current(), error = %self, "new gateway answered {status}");
        } else if logged {
            tracing::info!(request = %request::current(), error = %self, "new gateway refused the request");
        }
        let body = ApiError {
            code: code.into_owned(),
            message,
            requestid: request_id(),
            accessdenieddetail,
        };
        let mut response = json_response(status, &body);
        response
            .extensions_mut()
            .insert(crate::request::Answered::Code(body.code.into()));
        response
    }
}

/// A JSON answer with the new gateway's content type.
pub(crate) fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    json_bytes_response(status, crate::body::to_json(body))
}

/// An answer already serialised as JSON, with the new gateway's content type.
pub(crate) fn json_bytes_response(status: StatusCode, json: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, json.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
