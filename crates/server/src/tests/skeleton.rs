//! The foundation: unknown paths, wrong methods, body limits, bad bodies and panics, each
//! answered in its gateway's own wire form, never empty, `text/plain` or HTML.

use super::*;
use axum::routing::get;
use futures_util::stream;
use std::convert::Infallible;

/// 70 KiB: over the default 64 KiB body limit.
fn oversize_json() -> String {
    format!(r#"{{"appKey":"{}","appSecret":"s"}}"#, "a".repeat(70 * 1024))
}

#[tokio::test]
async fn unknown_new_gateway_path_is_404_invalid_action() {
    let fx = fixture().await;
    for method in [Method::GET, Method::POST] {
        let a = fx.send(request(method, "/v1.0/nope", Body::empty())).await;
        assert_api_error(
            &a,
            StatusCode::NOT_FOUND,
            json!({
                "code": "InvalidAction.NotFound",
                "message": "specified api is not found, please check your url and method.",
                "requestid": RID,
            }),
        );
    }
}

#[tokio::test]
async fn unknown_topapi_path_is_errcode_22_with_request_id() {
    let fx = fixture().await;
    let a = fx
        .send(legacy_post("/topapi/v2/user/nope", "application/json", "{}"))
        .await;
    assert_topapi(
        &a,
        json!({
            "errcode": 22,
            "errmsg": "Invalid method[submsg=不合法ApiName，ApiName = dingtalk.oapi.v2.user.nope]",
            "request_id": RID,
        }),
    );
}

#[tokio::test]
async fn unknown_legacy_path_is_errcode_404_without_request_id() {
    let fx = fixture().await;
    let a = fx.send(community_get("/nope")).await;
    assert_legacy(&a, json!({"errcode": 404, "errmsg": "请求的URI地址不存在"}));
}

#[tokio::test]
async fn unknown_admin_path_is_404_json() {
    let fx = fixture().await;
    let a = fx.send(admin(Method::GET, "/_dingdir/nope", None)).await;
    assert_api_error(
        &a,
        StatusCode::NOT_FOUND,
        json!({"code": "NotFound", "message": "no such admin route", "requestid": RID}),
    );
}

#[tokio::test]
async fn getbymobile_with_get_is_43002() {
    let fx = fixture().await;
    let a = fx.send(community_get("/topapi/v2/user/getbymobile")).await;
    assert_topapi(
        &a,
        json!({"errcode": 43002, "errmsg": "需要POST请求", "request_id": RID}),
    );
}

#[tokio::test]
async fn gettoken_with_post_is_43001() {
    let fx = fixture().await;
    let a = fx
        .send(legacy_post(
            "/gettoken?appkey=dingdemointernal&appsecret=demo-internal-secret",
            "application/json",
            "{}",
        ))
        .await;
    assert_legacy(&a, json!({"errcode": 43001, "errmsg": "需要GET请求"}));
}

#[tokio::test]
async fn access_token_with_get_is_404_invalid_action() {
    let fx = fixture().await;
    let a = fx.send(sdk_get("/v1.0/oauth2/accessToken", None)).await;
    assert_api_error(
        &a,
        StatusCode::NOT_FOUND,
        json!({
            "code": "InvalidAction.NotFound",
            "message": "specified api is not found, please check your url and method.",
            "requestid": RID,
        }),
    );
}

#[tokio::test]
async fn admin_route_with_wrong_method_is_405_json() {
    let fx = fixture().await;
    let a = fx.send(admin(Method::DELETE, "/_dingdir/health", None)).await;
    assert_api_error(
        &a,
        StatusCode::METHOD_NOT_ALLOWED,
        json!({"code": "MethodNotAllowed", "message": "method not allowed", "requestid": RID}),
    );
}

#[tokio::test]
async fn oversize_body_to_access_token_is_413() {
    let fx = fixture().await;
    let want = json!({"code": "RequestEntityTooLarge", "message": "请求体过大", "requestid": RID});
    // With a Content-Length, as the Python SDK sends it.
    let a = fx.send(sdk_post("/v1.0/oauth2/accessToken", &oversize_json())).await;
    assert_api_error(&a, StatusCode::PAYLOAD_TOO_LARGE, want.clone());
    // Chunked, without a Content-Length, as the Node SDK sends it.
    let chunks: Vec<Result<Bytes, Infallible>> = oversize_json()
        .into_bytes()
        .chunks(8 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1.0/oauth2/accessToken")
        .header("content-type", "application/json; charset=utf-8")
        .header("Transfer-Encoding", "chunked")
        .body(Body::from_stream(stream::iter(chunks)))
        .unwrap();
    let a = fx.send(req).await;
    assert_api_error(&a, StatusCode::PAYLOAD_TOO_LARGE, want);
}

#[tokio::test]
async fn oversize_body_to_getbymobile_is_400002() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let body = format!(r#"{{"mobile": "15000009144", "pad": "{}"}}"#, "a".repeat(70 * 1024));
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={token}"),
            "application/json",
            &body,
        ))
        .await;
    assert_topapi(
        &a,
        json!({"errcode": 400002, "errmsg": "无效的参数：请求体过大", "request_id": RID}),
    );
}

