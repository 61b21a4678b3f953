//! Several `dingdir serve` nodes on one PostgreSQL database: what one node does, the others see.
//! Skipped without `DINGDIR_TEST_POSTGRES_URL` (a failure in CI).

use crate::harness::{Server, http};
use crate::signin::{REDIRECT, code_in, consent, zhangsan_ticket};
use dingdir_store::testing::{fresh_postgres_database, postgres_server};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");

async fn two_nodes() -> Option<(Server, Server)> {
    postgres_server()?;
    let db = fresh_postgres_database().await;
    let a = Server::serve_url(&db, &["--seed", DEMO]);
    let b = Server::serve_url(&db, &[]);
    Some((a, b))
}

#[tokio::test]
async fn a_token_from_one_node_works_on_the_other() {
    let Some((a, b)) = two_nodes().await else { return };
    let token = a.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(b.by_mobile(&token, "15000009144").await["result"]["userid"], "zhangsan");
}

#[tokio::test]
async fn concurrent_internal_token_requests_to_two_nodes_give_one_token() {
    let Some((a, b)) = two_nodes().await else { return };
    let mut calls = Vec::new();
    for i in 0..20 {
        let url = if i % 2 == 0 { a.url("") } else { b.url("") };
        calls.push(tokio::spawn(async move {
            let body: Value = http()
                .get(format!(
                    "{url}/gettoken?appkey=dingothercoapp&appsecret=other-internal-secret"
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }));
    }
    let mut tokens = BTreeSet::new();
    for c in calls {
        tokens.insert(c.await.unwrap());
    }
    assert_eq!(tokens.len(), 1, "{tokens:?}");
}

#[tokio::test]
async fn a_seed_applied_through_one_node_is_served_by_the_other() {
    let Some((a, b)) = two_nodes().await else { return };
    let seed = "apps:\n  - key: dingmultinode\n    name: Multi Node\n    type: internal\n    secret: multi-secret\n    \
                corp: ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01\n    scopes: [qyapi_get_member_by_mobile]\n";
    a.apply_seed(seed).await;
    let token = b.app_token("dingmultinode", "multi-secret").await;
    assert_eq!(b.by_mobile(&token, "13700000008").await["result"]["userid"], "zhouba");
}

#[tokio::test]
async fn a_code_redeemed_on_one_node_is_refused_on_the_other() {
    let Some((a, b)) = two_nodes().await else { return };
    // The sign-in pages move between nodes too: sign in on A, consent on B.
    let (page, ticket) = zhangsan_ticket(&a, "dingdemointernal").await;
    let r = consent(&b, &page.csrf, &ticket, "approve").await;
    assert_eq!(r.status(), 302);
    assert!(r.headers()["location"].to_str().unwrap().starts_with(REDIRECT));
    let code = code_in(&r);
    let exchange = json!({"clientId": "dingdemointernal", "clientSecret": "demo-internal-secret", "code": code, "grantType": "authorization_code"});
    let r = http()
        .post(a.url("/v1.0/oauth2/userAccessToken"))
        .json(&exchange)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http()
        .post(b.url("/v1.0/oauth2/userAccessToken"))
        .json(&exchange)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalidCode");
}

#[tokio::test]
async fn killing_a_node_mid_write_loses_no_acknowledged_write() {
    let Some((mut a, b)) = two_nodes().await else { return };
    let url = a.url("/_dingdir/seed");
    let token = a.admin_token.clone();
    let writer = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        // Bounded: at most 400 writes, and it stops at the first failure (the node is gone).
        for i in 0..400 {
            let seed = format!("corps:\n  - id: dingkill{i:04}\n    name: Kill {i}\n");
            match http().post(&url).bearer_auth(&token).body(seed).send().await {
                Ok(r) if r.status() == 200 => acknowledged.push(format!("dingkill{i:04}")),
                _ => break,
            }
        }
        acknowledged
    });
    // Let some writes land, then crash the node while writes are in flight.
    for _ in 0..200 {
        let export = http()
            .get(b.url("/_dingdir/export"))
            .bearer_auth(&b.admin_token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if export.matches("dingkill").count() >= 20 {
            break;
        }
    }
    a.kill_now();
    let acknowledged = writer.await.unwrap();
    assert!(
        acknowledged.len() >= 20,
        "only {} writes before the kill",
        acknowledged.len()
    );
    let export = http()
        .get(b.url("/_dingdir/export"))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for id in &acknowledged {
        assert!(export.contains(id.as_str()), "acknowledged write {id} is lost");
    }
}

#[tokio::test]
async fn a_write_through_one_node_is_seen_on_the_other_within_the_cache_ttl() {
    let Some(_) = postgres_server() else { return };
    let db = fresh_postgres_database().await;
    let a = Server::serve_url(&db, &["--seed", DEMO]);
    // B caches for 60 s (by its own, movable clock), so the bound is shown without waiting.
    let b = Server::serve_url(&db, &["--test-clock", "--cache-ttl-ms", "60000"]);
    let minted = a.mint_user_token("dingdemoreadonly", "15000009144").await;
    let token = minted["accessToken"].as_str().unwrap().to_owned();
    let me = || async { b.get_me(&token).await.json::<Value>().await.unwrap() };
    assert!(
        me().await.get("mobile").is_none(),
        "the read-only app has no mobile scope yet"
    );

    let grant = "apps:\n  - key: dingdemoreadonly\n    name: Demo Read-only App\n    type: internal\n    \
                 secret: demo-readonly-secret\n    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4\n    \
                 scopes: [Contact.User.Read, Contact.User.mobile]\n    redirect_uris: [http://127.0.0.1:3000/callback]\n";
    let r = http()
        .post(a.url("/_dingdir/seed"))
        .bearer_auth(&a.admin_token)
        .body(grant)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        me().await.get("mobile").is_none(),
        "B still serves its cached app inside the TTL"
    );

    b.advance_clock(61).await;
    assert_eq!(
        me().await["mobile"],
        "15000009144",
        "past the TTL, B reads the new grant"
    );
}

