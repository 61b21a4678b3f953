//! Stream mode (docs/wire/stream.md): `connections/open`, the WebSocket at `/connect`, event
//! frames with DingTalk's headers, acks, redelivery, and the admin controls, over a real TCP
//! listener on 127.0.0.1 with a WebSocket client that speaks the frames as the SDKs do. The
//! official Python and Node SDKs referee the same wire in `crates/dingdir/tests/it/compat.rs`.

use super::*;
use dingdir_core::stream::event_id;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

const APPS: &str = "apps:
  - key: dingstreamapp
    name: Stream App
    type: internal
    secret: stream-secret
    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
    scopes: [qyapi_get_member, qyapi_get_department_list, qyapi_manage_addresslist]
";
const APP: &str = "dingstreamapp";
const SECRET: &str = "stream-secret";

/// How long a test waits for a frame before it fails.
const WAIT: Duration = Duration::from_secs(10);

/// A server on 127.0.0.1 with a free port, with short Stream timings.
struct Live {
    fx: Fixture,
    addr: std::net::SocketAddr,
    writer: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn live(tune: impl FnOnce(&mut Settings)) -> Live {
    let store = seeded_store().await;
    seed::apply_text(store.as_ref(), "apps.yaml", APPS).await.unwrap();
    let mut settings = test_settings();
    settings.callbacks.poll = Duration::from_millis(50);
    settings.stream.ack_timeout = Duration::from_millis(600);
    settings.stream.later_delay = Duration::from_millis(300);
    settings.stream.ping_interval = Duration::ZERO;
    settings.stream.disconnect_grace = Duration::from_millis(300);
    tune(&mut settings);
    let fx = fixture_with(Setup {
        settings,
        store: Some(store),
        ..Setup::default()
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = fx.app.clone();
    tokio::spawn(crate::serve(
        listener,
        app,
        crate::ConnectionLimits::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    tokio::spawn(crate::wake_stream_deliverers(fx.state.clone()));
    let writer = fx.app_token(APP, SECRET).await;
    Live {
        fx,
        addr,
        writer,
        stop: Some(stop),
    }
}

impl Live {
    async fn open(&self, body: &Value) -> Answer {
        self.fx
            .send(sdk_post("/v1.0/gateway/connections/open", &body.to_string()))
            .await
    }

    /// Opens and connects one connection subscribed to every event.
    async fn connect(&self) -> Ws {
        let a = self
            .open(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "EVENT", "topic": "*"}], "ua": "test/1", "localIp": "10.0.0.9"}))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
        self.connect_with(a.json["ticket"].as_str().unwrap())
            .await
            .expect("the ticket connects")
    }

    async fn connect_with(&self, ticket: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let url = format!("ws://{}/connect?ticket={ticket}", self.addr);
        let (ws, _) = tokio_tungstenite::client_async(url, tcp).await?;
        let ws = Ws { ws };
        // The socket is registered once the upgrade is served; wait until the admin API sees it.
        Ok(ws)
    }

    async fn create(&self, userid: &str) {
        let a = call(
            &self.fx,
            "/topapi/v2/user/create",
            &self.writer,
            &json!({"userid": userid, "name": userid, "mobile": format!("139{:08}", userid.len() * 1000 + userid.bytes().map(u64::from).sum::<u64>() as usize), "dept_id_list": "1"}),
        )
        .await;
        assert_eq!(a.json["errcode"], 0, "{:?}", a.json);
    }

    async fn admin(&self, method: Method, uri: &str, body: Option<&Value>) -> Answer {
        self.fx.send(admin(method, uri, body)).await
    }

    async fn connections(&self) -> Vec<Value> {
        let a = self.admin(Method::GET, "/_dingdir/stream/connections", None).await;
        assert_eq!(a.status, StatusCode::OK);
        a.json["connections"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until `n` connections are open here.
    async fn until_open(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let list = self.connections().await;
            if list.len() == n {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("never saw {n} open connections: {:?}", self.connections().await);
    }

    async fn delivery(&self) -> Value {
        let a = self
            .admin(Method::GET, &format!("/_dingdir/stream/attempts?app_key={APP}"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
        a.json
    }
}

struct Ws {
    ws: WebSocketStream<TcpStream>,
}

/// One frame as the SDKs parse it.
#[derive(Debug)]
struct Got {
    kind: String,
    headers: Value,
    data: Value,
}

impl Ws {
    /// The next text frame, within [`WAIT`]; `None` when the server closed.
    async fn frame(&mut self) -> Option<Got> {
        self.frame_within(WAIT).await.expect("a frame in time")
    }

    /// The next text frame within `within`: `Err` on none in time, `Ok(None)` on close.
    async fn frame_within(&mut self, within: Duration) -> Result<Option<Got>, ()> {
        let next = async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Text(t))) => {
                        let v: Value = serde_json::from_str(t.as_str()).unwrap();
                        assert_eq!(v["specVersion"], "1.0");
                        return Some(Got {
                            kind: v["type"].as_str().unwrap().to_owned(),
                            headers: v["headers"].clone(),
                            data: serde_json::from_str(v["data"].as_str().unwrap()).unwrap(),
                        });
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
                    Some(Ok(_)) => {}
                }
            }
        };
        tokio::time::timeout(within, next).await.map_err(|_| ())
    }

    async fn event(&mut self) -> Got {
        let got = self.frame().await.expect("an event, not a close");
        assert_eq!(got.kind, "EVENT", "{got:?}");
        got
    }

    /// Acks as the Node SDK does: code 200 and `{"status": …}`.
    async fn ack(&mut self, got: &Got, status: &str) {
        let ack = json!({
            "code": 200,
            "headers": {"contentType": "application/json", "messageId": got.headers["messageId"]},
            "message": "OK",
            "data": json!({"status": status}).to_string(),
        });
        self.ws.send(Message::Text(ack.to_string().into())).await.unwrap();
    }
}

#[tokio::test]
async fn open_answers_an_endpoint_and_a_ticket_and_refuses_bad_credentials_and_subscriptions() {
    let s = live(|_| {}).await;
    let mut a = s
        .open(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "EVENT", "topic": "*"}, {"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}], "ua": "dingtalk-sdk-python/v0.24.3-union", "localIp": "10.0.0.9"}))
        .await;
    let ticket = a.take_token("ticket");
    assert_api(
        &a,
        StatusCode::OK,
        json!({"endpoint": "ws://127.0.0.1:18080/connect", "ticket": HEX32}),
    );
    assert!(is_hex32(&ticket));

    let bad = s
        .open(&json!({"clientId": APP, "clientSecret": "wrong", "subscriptions": [{"type": "EVENT", "topic": "*"}]}))
        .await;
    assert_api_error(
        &bad,
        StatusCode::UNAUTHORIZED,
        json!({"code": "authFailed", "message": "鉴权失败", "requestid": RID}),
    );
    let missing = s
        .open(&json!({"subscriptions": [{"type": "EVENT", "topic": "*"}]}))
        .await;
    assert_api_error(
        &missing,
        StatusCode::UNAUTHORIZED,
        json!({"code": "authFailed", "message": "鉴权失败", "requestid": RID}),
    );
    let none = s
        .open(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": []}))
        .await;
    assert_api_error(
        &none,
        StatusCode::BAD_REQUEST,
        json!({"code": "invalidParameter", "message": "参数错误：subscriptions is empty", "requestid": RID}),
    );
    let odd = s
        .open(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "PUSH", "topic": "*"}]}))
        .await;
    assert_api_error(
        &odd,
        StatusCode::BAD_REQUEST,
        json!({"code": "invalidParameter", "message": "参数错误：subscriptions[0]: type \"PUSH\" is not EVENT or CALLBACK", "requestid": RID}),
    );
    let broken = s.fx.send(sdk_post("/v1.0/gateway/connections/open", "{not json")).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.json["code"], "invalidParameter");
}

