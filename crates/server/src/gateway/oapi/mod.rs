//! DingTalk's legacy gateway (`oapi.dingtalk.com`). See `shared/spec/WIRE.md` §B.
//!
//! - Bodies are snake_case; `/topapi/*` takes JSON or form bodies, GETs take the query.
//! - The token comes from `?access_token=`, or an `access_token` field of a form body.
//! - Always HTTP 200 with a numeric `errcode` and `errmsg`; `/topapi/*` answers carry
//!   `request_id` and wrap token and permission failures as `errcode 88` + string `sub_code`.
//! - Other legacy paths (`/gettoken`) answer codes directly and carry no `request_id`.

mod call_back;
mod contact;
mod department;
mod endpoints;
mod error;
mod extract;
mod legacy;
mod media;
mod notice;
mod robot;
mod token;
mod user;
mod write;

pub(crate) use endpoints::Endpoint;
pub(crate) use error::Error;
#[cfg(test)]
pub(crate) use media::uploads_free as media_uploads_free;

use crate::state::AppState;
use axum::Router;

/// The legacy gateway's routes, one per [`Endpoint`].
pub(crate) fn routes() -> Router<AppState> {
    Endpoint::ALL
        .iter()
        .fold(Router::new(), |r, e| r.route(e.path(), e.handler()))
}
