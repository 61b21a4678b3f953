//! Extractors that reject in the new gateway's wire form.

use super::Error;
use crate::body::{self, BodyError};
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderName;
use axum::http::request::Parts;
use dingdir_core::Caller;
use dingdir_proto::api::ACCESS_TOKEN_HEADER;
use serde::de::DeserializeOwned;

/// A JSON body read under the size limit. A form-encoded body is refused as missing, as DingTalk
/// does (WIRE.md §A2, `Missingbody`); any other content type is read as JSON.
pub(crate) struct Json<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if form {
            return Err(Error::MissingBody);
        }
        let bytes = body::read(
            req.into_body(),
            state.settings.body_limit,
            Some(state.settings.store_timeout),
        )
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => Error::BodyTooLarge,
            BodyError::Read(why) => Error::BadBody(why),
            BodyError::TimedOut => Error::Busy,
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::MissingBody);
        }
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| Error::BadBody(e.to_string()))
    }
}

/// The caller behind `x-acs-dingtalk-access-token`. A token anywhere else (query string,
/// `Authorization: Bearer`) counts as missing, as on DingTalk. WIRE.md §A2.
pub(crate) struct Token(pub(crate) Caller);

impl FromRequestParts<AppState> for Token {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        const ACCESS_TOKEN: HeaderName = HeaderName::from_static(ACCESS_TOKEN_HEADER);
        let header = parts.headers.get(ACCESS_TOKEN).map(|v| v.to_str().unwrap_or("\u{0}"));
        let caller = state.service.authenticate(header).await?;
        crate::request::note_caller(&caller);
        Ok(Self(caller))
    }
}
