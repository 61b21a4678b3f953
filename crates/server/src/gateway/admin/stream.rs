//! Stream mode's test controls: list this node's connections, close or drop them (with or
//! without the `disconnect` notice), make one a zombie, script an app's acks, and read an app's
//! delivery with every push. These are the situations the SDKs' users report as lost messages.

use super::Error;
use super::extract::{Json, JsonOrDefault};
use crate::state::AppState;
use crate::stream::Out;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_core::stream::event_id;
use dingdir_proto::admin::{
    AckFault, Cleared, StreamAttemptView, StreamClose, StreamConnectionList, StreamDelivery, StreamZombie,
};
use dingdir_proto::ids::AppKey;
use std::sync::atomic::Ordering;
use std::time::Duration;

type PathArg = Result<Path<String>, axum::extract::rejection::PathRejection>;

fn segment(path: PathArg, what: &str) -> Result<String, Error> {
    path.map(|Path(s)| s)
        .map_err(|_| Error::BadRequest(format!("the {what} in the path is not valid UTF-8")))
}

fn ok<T: serde::Serialize>(body: &T) -> Response {
    crate::gateway::api::json_response(StatusCode::OK, body)
}

/// `?app_key=`.
#[derive(serde::Deserialize)]
pub(super) struct AppQuery {
    app_key: Option<String>,
    after: Option<i64>,
    limit: Option<u64>,
}

/// `GET /_dingdir/stream/connections[?app_key=]`.
pub(super) async fn connections(State(state): State<AppState>, uri: axum::http::Uri) -> Result<Response, Error> {
    let q: AppQuery = super::extract::query(&uri)?;
    let app = q.app_key.map(AppKey);
    Ok(ok(&StreamConnectionList {
        node: state.settings.callbacks.node.clone(),
        connections: state.stream.connections(app.as_ref()),
    }))
}

/// The connection the path names, open on this node.
fn open_connection(state: &AppState, path: PathArg) -> Result<std::sync::Arc<crate::stream::Conn>, Error> {
    let id = segment(path, "connection id")?;
    state
        .stream
        .connection(&id)
        .ok_or_else(|| Error::Missing(format!("no open stream connection {id:?} on this node")))
}

fn order(body: &StreamClose) -> impl Fn() -> Out + use<> {
    let (drop, notice) = (body.drop, body.notice.clone());
    move || if drop { Out::Drop } else { Out::Close(notice.clone()) }
}

/// `POST /_dingdir/stream/connections/{id}/close` with `{"notice"?, "drop"?}`.
pub(super) async fn close_one(
    State(state): State<AppState>,
    path: PathArg,
    JsonOrDefault(body): JsonOrDefault<StreamClose>,
) -> Result<Response, Error> {
    if body.app_key.is_some() {
        return Err(Error::BadRequest(
            "app_key belongs to /_dingdir/stream/close".to_owned(),
        ));
    }
    let conn = open_connection(&state, path)?;
    conn.order(order(&body)());
    Ok(ok(&Cleared { cleared: 1 }))
}

/// `POST /_dingdir/stream/close` with `{"app_key"?, "notice"?, "drop"?}`.
pub(super) async fn close_all(
    State(state): State<AppState>,
    JsonOrDefault(body): JsonOrDefault<StreamClose>,
) -> Response {
    let app = body.app_key.clone().map(AppKey);
    let told = state.stream.close(app.as_ref(), order(&body));
    ok(&Cleared { cleared: told as u64 })
}

/// `POST /_dingdir/stream/connections/{id}/zombie` with `{"for_ms"?, "drop"?}`.
pub(super) async fn zombie(
    State(state): State<AppState>,
    path: PathArg,
    JsonOrDefault(body): JsonOrDefault<StreamZombie>,
) -> Result<Response, Error> {
    let conn = open_connection(&state, path)?;
    conn.zombie.store(true, Ordering::Relaxed);
    let _ = conn.tx.send(Out::Zombie {
        period: body.for_ms.map(Duration::from_millis),
        drop: body.drop,
    });
    Ok(ok(&conn.view()))
}

/// `PUT /_dingdir/stream/acks/{appKey}` with `{"drop"?, "delay_ms"?, "count"?}`.
pub(super) async fn set_ack_fault(
    State(state): State<AppState>,
    path: PathArg,
    Json(fault): Json<AckFault>,
) -> Result<Response, Error> {
    let app = AppKey(segment(path, "app key")?);
    if !fault.drop && fault.delay_ms == 0 {
        return Err(Error::BadRequest(
            "an ack fault needs drop: true or a delay_ms".to_owned(),
        ));
    }
    if fault.count == Some(0) {
        return Err(Error::BadRequest(
            "count must be at least 1 (or absent: until cleared)".to_owned(),
        ));
    }
    if fault.delay_ms > 3_600_000 {
        return Err(Error::BadRequest("delay_ms is at most 3600000".to_owned()));
    }
    state.stream.set_ack_fault(&app, Some(fault.clone()));
    Ok(ok(&fault))
}

/// `DELETE /_dingdir/stream/acks/{appKey}`.
pub(super) async fn clear_ack_fault(State(state): State<AppState>, path: PathArg) -> Result<Response, Error> {
    let app = AppKey(segment(path, "app key")?);
    let had = state.stream.ack_fault(&app).is_some();
    state.stream.set_ack_fault(&app, None);
    Ok(ok(&Cleared {
        cleared: u64::from(had),
    }))
}

/// `GET /_dingdir/stream/attempts?app_key=&after=&limit=`.
pub(super) async fn attempts(State(state): State<AppState>, uri: axum::http::Uri) -> Result<Response, Error> {
    let q: AppQuery = super::extract::query(&uri)?;
    let app = AppKey(
        q.app_key
            .ok_or_else(|| Error::BadRequest("app_key is required".to_owned()))?,
    );
    let limit = q.limit.unwrap_or(500).clamp(1, 5_000);
    let store = state.service.background();
    let cursor = store
        .stream_cursors()
        .await
        .map_err(|e| Error::Domain(e.into()))?
        .into_iter()
        .find(|c| c.app_key == app);
    let attempts = store
        .stream_attempts(&app, q.after.unwrap_or(0), limit)
        .await
        .map_err(|e| Error::Domain(e.into()))?
        .into_iter()
        .map(|a| StreamAttemptView {
            seq: a.seq,
            event_id: event_id(a.seq),
            at: a.at,
            node: a.node,
            error: a.error,
        })
        .collect();
    Ok(ok(&StreamDelivery {
        app_key: app.0.clone(),
        registered_seq: cursor.as_ref().map(|c| c.registered_seq),
        delivered_seq: cursor.as_ref().map(|c| c.delivered_seq),
        failures: cursor.as_ref().map_or(0, |c| c.failures),
        last_error: cursor.as_ref().and_then(|c| c.last_error.clone()),
        lease_owner: cursor.as_ref().and_then(|c| c.lease.as_ref().map(|(o, _)| o.clone())),
        ack_fault: state.stream.ack_fault(&app),
        attempts,
    }))
}
