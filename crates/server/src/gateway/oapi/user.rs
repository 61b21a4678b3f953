//! Users on the legacy gateway: getbymobile (seed 003) and the in-app sign-in code exchange.

use super::Error;
use super::error::{json_response, top_ok};
use super::extract::TopRequest;
use crate::request::request_id;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_core::Service;
use dingdir_proto::oapi::{GetByMobileRequest, GetByMobileResponse, GetByMobileResult, UserInfoRequest, errcode};

/// `POST /topapi/v2/user/getbymobile`: token, then permission, then parameters.
pub(super) async fn get_by_mobile(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    Service::may_get_by_mobile(&caller)?;
    let input: GetByMobileRequest = req.input()?;
    let with_exclusive = input.support_exclusive_account_search.unwrap_or_default().0;
    let found = state
        .service
        .get_by_mobile(&caller, Some(&input.mobile), with_exclusive)
        .await?;
    Ok(json_response(&GetByMobileResponse {
        errcode: errcode::OK,
        errmsg: "ok".to_owned(),
        result: GetByMobileResult {
            exclusive_account_userid_list: found.exclusive_userids,
            userid: found.userid,
        },
        request_id: request_id(),
    }))
}

/// `POST /topapi/v2/user/getuserinfo`: token, then the code. docs/wire/directory-read.md §2.15.
pub(super) async fn get_user_info(State(state): State<AppState>, mut req: TopRequest) -> Result<Response, Error> {
    let caller = req.caller(&state.service).await?;
    let input: UserInfoRequest = req.input()?;
    Ok(top_ok(&state.service.user_info_by_code(&caller, &input.code).await?))
}
