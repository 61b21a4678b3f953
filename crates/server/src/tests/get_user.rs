//! GetUser, `GET /v1.0/contact/users/{unionId}` (seed 000; WIRE.md §A, §D2; PRODUCT.md
//! "Decisions"): who is visible, which fields come back, and every token failure.

use super::*;
use dingdir_core::Visibility;

const ME: &str = "/v1.0/contact/users/me";

fn user_path(union_id: &str) -> String {
    format!("/v1.0/contact/users/{union_id}")
}

fn not_found() -> Value {
    json!({"code": "invalidParameter.user.notFound", "message": "找不到该用户", "requestid": RID})
}

fn denied() -> Value {
    json!({
        "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        "message": "没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp/add-api-permission (Contact.User.Read)",
        "requestid": RID,
        "accessdenieddetail": {"requiredScopes": ["Contact.User.Read"]},
    })
}

/// zhangsan as `app` (an internal app of Demo Co with `Contact.User.mobile`) shows him.
fn zhangsan_via(fx: &Fixture, app: &str) -> Value {
    json!({
        "nick": "zhangsan",
        "avatarUrl": "https://static.example.com/avatar/zhangsan.png",
        "mobile": "15000009144",
        "openId": fx.open_id(app, "zhangsan"),
        "unionId": fx.union_id_in_corp(DEMO_CORP, "zhangsan"),
        "email": "zhangsan@example.com",
        "stateCode": "86",
        "visitor": false,
    })
}

#[tokio::test]
async fn getuser_me_returns_the_whole_profile() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api(&a, StatusCode::OK, zhangsan_via(&fx, "dingdemointernal"));
    assert!(is_dingtalk_id(a.json["unionId"].as_str().unwrap()), "{}", a.text());
    assert!(is_dingtalk_id(a.json["openId"].as_str().unwrap()), "{}", a.text());
    assert_ne!(a.json["unionId"], a.json["openId"]);
    // `visitor` is a JSON boolean: the Node SDK refuses anything else. SDK-WIRE.md §2.3.
    assert_eq!(a.json["visitor"], Value::Bool(false));
    assert!(a.text().contains(r#""visitor":false"#), "{}", a.text());
}

#[tokio::test]
async fn getuser_own_union_id_is_the_same_as_me() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let me = fx.send(sdk_get(ME, Some(&token))).await;
    let union_id = me.json["unionId"].as_str().unwrap();
    let a = fx.send(sdk_get(&user_path(union_id), Some(&token))).await;
    assert_api(&a, StatusCode::OK, zhangsan_via(&fx, "dingdemointernal"));
}

#[tokio::test]
async fn getuser_sees_a_co_member() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    // lisi's unionId as lisi's own token reports it.
    let lisi_token = fx.user_token("dingdemointernal", "15532403240").await;
    let lisi_me = fx.send(sdk_get(ME, Some(&lisi_token))).await;
    let lisi_union = lisi_me.json["unionId"].as_str().unwrap().to_owned();
    assert_eq!(lisi_union, fx.union_id_in_corp(DEMO_CORP, "lisi"));

    let a = fx.send(sdk_get(&user_path(&lisi_union), Some(&token))).await;
    let lisi = json!({
        "nick": "lisi",
        "avatarUrl": "https://static.example.com/avatar/lisi.png",
        "mobile": "15532403240",
        "openId": fx.open_id("dingdemointernal", "lisi"),
        "unionId": lisi_union,
        "email": "lisi@example.com",
        "stateCode": "86",
        "visitor": false,
    });
    assert_api(&a, StatusCode::OK, lisi.clone());
    assert_eq!(lisi_me.json, lisi);
}

#[tokio::test]
async fn getuser_member_of_another_corp_only_is_404() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    // zhouba is only in Other Co, where dingdemointernal is not installed.
    let zhouba = fx.union_id_in_corp(DEMO_CORP, "zhouba");
    let a = fx.send(sdk_get(&user_path(&zhouba), Some(&token))).await;
    assert_api_error(&a, StatusCode::NOT_FOUND, not_found());
}

