//! Contacts on the new gateway: GetUser (seed 000).

use super::extract::Token;
use super::{Error, json_bytes_response};
use crate::state::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_core::Error as Domain;

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
