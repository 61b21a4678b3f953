//! The custom group robot's webhook, `POST /robot/send?access_token=…[&timestamp=…&sign=…]`
//! (docs/wire/robots.md §A): every answer is HTTP 200 with `{"errcode", "errmsg"}`.

use super::Error;
use super::error::json_response;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use dingdir_core::robot::{RobotRefusal, SendError, WebhookCall};
use std::net::SocketAddr;

/// `POST /robot/send`.
pub(super) async fn send(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    body: Body,
) -> Result<Response, Error> {
    let pairs = pairs(query.as_deref());
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    // A Content-Type that is there and not JSON has its own code (43004); none is taken as JSON.
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type.is_some_and(|t| !t.to_ascii_lowercase().contains("json")) {
        return Err(Error::Robot(RobotRefusal::BadContentType));
    }
    let bytes = read(&state, body).await?;
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .and_then(|ConnectInfo(addr)| match addr.ip() {
            std::net::IpAddr::V4(v4) => Some(v4),
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped(),
        });
    let call = WebhookCall {
        token: param("access_token"),
        timestamp: param("timestamp"),
        sign: param("sign"),
        peer,
        body: &bytes,
    };
    match state.service.send_by_webhook(&call, state.settings.inbox_max).await {
        Ok(_) => Ok(json_response(&serde_json::json!({"errcode": 0, "errmsg": "ok"}))),
        Err(SendError::Refused(why)) => Err(Error::Robot(why)),
        Err(SendError::Store(e)) => Err(Error::Domain(e.into())),
    }
}

/// `POST /robot/sendBySession?session=`: the session webhook a bot answers a message through.
pub(super) async fn send_by_session(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response, Error> {
    let pairs = pairs(query.as_deref());
    let session = pairs.iter().find(|(k, _)| k == "session").map(|(_, v)| v.as_str());
    let bytes = read(&state, body).await?;
    match state
        .service
        .send_by_session(session, &bytes, state.settings.inbox_max)
        .await
    {
        Ok(_) => Ok(json_response(&serde_json::json!({"errcode": 0, "errmsg": "ok"}))),
        Err(SendError::Refused(why)) => Err(Error::Robot(why)),
        Err(SendError::Store(e)) => Err(Error::Domain(e.into())),
    }
}

async fn read(state: &AppState, body: Body) -> Result<axum::body::Bytes, Error> {
    crate::body::read(body, state.settings.body_limit, Some(state.settings.store_timeout))
        .await
        .map_err(|e| match e {
            crate::body::BodyError::TooLarge => Error::Robot(RobotRefusal::TooLarge),
            crate::body::BodyError::Read(why) => Error::BadBody(why),
            crate::body::BodyError::TimedOut => Error::Busy,
        })
}

/// The query's `name=value` pairs, URL-decoded.
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}
