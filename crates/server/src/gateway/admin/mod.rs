//! dingdir's admin API under `/_dingdir/`: health, seeds, export, reset, test tokens and clock.
//!
//! - Health endpoints are open; everything else needs `Authorization: Bearer <admin token>`.
//! - Errors use the new gateway's shape `{"code","message","requestid"}` with real statuses.
//! - Seeds go in and out as YAML (`application/yaml`); everything else is JSON.

mod endpoints;
mod error;
mod extract;
mod health;
mod seed;
mod tokens;

pub(crate) use endpoints::Endpoint;
pub(crate) use error::Error;

use crate::state::AppState;
use axum::Router;
use axum::routing::MethodRouter;

impl Endpoint {
    /// The only place an endpoint meets its handler; endpoints that need the admin token get
    /// the check as a layer, so no handler can forget it.
    fn route(self, state: &AppState) -> MethodRouter<AppState> {
        let method = self.method();
        let route = match self {
            Self::Health => super::endpoint(&method, health::health),
            Self::HealthLive => super::endpoint(&method, health::live),
            Self::HealthReady => super::endpoint(&method, health::ready),
            Self::ApplySeed => super::endpoint(&method, seed::apply),
            Self::Export => super::endpoint(&method, seed::export),
            Self::Reset => super::endpoint(&method, seed::reset),
            Self::MintUserToken => super::endpoint(&method, tokens::mint_user_token),
            Self::AdvanceClock => super::endpoint(&method, tokens::advance_clock),
            Self::SetSuiteTicket => super::endpoint(&method, tokens::set_suite_ticket),
            Self::Metrics => super::endpoint(&method, health::metrics),
        };
        if self.needs_admin_token() {
            route.route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                extract::require_admin,
            ))
        } else {
            route
        }
    }
}

/// The admin API's routes, one per [`Endpoint`].
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Endpoint::ALL
        .iter()
        .fold(Router::new(), |r, e| r.route(e.path(), e.route(state)))
}
