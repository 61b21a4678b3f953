//! Directory writes on the legacy gateway. docs/wire/writes-and-callbacks.md §1. Each checks the
//! token, then the permission, then its input, in DingTalk's order; the rules are
//! `dingdir_core`'s (`org/write.rs`).

use super::Error;
use super::error::{top_done, top_ok};
use super::extract::TopRequest;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::Service;
use dingdir_proto::oapi::{DeptRequest, DeptWriteRequest, UserIdRequest, UserWriteRequest};

/// `POST /topapi/v2/user/create`.
pub(super) async fn user_create(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_write_directory(&caller)?;
    let input: UserWriteRequest = req.input()?;
    Ok(top_ok(&state.service.user_create(&caller, &input).await?))
}

/// `POST /topapi/v2/user/update`.
pub(super) async fn user_update(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_write_directory(&caller)?;
    let input: UserWriteRequest = req.input()?;
    state.service.user_update(&caller, &input).await?;
    Ok(top_done())
}

/// `POST /topapi/v2/user/delete`.
pub(super) async fn user_delete(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_write_directory(&caller)?;
    let input: UserIdRequest = req.input()?;
    state.service.user_delete(&caller, &input.userid).await?;
    Ok(top_done())
}

/// `POST /topapi/v2/department/create`.
pub(super) async fn department_create(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_write_directory(&caller)?;
    let input: DeptWriteRequest = req.input()?;
    Ok(top_ok(&state.service.department_create(&caller, &input).await?))
}

/// `POST /topapi/v2/department/update`.
pub(super) async fn department_update(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_write_directory(&caller)?;
    let input: DeptWriteRequest = req.input()?;
    state.service.department_update(&caller, &input).await?;
    Ok(top_done())
}

/// `POST /topapi/v2/department/delete`.
pub(super) async fn department_delete(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_write_directory(&caller)?;
    let input: DeptRequest = req.input()?;
    state.service.department_delete(&caller, input.dept_id).await?;
    Ok(top_done())
}
