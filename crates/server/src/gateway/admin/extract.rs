//! The admin token check, applied as a route layer to every endpoint that needs it.

use super::Error;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Lets the request through only with `Authorization: Bearer <admin token>`.
pub(crate) async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let want = state.settings.admin_token.as_bytes();
    if !want.is_empty() && dingdir_core::secret::same(given.as_bytes(), want) {
        next.run(req).await
    } else {
        Error::Unauthorized.into_response()
    }
}
