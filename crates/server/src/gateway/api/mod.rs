//! DingTalk's new gateway (`api.dingtalk.com`). See `shared/spec/WIRE.md` §A.
//!
//! - Bodies are camelCase JSON; success bodies carry no envelope.
//! - The token comes from the `x-acs-dingtalk-access-token` header only.
//! - Errors use real HTTP statuses (400, 403, 404, 503) with `{"code","message","requestid"}`.
//! - Every answer is `application/json;charset=utf-8`.

mod contact;
mod endpoints;
mod error;
mod extract;
mod oauth2;
mod robot;
mod stream;

pub(crate) use endpoints::Endpoint;
pub(crate) use error::{Error, json_bytes_response, json_response};

use crate::state::AppState;
use axum::Router;

/// The new gateway's routes, one per [`Endpoint`].
pub(crate) fn routes() -> Router<AppState> {
    Endpoint::ALL
        .iter()
        .fold(Router::new(), |r, e| r.route(e.path(), e.handler()))
}
