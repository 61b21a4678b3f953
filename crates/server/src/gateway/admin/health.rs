//! Liveness and readiness.

use super::Error;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dingdir_proto::admin::Health;

fn health_body(status: &str, store: Option<&str>) -> Health {
    Health {
        status: status.to_owned(),
        store: store.map(str::to_owned),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// `GET /_dingdir/health/live`: the process answers.
pub(super) async fn live() -> Response {
    crate::gateway::api::json_response(StatusCode::OK, &health_body("ok", None))
}

/// `GET /_dingdir/health/ready` and `/_dingdir/health`: the store answers too.
pub(super) async fn ready(State(state): State<AppState>) -> Result<Response, Error> {
    Ok(match state.service.ping().await {
        Ok(()) => crate::gateway::api::json_response(StatusCode::OK, &health_body("ok", Some("ok"))),
        Err(dingdir_core::Error::Store(dingdir_core::StoreError::TimedOut)) => crate::gateway::api::json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &health_body("unavailable", Some("timeout")),
        ),
        Err(e) => {
            tracing::warn!(request = %crate::request::current(), error = %e, "store not ready");
            crate::gateway::api::json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &health_body("unavailable", Some("unavailable")),
            )
        }
    })
}

/// `GET /_dingdir/health`.
pub(super) async fn health(state: State<AppState>) -> Result<Response, Error> {
    ready(state).await
}

/// `GET /_dingdir/metrics`: gateway requests served and store reads made by this node, read
/// from the same registry as the Prometheus exposition.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let body = dingdir_proto::admin::Metrics {
        requests: state.metrics.gateway_requests(crate::gateway::routes()),
        store_reads: state.service.store_reads(),
    };
    crate::gateway::api::json_response(StatusCode::OK, &body)
}

/// The Prometheus text format's content type.
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /_dingdir/metrics/prometheus`: every metric in the Prometheus text exposition.
pub(super) async fn prometheus(State(state): State<AppState>) -> Response {
    let gauges = crate::metrics::Gauges {
        routes: crate::gateway::routes(),
        in_flight: state.in_flight.current(),
        store_reads: state.service.store_reads(),
        store_calls: state.service.store_stats(),
        caches: state.service.cache_stats(),
        journal: state.journal.as_ref().map(|j| j.size()),
        fault_rules: state.faults.len(),
        rate_limits: state.service.rate_limits().len(),
        stream: state.stream.totals(),
    };
    let text = state.metrics.render(&gauges);
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(PROMETHEUS),
    );
    response
}
