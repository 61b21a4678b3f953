//! The gateways, and the fallbacks that route an unknown path or method to the right one.
//!
//! axum allows one fallback across merged routers, so the root fallback picks the gateway by
//! path: `/v1.0/` is the new gateway, `/_dingdir/` the admin API, the sign-in pages' own three
//! paths the browser gateway, and the rest (other `/oauth2/` paths included) the legacy one, so
//! only a sign-in page ever answers HTML.

pub(crate) mod admin;
pub(crate) mod api;
pub(crate) mod browser;
pub(crate) mod oapi;
mod table;

use crate::request::{Gateway, Route};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};

impl Gateway {
    pub(crate) fn busy(self) -> Response {
        match self {
            Self::Api => api::Error::Busy.into_response(),
            Self::Oapi => oapi::Error::Busy.into_response(),
            Self::Admin => admin::Error::Busy.into_response(),
            Self::Browser => browser::Error::Busy.into_response(),
        }
    }

    /// The answer to a method the path does not take, in the gateway's wire form.
    fn method_not_allowed(self, path: &str) -> Response {
        match self {
            Self::Api => api::Error::UnknownRoute.into_response(),
            Self::Oapi => oapi::Error::method_not_allowed(path).into_response(),
            Self::Admin => admin::Error::MethodNotAllowed.into_response(),
            Self::Browser => browser::Error::NotFound.into_response(),
        }
    }

    /// The answer to `CONNECT`, which no gateway serves: its method-not-allowed form, never with
    /// a 2xx status (hyper would take a 2xx answer to `CONNECT` for an open tunnel and send no
    /// body).
    pub(crate) fn connect_refused(self, path: &str) -> Response {
        let mut response = self.method_not_allowed(path);
        if response.status().is_success() {
            *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
        }
        response
    }

    pub(crate) fn panicked(self) -> Response {
        match self {
            Self::Api => api::Error::Panicked.into_response(),
            Self::Oapi => oapi::Error::Panicked.into_response(),
            Self::Admin => admin::Error::Panicked.into_response(),
            Self::Browser => browser::Error::Panicked.into_response(),
        }
    }
}

/// The answer to a path no route serves.
pub(crate) async fn fallback(uri: Uri) -> Response {
    match Gateway::of(uri.path()) {
        Gateway::Api => api::Error::UnknownRoute.into_response(),
        Gateway::Oapi => oapi::Error::unknown_route(uri.path()).into_response(),
        Gateway::Admin => admin::Error::NotFound.into_response(),
        Gateway::Browser => browser::Error::NotFound.into_response(),
    }
}

/// The answer to a known path asked with a method it does not take.
pub(crate) async fn method_not_allowed(uri: Uri) -> Response {
    Gateway::of(uri.path()).method_not_allowed(uri.path())
}

/// Whether a route path (`/v1.0/contact/users/{unionId}`) matches a request path.
fn matches(route: &str, path: &str) -> bool {
    let (mut r, mut p) = (route.split('/'), path.split('/'));
    loop {
        match (r.next(), p.next()) {
            (None, None) => return true,
            (Some(seg), Some(got)) if seg.starts_with('{') || seg == got => {}
            _ => return false,
        }
    }
}

/// The gateway that serves the endpoint named `name` (DingTalk's two only), or `None`.
pub(crate) fn endpoint_gateway(name: &str) -> Option<Gateway> {
    if oapi::Endpoint::ALL.iter().any(|e| e.name() == name) {
        Some(Gateway::Oapi)
    } else if api::Endpoint::ALL.iter().any(|e| e.name() == name) {
        Some(Gateway::Api)
    } else {
        None
    }
}

/// The route a request is for, by method and path: what the request's log lines, the journal
/// and the metrics name it by. The root layer looks it up once per request.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let routes = &*ROUTES;
    // Most routes have no parameter: one hash lookup finds them.
    if let Some(route) = routes.exact.get(&(method.clone(), path)) {
        return Some(*route);
    }
    routes
        .with_parameters
        .iter()
        .find(|(m, pattern, _)| m == method && matches(pattern, path))
        .map(|(_, _, route)| *route)
}

