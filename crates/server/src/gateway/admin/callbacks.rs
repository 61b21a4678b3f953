//! HTTP event callbacks and the change log: register, list and remove callbacks, and read the
//! log with each entry's delivery to each subscribed app.

use super::Error;
use super::extract::Json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use dingdir_core::callback::{self, Callback, CallbackState, ReceiveId};
use dingdir_core::change::{ChangeKind, ChangeQuery};
use dingdir_proto::admin::{
    CallbackInfo, CallbackList, CallbackRegistration, Cleared, DeliveryInfo, EventInfo, EventList,
};
use dingdir_proto::ids::{AppKey, CorpId};
use std::collections::HashMap;

fn info(s: &CallbackState) -> CallbackInfo {
    CallbackInfo {
        app_key: s.callback.app_key.0.clone(),
        url: s.callback.url.clone(),
        events: s.callback.events.clone(),
        receive_id: receive_id_name(s.callback.receive_id).to_owned(),
        registered_seq: s.registered_seq,
        delivered_seq: s.delivered_seq,
        failures: s.failures,
        next_attempt_at: (s.failures > 0).then_some(s.next_attempt_at),
        last_error: s.last_error.clone(),
        lease_owner: s.lease.as_ref().map(|(o, _)| o.clone()),
        lease_until: s.lease.as_ref().map(|(_, u)| *u),
    }
}

fn receive_id_name(r: ReceiveId) -> &'static str {
    match r {
        ReceiveId::AppKey => "app_key",
        ReceiveId::CorpId => "corp_id",
    }
}

fn app_key(path: Result<Path<String>, axum::extract::rejection::PathRejection>) -> Result<AppKey, Error> {
    path.map(|Path(k)| AppKey(k))
        .map_err(|_| Error::BadRequest("the app key in the path is not valid UTF-8".to_owned()))
}

/// `GET /_dingdir/callbacks`: every registration and where its delivery stands.
pub(super) async fn list(State(state): State<AppState>) -> Result<Response, Error> {
    let callbacks = state.service.callbacks().await?.iter().map(info).collect();
    Ok(crate::gateway::api::json_response(
        StatusCode::OK,
        &CallbackList { callbacks },
    ))
}

/// `PUT /_dingdir/callbacks/{appKey}`: registers or replaces the app's callback, after its URL
/// answers `check_url` (unless `check_url: false`).
pub(super) async fn put(
    State(state): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Json(body): Json<CallbackRegistration>,
) -> Result<Response, Error> {
    let app_key = app_key(path)?;
    let receive_id = match body.receive_id.as_deref() {
        None | Some("app_key") => ReceiveId::AppKey,
        Some("corp_id") => ReceiveId::CorpId,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "receive_id `{other}` is neither `app_key` nor `corp_id`"
            )));
        }
    };
    let cb = Callback {
        app_key: app_key.clone(),
        url: body.url,
        token: body.token,
        aes_key: body.aes_key,
        events: body.events,
        receive_id,
    };
    crate::callbacks::register(&state, cb, body.check_url).await?;
    let registered = state
        .service
        .callbacks()
        .await?
        .into_iter()
        .find(|s| s.callback.app_key == app_key)
        .ok_or_else(|| Error::Missing(format!("callback of {} vanished", app_key.0)))?;
    tracing::info!(app = %app_key.0, url = %registered.callback.url, "callback registered");
    Ok(crate::gateway::api::json_response(StatusCode::OK, &info(&registered)))
}

