//! `dingdir-client` against the real binary: every call, every typed error, and the app-token
//! manager's single flight, refresh ahead of expiry, one renewal on a token error and bounded
//! retries when busy. Token requests are counted by a small reverse proxy in front of the server
//! (the server keeps no counter); a stub server plays the refusals the real one cannot be made to
//! repeat. Also `dingdir call`, the CLI on top of the client.

use crate::harness::{Server, run};
use dingdir_client::proto::ids::{CorpId, UnionId};
use dingdir_client::{
    AppCredentials, AppTokenManager, AuthorizeParams, Client, Error, Gateway, ManualClock, RetryPolicy,
};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const DEMO_CORP: &str = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4";
const OTHER_CORP: &str = "ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01";
const REDIRECT: &str = "http://127.0.0.1:3000/callback";
const TOKEN_API: &str = "POST /v1.0/oauth2/accessToken";
const TOKEN_OAPI: &str = "GET /gettoken";
const BY_MOBILE: &str = "POST /topapi/v2/user/getbymobile";

fn internal() -> AppCredentials {
    AppCredentials::new("dingdemointernal", "demo-internal-secret")
}

fn client_at(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Retries that do not make a test wait.
fn quick(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    }
}

async fn advance_server_clock(server: &Server, secs: u64) {
    server.advance_clock(secs).await;
}

async fn mint_user_token(server: &Server, app_key: &str) -> String {
    server.mint_user_token(app_key, "15000009144").await["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn is_api_request_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && s.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

// ---------------------------------------------------------------------------------------------
// A little HTTP/1.1, enough for the counting proxy and the stub: requests with Content-Length
// bodies (what reqwest sends for JSON), several per connection.

/// Reads one request: its raw bytes, its request line, and its body. `None` at end of stream.
async fn read_request<R: AsyncBufRead + Unpin>(r: &mut R) -> Option<(Vec<u8>, String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut request_line = String::new();
    let mut length = 0usize;
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if request_line.is_empty() {
            request_line = text;
            continue;
        }
        if text.is_empty() {
            break;
        }
        let (name, value) = text.split_once(':').unwrap_or((&text, ""));
        let name = name.trim().to_ascii_lowercase();
        assert_ne!(
            name, "transfer-encoding",
            "the test proxy reads Content-Length bodies only"
        );
        if name == "content-length" {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).await.ok()?;
    raw.extend_from_slice(&body);
    Some((raw, request_line, body))
}

/// "METHOD /path" of a request line, without the query.
fn route(request_line: &str) -> String {
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    format!("{method} {}", target.split('?').next().unwrap_or_default())
}

/// Every request seen, as "METHOD /path".
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, route: String) -> usize {
        let mut seen = self.0.lock().unwrap();
        let nth = seen.iter().filter(|r| **r == route).count();
        seen.push(route);
        nth
    }

    fn count(&self, route: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|r| *r == route).count()
    }
}

/// A reverse proxy in front of a dingdir server that counts the requests passing through.
struct CountingProxy {
    base: String,
    seen: Seen,
}

impl CountingProxy {
    async fn start(server: &Server) -> Self {
        let upstream = server.base.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Seen::default();
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = TcpStream::connect(&upstream).await.unwrap();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let (client_read, mut client_write) = client.into_split();
                    let (mut upstream_read, mut upstream_write) = upstream.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
                    });
                    let mut client_read = BufReader::new(client_read);
                    while let Some((raw, line, _)) = read_request(&mut client_read).await {
                        counter.push(route(&line));
                        if upstream_write.write_all(&raw).await.is_err() {
                            break;
                        }
                    }
                    let _ = upstream_write.shutdown().await;
                });
            }
        });
        Self { base, seen }
    }
}

/// A scripted server: `answer(route, n)` gives the status and JSON body of the `n`th (0-based)
/// request to `route`.
type Script = Arc<dyn Fn(&str, usize) -> (u16, String) + Send + Sync>;

struct Stub {
    base: String,
    seen: Seen,
}

