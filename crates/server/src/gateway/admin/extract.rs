//! The admin token check, applied as a route layer to every endpoint that needs it, and the
//! admin API's JSON body.

use super::Error;
use crate::body::{self, BodyError};
use crate::state::AppState;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// Lets the request through only with `Authorization: Bearer <admin token>`, or a read with the
/// inspector's cookie.
pub(crate) async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let token = &state.settings.admin_token;
    if bearer_is(&req, token) || super::inspector::may_read(req.method(), req.headers(), token) {
        next.run(req).await
    } else {
        Error::Unauthorized.into_response()
    }
}

/// Lets a request through with the admin token or, when one is set, the metrics token.
pub(crate) async fn require_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let metrics = state.settings.metrics_token.as_deref().unwrap_or_default();
    if bearer_is(&req, &state.settings.admin_token) || bearer_is(&req, metrics) {
        next.run(req).await
    } else {
        Error::Unauthorized.into_response()
    }
}

/// Whether the request's bearer token is `want` (never when `want` is empty).
fn bearer_is(req: &Request, want: &str) -> bool {
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    !want.is_empty() && dingdir_core::secret::same(given.as_bytes(), want.as_bytes())
}

/// The query string read as `T`, refused in the admin API's own error form (axum's `Query`
/// rejection is plain text).
pub(super) fn query<T: DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, Error> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| Error::BadRequest(e.body_text()))
}

/// A JSON body for the admin API, rejected in its own error form.
pub(super) struct Json<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let bytes = read(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| Error::BadRequest(format!("bad JSON body: {e}")))
    }
}

/// [`Json`], or the default when the body is empty: for orders whose fields are all optional.
pub(super) struct JsonOrDefault<T>(pub(super) T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for JsonOrDefault<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let empty = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0");
        if empty {
            return Ok(Self(T::default()));
        }
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(JsonOrDefault)
            .map_err(|e| Error::BadRequest(format!("bad JSON body: {e}")))
    }
}

async fn read(req: Request, state: &AppState) -> Result<axum::body::Bytes, Error> {
    body::read(req.into_body(), state.settings.body_limit, None)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => Error::BodyTooLarge,
            BodyError::Read(why) => Error::BadRequest(why),
            BodyError::TimedOut => Error::BadRequest("the body did not arrive".to_owned()),
        })
}
