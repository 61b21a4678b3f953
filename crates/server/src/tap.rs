//! The inspected path: while a fault rule is armed or the journal is on, a DingTalk-gateway
//! request is read whole before it is served, so a rule can match its parameters and caller and
//! its answer can be replaced, delayed, dropped or cut short, and the journal can keep both
//! bodies. With neither, the root layer never comes here.

use crate::body::{self, BodyError};
use crate::faults::Probe;
use crate::request::Gateway;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dingdir_proto::admin::{FaultAction, FaultFired, JournalEntry};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tower::Service;

/// Parameter names that carry the calling app's key, across the token endpoints of both gateways.
const APP_PARAMS: &[&str] = &["appkey", "appKey", "clientId", "client_id", "suiteKey", "suite_key"];
/// Parameter names that carry the corp a call acts in.
const CORP_PARAMS: &[&str] = &["corpid", "corpId", "authCorpId", "auth_corpid"];
/// How long a truncated answer's first half is left to reach the client before the connection
/// is cut: long enough for the bytes to be flushed, short against any client's timeout.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(50);

/// Serves `req` through `inner` under the armed fault rules, and journals it when the journal
/// is on.
pub(crate) async fn serve<S>(state: AppState, mut inner: S, req: Request, gateway: Gateway) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let started = Instant::now();
    let at_ms = state.service.now();
    let (parts, body) = req.into_parts();
    let journal = state.journal.as_ref();
    let bytes = match body::read(body, state.settings.body_limit, Some(state.settings.store_timeout)).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let refused = body_refused(gateway, e);
            return match journal {
                Some(journal) => {
                    Kept::new(&parts, gateway, &Who::default(), at_ms)
                        .answer(journal, refused, started, None)
                        .await
                }
                None => refused,
            };
        }
    };
    let params = params(&parts, &bytes);
    let caller = match state.faults.needs_caller() || journal.is_some() {
        true => caller(&state, &parts, gateway).await,
        false => None,
    };
    let path = parts.uri.path();
    let who = Who {
        user: params
            .get("userid")
            .cloned()
            .or_else(|| path.strip_prefix("/v1.0/contact/users/").map(str::to_owned))
            .filter(|u| !u.is_empty() && !u.contains('/')),
        app: caller
            .as_ref()
            .map(|c| c.0.clone())
            .or_else(|| first(&params, APP_PARAMS)),
        corp: caller
            .as_ref()
            .and_then(|c| c.1.clone())
            .or_else(|| first(&params, CORP_PARAMS)),
    };
    let endpoint = crate::gateway::endpoint_name(&parts.method, path);
    let decided = match state.faults.armed() {
        true => state.faults.decide(&Probe {
            legacy: gateway == Gateway::Oapi,
            endpoint,
            app: who.app.as_deref(),
            corp: who.corp.as_deref(),
            user: who.user.as_deref(),
            params: &params,
        }),
        false => None,
    };
    let kept = journal.map(|_| {
        let mut kept = Kept::new(&parts, gateway, &who, at_ms);
        kept.entry.request_body = crate::journal::body(&bytes, is_form(&parts), true);
        kept
    });
    let req = Request::from_parts(parts, Body::from(bytes));
    let fired = decided.as_ref().map(|(id, action)| FaultFired {
        id: *id,
        kind: kind(action).to_owned(),
    });
    let (response, cut) = match decided.map(|(_, action)| action) {
        None => (forward(&mut inner, req).await, false),
        Some(FaultAction::Errcode { errcode, errmsg }) => {
            let injected = crate::gateway::oapi::Error::Injected {
                errcode,
                errmsg: errmsg.unwrap_or_else(|| "系统繁忙".to_owned()),
            };
            (injected.into_response(), false)
        }
        Some(FaultAction::Error { status, code, message }) => {
            let injected = crate::gateway::api::Error::Injected {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code,
                message,
            };
            (injected.into_response(), false)
        }
        Some(FaultAction::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (forward(&mut inner, req).await, false)
        }
        Some(FaultAction::Drop) => {
            if let (Some(journal), Some(mut kept)) = (journal, kept) {
                kept.entry.fault = fired;
                kept.finish(journal, started, None);
            }
            return dropped();
        }
        Some(FaultAction::Truncate) => (forward(&mut inner, req).await, true),
    };
    let response = match (journal, kept) {
        (Some(journal), Some(kept)) => kept.answer(journal, response, started, fired).await,
        _ => response,
    };
    if cut { truncated(response).await } else { response }
}

