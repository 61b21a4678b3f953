//! In-process wire tests (STYLE.md §4 "Wire shapes"): the real router over a real in-memory
//! SQLite store seeded with `examples/demo.yaml`, driven with `tower::ServiceExt::oneshot`.
//!
//! Every test pins the whole answer: status, content type, every body field by value, and the
//! request and trace id headers. Generated values (tokens, request ids) are checked for shape and
//! then replaced by a placeholder before the body is compared, so the rest stays exact.
//!
//! One file per area: `skeleton` (fallbacks, methods, body limits, panics), `routing` (every
//! endpoint is routed), `tokens`, `get_user`, `get_by_mobile`, `shedding`.

mod callbacks;
mod directory;
mod faults;
mod get_by_mobile;
mod get_user;
mod hostile;
mod inspector;
mod journal;
mod leave_records;
mod legacy_reads;
mod messages;
mod metrics;
mod rate_limits;
mod robots;
mod routing;
mod shedding;
mod skeleton;
mod stream;
mod tokens;
mod writes;

use crate::{AppState, Mode, Settings};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use dingdir_core::ident::{IdSecret, person_number};
use dingdir_core::model::{Developer, PersonId};
use dingdir_core::{MovableClock, Policy, Service, Store, seed};
use dingdir_proto::ids::{AppKey, CorpId};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// Demo Co, the corp of `dingdemointernal`, `dingdemoreadonly` and the test-only `dingnoreadapp`.
pub(super) const DEMO_CORP: &str = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4";
/// Other Co, the corp of `dingothercoapp`.
pub(super) const OTHER_CORP: &str = "ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01";
/// Third Co (test seed only): exists, but never authorised `dingdemosuite`.
pub(super) const THIRD_CORP: &str = "ding5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
/// The ISV of `dingdemosuite` and `dingdemopersonal`.
pub(super) const DEMO_ISV: &str = "demo-isv";
/// The admin token of every fixture.
pub(super) const ADMIN_TOKEN: &str = "adm";

/// Placeholder for a request id once its shape and header were checked.
pub(super) const RID: &str = "<request id>";
/// Placeholder for a token once its shape was checked.
pub(super) const HEX32: &str = "<32 lower hex>";

/// The official Python SDK's user agent (tea-openapi 0.4.6, sync). SDK-WIRE.md §1.2.
pub(super) const PY_UA: &str = "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2";
/// The community `dingtalk-sdk`'s user agent. SDK-WIRE.md §3.3.
pub(super) const COMMUNITY_UA: &str = "python-requests/2.34.2";
/// `POST /topapi/v2/user/getbymobile` for `mobile` with an app token, as the community SDK sends it.
pub(super) async fn by_mobile(fx: &Fixture, token: &str, mobile: &str) -> Answer {
    fx.send(legacy_post(
        &format!("/topapi/v2/user/getbymobile?access_token={token}"),
        "application/json",
        &format!(r#"{{"mobile":"{mobile}"}}"#),
    ))
    .await
}

/// The `Host` the SDKs send when pointed at a local server.
const HOST: &str = "127.0.0.1:18080";

const DEMO_SEED: &str = include_str!("../../../../examples/demo.yaml");

/// What the tests need beyond the demo: an internal app without `Contact.User.Read`, a person who
/// is only an exclusive account of Demo Co (with a mobile nobody else has), and a corp that
/// authorised nothing. No passwords, so seeding stays cheap.
const TEST_SEED: &str = r#"
corps:
  - id: ding5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b
    name: Third Co
apps:
  - key: dingnoreadapp
    name: No Read App
    type: internal
    secret: no-read-secret
    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
    scopes: [Contact.User.mobile]
    redirect_uris: [http://127.0.0.1:3000/callback]
people:
  - id: solo-exclusive
    nick: solo
    mobile: "13600000006"
    exclusive_of: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
    memberships:
      - { corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4, userid: solo_ex, name: 独行 }
"#;

/// How to build a fixture; `Setup::default()` is the demo directory with test settings.
pub(super) struct Setup {
    pub(super) settings: Settings,
    pub(super) policy: Policy,
    pub(super) extra_routes: Router<AppState>,
    /// A store to use instead of the seeded SQLite one.
    pub(super) store: Option<Arc<dyn Store>>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            settings: test_settings(),
            policy: Policy::default(),
            extra_routes: Router::new(),
            store: None,
        }
    }
}

/// The settings every fixture starts from.
pub(super) fn test_settings() -> Settings {
    Settings {
        mode: Mode::Dev,
        admin_token: ADMIN_TOKEN.into(),
        test_clock: true,
        ..Settings::default()
    }
}

