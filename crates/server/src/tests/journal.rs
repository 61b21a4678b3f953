//! The request journal (`/_dingdir/journal`): what an entry holds, what is redacted, how
//! faults show, filters, counts, clearing, and the answers when it is off or asked wrongly.
//! Following it live needs a real connection: `crates/dingdir/tests/it/journal.rs`.

use super::*;

const DEMO_CORP: &str = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4";

async fn journaled() -> Fixture {
    fixture_with(Setup {
        settings: Settings {
            journal: Some(crate::JournalLimits::default()),
            ..test_settings()
        },
        ..Setup::default()
    })
    .await
}

async fn entries(fx: &Fixture, query: &str) -> Vec<Value> {
    let a = fx
        .send(admin(Method::GET, &format!("/_dingdir/journal{query}"), None))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json["entries"].as_array().cloned().unwrap_or_default()
}

async fn count(fx: &Fixture, query: &str) -> u64 {
    let a = fx
        .send(admin(Method::GET, &format!("/_dingdir/journal/count{query}"), None))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json["count"].as_u64().expect("a count")
}

/// An entry with the fields that differ per run (seq, time, duration, request id) checked for
/// shape and taken out.
#[track_caller]
fn settled(mut entry: Value) -> Value {
    assert!(entry["seq"].as_u64().is_some_and(|s| s >= 1), "{entry}");
    assert!(
        entry["at_ms"].as_i64().is_some_and(|t| t > 1_600_000_000_000),
        "{entry}"
    );
    assert!(entry["duration_us"].as_u64().is_some(), "{entry}");
    let rid = entry["request_id"].as_str().unwrap_or_default();
    assert!(is_oapi_request_id(rid) || is_api_request_id(rid), "{entry}");
    for key in ["seq", "at_ms", "duration_us", "request_id"] {
        entry.as_object_mut().map(|o| o.remove(key));
    }
    entry
}

#[tokio::test]
async fn a_legacy_call_is_kept_with_its_caller_bodies_and_errcode_and_its_token_redacted() {
    let fx = journaled().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={token}"),
            "application/json",
            r#"{"mobile":"15000009144"}"#,
        ))
        .await;
    let rid = a.header("x-acs-request-id").to_owned();
    let kept = entries(&fx, "").await;
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(
        settled(kept[0].clone()),
        json!({
            "gateway": "oapi",
            "method": "GET",
            "path": "/gettoken?appkey=dingdemointernal&appsecret=%3Credacted%3E",
            "endpoint": "GetToken",
            "app": "dingdemointernal",
            "status": 200,
            "code": "0",
            "answer_body": {"errcode": 0, "access_token": "<redacted>", "errmsg": "ok", "expires_in": 7200},
        })
    );
    assert_eq!(kept[1]["request_id"], rid.as_str(), "the answer's own request id");
    assert_eq!(
        settled(kept[1].clone()),
        json!({
            "gateway": "oapi",
            "method": "POST",
            "path": "/topapi/v2/user/getbymobile?access_token=%3Credacted%3E",
            "endpoint": "V2UserGetByMobile",
            "app": "dingdemointernal",
            "corp": DEMO_CORP,
            "status": 200,
            "code": "0",
            "request_body": {"mobile": "15000009144"},
            "answer_body": {
                "errcode": 0, "errmsg": "ok", "request_id": rid,
                "result": {"exclusive_account_userid_list": [], "userid": "zhangsan"},
            },
        })
    );
    let serialised = serde_json::to_string(&kept).unwrap_or_default();
    assert!(!serialised.contains(&token), "the token is nowhere in the journal");
    assert!(!serialised.contains("demo-internal-secret"));
}

