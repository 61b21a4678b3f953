//! The gateways, and the fallbacks that route an unknown path or method to the right one.
//!
//! axum allows one fallback across merged routers, so the root fallback picks the gateway by
//! path prefix: `/v1.0/` is the new gateway, `/_dingdir/` the admin API, the rest the legacy one.

pub(crate) mod admin;
pub(crate) mod api;
pub(crate) mod oapi;

use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use dingdir_proto::{admin::path as admin_path, api::path as api_path};

/// Which wire form a path answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gateway {
    /// The new gateway, `api.dingtalk.com`.
    Api,
    /// The legacy gateway, `oapi.dingtalk.com`.
    Oapi,
    /// dingdir's admin API.
    Admin,
}

impl Gateway {
    /// The gateway a path belongs to.
    pub fn of(path: &str) -> Self {
        if path.starts_with(api_path::PREFIX) {
            Self::Api
        } else if path.starts_with(admin_path::PREFIX) {
            Self::Admin
        } else {
            Self::Oapi
        }
    }

    pub(crate) fn busy(self) -> Response {
        match self {
            Self::Api => api::Error::Busy.into_response(),
            Self::Oapi => oapi::Error::Busy.into_response(),
            Self::Admin => admin::Error::Busy.into_response(),
        }
    }

    pub(crate) fn panicked(self) -> Response {
        match self {
            Self::Api => api::Error::Panicked.into_response(),
            Self::Oapi => oapi::Error::Panicked.into_response(),
            Self::Admin => admin::Error::Panicked.into_response(),
        }
    }
}

/// The answer to a path no route serves.
pub(crate) async fn fallback(uri: Uri) -> Response {
    match Gateway::of(uri.path()) {
        Gateway::Api => api::Error::UnknownRoute.into_response(),
        Gateway::Oapi => oapi::Error::unknown_route(uri.path()).into_response(),
        Gateway::Admin => admin::Error::NotFound.into_response(),
    }
}

/// The answer to a known path asked with a method it does not take.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    match Gateway::of(uri.path()) {
        Gateway::Api => api::Error::UnknownRoute.into_response(),
        Gateway::Oapi => oapi::Error::method_not_allowed(uri.path(), &method).into_response(),
        Gateway::Admin => admin::Error::MethodNotAllowed.into_response(),
    }
}
