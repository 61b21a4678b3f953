//! `GET /gettoken`. WIRE.md §C1, SDK-WIRE.md §3.3.

use super::Error;
use super::error::json_response;
use super::extract::QueryParams;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use dingdir_proto::oapi::{GetTokenResponse, errcode};

/// `GET /gettoken?appkey=&appsecret=`; the legacy `corpid`/`corpsecret` pair is read the same way.
pub(super) async fn get_token(State(state): State<AppState>, q: QueryParams) -> Result<Response, Error> {
    let key = q.get("appkey").or_else(|| q.get("corpid"));
    let secret = q.get("appsecret").or_else(|| q.get("corpsecret"));
    let token = state.service.app_token(key, secret).await?;
    Ok(json_response(&GetTokenResponse {
        errcode: errcode::OK,
        access_token: token.token,
        errmsg: "ok".to_owned(),
        expires_in: token.expires_in,
    }))
}
