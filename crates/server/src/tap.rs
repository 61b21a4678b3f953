//! The inspected path: while a fault rule is armed or a rate limit is set, a DingTalk-gateway
//! request is read whole before it is served, so a rule can match its parameters and caller and
//! its answer can be replaced, delayed, dropped or cut short, and the call can be counted against
//! its app's limits; the journal, when on, keeps both bodies and the rule that fired. With
//! neither, the root layer never comes here (the journal alone records on the ordinary path,
//! [`crate::journal::Pending`]).

use crate::body::{self, BodyError};
use crate::faults::Probe;
use crate::journal::{Journal, Recorded};
use crate::params::{APP_PARAMS, first, is_form, params, who_from};
use crate::request::Gateway;
use crate::request::Noted;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dingdir_core::Caller;
use dingdir_proto::admin::{FaultAction, FaultFired};
use http_body_util::BodyExt;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::Service;

/// How long a truncated answer's first half is left to reach the client before the connection
/// is cut: long enough for the bytes to be flushed, short against any client's timeout.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(50);

/// Serves `req` through `inner` under the armed fault rules, and journals it when the journal
/// is on. `noted` is where the handler leaves its caller ([`crate::request::note_caller`]).
pub(crate) async fn serve<S>(
    state: AppState,
    mut inner: S,
    req: Request,
    gateway: Gateway,
    noted: Arc<Noted>,
) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let journal = state.journal.as_ref();
    let endpoint = crate::request::CURRENT
        .try_with(|c| c.route.map(|r| r.name))
        .ok()
        .flatten();
    let bytes = match body::read(body, state.settings.body_limit, Some(state.settings.store_timeout)).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let refused = body_refused(gateway, e);
            return match journal {
                Some(journal) => {
                    let entry = recorded(&state, &parts, gateway, endpoint, &[]);
                    answered(journal, entry, refused, started, None, None).await
                }
                None => refused,
            };
        }
    };
    let decided = match state.faults.armed() {
        true => decide(&state, &parts, &bytes, gateway, endpoint).await,
        false => None,
    };
    // A scripted fault wins over a rate limit: a rule that fires is answered before it is counted.
    let refused = match (&decided, state.service.rate_limited(), endpoint) {
        (None, true, Some(endpoint)) => over_limit(&state, &parts, &bytes, gateway, endpoint).await,
        _ => None,
    };
    let entry = journal.map(|_| recorded(&state, &parts, gateway, endpoint, &bytes));
    // A rule or a limit that answers before the handler leaves no caller: the journal names
    // the app from the token itself.
    if journal.is_some() && (decided.is_some() || refused.is_some()) && noted.caller.get().is_none() {
        if let Some(who) = authenticated(&state, &parts, gateway).await {
            let _ = noted.caller.set(who);
        }
    }
    let req = Request::from_parts(parts, Body::from(bytes));
    if let Some((_, action)) = &decided {
        state.metrics.fault_fired(kind(action));
    }
    let fired = decided.as_ref().map(|(id, action)| FaultFired {
        id: *id,
        kind: kind(action).to_owned(),
    });
    let action = match (decided.map(|(_, action)| action), refused) {
        (None, Some(refusal)) => Err(refusal),
        (action, _) => Ok(action),
    };
    let (response, cut) = match action {
        Err(refusal) => (refusal, false),
        Ok(None) => (forward(&mut inner, req).await, false),
        Ok(Some(FaultAction::Errcode { errcode, errmsg })) => {
            let injected = crate::gateway::oapi::Error::Injected {
                errcode,
                errmsg: errmsg.unwrap_or_else(|| "系统繁忙".to_owned()),
            };
            (injected.into_response(), false)
        }
        Ok(Some(FaultAction::Error { status, code, message })) => {
            let injected = crate::gateway::api::Error::Injected {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code,
                message,
            };
            (injected.into_response(), false)
        }
        Ok(Some(FaultAction::Delay { ms })) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (forward(&mut inner, req).await, false)
        }
        Ok(Some(FaultAction::Drop)) => {
            if let (Some(journal), Some(mut entry)) = (journal, entry) {
                entry.caller = noted.caller.get().cloned();
                entry.fault = fired;
                entry.duration_us = micros(started);
                journal.record(entry);
            }
            return dropped();
        }
        Ok(Some(FaultAction::Truncate)) => (forward(&mut inner, req).await, true),
    };
    let response = match (journal, entry) {
        (Some(journal), Some(entry)) => answered(journal, entry, response, started, fired, noted.caller.get()).await,
        _ => response,
    };
    if cut { truncated(response).await } else { response }
}

/// The armed rules' decision on a request: what a rule matches on is worked out only here.
async fn decide(
    state: &AppState,
    parts: &Parts,
    bytes: &Bytes,
    gateway: Gateway,
    endpoint: Option<&'static str>,
) -> Option<(u64, FaultAction)> {
    let caller = match state.faults.needs_caller() {
        true => caller(state, parts, gateway).await,
        false => None,
    };
    let params = params(&parts.uri, is_form(&parts.headers), bytes);
    let who = who_from(
        &parts.uri,
        &params,
        caller.as_ref().map(|(app, corp)| (app.as_str(), corp.as_deref())),
    );
    state.faults.decide(&Probe {
        legacy: gateway == Gateway::Oapi,
        endpoint,
        app: who.app.as_deref(),
        corp: who.corp.as_deref(),
        user: who.user.as_deref(),
        params: &params,
    })
}

