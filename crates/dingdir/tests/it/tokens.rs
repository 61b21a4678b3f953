//! Token lifetimes with the movable clock, survival across restarts, and the request shapes only
//! real TCP shows (the Node SDK's chunked bodies, any `Host`).

use crate::harness::{Server, http};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::Duration;

async fn mint(server: &Server) -> Value {
    server.mint_user_token("dingdemointernal", "15000009144").await
}

async fn me(server: &Server, token: &str) -> (u16, Value) {
    let r = server.get_me(token).await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn an_app_token_is_renewed_while_valid_and_replaced_after_expiry() {
    let server = Server::dev(&[]);
    let first = server.gettoken("dingdemointernal", "demo-internal-secret").await;
    let token = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server.by_mobile(&token, "15000009144").await["result"]["userid"],
        "zhangsan"
    );

    server.advance_clock(7000).await;
    let again = server.gettoken("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(again, first, "the same string and expires_in while valid");
    server.advance_clock(7000).await;
    assert_eq!(
        server.by_mobile(&token, "15000009144").await["errcode"],
        0,
        "renewed: valid 14000 s after first issue"
    );

    server.advance_clock(201).await;
    let expired = server.by_mobile(&token, "15000009144").await;
    assert_eq!(expired["errcode"], 88);
    assert_eq!(expired["sub_code"], "40014");
    let fresh = server.gettoken("dingdemointernal", "demo-internal-secret").await;
    assert_ne!(fresh["access_token"], first["access_token"]);
    assert_eq!(
        server
            .by_mobile(fresh["access_token"].as_str().unwrap(), "15000009144")
            .await["errcode"],
        0
    );
}

#[tokio::test]
async fn user_tokens_and_then_refresh_tokens_expire() {
    let server = Server::dev(&["--token-ttl", "60"]);
    let minted = mint(&server).await;
    assert_eq!(minted["expireIn"], json!(60));
    let token = minted["accessToken"].as_str().unwrap();
    assert_eq!(me(&server, token).await.0, 200);
    server.advance_clock(61).await;
    let (status, body) = me(&server, token).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "InvalidAuthentication");

    // The refresh token outlives the access token (30 days), then expires too.
    let refresh = json!({"clientId": "dingdemointernal", "clientSecret": "demo-internal-secret", "refreshToken": minted["refreshToken"], "grantType": "refresh_token"});
    let r = http()
        .post(server.url("/v1.0/oauth2/userAccessToken"))
        .json(&refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let renewed: Value = r.json().await.unwrap();
    server.advance_clock(30 * 24 * 3600 + 1).await;
    let late = json!({"clientId": "dingdemointernal", "clientSecret": "demo-internal-secret", "refreshToken": renewed["refreshToken"], "grantType": "refresh_token"});
    let r = http()
        .post(server.url("/v1.0/oauth2/userAccessToken"))
        .json(&late)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalidRefreshToken");
}

#[tokio::test]
async fn tokens_survive_a_restart_on_the_same_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tokens.sqlite");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
    let first = Server::serve(&db, &["--seed", demo]);
    let app = &first.gettoken("dingdemointernal", "demo-internal-secret").await;
    let user = mint(&first).await;
    assert!(first.stop());

    let second = Server::serve(&db, &[]);
    assert_eq!(
        &second.gettoken("dingdemointernal", "demo-internal-secret").await,
        app,
        "the same app token"
    );
    assert_eq!(
        second
            .by_mobile(app["access_token"].as_str().unwrap(), "15000009144")
            .await["result"]["userid"],
        "zhangsan"
    );
    let (status, body) = me(&second, user["accessToken"].as_str().unwrap()).await;
    assert_eq!((status, body["nick"].as_str()), (200, Some("zhangsan")));
}

#[tokio::test]
async fn the_clock_moves_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::serve(&dir.path().join("c.sqlite"), &[]);
    let r = http()
        .post(server.url("/_dingdir/clock"))
        .bearer_auth(&server.admin_token)
        .json(&json!({"advance_secs": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "DevOnly");
}

/// Sends raw bytes over TCP and returns the whole answer (the server closes after one request).
fn raw(server: &Server, request: &[u8]) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn chunked(head: &str, body: &str) -> Vec<u8> {
    let (a, b) = body.split_at(body.len() / 2);
    format!(
        "{head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn chunked_bodies_as_the_node_sdk_sends_them_are_read() {
    let server = Server::dev(&[]);
    // SDK-WIRE.md §2.2, byte for byte but the Host, which must not matter.
    let head = "POST /v1.0/oauth2/accessToken HTTP/1.1\r\nhost: api.dingtalk.com\r\n\
                user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\r\n\
                accept: application/json\r\ncontent-type: application/json; charset=utf-8\r\n";
    let answer = raw(
        &server,
        &chunked(
            head,
            r#"{"appKey":"dingdemointernal","appSecret":"demo-internal-secret"}"#,
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json;charset=utf-8"),
        "{answer}"
    );
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["expireIn"], json!(7200));
    let token = body["accessToken"].as_str().unwrap().to_owned();

    let head = format!(
        "POST /topapi/v2/user/getbymobile?access_token={token} HTTP/1.1\r\nHost: oapi.dingtalk.com\r\ncontent-type: application/json\r\n"
    );
    let answer = raw(
        &server,
        &chunked(
            &head,
            r#"{"mobile": "15000009144", "support_exclusive_account_search": "true"}"#,
        ),
    );
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body["result"],
        json!({"exclusive_account_userid_list": ["zhaoliu_ex"], "userid": "zhangsan"}),
        "{answer}"
    );
}
