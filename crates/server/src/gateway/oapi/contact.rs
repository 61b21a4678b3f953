//! Members on the legacy gateway: the full record, a unionId's userid, a department's members
//! (pages, userids), the member count and the administrators. docs/wire/directory-read.md
//! §2.1–2.7. Each checks the token, then the permission,
//! then its input, in DingTalk's order.

use super::Error;
use super::error::{top_ok, top_ok_json};
use super::extract::TopRequest;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::Service;
use dingdir_core::org::MemberKey;
use dingdir_proto::oapi::{
    DeptRequest, GetByUnionIdRequest, UserCountRequest, UserGetRequest, UserListIdResult, UserListRequest,
};
use dingdir_proto::scope::{QYAPI_GET_DEPARTMENT_MEMBER, QYAPI_GET_MEMBER};

/// `POST /topapi/v2/user/get`.
pub(super) async fn user_get(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_MEMBER)?;
    let input: UserGetRequest = req.input()?;
    Ok(top_ok_json(
        &state.service.user_get_json(&caller, MemberKey::of(&input)).await?,
    ))
}

/// `POST /topapi/user/getbyunionid`.
pub(super) async fn get_by_union_id(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_MEMBER)?;
    let input: GetByUnionIdRequest = req.input()?;
    Ok(top_ok(
        &state.service.userid_by_union_id(&caller, &input.unionid).await?,
    ))
}

/// `POST /topapi/user/listid`.
pub(super) async fn list_id(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_MEMBER)?;
    let input: DeptRequest = req.input()?;
    let userid_list = state.service.department_userids(&caller, input.dept_id).await?;
    Ok(top_ok(&UserListIdResult { userid_list }))
}

/// `POST /topapi/v2/user/list`.
pub(super) async fn list(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_DEPARTMENT_MEMBER)?;
    let input: UserListRequest = req.input()?;
    Ok(top_ok_json(&state.service.user_list_json(&caller, &input).await?))
}

/// `POST /topapi/user/listsimple`.
pub(super) async fn list_simple(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_DEPARTMENT_MEMBER)?;
    let input: UserListRequest = req.input()?;
    Ok(top_ok(&state.service.user_list_simple(&caller, &input).await?))
}

/// `POST /topapi/user/count`.
pub(super) async fn count(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_MEMBER)?;
    let input: UserCountRequest = req.input()?;
    let only_active = input.only_active.map(|b| b.0);
    Ok(top_ok(&state.service.user_count(&caller, only_active).await?))
}

/// `POST /topapi/user/listadmin`.
pub(super) async fn list_admin(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_MEMBER)?;
    req.input::<()>()?;
    Ok(top_ok(&state.service.admins(&caller).await?))
}
