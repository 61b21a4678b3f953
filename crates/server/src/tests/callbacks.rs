//! HTTP event callbacks (docs/wire/writes-and-callbacks.md §2–4): registration with
//! `check_url`, delivery of each change to a receiver on 127.0.0.1, retries, order, and the
//! events listing. The receiver here checks every push with the crypto that DingTalk's vectors
//! verify (`dingdir_core::callback`); the community SDK's own crypto referees the same wire in
//! `crates/dingdir/tests/it/compat.rs`.

use super::*;
use dingdir_core::callback::{Crypto, Sealed};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

const TOKEN: &str = "cbtoken123";
const AES_KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";

/// An internal app of Demo Co that may write the directory, and a third-party suite.
const APPS: &str = "apps:
  - key: dingwriterapp
    name: Writer App
    type: internal
    secret: writer-secret
    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
    scopes: [qyapi_get_member, qyapi_get_department_list, qyapi_manage_addresslist]
  - key: dingnoscopeapp
    name: No Scope App
    type: internal
    secret: noscope-secret
    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
";

/// How the receiver answers.
const SUCCESS: u8 = 0;
const WRONG_TEXT: u8 = 1;
const HTTP_500: u8 = 2;
const SLOW: u8 = 3;

/// One push as the receiver saw it: the decrypted message and the receiveid that closed it.
#[derive(Clone, Debug)]
struct Push {
    message: Value,
    receive_id: String,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    pushes: Arc<Mutex<Vec<Push>>>,
    mode: Arc<AtomicU8>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1 with a free port.
    async fn start() -> Self {
        let pushes: Arc<Mutex<Vec<Push>>> = Arc::default();
        let mode = Arc::new(AtomicU8::new(SUCCESS));
        let (p, m) = (pushes.clone(), mode.clone());
        let handler = move |axum::extract::RawQuery(q): axum::extract::RawQuery, body: Bytes| {
            let (pushes, mode) = (p.clone(), m.clone());
            async move {
                let crypto = Crypto::new(TOKEN, AES_KEY).unwrap();
                let q: std::collections::HashMap<String, String> =
                    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                        .into_owned()
                        .collect();
                let body: Value = serde_json::from_slice(&body).unwrap_or_default();
                let sealed = Sealed {
                    signature: q.get("signature").cloned().unwrap_or_default(),
                    timestamp: q.get("timestamp").cloned().unwrap_or_default(),
                    nonce: q.get("nonce").cloned().unwrap_or_default(),
                    encrypt: body["encrypt"].as_str().unwrap_or_default().to_owned(),
                };
                assert_eq!(q.get("msg_signature"), q.get("signature"));
                assert_eq!(q.get("timeStamp"), q.get("timestamp"));
                let (message, receive_id) = crypto.open(&sealed).expect("a push that verifies and decrypts");
                pushes.lock().unwrap().push(Push {
                    message: serde_json::from_str(&message).unwrap(),
                    receive_id: receive_id.clone(),
                });
                let mode = mode.load(Ordering::SeqCst);
                if mode == HTTP_500 {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "down".to_owned());
                }
                if mode == SLOW {
                    tokio::time::sleep(Duration::from_millis(2500)).await;
                }
                let text = if mode == WRONG_TEXT { "fail" } else { "success" };
                let reply = crypto.seal(text, &receive_id, "1700000000000");
                let body = json!({"msg_signature": reply.signature, "timeStamp": reply.timestamp, "nonce": reply.nonce, "encrypt": reply.encrypt});
                (StatusCode::OK, body.to_string())
            }
        };
        let router = Router::new().route("/cb", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cb", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url,
            pushes,
            mode,
            _server: Arc::new(server),
        }
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn take(&self) -> Vec<Push> {
        std::mem::take(&mut *self.pushes.lock().unwrap())
    }

    fn registration(&self) -> Value {
        json!({"url": self.url, "token": TOKEN, "aes_key": AES_KEY})
    }
}

async fn setup() -> (Fixture, String, Receiver) {
    let fx = fixture_seeded_with("apps.yaml", APPS).await;
    let token = fx.app_token("dingwriterapp", "writer-secret").await;
    (fx, token, Receiver::start().await)
}

async fn put_callback(fx: &Fixture, app: &str, body: &Value) -> Answer {
    fx.send(admin(Method::PUT, &format!("/_dingdir/callbacks/{app}"), Some(body)))
        .await
}

async fn events(fx: &Fixture, query: &str) -> Value {
    let a = fx
        .send(admin(Method::GET, &format!("/_dingdir/events{query}"), None))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    a.json
}