impl Stub {
    async fn start(script: impl Fn(&str, usize) -> (u16, String) + Send + Sync + 'static) -> Self {
        let script: Script = Arc::new(script);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Seen::default();
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (script, log) = (script.clone(), log.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut read = BufReader::new(read);
                    while let Some((_, line, _)) = read_request(&mut read).await {
                        let route = route(&line);
                        let nth = log.push(route.clone());
                        let (status, body) = script(&route, nth);
                        let head = format!(
                            "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        if write.write_all(head.as_bytes()).await.is_err()
                            || write.write_all(body.as_bytes()).await.is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        Self { base, seen }
    }
}

fn gettoken_ok(n: usize) -> (u16, String) {
    (
        200,
        json!({"errcode": 0, "access_token": format!("stub-token-{n}"), "errmsg": "ok", "expires_in": 7200})
            .to_string(),
    )
}

fn access_token_ok(n: usize) -> (u16, String) {
    (
        200,
        json!({"accessToken": format!("stub-token-{n}"), "expireIn": 7200}).to_string(),
    )
}

fn unknown_route() -> (u16, String) {
    (
        404,
        json!({"code": "InvalidAction.NotFound", "message": "stub", "requestid": "STUB"}).to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// Every call against the real server, with its typed errors.

#[tokio::test]
async fn client_app_tokens_from_both_gateways_are_one_token() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let api = client.get_access_token(&internal()).await.unwrap();
    let oapi = client.get_token(&internal()).await.unwrap();
    assert_eq!(api.access_token.len(), 32);
    assert_eq!(api.access_token, oapi.access_token, "one app, one token while valid");
    assert_eq!((api.expire_in, oapi.expires_in, oapi.errcode), (7200, 7200, 0));
    for gateway in [Gateway::Api, Gateway::Oapi] {
        let t = client.app_token(&internal(), gateway).await.unwrap();
        assert_eq!(
            (t.access_token.as_str(), t.expires_in),
            (api.access_token.as_str(), 7200)
        );
    }
}

#[tokio::test]
async fn client_bad_app_secret_is_typed_per_gateway() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let bad = AppCredentials::new("dingdemointernal", "wrong");
    let e = client.get_access_token(&bad).await.unwrap_err();
    let Error::Api {
        status,
        code,
        message,
        request_id,
        required_scopes,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((*status, code.as_str()), (400, "invalidClientIdOrSecret"));
    assert_eq!(message, "无效的clientId或者clientSecret");
    assert!(is_api_request_id(request_id), "{request_id}");
    assert!(required_scopes.is_empty());
    assert!(!e.is_token_invalid() && !e.is_not_found() && !e.is_permission_denied() && !e.is_system_busy());

    let e = client.get_token(&bad).await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Oapi {
                errcode: 40096,
                sub_code: None,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_token_invalid());
    assert!(!format!("{e:?}{e}").contains("wrong"), "the secret is not in the error");
}

#[tokio::test]
async fn client_corp_tokens_are_new_each_time_and_refusals_are_typed() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let suite = AppCredentials::new("dingdemosuite", "demo-suite-secret");
    let corp = CorpId::from(DEMO_CORP);
    let first = client
        .get_corp_access_token(&suite, &corp, "demo-suite-ticket")
        .await
        .unwrap();
    let second = client
        .get_corp_access_token(&suite, &CorpId::from(OTHER_CORP), "demo-suite-ticket")
        .await
        .unwrap();
    let third = client
        .get_corp_access_token(&suite, &corp, "demo-suite-ticket")
        .await
        .unwrap();
    assert_eq!(first.expire_in, 7200);
    assert_ne!(first.access_token, second.access_token);
    assert_ne!(first.access_token, third.access_token, "a corp token is new every time");

    let e = client
        .get_corp_access_token(&suite, &corp, "wrong-ticket")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidSuiteTicket"),
        "{e:?}"
    );
    let stranger = CorpId::from("ding00000000000000000000000000000000");
    let e = client
        .get_corp_access_token(&suite, &stranger, "demo-suite-ticket")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidAuthInfo"),
        "{e:?}"
    );
    let e = client
        .get_corp_access_token(&internal(), &corp, "demo-suite-ticket")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidSuiteKey"),
        "an internal app is no suite: {e:?}"
    );