/// One server in the test's process: the router, its state, and the clock the test moves.
pub(super) struct Fixture {
    pub(super) app: crate::Root<Router>,
    pub(super) state: AppState,
    pub(super) clock: Arc<MovableClock>,
}

/// The demo directory with test settings.
pub(super) async fn fixture() -> Fixture {
    fixture_with(Setup::default()).await
}

/// A store holding the demo and test seeds: SQLite in memory, or a fresh PostgreSQL database
/// with `DINGDIR_TEST_BACKEND=postgres`, so the same tests run on both backends (`scripts/test`
/// runs them twice).
pub(super) async fn seeded_store() -> Arc<dyn Store> {
    let store = dingdir_store::testing::fresh_store().await;
    for (file, text) in [("demo.yaml", DEMO_SEED), ("tests.yaml", TEST_SEED)] {
        apply(store.as_ref(), file, text).await;
    }
    store
}

/// Applies a seed whole: its directory, then its robots and groups.
async fn apply(store: &dyn Store, file: &str, text: &str) {
    match seed::apply_text(store, file, text).await {
        Ok(plan) => seed::apply_messaging(store, &plan)
            .await
            .unwrap_or_else(|e| panic!("applying {file}'s robots and groups: {e}")),
        Err(e) => panic!("applying {file}: {e}"),
    }
}

/// The demo directory plus one more seed file, with test settings.
pub(super) async fn fixture_seeded_with(file: &str, text: &str) -> Fixture {
    let store = seeded_store().await;
    apply(store.as_ref(), file, text).await;
    fixture_with(Setup {
        store: Some(store),
        ..Setup::default()
    })
    .await
}

pub(super) async fn fixture_with(setup: Setup) -> Fixture {
    let store = match setup.store {
        Some(store) => store,
        None => seeded_store().await,
    };
    let clock = Arc::new(MovableClock::new());
    let policy = Policy {
        store_timeout: setup.settings.store_timeout,
        ..setup.policy
    };
    let service = Service::new(store, clock.clone(), IdSecret::from_passphrase("test"), policy);
    let state = AppState::new(service, setup.settings, Some(clock.clone()));
    let app = crate::app_with_extra_routes(state.clone(), setup.extra_routes);
    Fixture { app, state, clock }
}

/// One answer, whole.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    /// The body as JSON, or `Null` when it is not JSON.
    pub(super) json: Value,
}

impl Answer {
    /// A header's value; a missing or non-ASCII one fails the test.
    #[track_caller]
    pub(super) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {self:#?}"))
            .to_str()
            .unwrap_or_else(|_| panic!("non-ASCII {name} header"))
    }

    /// The body as text.
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Checks that `key` is a 32 lower-hex token, replaces it with [`HEX32`] and returns it.
    #[track_caller]
    pub(super) fn take_token(&mut self, key: &str) -> String {
        let value = self.json[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string {key} in {}", self.text()))
            .to_owned();
        assert!(is_hex32(&value), "{key} is not 32 lower-case hex: {value:?}");
        self.json[key] = json!(HEX32);
        value
    }
}

impl Fixture {
    /// Sends one request through the whole router, bounded in time.
    pub(super) async fn send(&self, req: Request<Body>) -> Answer {
        let response = tokio::time::timeout(Duration::from_secs(30), self.app.clone().oneshot(req))
            .await
            .expect("an answer within 30 s")
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        let body = tokio::time::timeout(Duration::from_secs(30), axum::body::to_bytes(body, usize::MAX))
            .await
            .expect("the body within 30 s")
            .expect("a readable body");
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            json,
        }
    }

    /// An app token from `GET /gettoken`, as the community SDK asks for it.
    pub(super) async fn app_token(&self, key: &str, secret: &str) -> String {
        let mut a = self
            .send(community_get(&format!("/gettoken?appkey={key}&appsecret={secret}")))
            .await;
        let token = a.take_token("access_token");
        assert_legacy(
            &a,
            json!({"errcode": 0, "access_token": HEX32, "errmsg": "ok", "expires_in": 7200}),
        );
        token
    }

    /// A corp token of `dingdemosuite` for `corp`.
    pub(super) async fn corp_token(&self, corp: &str) -> String {
        let mut a = self
            .send(sdk_post(
                "/v1.0/oauth2/corpAccessToken",
                &format!(
                    r#"{{"authCorpId":"{corp}","suiteKey":"dingdemosuite","suiteSecret":"demo-suite-secret","suiteTicket":"demo-suite-ticket"}}"#
                ),
            ))
            .await;
        let token = a.take_token("accessToken");
        assert_api(&a, StatusCode::OK, json!({"accessToken": HEX32, "expireIn": 7200}));
        token
    }

