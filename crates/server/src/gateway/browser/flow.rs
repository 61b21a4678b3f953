//! The sign-in flow: authorise → sign in → consent → redirect. WIRE.md §C3.
//!
//! State between pages travels in signed form fields (HMAC under the store's secret, ten
//! minutes), so any node sharing the store can serve any step. Forms are protected against
//! CSRF by a double-submit cookie: every POST must carry the cookie's value as a field.

use super::error::{Error, html_response};
use super::pages::{self, ConsentView, DemoPerson, Lang, SignInView, Text};
use crate::state::{AppState, Mode};
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dingdir_core::ident::{hex, unhex};
use dingdir_core::model::{AppKind, MemberStatus, PersonId};
use dingdir_core::secret;
use dingdir_core::signin::{AuthorizeError, AuthorizeRequest, SignInError};
use dingdir_core::token::Grant;
use dingdir_proto::browser::{ACCESS_DENIED, path};
use dingdir_proto::ids::AppKey;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::HashMap;

const CSRF_COOKIE: &str = "dingdir_csrf";
const FORM_TTL_MS: i64 = 10 * 60 * 1000;
/// The sign-in forms carry a sealed flow, a CSRF token, a mobile and a password: a few hundred
/// bytes. Anything much larger is not a person typing, and is refused before it is parsed.
pub(crate) const FORM_BODY_LIMIT: usize = 16 * 1024;

/// The authorise request, carried from page to page.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Flow {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    at: i64,
}

/// Who signed in, carried from the sign-in page to the consent page.
///
/// The seal alone is not enough to consent: the ticket names a single-use nonce whose digest the
/// store keeps (so a reader of the store, who could forge a seal with its id secret, cannot know
/// one), and the digest of the CSRF cookie of the browser that signed in.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Ticket {
    flow: Flow,
    person: String,
    at: i64,
    nonce: String,
    browser: String,
}

impl Ticket {
    /// What the store's record of the ticket is bound to: a ticket with any of it changed
    /// spends nothing.
    fn binding(&self) -> String {
        let f = &self.flow;
        serde_json::to_string(&(
            &self.person,
            &f.client_id,
            &f.redirect_uri,
            &f.scope,
            &f.state,
            &self.browser,
        ))
        .unwrap_or_default()
    }
}