#[tokio::test]
async fn access_token_bad_json_is_400_invalid_parameter() {
    let fx = fixture().await;
    let a = fx
        .send(sdk_post("/v1.0/oauth2/accessToken", r#"{"appKey":"dingdemointernal","#))
        .await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        json!({
            "code": "invalidParameter",
            "message": "请求体不是合法的JSON：EOF while parsing a value at line 1 column 29",
            "requestid": RID,
        }),
    );
    // A JSON value that is not the object the endpoint takes.
    let a = fx.send(sdk_post("/v1.0/oauth2/accessToken", r#""hello""#)).await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        json!({
            "code": "invalidParameter",
            "message": "请求体不是合法的JSON：invalid type: string \"hello\", expected struct GetAccessTokenRequest at line 1 column 7",
            "requestid": RID,
        }),
    );
}

#[tokio::test]
async fn access_token_empty_body_is_400_missing_body() {
    let fx = fixture().await;
    for body in ["", "  \r\n"] {
        let a = fx.send(sdk_post("/v1.0/oauth2/accessToken", body)).await;
        assert_api_error(
            &a,
            StatusCode::BAD_REQUEST,
            json!({"code": "Missingbody", "message": "body is mandatory for this action.", "requestid": RID}),
        );
    }
}

#[tokio::test]
async fn access_token_with_a_form_body_is_400_missing_body() {
    let fx = fixture().await;
    let req = legacy_post(
        "/v1.0/oauth2/accessToken",
        "application/x-www-form-urlencoded",
        "appKey=dingdemointernal&appSecret=demo-internal-secret",
    );
    let a = fx.send(req).await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        json!({"code": "Missingbody", "message": "body is mandatory for this action.", "requestid": RID}),
    );
}

async fn boom() -> &'static str {
    panic!("forced panic for the test")
}

async fn panicking_fixture() -> Fixture {
    fixture_with(Setup {
        extra_routes: Router::new()
            .route("/v1.0/test/panic", get(boom))
            .route("/topapi/test/panic", get(boom))
            .route("/_dingdir/test/panic", get(boom)),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn panic_on_new_gateway_is_500_unknown_error() {
    let fx = panicking_fixture().await;
    let a = fx.send(sdk_get("/v1.0/test/panic", None)).await;
    assert_api_error(
        &a,
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"code": "unknownError", "message": "未知错误", "requestid": RID}),
    );
}

#[tokio::test]
async fn panic_on_topapi_is_errcode_minus_1_system_busy() {
    let fx = panicking_fixture().await;
    let a = fx.send(community_get("/topapi/test/panic")).await;
    assert_topapi(&a, json!({"errcode": -1, "errmsg": "系统繁忙", "request_id": RID}));
}

#[tokio::test]
async fn panic_on_admin_is_500_json() {
    let fx = panicking_fixture().await;
    let a = fx.send(admin(Method::GET, "/_dingdir/test/panic", None)).await;
    assert_api_error(
        &a,
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"code": "Internal", "message": "internal error; see the server log", "requestid": RID}),
    );
}

#[tokio::test]
async fn a_panic_does_not_poison_the_server() {
    let fx = panicking_fixture().await;
    let a = fx.send(sdk_get("/v1.0/test/panic", None)).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    // The next request is served normally.
    fx.app_token("dingdemointernal", "demo-internal-secret").await;
}