    /// Mints a user token through the admin API; `body` is a `MintUserTokenRequest`. Answers the
    /// whole `userAccessToken`-shaped body.
    pub(super) async fn mint(&self, body: &Value) -> Value {
        let a = self
            .send(admin(Method::POST, "/_dingdir/tokens/user", Some(body)))
            .await;
        assert_eq!(a.status, StatusCode::OK, "minting {body}: {}", a.text());
        assert_json_headers(&a, dingdir_proto::api::CONTENT_TYPE);
        assert!(is_api_request_id(a.header("x-acs-request-id")));
        a.json
    }

    /// A user access token of the person with `mobile`, signed in to `app_key`.
    pub(super) async fn user_token(&self, app_key: &str, mobile: &str) -> String {
        let body = self.mint(&json!({"app_key": app_key, "mobile": mobile})).await;
        let token = body["accessToken"].as_str().expect("accessToken").to_owned();
        assert!(is_hex32(&token), "{body}");
        token
    }

    /// The unionId the server gives `person` under an internal app of `corp`.
    pub(super) fn union_id_in_corp(&self, corp: &str, person: &str) -> String {
        let developer = Developer::Corp(CorpId(corp.to_owned()));
        self.state
            .service
            .ids()
            .union_id(&developer, person_number(&PersonId(person.to_owned())))
            .0
    }

    /// The unionId the server gives `person` under a third-party app of `isv`.
    pub(super) fn union_id_in_isv(&self, isv: &str, person: &str) -> String {
        let developer = Developer::Isv(isv.to_owned());
        self.state
            .service
            .ids()
            .union_id(&developer, person_number(&PersonId(person.to_owned())))
            .0
    }

    /// The openId the server gives `person` in `app`.
    pub(super) fn open_id(&self, app: &str, person: &str) -> String {
        self.state
            .service
            .ids()
            .open_id(&AppKey(app.to_owned()), person_number(&PersonId(person.to_owned())))
            .0
    }
}

// ---------------------------------------------------------------------------------------------
// Requests, as the SDKs send them.

/// A bare request with a body.
pub(super) fn request(method: Method, uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(body.into())
        .expect("a valid request")
}

/// `GET` as the official Python SDK (sync) sends it, with the token header when given.
/// SDK-WIRE.md §1.2.
pub(super) fn sdk_get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("Accept-Encoding", "identity")
        .header("host", HOST)
        .header("user-agent", PY_UA)
        .header("accept", "application/json");
    if let Some(token) = token {
        b = b.header("x-acs-dingtalk-access-token", token);
    }
    b.body(Body::empty()).expect("a valid request")
}

/// `POST` with a compact JSON body, as the official Python SDK (sync) sends it. SDK-WIRE.md §1.2.
pub(super) fn sdk_post(uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("Accept-Encoding", "identity")
        .header("host", HOST)
        .header("user-agent", PY_UA)
        .header("accept", "application/json")
        .header("content-type", "application/json; charset=utf-8")
        .header("Content-Length", body.len())
        .body(Body::from(body.to_owned()))
        .expect("a valid request")
}

/// `GET` as the community `dingtalk-sdk` sends it. SDK-WIRE.md §3.3.
pub(super) fn community_get(uri: &str) -> Request<Body> {
    Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("Host", HOST)
        .header("User-Agent", COMMUNITY_UA)
        .header("Accept-Encoding", "gzip, deflate")
        .header("Accept", "*/*")
        .header("Connection", "keep-alive")
        .body(Body::empty())
        .expect("a valid request")
}

/// `POST` with a body of `content_type`, otherwise as the community `dingtalk-sdk` sends it.
/// SDK-WIRE.md §3.3.
/// `path` with a JSON body and the token in the query, as the community SDK's `client.post`
/// sends it. SDK-WIRE.md §3.3.
pub(super) async fn call(fx: &Fixture, path: &str, token: &str, body: &Value) -> Answer {
    fx.send(legacy_post(
        &format!("{path}?access_token={token}"),
        "application/json",
        &body.to_string(),
    ))
    .await
}

/// A `/topapi/*` error answered directly (not wrapped in `88`).
pub(super) fn error(errcode: i64, errmsg: &str) -> Value {
    json!({"errcode": errcode, "errmsg": errmsg, "request_id": RID})
}

pub(super) fn legacy_post(uri: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("Host", HOST)
        .header("User-Agent", COMMUNITY_UA)
        .header("Accept-Encoding", "gzip, deflate")
        .header("Accept", "*/*")
        .header("Connection", "keep-alive")
        .header("Content-Type", content_type)
        .header("Content-Length", body.len())
        .body(Body::from(body.to_owned()))
        .expect("a valid request")
}