#[tokio::test]
async fn getuser_departed_member_is_404_like_unknown() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let departed = fx
        .send(sdk_get(
            &user_path(&fx.union_id_in_corp(DEMO_CORP, "wangwu")),
            Some(&token),
        ))
        .await;
    assert_api_error(&departed, StatusCode::NOT_FOUND, not_found());
    let unknown = fx.send(sdk_get(&user_path("no-such-union-id"), Some(&token))).await;
    assert_api_error(&unknown, StatusCode::NOT_FOUND, not_found());
    // Byte for byte the same but for the request id, so existence does not leak.
    let departed_text = departed.text().replace(departed.header("x-acs-request-id"), RID);
    let unknown_text = unknown.text().replace(unknown.header("x-acs-request-id"), RID);
    assert_eq!(departed_text, unknown_text);
}

#[tokio::test]
async fn getuser_unknown_or_garbled_id_is_404_never_500() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let foreign = fx.union_id_in_isv(DEMO_ISV, "lisi");
    for id in [
        "no-such-union-id",
        "a%20b",
        "%FF",
        "%",
        "ME",
        "0000000000000000000000iEiE",
        // A real unionId, but of another developer's namespace.
        foreign.as_str(),
    ] {
        let a = fx.send(sdk_get(&user_path(id), Some(&token))).await;
        assert_api_error(&a, StatusCode::NOT_FOUND, not_found());
    }
}

#[tokio::test]
async fn getuser_two_apps_of_one_developer_share_the_union_id() {
    let fx = fixture().await;
    let internal = fx.user_token("dingdemointernal", "15000009144").await;
    let readonly = fx.user_token("dingdemoreadonly", "15000009144").await;
    let a = fx.send(sdk_get(ME, Some(&internal))).await;
    let b = fx.send(sdk_get(ME, Some(&readonly))).await;
    assert_eq!(a.json["unionId"], b.json["unionId"]);
    assert_ne!(a.json["openId"], b.json["openId"]);
    // Each app can look the person up by that unionId.
    let by_union = fx
        .send(sdk_get(
            &user_path(b.json["unionId"].as_str().unwrap()),
            Some(&readonly),
        ))
        .await;
    assert_eq!(by_union.json, b.json);

    // The suite and the personal app share their ISV, so they share a unionId too.
    let suite = fx.user_token("dingdemosuite", "15000009144").await;
    let personal = fx.user_token("dingdemopersonal", "15000009144").await;
    let c = fx.send(sdk_get(ME, Some(&suite))).await;
    let d = fx.send(sdk_get(ME, Some(&personal))).await;
    assert_eq!(c.json["unionId"], json!(fx.union_id_in_isv(DEMO_ISV, "zhangsan")));
    assert_eq!(c.json["unionId"], d.json["unionId"]);
    assert_ne!(c.json["openId"], d.json["openId"]);
}

#[tokio::test]
async fn getuser_apps_of_two_developers_differ_in_union_id() {
    let fx = fixture().await;
    let internal = fx.user_token("dingdemointernal", "15000009144").await;
    let suite = fx.user_token("dingdemosuite", "15000009144").await;
    let other = fx.user_token("dingothercoapp", "15000009144").await;
    let a = fx.send(sdk_get(ME, Some(&internal))).await.json;
    let b = fx.send(sdk_get(ME, Some(&suite))).await.json;
    let c = fx.send(sdk_get(ME, Some(&other))).await.json;
    assert_ne!(a["unionId"], b["unionId"]);
    assert_ne!(a["unionId"], c["unionId"]);
    assert_ne!(b["unionId"], c["unionId"]);
    assert_eq!(c["unionId"], json!(fx.union_id_in_corp(OTHER_CORP, "zhangsan")));
    // A unionId of one developer means nothing to another's app.
    let cross = fx
        .send(sdk_get(&user_path(a["unionId"].as_str().unwrap()), Some(&suite)))
        .await;
    assert_api_error(&cross, StatusCode::NOT_FOUND, not_found());
}

