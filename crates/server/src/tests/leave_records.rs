//! `GET /v1.0/contact/empLeaveRecords` (docs/wire/directory-read.md §2.16): departed members in
//! a time window, oldest first, paged by `nextToken`; the departure times seeds give and the ones
//! the store records; every parameter error. Every expected body is written out.

use super::*;

const PATH: &str = "/v1.0/contact/empLeaveRecords";

async fn internal(fx: &Fixture) -> String {
    fx.app_token("dingdemointernal", "demo-internal-secret").await
}

async fn records(fx: &Fixture, token: &str, query: &str) -> Answer {
    fx.send(sdk_get(&format!("{PATH}?{query}"), Some(token))).await
}

fn bad(name: &str) -> Value {
    json!({"code": "invalidParameter.param.invalid", "message": format!("入参错误：{name}"), "requestid": RID})
}

fn wangwu() -> Value {
    json!({
        "userId": "wangwu",
        "name": "王五",
        "stateCode": "86",
        "mobile": "13800000001",
        "leaveTime": "2026-11-02T01:30:00Z",
        "leaveReason": "leave",
    })
}

#[tokio::test]
async fn the_demo_lists_wangwu_in_a_window_that_holds_his_departure() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let a = records(
        &fx,
        &token,
        "startTime=2026-11-01T00:00:00Z&endTime=2026-12-01T00:00:00Z&nextToken=0&maxResults=50",
    )
    .await;
    assert_api(&a, StatusCode::OK, json!({"records": [wangwu()]}));
    // The Go SDK's examples send times without a zone: UTC. The end is included.
    let a = records(
        &fx,
        &token,
        "startTime=2026-11-02T01:30:00&endTime=2026-11-02T01:30:00&maxResults=1",
    )
    .await;
    assert_api(&a, StatusCode::OK, json!({"records": [wangwu()]}));
    // A window before it, and one after it, hold nothing.
    let a = records(
        &fx,
        &token,
        "startTime=2026-10-01T00:00:00Z&endTime=2026-11-02T01:29:59Z&maxResults=50",
    )
    .await;
    assert_api(&a, StatusCode::OK, json!({"records": []}));
    let a = records(
        &fx,
        &token,
        "startTime=2026-11-02T09:30:01%2B08:00&endTime=2026-12-01T00:00:00Z&maxResults=50",
    )
    .await;
    assert_api(&a, StatusCode::OK, json!({"records": []}));
}

/// Demo Co gains seven members who left at 10:00, 10:00, 11:00, … on 2026-11-10, plus one active.
fn departures_seed() -> String {
    let mut s = String::from("people:\n");
    for (i, (hour, reason)) in [
        (10, "delete"),
        (10, "oapi"),
        (11, "cancel"),
        (12, "unknown"),
        (13, "leave"),
        (14, "delete"),
        (15, "leave"),
    ]
    .iter()
    .enumerate()
    {
        let at = 1_794_304_800_000_i64 + (hour - 10) * 3_600_000;
        s.push_str(&format!(
            "  - id: gone{i}\n    nick: gone{i}\n    mobile: \"1370000000{i}\"\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: gone{i}, status: departed, left_at: {at}, leave_reason: {reason} }}\n"
        ));
    }
    s.push_str(&format!("  - id: stays\n    nick: stays\n    mobile: \"13700000099\"\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: stays }}\n"));
    s
}

#[tokio::test]
async fn pages_list_every_departure_once_by_time_then_userid() {
    let store = seeded_store().await;
    seed::apply_text(store.as_ref(), "gone.yaml", &departures_seed())
        .await
        .unwrap();
    let fx = fixture_with(Setup {
        store: Some(store),
        ..Setup::default()
    })
    .await;
    let token = internal(&fx).await;
    let window = "startTime=2026-11-10T00:00:00Z&endTime=2026-11-11T00:00:00Z&maxResults=3";
    let mut seen = Vec::new();
    let mut token_param = String::from("0");
    for page in 0..5 {
        let a = records(&fx, &token, &format!("{window}&nextToken={token_param}")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        for r in a.json["records"].as_array().unwrap() {
            seen.push((
                r["userId"].as_str().unwrap().to_owned(),
                r["leaveTime"].as_str().unwrap().to_owned(),
                r["leaveReason"].as_str().unwrap().to_owned(),
            ));
        }
        match a.json.get("nextToken") {
            Some(Value::String(t)) => token_param = t.clone(),
            None => {
                assert_eq!(page, 2, "the last page is the third");
                break;
            }
            other => panic!("nextToken {other:?}"),
        }
    }
    let want: Vec<(String, String, String)> = [
        ("gone0", "10", "delete"),
        ("gone1", "10", "oapi"),
        ("gone2", "11", "cancel"),
        ("gone3", "12", "unknown"),
        ("gone4", "13", "leave"),
        ("gone5", "14", "delete"),
        ("gone6", "15", "leave"),
    ]
    .iter()
    .map(|(u, h, r)| ((*u).to_owned(), format!("2026-11-10T{h}:00:00Z"), (*r).to_owned()))
    .collect();
    assert_eq!(seen, want);
    // One record a page: the page's whole body.
    let a = records(
        &fx,
        &token,
        "startTime=2026-11-10T10:00:00Z&endTime=2026-11-10T10:00:00Z&maxResults=1",
    )
    .await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({
            "nextToken": a.json["nextToken"].clone(),
            "records": [{"userId": "gone0", "name": "gone0", "stateCode": "86", "mobile": "13700000000", "leaveTime": "2026-11-10T10:00:00Z", "leaveReason": "delete"}],
        }),
    );
    assert!(a.json["nextToken"].is_string(), "{}", a.text());
}