    // getbymobile is for internal apps: a corp token is refused as a permission error.
    let e = client
        .get_by_mobile(&first.access_token, "15000009144", false)
        .await
        .unwrap_err();
    assert!(e.is_permission_denied(), "{e:?}");
}

/// The value of a hidden form field on a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in:\n{html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Drives the browser part of the sign-in from `url` (zhangsan approves) and returns the
/// redirect's query parameters.
async fn sign_in_through(server: &Server, url: &str) -> HashMap<String, String> {
    let browser = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "the authorize URL the client built is accepted");
    let csrf = r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .trim_start_matches("dingdir_csrf=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = r.text().await.unwrap();
    let html = browser
        .post(server.url("/oauth2/auth/signin"))
        .header(COOKIE, format!("dingdir_csrf={csrf}"))
        .form(&[
            ("flow", hidden(&html, "flow").as_str()),
            ("csrf", csrf.as_str()),
            ("mobile", "15000009144"),
            ("password", "demo-password"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = browser
        .post(server.url("/oauth2/auth/consent"))
        .header(COOKIE, format!("dingdir_csrf={csrf}"))
        .form(&[
            ("ticket", hidden(&html, "ticket").as_str()),
            ("csrf", csrf.as_str()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = reqwest::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(location.as_str().split('?').next(), Some(REDIRECT), "{location}");
    location.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn client_sign_in_builds_the_url_exchanges_the_code_refreshes_and_gets_me() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let url = client.authorize_url(&AuthorizeParams::new("dingdemointernal", REDIRECT, "st-client 1"));
    assert!(url.as_str().starts_with(&server.url("/oauth2/auth?")), "{url}");
    let back = sign_in_through(&server, url.as_str()).await;
    assert_eq!(back["state"], "st-client 1", "state comes back as sent");
    assert_eq!(back["code"], back["authCode"]);

    let token = client.user_token_from_code(&internal(), &back["code"]).await.unwrap();
    assert_eq!(token.corp_id.as_deref(), Some(DEMO_CORP));
    assert_eq!(token.expire_in, 7200);
    let e = client
        .user_token_from_code(&internal(), &back["code"])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidCode"),
        "a code is single-use: {e:?}"
    );

    let refreshed = client
        .refresh_user_token(&internal(), &token.refresh_token)
        .await
        .unwrap();
    assert_ne!(refreshed.access_token, token.access_token);
    let e = client
        .refresh_user_token(&internal(), &token.refresh_token)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidRefreshToken"),
        "{e:?}"
    );
    let e = client
        .user_token_from_code(
            &AppCredentials::new("dingdemointernal", "wrong"),
            "0123456789abcdef0123456789abcdef",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidClientIdOrSecret"),
        "{e:?}"
    );

    let me = client.get_me(&refreshed.access_token).await.unwrap();
    assert_eq!(me.nick.as_deref(), Some("zhangsan"));
    assert_eq!(me.mobile.as_deref(), Some("15000009144"));
    assert_eq!(me.state_code.as_deref(), Some("86"));
    assert!(!me.visitor);
    let union_id = UnionId::from(me.union_id.clone().unwrap());
    let by_id = client.get_user(&refreshed.access_token, &union_id).await.unwrap();
    assert_eq!(by_id, me, "`me` and the caller's own unionId are the same user");
}

#[tokio::test]
async fn client_get_user_errors_are_typed() {
    let server = Server::dev(&["--token-ttl", "60"]);
    let client = client_at(&server.base);
    let token = mint_user_token(&server, "dingdemointernal").await;

    let e = client
        .get_user(&token, &UnionId::from("nosuchunionid00000000000"))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert_eq!(e.status(), Some(404));
    let id = e.request_id().unwrap().to_owned();
    assert!(is_api_request_id(&id), "{id}");
    assert_eq!(
        e.to_string(),
        format!("404 invalidParameter.user.notFound: 找不到该用户 (request id {id})")
    );

    // An id with characters that would leave the path segment stays in it (and is not found).
    let e = client
        .get_user(&token, &UnionId::from("../../gettoken?x=1"))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");

    let e = client.get_me("0123456789abcdef0123456789abcdef").await.unwrap_err();
    assert!(e.is_token_invalid(), "{e:?}");
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "InvalidAuthentication"),
        "{e:?}"
    );

    let e = client.get_me("").await.unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "AuthenticationFailed.MissingParameter"),
        "{e:?}"
    );
    assert!(!e.is_token_invalid(), "a missing token is not a stale one");

    let app_token = client.get_access_token(&internal()).await.unwrap().access_token;
    let e = client.get_me(&app_token).await.unwrap_err();
    assert!(e.is_permission_denied(), "an app token on a user API: {e:?}");
    assert_eq!(e.status(), Some(403));
    assert_eq!(e.required_scopes(), ["Contact.User.Read".to_owned()]);
    assert!(e.to_string().contains("required scopes: Contact.User.Read"), "{e}");

    advance_server_clock(&server, 61).await;
    let e = client.get_me(&token).await.unwrap_err();
    assert!(e.is_token_invalid(), "an expired user token: {e:?}");
}

