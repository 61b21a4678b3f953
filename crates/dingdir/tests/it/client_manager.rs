//! The client's app-token manager: single flight, refresh ahead of expiry, one renewal on a token
//! error and bounded retries when busy; against the real server (counted by the proxy) and
//! against the stub.

use crate::client::{BY_MOBILE, TOKEN_API, TOKEN_OAPI, client_at, internal, quick};
use crate::fakes::{CountingProxy, Stub, access_token_ok, gettoken_ok, unknown_route};
use crate::harness::Server;
use dingdir_client::{AppTokenManager, Error, Gateway, ManualClock, RetryPolicy};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

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
    server.advance_clock(7201).await;
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
