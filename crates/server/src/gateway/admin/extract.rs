//! The admin token check.

use super::Error;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// Proof that the request carried the admin token.
pub(crate) struct Admin;

/// Compares without an early exit, so timing does not reveal how much of the token matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        let want = state.settings.admin_token.as_bytes();
        if !want.is_empty() && same(given.as_bytes(), want) {
            Ok(Admin)
        } else {
            Err(Error::Unauthorized)
        }
    }
}
