//! The old callback registration API: `/call_back/register_call_back`, `update_call_back`,
//! `get_call_back`, `delete_call_back`. A callback registered this way closes each plaintext
//! with the corpId, as DingTalk's corp-level registration does. docs/wire/writes-and-callbacks.md
//! §2.7 and §4.

use super::Error;
use super::error::json_response;
use super::extract::TopRequest;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::callback::{Callback, CallbackRefusal, ReceiveId};
use dingdir_core::{Caller, Error as Domain};
use dingdir_proto::oapi::{CallBackRequest, GetCallBackResponse, errcode};

fn refused(why: CallbackRefusal) -> Error {
    Domain::CallbackRefused(why).into()
}

/// The calling app, which must act in a corp with an app (not a user) token.
async fn calling_app(state: &AppState, req: &TopRequest) -> Result<Caller, Error> {
    let caller = req.caller(&state.service).await?;
    if caller.corp_id.is_none() || caller.person_id.is_some() {
        return Err(Domain::WrongTokenKind {
            scope: "an app access_token of the corp",
        }
        .into());
    }
    Ok(caller)
}

fn ok() -> Response {
    json_response(&serde_json::json!({ "errcode": errcode::OK, "errmsg": "ok" }))
}

async fn existing(state: &AppState, caller: &Caller) -> Result<Option<Callback>, Error> {
    Ok(state
        .service
        .callbacks()
        .await?
        .into_iter()
        .map(|s| s.callback)
        .find(|c| c.app_key == caller.app.key))
}

async fn save(state: &AppState, mut req: TopRequest, replace: bool) -> Result<Response, Error> {
    let caller = calling_app(state, &req).await?;
    let input: CallBackRequest = req.input()?;
    match (existing(state, &caller).await?, replace) {
        (Some(_), false) => return Err(refused(CallbackRefusal::Exists)),
        (None, true) => return Err(refused(CallbackRefusal::Missing)),
        _ => {}
    }
    let field = |v: Option<String>, name: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| refused(CallbackRefusal::Invalid(format!("missing `{name}`"))))
    };
    if input.call_back_tag.is_empty() {
        return Err(refused(CallbackRefusal::Invalid("missing `call_back_tag`".to_owned())));
    }
    let cb = Callback {
        app_key: caller.app.key.clone(),
        url: field(input.url, "url")?,
        token: field(input.token, "token")?,
        aes_key: field(input.aes_key, "aes_key")?,
        events: input.call_back_tag,
        receive_id: ReceiveId::CorpId,
    };
    crate::callbacks::register(state, cb, true).await?;
    Ok(ok())
}

/// `POST /call_back/register_call_back`.
pub(super) async fn register(State(state): State<AppState>, req: TopRequest) -> Result<Response, Error> {
    save(&state, req, false).await
}

/// `POST /call_back/update_call_back`.
pub(super) async fn update(State(state): State<AppState>, req: TopRequest) -> Result<Response, Error> {
    save(&state, req, true).await
}

/// `GET /call_back/get_call_back`.
pub(super) async fn get(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = calling_app(&state, &req).await?;
    req.input::<()>()?;
    let cb = existing(&state, &caller)
        .await?
        .ok_or_else(|| refused(CallbackRefusal::Missing))?;
    Ok(json_response(&GetCallBackResponse {
        errcode: errcode::OK,
        errmsg: "ok".to_owned(),
        call_back_tag: cb.events,
        token: cb.token,
        aes_key: cb.aes_key,
        url: cb.url,
    }))
}

/// `GET /call_back/delete_call_back`.
pub(super) async fn delete(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = calling_app(&state, &req).await?;
    req.input::<()>()?;
    if !state.service.remove_callback(&caller.app.key).await? {
        return Err(refused(CallbackRefusal::Missing));
    }
    Ok(ok())
}
