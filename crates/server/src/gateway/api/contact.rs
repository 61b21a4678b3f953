//! Contacts on the new gateway: GetUser (seed 000) and the departed-member records.

use super::extract::Token;
use super::{Error, json_bytes_response};
use crate::state::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use dingdir_core::Error as Domain;
use dingdir_proto::api::ListEmpLeaveRecordsRequest;

/// `GET /v1.0/contact/users/{unionId}`: the token is checked first, then the id; an id that does
/// not even decode (bad percent-encoding) is simply not found.
pub(super) async fn get_user(
    State(state): State<AppState>,
    Token(caller): Token,
    union_id: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    let Ok(Path(union_id)) = union_id else {
        return Err(Domain::UserNotFound.into());
    };
    let profile = state.service.get_user(&caller, &union_id).await?;
    Ok(json_bytes_response(
        StatusCode::OK,
        axum::body::Bytes::copy_from_slice(profile.json()),
    ))
}

/// `GET /v1.0/contact/empLeaveRecords`: the token first, then the query (lenient: bytes that are
/// not UTF-8 become U+FFFD and fail as their parameter). docs/wire/directory-read.md §2.16.
pub(super) async fn list_emp_leave_records(
    State(state): State<AppState>,
    Token(caller): Token,
    uri: Uri,
) -> Result<Response, Error> {
    let mut req = ListEmpLeaveRecordsRequest::default();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "startTime" => req.start_time = v,
            "endTime" => req.end_time = v,
            "nextToken" => req.next_token = v,
            "maxResults" => {
                let n = v.as_deref().map(str::trim).filter(|s| !s.is_empty());
                req.max_results = match n {
                    None => None,
                    Some(n) => Some(n.parse().map_err(|_| Domain::IllegalParameter { name: "maxResults" })?),
                };
            }
            _ => {}
        }
    }
    let page = state.service.leave_records(&caller, &req).await?;
    Ok(super::json_response(StatusCode::OK, &page))
}