#[tokio::test]
async fn client_get_by_mobile_answers_and_errors_are_typed() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let token = client.get_token(&internal()).await.unwrap().access_token;

    let plain = client.get_by_mobile(&token, "15000009144", false).await.unwrap();
    assert_eq!(plain.result.userid.as_deref(), Some("zhangsan"));
    assert!(plain.result.exclusive_account_userid_list.is_empty());
    assert_eq!(plain.request_id.len(), 13);
    let wide = client.get_by_mobile(&token, "15000009144", true).await.unwrap();
    assert_eq!(wide.result.exclusive_account_userid_list, ["zhaoliu_ex".to_owned()]);
    let foreign = client.get_by_mobile(&token, "+852-91234567", false).await.unwrap();
    assert_eq!(foreign.result.userid.as_deref(), Some("chanxm"));

    // (mobile, errcode)
    for (mobile, errcode) in [
        ("13999999999", 60121),
        ("13800000001", 60121), // departed
        ("12ab", 40104),
        ("", 400002),
    ] {
        let e = client.get_by_mobile(&token, mobile, false).await.unwrap_err();
        assert!(
            matches!(&e, Error::Oapi { errcode: c, sub_code: None, request_id: Some(_), .. } if *c == errcode),
            "{mobile:?}: {e:?}"
        );
        assert_eq!(e.is_not_found(), errcode == 60121, "{mobile:?}");
    }

    let e = client
        .get_by_mobile("0123456789abcdef0123456789abcdef", "15000009144", false)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Oapi { errcode: 88, sub_code: Some(s), .. } if s == "40014"),
        "{e:?}"
    );
    assert!(e.is_token_invalid());

    let user_token = mint_user_token(&server, "dingdemointernal").await;
    let e = client
        .get_by_mobile(&user_token, "15000009144", false)
        .await
        .unwrap_err();
    assert!(e.is_token_invalid(), "a user token is no app token here: {e:?}");

    let readonly = client
        .get_token(&AppCredentials::new("dingdemoreadonly", "demo-readonly-secret"))
        .await
        .unwrap()
        .access_token;
    let e = client.get_by_mobile(&readonly, "15000009144", false).await.unwrap_err();
    assert!(
        matches!(&e, Error::Oapi { errcode: 88, sub_code: Some(s), sub_msg: Some(m), .. } if s == "60011" && m.contains("qyapi_get_member_by_mobile")),
        "{e:?}"
    );
    assert!(e.is_permission_denied());
}

