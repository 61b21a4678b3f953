//! dingdir's HTTP layer: one axum router that serves DingTalk's new gateway (`/v1.0/...`), its
//! legacy gateway (`/gettoken`, `/topapi/...`) and dingdir's admin API (`/_dingdir/...`), under
//! one root layer.
//!
//! Layout: `gateway/<name>/` per gateway, each with `endpoints.rs` (the list of operations),
//! `error.rs` (the one place its wire errors are made) and one file per resource. The root
//! layer ([`Root`]) gives every request its id and gateway, turns panics into the
//! gateway's error shape, and stamps `x-acs-request-id` and `x-acs-trace-id` on every answer.
//! Handlers are thin: they call `dingdir-core` and shape the answer. This crate never names sqlx.

mod body;
mod bot_callback;
mod callbacks;
mod context;
mod delivery;
mod faults;
mod gateway;
mod in_flight;
mod journal;
mod listen;
mod metrics;
mod multipart;
mod params;
mod request;
mod state;
mod stream;
mod tap;

pub use callbacks::deliver_callbacks;
pub use context::{Root, RootFuture};
pub use delivery::CallbackSettings;
pub use journal::JournalLimits;
pub use listen::{ConnectionLimits, default_max_connections, serve};
pub use request::Gateway;
pub use state::{AppState, Mode, Settings, Shared};
pub use stream::StreamSettings;

use axum::Router;

/// The whole HTTP surface: a tower service; serve it with
/// `axum::serve(listener, axum::ServiceExt::into_make_service(app))`.
pub fn app(state: AppState) -> Root<Router> {
    app_with_extra_routes(state, Router::new())
}

/// Applies a seed to a server before it serves (its startup seed): the directory and rate
/// limits, and the fault rules armed on this node, as `POST /_dingdir/seed` does. The error is
/// the admin API's message for it (`file:line:column: field: why`).
pub async fn apply_seed(state: &AppState, file: &str, text: &str) -> Result<dingdir_core::seed::Plan, String> {
    gateway::admin::apply_seed(state, file, text)
        .await
        .map_err(|e| e.to_string())
}

/// Checks what only the server knows about a seed's rate limits and fault rules (endpoint
/// names, actions the endpoint's gateway answers), for `dingdir apply`, which writes no server.
pub fn check_seed_rules(plan: &dingdir_core::seed::Plan) -> Result<(), dingdir_core::seed::SeedError> {
    gateway::admin::check_rules(plan)
}

/// The whole HTTP surface plus `extra` routes under the same layers: for tests that need a route
/// the product does not have, such as a handler that panics.
pub fn app_with_extra_routes(state: AppState, extra: Router<AppState>) -> Root<Router> {
    let routes = Router::new()
        .merge(gateway::api::routes())
        .merge(gateway::oapi::routes())
        .merge(gateway::admin::routes(&state))
        .merge(gateway::browser::routes())
        .merge(extra)
        .fallback(gateway::fallback)
        .method_not_allowed_fallback(gateway::method_not_allowed);
    Root::new(routes.with_state(state.clone()), state)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod compat_doc;

/// Wakes this node's Stream deliverers after each write through it, until stopped; they also
/// look every `callbacks.poll` for writes through other nodes. Every node runs one.
pub async fn wake_stream_deliverers(state: AppState) {
    stream::wake_on_commits(state).await;
}

/// Rereads the cluster's rate limits from the store at once and then every `every`, so a limit
/// set through another node is enforced here within that time. Every node runs one.
pub async fn refresh_rate_limits(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.service.refresh_rate_limits().await {
            tracing::warn!(error = %e, "reading the rate limits failed; keeping the last ones");
        }
    }
}

/// Deletes expired credentials every `every` while it runs ([`dingdir_core::Service::purge_expired`]),
/// so their tables do not only grow. Every node runs one: the deletes are idempotent and by index.
pub async fn purge_expired(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        match state.service.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "purged expired tokens, codes and tickets"),
            Err(e) => tracing::warn!(error = %e, "purging expired tokens failed; trying again later"),
        }
    }
}
