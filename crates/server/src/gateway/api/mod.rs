//! DingTalk's new gateway (`api.dingtalk.com`). See `shared/spec/WIRE.md` §A.
//!
//! - Bodies are camelCase JSON; success bodies carry no envelope.
//! - The token comes from the `x-acs-dingtalk-access-token` header only.
//! - Errors use real HTTP statuses (400, 403, 404, 503) with `{"code","message","requestid"}`.
//! - Every answer is `application/json;charset=utf-8`.

mod error;
mod extract;

pub(crate) use error::{Error, json_response};

use crate::state::AppState;
use axum::Router;

/// The new gateway's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
}
