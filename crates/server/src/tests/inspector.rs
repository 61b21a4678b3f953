//! The inspector page (`/_dingdir/inspector`): signing in once with the admin token gives a
//! browser a cookie that reads the admin API and changes nothing; the glance counts the
//! directory. `tests/compat/inspector.js` drives the page itself in a real browser.

use super::*;

fn get_with_cookie(path: &str, cookie: Option<&str>) -> Request<Body> {
    let b = Request::builder().method(Method::GET).uri(path);
    let b = match cookie {
        Some(c) => b.header(header::COOKIE, c),
        None => b,
    };
    b.body(Body::empty()).expect("a valid request")
}

fn sign_in(token: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/_dingdir/inspector")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}")))
        .expect("a valid request")
}

#[tokio::test]
async fn signing_in_once_gives_a_cookie_that_reads_and_never_writes() {
    let fx = fixture().await;
    let form = fx.send(get_with_cookie("/_dingdir/inspector", None)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.header("content-type"), "text/html; charset=utf-8");
    assert!(
        form.text()
            .contains(r#"<form method="post" action="/_dingdir/inspector">"#),
        "{}",
        form.text()
    );
    assert!(form.header("content-security-policy").contains("script-src 'self'"));

    let wrong = fx.send(sign_in("not-it")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text().contains(r#"role="alert""#), "{}", wrong.text());
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());

    let ok = fx.send(sign_in(ADMIN_TOKEN)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert_eq!(ok.header("location"), "/_dingdir/inspector");
    let set = ok.header("set-cookie").to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/_dingdir/", "Max-Age=2592000"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(
        !set.contains(ADMIN_TOKEN),
        "the cookie holds a digest, not the token: {set}"
    );
    let cookie = set.split(';').next().expect("a name=value").to_owned();

    let page = fx.send(get_with_cookie("/_dingdir/inspector", Some(&cookie))).await;
    assert!(page.text().contains(r#"<table id="journal""#), "{}", page.text());
    for path in ["/_dingdir/glance", "/_dingdir/faults", "/_dingdir/rate-limits"] {
        let a = fx.send(get_with_cookie(path, Some(&cookie))).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text());
    }
    // A write with the cookie alone is refused, and so is a read with a forged cookie.
    let write = fx
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri("/_dingdir/faults")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED, "{}", write.text());
    let forged = fx
        .send(get_with_cookie("/_dingdir/glance", Some("dingdir_inspector=00")))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    // The cookie carries its issue time under the HMAC: older than 30 days, moved, or made with
    // another token, it is refused.
    let now = {
        use dingdir_core::clock::Clock as _;
        u64::try_from(dingdir_core::clock::SystemClock.now_ms() / 1000).unwrap_or(0)
    };
    let issued: u64 = cookie
        .split('.')
        .nth(1)
        .and_then(|t| t.parse().ok())
        .expect("v1.<issued>.<tag>");
    assert!(now.abs_diff(issued) < 60, "{cookie}");
    let old = crate::gateway::admin::inspector::session_at(ADMIN_TOKEN, now - 31 * 24 * 3600);
    let moved = cookie.replacen(&issued.to_string(), &(issued + 1).to_string(), 1);
    let other = crate::gateway::admin::inspector::session_at("another token", now);
    let recent = crate::gateway::admin::inspector::session_at(ADMIN_TOKEN, now - 29 * 24 * 3600);
    for (value, want) in [
        (format!("dingdir_inspector={old}"), StatusCode::UNAUTHORIZED),
        (moved, StatusCode::UNAUTHORIZED),
        (format!("dingdir_inspector={other}"), StatusCode::UNAUTHORIZED),
        (format!("dingdir_inspector={recent}"), StatusCode::OK),
    ] {
        let a = fx.send(get_with_cookie("/_dingdir/glance", Some(&value))).await;
        assert_eq!(a.status, want, "{value}");
    }
    let script = fx.send(get_with_cookie("/_dingdir/inspector/app.js", None)).await;
    assert_eq!(script.header("content-type"), "text/javascript; charset=utf-8");
    assert!(
        !script.text().contains("innerHTML"),
        "values reach the page as text only"
    );
}

#[tokio::test]
async fn the_glance_counts_corps_members_departments_apps_and_people() {
    let fx = fixture().await;
    let a = fx.send(admin(Method::GET, "/_dingdir/glance", None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let demo = a.json["corps"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == DEMO_CORP))
        .cloned()
        .unwrap_or_else(|| panic!("no demo corp in {}", a.text()));
    assert_eq!(demo["name"], "Demo Co");
    let directory = fx.state.service.directory().await.expect("the directory");
    let members = directory
        .people
        .iter()
        .flat_map(|(_, members)| members)
        .filter(|m| {
            m.membership.corp_id.0 == DEMO_CORP && m.membership.status == dingdir_core::model::MemberStatus::Active
        })
        .count();
    assert_eq!(demo["members"], json!(members));
    assert_eq!(a.json["people"], json!(directory.people.len()));
    assert_eq!(a.json["corp_count"], json!(directory.corps.len()));
    assert_eq!(a.json["app_count"], json!(directory.apps.len()));
    let depts = directory
        .departments
        .iter()
        .filter(|d| d.corp_id.0 == DEMO_CORP)
        .count();
    assert_eq!(demo["departments"], json!(depts));
    let internal = a.json["apps"]
        .as_array()
        .and_then(|apps| apps.iter().find(|x| x["key"] == "dingdemointernal"))
        .cloned()
        .expect("dingdemointernal");
    assert_eq!(internal["kind"], "internal");
    assert_eq!(internal["corp"], DEMO_CORP);
}