/// The first registration's log position.
async fn registered_seq(fx: &Fixture) -> i64 {
    let listed = fx.send(admin(Method::GET, "/_dingdir/callbacks", None)).await.json;
    listed["callbacks"][0]["registered_seq"].as_i64().unwrap()
}

/// The log's last position.
async fn last_seq(fx: &Fixture) -> i64 {
    let query = dingdir_core::change::ChangeQuery {
        limit: 1_000_000,
        ..Default::default()
    };
    let all = fx.state.service.changes(&query).await.unwrap();
    all.last().map_or(0, |c| c.seq)
}

async fn create_user(fx: &Fixture, token: &str, userid: &str, mobile: &str) {
    let body = json!({"userid": userid, "name": userid, "mobile": mobile, "dept_id_list": "100"});
    let a = call(fx, "/topapi/v2/user/create", token, &body).await;
    assert_eq!(a.json["errcode"], 0, "{:?}", a.json);
}

#[tokio::test]
async fn registration_sends_check_url_and_every_change_arrives_encrypted_in_order() {
    let (fx, token, rx) = setup().await;
    let a = put_callback(&fx, "dingwriterapp", &rx.registration()).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let checks = rx.take();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].message, json!({"EventType": "check_url"}));
    assert_eq!(
        checks[0].receive_id, "dingwriterapp",
        "console subscriptions close with the app key"
    );

    create_user(&fx, &token, "cbuser1", "13300000001").await;
    let body = json!({"userid": "cbuser1", "name": "Renamed"});
    assert_eq!(
        call(&fx, "/topapi/v2/user/update", &token, &body).await.json["errcode"],
        0
    );
    let dept = call(
        &fx,
        "/topapi/v2/department/create",
        &token,
        &json!({"name": "CB Dept", "parent_id": 1}),
    )
    .await;
    let dept_id = dept.json["result"]["dept_id"].as_i64().unwrap();
    assert_eq!(
        call(&fx, "/topapi/v2/user/delete", &token, &json!({"userid": "cbuser1"}))
            .await
            .json["errcode"],
        0
    );
    assert_eq!(crate::callbacks::deliver_until_idle(&fx.state).await, 4);

    let got: Vec<(String, Value)> = rx
        .take()
        .into_iter()
        .map(|p| {
            assert_eq!(p.receive_id, "dingwriterapp");
            assert_eq!(p.message["CorpId"], DEMO_CORP);
            assert!(p.message["TimeStamp"].as_str().unwrap().parse::<i64>().is_ok());
            let subject = p
                .message
                .get("UserId")
                .or_else(|| p.message.get("DeptId"))
                .cloned()
                .unwrap();
            (p.message["EventType"].as_str().unwrap().to_owned(), subject)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("user_add_org".to_owned(), json!(["cbuser1"])),
            ("user_modify_org".to_owned(), json!(["cbuser1"])),
            ("org_dept_create".to_owned(), json!([dept_id])),
            ("user_leave_org".to_owned(), json!(["cbuser1"])),
        ]
    );
    // Nothing is sent twice once acknowledged.
    assert_eq!(crate::callbacks::deliver_until_idle(&fx.state).await, 0);
    assert!(rx.take().is_empty());

    let from = registered_seq(&fx).await;
    let listed = events(
        &fx,
        &format!("?corp_id={DEMO_CORP}&type=user_add_org,user_leave_org&after={from}"),
    )
    .await;
    let listed = listed["events"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["subject"], "cbuser1");
    assert_eq!(
        listed[0]["deliveries"],
        json!([{"app_key": "dingwriterapp", "state": "delivered", "attempts": 1}])
    );
}