/// An admin API request with the admin token and an optional JSON body.
pub(super) fn admin(method: Method, uri: &str, body: Option<&Value>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"));
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .expect("a valid request")
}

// ---------------------------------------------------------------------------------------------
// Shapes.

/// A DingTalk token: 32 lower-case hex. WIRE.md §C5.
pub(super) fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A new-gateway (and admin) request id: `8-4-4-4-12` upper-case hex. WIRE.md §A1.
pub(super) fn is_api_request_id(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
}

/// A legacy request id: 13 lower-case alphanumerics. WIRE.md §B1.
pub(super) fn is_oapi_request_id(s: &str) -> bool {
    s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// A DingTalk-looking generated id (unionId, openId): 20-30 of `[A-Za-z0-9]`. PRODUCT.md "The model".
pub(super) fn is_dingtalk_id(s: &str) -> bool {
    (20..=30).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

// ---------------------------------------------------------------------------------------------
// Whole-answer assertions.

/// The content type is exactly `content_type`, and the trace id is 32 lower hex.
#[track_caller]
fn assert_json_headers(a: &Answer, content_type: &str) {
    assert_eq!(a.header("content-type"), content_type, "content type of {a:#?}");
    let trace = a.header("x-acs-trace-id");
    assert!(is_hex32(trace), "x-acs-trace-id {trace:?}");
}

/// Checks `key` of the body against the request id header (in the gateway's shape) and replaces
/// it with [`RID`].
#[track_caller]
fn redact_request_id(a: &Answer, key: &str, shape: fn(&str) -> bool) -> Value {
    let header = a.header("x-acs-request-id");
    assert!(shape(header), "x-acs-request-id {header:?} has the wrong shape");
    let mut body = a.json.clone();
    let Some(obj) = body.as_object_mut() else {
        panic!("the body is not a JSON object: {:?}", a.text());
    };
    if let Some(id) = obj.get_mut(key) {
        assert_eq!(id.as_str(), Some(header), "body {key} and x-acs-request-id differ");
        *id = json!(RID);
    }
    body
}

/// A new-gateway or admin answer with no `requestid` in the body (a success).
#[track_caller]
#[expect(
    clippy::needless_pass_by_value,
    reason = "call sites read better with `json!(..)` by value"
)]
pub(super) fn assert_api(a: &Answer, status: StatusCode, want: Value) {
    assert_eq!(a.status, status, "status of {}", a.text());
    assert_json_headers(a, dingdir_proto::api::CONTENT_TYPE);
    let body = redact_request_id(a, "requestid", is_api_request_id);
    assert_eq!(body, want);
}

/// A new-gateway or admin error: `requestid` in the body equals `x-acs-request-id`; `want`
/// names it as [`RID`].
#[track_caller]
pub(super) fn assert_api_error(a: &Answer, status: StatusCode, want: Value) {
    assert_eq!(
        want["requestid"],
        json!(RID),
        "the expected body must name the request id"
    );
    assert_api(a, status, want);
}

/// A legacy `/topapi/*` answer: HTTP 200, `request_id` equals `x-acs-request-id`; `want` names it
/// as [`RID`].
#[track_caller]
#[expect(
    clippy::needless_pass_by_value,
    reason = "call sites read better with `json!(..)` by value"
)]
pub(super) fn assert_topapi(a: &Answer, want: Value) {
    assert_eq!(a.status, StatusCode::OK, "status of {}", a.text());
    assert_json_headers(a, dingdir_proto::oapi::TOPAPI_CONTENT_TYPE);
    assert_eq!(
        want["request_id"],
        json!(RID),
        "the expected body must name the request id"
    );
    let body = redact_request_id(a, "request_id", is_oapi_request_id);
    assert_eq!(body, want);
}

/// A legacy answer off `/topapi` (`/gettoken`, unknown paths): HTTP 200, plain `application/json`,
/// no `request_id` in the body but the header still present.
#[track_caller]
#[expect(
    clippy::needless_pass_by_value,
    reason = "call sites read better with `json!(..)` by value"
)]
pub(super) fn assert_legacy(a: &Answer, want: Value) {
    assert_eq!(a.status, StatusCode::OK, "status of {}", a.text());
    assert_json_headers(a, dingdir_proto::oapi::CONTENT_TYPE);
    let header = a.header("x-acs-request-id");
    assert!(is_oapi_request_id(header), "x-acs-request-id {header:?}");
    assert_eq!(a.json, want);
}
