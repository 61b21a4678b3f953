//! The one place the sign-in pages' errors take their form: an HTML error page that never
//! redirects (an unverified redirect URI must never receive the browser).

use super::pages::{self, ErrorView, Lang, Text};
use crate::request::{self, request_id};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dingdir_core::Error as Domain;

/// A sign-in failure shown as a page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A request the page cannot take: what is wrong, in the page's language.
    #[error("{message:?}")]
    Page {
        /// The page language.
        lang: Lang,
        /// The HTTP status.
        status: StatusCode,
        /// What to tell the person.
        message: Text,
    },
    /// What the domain refused, in a flow that had no page language yet to tell it in.
    #[error(transparent)]
    Domain(dingdir_core::Error),
    /// No such page.
    #[error("no such page")]
    NotFound,
    /// The store failed or the server is over its limits.
    #[error("busy")]
    Busy,
    /// A handler panicked.
    #[error("handler panicked")]
    Panicked,
}

impl Error {
    pub(crate) fn page(lang: Lang, status: StatusCode, message: Text) -> Self {
        Self::Page { lang, status, message }
    }
}

impl From<dingdir_core::StoreError> for Error {
    fn from(e: dingdir_core::StoreError) -> Self {
        dingdir_core::Error::from(e).into()
    }
}

impl From<Domain> for Error {
    fn from(e: Domain) -> Self {
        Self::Domain(e)
    }
}

/// A domain refusal as a page: its status and what it tells the person. A store that fails or
/// a server over its limits is "busy"; a flow whose person or grant is gone asks to start again.
#[deny(clippy::wildcard_enum_match_arm)]
fn domain_page(e: &Domain) -> (StatusCode, Text) {
    match e {
        Domain::Store(_) | Domain::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, Text::Busy),
        Domain::NotAuthorised | Domain::UserOutOfRange | Domain::DepartmentOutOfRange => {
            (StatusCode::FORBIDDEN, Text::NotAMember)
        }
        Domain::UserNotFound | Domain::DepartmentNotFound | Domain::CodeInvalid | Domain::RefreshTokenInvalid => {
            (StatusCode::BAD_REQUEST, Text::ExpiredForm)
        }
        Domain::MobileMissing | Domain::MobileMalformed => (StatusCode::BAD_REQUEST, Text::WrongPassword),
        Domain::BadAppSecret | Domain::AppCredentialsMissing | Domain::BadSuiteKey | Domain::BadSuiteTicket => {
            (StatusCode::BAD_REQUEST, Text::UnknownClient)
        }
        Domain::InvalidParameter { .. }
        | Domain::WriteRefused(_)
        | Domain::CallbackRefused(_)
        | Domain::AppNotFound
        | Domain::IllegalParameter { .. }
        | Domain::CursorInvalid
        | Domain::PageSizeInvalid
        | Domain::TokenMissing
        | Domain::TokenInvalid
        | Domain::TokenExpired
        | Domain::ScopeMissing { .. }
        | Domain::WrongTokenKind { .. }
        | Domain::WrongAppType { .. } => (StatusCode::BAD_REQUEST, Text::InvalidRequest),
    }
}

/// A text in both languages, for pages shown before the language is known.
fn bilingual(key: Text) -> String {
    format!("{} / {}", pages::text(Lang::Zh, key), pages::text(Lang::En, key))
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (lang, status, message) = match &self {
            Self::Page { lang, status, message } => (*lang, *status, pages::text(*lang, *message).to_owned()),
            Self::Domain(e) => {
                let (status, text) = domain_page(e);
                (Lang::Zh, status, bilingual(text))
            }
            Self::NotFound => (
                Lang::Zh,
                StatusCode::NOT_FOUND,
                pages::text(Lang::Zh, Text::InvalidRequest).to_owned(),
            ),
            Self::Busy => (Lang::Zh, StatusCode::SERVICE_UNAVAILABLE, bilingual(Text::Busy)),
            Self::Panicked => (Lang::Zh, StatusCode::INTERNAL_SERVER_ERROR, bilingual(Text::Internal)),
        };
        if status.is_server_error() && request::log_budget(request::LogKind::SignIn) {
            tracing::error!(request = %request::current(), error = %self, "sign-in page answered {status}");
        }
        let rid = request_id();
        let html = pages::error_page(&ErrorView {
            lang,
            title: pages::text(lang, Text::InvalidRequest),
            message: &message,
            request_id: &rid,
        });
        html_response(status, html)
    }
}

/// An HTML page with headers that keep it out of frames and caches.
pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    html_response_under(
        status,
        html,
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
    )
}

/// [`html_response`] under the content security policy `csp`: for a page with its own files.
pub(crate) fn html_response_under(status: StatusCode, html: String, csp: &'static str) -> Response {
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    response
}
