//! Tokens (WIRE.md §C, SDK-WIRE.md §1.2 and §3.3): app tokens on both gateways, corp tokens of
//! a third-party enterprise app, user tokens from codes and refresh tokens, and expiry.

use super::*;
use dingdir_core::token::Grant;

const INTERNAL_CREDS: &str = r#"{"appKey":"dingdemointernal","appSecret":"demo-internal-secret"}"#;

fn corp_token_body(suite_key: &str, suite_secret: &str, corp: &str, ticket: &str) -> String {
    format!(
        r#"{{"authCorpId":"{corp}","suiteKey":"{suite_key}","suiteSecret":"{suite_secret}","suiteTicket":"{ticket}"}}"#
    )
}

fn refresh_body(client_id: &str, client_secret: &str, refresh: &str) -> String {
    format!(
        r#"{{"clientId":"{client_id}","clientSecret":"{client_secret}","grantType":"refresh_token","refreshToken":"{refresh}"}}"#
    )
}

fn code_body(client_id: &str, client_secret: &str, code: &str) -> String {
    format!(
        r#"{{"clientId":"{client_id}","clientSecret":"{client_secret}","code":"{code}","grantType":"authorization_code"}}"#
    )
}

fn api_error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message, "requestid": RID})
}

fn invalid_client() -> Value {
    api_error("invalidClientIdOrSecret", "无效的clientId或者clientSecret")
}

/// A code of `zhangsan` for `dingdemointernal`, issued as the sign-in flow would.
async fn zhangsan_code(fx: &Fixture, scope: &str) -> String {
    fx.state
        .service
        .issue_code(Grant {
            app_key: AppKey("dingdemointernal".to_owned()),
            person_id: PersonId("zhangsan".to_owned()),
            corp_id: Some(CorpId(DEMO_CORP.to_owned())),
            scope: scope.to_owned(),
        })
        .await
        .unwrap()
}

