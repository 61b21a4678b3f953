//! Test helpers: user tokens without the browser, the movable clock, suite tickets.

use super::Error;
use super::extract::Json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_core::mobile::Mobile;
use dingdir_proto::admin::{
    AdvanceClock, AuthCode, ClockState, MintAuthCodeRequest, MintUserTokenRequest, SuiteTicket,
};
use dingdir_proto::api::UserTokenResponse;
use dingdir_proto::ids::{AppKey, CorpId, UserId};

fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    crate::gateway::api::json_response(status, body)
}

/// `POST /_dingdir/tokens/user`: signs the person in to the app without a browser (the same rules
/// and code path as the sign-in page: a code is issued and redeemed) and answers like
/// `userAccessToken`.
pub(super) async fn mint_user_token(
    State(state): State<AppState>,
    Json(req): Json<MintUserTokenRequest>,
) -> Result<Response, Error> {
    let service = &state.service;
    let app = service
        .app(&AppKey(req.app_key.clone()))
        .await?
        .ok_or_else(|| Error::Missing(format!("no app {}", req.app_key)))?;
    let person = match (&req.corp_id, &req.userid, &req.mobile) {
        (Some(corp), Some(userid), _) => {
            let m = service
                .membership(&CorpId(corp.clone()), &UserId(userid.clone()))
                .await?
                .ok_or_else(|| Error::Missing(format!("no userid {userid} in corp {corp}")))?;
            service.person(&m.person_id).await?.map(|p| (*p).clone())
        }
        (_, None, Some(mobile)) => {
            let m = Mobile::parse(mobile).map_err(|e| Error::BadRequest(format!("mobile {mobile:?}: {e}")))?;
            service.person_by_mobile(&m).await?
        }
        _ => {
            return Err(Error::BadRequest(
                "name the person by `corp_id` + `userid`, or by `mobile`".to_owned(),
            ));
        }
    }
    .ok_or_else(|| Error::Missing("no such person".to_owned()))?;
    let person = service
        .sign_in_as(&app, &person.id)
        .await
        .map_err(|why| Error::CannotSignIn {
            person: person.id.0.clone(),
            app: app.key.0.clone(),
            why,
        })?;
    let scope = req.scope.unwrap_or_else(|| "openid corpid".to_owned());
    if !matches!(scope.as_str(), "openid" | "openid corpid") {
        return Err(Error::BadRequest(
            "scope must be `openid` or `openid corpid`".to_owned(),
        ));
    }
    let corp = match req.corp_id {
        Some(c) => Some(CorpId(c)),
        None => service.sign_in_corp(&app, &person.id).await?,
    };
    let t = service.mint_user_token(&app, &person.id, corp, &scope).await?;
    Ok(json(
        StatusCode::OK,
        &UserTokenResponse {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expire_in: t.expires_in,
            corp_id: t.corp_id.map(|c| c.0),
        },
    ))
}

/// `POST /_dingdir/auth-codes`: an in-app sign-in code (免登授权码) for a member, as the DingTalk
/// client's `dd.getAuthCode` would hand the app's page one.
pub(super) async fn mint_auth_code(
    State(state): State<AppState>,
    Json(req): Json<MintAuthCodeRequest>,
) -> Result<Response, Error> {
    let service = &state.service;
    let app = service
        .app(&AppKey(req.app_key.clone()))
        .await?
        .ok_or_else(|| Error::Missing(format!("no app {}", req.app_key)))?;
    let corp = match (req.corp_id, &app.corp_id) {
        (Some(c), _) => CorpId(c),
        (None, Some(own)) => own.clone(),
        (None, None) => {
            return Err(Error::BadRequest(format!(
                "app {} has no corp of its own: name the member's `corp_id`",
                req.app_key
            )));
        }
    };
    if !app.installed_in().contains(&corp) {
        return Err(Error::BadRequest(format!(
            "app {} is not installed in corp {}",
            req.app_key, corp.0
        )));
    }
    let userid = UserId(req.userid.clone());
    let code = service
        .issue_in_app_code(&app, &corp, &userid)
        .await
        .map_err(|e| match e {
            dingdir_core::Error::UserNotFound => {
                Error::Missing(format!("no active member {} in corp {}", req.userid, corp.0))
            }
            other => other.into(),
        })?;
    Ok(json(
        StatusCode::OK,
        &AuthCode {
            code,
            expires_in: dingdir_core::token::CODE_TTL_MS.unsigned_abs() / 1000,
        },
    ))
}

/// `POST /_dingdir/clock`: moves the clock forward, for expiry tests.
pub(super) async fn advance_clock(
    State(state): State<AppState>,
    Json(req): Json<AdvanceClock>,
) -> Result<Response, Error> {
    let (Some(clock), true) = (&state.movable_clock, state.settings.test_clock) else {
        return Err(Error::DevOnly(
            "the clock moves only in `dingdir dev` or with `--test-clock`",
        ));
    };
    let ms = i64::try_from(req.advance_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    clock.advance_ms(ms).map_err(|e| Error::BadRequest(e.to_string()))?;
    Ok(json(
        StatusCode::OK,
        &ClockState {
            offset_secs: clock.offset_ms() / 1000,
            now_ms: state.service.now(),
        },
    ))
}

/// `PUT /_dingdir/apps/{appKey}/suite-ticket`.
pub(super) async fn set_suite_ticket(
    State(state): State<AppState>,
    app_key: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Json(req): Json<SuiteTicket>,
) -> Result<Response, Error> {
    let Ok(Path(app_key)) = app_key else {
        return Err(Error::BadRequest(
            "the app key in the path is not valid UTF-8".to_owned(),
        ));
    };
    if req.suite_ticket.trim().is_empty() {
        return Err(Error::BadRequest("suite_ticket must not be empty".to_owned()));
    }
    if !state
        .service
        .set_suite_ticket(&AppKey(app_key.clone()), &req.suite_ticket)
        .await?
    {
        return Err(Error::Missing(format!("no third_party_enterprise app {app_key}")));
    }
    Ok(json(StatusCode::OK, &req))
}