/// Takes the server's only in-flight slot (`--max-in-flight 1`) with a getbymobile whose body is
/// held back. `Expect: 100-continue` makes the server say when the handler reads the body, so
/// the slot is surely taken when this returns.
async fn hold_the_only_slot(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /topapi/v2/user/getbymobile HTTP/1.1\r\nHost: oapi.dingtalk.com\r\n\
              Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    let read = async {
        while !got.ends_with(b"\r\n\r\n") {
            got.push(stream.read_u8().await.unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.unwrap();
    assert!(
        got.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    stream
}

/// Sends the held body and reads the answer, which frees the slot.
async fn release_the_slot(mut stream: TcpStream) {
    stream.write_all(b"{}").await.unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
}

#[tokio::test]
async fn client_system_busy_is_typed_on_both_gateways_and_retried_boundedly() {
    let server = Server::dev(&["--max-in-flight", "1", "--store-timeout-ms", "60000"]);
    let client = client_at(&server.base);
    let proxy = CountingProxy::start(&server).await;
    let manager = AppTokenManager::builder(client_at(&proxy.base), internal())
        .retry(quick(2))
        .build();
    let token = manager.token().await.unwrap();

    let hold = hold_the_only_slot(&server).await;
    let e = client.get_access_token(&internal()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 503, code, .. } if code == "system.busy"),
        "{e:?}"
    );
    assert!(e.is_system_busy());
    let e = client.get_token(&internal()).await.unwrap_err();
    assert!(matches!(&e, Error::Oapi { errcode: -1, .. }), "{e:?}");
    assert!(e.is_system_busy());
    let e = client.get_by_mobile(&token, "15000009144", false).await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Oapi {
                errcode: -1,
                request_id: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_system_busy());

    let e = manager.get_by_mobile("15000009144", false).await.unwrap_err();
    assert!(e.is_system_busy(), "{e:?}");
    assert_eq!(
        proxy.seen.count(BY_MOBILE),
        3,
        "the first try and 2 retries, then the error"
    );

    release_the_slot(hold).await;
    let ok = manager.get_by_mobile("15000009144", false).await.unwrap();
    assert_eq!(ok.result.userid.as_deref(), Some("zhangsan"));
    assert_eq!(proxy.seen.count(TOKEN_API), 1, "the cached token served every try");
}

// ---------------------------------------------------------------------------------------------
// The token manager against the real server, counted by the proxy.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_concurrent_callers_share_one_token_fetch() {
    let server = Server::dev(&[]);
    let proxy = CountingProxy::start(&server).await;
    for (gateway, route) in [(Gateway::Api, TOKEN_API), (Gateway::Oapi, TOKEN_OAPI)] {
        let manager = AppTokenManager::builder(client_at(&proxy.base), internal())
            .gateway(gateway)
            .build();
        let calls: Vec<_> = (0..24)
            .map(|i| {
                let m = manager.clone();
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        m.token().await.unwrap()
                    } else {
                        let found = m.get_by_mobile("15000009144", false).await.unwrap();
                        assert_eq!(found.result.userid.as_deref(), Some("zhangsan"));
                        String::new()
                    }
                })
            })
            .collect();
        let mut tokens = Vec::new();
        for call in calls {
            tokens.push(call.await.unwrap());
        }
        tokens.retain(|t| !t.is_empty());
        assert_eq!(tokens.len(), 12);
        assert!(tokens.windows(2).all(|w| w[0] == w[1]), "{tokens:?}");
        assert_eq!(
            proxy.seen.count(route),
            1,
            "{gateway}: 24 concurrent callers, one token request"
        );
    }
    assert_eq!(proxy.seen.count(BY_MOBILE), 24);
}

#[tokio::test]
async fn client_app_token_is_refreshed_ahead_of_expiry_on_the_manual_clock() {
    let server = Server::dev(&["--token-ttl", "900"]);
    let proxy = CountingProxy::start(&server).await;
    let clock = Arc::new(ManualClock::new());
    let manager = AppTokenManager::builder(client_at(&proxy.base), internal())
        .refresh_margin(Duration::from_secs(300))
        .clock(clock.clone())
        .build();
    let first = manager.token().await.unwrap();
    clock.advance(Duration::from_secs(599));
    assert_eq!(manager.token().await.unwrap(), first);
    assert_eq!(proxy.seen.count(TOKEN_API), 1, "cached until 300 s before expiry");
    clock.advance(Duration::from_secs(2));
    let renewed = manager.token().await.unwrap();
    assert_eq!(proxy.seen.count(TOKEN_API), 2, "fetched again 300 s before expiry");
    assert_eq!(
        renewed, first,
        "DingTalk renews a valid internal-app token under the same string"
    );

    // A margin of more than half the lifetime is cut to half: refresh at 450 s of 900.
    let clock = Arc::new(ManualClock::new());
    let oapi = AppTokenManager::builder(client_at(&proxy.base), internal())
        .gateway(Gateway::Oapi)
        .refresh_margin(Duration::from_secs(3600))
        .clock(clock.clone())
        .build();
    oapi.token().await.unwrap();
    clock.advance(Duration::from_secs(449));
    oapi.token().await.unwrap();
    assert_eq!(proxy.seen.count(TOKEN_OAPI), 1);
    clock.advance(Duration::from_secs(2));
    oapi.token().await.unwrap();
    assert_eq!(proxy.seen.count(TOKEN_OAPI), 2);
}