#[tokio::test]
async fn getuser_mobile_is_masked_for_a_third_party_enterprise_app() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemosuite", "15532403240").await;
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({
            "nick": "lisi",
            "avatarUrl": "https://static.example.com/avatar/lisi.png",
            "mobile": "155****3240",
            "openId": fx.open_id("dingdemosuite", "lisi"),
            "unionId": fx.union_id_in_isv(DEMO_ISV, "lisi"),
            "email": "lisi@example.com",
            "stateCode": "86",
            "visitor": false,
        }),
    );
}

#[tokio::test]
async fn getuser_mobile_is_absent_without_the_mobile_scope() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemoreadonly", "15000009144").await;
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({
            "nick": "zhangsan",
            "avatarUrl": "https://static.example.com/avatar/zhangsan.png",
            "openId": fx.open_id("dingdemoreadonly", "zhangsan"),
            "unionId": fx.union_id_in_corp(DEMO_CORP, "zhangsan"),
            "email": "zhangsan@example.com",
            "visitor": false,
        }),
    );
    assert!(
        !a.text().contains("mobile") && !a.text().contains("stateCode"),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn getuser_foreign_mobile_is_full_or_masked_with_its_state_code() {
    let fx = fixture().await;
    let internal = fx.user_token("dingdemointernal", "+852-91234567").await;
    let a = fx.send(sdk_get(ME, Some(&internal))).await;
    let chan = |app: &str, mobile: &str, union_id: String| {
        json!({
            "nick": "Chan Siu Ming",
            "avatarUrl": "https://static.example.com/avatar/chan.png",
            "mobile": mobile,
            "openId": fx.open_id(app, "chanxm"),
            "unionId": union_id,
            "email": "chan@example.hk",
            "stateCode": "852",
            "visitor": false,
        })
    };
    assert_api(
        &a,
        StatusCode::OK,
        chan("dingdemointernal", "91234567", fx.union_id_in_corp(DEMO_CORP, "chanxm")),
    );
    let suite = fx.user_token("dingdemosuite", "+852-91234567").await;
    let a = fx.send(sdk_get(ME, Some(&suite))).await;
    assert_api(
        &a,
        StatusCode::OK,
        chan("dingdemosuite", "91****67", fx.union_id_in_isv(DEMO_ISV, "chanxm")),
    );
}

#[tokio::test]
async fn getuser_empty_fields_are_absent_not_null() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "13900000007").await;
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({
            "nick": "sunqi",
            "mobile": "13900000007",
            "openId": fx.open_id("dingdemointernal", "sunqi"),
            "unionId": fx.union_id_in_corp(DEMO_CORP, "sunqi"),
            "stateCode": "86",
            "visitor": false,
        }),
    );
    assert!(!a.text().contains("null"), "{}", a.text());
    // Seen by a co-member, too.
    let zhangsan = fx.user_token("dingdemointernal", "15000009144").await;
    let b = fx
        .send(sdk_get(
            &user_path(&fx.union_id_in_corp(DEMO_CORP, "sunqi")),
            Some(&zhangsan),
        ))
        .await;
    assert_eq!(b.json, a.json);
}

#[tokio::test]
async fn getuser_token_outside_the_header_is_400_missing_parameter() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let want = json!({
        "code": "AuthenticationFailed.MissingParameter",
        "message": "缺少参数：x-acs-dingtalk-access-token",
        "requestid": RID,
    });
    // No token at all, as `get_user('me')` sends it.
    let a = fx.send(sdk_get(ME, None)).await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    // In the query string.
    let a = fx.send(sdk_get(&format!("{ME}?access_token={token}"), None)).await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    // As a bearer token.
    let mut req = sdk_get(ME, None);
    req.headers_mut()
        .insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    let a = fx.send(req).await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    // An empty header counts as missing.
    let a = fx.send(sdk_get(ME, Some(""))).await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, want);
}

#[tokio::test]
async fn getuser_garbage_token_is_400_invalid_authentication() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let want = json!({"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": RID});
    let quoted = format!("\"{token}\"");
    let upper = token.to_uppercase();
    for bad in [
        "garbage",
        "0123456789abcdef0123456789abcdef",
        // Wrapped in JSON quotes, as an old PHP SDK sent it. WIRE.md §A2.
        quoted.as_str(),
        upper.as_str(),
    ] {
        let a = fx.send(sdk_get(ME, Some(bad))).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    }
}

