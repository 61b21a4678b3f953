//! Departments on the legacy gateway. docs/wire/directory-read.md §2.8–2.12. Each checks
//! the token, then the permission, then its input, in DingTalk's order.

use super::Error;
use super::error::top_ok;
use super::extract::TopRequest;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::{Caller, Service};
use dingdir_proto::oapi::{DeptIdListResult, DeptRequest, ParentIdListResult, UserIdRequest};
use dingdir_proto::scope::QYAPI_GET_DEPARTMENT_LIST;

/// The caller and the department the request names, after the token and permission checks.
async fn department_request(state: &AppState, req: &mut TopRequest) -> Result<(Caller, Option<i64>), Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_DEPARTMENT_LIST)?;
    let input: DeptRequest = req.input()?;
    Ok((caller, input.dept_id))
}

/// `POST /topapi/v2/department/get`.
pub(super) async fn get(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, dept) = department_request(&state, &mut req).await?;
    Ok(top_ok(&state.service.department_get(&caller, dept).await?))
}

/// `POST /topapi/v2/department/listsub`.
pub(super) async fn list_sub(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, dept) = department_request(&state, &mut req).await?;
    Ok(top_ok(&state.service.department_children(&caller, dept).await?))
}

/// `POST /topapi/v2/department/listsubid`.
pub(super) async fn list_sub_id(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, dept) = department_request(&state, &mut req).await?;
    let dept_id_list = state.service.department_child_ids(&caller, dept).await?;
    Ok(top_ok(&DeptIdListResult { dept_id_list }))
}

/// `POST /topapi/v2/department/listparentbydept`.
pub(super) async fn list_parent_by_dept(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, dept) = department_request(&state, &mut req).await?;
    let parent_id_list = state.service.department_path(&caller, dept).await?;
    Ok(top_ok(&ParentIdListResult { parent_id_list }))
}

/// `POST /topapi/v2/department/listparentbyuser`.
pub(super) async fn list_parent_by_user(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_DEPARTMENT_LIST)?;
    let input: UserIdRequest = req.input()?;
    Ok(top_ok(
        &state.service.member_department_paths(&caller, &input.userid).await?,
    ))
}