#[tokio::test]
async fn client_a_token_the_server_expired_is_renewed_once_and_the_call_succeeds() {
    let server = Server::dev(&[]);
    let proxy = CountingProxy::start(&server).await;
    let manager = AppTokenManager::new(client_at(&proxy.base), internal());
    let before = manager.token().await.unwrap();
    // The server's clock moves past expiry; the manager's does not, so it still trusts its token.
    advance_server_clock(&server, 7201).await;
    let found = manager.get_by_mobile("15000009144", false).await.unwrap();
    assert_eq!(found.result.userid.as_deref(), Some("zhangsan"));
    assert_eq!(proxy.seen.count(TOKEN_API), 2, "dropped and fetched again");
    assert_eq!(proxy.seen.count(BY_MOBILE), 2, "the refused call and its one repeat");
    assert_ne!(manager.token().await.unwrap(), before);
}

// ---------------------------------------------------------------------------------------------
// The manager against a stub that keeps refusing.

/// Awaits `f`, failing the test if it loops instead of returning.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("the manager returned within 30 s instead of looping")
}

#[tokio::test]
async fn client_a_token_error_that_persists_is_returned_after_one_renewal() {
    let stub = Stub::start(|route, n| match route {
        TOKEN_OAPI => gettoken_ok(n),
        TOKEN_API => access_token_ok(n),
        BY_MOBILE => (
            200,
            json!({"errcode": 88, "sub_code": "40014", "sub_msg": "不合法的access_token", "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]", "request_id": "stubrequest01"}).to_string(),
        ),
        "GET /v1.0/contact/users/me" => (
            400,
            json!({"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": "STUB-1"}).to_string(),
        ),
        _ => unknown_route(),
    })
    .await;
    let manager = AppTokenManager::builder(client_at(&stub.base), internal())
        .gateway(Gateway::Oapi)
        .build();
    let e = bounded(manager.get_by_mobile("15000009144", false)).await.unwrap_err();
    assert!(e.is_token_invalid(), "{e:?}");
    assert_eq!(stub.seen.count(TOKEN_OAPI), 2, "one renewal");
    assert_eq!(stub.seen.count(BY_MOBILE), 2, "one repeat, not a loop");

    // The same bound on the new gateway's form, through `with_token`.
    let api = AppTokenManager::new(client_at(&stub.base), internal());
    let client = api.client().clone();
    let mut used = Vec::new();
    let e = bounded(api.with_token(|token| {
        used.push(token.clone());
        let client = client.clone();
        async move { client.get_me(&token).await }
    }))
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "InvalidAuthentication"),
        "{e:?}"
    );
    assert_eq!(
        used,
        ["stub-token-0", "stub-token-1"],
        "a fresh token for the one repeat"
    );
    assert_eq!(stub.seen.count("GET /v1.0/contact/users/me"), 2);
}

