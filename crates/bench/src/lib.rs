//! The benchmark baseline's app, shared by the `static-json` binary (driven over HTTP by
//! `scripts/bench`) and the criterion benches (driven in-process), so both measure one baseline.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A GetUser answer as dingdir gives it for a demo person (244 bytes): the same serialised size,
/// so the baseline moves the same bytes per request.
pub const BODY: &str = concat!(
    r#"{"nick":"zhangsan","avatarUrl":"https://static.example.com/avatar/zhangsan.png","#,
    r#""mobile":"15000009144","openId":"Wm3qFh0yQd7kRt2LxZc9PaiEiE","#,
    r#""unionId":"Jt8sNb4vXe1uGy6KoMw2HriEiE","email":"zhangsan@example.com","#,
    r#""stateCode":"86","visitor":false}"#
);

/// dingdir's new-gateway content type. WIRE.md §A.
const CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// Every request: the body is read to its end, as dingdir reads it, so a POST's keep-alive
/// connection is reused rather than closed over an unread body.
async fn answer(body: Bytes, _request: Bytes) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// A router that answers every GET and POST, on any path, with [`BODY`].
pub fn static_app() -> Router {
    static_app_with(Bytes::from_static(BODY.as_bytes()))
}

/// A router that answers every GET and POST, on any path, with `body`: the baseline for an
/// endpoint whose answers are larger than GetUser's (a page of member records).
pub fn static_app_with(body: Bytes) -> Router {
    Router::new().fallback(move |request: Bytes| answer(body.clone(), request))
}