/// Redeems `body` at `userAccessToken`, expecting success; returns (access, refresh) tokens and
/// the rest of the body with both replaced.
async fn user_access_token(fx: &Fixture, body: &str) -> (String, String, Value) {
    let mut a = fx.send(sdk_post("/v1.0/oauth2/userAccessToken", body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let access = a.take_token("accessToken");
    let refresh = a.take_token("refreshToken");
    assert_ne!(access, refresh);
    assert_json_headers(&a, dingdir_proto::api::CONTENT_TYPE);
    assert!(is_api_request_id(a.header("x-acs-request-id")));
    (access, refresh, a.json)
}

/// GetUser `me` works with `token`: the nick it names.
async fn me_nick(fx: &Fixture, token: &str) -> Value {
    let a = fx.send(sdk_get("/v1.0/contact/users/me", Some(token))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json["nick"].clone()
}

// --- GET /gettoken -----------------------------------------------------------------------------

#[tokio::test]
async fn gettoken_answers_32_hex_token_with_numeric_expires_in() {
    let fx = fixture().await;
    let mut a = fx
        .send(community_get(
            "/gettoken?appkey=dingdemointernal&appsecret=demo-internal-secret",
        ))
        .await;
    let token = a.take_token("access_token");
    assert_legacy(
        &a,
        json!({"errcode": 0, "access_token": HEX32, "errmsg": "ok", "expires_in": 7200}),
    );
    // The bytes as DingTalk writes them: key order and JSON types. WIRE.md §C1.
    assert_eq!(
        a.text(),
        format!(r#"{{"errcode":0,"access_token":"{token}","errmsg":"ok","expires_in":7200}}"#)
    );
}

#[tokio::test]
async fn gettoken_again_while_valid_is_the_same_token() {
    let fx = fixture().await;
    let first = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let second = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(first, second);
    // Another app gets its own token.
    let other = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    assert_ne!(first, other);
}

#[tokio::test]
async fn gettoken_takes_the_legacy_corpid_corpsecret_names() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let mut a = fx
        .send(community_get(
            "/gettoken?corpid=dingdemointernal&corpsecret=demo-internal-secret",
        ))
        .await;
    assert_eq!(a.take_token("access_token"), token);
    assert_legacy(
        &a,
        json!({"errcode": 0, "access_token": HEX32, "errmsg": "ok", "expires_in": 7200}),
    );
}

#[tokio::test]
async fn gettoken_missing_params_is_40035() {
    let fx = fixture().await;
    for uri in [
        "/gettoken",
        "/gettoken?appkey=dingdemointernal",
        "/gettoken?appsecret=demo-internal-secret",
        "/gettoken?appkey=&appsecret=",
    ] {
        let a = fx.send(community_get(uri)).await;
        assert_legacy(&a, json!({"errcode": 40035, "errmsg": "缺少参数 corpid or appkey"}));
    }
}

#[tokio::test]
async fn gettoken_wrong_secret_is_40096() {
    let fx = fixture().await;
    for uri in [
        "/gettoken?appkey=dingdemointernal&appsecret=wrong",
        "/gettoken?appkey=dingdemointernal&appsecret=demo-readonly-secret",
        "/gettoken?appkey=dingnosuchapp&appsecret=demo-internal-secret",
    ] {
        let a = fx.send(community_get(uri)).await;
        assert_legacy(&a, json!({"errcode": 40096, "errmsg": "不合法的appKey或appSecret"}));
    }
}

// --- POST /v1.0/oauth2/accessToken -------------------------------------------------------------

#[tokio::test]
async fn access_token_is_the_same_app_token_as_gettoken() {
    let fx = fixture().await;
    let mut a = fx.send(sdk_post("/v1.0/oauth2/accessToken", INTERNAL_CREDS)).await;
    let token = a.take_token("accessToken");
    assert_api(&a, StatusCode::OK, json!({"accessToken": HEX32, "expireIn": 7200}));
    assert_eq!(a.text(), format!(r#"{{"accessToken":"{token}","expireIn":7200}}"#));
    // One app token for both gateways, in either order.
    assert_eq!(fx.app_token("dingdemointernal", "demo-internal-secret").await, token);
    let mut a = fx.send(sdk_post("/v1.0/oauth2/accessToken", INTERNAL_CREDS)).await;
    assert_eq!(a.take_token("accessToken"), token);
}

#[tokio::test]
async fn access_token_accepts_the_node_sdks_chunked_body() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    // SDK-WIRE.md §2.2: chunked, no Content-Length; split mid-value on purpose.
    let (head, tail) = INTERNAL_CREDS.split_at(20);
    let chunks: Vec<Result<Bytes, std::convert::Infallible>> = vec![
        Ok(Bytes::from_static(head.as_bytes())),
        Ok(Bytes::from_static(tail.as_bytes())),
    ];
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1.0/oauth2/accessToken")
        .header("host", "127.0.0.1:18080")
        .header(
            "user-agent",
            "AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1",
        )
        .header("accept", "application/json")
        .header("content-type", "application/json; charset=utf-8")
        .header("Connection", "keep-alive")
        .header("Transfer-Encoding", "chunked")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let mut a = fx.send(req).await;
    assert_eq!(a.take_token("accessToken"), token);
    assert_api(&a, StatusCode::OK, json!({"accessToken": HEX32, "expireIn": 7200}));
}

#[tokio::test]
async fn access_token_bad_credentials_is_400_invalid_client() {
    let fx = fixture().await;
    for body in [
        r#"{"appKey":"dingdemointernal","appSecret":"wrong"}"#,
        r#"{"appKey":"dingnosuchapp","appSecret":"demo-internal-secret"}"#,
        // The SDK does no validation: a missing field is sent as missing. SDK-WIRE.md §1.2.
        r#"{"appSecret":"demo-internal-secret"}"#,
        r#"{"appKey":"dingdemointernal"}"#,
        "{}",
    ] {
        let a = fx.send(sdk_post("/v1.0/oauth2/accessToken", body)).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, invalid_client());
    }
}

// --- POST /v1.0/oauth2/corpAccessToken ---------------------------------------------------------

#[tokio::test]
async fn corp_access_token_is_new_on_each_call() {
    let fx = fixture().await;
    let first = fx.corp_token(OTHER_CORP).await;
    let second = fx.corp_token(OTHER_CORP).await;
    assert_ne!(first, second);
    let demo = fx.corp_token(DEMO_CORP).await;
    assert_ne!(demo, first);
    assert_ne!(demo, second);
}

#[tokio::test]
async fn corp_access_token_refuses_a_bad_suite_key() {
    let fx = fixture().await;
    let want = api_error("invalidSuiteKey", "无效的suiteKey或suiteSecret");
    for body in [
        corp_token_body("dingnosuchsuite", "demo-suite-secret", OTHER_CORP, "demo-suite-ticket"),
        corp_token_body("dingdemosuite", "wrong", OTHER_CORP, "demo-suite-ticket"),
        // An internal app, with its right secret, is not a suite.
        corp_token_body(
            "dingdemointernal",
            "demo-internal-secret",
            DEMO_CORP,
            "demo-suite-ticket",
        ),
        // Nor is a third-party personal app.
        corp_token_body(
            "dingdemopersonal",
            "demo-personal-secret",
            DEMO_CORP,
            "demo-suite-ticket",
        ),
        r#"{"authCorpId":"ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01","suiteTicket":"demo-suite-ticket"}"#.to_owned(),
    ] {
        let a = fx.send(sdk_post("/v1.0/oauth2/corpAccessToken", &body)).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    }
}

#[tokio::test]
async fn corp_access_token_refuses_a_wrong_suite_ticket() {
    let fx = fixture().await;
    let want = api_error("invalidSuiteTicket", "无效的suiteTicket");
    for body in [
        corp_token_body("dingdemosuite", "demo-suite-secret", OTHER_CORP, "wrong-ticket"),
        corp_token_body("dingdemosuite", "demo-suite-secret", OTHER_CORP, ""),
        format!(r#"{{"authCorpId":"{OTHER_CORP}","suiteKey":"dingdemosuite","suiteSecret":"demo-suite-secret"}}"#),
    ] {
        let a = fx.send(sdk_post("/v1.0/oauth2/corpAccessToken", &body)).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    }
}

#[tokio::test]
async fn corp_access_token_refuses_a_corp_that_did_not_authorise_the_suite() {
    let fx = fixture().await;
    let want = api_error("invalidAuthInfo", "企业未授权该应用");
    for body in [
        corp_token_body("dingdemosuite", "demo-suite-secret", THIRD_CORP, "demo-suite-ticket"),
        corp_token_body(
            "dingdemosuite",
            "demo-suite-secret",
            "ding00000000000000000000000000000000",
            "demo-suite-ticket",
        ),
        r#"{"suiteKey":"dingdemosuite","suiteSecret":"demo-suite-secret","suiteTicket":"demo-suite-ticket"}"#
            .to_owned(),
    ] {
        let a = fx.send(sdk_post("/v1.0/oauth2/corpAccessToken", &body)).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    }
}

#[tokio::test]
async fn admin_suite_ticket_replaces_the_valid_ticket() {
    let fx = fixture().await;
    let a = fx
        .send(admin(
            Method::PUT,
            "/_dingdir/apps/dingdemosuite/suite-ticket",
            Some(&json!({"suite_ticket": "fresh-ticket"})),
        ))
        .await;
    assert_api(&a, StatusCode::OK, json!({"suite_ticket": "fresh-ticket"}));

    let old = corp_token_body("dingdemosuite", "demo-suite-secret", OTHER_CORP, "demo-suite-ticket");
    let a = fx.send(sdk_post("/v1.0/oauth2/corpAccessToken", &old)).await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        api_error("invalidSuiteTicket", "无效的suiteTicket"),
    );

    let new = corp_token_body("dingdemosuite", "demo-suite-secret", OTHER_CORP, "fresh-ticket");
    let mut a = fx.send(sdk_post("/v1.0/oauth2/corpAccessToken", &new)).await;
    a.take_token("accessToken");
    assert_api(&a, StatusCode::OK, json!({"accessToken": HEX32, "expireIn": 7200}));
}

#[tokio::test]
async fn admin_suite_ticket_refuses_an_app_that_is_not_a_suite() {
    let fx = fixture().await;
    for (key, message) in [
        ("dingdemointernal", "no third_party_enterprise app dingdemointernal"),
        ("dingnosuchapp", "no third_party_enterprise app dingnosuchapp"),
    ] {
        let a = fx
            .send(admin(
                Method::PUT,
                &format!("/_dingdir/apps/{key}/suite-ticket"),
                Some(&json!({"suite_ticket": "t"})),
            ))
            .await;
        assert_api_error(
            &a,
            StatusCode::NOT_FOUND,
            json!({"code": "NotFound", "message": message, "requestid": RID}),
        );
    }
    let a = fx
        .send(admin(
            Method::PUT,
            "/_dingdir/apps/dingdemosuite/suite-ticket",
            Some(&json!({"suite_ticket": "  "})),
        ))
        .await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        json!({"code": "BadRequest", "message": "suite_ticket must not be empty", "requestid": RID}),
    );
}

// --- POST /v1.0/oauth2/userAccessToken ---------------------------------------------------------

#[tokio::test]
async fn admin_mint_answers_like_user_access_token() {
    let fx = fixture().await;
    let mut a = fx
        .send(admin(
            Method::POST,
            "/_dingdir/tokens/user",
            Some(&json!({"app_key": "dingdemointernal", "mobile": "15000009144"})),
        ))
        .await;
    let access = a.take_token("accessToken");
    let refresh = a.take_token("refreshToken");
    assert_ne!(access, refresh);
    assert_api(
        &a,
        StatusCode::OK,
        json!({"accessToken": HEX32, "refreshToken": HEX32, "expireIn": 7200, "corpId": DEMO_CORP}),
    );
    assert_eq!(me_nick(&fx, &access).await, json!("zhangsan"));
}

/// A person the app does not sign in is refused with why, as its own code: not a generic 409.
#[tokio::test]
async fn admin_mint_for_a_person_outside_the_apps_corp_is_not_a_member() {
    let fx = fixture().await;
    let a = fx
        .send(admin(
            Method::POST,
            "/_dingdir/tokens/user",
            Some(&json!({"app_key": "dingothercoapp", "corp_id": DEMO_CORP, "userid": "lisi"})),
        ))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    assert_eq!(a.json["code"], json!("NotAMember"), "{}", a.text());
    let message = a.json["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with("cannot sign in to dingothercoapp: not a member of an organisation this app is installed in"),
        "{message}"
    );
}

#[tokio::test]
async fn refresh_token_grant_gives_new_tokens_with_corp_id_for_corpid_scope() {
    let fx = fixture().await;
    let minted = fx
        .mint(&json!({"app_key": "dingdemointernal", "mobile": "15000009144"}))
        .await;
    let (old_access, old_refresh) = (
        minted["accessToken"].as_str().unwrap().to_owned(),
        minted["refreshToken"].as_str().unwrap().to_owned(),
    );
    let (access, refresh, rest) = user_access_token(
        &fx,
        &refresh_body("dingdemointernal", "demo-internal-secret", &old_refresh),
    )
    .await;
    assert_eq!(
        rest,
        json!({"accessToken": HEX32, "refreshToken": HEX32, "expireIn": 7200, "corpId": DEMO_CORP})
    );
    assert_ne!(access, old_access);
    assert_ne!(refresh, old_refresh);
    assert_eq!(me_nick(&fx, &access).await, json!("zhangsan"));
    // The new refresh token works once more.
    let (_, _, rest) =
        user_access_token(&fx, &refresh_body("dingdemointernal", "demo-internal-secret", &refresh)).await;
    assert_eq!(rest["corpId"], json!(DEMO_CORP));
}

#[tokio::test]
async fn refresh_token_grant_without_corpid_scope_has_no_corp_id() {
    let fx = fixture().await;
    let minted = fx
        .mint(&json!({"app_key": "dingdemointernal", "mobile": "15000009144", "scope": "openid"}))
        .await;
    assert_eq!(minted.get("corpId"), None, "{minted}");
    let (_, _, rest) = user_access_token(
        &fx,
        &refresh_body(
            "dingdemointernal",
            "demo-internal-secret",
            minted["refreshToken"].as_str().unwrap(),
        ),
    )
    .await;
    assert_eq!(
        rest,
        json!({"accessToken": HEX32, "refreshToken": HEX32, "expireIn": 7200})
    );
}

#[tokio::test]
async fn spent_or_foreign_refresh_token_is_invalid_refresh_token() {
    let fx = fixture().await;
    let want = api_error("invalidRefreshToken", "无效的refreshToken");
    let minted = fx
        .mint(&json!({"app_key": "dingdemointernal", "mobile": "15000009144"}))
        .await;
    let refresh = minted["refreshToken"].as_str().unwrap();
    // Another app cannot spend it (and does not burn it).
    let a = fx
        .send(sdk_post(
            "/v1.0/oauth2/userAccessToken",
            &refresh_body("dingdemoreadonly", "demo-readonly-secret", refresh),
        ))
        .await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    // Its own app spends it once.
    user_access_token(&fx, &refresh_body("dingdemointernal", "demo-internal-secret", refresh)).await;
    for body in [
        refresh_body("dingdemointernal", "demo-internal-secret", refresh),
        refresh_body(
            "dingdemointernal",
            "demo-internal-secret",
            "0123456789abcdef0123456789abcdef",
        ),
        refresh_body("dingdemointernal", "demo-internal-secret", ""),
        r#"{"clientId":"dingdemointernal","clientSecret":"demo-internal-secret","grantType":"refresh_token"}"#
            .to_owned(),
    ] {
        let a = fx.send(sdk_post("/v1.0/oauth2/userAccessToken", &body)).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    }
}

#[tokio::test]
async fn user_token_unknown_grant_type_is_400_invalid_parameter() {
    let fx = fixture().await;
    let want = api_error("invalidParameter", "参数错误：grantType");
    for body in [
        r#"{"clientId":"dingdemointernal","clientSecret":"demo-internal-secret","grantType":"password"}"#,
        r#"{"clientId":"dingdemointernal","clientSecret":"demo-internal-secret","grantType":"client_credentials"}"#,
        r#"{"clientId":"dingdemointernal","clientSecret":"demo-internal-secret","code":"c"}"#,
    ] {
        let a = fx.send(sdk_post("/v1.0/oauth2/userAccessToken", body)).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, want.clone());
    }
}

#[tokio::test]
async fn user_token_bad_client_is_400_invalid_client() {
    let fx = fixture().await;
    let code = zhangsan_code(&fx, "openid corpid").await;
    let minted = fx
        .mint(&json!({"app_key": "dingdemointernal", "mobile": "15000009144"}))
        .await;
    let refresh = minted["refreshToken"].as_str().unwrap();
    for body in [
        code_body("dingdemointernal", "wrong", &code),
        code_body("dingnosuchapp", "demo-internal-secret", &code),
        refresh_body("dingdemointernal", "wrong", refresh),
        refresh_body("", "", refresh),
    ] {
        let a = fx.send(sdk_post("/v1.0/oauth2/userAccessToken", &body)).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, invalid_client());
    }
    // Refused client credentials spend neither the code nor the refresh token.
    user_access_token(&fx, &code_body("dingdemointernal", "demo-internal-secret", &code)).await;
    user_access_token(&fx, &refresh_body("dingdemointernal", "demo-internal-secret", refresh)).await;
}