#[tokio::test]
async fn client_system_busy_is_retried_with_a_bound() {
    let busy_oapi = || (200, json!({"errcode": -1, "errmsg": "系统繁忙"}).to_string());
    let busy_api = || {
        (
            503,
            json!({"code": "system.busy", "message": "系统繁忙", "requestid": "STUB-B"}).to_string(),
        )
    };
    let stub = Stub::start(move |route, n| match route {
        // Busy twice, then a token.
        TOKEN_OAPI if n < 2 => busy_oapi(),
        TOKEN_OAPI => gettoken_ok(n),
        // Always busy.
        TOKEN_API => busy_api(),
        BY_MOBILE => busy_oapi(),
        _ => unknown_route(),
    })
    .await;

    let oapi = AppTokenManager::builder(client_at(&stub.base), internal())
        .gateway(Gateway::Oapi)
        .retry(quick(3))
        .build();
    assert_eq!(bounded(oapi.token()).await.unwrap(), "stub-token-2");
    assert_eq!(stub.seen.count(TOKEN_OAPI), 3, "two busy answers, then the token");

    let e = bounded(oapi.get_by_mobile("15000009144", false)).await.unwrap_err();
    assert!(e.is_system_busy(), "{e:?}");
    assert_eq!(stub.seen.count(BY_MOBILE), 4, "the try and 3 retries");

    let api = AppTokenManager::builder(client_at(&stub.base), internal())
        .retry(quick(3))
        .build();
    let e = bounded(api.token()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 503, code, .. } if code == "system.busy"),
        "{e:?}"
    );
    assert_eq!(stub.seen.count(TOKEN_API), 4, "token fetches are bounded too");

    let none = AppTokenManager::builder(client_at(&stub.base), internal())
        .retry(RetryPolicy::none())
        .build();
    bounded(none.token()).await.unwrap_err();
    assert_eq!(stub.seen.count(TOKEN_API), 5, "no retries when told so");
}

#[tokio::test]
async fn client_busy_then_answered_succeeds_and_other_errors_are_not_retried() {
    let stub = Stub::start(|route, n| match route {
        TOKEN_API => access_token_ok(n),
        BY_MOBILE if n < 2 => (200, json!({"errcode": -1, "errmsg": "系统繁忙"}).to_string()),
        BY_MOBILE if n == 2 => (
            200,
            json!({"errcode": 0, "errmsg": "ok", "result": {"exclusive_account_userid_list": [], "userid": "u1"}, "request_id": "r"}).to_string(),
        ),
        BY_MOBILE => (
            200,
            json!({"errcode": 60121, "errmsg": "找不到该用户", "request_id": "r2"}).to_string(),
        ),
        _ => unknown_route(),
    })
    .await;
    let manager = AppTokenManager::builder(client_at(&stub.base), internal())
        .retry(quick(3))
        .build();
    let ok = bounded(manager.get_by_mobile("1", false)).await.unwrap();
    assert_eq!(ok.result.userid.as_deref(), Some("u1"));
    assert_eq!(stub.seen.count(BY_MOBILE), 3);
    let e = bounded(manager.get_by_mobile("2", false)).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert_eq!(stub.seen.count(BY_MOBILE), 4, "not found is final");
    assert_eq!(stub.seen.count(TOKEN_API), 1);
}

#[tokio::test]
async fn client_transport_and_decode_errors_are_apart_from_wire_errors() {
    let stub = Stub::start(|route, _| match route {
        TOKEN_API => (502, "<html>bad gateway</html>".to_owned()),
        TOKEN_OAPI => (200, json!({"errcode": 0, "errmsg": "ok"}).to_string()),
        _ => unknown_route(),
    })
    .await;
    let client = client_at(&stub.base);
    let e = client.get_access_token(&internal()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Decode { status: 502, body, .. } if body == "<html>bad gateway</html>"),
        "{e:?}"
    );
    let e = client.get_token(&internal()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Decode { status: 200, .. }),
        "no access_token: {e:?}"
    );

    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let e = client_at(&closed).get_token(&internal()).await.unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    let chain = format!("{:?}", anyhow::Error::from(e));
    assert!(
        chain.contains("/gettoken") && !chain.contains("demo-internal-secret"),
        "the URL without its secret: {chain}"
    );
}

// ---------------------------------------------------------------------------------------------
// `dingdir call`.