/// The rate-limit refusal of a call, when it is over a limit: counted against every limit that
/// matches its app (the token's, or the app key a token request sends) and endpoint. A call
/// whose app is unknown is not counted; DingTalk refuses it for its credentials first.
async fn over_limit(
    state: &AppState,
    parts: &Parts,
    bytes: &Bytes,
    gateway: Gateway,
    endpoint: &'static str,
) -> Option<Response> {
    let (app, corp) = match caller(state, parts, gateway).await {
        Some(who) => who,
        None => (
            first(&params(&parts.uri, is_form(&parts.headers), bytes), APP_PARAMS)?,
            None,
        ),
    };
    let call = dingdir_core::rate::Call {
        app: &app,
        endpoint,
        corp: corp.as_deref(),
    };
    match state.service.count_call(&call).await {
        Ok(None) => None,
        Ok(Some(over)) => Some({
            state.metrics.rate_limited(endpoint);
            match gateway {
                Gateway::Oapi => crate::gateway::oapi::Error::RateLimited {
                    per: over.limit.per,
                    all_apps: over.limit.all_apps,
                    limit: over.limit.limit,
                    hits: over.hits,
                    window: over.window,
                    path: parts.uri.path().to_owned(),
                }
                .into_response(),
                Gateway::Api | Gateway::Admin | Gateway::Browser => {
                    crate::gateway::api::Error::RateLimited(over.limit.per, over.limit.all_apps).into_response()
                }
            }
        }),
        Err(e) => {
            tracing::warn!(request = %crate::request::current(), error = %e, "counting a call against its rate limit failed");
            Some(gateway.busy())
        }
    }
}

fn recorded(
    state: &AppState,
    parts: &Parts,
    gateway: Gateway,
    endpoint: Option<&'static str>,
    bytes: &[u8],
) -> Recorded {
    let id = crate::request::CURRENT
        .try_with(|c| c.id)
        .unwrap_or_else(|_| crate::request::RequestId::new(gateway));
    Recorded::new(
        state.service.now(),
        gateway,
        parts.method.clone(),
        &parts.uri,
        endpoint,
        id,
        is_form(&parts.headers),
        bytes,
    )
}

/// Journals `response` (its body read whole and given back) and returns it.
async fn answered(
    journal: &Journal,
    mut entry: Recorded,
    response: Response,
    started: Instant,
    fired: Option<FaultFired>,
    caller: Option<&Caller>,
) -> Response {
    let (parts, body) = response.into_parts();
    // Every handler answers from memory: this takes the buffer, it copies nothing.
    let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    entry.status = Some(parts.status.as_u16());
    entry.duration_us = micros(started);
    entry.caller = caller.cloned();
    entry.fault = fired;
    entry.set_answer(bytes.clone());
    journal.record(entry);
    Response::from_parts(parts, Body::from(bytes))
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn kind(action: &FaultAction) -> &'static str {
    match action {
        FaultAction::Errcode { .. } => "errcode",
        FaultAction::Error { .. } => "error",
        FaultAction::Delay { .. } => "delay",
        FaultAction::Drop => "drop",
        FaultAction::Truncate => "truncate",
    }
}

async fn forward<S>(inner: &mut S, req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    match inner.call(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The answer to a body that could not be read, in the gateway's form.
fn body_refused(gateway: Gateway, e: BodyError) -> Response {
    use crate::gateway::{api, oapi};
    match (gateway, e) {
        (Gateway::Oapi, BodyError::TooLarge) => oapi::Error::BodyTooLarge.into_response(),
        (Gateway::Oapi, BodyError::Read(why)) => oapi::Error::BadBody(why).into_response(),
        (_, BodyError::TooLarge) => api::Error::BodyTooLarge.into_response(),
        (_, BodyError::Read(why)) => api::Error::BadBody(why).into_response(),
        (_, BodyError::TimedOut) => gateway.busy(),
    }
}

/// The app key and corp of the request's token, when it has a valid one.
async fn caller(state: &AppState, parts: &Parts, gateway: Gateway) -> Option<(String, Option<String>)> {
    let caller = authenticated(state, parts, gateway).await?;
    Some((
        caller.app.key.as_str().to_owned(),
        caller.corp_id.map(|c| c.as_str().to_owned()),
    ))
}

/// Who the request's token is for, when it is valid.
async fn authenticated(state: &AppState, parts: &Parts, gateway: Gateway) -> Option<Caller> {
    let token = match gateway {
        Gateway::Oapi => form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned()),
        Gateway::Api | Gateway::Admin | Gateway::Browser => parts
            .headers
            .get(dingdir_proto::api::ACCESS_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }?;
    state.service.authenticate(Some(&token)).await.ok()
}

/// An answer whose body fails before its first byte: hyper closes the connection without
/// writing the status line, so the client sees the connection drop.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async { Err::<Bytes, _>(std::io::Error::other("fault rule: drop")) });
    Response::new(Body::from_stream(stream))
}

/// `response` with its full length announced and only the first half of its body sent before the
/// connection is cut.
async fn truncated(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return dropped();
    };
    let bytes = collected.to_bytes();
    let half = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    // The first half, then (once it has had time to be flushed) the error that cuts the connection.
    let stream = futures_util::stream::unfold(Some(Some(half)), |step| async move {
        match step? {
            Some(half) => Some((Ok::<Bytes, std::io::Error>(half), Some(None))),
            None => {
                tokio::time::sleep(TRUNCATE_PAUSE).await;
                Some((Err(std::io::Error::other("fault rule: truncate")), None))
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}
