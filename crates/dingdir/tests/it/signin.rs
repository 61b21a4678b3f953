//! The browser sign-in and the user tokens it leads to, driven over real HTTP: authorise page,
//! sign in, consent, redirect, code exchange, refresh, and every refusal.

use crate::harness::{Server, http};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

const DEMO_CORP: &str = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4";
pub(crate) const REDIRECT: &str = "http://127.0.0.1:3000/callback";

/// A browser-like client that does not follow redirects (the redirect URI is the app's, and
/// nothing serves it here).
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub(crate) fn authorize_url(
    server: &Server,
    client_id: &str,
    redirect: &str,
    response_type: &str,
    scope: &str,
) -> String {
    let q: Vec<String> = [
        ("redirect_uri", redirect),
        ("response_type", response_type),
        ("client_id", client_id),
        ("scope", scope),
        ("state", "st-42"),
        ("prompt", "consent"),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", encode(v)))
    .collect();
    server.url(&format!("/oauth2/auth?{}", q.join("&")))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of a hidden field on a page.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden field {name} in:\n{html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// What one sign-in attempt needs: the page's signed flow and the CSRF cookie.
pub(crate) struct Page {
    pub(crate) flow: String,
    pub(crate) csrf: String,
}

pub(crate) async fn open_sign_in(server: &Server, client_id: &str) -> Page {
    open_sign_in_at(&authorize_url(server, client_id, REDIRECT, "code", "openid corpid")).await
}

/// Opens the sign-in page at an authorise URL built elsewhere (by the client, by the CLI).
pub(crate) async fn open_sign_in_at(url: &str) -> Page {
    let r = browser().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let csrf = cookie
        .trim_start_matches("dingdir_csrf=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = r.text().await.unwrap();
    assert_eq!(hidden(&html, "csrf"), csrf, "the form carries the cookie's value");
    Page {
        flow: hidden(&html, "flow"),
        csrf,
    }
}

pub(crate) async fn sign_in(server: &Server, page: &Page, mobile: &str, password: &str) -> reqwest::Response {
    browser()
        .post(server.url("/oauth2/auth/signin"))
        .header(COOKIE, format!("dingdir_csrf={}", page.csrf))
        .form(&[
            ("flow", page.flow.as_str()),
            ("csrf", page.csrf.as_str()),
            ("mobile", mobile),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

pub(crate) async fn consent(server: &Server, csrf: &str, ticket: &str, decision: &str) -> reqwest::Response {
    browser()
        .post(server.url("/oauth2/auth/consent"))
        .header(COOKIE, format!("dingdir_csrf={csrf}"))
        .form(&[("ticket", ticket), ("csrf", csrf), ("decision", decision)])
        .send()
        .await
        .unwrap()
}

/// Signs zhangsan (the demo's password) in to `client_id`: the page, and the consent ticket the
/// consent page carries.
pub(crate) async fn zhangsan_ticket(server: &Server, client_id: &str) -> (Page, String) {
    let page = open_sign_in(server, client_id).await;
    let r = sign_in(server, &page, "15000009144", "demo-password").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let ticket = hidden(&html, "ticket");
    (page, ticket)
}

/// Signs zhangsan in from an authorise URL built elsewhere, approves, and returns the query
/// parameters of the redirect to the app's registered URI.
pub(crate) async fn sign_in_through(server: &Server, url: &str) -> std::collections::HashMap<String, String> {
    let page = open_sign_in_at(url).await;
    let r = sign_in(server, &page, "15000009144", "demo-password").await;
    assert_eq!(r.status(), 200);
    let ticket = hidden(&r.text().await.unwrap(), "ticket");
    let r = consent(server, &page.csrf, &ticket, "approve").await;
    assert_eq!(r.status(), 302);
    let location = reqwest::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(location.as_str().split('?').next(), Some(REDIRECT), "{location}");
    location.query_pairs().into_owned().collect()
}

/// The `code` of an approving consent's redirect.
pub(crate) fn code_in(consented: &reqwest::Response) -> String {
    let location = consented.headers()[LOCATION].to_str().unwrap();
    let query = location.split_once('?').map_or("", |(_, q)| q);
    let code = query.split('&').find_map(|kv| kv.strip_prefix("code="));
    code.unwrap_or_else(|| panic!("no code in {location}")).to_owned()
}

/// Signs zhangsan in to the internal demo app and returns the code from the redirect.
async fn code_for_zhangsan(server: &Server) -> String {
    let page = open_sign_in(server, "dingdemointernal").await;
    let r = sign_in(server, &page, "15000009144", "demo-password").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Demo Internal App") && html.contains("zhangsan") && html.contains("Demo Co"),
        "{html}"
    );
    let r = consent(server, &page.csrf, &hidden(&html, "ticket"), "approve").await;
    assert_eq!(r.status(), 302);
    let location = r.headers()[LOCATION].to_str().unwrap().to_owned();
    let query = location
        .strip_prefix(&format!("{REDIRECT}?"))
        .unwrap_or_else(|| panic!("{location}"));
    let params: Vec<(&str, &str)> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
    let code = params.iter().find(|(k, _)| *k == "code").unwrap().1.to_owned();
    assert_eq!(code.len(), 32);
    assert_eq!(
        params,
        vec![("code", code.as_str()), ("authCode", code.as_str()), ("state", "st-42")]
    );
    code
}

/// `POST /v1.0/oauth2/userAccessToken` with `body`: the status and the answer.
pub(crate) async fn user_token(server: &Server, body: Value) -> (u16, Value) {
    let r = http()
        .post(server.url("/v1.0/oauth2/userAccessToken"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn is_hex32(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[tokio::test]
async fn sign_in_consent_code_token_refresh_and_the_new_token_works() {
    let server = Server::dev(&[]);
    let code = code_for_zhangsan(&server).await;
    let exchange = json!({"clientId": "dingdemointernal", "clientSecret": "demo-internal-secret", "code": code, "grantType": "authorization_code"});
    let (status, body) = user_token(&server, exchange.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        is_hex32(&body["accessToken"]) && is_hex32(&body["refreshToken"]),
        "{body}"
    );
    assert_eq!(body["expireIn"], json!(7200));
    assert_eq!(body["corpId"], json!(DEMO_CORP));
    assert_eq!(body.as_object().unwrap().len(), 4);

    let (status, again) = user_token(&server, exchange).await;
    assert_eq!(status, 400, "a code is single-use");
    assert_eq!(again["code"], "invalidCode");

    let refresh = json!({"clientId": "dingdemointernal", "clientSecret": "demo-internal-secret", "refreshToken": body["refreshToken"], "grantType": "refresh_token"});
    let (status, refreshed) = user_token(&server, refresh.clone()).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_ne!(refreshed["accessToken"], body["accessToken"]);
    assert_ne!(refreshed["refreshToken"], body["refreshToken"]);
    let (status, spent) = user_token(&server, refresh).await;
    assert_eq!(
        (status, spent["code"].as_str()),
        (400, Some("invalidRefreshToken")),
        "a refresh token is single-use"
    );

    let me = server.get_me(refreshed["accessToken"].as_str().unwrap()).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["nick"], "zhangsan");
    assert_eq!(me["mobile"], "15000009144");
    assert_eq!(me["visitor"], json!(false));
}

#[tokio::test]
async fn scope_openid_alone_gives_no_corp_id() {
    let server = Server::dev(&[]);
    let r = browser()
        .get(authorize_url(&server, "dingdemointernal", REDIRECT, "code", "openid"))
        .send()
        .await
        .unwrap();
    let csrf = r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .trim_start_matches("dingdir_csrf=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = r.text().await.unwrap();
    let page = Page {
        flow: hidden(&html, "flow"),
        csrf,
    };
    let html = sign_in(&server, &page, "15000009144", "demo-password")
        .await
        .text()
        .await
        .unwrap();
    let r = consent(&server, &page.csrf, &hidden(&html, "ticket"), "approve").await;
    let code = code_in(&r);
    let (status, body) = user_token(
        &server,
        json!({"clientId": "dingdemointernal", "clientSecret": "demo-internal-secret", "code": code, "grantType": "authorization_code"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.get("corpId").is_none(), "{body}");
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_state() {
    let server = Server::dev(&[]);
    let (page, ticket) = zhangsan_ticket(&server, "dingdemointernal").await;
    let r = consent(&server, &page.csrf, &ticket, "deny").await;
    assert_eq!(r.status(), 302);
    assert_eq!(
        r.headers()[LOCATION],
        format!("{REDIRECT}?error=access_denied&state=st-42").as_str()
    );
}

#[tokio::test]
async fn bad_authorize_requests_show_an_error_page_and_never_redirect() {
    let server = Server::dev(&[]);
    let rows = [
        (
            "unknown client",
            authorize_url(&server, "dingnosuchapp", REDIRECT, "code", "openid"),
        ),
        (
            "unregistered redirect",
            authorize_url(
                &server,
                "dingdemointernal",
                "http://127.0.0.1:3000/evil",
                "code",
                "openid",
            ),
        ),
        (
            "bad response_type",
            authorize_url(&server, "dingdemointernal", REDIRECT, "token", "openid"),
        ),
        (
            "bad scope",
            authorize_url(&server, "dingdemointernal", REDIRECT, "code", "email"),
        ),
    ];
    for (what, url) in rows {
        let r = browser()
            .get(url)
            .header("accept-language", "en-US")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{what}");
        assert!(r.headers().get(LOCATION).is_none(), "{what}");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let request_id = r.headers()["x-acs-request-id"].to_str().unwrap().to_owned();
        let html = r.text().await.unwrap();
        assert!(html.contains(&request_id), "{what}: the page shows the request id");
        assert!(!html.contains("name=\"flow\""), "{what}: no sign-in form");
    }
}

#[tokio::test]
async fn sign_in_refusals_stay_on_the_page() {
    let server = Server::dev(&[]);
    let page = open_sign_in(&server, "dingdemointernal").await;

    let r = sign_in(&server, &page, "15000009144", "wrong").await;
    assert_eq!(r.status(), 401);
    assert!(
        r.text().await.unwrap().contains("name=\"password\""),
        "the form is shown again"
    );

    // zhouba is a member of Other Co only: an internal app signs in only its own corp's members.
    let r = sign_in(&server, &page, "13700000008", "demo-password").await;
    assert_eq!(r.status(), 403);

    // A form posted without the cookie's value is refused.
    let r = browser()
        .post(server.url("/oauth2/auth/signin"))
        .header(COOKIE, "dingdir_csrf=00000000000000000000000000000000")
        .form(&[
            ("flow", page.flow.as_str()),
            ("csrf", page.csrf.as_str()),
            ("mobile", "15000009144"),
            ("password", "demo-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = browser()
        .post(server.url("/oauth2/auth/signin"))
        .form(&[
            ("flow", page.flow.as_str()),
            ("csrf", page.csrf.as_str()),
            ("mobile", "15000009144"),
            ("password", "demo-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no cookie at all");

    // A tampered flow is refused.
    let mut tampered = page.flow.clone();
    tampered.replace_range(0..2, if tampered.starts_with("7b") { "5b" } else { "7b" });
    let r = sign_in(
        &server,
        &Page {
            flow: tampered,
            csrf: page.csrf.clone(),
        },
        "15000009144",
        "demo-password",
    )
    .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_slowed_down() {
    let server = Server::dev(&[]);
    let page = open_sign_in(&server, "dingdemointernal").await;
    for _ in 0..5 {
        assert_eq!(sign_in(&server, &page, "15532403240", "wrong").await.status(), 401);
    }
    // Even the right password waits now.
    assert_eq!(
        sign_in(&server, &page, "15532403240", "demo-password").await.status(),
        429
    );
    // Another account is not affected.
    assert_eq!(
        sign_in(&server, &page, "15000009144", "demo-password").await.status(),
        200
    );
    // After the wait (moved clock), the right password works again.
    server.advance_clock(2).await;
    assert_eq!(
        sign_in(&server, &page, "15532403240", "demo-password").await.status(),
        200
    );
}
