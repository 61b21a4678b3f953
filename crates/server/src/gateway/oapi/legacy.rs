//! The old flat GET reads: `/user/get`, `/department/list`, `/auth/scopes`, `/user/getuserinfo`.
//! No `result` wrapper and no `request_id`; errors are plain `{errcode, errmsg}`.
//! docs/wire/directory-read.md §1.4, §2.13–2.15.

use super::Error;
use super::error::json_response;
use super::extract::TopRequest;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::Service;
use dingdir_proto::oapi::{
    AuthScopesResponse, DepartmentListRequest, DepartmentListResponse, LegacyUserInfoResponse, UserGetRequest,
    UserInfoRequest, errcode,
};
use dingdir_proto::scope::{QYAPI_GET_DEPARTMENT_LIST, QYAPI_GET_MEMBER};

/// `GET /user/get`.
pub(super) async fn user_get(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_MEMBER)?;
    let input: UserGetRequest = req.input()?;
    Ok(json_response(
        &state.service.legacy_user_get(&caller, &input.userid).await?,
    ))
}

/// `GET /department/list`; `fetch_child` defaults to true (a guess, §2.13).
pub(super) async fn department_list(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_read_directory(&caller, QYAPI_GET_DEPARTMENT_LIST)?;
    let input: DepartmentListRequest = req.input()?;
    let department = state
        .service
        .legacy_department_list(&caller, input.id, input.fetch_child.unwrap_or(true))
        .await?;
    Ok(json_response(&DepartmentListResponse {
        errcode: errcode::OK,
        department,
        errmsg: "ok".to_owned(),
    }))
}

/// `GET /auth/scopes`.
pub(super) async fn auth_scopes(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    let (auth_user_field, auth_org_scopes) = Service::auth_scopes(&caller)?;
    req.input::<()>()?;
    Ok(json_response(&AuthScopesResponse {
        errcode: errcode::OK,
        errmsg: "ok".to_owned(),
        auth_user_field,
        condition_field: Vec::new(),
        auth_org_scopes,
    }))
}

/// `GET /user/getuserinfo`: [`Service::user_info_by_code`] in the old flat form.
pub(super) async fn user_info(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    let input: UserInfoRequest = req.input()?;
    let info = state.service.user_info_by_code(&caller, &input.code).await?;
    Ok(json_response(&LegacyUserInfoResponse {
        errcode: errcode::OK,
        sys_level: info.sys_level,
        is_sys: info.sys,
        name: info.name,
        errmsg: "ok".to_owned(),
        device_id: info.device_id,
        userid: info.userid,
    }))
}