#[tokio::test]
async fn a_wrong_answer_refuses_the_registration_and_a_failing_receiver_is_retried_in_order() {
    let (fx, token, rx) = setup().await;
    rx.set(WRONG_TEXT);
    let a = put_callback(&fx, "dingwriterapp", &rx.registration()).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.json["code"], "CallbackRefused");
    assert!(a.json["message"].as_str().unwrap().contains("\"fail\""), "{:?}", a.json);
    assert_eq!(
        fx.send(admin(Method::GET, "/_dingdir/callbacks", None)).await.json,
        json!({"callbacks": []})
    );

    // Registered without the check, the receiver's wrong answers are retried with backoff.
    let mut unchecked = rx.registration();
    unchecked["check_url"] = json!(false);
    assert_eq!(
        put_callback(&fx, "dingwriterapp", &unchecked).await.status,
        StatusCode::OK
    );
    rx.take();
    let from = registered_seq(&fx).await;
    create_user(&fx, &token, "cbfirst", "13300000002").await;
    create_user(&fx, &token, "cbsecond", "13300000003").await;
    let before = fx.state.service.now();
    assert_eq!(crate::callbacks::deliver_until_idle(&fx.state).await, 0);
    let after = fx.state.service.now();
    let first = rx.take();
    assert_eq!(first.len(), 1, "the second waits behind the first");
    assert_eq!(first[0].message["UserId"], json!(["cbfirst"]));

    let listed = events(&fx, &format!("?type=user_add_org&after={from}")).await;
    let head = &listed["events"].as_array().unwrap()[0]["deliveries"][0];
    assert_eq!(head["state"], "retrying");
    assert_eq!(head["attempts"], 1);
    assert!(head["last_error"].as_str().unwrap().contains("71009"), "{head:?}");
    let due = head["next_attempt_at"].as_i64().unwrap();
    assert!(
        (before + 10_000..=after + 10_000).contains(&due),
        "{due} is 10 s after the attempt"
    );
    assert_eq!(listed["events"][1]["deliveries"][0]["state"], "pending");

    // Not before the backoff: DingTalk's first retry comes 10 s later, the second 30 s after it.
    crate::callbacks::deliver_until_idle(&fx.state).await;
    assert!(rx.take().is_empty());
    rx.set(HTTP_500);
    let _ = fx.clock.advance_ms(10_000);
    let before = fx.state.service.now();
    crate::callbacks::deliver_until_idle(&fx.state).await;
    let after = fx.state.service.now();
    assert_eq!(rx.take().len(), 1);
    let cb = &fx.send(admin(Method::GET, "/_dingdir/callbacks", None)).await.json["callbacks"][0];
    assert_eq!(cb["failures"], 2);
    assert_eq!(cb["last_error"], "answered HTTP 500");
    let due = cb["next_attempt_at"].as_i64().unwrap();
    assert!(
        (before + 30_000..=after + 30_000).contains(&due),
        "{due} is 30 s after the retry"
    );

    rx.set(SUCCESS);
    let _ = fx.clock.advance_ms(30_000);
    assert_eq!(crate::callbacks::deliver_until_idle(&fx.state).await, 2);
    let order: Vec<Value> = rx.take().into_iter().map(|p| p.message["UserId"].clone()).collect();
    assert_eq!(order, vec![json!(["cbfirst"]), json!(["cbsecond"])]);
    let listed = events(&fx, &format!("?type=user_add_org&after={from}")).await;
    assert_eq!(listed["events"][0]["deliveries"][0]["state"], "delivered");
    assert_eq!(listed["events"][0]["deliveries"][0]["attempts"], 3);
}

#[tokio::test]
async fn a_receiver_slower_than_1500_ms_fails_the_check() {
    let (fx, _, rx) = setup().await;
    rx.set(SLOW);
    let a = put_callback(&fx, "dingwriterapp", &rx.registration()).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.json["message"].as_str().unwrap().contains("timed out after 1500 ms"),
        "{:?}",
        a.json
    );
}

