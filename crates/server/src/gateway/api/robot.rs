//! App robots on the new gateway (`/v1.0/robot/…`, docs/wire/messages.md §A): the token
//! first, then the permission, then the body, in DingTalk's order.

use super::extract::{Json, Token};
use super::{Error, json_response};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use dingdir_core::Service;
use dingdir_core::app_robot::AppRobotError;
use dingdir_proto::message::{BatchSendOtoRequest, GroupSendRequest, RecallRequest};

impl From<AppRobotError> for Error {
    fn from(e: AppRobotError) -> Self {
        match e {
            AppRobotError::Domain(d) => Self::Domain(d),
            AppRobotError::Refused(r) => Self::Refused(r),
        }
    }
}

/// `POST /v1.0/robot/oToMessages/batchSend` (robot_1_0 `BatchSendOTO`).
pub(super) async fn batch_send_oto(
    State(state): State<AppState>,
    Token(caller): Token,
    body: Result<Json<BatchSendOtoRequest>, Error>,
) -> Result<Response, Error> {
    Service::may_send_as_robot(&caller)?;
    let Json(req) = body?;
    let sent = state.service.send_oto(&caller, &req, state.settings.inbox_max).await?;
    Ok(json_response(StatusCode::OK, &sent))
}

/// `POST /v1.0/robot/groupMessages/send` (robot_1_0 `OrgGroupSend`).
pub(super) async fn group_send(
    State(state): State<AppState>,
    Token(caller): Token,
    body: Result<Json<GroupSendRequest>, Error>,
) -> Result<Response, Error> {
    Service::may_send_as_robot(&caller)?;
    let Json(req) = body?;
    let sent = state
        .service
        .send_to_group(&caller, &req, state.settings.inbox_max)
        .await?;
    Ok(json_response(StatusCode::OK, &sent))
}

/// `GET /v1.0/robot/oToMessages/readStatus?robotCode=&processQueryKey=` (`BatchOTOQuery`).
pub(super) async fn oto_read_status(
    State(state): State<AppState>,
    Token(caller): Token,
    uri: Uri,
) -> Result<Response, Error> {
    let (mut robot_code, mut key) = (None, None);
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "robotCode" => robot_code = Some(v.into_owned()),
            "processQueryKey" => key = Some(v.into_owned()),
            _ => {}
        }
    }
    let status = state
        .service
        .oto_read_status(&caller, robot_code.as_deref(), key.as_deref())
        .await?;
    Ok(json_response(StatusCode::OK, &status))
}

/// `POST /v1.0/robot/otoMessages/batchRecall` (`BatchRecallOTO`).
pub(super) async fn batch_recall_oto(
    State(state): State<AppState>,
    Token(caller): Token,
    body: Result<Json<RecallRequest>, Error>,
) -> Result<Response, Error> {
    Service::may_send_as_robot(&caller)?;
    let Json(req) = body?;
    let done = state.service.recall_robot_sends(&caller, &req, false).await?;
    Ok(json_response(StatusCode::OK, &done))
}

/// `POST /v1.0/robot/groupMessages/recall` (`OrgGroupRecall`).
pub(super) async fn group_recall(
    State(state): State<AppState>,
    Token(caller): Token,
    body: Result<Json<RecallRequest>, Error>,
) -> Result<Response, Error> {
    Service::may_send_as_robot(&caller)?;
    let Json(req) = body?;
    let done = state.service.recall_robot_sends(&caller, &req, true).await?;
    Ok(json_response(StatusCode::OK, &done))
}

/// `POST /v1.0/robot/messageFiles/download` (`RobotMessageFileDownload`): a URL on this server
/// the file can be fetched from with a plain GET.
pub(super) async fn message_file_download(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Token(caller): Token,
    body: Result<Json<dingdir_proto::message::FileDownloadRequest>, Error>,
) -> Result<Response, Error> {
    Service::may_send_as_robot(&caller)?;
    let Json(req) = body?;
    let media = state.service.message_file(&caller, &req).await?;
    let host = crate::params::host(&headers).unwrap_or("127.0.0.1");
    let path = dingdir_proto::admin::path::MEDIA.replace("{mediaId}", &media.media_id);
    Ok(json_response(
        StatusCode::OK,
        &dingdir_proto::message::FileDownloadResponse {
            download_url: format!("http://{host}{path}"),
        },
    ))
}
