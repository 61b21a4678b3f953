//! Directory writes on the legacy gateway: the `/topapi/v2` writes
//! (docs/wire/writes-and-callbacks.md §1) and the old 1.0 paths the community SDK calls
//! (docs/wire/old-writes.md), which read their camelCase fields into the same requests and
//! answer flat. Each checks the token, then the permission, then its input, in DingTalk's order;
//! the rules are `dingdir_core`'s (`org/write.rs`).

use super::Error;
use super::error::{json_response, top_done, top_ok};
use super::extract::{FromParams, OldDeptWrite, OldUserDelete, OldUserWrite, TopRequest};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::{Caller, Error as Domain, Service};
use dingdir_proto::oapi::{DeptRequest, DeptWriteRequest, UserIdRequest, UserWriteRequest, errcode};

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

/// A v2 write's refusal with its parameter named as the old path's caller spelled it.
fn old_names(e: Domain) -> Error {
    let rename = |name: &'static str| match name {
        "dept_id_list" => "department",
        "dept_order_list" => "orderInDepts",
        "title" => "position",
        "job_number" => "jobnumber",
        "hired_date" => "hiredDate",
        "work_place" => "workPlace",
        "telephone" => "tel",
        "org_email" => "orgEmail",
        "manager_userid" => "managerUserid",
        "extension" => "extattr",
        "parent_id" => "parentid",
        "dept_id" => "id",
        "hide_dept" => "deptHiding",
        "dept_permits" => "deptPermits",
        "user_permits" => "userPermits",
        other => other,
    };
    match e {
        Domain::InvalidParameter { name } => Domain::InvalidParameter { name: rename(name) }.into(),
        Domain::IllegalParameter { name } => Domain::IllegalParameter { name: rename(name) }.into(),
        other => other.into(),
    }
}

/// The old paths' flat success: `errcode 0`, `errmsg "ok"` (docs/wire/old-writes.md §0 and §7:
/// the current pages' text) and the path's own fields.
fn old_ok(fields: serde_json::Value) -> Response {
    let mut body = serde_json::json!({ "errcode": errcode::OK, "errmsg": "ok" });
    if let (Some(body), serde_json::Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    json_response(&body)
}

/// `POST /user/create`: answers `userid` and `unionId` beside the code.
pub(super) async fn old_user_create(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, OldUserWrite(input)) = write_request(&state, &mut req).await?;
    let made = state.service.user_create(&caller, &input).await.map_err(old_names)?;
    Ok(old_ok(
        serde_json::json!({ "userid": made.userid, "unionId": made.union_id }),
    ))
}

/// `POST /user/update`.
pub(super) async fn old_user_update(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, OldUserWrite(input)) = write_request(&state, &mut req).await?;
    state.service.user_update(&caller, &input).await.map_err(old_names)?;
    Ok(old_ok(serde_json::json!({})))
}

/// `GET /user/delete?userid=`, and the POST forms: `userid`, or the community SDK's
/// `useridlist` (then as `/user/batchdelete`).
pub(super) async fn old_user_delete(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let (caller, input): (_, OldUserDelete) = write_request(&state, &mut req).await?;
    match input {
        OldUserDelete::One(userid) => state.service.user_delete(&caller, &userid).await?,
        OldUserDelete::Many(list) => delete_many(&state, &caller, &list).await?,
    }
    Ok(old_ok(serde_json::json!({})))
}

/// `POST /user/batchdelete {useridlist}`.
pub(super) async fn old_user_batch_delete(
    State(state): State<AppState>,
    mut req: TopRequest,
) -> Result<Response, Error> {
    let (caller, input): (_, OldUserDelete) = write_request(&state, &mut req).await?;
    let list = match input {
        OldUserDelete::Many(list) => list,
        OldUserDelete::One(_) => Vec::new(),
    };
    delete_many(&state, &caller, &list).await?;
    Ok(old_ok(serde_json::json!({})))
}

/// The batch: 1 to 20 userids, each checked before any leaves, so a batch naming a stranger
/// changes nothing; then each leaves in list order (a repeated userid once), one event each.
async fn delete_many(state: &AppState, caller: &Caller, list: &[String]) -> Result<(), Error> {
    if list.is_empty() || list.len() > 20 {
        return Err(Error::Refused {
            errcode: errcode::BAD_USERID_LIST_LENGTH,
            errmsg: "useridlist must hold 1 to 20 userids",
        });
    }
    let mut seen = std::collections::HashSet::new();
    let list: Vec<&String> = list.iter().filter(|u| seen.insert(u.as_str())).collect();
    for userid in &list {
        state.service.check_user_delete(caller, userid).await?;
    }
    for userid in list {
        state.service.user_delete(caller, userid).await?;
    }
    Ok(())
}

/// `POST /department/create`: answers the new `id`.
pub(super) async fn old_department_create(
    State(state): State<AppState>,
    mut req: TopRequest,
) -> Result<Response, Error> {
    let (caller, OldDeptWrite(input)) = write_request(&state, &mut req).await?;
    let made = state
        .service
        .department_create(&caller, &input)
        .await
        .map_err(old_names)?;
    Ok(old_ok(serde_json::json!({ "id": made.dept_id })))
}

/// `POST /department/update`: answers the department's `id`, which the community SDK returns.
pub(super) async fn old_department_update(
    State(state): State<AppState>,
    mut req: TopRequest,
) -> Result<Response, Error> {
    let (caller, OldDeptWrite(input)) = write_request(&state, &mut req).await?;
    state
        .service
        .department_update(&caller, &input)
        .await
        .map_err(old_names)?;
    Ok(old_ok(serde_json::json!({ "id": input.dept_id })))
}

/// `GET /department/delete?id=`.
pub(super) async fn old_department_delete(
    State(state): State<AppState>,
    mut req: TopRequest,
) -> Result<Response, Error> {
    let (caller, OldDeptWrite(input)) = write_request(&state, &mut req).await?;
    state
        .service
        .department_delete(&caller, input.dept_id)
        .await
        .map_err(old_names)?;
    Ok(old_ok(serde_json::json!({})))
}