/// Every endpoint's name and gateway, in the order of [`Route::index`].
pub(crate) fn routes() -> &'static [(&'static str, Gateway)] {
    &ROUTES.names
}

/// The legacy envelope a path answers in: its endpoint's, or by prefix for a path no legacy
/// endpoint serves (one hash lookup, for the root layer).
pub(crate) fn envelope_at(path: &str) -> dingdir_proto::oapi::Envelope {
    ROUTES
        .envelopes
        .get(path)
        .copied()
        .unwrap_or_else(|| dingdir_proto::oapi::Envelope::of_unknown_path(path))
}

struct Routes {
    names: Vec<(&'static str, Gateway)>,
    envelopes: std::collections::HashMap<&'static str, dingdir_proto::oapi::Envelope>,
    exact: std::collections::HashMap<(Method, &'static str), Route>,
    with_parameters: Vec<(Method, &'static str, Route)>,
}

static ROUTES: std::sync::LazyLock<Routes> = std::sync::LazyLock::new(|| {
    let api = api::Endpoint::ALL.iter().map(|e| (e.method(), e.path(), e.name()));
    let oapi = oapi::Endpoint::ALL.iter().map(|e| (e.method(), e.path(), e.name()));
    let admin = admin::Endpoint::ALL.iter().map(|e| (e.method(), e.path(), e.name()));
    let browser = browser::Endpoint::ALL.iter().map(|e| (e.method(), e.path(), e.name()));
    let mut routes = Routes {
        names: Vec::new(),
        // The first row for a path wins, as `oapi::Endpoint::at` finds it.
        envelopes: oapi::Endpoint::ALL
            .iter()
            .rev()
            .map(|e| (e.path(), e.facts()))
            .collect(),
        exact: std::collections::HashMap::new(),
        with_parameters: Vec::new(),
    };
    for (i, (method, pattern, name)) in api.chain(oapi).chain(admin).chain(browser).enumerate() {
        let route = Route {
            index: u16::try_from(i).unwrap_or(u16::MAX),
            name,
        };
        routes.names.push((name, Gateway::of(pattern)));
        if pattern.contains('{') {
            routes.with_parameters.push((method, pattern, route));
        } else {
            routes.exact.insert((method, pattern), route);
        }
    }
    routes
});

#[cfg(test)]
mod tests {
    use super::*;

    fn name(method: &Method, path: &str) -> Option<&'static str> {
        route(method, path).map(|r| r.name)
    }

    #[test]
    fn every_endpoint_is_counted_apart_in_the_metrics() {
        assert!(
            routes().len() <= crate::metrics::MAX_ROUTES,
            "{} endpoints",
            routes().len()
        );
        assert_eq!(
            routes()[usize::from(route(&Method::GET, "/gettoken").unwrap().index)].0,
            "GetToken"
        );
    }

    #[test]
    fn the_envelope_lookup_agrees_with_the_legacy_table() {
        for e in oapi::Endpoint::ALL {
            let want = oapi::Endpoint::at(e.path()).map(oapi::Endpoint::facts);
            assert_eq!(Some(envelope_at(e.path())), want, "{}", e.path());
        }
        for unknown in ["/topapi/nothing", "/nothing", "/v1.0/x"] {
            assert_eq!(
                envelope_at(unknown),
                dingdir_proto::oapi::Envelope::of_unknown_path(unknown)
            );
        }
    }

    #[test]
    fn requests_are_named_after_their_endpoint() {
        assert_eq!(name(&Method::GET, "/v1.0/contact/users/me"), Some("GetUser"));
        assert_eq!(name(&Method::POST, "/v1.0/contact/users/me"), None);
        assert_eq!(
            name(&Method::POST, "/topapi/v2/user/getbymobile"),
            Some("V2UserGetByMobile")
        );
        assert_eq!(name(&Method::GET, "/gettoken"), Some("GetToken"));
        assert_eq!(
            name(&Method::PUT, "/_dingdir/apps/dingx/suite-ticket"),
            Some("SetSuiteTicket")
        );
        assert_eq!(name(&Method::GET, "/v1.0/contact/users/a/b"), None);
        assert_eq!(name(&Method::POST, "/oauth2/auth/consent"), Some("Consent"));
    }
}
