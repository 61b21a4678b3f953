//! dingdir's admin API under `/_dingdir/`: health, seeds, export, reset.
//!
//! - Health endpoints are open; everything else needs `Authorization: Bearer <admin token>`.
//! - Errors use the new gateway's shape `{"code","message","requestid"}` with real statuses.
//! - Seeds go in and out as YAML (`application/yaml`); everything else is JSON.

mod endpoints;
mod error;
mod extract;
mod health;
mod seed;

pub(crate) use endpoints::Endpoint;
pub(crate) use error::Error;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use dingdir_proto::admin::path;

/// The admin API's routes: the only place its paths meet handlers.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(path::HEALTH, get(health::health))
        .route(path::HEALTH_LIVE, get(health::live))
        .route(path::HEALTH_READY, get(health::ready))
        .route(path::SEED, post(seed::apply))
        .route(path::EXPORT, get(seed::export))
        .route(path::RESET, post(seed::reset))
}
