//! Directory writes on the legacy gateway. docs/wire/writes-and-callbacks.md §1. Each checks the
//! token, then the permission, then its input, in DingTalk's order; the rules are
//! `dingdir_core`'s (`org/write.rs`).

use super::Error;
use super::error::{top_done, top_ok};
use super::extract::{FromParams, TopRequest};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::{Caller, Service};
use dingdir_proto::oapi::{DeptRequest, DeptWriteRequest, UserIdRequest, UserWriteRequest};

/// The caller, once their token and write permission are checked, and the request's input.
async fn write_request<T: FromParams>(state: &AppState, req: &mut TopRequest) -> Result<(Caller, T), Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_write_directory(&caller)?;
    let input = req.input()?;
    Ok((caller, input))
}

/// `POST /topapi/v2/user/create`.
pub(super) async fn user_create(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, input): (_, UserWriteRequest) = write_request(&state, &mut req).await?;
    Ok(top_ok(&state.service.user_create(&caller, &input).await?))
}

/// `POST /topapi/v2/user/update`.
pub(super) async fn user_update(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, input): (_, UserWriteRequest) = write_request(&state, &mut req).await?;
    state.service.user_update(&caller, &input).await?;
    Ok(top_done())
}

/// `POST /topapi/v2/user/delete`.
pub(super) async fn user_delete(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, input): (_, UserIdRequest) = write_request(&state, &mut req).await?;
    state.service.user_delete(&caller, &input.userid).await?;
    Ok(top_done())
}

/// `POST /topapi/v2/department/create`.
pub(super) async fn department_create(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, input): (_, DeptWriteRequest) = write_request(&state, &mut req).await?;
    Ok(top_ok(&state.service.department_create(&caller, &input).await?))
}

/// `POST /topapi/v2/department/update`.
pub(super) async fn department_update(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, input): (_, DeptWriteRequest) = write_request(&state, &mut req).await?;
    state.service.department_update(&caller, &input).await?;
    Ok(top_done())
}

/// `POST /topapi/v2/department/delete`.
pub(super) async fn department_delete(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, input): (_, DeptRequest) = write_request(&state, &mut req).await?;
    state.service.department_delete(&caller, input.dept_id).await?;
    Ok(top_done())
}