#[tokio::test]
async fn authorization_code_is_redeemed_once() {
    let fx = fixture().await;
    let code = zhangsan_code(&fx, "openid corpid").await;
    let body = code_body("dingdemointernal", "demo-internal-secret", &code);
    let (access, _, rest) = user_access_token(&fx, &body).await;
    assert_eq!(
        rest,
        json!({"accessToken": HEX32, "refreshToken": HEX32, "expireIn": 7200, "corpId": DEMO_CORP})
    );
    assert_eq!(me_nick(&fx, &access).await, json!("zhangsan"));
    let a = fx.send(sdk_post("/v1.0/oauth2/userAccessToken", &body)).await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, api_error("invalidCode", "无效的授权码"));
}

#[tokio::test]
async fn authorization_code_with_openid_scope_has_no_corp_id() {
    let fx = fixture().await;
    let code = zhangsan_code(&fx, "openid").await;
    let (_, _, rest) = user_access_token(&fx, &code_body("dingdemointernal", "demo-internal-secret", &code)).await;
    assert_eq!(
        rest,
        json!({"accessToken": HEX32, "refreshToken": HEX32, "expireIn": 7200})
    );
}

#[tokio::test]
async fn code_for_another_client_is_invalid_code() {
    let fx = fixture().await;
    let code = zhangsan_code(&fx, "openid corpid").await;
    let a = fx
        .send(sdk_post(
            "/v1.0/oauth2/userAccessToken",
            &code_body("dingdemoreadonly", "demo-readonly-secret", &code),
        ))
        .await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, api_error("invalidCode", "无效的授权码"));
    // Unknown and empty codes, too.
    for code in ["0123456789abcdef0123456789abcdef", "not-a-code", ""] {
        let a = fx
            .send(sdk_post(
                "/v1.0/oauth2/userAccessToken",
                &code_body("dingdemointernal", "demo-internal-secret", code),
            ))
            .await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, api_error("invalidCode", "无效的授权码"));
    }
}

