//! Rate limits (`/_dingdir/rate-limits`): calls per app and API in a fixed window, refused in
//! each gateway's own form (docs/wire/rate-limits.md), counted per app and per endpoint, lifted
//! by `DELETE` and `reset`. The fixture's clock does not move by itself, so every call of a test
//! falls in one window until the test moves it.

use super::*;

/// The official text the 90018 message starts with, then `apiPath(...)`.
const QPS_TEXT: &str = "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了";

async fn set(fx: &Fixture, limits: Value) -> Answer {
    fx.send(admin(
        Method::PUT,
        "/_dingdir/rate-limits",
        Some(&json!({ "limits": limits })),
    ))
    .await
}

/// Moves the fixture's clock to the start of the next minute, so a test's calls share windows.
fn to_next_minute(fx: &Fixture) {
    let now = fx.state.service.now();
    let next = (now / 60_000 + 1) * 60_000;
    fx.clock.advance_ms(next - now).expect("a small step");
}

#[tokio::test]
async fn the_call_past_a_per_second_limit_gets_90018_in_the_88_wrapper_on_topapi() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    to_next_minute(&fx);
    let a = set(&fx, json!([{"endpoint": "V2UserGetByMobile", "limit": 2}])).await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({"limits": [{"endpoint": "V2UserGetByMobile", "limit": 2, "per": "second"}]}),
    );
    for _ in 0..2 {
        assert_eq!(by_mobile(&fx, &token, "15000009144").await.json["errcode"], 0);
    }
    let refused = by_mobile(&fx, &token, "15000009144").await;
    let sub_msg = refused.json["sub_msg"].as_str().unwrap_or_default().to_owned();
    let start = fx.state.service.now();
    let at = |ms: i64| {
        dingdir_core::iso_time::format_utc(ms + 8 * 3_600_000)
            .trim_end_matches('Z')
            .replace('T', " ")
    };
    assert_eq!(
        sub_msg,
        format!(
            "{QPS_TEXT}, apiPath(dingtalk.oapi.v2.user.getbymobile), 从 {} 到 {} 请求总次数超过了 2 次, 处罚将在 {} 结束.",
            at(start),
            at(start),
            at(start + 1000)
        )
    );
    assert_topapi(
        &refused,
        json!({
            "errcode": 88,
            "errmsg": format!("ding talk error[subcode=90018,submsg={sub_msg}]"),
            "sub_code": "90018",
            "sub_msg": sub_msg,
            "request_id": RID,
        }),
    );
    // Other endpoints are counted apart; the next second starts a new count.
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/get?access_token={token}"),
            "application/json",
            r#"{"userid":"lisi"}"#,
        ))
        .await;
    assert_eq!(a.json["errcode"], 0, "{}", a.text());
    fx.clock.advance_ms(1_000).expect("a second");
    assert_eq!(by_mobile(&fx, &token, "15000009144").await.json["errcode"], 0);
}

