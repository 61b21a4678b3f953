//! Scripted faults (`/_dingdir/faults`): rules match by endpoint, app, corp, user and
//! parameters, answer in the gateway they hit, fire on a schedule, count, and go away with one
//! call or with `reset`. Dropped and truncated answers need a real connection: the binary's
//! tests (`crates/dingdir/tests/it/faults.rs`) cover them.

use super::*;

const GETBYMOBILE: &str = "/topapi/v2/user/getbymobile";

const OTHER_CORP: &str = "ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01";

async fn arm(fx: &Fixture, rule: Value) -> Answer {
    fx.send(admin(Method::POST, "/_dingdir/faults", Some(&rule))).await
}

async fn arm_ok(fx: &Fixture, rule: Value) -> u64 {
    let a = arm(fx, rule).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    a.json["id"].as_u64().expect("an id")
}

fn found(userid: &str) -> Value {
    json!({
        "errcode": 0,
        "errmsg": "ok",
        "result": {"exclusive_account_userid_list": [], "userid": userid},
        "request_id": RID,
    })
}

fn busy() -> Value {
    json!({"errcode": -1, "errmsg": "系统繁忙", "request_id": RID})
}

async fn faults(fx: &Fixture) -> Value {
    let a = fx.send(admin(Method::GET, "/_dingdir/faults", None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json
}

#[tokio::test]
async fn the_next_two_getbymobile_calls_answer_system_busy_and_the_third_succeeds() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let rule = json!({
        "endpoint": "V2UserGetByMobile",
        "action": {"kind": "errcode", "errcode": -1},
        "fire": {"next": 2},
    });
    let a = arm(&fx, rule).await;
    assert_api(
        &a,
        StatusCode::CREATED,
        json!({
            "id": 1,
            "endpoint": "V2UserGetByMobile",
            "action": {"kind": "errcode", "errcode": -1},
            "fire": {"next": 2},
            "matched": 0,
            "fired": 0,
        }),
    );
    for _ in 0..2 {
        assert_topapi(&by_mobile(&fx, &token, "15000009144").await, busy());
    }
    assert_topapi(&by_mobile(&fx, &token, "15000009144").await, found("zhangsan"));
    // The token was fetched before the rule was armed: only the three getbymobile calls matched.
    let listed = faults(&fx).await;
    assert_eq!(listed["faults"][0]["matched"], 3);
    assert_eq!(listed["faults"][0]["fired"], 2);
}

#[tokio::test]
async fn a_rule_matches_by_app_corp_user_and_parameters() {
    let fx = fixture().await;
    let demo = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let other = fx.app_token("dingothercoapp", "other-internal-secret").await;
    // By app: only the demo app's calls fail.
    arm_ok(
        &fx,
        json!({"app": "dingdemointernal", "action": {"kind": "errcode", "errcode": 90018, "errmsg": "app qps limit"}}),
    )
    .await;
    assert_topapi(
        &by_mobile(&fx, &demo, "15000009144").await,
        json!({"errcode": 90018, "errmsg": "app qps limit", "request_id": RID}),
    );
    assert_topapi(&by_mobile(&fx, &other, "15000009144").await, found("zs001"));
    fx.send(admin(Method::DELETE, "/_dingdir/faults", None)).await;

    // By corp: the token's corp.
    arm_ok(
        &fx,
        json!({"corp": OTHER_CORP, "action": {"kind": "errcode", "errcode": -1}}),
    )
    .await;
    assert_topapi(&by_mobile(&fx, &demo, "15000009144").await, found("zhangsan"));
    assert_topapi(&by_mobile(&fx, &other, "15000009144").await, busy());
    fx.send(admin(Method::DELETE, "/_dingdir/faults", None)).await;

    // By parameter: one mobile fails, another does not.
    arm_ok(
        &fx,
        json!({"params": {"mobile": "15532403240"}, "action": {"kind": "errcode", "errcode": -1}}),
    )
    .await;
    assert_topapi(&by_mobile(&fx, &demo, "15000009144").await, found("zhangsan"));
    assert_topapi(&by_mobile(&fx, &demo, "15532403240").await, busy());
    fx.send(admin(Method::DELETE, "/_dingdir/faults", None)).await;

    // By user: v2/user/get's userid; the same call for another member is served.
    arm_ok(
        &fx,
        json!({"endpoint": "V2UserGet", "user": "lisi", "action": {"kind": "errcode", "errcode": -1}}),
    )
    .await;
    let get = |userid: &str| {
        legacy_post(
            &format!("/topapi/v2/user/get?access_token={demo}"),
            "application/json",
            &format!(r#"{{"userid":"{userid}"}}"#),
        )
    };
    assert_topapi(&fx.send(get("lisi")).await, busy());
    let a = fx.send(get("zhangsan")).await;
    assert_eq!(a.json["errcode"], 0, "{}", a.text());
}

#[tokio::test]
async fn a_token_request_is_matched_by_the_app_key_it_sends() {
    let fx = fixture().await;
    arm_ok(
        &fx,
        json!({"endpoint": "GetToken", "app": "dingdemointernal", "action": {"kind": "errcode", "errcode": -1}}),
    )
    .await;
    let a = fx
        .send(community_get(
            "/gettoken?appkey=dingdemointernal&appsecret=demo-internal-secret",
        ))
        .await;
    assert_legacy(&a, json!({"errcode": -1, "errmsg": "系统繁忙"}));
    fx.app_token("dingothercoapp", "other-internal-secret").await;
}

#[tokio::test]
async fn a_new_gateway_rule_answers_its_status_code_and_message() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    arm_ok(
        &fx,
        json!({
            "endpoint": "GetUser",
            "action": {"kind": "error", "status": 403, "code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": "The request has exceeded the QPS limit."},
            "fire": {"after": 1},
        }),
    )
    .await;
    let me = || sdk_get("/v1.0/contact/users/me", Some(&token));
    assert_eq!(fx.send(me()).await.status, StatusCode::OK);
    assert_api_error(
        &fx.send(me()).await,
        StatusCode::FORBIDDEN,
        json!({
            "code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            "message": "The request has exceeded the QPS limit.",
            "requestid": RID,
        }),
    );
}

#[tokio::test]
async fn a_delay_holds_the_request_then_serves_it() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    arm_ok(
        &fx,
        json!({"endpoint": "V2UserGetByMobile", "action": {"kind": "delay", "ms": 300}}),
    )
    .await;
    let started = std::time::Instant::now();
    assert_topapi(&by_mobile(&fx, &token, "15000009144").await, found("zhangsan"));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_seeded_probability_fires_on_the_same_calls_every_run() {
    let run = || async {
        let fx = fixture().await;
        let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
        arm_ok(
            &fx,
            json!({"endpoint": "V2UserGetByMobile", "action": {"kind": "errcode", "errcode": -1}, "fire": {"probability": {"p": 0.5, "seed": 42}}}),
        )
        .await;
        let mut fired = Vec::new();
        for _ in 0..20 {
            fired.push(by_mobile(&fx, &token, "15000009144").await.json["errcode"] == -1);
        }
        fired
    };
    let first = run().await;
    assert_eq!(first, run().await);
    let n = first.iter().filter(|f| **f).count();
    assert!((3..=17).contains(&n), "{n} of 20 at p = 0.5: {first:?}");
}

#[tokio::test]
async fn rules_are_listed_removed_cleared_and_reset() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let first = arm_ok(
        &fx,
        json!({"endpoint": "V2UserGet", "action": {"kind": "errcode", "errcode": -1}}),
    )
    .await;
    let second = arm_ok(&fx, json!({"action": {"kind": "delay", "ms": 1}})).await;
    assert_eq!(faults(&fx).await["faults"].as_array().map(Vec::len), Some(2));

    let a = fx
        .send(admin(Method::DELETE, &format!("/_dingdir/faults/{first}"), None))
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = fx
        .send(admin(Method::DELETE, &format!("/_dingdir/faults/{first}"), None))
        .await;
    assert_api_error(
        &a,
        StatusCode::NOT_FOUND,
        json!({"code": "NotFound", "message": format!("no fault rule {first}"), "requestid": RID}),
    );
    let listed = faults(&fx).await;
    assert_eq!(listed["faults"][0]["id"], second);

    let a = fx.send(admin(Method::DELETE, "/_dingdir/faults", None)).await;
    assert_api(&a, StatusCode::OK, json!({"cleared": 1}));
    assert_eq!(faults(&fx).await, json!({"faults": []}));

    // `reset` disarms them too.
    arm_ok(&fx, json!({"action": {"kind": "errcode", "errcode": -1}})).await;
    assert_topapi(&by_mobile(&fx, &token, "15000009144").await, busy());
    let a = fx.send(admin(Method::POST, "/_dingdir/reset", None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(faults(&fx).await, json!({"faults": []}));
    // The fixture has no startup seed, so the directory is empty now: the app is unknown, not busy.
    let a = fx
        .send(community_get(
            "/gettoken?appkey=dingdemointernal&appsecret=demo-internal-secret",
        ))
        .await;
    assert_legacy(&a, json!({"errcode": 40096, "errmsg": "不合法的appKey或appSecret"}));
}

#[tokio::test]
async fn a_rule_that_cannot_work_is_refused_with_why() {
    let fx = fixture().await;
    for (rule, message) in [
        (
            json!({"endpoint": "Nope", "action": {"kind": "errcode", "errcode": -1}}),
            "unknown endpoint `Nope`: give a name from docs/COMPATIBILITY.md, such as V2UserGetByMobile or GetUser",
        ),
        (
            json!({"endpoint": "GetUser", "action": {"kind": "errcode", "errcode": -1}}),
            "an `errcode` fault answers the legacy gateway; the new gateway's is `error`",
        ),
        (
            json!({"endpoint": "GetToken", "action": {"kind": "error", "status": 403, "code": "x", "message": "y"}}),
            "an `error` fault answers the new gateway; the legacy gateway's is `errcode`",
        ),
        (
            json!({"action": {"kind": "error", "status": 200, "code": "x", "message": "y"}}),
            "status 200: an error's status is 400 to 599",
        ),
        (
            json!({"action": {"kind": "errcode", "errcode": 90018}}),
            "errcode 90018 needs an `errmsg` (only -1 has a default, 系统繁忙)",
        ),
        (
            json!({"action": {"kind": "delay", "ms": 600_001}}),
            "a delay is at most 600000 ms",
        ),
        (
            json!({"action": {"kind": "errcode", "errcode": -1}, "fire": {"probability": {"p": 2.0, "seed": 1}}}),
            "probability 2: give one between 0 and 1",
        ),
    ] {
        let a = arm(&fx, rule.clone()).await;
        assert_api_error(
            &a,
            StatusCode::BAD_REQUEST,
            json!({"code": "BadRequest", "message": message, "requestid": RID}),
        );
    }
    let a = arm(&fx, json!({"action": {"kind": "explode"}})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("bad JSON body: unknown variant `explode`"),
        "{}",
        a.text()
    );
    let a = fx.send(admin(Method::DELETE, "/_dingdir/faults/x", None)).await;
    assert_api_error(
        &a,
        StatusCode::BAD_REQUEST,
        json!({"code": "BadRequest", "message": "fault id `x` is not a number", "requestid": RID}),
    );
    let a = fx.send(request(Method::GET, "/_dingdir/faults", Body::empty())).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(faults(&fx).await, json!({"faults": []}));
}

#[tokio::test]
async fn with_a_rule_armed_an_over_size_body_is_still_refused_in_the_gateways_form() {
    let fx = fixture_with(Setup {
        settings: Settings {
            body_limit: 64,
            ..test_settings()
        },
        ..Setup::default()
    })
    .await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    arm_ok(
        &fx,
        json!({"endpoint": "GetUser", "action": {"kind": "delay", "ms": 1}}),
    )
    .await;
    let big = format!(r#"{{"mobile":"15000009144","pad":"{}"}}"#, "x".repeat(100));
    let a = fx
        .send(legacy_post(
            &format!("{GETBYMOBILE}?access_token={token}"),
            "application/json",
            &big,
        ))
        .await;
    assert_topapi(
        &a,
        json!({"errcode": 400002, "errmsg": "无效的参数：请求体过大", "request_id": RID}),
    );
    // Under the limit, served as always.
    assert_topapi(&by_mobile(&fx, &token, "15000009144").await, found("zhangsan"));
}

async fn post_seed(fx: &Fixture, file: &str, yaml: &str) -> Answer {
    fx.send(
        Request::builder()
            .method(Method::POST)
            .uri(format!("/_dingdir/seed?file={file}"))
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/yaml")
            .body(Body::from(yaml.to_owned()))
            .expect("a valid request"),
    )
    .await
}

const SEEDED_RULES: &str = r#"
rate_limits:
  - { endpoint: V2UserGetByMobile, limit: 5, per: minute }
faults:
  - endpoint: V2UserGetByMobile
    action: { kind: errcode, errcode: -1 }
    fire: { next: 1 }
"#;

#[tokio::test]
async fn a_seed_arms_its_fault_rules_and_sets_its_rate_limits_and_reset_does_it_again() {
    let settings = Settings {
        reset_seed: Some(("demo-and-rules.yaml".into(), format!("{DEMO_SEED}\n{SEEDED_RULES}"))),
        ..test_settings()
    };
    let fx = fixture_with(Setup {
        settings,
        ..Setup::default()
    })
    .await;
    let applied = post_seed(&fx, "rules.yaml", SEEDED_RULES).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    let rules = faults(&fx).await;
    assert_eq!(rules["faults"].as_array().map(Vec::len), Some(1), "{rules}");
    assert_eq!(rules["faults"][0]["endpoint"], "V2UserGetByMobile");
    let limits = fx.send(admin(Method::GET, "/_dingdir/rate-limits", None)).await;
    assert_eq!(
        limits.json,
        json!({"limits": [{"endpoint": "V2UserGetByMobile", "limit": 5, "per": "minute"}]})
    );
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_topapi(&by_mobile(&fx, &token, "15000009144").await, busy());
    assert_topapi(&by_mobile(&fx, &token, "15000009144").await, found("zhangsan"));

    // reset clears the rules and the limits, then re-applies the startup seed, which arms its own.
    let reset = fx.send(admin(Method::POST, "/_dingdir/reset", None)).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text());
    let rules = faults(&fx).await;
    assert_eq!(rules["faults"].as_array().map(Vec::len), Some(1), "{rules}");
    assert_eq!(rules["faults"][0]["fired"], 0, "a fresh rule: {rules}");
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_topapi(&by_mobile(&fx, &token, "15000009144").await, busy());
}

#[tokio::test]
async fn a_seed_with_a_rule_no_endpoint_can_obey_is_refused_at_its_place_and_changes_nothing() {
    let fx = fixture().await;
    for (yaml, field, why) in [
        (
            "faults:\n  - { endpoint: NoSuchThing, action: { kind: delay, ms: 10 } }\n",
            "faults[0]",
            "unknown endpoint `NoSuchThing`",
        ),
        (
            "faults:\n  - { action: { kind: drop } }\n  - { endpoint: GetUser, action: { kind: errcode, errcode: -1 } }\n",
            "faults[1]",
            "errcode",
        ),
        (
            "rate_limits:\n  - { limit: 3 }\n  - { endpoint: Nope, limit: 3 }\n",
            "rate_limits[1]",
            "unknown endpoint `Nope`",
        ),
        ("rate_limits:\n  - { limit: 0 }\n", "rate_limits", "limit"),
    ] {
        let a = post_seed(&fx, "bad.yaml", yaml).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{yaml}: {}", a.text());
        assert_eq!(a.json["code"], "SeedInvalid", "{}", a.text());
        let message = a.json["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("bad.yaml:"), "{message}");
        assert!(message.contains(&format!(": {field}")), "{field} in {message}");
        assert!(message.contains(why), "{why} in {message}");
    }
    assert_eq!(faults(&fx).await["faults"], json!([]), "nothing was armed");
    let limits = fx.send(admin(Method::GET, "/_dingdir/rate-limits", None)).await;
    assert_eq!(limits.json, json!({"limits": []}), "nothing was set");
}
