//! The one place the admin API's errors take their wire form.

use crate::request::{self, request_id};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dingdir_core::StoreError;
use dingdir_core::seed::ApplyError;
use dingdir_proto::admin::AdminError;

/// An admin API failure.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Missing or wrong admin token.
    #[error("admin token missing or wrong")]
    Unauthorized,
    /// No such admin route.
    #[error("no such admin route")]
    NotFound,
    /// The route exists with another method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A request the admin API cannot take.
    #[error("{0}")]
    BadRequest(String),
    /// The body is over the size limit.
    #[error("body too large")]
    BodyTooLarge,
    /// A named thing does not exist.
    #[error("{0}")]
    Missing(String),
    /// The request conflicts with the directory (e.g. the person is not a member).
    #[error("{0}")]
    Refused(String),
    /// The operation exists only in `dingdir dev` (or with `--test-clock`).
    #[error("{0}")]
    DevOnly(&'static str),
    /// Applying a seed failed.
    #[error(transparent)]
    Seed(#[from] ApplyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A handler panicked.
    #[error("handler panicked")]
    Panicked,
    /// Over the in-flight limit (never raised today: admin requests are not shed).
    #[error("busy")]
    Busy,
}

fn store_parts(e: &StoreError) -> (StatusCode, &'static str) {
    match e {
        StoreError::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
        StoreError::Unavailable(_) | StoreError::TimedOut => (StatusCode::SERVICE_UNAVAILABLE, "StoreUnavailable"),
        StoreError::Corrupt(_) | StoreError::Other(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal"),
    }
}

impl From<dingdir_core::Error> for Error {
    fn from(e: dingdir_core::Error) -> Self {
        match e {
            dingdir_core::Error::Store(s) => Self::Store(s),
            other => Self::Refused(other.to_string()),
        }
    }
}

impl Error {
    #[deny(clippy::wildcard_enum_match_arm)]
    fn parts(&self) -> (StatusCode, &'static str, String) {
        let msg = self.to_string();
        match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "send `Authorization: Bearer <admin token>`; dingdir prints it at start".to_owned(),
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, "NotFound", msg),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", msg),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "BadRequest", msg),
            Self::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "BodyTooLarge", msg),
            Self::DevOnly(_) => (StatusCode::CONFLICT, "DevOnly", msg),
            Self::Missing(_) => (StatusCode::NOT_FOUND, "NotFound", msg),
            Self::Refused(_) => (StatusCode::CONFLICT, "Refused", msg),
            Self::Seed(ApplyError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "SeedInvalid", msg),
            Self::Seed(ApplyError::Secret(_)) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal",
                "could not hash a secret".to_owned(),
            ),
            Self::Seed(ApplyError::Store(e)) | Self::Store(e) => {
                let (s, c) = store_parts(e);
                (s, c, "the store failed; see the server log".to_owned())
            }
            Self::Panicked => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal",
                "internal error; see the server log".to_owned(),
            ),
            Self::Busy => (StatusCode::SERVICE_UNAVAILABLE, "Busy", msg),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(request = %request::current(), error = %self, "admin API answered {status}");
        }
        let body = AdminError {
            code: code.to_owned(),
            message,
            requestid: request_id(),
            accessdenieddetail: None,
        };
        crate::gateway::api::json_response(status, &body)
    }
}
