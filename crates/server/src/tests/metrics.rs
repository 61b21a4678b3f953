//! Metrics (`/_dingdir/metrics/prometheus`, `/_dingdir/metrics`): answers counted by endpoint,
//! gateway, status and DingTalk code, with the codes the answers carried; faults fired and
//! rate-limited calls counted; store calls and cache lookups shown; the JSON counters read from
//! the same registry; the metrics token grants the exposition and nothing else.

use super::*;

const PROMETHEUS: &str = "/_dingdir/metrics/prometheus";

async fn scrape(fx: &Fixture) -> String {
    let a = fx.send(admin(Method::GET, PROMETHEUS, None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    a.text()
}

/// The value of the sample named exactly `series` (name and labels), or 0 when absent.
fn value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |v| {
            v.parse().unwrap_or_else(|_| panic!("{series} is not a count: {v}"))
        })
}

#[tokio::test]
async fn answers_are_counted_by_endpoint_status_and_the_code_they_carried() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    for _ in 0..3 {
        let a = fx.send(sdk_get("/v1.0/contact/users/me", Some(&token))).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    }
    let a = fx.send(sdk_get("/v1.0/contact/users/me", Some("not-a-token"))).await;
    assert!(a.status.is_client_error(), "{}", a.text());
    let refused = a.status.as_u16();
    let code = a.json["code"].as_str().expect("a code").to_owned();
    let app = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let rule =
        json!({"endpoint": "V2UserGetByMobile", "action": {"kind": "errcode", "errcode": -1}, "fire": {"next": 2}});
    let armed = fx.send(admin(Method::POST, "/_dingdir/faults", Some(&rule))).await;
    assert_eq!(armed.status, StatusCode::CREATED, "{}", armed.text());
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(by_mobile(&fx, &app, "15000009144").await.json["errcode"].clone());
    }
    assert_eq!(codes, [json!(-1), json!(-1), json!(0)]);
    let unknown = fx.send(sdk_get("/v1.0/contact/nothing/here", Some(&token))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let text = scrape(&fx).await;
    let get_user = r#"endpoint="GetUser",gateway="api""#;
    assert_eq!(
        value(
            &text,
            &format!(r#"dingdir_requests_total{{{get_user},status="200",code=""}}"#)
        ),
        3,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            &format!(r#"dingdir_requests_total{{{get_user},status="{refused}",code="{code}"}}"#)
        ),
        1,
        "{text}"
    );
    let by_mobile = r#"endpoint="V2UserGetByMobile",gateway="oapi",status="200""#;
    assert_eq!(
        value(&text, &format!(r#"dingdir_requests_total{{{by_mobile},code="-1"}}"#)),
        2,
        "{text}"
    );
    assert_eq!(
        value(&text, &format!(r#"dingdir_requests_total{{{by_mobile},code="0"}}"#)),
        1,
        "{text}"
    );
    let unknown = r#"dingdir_requests_total{endpoint="-",gateway="api",status="404",code="InvalidAction.NotFound"}"#;
    assert_eq!(value(&text, unknown), 1, "{text}");
    assert_eq!(
        value(&text, r#"dingdir_faults_fired_total{kind="errcode"}"#),
        2,
        "{text}"
    );
    assert_eq!(value(&text, "dingdir_fault_rules"), 1, "{text}");
    assert_eq!(
        value(&text, r#"dingdir_request_duration_seconds_count{endpoint="GetUser"}"#),
        4,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"dingdir_request_duration_seconds_bucket{endpoint="GetUser",le="+Inf"}"#
        ),
        4,
        "{text}"
    );
    assert!(
        value(&text, r#"dingdir_cache_hits_total{cache="tokens"}"#) >= 2,
        "{text}"
    );
    assert!(
        value(&text, r#"dingdir_store_call_duration_seconds_count{call="token"}"#) >= 1,
        "{text}"
    );
    assert!(value(&text, "dingdir_store_reads_total") >= 1, "{text}");
    // Every family has its HELP and TYPE, and every sample line is `name{labels} value`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, v) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value in {line:?}"));
        assert!(v.parse::<f64>().is_ok(), "{line:?}");
        let name = series.split('{').next().unwrap_or_default();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|_| text.contains(&format!("# TYPE {} histogram", &name[..name.len() - s.len()])))
            })
            .unwrap_or(name);
        assert!(text.contains(&format!("# TYPE {family} ")), "no TYPE for {family}");
    }

    // The JSON counters are the same registry's: every answer off the admin API.
    let json = fx.send(admin(Method::GET, "/_dingdir/metrics", None)).await;
    let gateway_answers: u64 = text
        .lines()
        .filter(|l| l.starts_with("dingdir_requests_total{") && !l.contains(r#"gateway="admin""#))
        .map(|l| l.rsplit_once(' ').map_or(0, |(_, v)| v.parse::<u64>().unwrap_or(0)))
        .sum();
    assert_eq!(json.json["requests"], json!(gateway_answers), "{}", json.text());
}

#[tokio::test]
async fn rate_limited_calls_are_counted_by_endpoint() {
    let fx = fixture().await;
    let app = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let now = fx.state.service.now();
    fx.clock
        .advance_ms((now / 60_000 + 1) * 60_000 - now)
        .expect("a small step");
    let limits = json!({"limits": [{"endpoint": "V2UserGetByMobile", "limit": 1, "per": "minute"}]});
    let set = fx
        .send(admin(Method::PUT, "/_dingdir/rate-limits", Some(&limits)))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(by_mobile(&fx, &app, "15000009144").await.json["errcode"], 0);
    for _ in 0..2 {
        assert_ne!(by_mobile(&fx, &app, "15000009144").await.json["errcode"], 0);
    }
    let text = scrape(&fx).await;
    assert_eq!(
        value(&text, r#"dingdir_rate_limited_total{endpoint="V2UserGetByMobile"}"#),
        2,
        "{text}"
    );
    assert_eq!(value(&text, "dingdir_rate_limits"), 1, "{text}");
}

#[tokio::test]
async fn the_metrics_token_grants_the_exposition_and_nothing_else() {
    let settings = Settings {
        metrics_token: Some("scrape-me".into()),
        ..test_settings()
    };
    let fx = fixture_with(Setup {
        settings,
        ..Setup::default()
    })
    .await;
    let with = |path: &str, token: Option<&str>| {
        let b = Request::builder().method(Method::GET).uri(path);
        let b = match token {
            Some(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
            None => b,
        };
        b.body(Body::empty()).expect("a valid request")
    };
    let a = fx.send(with(PROMETHEUS, Some("scrape-me"))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.text().contains("# TYPE dingdir_requests_total counter"));
    let a = fx.send(with(PROMETHEUS, Some(ADMIN_TOKEN))).await;
    assert_eq!(a.status, StatusCode::OK, "the admin token works too");
    for (path, token) in [
        (PROMETHEUS, None),
        (PROMETHEUS, Some("wrong")),
        ("/_dingdir/metrics", Some("scrape-me")),
        ("/_dingdir/journal", Some("scrape-me")),
    ] {
        let a = fx.send(with(path, token)).await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{path} with {token:?}: {}",
            a.text()
        );
        assert!(a.header("content-type").starts_with("application/json"));
    }
}