/// A limit set through one node holds for both: 60 calls split over the two nodes inside one
/// minute window, against a limit of 20 per minute, are answered 20 times and refused 40 times.
/// The count is one row in PostgreSQL, so it is exact; windows are cut by each node's clock,
/// which here is the same machine's.
#[tokio::test]
async fn a_rate_limit_holds_for_the_cluster_not_per_node() {
    let Some((a, b)) = two_nodes().await else { return };
    let token = a.app_token("dingdemointernal", "demo-internal-secret").await;
    let limits = json!({"limits": [{"endpoint": "V2UserGetByMobile", "limit": 20, "per": "minute"}]});
    let r = http()
        .put(a.url("/_dingdir/rate-limits"))
        .bearer_auth(&a.admin_token)
        .json(&limits)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Node b rereads the limits within a second; wait for it (bounded: 10 s).
    let mut seen = false;
    for _ in 0..100 {
        let got: Value = http()
            .get(b.url("/_dingdir/rate-limits"))
            .bearer_auth(&b.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if got == limits {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "node b never saw the limit");
    // Stay clear of a minute's edge: the burst must fall in one window.
    #[expect(clippy::disallowed_methods, reason = "aligning to the servers' real clock")]
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second)).await;
    }
    let mut calls = Vec::new();
    for i in 0..60 {
        let url = if i % 2 == 0 { a.url("") } else { b.url("") };
        let token = token.clone();
        calls.push(tokio::spawn(async move {
            let body: Value = http()
                .post(format!("{url}/topapi/v2/user/getbymobile?access_token={token}"))
                .json(&json!({"mobile": "15000009144"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (body["errcode"].as_i64(), body["sub_code"].as_str().map(str::to_owned))
        }));
    }
    let (mut served, mut refused) = (0, 0);
    for c in calls {
        match c.await.unwrap() {
            (Some(0), _) => served += 1,
            (Some(88), Some(sub)) if sub == "90006" => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((served, refused), (20, 40));
}
