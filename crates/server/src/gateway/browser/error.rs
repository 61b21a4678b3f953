//! The one place the sign-in pages' errors take their form: an HTML error page that never
//! redirects (an unverified redirect URI must never receive the browser).

use super::pages::{self, ErrorView, Lang, Text};
use crate::request::{self, request_id};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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

impl From<dingdir_core::Error> for Error {
    fn from(e: dingdir_core::Error) -> Self {
        tracing::error!(request = %request::current(), error = %e, "sign-in page failed");
        Self::Busy
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (lang, status, message) = match &self {
            Self::Page { lang, status, message } => (*lang, *status, pages::text(*lang, *message)),
            Self::NotFound => (
                Lang::Zh,
                StatusCode::NOT_FOUND,
                pages::text(Lang::Zh, Text::InvalidRequest),
            ),
            Self::Busy => (
                Lang::Zh,
                StatusCode::SERVICE_UNAVAILABLE,
                "系统繁忙，请稍后再试 / System busy; try again later",
            ),
            Self::Panicked => (Lang::Zh, StatusCode::INTERNAL_SERVER_ERROR, "系统错误 / Internal error"),
        };
        let rid = request_id();
        let html = pages::error_page(&ErrorView {
            lang,
            title: pages::text(lang, Text::InvalidRequest),
            message,
            request_id: &rid,
        });
        html_response(status, html)
    }
}

/// An HTML page with headers that keep it out of frames and caches.
pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}