fn call(server: &Server, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec!["call", "--base-url", &server.base];
    all.extend_from_slice(args);
    let out = run(&all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = if out.status.success() {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    } else {
        assert!(stdout.is_empty(), "nothing on stdout on failure: {stdout}");
        Value::Null
    };
    (out.status.success(), json, stderr)
}

const APP: [&str; 4] = ["--app-key", "dingdemointernal", "--app-secret", "demo-internal-secret"];

#[tokio::test]
async fn call_token_prints_each_gateways_answer_as_json() {
    let server = Server::dev(&[]);
    let (ok, api, _) = call(&server, &[&["token"][..], &APP].concat());
    assert!(ok);
    assert_eq!(api["expireIn"], json!(7200));
    let (ok, oapi, _) = call(&server, &[&["token"][..], &APP, &["--gateway", "oapi"]].concat());
    assert!(ok);
    assert_eq!(oapi["access_token"], api["accessToken"]);
    assert_eq!(oapi["errcode"], json!(0));

    let (ok, _, stderr) = call(
        &server,
        &["token", "--app-key", "dingdemointernal", "--app-secret", "wrong"],
    );
    assert!(!ok);
    assert!(
        stderr.starts_with("dingdir: 400 invalidClientIdOrSecret: 无效的clientId或者clientSecret (request id "),
        "{stderr}"
    );
}

#[tokio::test]
async fn call_user_get_prints_the_user_and_fails_plainly_when_not_found() {
    let server = Server::dev(&[]);
    let token = mint_user_token(&server, "dingdemointernal").await;
    let (ok, me, _) = call(&server, &["user", "get", "me", "--user-token", &token]);
    assert!(ok);
    assert_eq!(me["nick"], "zhangsan");
    assert_eq!(me["visitor"], json!(false));

    let (ok, _, stderr) = call(
        &server,
        &["user", "get", "nobody0000000000000000", "--user-token", &token],
    );
    assert!(!ok);
    let rest = stderr
        .strip_prefix("dingdir: 404 invalidParameter.user.notFound: 找不到该用户 (request id ")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(is_api_request_id(rest.trim_end().trim_end_matches(')')), "{stderr}");
}

#[tokio::test]
async fn call_user_by_mobile_lists_exclusive_accounts_and_shows_legacy_errors() {
    let server = Server::dev(&[]);
    let (ok, found, _) = call(
        &server,
        &[
            &["user", "by-mobile", "15000009144"][..],
            &APP,
            &["--exclusive", "--gateway", "oapi"],
        ]
        .concat(),
    );
    assert!(ok);
    assert_eq!(
        found["result"],
        json!({"exclusive_account_userid_list": ["zhaoliu_ex"], "userid": "zhangsan"})
    );
    let (ok, _, stderr) = call(&server, &[&["user", "by-mobile", "13999999999"][..], &APP].concat());
    assert!(!ok);
    assert!(
        stderr.starts_with("dingdir: errcode 60121: 找不到该用户 (request id "),
        "{stderr}"
    );
}

#[tokio::test]
async fn call_signin_and_corp_token_print_json() {
    let server = Server::dev(&[]);
    let (ok, url, _) = call(
        &server,
        &[
            "signin",
            "url",
            "--client-id",
            "dingdemointernal",
            "--redirect-uri",
            REDIRECT,
            "--state",
            "cli-state",
        ],
    );
    assert!(ok);
    let url = url["url"].as_str().unwrap().to_owned();
    let back = sign_in_through(&server, &url).await;
    assert_eq!(back["state"], "cli-state");
    let (ok, token, _) = call(&server, &[&["signin", "code", &back["code"]][..], &APP].concat());
    assert!(ok);
    assert_eq!(token["corpId"], DEMO_CORP);
    let refresh = token["refreshToken"].as_str().unwrap();
    let (ok, renewed, _) = call(&server, &[&["signin", "refresh", refresh][..], &APP].concat());
    assert!(ok);
    assert_ne!(renewed["accessToken"], token["accessToken"]);

    let (ok, corp, _) = call(
        &server,
        &[
            "corp-token",
            "--suite-key",
            "dingdemosuite",
            "--suite-secret",
            "demo-suite-secret",
            "--corp-id",
            DEMO_CORP,
            "--suite-ticket",
            "demo-suite-ticket",
        ],
    );
    assert!(ok);
    assert_eq!(corp["expireIn"], json!(7200));
}