fn lang(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

fn seal<T: Serialize>(state: &AppState, label: &str, value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let tag = state.service.ids().tag(label, &json);
    format!("{}.{}", hex(&json), hex(&tag))
}

fn open<T: DeserializeOwned>(state: &AppState, label: &str, sealed: &str, at: impl Fn(&T) -> i64) -> Option<T> {
    let (data, tag) = sealed.split_once('.')?;
    let json = unhex(data)?;
    let want = state.service.ids().tag(label, &json);
    if !secret::same(&unhex(tag)?, &want) {
        return None;
    }
    let value: T = serde_json::from_slice(&json).ok()?;
    let age = state.service.now().saturating_sub(at(&value));
    (0..FORM_TTL_MS).contains(&age).then_some(value)
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn redirect_to(base: &str, params: &[(&str, &str)]) -> Response {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    let location = format!("{base}{sep}{}", query.join("&"));
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn scopes_of(scope: &str, app_scopes: &[String]) -> Vec<String> {
    scope
        .split(' ')
        .map(str::to_owned)
        .chain(app_scopes.iter().cloned())
        .collect()
}

/// `GET /oauth2/auth`: checks the request and shows the sign-in page; bad requests get an error
/// page and are never redirected.
pub(super) async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let lang = lang(&headers);
    let Ok(Query(q)) = q else {
        return Err(Error::page(lang, StatusCode::BAD_REQUEST, Text::InvalidRequest));
    };
    let req = AuthorizeRequest {
        client_id: q.get("client_id").cloned(),
        redirect_uri: q.get("redirect_uri").cloned(),
        response_type: q.get("response_type").cloned(),
        scope: q.get("scope").cloned(),
        state: q.get("state").cloned(),
    };
    let ok = state.service.check_authorize(&req).await.map_err(|e| {
        let text = match e {
            AuthorizeError::UnknownClient => Text::UnknownClient,
            AuthorizeError::BadRedirectUri => Text::BadRedirectUri,
            AuthorizeError::BadResponseType => Text::BadResponseType,
            AuthorizeError::BadScope => Text::BadScope,
        };
        Error::page(lang, StatusCode::BAD_REQUEST, text)
    })?;
    let flow = Flow {
        client_id: ok.app.key.0,
        redirect_uri: ok.redirect_uri,
        scope: ok.scope,
        state: ok.state,
        at: state.service.now(),
    };
    let csrf = match crate::params::cookie(&headers, CSRF_COOKIE) {
        Some(c) if c.len() == 32 => c,
        _ => secret::random_hex(16).map_err(|_| Error::Busy)?,
    };
    let mut response = sign_in_page(&state, lang, &flow, &csrf, None, "", StatusCode::OK).await?;
    let cookie = format!("{CSRF_COOKIE}={csrf}; Path={}; HttpOnly; SameSite=Lax", path::PREFIX);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

async fn sign_in_page(
    state: &AppState,
    lang: Lang,
    flow: &Flow,
    csrf: &str,
    error: Option<Text>,
    mobile: &str,
    status: StatusCode,
) -> Result<Response, Error> {
    let app = state
        .service
        .app(&AppKey(flow.client_id.clone()))
        .await?
        .ok_or(Error::page(lang, StatusCode::BAD_REQUEST, Text::UnknownClient))?;
    let sealed = seal(state, "flow", flow);
    let hidden = [("flow", sealed.as_str()), ("csrf", csrf)];
    let scopes = scopes_of(&flow.scope, &app.scopes);
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let demo = if state.settings.mode == Mode::Dev {
        demo_people(state, &app).await?
    } else {
        Vec::new()
    };
    let demo_refs: Vec<DemoPerson<'_>> = demo
        .iter()
        .map(|(v, l, d)| DemoPerson {
            value: v,
            label: l,
            detail: d,
        })
        .collect();
    let html = pages::sign_in_page(&SignInView {
        lang,
        app_name: &app.name,
        scopes: &scopes,
        action: path::SIGN_IN,
        hidden: &hidden,
        error: error.map(|e| pages::text(lang, e)),
        mobile,
        demo_people: &demo_refs,
    });
    Ok(html_response(status, html))
}

/// The people a `dev` sign-in page offers as one-click choices: those the app would admit.
async fn demo_people(state: &AppState, app: &dingdir_core::model::App) -> Result<Vec<(String, String, String)>, Error> {
    let dir = state.service.directory().await?;
    let installed = app.installed_in();
    let corp_names: HashMap<_, _> = dir.corps.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
    let mut out = Vec::new();
    for (p, ms) in &dir.people {
        let corp = ms.iter().map(|m| &m.membership).find(|m| {
            m.status == MemberStatus::Active
                && (app.kind == AppKind::ThirdPartyPersonal || installed.contains(&m.corp_id))
        });
        let Some(m) = corp else { continue };
        let mobile = p.mobile.as_ref().map(|m| m.masked()).unwrap_or_default();
        let corp_name = corp_names.get(&m.corp_id).cloned().unwrap_or_default();
        let label = m.name.clone().unwrap_or_else(|| p.nick.clone());
        out.push((p.id.0.clone(), label, format!("{mobile} · {corp_name}")));
        if out.len() == 20 {
            break;
        }
    }
    Ok(out)
}

/// Reads a sign-in form: at most [`FORM_BODY_LIMIT`] bytes, within the store timeout.
async fn form<T: DeserializeOwned>(req: Request, state: &AppState, lang: Lang) -> Result<(HeaderMap, T), Error> {
    let (parts, body) = req.into_parts();
    let bytes = crate::body::read(body, FORM_BODY_LIMIT, Some(state.settings.store_timeout))
        .await
        .map_err(|e| match e {
            crate::body::BodyError::TooLarge => Error::page(lang, StatusCode::PAYLOAD_TOO_LARGE, Text::InvalidRequest),
            crate::body::BodyError::TimedOut => Error::Busy,
            crate::body::BodyError::Read(_) => Error::page(lang, StatusCode::BAD_REQUEST, Text::InvalidRequest),
        })?;
    let headers = parts.headers.clone();
    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
    let axum::extract::Form(f) = axum::extract::Form::<T>::from_request(req, state)
        .await
        .map_err(|_| Error::page(lang, StatusCode::BAD_REQUEST, Text::ExpiredForm))?;
    Ok((headers, f))
}

fn check_csrf(headers: &HeaderMap, field: &str, lang: Lang) -> Result<(), Error> {
    match crate::params::cookie(headers, CSRF_COOKIE) {
        Some(c) if !field.is_empty() && secret::same(c.as_bytes(), field.as_bytes()) => Ok(()),
        _ => Err(Error::page(lang, StatusCode::FORBIDDEN, Text::ExpiredForm)),
    }
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    password: String,
    demo_person: Option<String>,
}

/// `POST /oauth2/auth/signin`: checks the password (or the `dev` one-click choice) and shows the
/// consent page.
pub(super) async fn sign_in(State(state): State<AppState>, req: Request) -> Result<Response, Error> {
    let lang = lang(req.headers());
    let (headers, f): (HeaderMap, SignInForm) = form(req, &state, lang).await?;
    check_csrf(&headers, &f.csrf, lang)?;
    let flow: Flow = open(&state, "flow", &f.flow, |fl: &Flow| fl.at).ok_or(Error::page(
        lang,
        StatusCode::BAD_REQUEST,
        Text::ExpiredForm,
    ))?;
    let app = state
        .service
        .app(&AppKey(flow.client_id.clone()))
        .await?
        .ok_or(Error::page(lang, StatusCode::BAD_REQUEST, Text::UnknownClient))?;
    let result = match (&f.demo_person, state.settings.mode) {
        (Some(p), Mode::Dev) => state.service.sign_in_as(&app, &PersonId(p.clone())).await,
        _ => state.service.sign_in(&app, &f.mobile, &f.password).await,
    };
    let outcome = match &result {
        Ok(_) => "signed in",
        Err(SignInError::WrongPassword) => "wrong mobile or password",
        Err(SignInError::TooManyAttempts) => "throttled",
        Err(SignInError::NotAMember) => "not a member",
        Err(SignInError::Domain(_)) => "not checked",
    };
    let masked = dingdir_core::mobile::Mobile::parse(f.mobile.trim()).map_or_else(|_| "-".to_owned(), |m| m.masked());
    if crate::request::log_budget(crate::request::LogKind::SignIn) {
        tracing::info!(request = %crate::request::current(), app = %app.key, mobile = %masked, outcome, "sign-in attempt");
    }
    let person = match result {
        Ok(p) => p,
        Err(e) => {
            let (text, status) = match e {
                SignInError::WrongPassword => (Text::WrongPassword, StatusCode::UNAUTHORIZED),
                SignInError::TooManyAttempts => (Text::TooManyAttempts, StatusCode::TOO_MANY_REQUESTS),
                SignInError::NotAMember => (Text::NotAMember, StatusCode::FORBIDDEN),
                SignInError::Domain(e) => return Err(e.into()),
            };
            return sign_in_page(&state, lang, &flow, &f.csrf, Some(text), &f.mobile, status).await;
        }
    };
    let corp = state.service.sign_in_corp(&app, &person.id).await?;
    let corp_name = match &corp {
        Some(c) => state.service.corp(c).await?.map(|c| c.name),
        None => None,
    };
    let mut ticket = Ticket {
        flow: flow.clone(),
        person: person.id.0.clone(),
        at: state.service.now(),
        nonce: String::new(),
        browser: secret::digest(&f.csrf),
    };
    ticket.nonce = state
        .service
        .issue_consent_ticket(FORM_TTL_MS, &ticket.binding())
        .await?;
    let sealed = seal(&state, "ticket", &ticket);
    let hidden = [("ticket", sealed.as_str()), ("csrf", f.csrf.as_str())];
    let scopes = scopes_of(&flow.scope, &app.scopes);
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let html = pages::consent_page(&ConsentView {
        lang,
        app_name: &app.name,
        person_name: &person.nick,
        corp_name: corp_name.as_deref(),
        scopes: &scopes,
        action: path::CONSENT,
        hidden: &hidden,
    });
    Ok(html_response(StatusCode::OK, html))
}

/// The consent form's fields.
#[derive(Debug, Deserialize)]
pub(super) struct ConsentForm {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

/// `POST /oauth2/auth/consent`: approve redirects with `code`, `authCode` and `state`; deny with
/// `error=access_denied` and `state`.
pub(super) async fn consent(State(state): State<AppState>, req: Request) -> Result<Response, Error> {
    let lang = lang(req.headers());
    let (headers, f): (HeaderMap, ConsentForm) = form(req, &state, lang).await?;
    check_csrf(&headers, &f.csrf, lang)?;
    let ticket: Ticket = open(&state, "ticket", &f.ticket, |t: &Ticket| t.at).ok_or(Error::page(
        lang,
        StatusCode::BAD_REQUEST,
        Text::ExpiredForm,
    ))?;
    // The cookie matched the form's field above; the ticket must be this browser's, and unspent.
    if !secret::same(secret::digest(&f.csrf).as_bytes(), ticket.browser.as_bytes())
        || !state
            .service
            .spend_consent_ticket(&ticket.nonce, &ticket.binding())
            .await?
    {
        return Err(Error::page(lang, StatusCode::BAD_REQUEST, Text::ExpiredForm));
    }
    let flow = ticket.flow;
    match f.decision.as_str() {
        "approve" => {
            let app = state
                .service
                .app(&AppKey(flow.client_id.clone()))
                .await?
                .ok_or(Error::page(lang, StatusCode::BAD_REQUEST, Text::UnknownClient))?;
            let person = PersonId(ticket.person);
            let corp_id = state.service.sign_in_corp(&app, &person).await?;
            let code = state
                .service
                .issue_code(Grant {
                    app_key: app.key.clone(),
                    person_id: person,
                    corp_id,
                    scope: flow.scope,
                })
                .await?;
            Ok(redirect_to(
                &flow.redirect_uri,
                &[("code", &code), ("authCode", &code), ("state", &flow.state)],
            ))
        }
        "deny" => Ok(redirect_to(
            &flow.redirect_uri,
            &[("error", ACCESS_DENIED), ("state", &flow.state)],
        )),
        _ => Err(Error::page(lang, StatusCode::BAD_REQUEST, Text::ExpiredForm)),
    }
}
