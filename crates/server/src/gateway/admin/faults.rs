//! Scripted faults: arm, list and disarm the rules of [`crate::faults`].

use super::Error;
use super::extract::Json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_proto::admin::{Cleared, FaultRule};

/// `GET /_dingdir/faults`: the rules in the order they are tried, with their counters.
pub(super) async fn list(State(state): State<AppState>) -> Response {
    crate::gateway::api::json_response(StatusCode::OK, &state.faults.list())
}

/// `POST /_dingdir/faults`: arms one rule after the others; 201 with the rule and its id.
pub(super) async fn add(State(state): State<AppState>, Json(rule): Json<FaultRule>) -> Result<Response, Error> {
    let view = state
        .faults
        .add(rule, crate::gateway::endpoint_gateway)
        .map_err(Error::BadRequest)?;
    tracing::info!(id = view.id, "fault rule armed");
    Ok(crate::gateway::api::json_response(StatusCode::CREATED, &view))
}

/// `DELETE /_dingdir/faults`: disarms every rule.
pub(super) async fn clear(State(state): State<AppState>) -> Response {
    let cleared = state.faults.clear() as u64;
    crate::gateway::api::json_response(StatusCode::OK, &Cleared { cleared })
}

/// `DELETE /_dingdir/faults/{id}`: disarms one rule; 204, or 404 when there is no such rule.
pub(super) async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, Error> {
    let id: u64 = id
        .parse()
        .map_err(|_| Error::BadRequest(format!("fault id `{id}` is not a number")))?;
    if state.faults.remove(id) {
        Ok(axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT))
    } else {
        Err(Error::Missing(format!("no fault rule {id}")))
    }
}
