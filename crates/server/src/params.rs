//! A DingTalk request's parameters as the inspected path and the journal read them: query,
//! JSON body or form, and who the request is from and about.

use axum::http::{HeaderMap, Uri, header};
use dingdir_core::Caller;
use std::collections::HashMap;

/// Parameter names that carry the calling app's key, across the token endpoints of both gateways.
pub(crate) const APP_PARAMS: &[&str] = &["appkey", "appKey", "clientId", "client_id", "suiteKey", "suite_key"];
/// Parameter names that carry the corp a call acts in.
pub(crate) const CORP_PARAMS: &[&str] = &["corpid", "corpId", "authCorpId", "auth_corpid"];
/// The request's parameters: its query, then a JSON object's or a form's top-level fields, the
/// body's winning over the query's. Numbers and booleans are matched as their JSON text.
pub(crate) fn params(uri: &Uri, form: bool, bytes: &[u8]) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if form {
        out.extend(form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())));
    } else if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(bytes) {
        out.extend(fields.into_iter().filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Some((k, v.to_string())),
            serde_json::Value::Null | serde_json::Value::Array(_) | serde_json::Value::Object(_) => None,
        }));
    }
    out
}

/// The value of the first of `names` that `params` holds.
pub(crate) fn first(params: &HashMap<String, String>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| params.get(*n)).cloned()
}

/// Whether the body is a form (`application/x-www-form-urlencoded`).
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

/// Who a request is from and about, as far as the request shows.
#[derive(Default)]
pub(crate) struct Who {
    pub(crate) app: Option<String>,
    pub(crate) corp: Option<String>,
    pub(crate) user: Option<String>,
}

/// Who a journaled request was from and about: the authenticated caller's app and corp, else
/// the app key and corp id it sent; the member it named.
pub(crate) fn who(uri: &Uri, form: bool, body: &[u8], caller: Option<&Caller>) -> Who {
    let params = params(uri, form, body);
    let caller = caller.map(|c| (c.app.key.as_str(), c.corp_id.as_ref().map(|id| id.as_str())));
    who_from(uri, &params, caller)
}

/// [`who`] from parameters already read, and the caller's app key and corp.
pub(crate) fn who_from(uri: &Uri, params: &HashMap<String, String>, caller: Option<(&str, Option<&str>)>) -> Who {
    Who {
        app: caller.map(|c| c.0.to_owned()).or_else(|| first(params, APP_PARAMS)),
        corp: caller
            .and_then(|c| c.1.map(str::to_owned))
            .or_else(|| first(params, CORP_PARAMS)),
        user: params
            .get("userid")
            .cloned()
            .or_else(|| uri.path().strip_prefix("/v1.0/contact/users/").map(str::to_owned))
            .filter(|u| !u.is_empty() && !u.contains('/')),
    }
}

/// The request's `Host`, when it is a plausible host and port (letters, digits, `.-:[]_`), for
/// building URLs handed back to the client (the Stream endpoint, a session webhook).
pub(crate) fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| {
        !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
    })
}

/// The value of the cookie `name` the request sends, if any.
pub(crate) fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