#[tokio::test]
async fn getuser_expired_token_is_400_invalid_authentication() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    fx.clock.advance_ms(7199 * 1000).unwrap();
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    fx.clock.advance_ms(1000).unwrap();
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        json!({"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": RID}),
    );
}

#[tokio::test]
async fn getuser_app_token_is_403_with_required_scope() {
    let fx = fixture().await;
    let app = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let corp = fx.corp_token(DEMO_CORP).await;
    for token in [&app, &corp] {
        for path in [ME.to_owned(), user_path(&fx.union_id_in_corp(DEMO_CORP, "zhangsan"))] {
            let a = fx.send(sdk_get(&path, Some(token))).await;
            assert_api_error(&a, StatusCode::FORBIDDEN, denied());
        }
    }
}

#[tokio::test]
async fn getuser_app_without_contact_user_read_is_403() {
    let fx = fixture().await;
    let token = fx.user_token("dingnoreadapp", "15000009144").await;
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api_error(&a, StatusCode::FORBIDDEN, denied());
}

#[tokio::test]
async fn getuser_self_only_hides_co_members_but_not_me() {
    let fx = fixture_with(Setup {
        policy: Policy {
            visibility: Visibility::SelfOnly,
            ..Policy::default()
        },
        ..Setup::default()
    })
    .await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api(&a, StatusCode::OK, zhangsan_via(&fx, "dingdemointernal"));
    let own = fx
        .send(sdk_get(
            &user_path(&fx.union_id_in_corp(DEMO_CORP, "zhangsan")),
            Some(&token),
        ))
        .await;
    assert_api(&own, StatusCode::OK, zhangsan_via(&fx, "dingdemointernal"));
    let lisi = fx
        .send(sdk_get(
            &user_path(&fx.union_id_in_corp(DEMO_CORP, "lisi")),
            Some(&token),
        ))
        .await;
    assert_api_error(&lisi, StatusCode::NOT_FOUND, not_found());
}

#[tokio::test]
async fn getuser_personal_app_sees_only_its_user() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemopersonal", "15000009144").await;
    let a = fx.send(sdk_get(ME, Some(&token))).await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({
            "nick": "zhangsan",
            "avatarUrl": "https://static.example.com/avatar/zhangsan.png",
            "mobile": "15000009144",
            "openId": fx.open_id("dingdemopersonal", "zhangsan"),
            "unionId": fx.union_id_in_isv(DEMO_ISV, "zhangsan"),
            "email": "zhangsan@example.com",
            "stateCode": "86",
            "visitor": false,
        }),
    );
    let lisi = fx
        .send(sdk_get(&user_path(&fx.union_id_in_isv(DEMO_ISV, "lisi")), Some(&token)))
        .await;
    assert_api_error(&lisi, StatusCode::NOT_FOUND, not_found());
}

#[tokio::test]
async fn getuser_accepts_the_python_async_get_with_an_empty_octet_stream_body() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    // SDK-WIRE.md §1.2, aiohttp.
    let req = Request::builder()
        .method(Method::GET)
        .uri(ME)
        .header("host", "127.0.0.1:18080")
        .header("user-agent", PY_UA)
        .header("accept", "application/json")
        .header("x-acs-dingtalk-access-token", &token)
        .header("Accept-Encoding", "gzip, deflate")
        .header("Content-Length", "0")
        .header("Content-Type", "application/octet-stream")
        .body(Body::empty())
        .unwrap();
    let a = fx.send(req).await;
    assert_api(&a, StatusCode::OK, zhangsan_via(&fx, "dingdemointernal"));
    // And the Node SDK's GET. SDK-WIRE.md §2.2.
    let req = Request::builder()
        .method(Method::GET)
        .uri(ME)
        .header("host", "127.0.0.1:18080")
        .header(
            "user-agent",
            "AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1",
        )
        .header("accept", "application/json")
        .header("x-acs-dingtalk-access-token", &token)
        .header("Connection", "keep-alive")
        .body(Body::empty())
        .unwrap();
    let a = fx.send(req).await;
    assert_api(&a, StatusCode::OK, zhangsan_via(&fx, "dingdemointernal"));
}
