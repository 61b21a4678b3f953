//! Tokens on the new gateway. WIRE.md §C2-C4, SDK-WIRE.md §1.2.

use super::extract::Json;
use super::{Error, json_response};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_core::Error as Domain;
use dingdir_core::service::{IssuedToken, UserToken};
use dingdir_proto::api::{
    AccessTokenResponse, GetAccessTokenRequest, GetCorpAccessTokenRequest, GetUserTokenRequest, UserTokenResponse,
};

fn token_body(t: IssuedToken) -> Response {
    json_response(
        StatusCode::OK,
        &AccessTokenResponse {
            access_token: t.token,
            expire_in: t.expires_in,
        },
    )
}

fn user_token_body(t: UserToken) -> Response {
    json_response(
        StatusCode::OK,
        &UserTokenResponse {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expire_in: t.expires_in,
            corp_id: t.corp_id.map(|c| c.0),
        },
    )
}

/// `POST /v1.0/oauth2/accessToken`.
pub(super) async fn get_access_token(
    State(state): State<AppState>,
    Json(req): Json<GetAccessTokenRequest>,
) -> Result<Response, Error> {
    let token = state
        .service
        .app_token(req.app_key.as_deref(), req.app_secret.as_deref())
        .await?;
    Ok(token_body(token))
}

/// `POST /v1.0/oauth2/corpAccessToken`.
pub(super) async fn get_corp_access_token(
    State(state): State<AppState>,
    Json(req): Json<GetCorpAccessTokenRequest>,
) -> Result<Response, Error> {
    let token = state
        .service
        .corp_token(
            req.suite_key.as_deref(),
            req.suite_secret.as_deref(),
            req.auth_corp_id.as_deref(),
            req.suite_ticket.as_deref(),
        )
        .await?;
    Ok(token_body(token))
}

/// `POST /v1.0/oauth2/userAccessToken`.
pub(super) async fn get_user_token(
    State(state): State<AppState>,
    Json(req): Json<GetUserTokenRequest>,
) -> Result<Response, Error> {
    let (id, secret) = (req.client_id.as_deref(), req.client_secret.as_deref());
    let token = match req.grant_type.as_deref() {
        Some("authorization_code") => {
            state
                .service
                .user_token_from_code(id, secret, req.code.as_deref())
                .await?
        }
        Some("refresh_token") => {
            state
                .service
                .user_token_from_refresh(id, secret, req.refresh_token.as_deref())
                .await?
        }
        _ => return Err(Domain::InvalidParameter { name: "grantType" }.into()),
    };
    Ok(user_token_body(token))
}
