//! dingdir's admin API under `/_dingdir/`: health, seeds, export, reset, test tokens and clock,
//! scripted faults, the request journal and rate limits.
//!
//! - Health endpoints are open; everything else needs `Authorization: Bearer <admin token>`.
//! - Errors use the new gateway's shape `{"code","message","requestid"}` with real statuses.
//! - Seeds go in and out as YAML (`application/yaml`); everything else is JSON.

mod callbacks;
mod endpoints;
mod error;
mod extract;
mod faults;
mod health;
pub(crate) mod inspector;
mod journal;
mod limits;
mod robots;
mod seed;
mod stream;
mod tokens;

pub(crate) use endpoints::{Access, Endpoint};
pub(crate) use error::Error;
pub(crate) use seed::{apply_seed, check_rules};

use crate::state::AppState;
use axum::Router;
use axum::routing::MethodRouter;

impl Endpoint {
    /// The endpoint's route; one that needs the admin token gets the check as a layer, so no
    /// handler can forget it.
    fn route(self, state: &AppState) -> MethodRouter<AppState> {
        match self.facts() {
            Access::Open => self.handler(),
            Access::AdminToken => self.handler().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                extract::require_admin,
            )),
            Access::MetricsToken => self.handler().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                extract::require_metrics,
            )),
        }
    }
}

/// The admin API's routes, one per [`Endpoint`].
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Endpoint::ALL
        .iter()
        .fold(Router::new(), |r, e| r.route(e.path(), e.route(state)))
}
