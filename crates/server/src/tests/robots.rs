//! The custom group robot's webhook (docs/wire/robots.md §A) and the inbox: each message type,
//! each security setting and each refusal in DingTalk's answer, the per-minute limit, and what
//! a test reads back. `tests/compat/py_robot.py` referees the same wire with DingtalkChatbot.

use super::*;
use dingdir_core::robot::sign;

const TOKEN: &str = "0f3a9c1d5e7b2a4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d";
const SECRET: &str = "SECb7f5e0a3c9d1";

async fn robot(fx: &Fixture, token: &str, setup: Value) -> Answer {
    fx.send(admin(Method::PUT, &format!("/_dingdir/robots/{token}"), Some(&setup)))
        .await
}

async fn signed(fx: &Fixture) {
    let a = robot(
        fx,
        TOKEN,
        json!({"corp_id": DEMO_CORP, "name": "Build Bot", "group": "Ops", "secret": SECRET}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
}

/// A webhook POST as DingtalkChatbot sends it.
fn webhook(query: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/robot/send?{query}"))
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn signed_query(fx: &Fixture, secret: &str) -> String {
    let ts = fx.state.service.now().to_string();
    let s: String = form_urlencoded::byte_serialize(sign(secret, &ts).as_bytes()).collect();
    format!("access_token={TOKEN}&timestamp={ts}&sign={s}")
}

async fn inbox(fx: &Fixture, query: &str) -> Value {
    let a = fx
        .send(admin(Method::GET, &format!("/_dingdir/inbox{query}"), None))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    a.json
}

fn errcode(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": msg})
}

#[tokio::test]
async fn every_message_type_lands_in_the_inbox_as_sent() {
    let fx = fixture().await;
    signed(&fx).await;
    let bodies = [
        json!({"msgtype": "text", "text": {"content": "部署完成 @15000009144"}, "at": {"atMobiles": ["15000009144"], "isAtAll": false}}),
        json!({"msgtype": "markdown", "markdown": {"title": "日报", "text": "#### 日报\n- 完成"}, "at": {"atUserIds": ["zhangsan"]}}),
        json!({"msgtype": "link", "link": {"title": "Build 7", "text": "failed", "messageUrl": "https://ci.example/7", "picUrl": ""}}),
        json!({"msgtype": "actionCard", "actionCard": {"title": "审批", "text": "请审批", "singleTitle": "查看", "singleURL": "https://x.example"}}),
        json!({"msgtype": "actionCard", "actionCard": {"title": "投票", "text": "选一个", "btns": [{"title": "A", "actionURL": "https://a.example"}, {"title": "B", "actionURL": "https://b.example"}], "btnOrientation": 1}}),
        json!({"msgtype": "feedCard", "feedCard": {"links": [{"title": "One", "messageURL": "https://1.example", "picURL": "https://1.example/p.png"}]}}),
    ];
    for b in &bodies {
        let a = fx.send(webhook(&signed_query(&fx, SECRET), &b.to_string())).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("content-type"), dingdir_proto::oapi::CONTENT_TYPE);
        assert_eq!(a.json, errcode(0, "ok"), "{b}");
    }
    let got = inbox(&fx, "?conversation=Ops").await;
    let messages = got["messages"].as_array().unwrap();
    assert_eq!(messages.len(), bodies.len());
    for (m, b) in messages.iter().zip(&bodies) {
        let kind = b["msgtype"].as_str().unwrap();
        assert_eq!(m["msgtype"], kind);
        assert_eq!(m["content"], b[kind]);
        assert_eq!(m["conversation"], "Ops");
        assert_eq!(m["sender"], "Build Bot");
        assert_eq!(m["sender_kind"], "webhook_robot");
        assert_eq!(m["sender_id"], TOKEN);
        assert_eq!(m["corp_id"], DEMO_CORP);
    }
    assert_eq!(
        messages[0]["mentions"],
        json!({"atMobiles": ["15000009144"], "isAtAll": false})
    );
    assert!(messages[2].get("mentions").is_none(), "links take no at");
    let page = inbox(&fx, "?conversation=Ops&limit=2").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    let next = page["next_cursor"].as_i64().unwrap();
    let rest = inbox(&fx, &format!("?conversation=Ops&after={next}")).await;
    assert_eq!(rest["messages"].as_array().unwrap().len(), 4);
    assert_eq!(inbox(&fx, "?conversation=Elsewhere").await["messages"], json!([]));
    for bad in [
        "/_dingdir/inbox?limit=many",
        "/_dingdir/stream/attempts?app_key=x&after=soon",
    ] {
        let a = fx.send(admin(Method::GET, bad, None)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.header("content-type"), "application/json;charset=utf-8", "{bad}");
        assert_eq!(a.json["code"], "BadRequest", "{bad}: {:?}", a.json);
    }
}

#[tokio::test]
async fn a_signed_robot_refuses_a_wrong_missing_or_stale_signature() {
    let fx = fixture().await;
    signed(&fx).await;
    let body = r#"{"msgtype":"text","text":{"content":"hi"}}"#;
    let sign_mismatch = errcode(
        310_000,
        "description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;",
    );
    let wrong = fx.send(webhook(&signed_query(&fx, "SECwrong"), body)).await;
    assert_eq!(wrong.json, sign_mismatch);
    let unsigned = fx.send(webhook(&format!("access_token={TOKEN}"), body)).await;
    assert_eq!(unsigned.json, sign_mismatch);
    let query = signed_query(&fx, SECRET);
    fx.clock.advance_ms(3_601_000).unwrap();
    let stale = fx.send(webhook(&query, body)).await;
    assert_eq!(
        stale.json,
        errcode(
            310_000,
            "invalid timestamp, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"
        )
    );
    assert_eq!(inbox(&fx, "").await["messages"], json!([]), "nothing refused is kept");
}

#[tokio::test]
async fn keywords_and_ip_ranges_are_checked() {
    let fx = fixture().await;
    let a = robot(
        &fx,
        "kwbot",
        json!({"corp_id": DEMO_CORP, "name": "Alerts", "group": "Ops", "keywords": ["告警", "alert"]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let none = fx
        .send(webhook(
            "access_token=kwbot",
            r#"{"msgtype":"text","text":{"content":"hello"}}"#,
        ))
        .await;
    assert_eq!(
        none.json,
        errcode(
            310_000,
            "description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;"
        )
    );
    let card = r#"{"msgtype":"actionCard","actionCard":{"title":"disk alert","text":"90%","singleTitle":"open","singleURL":"u"}}"#;
    assert_eq!(
        fx.send(webhook("access_token=kwbot", card)).await.json,
        errcode(0, "ok")
    );

    robot(
        &fx,
        "ipbot",
        json!({"corp_id": DEMO_CORP, "name": "Net", "group": "Ops", "ip_ranges": ["10.0.0.0/8"]}),
    )
    .await;
    let body = r#"{"msgtype":"text","text":{"content":"x"}}"#;
    let from = |ip: [u8; 4]| {
        let mut r = webhook("access_token=ipbot", body);
        r.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 5000))));
        r
    };
    assert_eq!(fx.send(from([10, 1, 2, 3])).await.json, errcode(0, "ok"));
    assert_eq!(
        fx.send(from([127, 0, 0, 1])).await.json,
        errcode(
            310_000,
            "description:ip 不在白名单中;solution:请联系对应群的管理员，设置机器人安全ip地址段"
        )
    );
}

#[tokio::test]
async fn bad_tokens_and_bodies_get_dingtalks_codes() {
    let fx = fixture().await;
    signed(&fx).await;
    let q = signed_query(&fx, SECRET);
    let cases = [
        (
            "access_token=nope",
            r#"{"msgtype":"text","text":{"content":"x"}}"#,
            errcode(300_001, "token is not exist"),
        ),
        (
            "",
            r#"{"msgtype":"text","text":{"content":"x"}}"#,
            errcode(300_001, "token is not exist"),
        ),
        (q.as_str(), "{not json", errcode(40_035, "缺少参数 json")),
        (q.as_str(), "", errcode(40_035, "缺少参数 json")),
        (
            q.as_str(),
            r#"{"msgtype":"image","image":{"picURL":"u"}}"#,
            errcode(400_105, "不支持的消息类型"),
        ),
        (
            q.as_str(),
            r#"{"msgtype":"markdown","markdown":{"text":"x"}}"#,
            errcode(
                400_402,
                "错误描述:参数 markdown --》 title 缺失，或者参数格式不正确; 解决方案:请填充上对应参数;参考链接:请参考本接口对应文档查看参数获取方式，或者在https://open.dingtalk.com/document/  搜索对应文档;",
            ),
        ),
    ];
    for (query, body, want) in cases {
        let a = fx.send(webhook(query, body)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.json, want, "{query} {body}");
    }
    let big = format!(r#"{{"msgtype":"text","text":{{"content":"{}"}}}}"#, "x".repeat(20_001));
    assert_eq!(
        fx.send(webhook(&q, &big)).await.json,
        errcode(
            460_101,
            "description: body 大小不合法;solution:请保持大小在 20000bytes 以内;"
        )
    );
    let mut plain = webhook(&q, r#"{"msgtype":"text","text":{"content":"x"}}"#);
    plain
        .headers_mut()
        .insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
    assert_eq!(
        fx.send(plain).await.json,
        errcode(43_004, "无效的HTTP HEADER Content-Type")
    );
    let get = fx
        .send(request(Method::GET, "/robot/send?access_token=x", Body::empty()))
        .await;
    assert_eq!(get.json["errcode"], 43_002, "{:?}", get.json);
}

#[tokio::test]
async fn past_twenty_a_minute_the_robot_refuses_for_ten_minutes() {
    let fx = fixture().await;
    robot(
        &fx,
        "fastbot",
        json!({"corp_id": DEMO_CORP, "name": "Fast", "group": "Ops", "keywords": ["x"]}),
    )
    .await;
    let body = r#"{"msgtype":"text","text":{"content":"x"}}"#;
    // Start at a minute's beginning, so all 21 fall in one window.
    let now = fx.state.service.now();
    fx.clock.advance_ms(60_000 - now.rem_euclid(60_000)).unwrap();
    for i in 0..20 {
        assert_eq!(
            fx.send(webhook("access_token=fastbot", body)).await.json,
            errcode(0, "ok"),
            "message {i}"
        );
    }
    let too_fast = errcode(410_100, "send too fast, exceed 20 times per minute");
    assert_eq!(fx.send(webhook("access_token=fastbot", body)).await.json, too_fast);
    fx.clock.advance_ms(61_000).unwrap();
    assert_eq!(
        fx.send(webhook("access_token=fastbot", body)).await.json,
        too_fast,
        "still blocked"
    );
    fx.clock.advance_ms(600_000).unwrap();
    assert_eq!(
        fx.send(webhook("access_token=fastbot", body)).await.json,
        errcode(0, "ok")
    );
    let listed = fx.send(admin(Method::GET, "/_dingdir/robots", None)).await.json;
    assert!(listed["robots"][0]["blocked_until"].as_i64().unwrap() > 0);
    assert_eq!(
        inbox(&fx, "?sender_id=fastbot&limit=1000").await["messages"]
            .as_array()
            .unwrap()
            .len(),
        21
    );
}

#[tokio::test]
async fn robots_are_set_up_through_the_admin_api_and_seeds() {
    let fx = fixture().await;
    let bad = robot(&fx, "b", json!({"corp_id": DEMO_CORP, "name": "B", "group": "G"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json["message"],
        "a robot needs at least one security setting: secret, keywords or ip_ranges"
    );
    let nocorp = robot(
        &fx,
        "b",
        json!({"corp_id": "dingnope", "name": "B", "group": "G", "keywords": ["k"]}),
    )
    .await;
    assert_eq!(nocorp.status, StatusCode::BAD_REQUEST);
    let seed = format!(
        "robots:\n  - token: seeded\n    corp: {DEMO_CORP}\n    name: Seeded\n    group: Releases\n    secret: SECseeded\n    keywords: [release]\n"
    );
    let a = fx
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/_dingdir/seed")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::from(seed))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let listed = fx.send(admin(Method::GET, "/_dingdir/robots", None)).await.json;
    assert_eq!(
        listed["robots"],
        json!([{"token": "seeded", "corp_id": DEMO_CORP, "name": "Seeded", "group": "Releases", "signed": true,
                "keywords": ["release"], "ip_ranges": [], "blocked_until": 0}])
    );
    let gone = fx.send(admin(Method::DELETE, "/_dingdir/robots/seeded", None)).await;
    assert_eq!(gone.json, json!({"cleared": 1}));
    let again = fx.send(admin(Method::DELETE, "/_dingdir/robots/seeded", None)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
