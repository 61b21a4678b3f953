//! Rate limits ([`dingdir_core::rate`]): read, replace and lift the limits every node enforces.

use super::Error;
use super::extract::Json;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_proto::admin::{Cleared, RateLimits};

/// Refuses the first limit that names an endpoint no gateway serves, with its place in the list.
pub(super) fn check_endpoints(limits: &[dingdir_proto::admin::RateLimit]) -> Result<(), (usize, String)> {
    for (i, limit) in limits.iter().enumerate() {
        if let Some(name) = &limit.endpoint {
            if crate::gateway::endpoint_gateway(name).is_none() {
                return Err((
                    i,
                    format!(
                        "unknown endpoint `{name}`: give a name from docs/COMPATIBILITY.md, such as V2UserGetByMobile or GetUser"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `GET /_dingdir/rate-limits`: the limits in force on this node (the cluster's, as of its last
/// refresh).
pub(super) async fn get(State(state): State<AppState>) -> Response {
    let limits = state.service.rate_limits();
    crate::gateway::api::json_response(StatusCode::OK, &RateLimits { limits })
}

/// `PUT /_dingdir/rate-limits`: replaces the limits for every node sharing the store.
pub(super) async fn put(State(state): State<AppState>, Json(body): Json<RateLimits>) -> Result<Response, Error> {
    dingdir_core::rate::check(&body.limits).map_err(Error::BadRequest)?;
    check_endpoints(&body.limits).map_err(|(_, why)| Error::BadRequest(why))?;
    state.service.set_rate_limits(body.limits.clone()).await?;
    tracing::info!(limits = body.limits.len(), "rate limits set");
    Ok(crate::gateway::api::json_response(StatusCode::OK, &body))
}

/// `DELETE /_dingdir/rate-limits`: lifts every limit.
pub(super) async fn clear(State(state): State<AppState>) -> Result<Response, Error> {
    let cleared = state.service.rate_limits().len() as u64;
    state.service.set_rate_limits(Vec::new()).await?;
    Ok(crate::gateway::api::json_response(StatusCode::OK, &Cleared { cleared }))
}
