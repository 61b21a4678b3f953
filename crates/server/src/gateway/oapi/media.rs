//! `POST /media/upload?access_token=&type=` (docs/wire/messages.md §C): a multipart body with
//! the file in its `media` part; `type` (and the token) may come as form fields instead.

use super::Error;
use super::error::json_response;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use dingdir_core::media::{MAX_UPLOAD, Upload};
use serde_json::json;

/// Room for the part headers and boundaries around the largest file.
const OVERHEAD: usize = 64 * 1024;

/// Uploads read at once on this node: each holds up to 20 MB in memory, so this bounds what
/// uploads can take (80 MB); one more answers "system busy" at once.
const UPLOADS_AT_ONCE: usize = 4;
static UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(UPLOADS_AT_ONCE);

/// Upload slots free right now (the tests wait on it).
#[cfg(test)]
pub(crate) fn uploads_free() -> usize {
    UPLOADS.available_permits()
}

/// `POST /media/upload`.
pub(super) async fn upload(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let mut token = None;
    let mut kind = None;
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "access_token" => token = Some(v.into_owned()),
            "type" => kind = Some(v.into_owned()),
            _ => {}
        }
    }
    // A token in the query is checked before the body is read: a wrong one costs no upload slot
    // and no 20 MB read. A token in a form field can only be checked after.
    let mut caller = match &token {
        Some(t) => Some(state.service.authenticate(Some(t)).await?),
        None => None,
    };
    let Ok(_reading) = UPLOADS.try_acquire() else {
        return Err(Error::Busy);
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = crate::multipart::boundary(content_type).map(str::to_owned);
    let (bytes, too_large) =
        match crate::body::read(body, MAX_UPLOAD + OVERHEAD, Some(state.settings.store_timeout)).await {
            Ok(bytes) => (bytes, false),
            Err(crate::body::BodyError::TooLarge) => (axum::body::Bytes::new(), true),
            Err(crate::body::BodyError::Read(why)) => return Err(Error::BadBody(why)),
            Err(crate::body::BodyError::TimedOut) => return Err(Error::Busy),
        };
    let mut upload = Upload {
        kind,
        too_large,
        ..Upload::default()
    };
    if let Some(boundary) = &boundary {
        let parts = crate::multipart::parse(&bytes, boundary).unwrap_or_default();
        for part in parts {
            match part.name.as_str() {
                "media" => {
                    upload.file_name = part.file_name.unwrap_or_default();
                    upload.content_type = part.content_type.unwrap_or_default();
                    upload.data = Some(part.data.to_vec());
                }
                "type" if upload.kind.is_none() => upload.kind = Some(String::from_utf8_lossy(part.data).into_owned()),
                "access_token" if token.is_none() => token = Some(String::from_utf8_lossy(part.data).into_owned()),
                _ => {}
            }
        }
    }
    let caller = match caller.take() {
        Some(c) => c,
        None => state.service.authenticate(token.as_deref()).await?,
    };
    crate::request::note_caller(&caller);
    if too_large {
        // The type is still checked first, as for a file within bounds.
        upload.data = Some(vec![0]);
    }
    let media = state
        .service
        .upload_media(&caller, upload, state.settings.media_max)
        .await?;
    Ok(json_response(&json!({
        "errcode": 0,
        "errmsg": "ok",
        "media_id": media.media_id,
        "created_at": media.at,
        "type": media.kind,
    })))
}
