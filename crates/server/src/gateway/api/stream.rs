//! Stream mode's two doors: `POST /v1.0/gateway/connections/open` and the WebSocket at
//! `GET /connect?ticket=…` (docs/wire/stream.md §1–2).

use super::extract::Json;
use super::{Error, json_response};
use crate::state::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dingdir_core::Error as Domain;
use dingdir_core::stream::check_subscriptions;
use dingdir_proto::api::code;
use dingdir_proto::stream::{OpenConnectionRequest, OpenConnectionResponse, path};

/// Each connection's read and write buffer, in bytes (docs/PERFORMANCE.md, Stream mode).
const STREAM_BUFFER: usize = 4 * 1024;

/// The longest `ua` and `localIp` kept.
const MAX_LABEL: usize = 256;

fn label(s: Option<String>) -> String {
    s.unwrap_or_default().chars().take(MAX_LABEL).collect()
}

/// The WebSocket base URL to hand out: the configured one, or `ws://` and the request's `Host`.
fn endpoint_base(state: &AppState, headers: &HeaderMap) -> Result<String, Error> {
    if let Some(base) = &state.settings.stream.endpoint {
        return Ok(base.trim_end_matches('/').to_owned());
    }
    let host = crate::params::host(headers).ok_or_else(|| {
        Error::Stream(
            StatusCode::BAD_REQUEST,
            code::INVALID_PARAMETER,
            "the request has no usable Host header to build the endpoint from".to_owned(),
        )
    })?;
    Ok(format!("ws://{host}"))
}

/// `POST /v1.0/gateway/connections/open`.
pub(super) async fn open_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<OpenConnectionRequest>,
) -> Result<Response, Error> {
    let app = state
        .service
        .verify_client(req.client_id.as_deref(), req.client_secret.as_deref())
        .await
        .map_err(|e| match e {
            Domain::BadAppSecret | Domain::AppCredentialsMissing => {
                Error::Stream(StatusCode::UNAUTHORIZED, code::AUTH_FAILED, "鉴权失败".to_owned())
            }
            other => Error::Domain(other),
        })?;
    let events = check_subscriptions(&req.subscriptions).map_err(|why| {
        Error::Stream(
            StatusCode::BAD_REQUEST,
            code::INVALID_PARAMETER,
            format!("参数错误：{why}"),
        )
    })?;
    let base = endpoint_base(&state, &headers)?;
    if events {
        // The cursor starts here, so events written from now on wait for the connection.
        state
            .service
            .background()
            .open_stream_cursor(&app.key)
            .await
            .map_err(Domain::from)?;
    }
    let ticket = state
        .stream
        .issue(
            app.key.clone(),
            req.subscriptions,
            events,
            label(req.ua),
            label(req.local_ip),
            state.settings.stream.ticket_ttl,
        )
        .ok_or(Error::Busy)?;
    Ok(json_response(
        StatusCode::OK,
        &OpenConnectionResponse {
            endpoint: format!("{base}{}", path::CONNECT),
            ticket,
        },
    ))
}

/// `?ticket=`.
#[derive(serde::Deserialize)]
pub(super) struct TicketQuery {
    ticket: Option<String>,
}

/// `GET /connect?ticket=…`: redeems the ticket and upgrades to the WebSocket.
pub(super) async fn connect(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    query: Result<Query<TicketQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, Error> {
    let upgrade = upgrade.map_err(|e| {
        Error::Stream(
            StatusCode::BAD_REQUEST,
            code::INVALID_PARAMETER,
            format!("this is the Stream WebSocket endpoint: {e}"),
        )
    })?;
    let peer = extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(String::new, |ConnectInfo(peer)| peer.to_string());
    let ticket = query
        .map_err(|e| Error::Stream(StatusCode::BAD_REQUEST, code::INVALID_PARAMETER, e.body_text()))?
        .0
        .ticket
        .unwrap_or_default();
    let (conn, rx) = state
        .stream
        .redeem(&ticket, peer, state.service.now(), state.settings.stream.max_per_app)
        .map_err(|refused| match refused {
            crate::stream::Refused::BadTicket => Error::Stream(
                StatusCode::UNAUTHORIZED,
                code::AUTH_FAILED,
                "鉴权失败：ticket无效、已使用或已过期".to_owned(),
            ),
            crate::stream::Refused::TooMany(n) => Error::Stream(
                StatusCode::FORBIDDEN,
                code::CONNECTION_LIMIT,
                format!("该应用的Stream连接数已达上限：{n}"),
            ),
        })?;
    Ok(upgrade
        // Frames are small JSON: tungstenite's 128 KiB default read buffer would be most of an
        // idle connection's memory.
        .read_buffer_size(STREAM_BUFFER)
        .write_buffer_size(STREAM_BUFFER)
        .max_message_size(state.settings.body_limit)
        .on_failed_upgrade({
            let (state, id) = (state.clone(), conn.id.clone());
            move |e| {
                tracing::info!(error = %e, "a stream upgrade failed");
                state.stream.remove(&id);
            }
        })
        .on_upgrade(move |ws| crate::stream::serve_socket(state, conn, rx, ws))
        .into_response())
}