#[tokio::test]
async fn expired_code_is_invalid_code() {
    let fx = fixture().await;
    let code = zhangsan_code(&fx, "openid corpid").await;
    fx.clock.advance_ms(301 * 1000).unwrap();
    let a = fx
        .send(sdk_post(
            "/v1.0/oauth2/userAccessToken",
            &code_body("dingdemointernal", "demo-internal-secret", &code),
        ))
        .await;
    assert_api_error(&a, StatusCode::BAD_REQUEST, api_error("invalidCode", "无效的授权码"));
}

// --- Expiry -------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_are_refused_after_their_lifetime() {
    let fx = fixture().await;
    let app = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let user = fx.user_token("dingdemointernal", "15000009144").await;
    fx.clock.advance_ms(7200 * 1000).unwrap();

    let a = fx.send(sdk_get("/v1.0/contact/users/me", Some(&user))).await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        api_error("InvalidAuthentication", "不合法的access_token"),
    );
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={app}"),
            "application/json",
            r#"{"mobile": "15000009144"}"#,
        ))
        .await;
    assert_topapi(
        &a,
        json!({
            "errcode": 88,
            "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]",
            "sub_code": "40014",
            "sub_msg": "不合法的access_token",
            "request_id": RID,
        }),
    );

    // After expiry the app gets a different token, and it works.
    let fresh = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_ne!(fresh, app);
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={fresh}"),
            "application/json",
            r#"{"mobile": "15000009144"}"#,
        ))
        .await;
    assert_eq!(a.json["errcode"], json!(0), "{}", a.text());
}

