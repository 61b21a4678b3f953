//! Work notifications (`/topapi/message/corpconversation/*`, docs/wire/messages.md §B): the
//! token first, then the agentId, then the input, in DingTalk's order.

use super::Error;
use super::error::json_response;
use super::extract::TopRequest;
use crate::request::request_id;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::notice::NoticeError;
use dingdir_proto::message::{NoticeSendRequest, NoticeTaskRequest};
use serde_json::json;

impl From<NoticeError> for Error {
    fn from(e: NoticeError) -> Self {
        match e {
            NoticeError::Domain(d) => Self::Domain(d),
            NoticeError::Refused(r) => Self::Refusal(r),
        }
    }
}

/// `POST …/asyncsend_v2`: `{"errcode":0,"errmsg":"ok","task_id":N,"request_id":…}`.
pub(super) async fn send(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    let input: NoticeSendRequest = req.input()?;
    let task_id = state
        .service
        .send_notice(&caller, &input, state.settings.inbox_max)
        .await?;
    Ok(json_response(
        &json!({"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": request_id()}),
    ))
}

/// `POST …/getsendprogress`: `progress`.
pub(super) async fn progress(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    let input: NoticeTaskRequest = req.input()?;
    let progress = state.service.notice_progress(&caller, &input).await?;
    Ok(json_response(
        &json!({"errcode": 0, "errmsg": "ok", "progress": progress, "request_id": request_id()}),
    ))
}

/// `POST …/getsendresult`: `send_result`.
pub(super) async fn result(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    let input: NoticeTaskRequest = req.input()?;
    let result = state.service.notice_result(&caller, &input).await?;
    Ok(json_response(
        &json!({"errcode": 0, "errmsg": "ok", "send_result": result, "request_id": request_id()}),
    ))
}

/// `POST …/recall` (the task as `msg_task_id`).
pub(super) async fn recall(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    let input: RecallInput = req.input()?;
    state.service.recall_notice(&caller, &input.0).await?;
    Ok(super::error::top_done())
}

/// recall's body: `msg_task_id` in place of `task_id`.
pub(super) struct RecallInput(NoticeTaskRequest);

impl super::extract::FromParams for RecallInput {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self(NoticeTaskRequest {
            agent_id: r.int("agent_id")?,
            task_id: r.int("msg_task_id")?,
        }))
    }
}