async fn get_call_back(fx: &Fixture, token: &str) -> Value {
    let uri = format!("/call_back/get_call_back?access_token={token}");
    fx.send(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .json
}

#[tokio::test]
async fn register_call_back_closes_with_the_corp_id_and_answers_dingtalks_codes() {
    let (fx, token, rx) = setup().await;
    let body = json!({"call_back_tag": ["user_add_org", "org_dept_create"], "token": TOKEN, "aes_key": AES_KEY, "url": rx.url});
    assert_eq!(
        get_call_back(&fx, &token).await,
        json!({"errcode": 71007, "errmsg": "回调地址已不存在"})
    );
    let a = call(&fx, "/call_back/register_call_back", &token, &body).await;
    assert_eq!(a.json, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(rx.take()[0].receive_id, DEMO_CORP);
    let again = call(&fx, "/call_back/register_call_back", &token, &body).await;
    assert_eq!(again.json, json!({"errcode": 71006, "errmsg": "回调地址已经存在"}));
    assert_eq!(
        get_call_back(&fx, &token).await,
        json!({"errcode": 0, "errmsg": "ok", "call_back_tag": ["user_add_org", "org_dept_create"], "token": TOKEN, "aes_key": AES_KEY, "url": rx.url})
    );

    // Only the subscribed types arrive: the update and the delete are not among them.
    create_user(&fx, &token, "cbtagged", "13300000004").await;
    call(
        &fx,
        "/topapi/v2/user/update",
        &token,
        &json!({"userid": "cbtagged", "name": "X"}),
    )
    .await;
    assert_eq!(crate::callbacks::deliver_until_idle(&fx.state).await, 1);
    let got = rx.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message["EventType"], "user_add_org");
    assert_eq!(got[0].receive_id, DEMO_CORP);

    let short = json!({"call_back_tag": ["user_add_org"], "token": TOKEN, "aes_key": "tooshort", "url": rx.url});
    let bad = call(&fx, "/call_back/update_call_back", &token, &short).await;
    assert_eq!(bad.json["errcode"], 71010);
    rx.set(WRONG_TEXT);
    let wrong = call(&fx, "/call_back/update_call_back", &token, &body).await;
    assert_eq!(wrong.json["errcode"], 71009, "{:?}", wrong.json);
    let unreachable =
        json!({"call_back_tag": ["user_add_org"], "token": TOKEN, "aes_key": AES_KEY, "url": "http://127.0.0.1:9/cb"});
    assert_eq!(
        call(&fx, "/call_back/update_call_back", &token, &unreachable)
            .await
            .json["errcode"],
        71012
    );

    let uri = format!("/call_back/delete_call_back?access_token={token}");
    let req = || Request::builder().uri(uri.clone()).body(Body::empty()).unwrap();
    assert_eq!(fx.send(req()).await.json, json!({"errcode": 0, "errmsg": "ok"}));
    assert_eq!(fx.send(req()).await.json["errcode"], 71007);
}

#[tokio::test]
async fn only_permitted_apps_receive_and_a_seed_declares_a_callback_that_export_keeps() {
    let (fx, token, rx) = setup().await;
    let mut unchecked = rx.registration();
    unchecked["check_url"] = json!(false);
    assert_eq!(
        put_callback(&fx, "dingnoscopeapp", &unchecked).await.status,
        StatusCode::OK
    );
    create_user(&fx, &token, "cbunseen", "13300000005").await;
    assert_eq!(crate::callbacks::deliver_until_idle(&fx.state).await, 0);
    assert!(
        rx.take().is_empty(),
        "an app without a directory scope gets no contact events"
    );
    let listed = events(&fx, "?type=user_add_org").await;
    assert_eq!(
        listed["events"].as_array().unwrap().last().unwrap()["deliveries"],
        json!([])
    );

    let writer_only = &APPS[..APPS.find("  - key: dingnoscopeapp").unwrap()];
    let seeded = format!(
        "{writer_only}    callback:\n      url: {}\n      token: {TOKEN}\n      aes_key: {AES_KEY}\n      events: [org_dept_create]\n      receive_id: corp_id\n",
        rx.url
    );
    let applied = fx
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/_dingdir/seed")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::from(seeded))
                .unwrap(),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.json);
    assert!(rx.take().is_empty(), "a seed's registration sends no check_url");
    let exported = String::from_utf8(
        fx.send(admin(Method::GET, "/_dingdir/export", None))
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    assert!(exported.contains("receive_id: corp_id"), "{exported}");
    assert!(exported.contains(&format!("aes_key: {AES_KEY}")));

    let created = call(
        &fx,
        "/topapi/v2/department/create",
        &token,
        &json!({"name": "Seeded CB", "parent_id": 1}),
    )
    .await;
    assert_eq!(created.json["errcode"], 0, "{:?}", created.json);
    let cbs = fx.send(admin(Method::GET, "/_dingdir/callbacks", None)).await.json;
    assert_eq!(crate::callbacks::deliver_until_idle(&fx.state).await, 1, "{cbs:?}");
    let got = rx.take();
    assert_eq!(got[0].message["EventType"], "org_dept_create");
    assert_eq!(got[0].receive_id, DEMO_CORP);
}

#[tokio::test]
async fn the_events_listing_pages_and_refuses_bad_queries() {
    let (fx, token, _rx) = setup().await;
    let from = last_seq(&fx).await;
    for i in 0..3 {
        create_user(&fx, &token, &format!("cbpage{i}"), &format!("1330000001{i}")).await;
    }
    let first = events(&fx, &format!("?type=user_add_org&limit=2&after={from}")).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_i64().unwrap();
    let rest = events(&fx, &format!("?type=user_add_org&limit=2&after={cursor}")).await;
    assert_eq!(rest["events"].as_array().unwrap().len(), 1);
    assert_eq!(rest["events"][0]["subject"], "cbpage2");
    assert!(rest.get("next_cursor").is_none());
    for bad in ["?type=nope", "?limit=0", "?limit=1001", "?after=-1", "?after=x"] {
        let a = fx
            .send(admin(Method::GET, &format!("/_dingdir/events{bad}"), None))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.json["code"], "BadRequest", "{bad}");
    }
}
