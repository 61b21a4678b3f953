//! The browser gateway: DingTalk's OAuth sign-in and consent pages (`GET /oauth2/auth`, served
//! by `login.dingtalk.com`). See `shared/spec/WIRE.md` §C3.
//!
//! - Pages are self-contained HTML (no external assets), in Chinese or English by Accept-Language.
//! - A bad authorise request shows an error page and never redirects.
//! - Approve redirects to the registered `redirect_uri` with `code`, `authCode` and `state`;
//!   deny with `error=access_denied` and `state`.

mod error;
mod flow;
pub(crate) mod pages;

pub(crate) use error::{Error, html_response_under};

use crate::state::AppState;
use axum::Router;
use dingdir_proto::browser::path;

super::table::endpoint_table! {
    /// One sign-in page or form.
    Facts = ();
    /// `GET /oauth2/auth`: the authorise request, answered with the sign-in page.
    Authorize = GET path::AUTHORIZE => flow::authorize, ();
    /// `POST /oauth2/auth/signin`: the sign-in form, answered with the consent page.
    SignIn = POST path::SIGN_IN => flow::sign_in, ();
    /// `POST /oauth2/auth/consent`: the consent form, answered with the redirect to the app.
    Consent = POST path::CONSENT => flow::consent, ();
}

/// The sign-in pages' routes, one per [`Endpoint`].
pub(crate) fn routes() -> Router<AppState> {
    Endpoint::ALL
        .iter()
        .fold(Router::new(), |r, e| r.route(e.path(), e.handler()))
}