/// `DELETE /_dingdir/callbacks/{appKey}`.
pub(super) async fn remove(
    State(state): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, Error> {
    let app_key = app_key(path)?;
    if !state.service.remove_callback(&app_key).await? {
        return Err(Error::Missing(format!("app {} has no callback", app_key.0)));
    }
    Ok(crate::gateway::api::json_response(
        StatusCode::OK,
        &Cleared { cleared: 1 },
    ))
}

/// The query of `GET /_dingdir/events`.
#[derive(serde::Deserialize)]
struct EventQuery {
    /// Only this corp's entries.
    corp_id: Option<String>,
    /// Only these event types, comma-separated.
    #[serde(rename = "type")]
    kinds: Option<String>,
    /// Only entries after this position (the previous page's `next_cursor`).
    #[serde(default)]
    after: i64,
    /// At most this many, 1 to 1000 (default 100).
    limit: Option<u64>,
}

/// The most entries one page holds.
const MAX_PAGE: u64 = 1000;

/// `GET /_dingdir/events?corp_id=&type=&after=&limit=`: the change log by position, each entry
/// with its delivery to each app it is for.
pub(super) async fn events(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q: EventQuery = super::extract::query(&uri)?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::BadRequest(format!("limit must be 1 to {MAX_PAGE}")));
    }
    if q.after < 0 {
        return Err(Error::BadRequest("after must be 0 or more".to_owned()));
    }
    let mut kinds = Vec::new();
    for name in q.kinds.iter().flat_map(|k| k.split(',')).filter(|k| !k.is_empty()) {
        let kind = ChangeKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.event_type()).collect();
            Error::BadRequest(format!("unknown type `{name}`; known: {}", known.join(", ")))
        })?;
        kinds.push(kind);
    }
    let query = ChangeQuery {
        corps: q.corp_id.into_iter().map(CorpId).collect(),
        kinds,
        after: q.after,
        limit: limit + 1,
    };
    let mut entries = state.service.changes(&query).await?;
    let more = entries.len() as u64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let (first, last) = match (entries.first(), entries.last()) {
        (Some(f), Some(l)) => (f.seq, l.seq),
        _ => (0, 0),
    };
    let callbacks = state.service.callbacks().await?;
    let mut apps = HashMap::new();
    for s in &callbacks {
        apps.insert(
            s.callback.app_key.clone(),
            state.service.app(&s.callback.app_key).await?,
        );
    }
    let mut attempts: HashMap<(i64, &str), (u32, Option<String>)> = HashMap::new();
    let attempt_rows = if entries.is_empty() {
        Vec::new()
    } else {
        state.service.attempts(first - 1, last).await?
    };
    for a in &attempt_rows {
        let slot = attempts.entry((a.seq, a.app_key.0.as_str())).or_default();
        slot.0 += 1;
        slot.1.clone_from(&a.error);
    }
    let events = entries
        .iter()
        .map(|e| {
            let deliveries = callbacks
                .iter()
                .filter(|s| {
                    e.seq > s.registered_seq
                        && callback::wants(&s.callback, e.change.kind)
                        && apps
                            .get(&s.callback.app_key)
                            .and_then(Option::as_ref)
                            .is_some_and(|app| callback::permitted(app, &e.change.corp_id))
                })
                .map(|s| {
                    let (count, last_error) = attempts
                        .get(&(e.seq, s.callback.app_key.0.as_str()))
                        .cloned()
                        .unwrap_or_default();
                    let state = if e.seq <= s.delivered_seq {
                        "delivered"
                    } else if count > 0 {
                        "retrying"
                    } else {
                        "pending"
                    };
                    DeliveryInfo {
                        app_key: s.callback.app_key.0.clone(),
                        state: state.to_owned(),
                        attempts: count,
                        last_error: if state == "delivered" { None } else { last_error },
                        next_attempt_at: (state == "retrying").then_some(s.next_attempt_at),
                    }
                })
                .collect();
            EventInfo {
                seq: e.seq,
                at: e.at,
                corp_id: e.change.corp_id.0.clone(),
                event_type: e.change.kind.event_type().to_owned(),
                subject: e.change.subject.clone(),
                deliveries,
            }
        })
        .collect();
    Ok(crate::gateway::api::json_response(
        StatusCode::OK,
        &EventList {
            events,
            next_cursor: more.then_some(last),
        },
    ))
}
