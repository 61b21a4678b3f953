//! HTTP event callbacks across two `dingdir serve` nodes on one PostgreSQL database: writes
//! through either node reach the receiver once each and in order, from whichever node holds the
//! app's delivery lease, and a node killed in the middle of a push is taken over by the other,
//! which sends that entry again (at least once) and then the rest. Skipped without
//! `DINGDIR_TEST_POSTGRES_URL` (a failure in CI).

use crate::harness::Server;
use axum::body::Bytes;
use axum::extract::RawQuery;
use dingdir_core::callback::{Crypto, Sealed};
use dingdir_store::testing::{fresh_postgres_database, postgres_server};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
const TOKEN: &str = "nodestoken";
const AES_KEY: &str = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij";
const WRITER: &str = "apps:\n  - key: dingnodewriter\n    name: Node Writer\n    type: internal\n    secret: node-secret\n    \
                      corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4\n    scopes: [qyapi_get_member, qyapi_manage_addresslist]\n";

/// A receiver on 127.0.0.1 that records the userid of every `user_add_org` it is sent, and,
/// when told to, leaves the next push unanswered (as a receiver stuck mid-request).
#[derive(Clone, Default)]
struct Receiver {
    userids: Arc<Mutex<Vec<String>>>,
    hold_next: Arc<AtomicBool>,
    held: Arc<tokio::sync::Notify>,
}

impl Receiver {
    async fn start(&self) -> String {
        let me = self.clone();
        let handler = move |RawQuery(q): RawQuery, body: Bytes| {
            let me = me.clone();
            async move {
                let crypto = Crypto::new(TOKEN, AES_KEY).unwrap();
                let q: std::collections::HashMap<String, String> = q
                    .unwrap_or_default()
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                let body: Value = serde_json::from_slice(&body).unwrap();
                let sealed = Sealed {
                    signature: q["signature"].clone(),
                    timestamp: q["timestamp"].clone(),
                    nonce: q["nonce"].clone(),
                    encrypt: body["encrypt"].as_str().unwrap().to_owned(),
                };
                let (message, receive_id) = crypto.open(&sealed).unwrap();
                let event: Value = serde_json::from_str(&message).unwrap();
                if event["EventType"] == "user_add_org" {
                    me.userids
                        .lock()
                        .unwrap()
                        .push(event["UserId"][0].as_str().unwrap().to_owned());
                    if me.hold_next.swap(false, Ordering::SeqCst) {
                        me.held.notify_one();
                        // Longer than dingdir waits; the node is killed before it gives up.
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
                let reply = crypto.seal("success", &receive_id, "1700000000000");
                json!({"msg_signature": reply.signature, "timeStamp": reply.timestamp, "nonce": reply.nonce, "encrypt": reply.encrypt})
                    .to_string()
            }
        };
        let router = axum::Router::new().route("/cb", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cb", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        url
    }

    fn userids(&self) -> Vec<String> {
        self.userids.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` userids have arrived.
    async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..300 {
            if self.userids().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.userids()
    }
}

fn node(db: &str, name: &str, seed: bool) -> Server {
    let mut args = vec![
        "--node-id",
        name,
        "--callback-lease-ms",
        "2000",
        "--callback-poll-ms",
        "50",
        "--callback-backoff-ms",
        "200",
    ];
    if seed {
        args.extend_from_slice(&["--seed", DEMO]);
    }
    Server::serve_url(db, &args)
}

async fn create_user(server: &Server, token: &str, userid: &str, mobile: &str) {
    let body = json!({"userid": userid, "name": userid, "mobile": mobile, "dept_id_list": "1"});
    let r = server.legacy_post("/topapi/v2/user/create", token, &body).await;
    assert_eq!(r["errcode"], 0, "{r}");
}

fn users(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("node{i:02}")).collect()
}

#[tokio::test]
async fn two_nodes_deliver_each_write_once_in_order_and_survive_a_kill_mid_push() {
    if postgres_server().is_none() {
        return;
    }
    let db = fresh_postgres_database().await;
    let a = node(&db, "node-a", true);
    let b = node(&db, "node-b", false);
    let receiver = Receiver::default();
    let url = receiver.start().await;
    a.apply_seed(WRITER).await;
    let registration = json!({"url": url, "token": TOKEN, "aes_key": AES_KEY, "events": ["user_add_org"]});
    a.admin(
        reqwest::Method::PUT,
        "/_dingdir/callbacks/dingnodewriter",
        Some(&registration),
    )
    .await;
    let (ta, tb) = (
        a.app_token("dingnodewriter", "node-secret").await,
        b.app_token("dingnodewriter", "node-secret").await,
    );

    // Writes through both nodes, one delivery stream.
    for (i, userid) in users(0..10).iter().enumerate() {
        let (server, token) = if i % 2 == 0 { (&a, &ta) } else { (&b, &tb) };
        create_user(server, token, userid, &format!("135000000{i:02}")).await;
    }
    assert_eq!(receiver.wait_for(10).await, users(0..10), "each write once, in order");

    // The node holding the lease is killed while its push of node10 hangs; the other takes over.
    let owner = a.admin_get("/_dingdir/callbacks").await["callbacks"][0]["lease_owner"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut doomed, survivor, token) = if owner == "node-a" { (a, b, tb) } else { (b, a, ta) };
    receiver.hold_next.store(true, Ordering::SeqCst);
    let held = receiver.held.clone();
    let waiting = tokio::spawn(async move { held.notified().await });
    create_user(&survivor, &token, "node10", "13500000100").await;
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the push of node10 started")
        .unwrap();
    doomed.kill_now();
    for (i, userid) in users(11..20).iter().enumerate() {
        create_user(&survivor, &token, userid, &format!("135000001{:02}", i + 1)).await;
    }

    let mut expected = users(0..11);
    expected.extend(users(10..20));
    assert_eq!(
        receiver.wait_for(21).await,
        expected,
        "node10 again (it was never acknowledged), then the rest once each, in order"
    );
    let state = &survivor.admin_get("/_dingdir/callbacks").await["callbacks"][0];
    assert_eq!(
        state["lease_owner"],
        if owner == "node-a" { "node-b" } else { "node-a" }
    );
    assert_eq!(state["failures"], 0);
    let after = state["registered_seq"].as_i64().unwrap();
    let listed = survivor
        .admin_get(&format!("/_dingdir/events?after={after}&type=user_add_org"))
        .await;
    let states: Vec<&str> = listed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["deliveries"][0]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["delivered"; 20]);
    assert!(!survivor.log_text().contains("panicked"));
}