#[tokio::test]
async fn each_app_has_its_own_count_and_an_old_path_gets_90018_plain() {
    let fx = fixture().await;
    let demo = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let other = fx.app_token("dingothercoapp", "other-internal-secret").await;
    to_next_minute(&fx);
    set(&fx, json!([{"limit": 1}])).await;
    assert_eq!(by_mobile(&fx, &demo, "15000009144").await.json["errcode"], 0);
    assert_eq!(
        by_mobile(&fx, &other, "15000009144").await.json["errcode"],
        0,
        "another app's first call"
    );
    assert_eq!(by_mobile(&fx, &demo, "15000009144").await.json["sub_code"], "90018");
    let get = |token: &str| community_get(&format!("/user/get?access_token={token}&userid=zhangsan"));
    assert_eq!(fx.send(get(&demo)).await.json["errcode"], 0);
    let a = fx.send(get(&demo)).await;
    assert_eq!(a.json["errcode"], 90018, "{}", a.text());
    assert!(
        a.json.get("sub_code").is_none() && a.json.get("request_id").is_none(),
        "{}",
        a.text()
    );
    assert!(
        a.json["errmsg"]
            .as_str()
            .is_some_and(|m| m.starts_with(&format!("{QPS_TEXT}, apiPath(/user/get), 从 "))),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn the_new_gateway_answers_403_and_a_per_minute_limit_its_own_codes() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    to_next_minute(&fx);
    set(
        &fx,
        json!([{"app": "dingdemointernal", "endpoint": "GetUser", "limit": 1}]),
    )
    .await;
    let me = || sdk_get("/v1.0/contact/users/me", Some(&token));
    assert_eq!(fx.send(me()).await.status, StatusCode::OK);
    assert_api_error(
        &fx.send(me()).await,
        StatusCode::FORBIDDEN,
        json!({"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": QPS_TEXT, "requestid": RID}),
    );
    set(&fx, json!([{"endpoint": "GetUser", "limit": 1, "per": "minute"}])).await;
    fx.clock.advance_ms(1_000).expect("a second");
    assert_eq!(fx.send(me()).await.status, StatusCode::OK);
    fx.clock.advance_ms(1_000).expect("a second");
    assert_api_error(
        &fx.send(me()).await,
        StatusCode::FORBIDDEN,
        json!({"code": "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", "message": QPS_TEXT, "requestid": RID}),
    );
    let app = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    set(
        &fx,
        json!([{"endpoint": "V2UserGetByMobile", "limit": 1, "per": "minute"}]),
    )
    .await;
    by_mobile(&fx, &app, "15000009144").await;
    let a = by_mobile(&fx, &app, "15000009144").await;
    assert_eq!(a.json["sub_code"], "90006", "{}", a.text());
    assert_eq!(
        a.json["sub_msg"],
        "您当前使用的CorpId及CorpSecret调用当前接口次数过多，请求被暂时禁用了，仅对企业自己的Accesstoken有效"
    );
}

#[tokio::test]
async fn a_token_request_counts_against_the_app_key_it_sends_and_a_fault_wins() {
    let fx = fixture().await;
    to_next_minute(&fx);
    set(&fx, json!([{"endpoint": "GetToken", "limit": 1}])).await;
    let gettoken = || community_get("/gettoken?appkey=dingdemointernal&appsecret=demo-internal-secret");
    assert_eq!(fx.send(gettoken()).await.json["errcode"], 0);
    let a = fx.send(gettoken()).await;
    assert_eq!(a.json["errcode"], 90018, "{}", a.text());
    // A call with no app it can be counted against is not counted.
    let a = fx.send(community_get("/gettoken")).await;
    assert_eq!(a.json["errcode"], 40035, "{}", a.text());
    // A scripted fault is answered before the call is counted.
    let rule = json!({"endpoint": "GetToken", "action": {"kind": "errcode", "errcode": -1}, "fire": {"next": 1}});
    fx.send(admin(Method::POST, "/_dingdir/faults", Some(&rule))).await;
    assert_eq!(fx.send(gettoken()).await.json["errcode"], -1);
}

#[tokio::test]
async fn limits_are_listed_refused_with_why_lifted_and_reset() {
    let fx = fixture().await;
    for (limits, message) in [
        (json!([{"limit": 0}]), "a rate limit's `limit` is at least 1"),
        (
            json!([{"endpoint": "Nope", "limit": 1}]),
            "unknown endpoint `Nope`: give a name from docs/COMPATIBILITY.md, such as V2UserGetByMobile or GetUser",
        ),
        (
            json!([{"app": "", "limit": 1}]),
            "a rate limit's `app` is 1 to 128 characters",
        ),
    ] {
        assert_api_error(
            &set(&fx, limits).await,
            StatusCode::BAD_REQUEST,
            json!({"code": "BadRequest", "message": message, "requestid": RID}),
        );
    }
    let a = set(&fx, json!([{"limit": 1, "per": "hour"}])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown variant `hour`"),
        "{}",
        a.text()
    );

    set(
        &fx,
        json!([{"limit": 5}, {"app": "dingothercoapp", "limit": 1, "per": "minute"}]),
    )
    .await;
    let a = fx.send(admin(Method::GET, "/_dingdir/rate-limits", None)).await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({"limits": [{"limit": 5, "per": "second"}, {"app": "dingothercoapp", "limit": 1, "per": "minute"}]}),
    );
    let a = fx.send(admin(Method::DELETE, "/_dingdir/rate-limits", None)).await;
    assert_api(&a, StatusCode::OK, json!({"cleared": 2}));
    set(&fx, json!([{"limit": 5}])).await;
    fx.send(admin(Method::POST, "/_dingdir/reset", None)).await;
    let a = fx.send(admin(Method::GET, "/_dingdir/rate-limits", None)).await;
    assert_api(&a, StatusCode::OK, json!({"limits": []}));
    assert!(!fx.state.service.rate_limited());
}