#[tokio::test]
async fn internal_app_token_is_renewed_when_asked_again() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    fx.clock.advance_ms(7000 * 1000).unwrap();
    assert_eq!(fx.app_token("dingdemointernal", "demo-internal-secret").await, token);
    // 14 000 s after the first issue, 7 000 s after the renewal: still valid.
    fx.clock.advance_ms(7000 * 1000).unwrap();
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={token}"),
            "application/json",
            r#"{"mobile": "15000009144"}"#,
        ))
        .await;
    assert_topapi(
        &a,
        json!({
            "errcode": 0,
            "errmsg": "ok",
            "result": {"exclusive_account_userid_list": [], "userid": "zhangsan"},
            "request_id": RID,
        }),
    );
    // The new gateway renews the same token too.
    let mut a = fx.send(sdk_post("/v1.0/oauth2/accessToken", INTERNAL_CREDS)).await;
    assert_eq!(a.take_token("accessToken"), token);
}

#[tokio::test]
async fn corp_token_expires_after_its_lifetime() {
    let fx = fixture().await;
    let token = fx.corp_token(DEMO_CORP).await;
    let body = r#"{"mobile": "15000009144"}"#;
    let uri = format!("/topapi/v2/user/getbymobile?access_token={token}");
    // Valid: refused for the app type, not for the token.
    let a = fx.send(legacy_post(&uri, "application/json", body)).await;
    assert_eq!(a.json["sub_code"], json!("60011"), "{}", a.text());
    fx.clock.advance_ms(7200 * 1000).unwrap();
    let a = fx.send(legacy_post(&uri, "application/json", body)).await;
    assert_eq!(a.json["sub_code"], json!("40014"), "{}", a.text());
}