#[tokio::test]
async fn new_gateway_secrets_codes_and_tokens_are_redacted_both_ways() {
    let fx = journaled().await;
    let minted = fx
        .mint(&json!({"app_key": "dingdemointernal", "mobile": "15000009144"}))
        .await;
    let user_token = minted["accessToken"].as_str().unwrap_or_default().to_owned();
    let refresh = minted["refreshToken"].as_str().unwrap_or_default().to_owned();
    let body = format!(
        r#"{{"clientId":"dingdemointernal","clientSecret":"demo-internal-secret","refreshToken":"{refresh}","grantType":"refresh_token"}}"#
    );
    let a = fx.send(sdk_post("/v1.0/oauth2/userAccessToken", &body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let me = fx.send(sdk_get("/v1.0/contact/users/me", Some(&user_token))).await;
    assert_eq!(me.status, StatusCode::OK);
    let kept = entries(&fx, "").await;
    // Minting goes through the admin API, which the journal does not keep.
    assert_eq!(kept.len(), 2, "{kept:?}");
    let refreshed = settled(kept[0].clone());
    assert_eq!(
        refreshed["request_body"],
        json!({"clientId": "dingdemointernal", "clientSecret": "<redacted>", "refreshToken": "<redacted>", "grantType": "refresh_token"})
    );
    assert_eq!(refreshed["answer_body"]["accessToken"], "<redacted>");
    assert_eq!(refreshed["answer_body"]["refreshToken"], "<redacted>");
    assert_eq!(refreshed["answer_body"]["expireIn"], 7200);
    assert_eq!(
        (refreshed["endpoint"].clone(), refreshed["app"].clone()),
        (json!("GetUserToken"), json!("dingdemointernal"))
    );
    let got = settled(kept[1].clone());
    assert_eq!(
        (
            got["gateway"].clone(),
            got["endpoint"].clone(),
            got["app"].clone(),
            got["user"].clone(),
            got["status"].clone()
        ),
        (
            json!("api"),
            json!("GetUser"),
            json!("dingdemointernal"),
            json!("me"),
            json!(200)
        )
    );
    assert_eq!(got["answer_body"]["nick"], "zhangsan");
    assert!(got.get("code").is_none(), "no code on a new-gateway success: {got}");
    let serialised = serde_json::to_string(&kept).unwrap_or_default();
    for secret in [user_token.as_str(), refresh.as_str(), "demo-internal-secret"] {
        assert!(!serialised.contains(secret), "{secret} leaked into the journal");
    }
}

#[tokio::test]
async fn fault_answers_show_with_the_rule_that_fired_and_counts_answer_called_n_times() {
    let fx = journaled().await;
    let token = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let rule =
        json!({"endpoint": "V2UserGetByMobile", "action": {"kind": "errcode", "errcode": -1}, "fire": {"next": 2}});
    let armed = fx.send(admin(Method::POST, "/_dingdir/faults", Some(&rule))).await;
    assert_eq!(armed.status, StatusCode::CREATED);
    for _ in 0..3 {
        fx.send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={token}"),
            "application/json",
            r#"{"mobile":"15000009144"}"#,
        ))
        .await;
    }
    let user_get = fx
        .send(sdk_get(
            "/v1.0/contact/users/nobody0000000000000000",
            Some("0123456789abcdef0123456789abcdef"),
        ))
        .await;
    assert_eq!(user_get.status, StatusCode::BAD_REQUEST, "an unknown token on GetUser");

    assert_eq!(count(&fx, "?endpoint=V2UserGetByMobile").await, 3);
    assert_eq!(count(&fx, "?endpoint=V2UserGetByMobile&code=-1").await, 2);
    assert_eq!(count(&fx, "?faulted=true").await, 2);
    assert_eq!(
        count(&fx, "?faulted=false").await,
        3,
        "the token, one getbymobile, GetUser"
    );
    assert_eq!(count(&fx, "?status=400").await, 1);
    assert_eq!(count(&fx, "?code=InvalidAuthentication").await, 1);
    let busy = entries(&fx, "?code=-1&limit=1").await;
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0]["fault"], json!({"id": 1, "kind": "errcode"}));
    assert_eq!(
        busy[0]["answer_body"],
        json!({"errcode": -1, "errmsg": "系统繁忙", "request_id": busy[0]["request_id"]})
    );
    // `after` reads on from a seq; `since_ms`/`until_ms` bound the time.
    let all = entries(&fx, "").await;
    let second = all[1]["seq"].as_u64().unwrap_or_default();
    assert_eq!(count(&fx, &format!("?after={second}")).await, 3);
    let t = all[0]["at_ms"].as_i64().unwrap_or_default();
    assert_eq!(count(&fx, &format!("?since_ms={t}")).await, 5);
    assert_eq!(count(&fx, &format!("?until_ms={t}")).await, 0);
}

#[tokio::test]
async fn clearing_and_reset_empty_it_and_the_sequence_goes_on() {
    let fx = journaled().await;
    fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let a = fx.send(admin(Method::DELETE, "/_dingdir/journal", None)).await;
    assert_api(&a, StatusCode::OK, json!({"cleared": 1}));
    assert_eq!(count(&fx, "").await, 0);
    fx.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(entries(&fx, "").await[0]["seq"], 2);
    let a = fx.send(admin(Method::POST, "/_dingdir/reset", None)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(count(&fx, "").await, 0);
}

#[tokio::test]
async fn the_ring_lets_the_oldest_go_and_says_how_many() {
    let fx = fixture_with(Setup {
        settings: Settings {
            journal: Some(crate::JournalLimits {
                max_entries: 3,
                max_bytes: 1 << 20,
            }),
            ..test_settings()
        },
        ..Setup::default()
    })
    .await;
    for _ in 0..5 {
        fx.send(community_get("/gettoken?appkey=dingdemointernal&appsecret=wrong"))
            .await;
    }
    let a = fx.send(admin(Method::GET, "/_dingdir/journal", None)).await;
    let seqs: Vec<u64> = a.json["entries"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["seq"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(seqs, [3, 4, 5]);
    assert_eq!(a.json["evicted"], 2);
    assert_eq!(count(&fx, "?code=40096").await, 3);
}

#[tokio::test]
async fn bad_filters_and_a_server_without_a_journal_are_answered_plainly() {
    let fx = journaled().await;
    for (query, message) in [
        (
            "?status=abc",
            "Failed to deserialize query string: status: invalid digit found in string",
        ),
        (
            "?nope=1",
            "Failed to deserialize query string: nope: unknown field `nope`",
        ),
    ] {
        let a = fx
            .send(admin(Method::GET, &format!("/_dingdir/journal{query}"), None))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(a.json["code"], "BadRequest");
        assert!(
            a.json["message"].as_str().unwrap_or("").starts_with(message),
            "{}",
            a.text()
        );
    }
    let off = fixture().await;
    for (method, path) in [
        (Method::GET, "/_dingdir/journal"),
        (Method::GET, "/_dingdir/journal/count"),
        (Method::GET, "/_dingdir/journal/follow"),
        (Method::DELETE, "/_dingdir/journal"),
    ] {
        let a = off.send(admin(method, path, None)).await;
        assert_api_error(
            &a,
            StatusCode::CONFLICT,
            json!({"code": "Disabled", "message": "the journal is off: start dingdir with --journal true", "requestid": RID}),
        );
    }
    let a = fx.send(request(Method::GET, "/_dingdir/journal", Body::empty())).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}