#[tokio::test]
async fn a_monthly_quota_counts_the_corps_calls_together_and_answers_90020_until_the_month_ends() {
    let fx = fixture().await;
    let internal = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let other = fx.app_token("dingothercoapp", "other-internal-secret").await;
    let user = fx.user_token("dingdemointernal", "15000009144").await;
    let a = set(&fx, json!([{"limit": 3, "per": "month"}])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // Demo Co's calls share one count, whichever app and endpoint make them.
    assert_eq!(by_mobile(&fx, &internal, "15000009144").await.json["errcode"], 0);
    let me = fx.send(sdk_get("/v1.0/contact/users/me", Some(&user))).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(by_mobile(&fx, &internal, "15000009144").await.json["errcode"], 0);
    let refused = by_mobile(&fx, &internal, "15000009144").await;
    assert_eq!(refused.json["errcode"], 88, "{}", refused.text());
    assert_eq!(refused.json["sub_code"], "90020", "{}", refused.text());
    assert_eq!(
        refused.json["sub_msg"],
        "您的企业本月api调用量已超过限制,调用量:4次,额度:3次,请登录开发者后台-资源管理-查看用量明细"
    );
    let me = fx.send(sdk_get("/v1.0/contact/users/me", Some(&user))).await;
    assert_eq!(me.status, StatusCode::FORBIDDEN, "{}", me.text());
    assert_eq!(me.json["code"], "Forbidden.AccessDenied.ApiCountLimitForOrg");
    // Other Co has a quota of its own.
    let theirs = by_mobile(&fx, &other, "13700000008").await;
    assert_eq!(theirs.json["errcode"], 0, "{}", theirs.text());
    assert_eq!(theirs.json["result"]["userid"], "zhouba", "{}", theirs.text());
    // A new month in China Standard Time starts a new count.
    let now = fx.state.service.now();
    let (_, next) = dingdir_core::rate::window(dingdir_proto::admin::RateWindow::Month, now);
    fx.clock.advance_ms(next - now).expect("a month's step");
    // The token expired on the way there: a fresh one is itself a call in the new month.
    let internal = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let again = by_mobile(&fx, &internal, "15000009144").await;
    assert_eq!(again.json["errcode"], 0, "counted anew: {}", again.text());
}

#[tokio::test]
async fn a_call_a_per_second_limit_refuses_does_not_count_against_the_monthly_quota() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    to_next_minute(&fx);
    let a = set(&fx, json!([{"limit": 1}, {"limit": 2, "per": "month"}])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let sub_code = |a: &Answer| a.json["sub_code"].as_str().unwrap_or("0").to_owned();
    assert_eq!(
        sub_code(&by_mobile(&fx, &token, "15000009144").await),
        "0",
        "the month's first call"
    );
    assert_eq!(
        sub_code(&by_mobile(&fx, &token, "15000009144").await),
        "90018",
        "over the second's limit"
    );
    fx.clock.advance_ms(1_000).expect("a second");
    assert_eq!(
        sub_code(&by_mobile(&fx, &token, "15000009144").await),
        "0",
        "the refused call was not counted"
    );
    fx.clock.advance_ms(1_000).expect("a second");
    assert_eq!(
        sub_code(&by_mobile(&fx, &token, "15000009144").await),
        "90020",
        "the month's third call"
    );
}

#[tokio::test]
async fn two_limits_of_the_same_size_that_match_one_call_each_count_it_once() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    to_next_minute(&fx);
    let a = set(
        &fx,
        json!([{"app": "dingdemointernal", "limit": 2}, {"endpoint": "V2UserGetByMobile", "limit": 2}]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    for _ in 0..2 {
        assert_eq!(by_mobile(&fx, &token, "15000009144").await.json["errcode"], 0);
    }
    let refused = by_mobile(&fx, &token, "15000009144").await;
    assert_eq!(refused.json["sub_code"], json!("90018"), "{}", refused.text());
}

#[tokio::test]
async fn a_global_limit_counts_every_app_together_and_answers_90002() {
    let fx = fixture().await;
    let demo = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let other = fx.app_token("dingothercoapp", "other-internal-secret").await;
    to_next_minute(&fx);
    let refused = set(&fx, json!([{"app": "dingdemointernal", "all_apps": true, "limit": 2}])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text());
    let a = set(
        &fx,
        json!([{"endpoint": "V2UserGetByMobile", "all_apps": true, "limit": 2}]),
    )
    .await;
    assert_eq!(
        a.json["limits"],
        json!([{"endpoint": "V2UserGetByMobile", "limit": 2, "per": "second", "all_apps": true}])
    );
    assert_eq!(by_mobile(&fx, &demo, "15000009144").await.json["errcode"], 0);
    assert_eq!(by_mobile(&fx, &other, "13700000008").await.json["errcode"], 0);
    let over = by_mobile(&fx, &demo, "15000009144").await;
    assert_eq!(
        over.json["sub_code"],
        json!("90002"),
        "the third call of any app: {}",
        over.text()
    );
    let sub_msg = over.json["sub_msg"].as_str().unwrap_or_default();
    assert!(
        sub_msg.starts_with(
            "您的服务器调用钉钉开放平台当前接口的所有请求都被暂时禁用了, apiPath(dingtalk.oapi.v2.user.getbymobile)"
        ),
        "{sub_msg}"
    );
    assert!(sub_msg.contains("请求总次数超过了 2 次"), "{sub_msg}");

    set(&fx, json!([{"endpoint": "GetUser", "all_apps": true, "limit": 1}])).await;
    let user = fx.user_token("dingdemointernal", "15000009144").await;
    let first = fx.send(sdk_get("/v1.0/contact/users/me", Some(&user))).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let second = fx.send(sdk_get("/v1.0/contact/users/me", Some(&user))).await;
    assert_eq!(second.status, StatusCode::FORBIDDEN);
    assert_eq!(second.json["code"], json!("Forbidden.AccessDenied.QpsLimitForApi"));
}