/// Who a request is from and about, as far as the request shows.
#[derive(Default)]
struct Who {
    app: Option<String>,
    corp: Option<String>,
    user: Option<String>,
}

/// A journal entry being filled in.
struct Kept {
    entry: JournalEntry,
}

impl Kept {
    fn new(parts: &Parts, gateway: Gateway, who: &Who, at_ms: i64) -> Self {
        let path = parts.uri.path();
        Self {
            entry: JournalEntry {
                seq: 0,
                at_ms,
                gateway: if gateway == Gateway::Oapi { "oapi" } else { "api" }.to_owned(),
                method: parts.method.as_str().to_owned(),
                path: crate::journal::redact_query(path, parts.uri.query()),
                endpoint: crate::gateway::endpoint_name(&parts.method, path).map(str::to_owned),
                request_id: crate::request::request_id(),
                app: who.app.clone(),
                corp: who.corp.clone(),
                user: who.user.clone(),
                status: None,
                code: None,
                duration_us: 0,
                request_body: None,
                answer_body: None,
                fault: None,
            },
        }
    }

    /// Journals `response` (its body read whole, then given back) and returns it.
    async fn answer(
        mut self,
        journal: &crate::journal::Journal,
        response: Response,
        started: Instant,
        fired: Option<FaultFired>,
    ) -> Response {
        let (parts, body) = response.into_parts();
        // Every handler answers from memory, so reading the body whole costs a copy at most.
        let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        self.entry.fault = fired;
        self.entry.answer_body = crate::journal::body(&bytes, false, false);
        self.entry.code = code(
            self.entry.gateway == "oapi",
            parts.status,
            self.entry.answer_body.as_ref(),
        );
        self.finish(journal, started, Some(parts.status));
        Response::from_parts(parts, Body::from(bytes))
    }

    fn finish(mut self, journal: &crate::journal::Journal, started: Instant, status: Option<StatusCode>) {
        self.entry.status = status.map(|s| s.as_u16());
        self.entry.duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.entry.seq = journal.next_seq();
        journal.record(self.entry);
    }
}

/// DingTalk's code in an answer: the legacy `errcode`, or the new gateway's `code` on an error.
fn code(legacy: bool, status: StatusCode, body: Option<&serde_json::Value>) -> Option<String> {
    let body = body?;
    if legacy {
        body.get("errcode").map(|c| match c {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    } else if status.is_client_error() || status.is_server_error() {
        body.get("code").and_then(serde_json::Value::as_str).map(str::to_owned)
    } else {
        None
    }
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

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
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

/// The request's parameters: its query, then a JSON object's or a form's top-level fields, the
/// body's winning over the query's. Numbers and booleans are matched as their JSON text.
fn params(parts: &Parts, bytes: &Bytes) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if is_form(parts) {
        out.extend(form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())));
    } else if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(bytes) {
        out.extend(fields.into_iter().filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Some((k, v.to_string())),
            serde_json::Value::Null | serde_json::Value::Array(_) | serde_json::Value::Object(_) => None,
        }));
    }
    out
}

fn first(params: &HashMap<String, String>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| params.get(*n)).cloned()
}

/// The app key and corp of the request's token, when it has a valid one.
async fn caller(state: &AppState, parts: &Parts, gateway: Gateway) -> Option<(String, Option<String>)> {
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
    let caller = state.service.authenticate(Some(&token)).await.ok()?;
    Some((
        caller.app.key.as_str().to_owned(),
        caller.corp_id.map(|c| c.as_str().to_owned()),
    ))
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
