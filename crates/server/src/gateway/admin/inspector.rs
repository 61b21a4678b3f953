//! The inspector: a small page under the admin prefix that shows the directory at a glance, the
//! fault rules and the journal as it grows, for a person looking at a running dingdir.
//!
//! Signing in takes the admin token once per browser: the form posts it, and the answer sets a
//! cookie holding when it was issued and an HMAC of that time under the admin token (never the
//! token), `HttpOnly`, `SameSite=Strict` and scoped to the admin prefix. The server refuses a
//! cookie older than 30 days by its own clock, so a copied cookie stops working even if the
//! browser keeps it. The cookie lets `GET` admin requests through (the page reads the glance,
//! the rules and the journal with it) and nothing that changes state: every write still needs
//! the bearer token. A new admin token signs every browser out.

use super::Error;
use crate::body;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

const COOKIE: &str = "dingdir_inspector";
/// How long a browser stays signed in: until the token changes, or 30 days.
const COOKIE_MAX_AGE_SECS: u64 = 30 * 24 * 3600;
/// The sign-in form is one short field.
const FORM_LIMIT: usize = 4096;

const PAGE: &str = include_str!("inspector/page.html");
const SIGN_IN: &str = include_str!("inspector/signin.html");
const SCRIPT: &str = include_str!("inspector/app.js");
const STYLE: &str = include_str!("inspector/app.css");

/// The page's scripts and styles are its own files; nothing inline runs.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How far ahead of this server's clock an issue time may be (another node's clock).
const CLOCK_SKEW_SECS: u64 = 300;

/// Seconds since the epoch by the wall clock: a browser's session ages in real time, whatever
/// the test clock says.
fn now_secs() -> u64 {
    use dingdir_core::clock::Clock as _;
    u64::try_from(dingdir_core::clock::SystemClock.now_ms() / 1000).unwrap_or(0)
}

/// The cookie value that proves a browser signed in with `admin_token` at `issued` (seconds
/// since the epoch): `v1.<issued>.<HMAC>`.
pub(crate) fn session_at(admin_token: &str, issued: u64) -> String {
    let tag = dingdir_core::secret::tag(
        admin_token.as_bytes(),
        "dingdir inspector session",
        issued.to_string().as_bytes(),
    );
    format!("v1.{issued}.{tag}")
}

/// Whether the request carries an inspector cookie made with the current admin token within
/// the last 30 days.
pub(super) fn signed_in(headers: &HeaderMap, admin_token: &str) -> bool {
    if admin_token.is_empty() {
        return false;
    }
    let Some(value) = crate::params::cookie(headers, COOKIE) else {
        return false;
    };
    let Some(issued) = value
        .strip_prefix("v1.")
        .and_then(|rest| rest.split_once('.'))
        .and_then(|(t, _)| t.parse::<u64>().ok())
    else {
        return false;
    };
    let now = now_secs();
    let fresh = issued <= now + CLOCK_SKEW_SECS && now.saturating_sub(issued) <= COOKIE_MAX_AGE_SECS;
    fresh && dingdir_core::secret::same(value.as_bytes(), session_at(admin_token, issued).as_bytes())
}

/// Whether the inspector's cookie may stand in for the bearer token on this request: reads only.
pub(super) fn may_read(method: &Method, headers: &HeaderMap, admin_token: &str) -> bool {
    (method == Method::GET || method == Method::HEAD) && signed_in(headers, admin_token)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn html(status: StatusCode, body: String) -> Response {
    crate::gateway::browser::html_response_under(status, body, CSP)
}

fn sign_in_page(status: StatusCode, error: Option<&str>) -> Response {
    let alert = error.map_or_else(String::new, |e| format!(r#"<p role="alert">{e}</p>"#));
    html(status, SIGN_IN.replace("{{ERROR}}", &alert))
}

/// `GET /_dingdir/inspector`: the page, or its sign-in form for a browser not signed in.
pub(super) async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if signed_in(&headers, &state.settings.admin_token) {
        html(StatusCode::OK, PAGE.to_owned())
    } else {
        sign_in_page(StatusCode::OK, None)
    }
}

/// `POST /_dingdir/inspector` (a form with `token`): signs the browser in and sends it to the
/// page, or shows the form again with why not.
pub(super) async fn sign_in(State(state): State<AppState>, req: Request) -> Response {
    let Ok(bytes) = body::read(req.into_body(), FORM_LIMIT, Some(state.settings.store_timeout)).await else {
        return sign_in_page(StatusCode::BAD_REQUEST, Some("The form could not be read; try again."));
    };
    let given = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let want = &state.settings.admin_token;
    if want.is_empty() || !dingdir_core::secret::same(given.as_bytes(), want.as_bytes()) {
        tracing::warn!("inspector sign-in refused: wrong admin token");
        return sign_in_page(StatusCode::UNAUTHORIZED, Some("That is not this server's admin token."));
    }
    let cookie = format!(
        "{COOKIE}={}; Path={}; Max-Age={COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Strict",
        session_at(want, now_secs()),
        dingdir_proto::admin::path::PREFIX
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_static(dingdir_proto::admin::path::INSPECTOR),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.insert(header::SET_COOKIE, v);
    }
    response
}

/// `GET /_dingdir/inspector/app.js`.
pub(super) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /_dingdir/inspector/app.css`.
pub(super) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// `GET /_dingdir/glance`: the directory at a glance.
pub(super) async fn glance(State(state): State<AppState>) -> Result<Response, Error> {
    let glance = state.service.glance().await?;
    Ok(crate::gateway::api::json_response(StatusCode::OK, &glance))
}
