//! Extractors that reject in the legacy gateway's wire form.

use super::Error;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::HashMap;

/// The query string's parameters; a malformed query is a bad parameter, never a rejection page.
pub(crate) struct QueryParams(pub(crate) HashMap<String, String>);

impl FromRequestParts<AppState> for QueryParams {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Error> {
        axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| Error::BadBody(e.body_text()))
    }
}

impl QueryParams {
    /// A parameter, treating an empty value as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}