#[tokio::test]
async fn a_ticket_connects_once_and_connect_answers_json_without_an_upgrade() {
    let s = live(|_| {}).await;
    let a = s
        .open(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "EVENT", "topic": "*"}]}))
        .await;
    let ticket = a.json["ticket"].as_str().unwrap().to_owned();
    let _first = s.connect_with(&ticket).await.expect("the first use connects");
    match s.connect_with(&ticket).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            let body: Value = serde_json::from_slice(r.body().as_deref().unwrap_or_default()).unwrap();
            assert_eq!(body["code"], "authFailed");
        }
        other => panic!("a used ticket must be refused with 401, got {:?}", other.map(|_| ())),
    }
    let plain =
        s.fx.send(request(Method::GET, "/connect?ticket=abc", Body::empty()))
            .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert_eq!(plain.header("content-type"), "application/json;charset=utf-8");
    assert_eq!(plain.json["code"], "invalidParameter");
    assert!(is_api_request_id(plain.json["requestid"].as_str().unwrap()));
}

#[tokio::test]
async fn events_arrive_in_log_order_with_dingtalks_headers_and_pass_on_success() {
    let s = live(|_| {}).await;
    let mut ws = s.connect().await;
    s.until_open(1).await;
    let registered = s.delivery().await["registered_seq"].as_i64().unwrap();
    for id in ["st_a", "st_b", "st_c"] {
        s.create(id).await;
    }
    for (i, id) in ["st_a", "st_b", "st_c"].into_iter().enumerate() {
        let got = ws.event().await;
        let seq = registered + 1 + i as i64;
        let h = &got.headers;
        assert_eq!(h["eventType"], "user_add_org");
        assert_eq!(h["eventCorpId"], DEMO_CORP);
        assert_eq!(h["eventId"], event_id(seq));
        assert_eq!(h["topic"], "*");
        assert_eq!(h["contentType"], "application/json");
        assert_eq!(h["appId"], APP);
        assert!(is_hex32(h["messageId"].as_str().unwrap()));
        assert!(h["eventBornTime"].as_str().unwrap().parse::<i64>().is_ok());
        // The documented Stream body, not the HTTP callback's (docs/wire/stream.md §4).
        assert_eq!(got.data.as_object().unwrap().len(), 2, "{:?}", got.data);
        assert_eq!(got.data["userId"], json!([id]));
        assert_eq!(got.data["timeStamp"], h["eventBornTime"]);
        ws.ack(&got, "SUCCESS").await;
    }
    for _ in 0..100 {
        if s.delivery().await["delivered_seq"] == json!(registered + 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let d = s.delivery().await;
    assert_eq!(d["delivered_seq"], json!(registered + 3));
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(attempts.iter().all(|a| a.get("error").is_none()));
    let open = s.connections().await;
    assert_eq!(open[0]["sent"], 3);
    assert_eq!(open[0]["acked"], 3);
    assert_eq!(open[0]["ua"], "test/1");
    assert_eq!(open[0]["local_ip"], "10.0.0.9");
    let metrics = s.admin(Method::GET, "/_dingdir/metrics/prometheus", None).await.text();
    for line in [
        "dingdir_stream_connections 1",
        "dingdir_stream_frames_sent 3",
        "dingdir_stream_acks 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "no {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn an_event_not_acknowledged_comes_again_and_later_waits_before_it_does() {
    let s = live(|_| {}).await;
    let mut ws = s.connect().await;
    s.until_open(1).await;
    s.create("st_again").await;
    let first = ws.event().await;
    // No ack: the same event again after the ack timeout, as a new push.
    let again = ws.event().await;
    assert_eq!(again.headers["eventId"], first.headers["eventId"]);
    assert_ne!(again.headers["messageId"], first.headers["messageId"]);
    ws.ack(&again, "LATER").await;
    let asked = std::time::Instant::now();
    let third = ws.event().await;
    assert!(
        asked.elapsed() >= Duration::from_millis(250),
        "LATER was not waited for"
    );
    assert_eq!(third.headers["eventId"], first.headers["eventId"]);
    ws.ack(&third, "SUCCESS").await;
    s.create("st_next").await;
    let next = ws.event().await;
    assert_eq!(next.data["userId"], json!(["st_next"]));
    ws.ack(&next, "SUCCESS").await;
    let d = s.delivery().await;
    let errors: Vec<Value> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["error"].clone())
        .collect();
    assert_eq!(errors[0], "no acknowledgement within 600 ms");
    assert_eq!(errors[1], "LATER");
    assert_eq!(errors[2], Value::Null);
}

#[tokio::test]
async fn events_written_while_no_connection_is_open_arrive_on_the_next() {
    let s = live(|_| {}).await;
    let ws = s.connect().await;
    s.until_open(1).await;
    drop(ws);
    s.until_open(0).await;
    s.create("st_miss1").await;
    s.create("st_miss2").await;
    let mut ws = s.connect().await;
    for id in ["st_miss1", "st_miss2"] {
        let got = ws.event().await;
        assert_eq!(got.data["userId"], json!([id]));
        ws.ack(&got, "SUCCESS").await;
    }
}

#[tokio::test]
async fn close_with_notice_sends_disconnect_first_and_close_without_it_does_not() {
    let s = live(|_| {}).await;
    let mut ws = s.connect().await;
    let id = s.until_open(1).await[0]["id"].as_str().unwrap().to_owned();
    let a = s
        .admin(
            Method::POST,
            &format!("/_dingdir/stream/connections/{id}/close"),
            Some(&json!({"notice": "moving you"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let notice = ws.frame().await.expect("the disconnect notice");
    assert_eq!(notice.kind, "SYSTEM");
    assert_eq!(notice.headers["topic"], "disconnect");
    assert_eq!(notice.data, json!({"reason": "moving you"}));
    assert!(ws.frame().await.is_none(), "then the server closes");
    s.until_open(0).await;

    let mut ws = s.connect().await;
    s.until_open(1).await;
    let all = s
        .admin(Method::POST, "/_dingdir/stream/close", Some(&json!({"app_key": APP})))
        .await;
    assert_eq!(all.json, json!({"cleared": 1}));
    assert!(ws.frame().await.is_none(), "closed with no notice");
    let gone = s
        .admin(Method::POST, "/_dingdir/stream/connections/nope/close", None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_zombie_gets_nothing_and_its_event_goes_out_again_on_the_other_connection() {
    let s = live(|_| {}).await;
    let _zombie = s.connect().await;
    let zombie_id = s.until_open(1).await[0]["id"].as_str().unwrap().to_owned();
    let mut live_ws = s.connect().await;
    s.until_open(2).await;
    let z = s
        .admin(
            Method::POST,
            &format!("/_dingdir/stream/connections/{zombie_id}/zombie"),
            None,
        )
        .await;
    assert_eq!(z.status, StatusCode::OK, "{:?}", z.json);
    assert_eq!(z.json["zombie"], true);
    for id in ["st_z1", "st_z2", "st_z3"] {
        s.create(id).await;
    }
    // Whichever connection gets a push first, each event ends on the live one, in order.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let got = live_ws.event().await;
        seen.push(got.data["userId"][0].as_str().unwrap().to_owned());
        live_ws.ack(&got, "SUCCESS").await;
    }
    assert_eq!(seen, ["st_z1", "st_z2", "st_z3"]);
    let open = s.connections().await;
    let zombie = open.iter().find(|c| c["id"] == zombie_id.as_str()).unwrap();
    assert_eq!(zombie["acked"], 0);
    assert!(
        zombie["sent"].as_u64() >= Some(1),
        "round robin did push to the zombie: {zombie}"
    );
}

#[tokio::test]
async fn a_dropped_ack_sends_the_event_again_and_a_delayed_one_still_counts() {
    let s = live(|_| {}).await;
    let put = s
        .admin(
            Method::PUT,
            &format!("/_dingdir/stream/acks/{APP}"),
            Some(&json!({"drop": true, "count": 1})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.json);
    let mut ws = s.connect().await;
    s.until_open(1).await;
    s.create("st_drop").await;
    let first = ws.event().await;
    ws.ack(&first, "SUCCESS").await;
    let again = ws.event().await;
    assert_eq!(again.headers["eventId"], first.headers["eventId"]);
    ws.ack(&again, "SUCCESS").await;
    // A delay under the ack timeout: acknowledged once, never sent again.
    s.admin(
        Method::PUT,
        &format!("/_dingdir/stream/acks/{APP}"),
        Some(&json!({"delay_ms": 200})),
    )
    .await;
    s.create("st_delay").await;
    let got = ws.event().await;
    assert_eq!(got.data["userId"], json!(["st_delay"]));
    ws.ack(&got, "SUCCESS").await;
    assert!(
        ws.frame_within(Duration::from_millis(900)).await.is_err(),
        "nothing sent again"
    );
    let cleared = s
        .admin(Method::DELETE, &format!("/_dingdir/stream/acks/{APP}"), None)
        .await;
    assert_eq!(cleared.json, json!({"cleared": 1}));
    let bad = s
        .admin(Method::PUT, &format!("/_dingdir/stream/acks/{APP}"), Some(&json!({})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_server_pings_and_counts_the_answers() {
    let s = live(|s| s.stream.ping_interval = Duration::from_millis(100)).await;
    let mut ws = s.connect().await;
    s.until_open(1).await;
    let ping = ws.frame().await.expect("a ping");
    assert_eq!(ping.kind, "SYSTEM");
    assert_eq!(ping.headers["topic"], "ping");
    assert!(ping.data["opaque"].is_string());
    // Answer as the Node SDK does: every header back, and the data.
    let answer = json!({"code": 200, "headers": ping.headers, "message": "OK", "data": ping.data.to_string()});
    ws.ws.send(Message::Text(answer.to_string().into())).await.unwrap();
    for _ in 0..100 {
        if s.connections().await[0]["pings_answered"].as_u64() >= Some(1) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the answer was not counted: {:?}", s.connections().await);
}

#[tokio::test]
async fn an_app_holds_at_most_its_connection_limit() {
    let s = live(|s| s.stream.max_per_app = 2).await;
    let _one = s.connect().await;
    let _two = s.connect().await;
    s.until_open(2).await;
    let a = s
        .open(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "EVENT", "topic": "*"}]}))
        .await;
    match s.connect_with(a.json["ticket"].as_str().unwrap()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), StatusCode::FORBIDDEN),
        other => panic!("a third connection must be refused, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_fault_rule_refuses_the_next_open_and_connections_still_upgrade_while_rules_are_armed() {
    let s = live(|_| {}).await;
    let rule = s
        .admin(
            Method::POST,
            "/_dingdir/faults",
            Some(&json!({"endpoint": "OpenConnection", "action": {"kind": "error", "status": 503, "code": "system.busy", "message": "系统繁忙"}, "fire": {"next": 1}})),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{:?}", rule.json);
    let body = json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "EVENT", "topic": "*"}]});
    let busy = s.open(&body).await;
    assert_api_error(
        &busy,
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"code": "system.busy", "message": "系统繁忙", "requestid": RID}),
    );
    // A rule on another endpoint keeps every request on the inspected path: the upgrade too.
    s.admin(
        Method::POST,
        "/_dingdir/faults",
        Some(&json!({"endpoint": "GetUser", "action": {"kind": "delay", "ms": 1}})),
    )
    .await;
    let mut ws = s.connect().await;
    s.until_open(1).await;
    s.create("st_fault").await;
    let got = ws.event().await;
    assert_eq!(got.data["userId"], json!(["st_fault"]));
}

#[tokio::test]
async fn a_connection_told_to_close_gets_no_more_pushes() {
    let s = live(|s| s.stream.disconnect_grace = Duration::from_secs(5)).await;
    let _closing = s.connect().await;
    let closing_id = s.until_open(1).await[0]["id"].as_str().unwrap().to_owned();
    let mut other = s.connect().await;
    s.until_open(2).await;
    s.admin(
        Method::POST,
        &format!("/_dingdir/stream/connections/{closing_id}/close"),
        Some(&json!({"notice": "moving"})),
    )
    .await;
    s.create("st_after_notice").await;
    // Well inside the 5 s grace and under the ack timeout: the event went to the other one first.
    let got = other
        .frame_within(Duration::from_millis(500))
        .await
        .expect("at once")
        .expect("an event");
    assert_eq!(got.data["userId"], json!(["st_after_notice"]));
    other.ack(&got, "SUCCESS").await;
}

#[tokio::test]
async fn a_person_writes_to_a_bot_over_stream_and_its_answer_lands_in_the_inbox() {
    let s = live(|_| {}).await;
    let a = s
        .open(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}]}))
        .await;
    let mut bot = s.connect_with(a.json["ticket"].as_str().unwrap()).await.unwrap();
    s.until_open(1).await;
    let said = tokio::spawn({
        let req = admin(
            Method::POST,
            "/_dingdir/chat",
            Some(&json!({"app_key": APP, "from": "zhangsan", "group": "Team", "text": "hello"})),
        );
        let app = s.fx.app.clone();
        async move { tower::ServiceExt::oneshot(app, req).await.unwrap() }
    });
    let got = bot.frame().await.expect("the bot's message");
    assert_eq!(got.kind, "CALLBACK");
    assert_eq!(got.headers["topic"], "/v1.0/im/bot/messages/get");
    let d = &got.data;
    assert_eq!(d["msgtype"], "text");
    assert_eq!(d["text"]["content"], " hello");
    assert_eq!(d["conversationType"], "2");
    assert_eq!(d["conversationTitle"], "Team");
    assert_eq!(d["senderStaffId"], "zhangsan");
    assert_eq!(d["senderNick"], "张三");
    assert_eq!(d["robotCode"], APP);
    assert_eq!(d["isInAtList"], true);
    assert!(d["sessionWebhookExpiredTime"].as_i64().unwrap() - d["createAt"].as_i64().unwrap() == 90 * 60 * 1000);
    let ack = json!({"code": 200, "headers": {"contentType": "application/json", "messageId": got.headers["messageId"]},
                     "message": "", "data": "{\"response\": null}"});
    bot.ws.send(Message::Text(ack.to_string().into())).await.unwrap();
    let said = said.await.unwrap();
    assert_eq!(said.status(), StatusCode::OK);
    let body: Value = serde_json::from_slice(&axum::body::to_bytes(said.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert_eq!(body["ack"]["code"], 200, "{body}");
    assert_eq!(body["conversation"], "Team");

    let webhook = d["sessionWebhook"].as_str().unwrap();
    let path = webhook.trim_start_matches("http://127.0.0.1:18080");
    let reply =
        s.fx.send(legacy_post(
            path,
            "application/json",
            r#"{"msgtype":"text","text":{"content":"hi back"}}"#,
        ))
        .await;
    assert_eq!(reply.json, json!({"errcode": 0, "errmsg": "ok"}));
    let inbox = s
        .admin(Method::GET, "/_dingdir/inbox?conversation=Team", None)
        .await
        .json;
    let kinds: Vec<(Value, Value)> = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["sender_kind"].clone(), m["content"]["content"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!("person"), json!("hello")),
            (json!("app_robot"), json!("hi back"))
        ]
    );
    let gone =
        s.fx.send(legacy_post(
            "/robot/sendBySession?session=nope",
            "application/json",
            r#"{"msgtype":"text","text":{"content":"x"}}"#,
        ))
        .await;
    assert_eq!(gone.json, json!({"errcode": 300001, "errmsg": "session 不存在"}));
    // No bot connected: the message is still recorded, and the answer says it went nowhere.
    let nobody = s
        .admin(
            Method::POST,
            "/_dingdir/chat",
            Some(&json!({"app_key": "dingdemoreadonly", "from": "lisi", "text": "anyone?"})),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::OK, "{:?}", nobody.json);
    assert!(nobody.json.get("connection").is_none());
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_dropped() {
    let s = live(|s| s.stream.ping_interval = Duration::from_millis(100)).await;
    let mut ws = s.connect().await;
    s.until_open(1).await;
    // Read (so the socket stays healthy) but never answer: after three unanswered pings, gone.
    let reader =
        tokio::spawn(async move { while ws.frame_within(Duration::from_secs(5)).await.is_ok_and(|f| f.is_some()) {} });
    s.until_open(0).await;
    reader.abort();
}

#[tokio::test]
async fn reset_closes_connections_with_a_notice_and_the_next_one_gets_events() {
    let s = live(|_| {}).await;
    let mut ws = s.connect().await;
    s.until_open(1).await;
    let r = s.admin(Method::POST, "/_dingdir/reset", None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let notice = ws.frame().await.expect("a disconnect notice");
    assert_eq!(
        (notice.kind.as_str(), notice.headers["topic"].as_str()),
        ("SYSTEM", Some("disconnect"))
    );
    s.until_open(0).await;
    // Reset emptied the store (these fixtures have no startup seed): the directory again.
    for (file, text) in [("demo.yaml", DEMO_SEED), ("apps.yaml", APPS)] {
        seed::apply_text(s.fx.state.service.background(), file, text)
            .await
            .unwrap();
    }
    let writer = s.fx.app_token(APP, SECRET).await;
    let mut ws = s.connect().await;
    s.until_open(1).await;
    let a = call(
        &s.fx,
        "/topapi/v2/user/create",
        &writer,
        &json!({"userid": "st_reset", "name": "r", "mobile": "13977770001", "dept_id_list": "1"}),
    )
    .await;
    assert_eq!(a.json["errcode"], 0, "{:?}", a.json);
    let got = ws.event().await;
    assert_eq!(got.data["userId"], json!(["st_reset"]));
}
