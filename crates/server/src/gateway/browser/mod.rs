//! The browser gateway: DingTalk's OAuth sign-in and consent pages (`GET /oauth2/auth`, served
//! by `login.dingtalk.com`). See `shared/spec/WIRE.md` §C3.
//!
//! - Pages are self-contained HTML (no external assets), in Chinese or English by Accept-Language.
//! - A bad authorise request shows an error page and never redirects.
//! - Approve redirects to the registered `redirect_uri` with `code`, `authCode` and `state`;
//!   deny with `error=access_denied` and `state`.

mod error;
mod flow;
pub(crate) mod pages;

pub(crate) use error::Error;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use dingdir_proto::browser::path;

/// The sign-in pages' routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(path::AUTHORIZE, get(flow::authorize))
        .route(path::SIGN_IN, post(flow::sign_in))
        .route(path::CONSENT, post(flow::consent))
}
