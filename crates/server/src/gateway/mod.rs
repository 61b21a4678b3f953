//! The gateways, and the fallbacks that route an unknown path or method to the right one.
//!
//! axum allows one fallback across merged routers, so the root fallback picks the gateway by
//! path prefix: `/v1.0/` is the new gateway, `/_dingdir/` the admin API, `/oauth2/` the browser
//! sign-in, the rest the legacy one.

pub(crate) mod admin;
pub(crate) mod api;
pub(crate) mod browser;
pub(crate) mod oapi;

use crate::state::AppState;
use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use dingdir_proto::{admin::path as admin_path, api::path as api_path, browser::path as browser_path};

/// Which wire form a path answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gateway {
    /// The new gateway, `api.dingtalk.com`.
    Api,
    /// The legacy gateway, `oapi.dingtalk.com`.
    Oapi,
    /// dingdir's admin API.
    Admin,
    /// The browser sign-in pages (`/oauth2/...`, as on `login.dingtalk.com`).
    Browser,
}

impl Gateway {
    /// The gateway a path belongs to.
    pub fn of(path: &str) -> Self {
        if path.starts_with(api_path::PREFIX) {
            Self::Api
        } else if path.starts_with(admin_path::PREFIX) {
            Self::Admin
        } else if path.starts_with(browser_path::PREFIX) {
            Self::Browser
        } else {
            Self::Oapi
        }
    }

    pub(crate) fn busy(self) -> Response {
        match self {
            Self::Api => api::Error::Busy.into_response(),
            Self::Oapi => oapi::Error::Busy.into_response(),
            Self::Admin => admin::Error::Busy.into_response(),
            Self::Browser => browser::Error::Busy.into_response(),
        }
    }

    pub(crate) fn panicked(self) -> Response {
        match self {
            Self::Api => api::Error::Panicked.into_response(),
            Self::Oapi => oapi::Error::Panicked.into_response(),
            Self::Admin => admin::Error::Panicked.into_response(),
            Self::Browser => browser::Error::Panicked.into_response(),
        }
    }
}

/// The answer to a path no route serves.
pub(crate) async fn fallback(uri: Uri) -> Response {
    match Gateway::of(uri.path()) {
        Gateway::Api => api::Error::UnknownRoute.into_response(),
        Gateway::Oapi => oapi::Error::unknown_route(uri.path()).into_response(),
        Gateway::Admin => admin::Error::NotFound.into_response(),
        Gateway::Browser => browser::Error::NotFound.into_response(),
    }
}

/// The answer to a known path asked with a method it does not take.
pub(crate) async fn method_not_allowed(uri: Uri) -> Response {
    match Gateway::of(uri.path()) {
        Gateway::Api => api::Error::UnknownRoute.into_response(),
        Gateway::Oapi => oapi::Error::method_not_allowed(uri.path()).into_response(),
        Gateway::Admin => admin::Error::MethodNotAllowed.into_response(),
        Gateway::Browser => browser::Error::NotFound.into_response(),
    }
}

/// A route for one endpoint: its method, its handler, and its name on the request's log span.
pub(crate) fn endpoint<H, T>(name: &'static str, method: &Method, handler: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    on(filter, handler).layer(axum::middleware::from_fn(move |req: Request, next: Next| async move {
        tracing::Span::current().record("endpoint", name);
        next.run(req).await
    }))
}
