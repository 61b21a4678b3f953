//! Hostile input through the router (issue 13): deep seeds, runaway clock moves, API-shaped
//! requests under the sign-in prefix, and the purge of expired credentials.

use super::*;

/// Finding 4: a seed nested past the limit is a 422 naming its line, whatever its nesting style.
#[tokio::test]
async fn a_deeply_nested_seed_is_422_seed_invalid_with_its_line() {
    let fx = fixture().await;
    for text in [
        format!("{}{}", "[".repeat(52), "]".repeat(52)),
        format!("corps:\n  - id: {}{}\n", "[".repeat(200), "]".repeat(200)),
        format!("corps:\n  - {}x\n", "{a: ".repeat(5000)),
    ] {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/_dingdir/seed")
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/yaml")
            .body(Body::from(text))
            .unwrap();
        let a = fx.send(req).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
        assert_eq!(a.json["code"], "SeedInvalid", "{}", a.text());
        let message = a.json["message"].as_str().unwrap();
        assert!(
            message.starts_with("request:1:") || message.starts_with("request:2:"),
            "{message}"
        );
    }
    // The directory is untouched and still served.
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    assert!(is_hex32(&token));
}

/// Finding 7: a clock moved to the end of time is refused with a 400, nothing overflows, and the
/// sign-in throttle and caches keep working.
#[tokio::test]
async fn an_overflowing_clock_advance_is_400_and_nothing_wraps() {
    let fx = fixture().await;
    let advance = |secs: u64| admin(Method::POST, "/_dingdir/clock", Some(&json!({ "advance_secs": secs })));
    let a = fx.send(advance(u64::MAX)).await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        json!({"code": "BadRequest", "message": "the clock may be moved at most 100 years ahead in all", "requestid": RID}),
    );
    let a = fx.send(advance(99 * 366 * 24 * 3600)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let a = fx.send(advance(2 * 366 * 24 * 3600)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "past 100 years in all: {}", a.text());
    // Far in the future, tokens are still issued and used.
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let a = fx.send(sdk_get("/v1.0/contact/users/me", Some(&token))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

/// Finding 9: only the sign-in pages' own paths answer HTML; API-shaped requests elsewhere under
/// `/oauth2/` get the legacy gateway's JSON.
#[tokio::test]
async fn api_shaped_requests_under_oauth2_get_json_not_html() {
    let fx = fixture().await;
    let a = fx
        .send(sdk_post(
            "/oauth2/corpAccessToken",
            r#"{"suiteKey":"dingdemosuite","suiteSecret":"demo-suite-secret"}"#,
        ))
        .await;
    assert_legacy(&a, json!({"errcode": 404, "errmsg": "请求的URI地址不存在"}));
    for (method, path) in [
        (Method::GET, "/oauth2/userinfo"),
        (Method::GET, "/oauth2/auth/"),
        (Method::PUT, "/oauth2/x"),
    ] {
        let a = fx.send(request(method, path, Body::empty())).await;
        assert_legacy(&a, json!({"errcode": 404, "errmsg": "请求的URI地址不存在"}));
    }
    let a = fx.send(request(Method::GET, "/oauth2/auth", Body::empty())).await;
    assert_eq!(
        a.header("content-type"),
        "text/html; charset=utf-8",
        "the sign-in page itself"
    );
}

/// Finding 8: expired credentials are purged (a day after they expire), so their tables do
/// not only grow; a token a day past its expiry is gone.
#[tokio::test]
async fn expired_credentials_are_purged_a_day_after_they_expire() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    assert_eq!(
        fx.state.service.purge_expired().await.unwrap(),
        0,
        "nothing has expired"
    );
    fx.clock.advance_ms(7200 * 1000).unwrap();
    assert_eq!(
        fx.state.service.purge_expired().await.unwrap(),
        0,
        "expired, still within a day"
    );
    let a = fx.send(sdk_get("/v1.0/contact/users/me", Some(&token))).await;
    assert_eq!(a.json["code"], "InvalidAuthentication", "{}", a.text());
    fx.clock.advance_ms(31 * 24 * 3600 * 1000).unwrap();
    let purged = fx.state.service.purge_expired().await.unwrap();
    assert_eq!(purged, 3, "the user token, its code and its refresh token");
    assert_eq!(fx.state.service.purge_expired().await.unwrap(), 0, "gone");
}

/// Property: any bytes, as a JSON or a form body, to the endpoints that read bodies, answer in
/// the gateway's wire form (JSON with `errcode` on the legacy gateway, `code` on the new one,
/// HTML only on the sign-in page), never a panic and never an empty body.
#[test]
fn any_body_gets_an_answer_in_its_gateways_wire_form() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fx = rt.block_on(fixture());
    let token = rt.block_on(fx.app_token("dingdemointernal", "demo-internal-secret"));
    let getbymobile = format!("/topapi/v2/user/getbymobile?access_token={token}");
    let targets: Vec<(&str, &str)> = vec![
        (getbymobile.as_str(), "oapi"),
        ("/v1.0/oauth2/accessToken", "api"),
        ("/v1.0/oauth2/userAccessToken", "api"),
        ("/v1.0/oauth2/corpAccessToken", "api"),
        ("/oauth2/auth/signin", "browser"),
    ];
    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        "\\PC{0,200}".prop_map(String::into_bytes),
        "[{}\\[\\]\":,0-9a-z=&%+]{0,300}".prop_map(String::into_bytes),
        (0usize..200).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
    ];
    let ctypes = prop_oneof![
        Just("application/json"),
        Just("application/x-www-form-urlencoded"),
        Just("text/plain"),
        Just("application/json; charset=gbk"),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 192,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(0..targets.len(), bodies, ctypes), |(t, body, ctype)| {
            let (path, gateway) = targets[t];
            let req = Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, ctype)
                .body(Body::from(body))
                .unwrap();
            let a = rt.block_on(fx.send(req));
            prop_assert!(!a.body.is_empty(), "{path}: empty body");
            match gateway {
                "oapi" => {
                    prop_assert_eq!(a.status, StatusCode::OK);
                    prop_assert!(a.json["errcode"].is_i64(), "{}: {}", path, a.text());
                }
                "api" => {
                    prop_assert!(
                        a.json["code"].is_string() || a.status.is_success(),
                        "{}: {}",
                        path,
                        a.text()
                    );
                }
                _ => {
                    prop_assert_eq!(a.header("content-type"), "text/html; charset=utf-8");
                    prop_assert!(a.status.is_client_error(), "{}: {}", path, a.status);
                }
            }
            Ok(())
        })
        .unwrap();
}
