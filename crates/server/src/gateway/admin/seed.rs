//! Seeds in and out.

use super::Error;
use crate::body::{self, BodyError};
use crate::state::{AppState, Mode};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dingdir_core::seed;
use dingdir_proto::admin::ApplySummary;
use serde::Deserialize;

/// Query of `POST /_dingdir/seed`.
#[derive(Debug, Deserialize)]
pub(super) struct ApplyQuery {
    /// The name errors give the seed (default `request`).
    file: Option<String>,
}

fn summary(plan: &seed::Plan) -> ApplySummary {
    let (corps, apps, people, memberships) = plan.counts();
    let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
    ApplySummary {
        corps: n(corps),
        apps: n(apps),
        people: n(people),
        memberships: n(memberships),
    }
}

/// `POST /_dingdir/seed`: applies the YAML body; a bad seed changes nothing.
pub(super) async fn apply(
    State(state): State<AppState>,
    query: Result<Query<ApplyQuery>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Error> {
    let query = query.map_err(|e| Error::BadRequest(format!("bad query: {}", e.body_text())))?;
    let bytes = body::read(req.into_body(), state.settings.seed_body_limit, None)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => Error::BodyTooLarge,
            BodyError::Read(why) => Error::BadRequest(why),
            BodyError::TimedOut => Error::BadRequest("the body did not arrive".to_owned()),
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::BadRequest("the seed is not UTF-8".to_owned()))?;
    let file = query.0.file.unwrap_or_else(|| "request".to_owned());
    let plan = apply_seed(&state, &file, text).await?;
    Ok(crate::gateway::api::json_response(StatusCode::OK, &summary(&plan)))
}

/// Refuses a seed whose rate limits or fault rules name an endpoint no gateway serves, or ask
/// an endpoint for what its gateway cannot answer, at the rule's place in the file.
pub(crate) fn check_rules(plan: &seed::Plan) -> Result<(), seed::SeedError> {
    if let Err((i, why)) = super::limits::check_endpoints(plan.rate_limits().unwrap_or_default()) {
        return Err(plan.refuse_rate_limit(i, why));
    }
    for (i, rule) in plan.faults().enumerate() {
        crate::faults::check(rule, crate::gateway::endpoint_gateway).map_err(|why| plan.refuse_fault(i, why))?;
    }
    Ok(())
}

/// Applies a seed to this server: its directory and rate limits through the service, then arms
/// its fault rules here. The rules' endpoints and actions are checked before anything is
/// written, and refused at their place in the file.
pub(crate) async fn apply_seed(state: &AppState, file: &str, text: &str) -> Result<seed::Plan, Error> {
    let plan = dingdir_core::Service::plan_seed(file, text)?;
    check_rules(&plan).map_err(seed::ApplyError::Invalid)?;
    let armed = state.faults.len();
    let more = plan.faults().count();
    if more > 0 && armed + more > crate::faults::MAX_RULES {
        let why = format!(
            "{armed} fault rules are armed and the seed arms {more}: at most {} in all",
            crate::faults::MAX_RULES
        );
        return Err(seed::ApplyError::Invalid(plan.refuse_fault(0, why)).into());
    }
    state.service.apply_planned(&plan).await?;
    for rule in plan.faults() {
        let view = state
            .faults
            .add(rule.clone(), crate::gateway::endpoint_gateway)
            .map_err(Error::BadRequest)?;
        tracing::info!(id = view.id, seed = %file, "fault rule armed by the seed");
    }
    Ok(plan)
}

/// `GET /_dingdir/export`: the directory as YAML that `apply` takes back.
pub(super) async fn export(State(state): State<AppState>) -> Result<Response, Error> {
    let directory = state.service.directory().await?;
    let yaml = seed::to_yaml(&seed::export(&directory)).map_err(Error::BadRequest)?;
    let mut response = (StatusCode::OK, yaml).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml; charset=utf-8"),
    );
    Ok(response)
}

/// `POST /_dingdir/reset`: empties the store and re-applies the startup seed (`dev` only).
pub(super) async fn reset(State(state): State<AppState>) -> Result<Response, Error> {
    if state.settings.mode != Mode::Dev {
        return Err(Error::DevOnly("reset is only available in `dingdir dev`"));
    }
    state.service.reset().await?;
    state.faults.clear();
    state.stream.reset();
    if let Some(journal) = &state.journal {
        journal.clear();
    }
    let summary = match &state.settings.reset_seed {
        Some((file, text)) => summary(&apply_seed(&state, file, text).await?),
        None => ApplySummary::default(),
    };
    Ok(crate::gateway::api::json_response(StatusCode::OK, &summary))
}