#[tokio::test]
async fn a_departure_without_a_time_is_stamped_once_and_kept_by_later_applies() {
    let store = seeded_store().await;
    let active = format!(
        "people:\n  - id: leaver\n    nick: leaver\n    mobile: \"13700000088\"\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: leaver }}\n"
    );
    let gone = format!(
        "people:\n  - id: leaver\n    nick: leaver\n    mobile: \"13700000088\"\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: leaver, status: departed }}\n"
    );
    seed::apply_text(store.as_ref(), "a.yaml", &active).await.unwrap();
    // The departure is dated by the applying clock: 2026-11-20T08:00:00Z.
    let first = 1_795_161_600_000;
    seed::apply_text_at(store.as_ref(), "b.yaml", &gone, first)
        .await
        .unwrap();
    // Applying the same departure later keeps the recorded date.
    seed::apply_text_at(store.as_ref(), "b.yaml", &gone, first + 86_400_000)
        .await
        .unwrap();
    let fx = fixture_with(Setup {
        store: Some(store.clone()),
        ..Setup::default()
    })
    .await;
    let token = internal(&fx).await;
    let a = records(
        &fx,
        &token,
        "startTime=2026-11-20T00:00:00Z&endTime=2026-11-22T00:00:00Z&maxResults=50",
    )
    .await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({"records": [{"userId": "leaver", "name": "leaver", "stateCode": "86", "mobile": "13700000088",
                            "leaveTime": "2026-11-20T08:00:00Z", "leaveReason": "delete"}]}),
    );
    // The export writes the date and reason out, so it applies back unchanged.
    let exported = seed::export(&store.directory().await.unwrap());
    let leaver = exported
        .people
        .iter()
        .find(|p| p.id.as_deref() == Some("leaver"))
        .expect("leaver exported");
    let m = &leaver.memberships[0];
    assert_eq!(
        (m.left_at, m.leave_reason),
        (Some(first), Some(dingdir_core::model::LeaveReason::Delete))
    );
}

#[tokio::test]
async fn every_bad_parameter_is_named() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let window = "startTime=2026-11-01T00:00:00Z&endTime=2026-12-01T00:00:00Z";
    for (query, name) in [
        ("maxResults=10".to_owned(), "startTime"),
        ("startTime=&maxResults=10".to_owned(), "startTime"),
        ("startTime=yesterday&maxResults=10".to_owned(), "startTime"),
        (window.to_owned(), "maxResults"),
        (format!("{window}&maxResults=0"), "maxResults"),
        (format!("{window}&maxResults=51"), "maxResults"),
        (format!("{window}&maxResults=ten"), "maxResults"),
        (
            "startTime=2026-11-01T00:00:00Z&endTime=2026-10-01T00:00:00Z&maxResults=10".to_owned(),
            "endTime",
        ),
        (
            "startTime=2024-01-01T00:00:00Z&endTime=2025-01-02T00:00:00Z&maxResults=10".to_owned(),
            "endTime",
        ),
        (
            "startTime=2026-11-01T00:00:00Z&endTime=later&maxResults=10".to_owned(),
            "endTime",
        ),
        // Without an end, the start must lie within the last 365 days.
        ("startTime=2020-01-01T00:00:00Z&maxResults=10".to_owned(), "startTime"),
        (
            format!("{window}&maxResults=10&nextToken=DCCD7A656FFA6F07"),
            "nextToken",
        ),
    ] {
        let a = records(&fx, &token, &query).await;
        assert_api_error(&a, StatusCode::BAD_REQUEST, bad(name));
    }
}

#[tokio::test]
async fn only_an_internal_app_token_with_contact_common_read_may_list() {
    let fx = fixture().await;
    let query = "startTime=2026-11-01T00:00:00Z&endTime=2026-12-01T00:00:00Z&maxResults=10";
    let denied = json!({
        "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        "message": "没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp/add-api-permission (Contact.Common.Read)",
        "requestid": RID,
        "accessdenieddetail": {"requiredScopes": ["Contact.Common.Read"]},
    });
    let readonly = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    assert_api_error(
        &records(&fx, &readonly, query).await,
        StatusCode::FORBIDDEN,
        denied.clone(),
    );
    let user = fx.user_token("dingdemointernal", "15000009144").await;
    assert_api_error(&records(&fx, &user, query).await, StatusCode::FORBIDDEN, denied.clone());
    let suite = fx.corp_token(OTHER_CORP).await;
    assert_api_error(&records(&fx, &suite, query).await, StatusCode::FORBIDDEN, denied);
    let a = fx.send(sdk_get(&format!("{PATH}?{query}"), None)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    assert_eq!(a.json["code"], "AuthenticationFailed.MissingParameter");
}
