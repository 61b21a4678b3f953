//! The one place the admin API's errors take their wire form.

use crate::request::{self, request_id};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dingdir_core::seed::ApplyError;
use dingdir_core::signin::SignInError;
use dingdir_core::{Error as Domain, StoreError};
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
    /// What the domain refused.
    #[error(transparent)]
    Domain(dingdir_core::Error),
    /// The person cannot sign in to the app (a user token minted without the browser).
    #[error("{person} cannot sign in to {app}: {why}")]
    CannotSignIn {
        /// The person.
        person: String,
        /// The app.
        app: String,
        /// Why not.
        why: SignInError,
    },
    /// The operation exists only in `dingdir dev` (or with `--test-clock`).
    #[error("{0}")]
    DevOnly(&'static str),
    /// The feature the operation needs is turned off on this server.
    #[error("{0}")]
    Disabled(&'static str),
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
        StoreError::Conflict(_) | StoreError::Refused(_) | StoreError::Stale(_) => (StatusCode::CONFLICT, "Conflict"),
        StoreError::Unavailable(_) | StoreError::TimedOut => (StatusCode::SERVICE_UNAVAILABLE, "StoreUnavailable"),
        StoreError::Corrupt(_) | StoreError::Other(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal"),
    }
}

impl From<Domain> for Error {
    fn from(e: Domain) -> Self {
        Self::Domain(e)
    }
}

/// A domain refusal's status and code on the admin API.
#[deny(clippy::wildcard_enum_match_arm)]
fn domain_parts(e: &Domain) -> (StatusCode, &'static str) {
    match e {
        Domain::UserNotFound | Domain::DepartmentNotFound => (StatusCode::NOT_FOUND, "NotFound"),
        Domain::WriteRefused(_) => (StatusCode::CONFLICT, "WriteRefused"),
        Domain::CallbackRefused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "CallbackRefused"),
        Domain::AppNotFound => (StatusCode::NOT_FOUND, "NotFound"),
        Domain::MobileMissing
        | Domain::MobileMalformed
        | Domain::InvalidParameter { .. }
        | Domain::IllegalParameter { .. }
        | Domain::CursorInvalid
        | Domain::PageSizeInvalid => (StatusCode::BAD_REQUEST, "BadRequest"),
        Domain::TokenMissing | Domain::TokenInvalid | Domain::TokenExpired => (StatusCode::CONFLICT, "TokenInvalid"),
        Domain::ScopeMissing { .. } | Domain::WrongTokenKind { .. } | Domain::WrongAppType { .. } => {
            (StatusCode::CONFLICT, "PermissionDenied")
        }
        Domain::BadAppSecret | Domain::AppCredentialsMissing | Domain::BadSuiteKey | Domain::BadSuiteTicket => {
            (StatusCode::CONFLICT, "BadAppCredentials")
        }
        Domain::NotAuthorised | Domain::UserOutOfRange | Domain::DepartmentOutOfRange => {
            (StatusCode::CONFLICT, "NotAuthorised")
        }
        Domain::CodeInvalid | Domain::RefreshTokenInvalid => (StatusCode::CONFLICT, "CodeInvalid"),
        Domain::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "Busy"),
        Domain::Store(e) => store_parts(e),
    }
}

/// Why a person cannot sign in, as the admin API's code.
#[deny(clippy::wildcard_enum_match_arm)]
fn sign_in_parts(e: &SignInError) -> (StatusCode, &'static str) {
    match e {
        SignInError::WrongPassword => (StatusCode::CONFLICT, "WrongPassword"),
        SignInError::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, "TooManyAttempts"),
        SignInError::NotAMember => (StatusCode::CONFLICT, "NotAMember"),
        SignInError::Domain(d) => domain_parts(d),
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
            Self::Disabled(_) => (StatusCode::CONFLICT, "Disabled", msg),
            Self::Missing(_) => (StatusCode::NOT_FOUND, "NotFound", msg),
            Self::Domain(Domain::Store(e))
            | Self::CannotSignIn {
                why: SignInError::Domain(Domain::Store(e)),
                ..
            } => {
                let (s, c) = store_parts(e);
                (s, c, "the store failed; see the server log".to_owned())
            }
            Self::Domain(e) => {
                let (s, c) = domain_parts(e);
                (s, c, msg)
            }
            Self::CannotSignIn { why, .. } => {
                let (s, c) = sign_in_parts(why);
                (s, c, msg)
            }
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
