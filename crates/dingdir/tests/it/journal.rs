//! The request journal of the real binary: on by default in `dev`, off in `serve`; followed live
//! over server-sent events through the client; read and counted with `dingdir journal`.

use crate::harness::{ADMIN_TOKEN, Server, http, run};
use dingdir_client::proto::admin::JournalFilter;
use dingdir_client::{Client, JournalEvent};
use serde_json::Value;
use std::time::Duration;

fn journal_cli(server: &Server, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["journal", "--url", &server.base, "--admin-token", ADMIN_TOKEN];
    all.extend_from_slice(args);
    let out = run(&all);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn gettoken(server: &Server, secret: &str) {
    http()
        .get(server.url(&format!("/gettoken?appkey=dingdemointernal&appsecret={secret}")))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_follower_sees_the_backlog_after_a_seq_then_each_new_matching_entry() {
    let server = Server::dev(&[]);
    gettoken(&server, "demo-internal-secret").await;
    gettoken(&server, "wrong").await;
    let client = Client::builder()
        .base_url(&server.base)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let admin = client.admin(ADMIN_TOKEN);
    let filter = JournalFilter {
        endpoint: Some("GetToken".to_owned()),
        after: Some(1),
        ..JournalFilter::default()
    };
    let mut follow = admin.follow_journal(&filter).await.unwrap();
    // The backlog: the second call only (after seq 1).
    match next(&mut follow).await {
        Some(JournalEvent::Entry(e)) => assert_eq!((e.seq, e.code.as_deref()), (2, Some("40096"))),
        other => panic!("{other:?}"),
    }
    // Live: an entry that does not match is skipped, the next one that does arrives.
    http().get(server.url("/v1.0/contact/users/me")).send().await.unwrap();
    gettoken(&server, "demo-internal-secret").await;
    match next(&mut follow).await {
        Some(JournalEvent::Entry(e)) => {
            assert_eq!(
                (e.seq, e.endpoint.as_deref(), e.code.as_deref()),
                (4, Some("GetToken"), Some("0"))
            );
        }
        other => panic!("{other:?}"),
    }
    drop(follow);
    assert_eq!(admin.journal_count(&JournalFilter::default()).await.unwrap(), 4);
}

#[tokio::test]
async fn dingdir_journal_prints_json_lines_counts_and_clears() {
    let server = Server::dev(&[]);
    gettoken(&server, "demo-internal-secret").await;
    gettoken(&server, "wrong").await;
    let (ok, out, err) = journal_cli(&server, &[]);
    assert!(ok, "{err}");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[1]["code"], "40096");
    assert_eq!(
        lines[1]["path"],
        "/gettoken?appkey=dingdemointernal&appsecret=%3Credacted%3E"
    );
    let (ok, out, _) = journal_cli(&server, &["--count", "--code", "40096"]);
    assert!(ok);
    assert_eq!(out.trim(), r#"{"count":1}"#);
    let (ok, out, _) = journal_cli(&server, &["--clear"]);
    assert!(ok);
    assert_eq!(out.trim(), r#"{"cleared":2}"#);
    let (ok, out, _) = journal_cli(&server, &["--count"]);
    assert!(ok);
    assert_eq!(out.trim(), r#"{"count":0}"#);
}

#[tokio::test]
async fn serve_keeps_no_journal_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::serve(&dir.path().join("d.sqlite"), &[]);
    let (ok, _, err) = journal_cli(&server, &["--count"]);
    assert!(!ok);
    assert!(
        err.starts_with("dingdir: 409 Disabled: the journal is off: start dingdir with --journal true"),
        "{err}"
    );
    drop(server);
    let server = Server::serve(&dir.path().join("d.sqlite"), &["--journal", "--journal-entries", "1"]);
    gettoken(&server, "x").await;
    gettoken(&server, "y").await;
    let (ok, out, err) = journal_cli(&server, &["--count"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), r#"{"count":1}"#, "one entry kept at most");
}

async fn next(follow: &mut dingdir_client::JournalFollow) -> Option<JournalEvent> {
    tokio::time::timeout(Duration::from_secs(10), follow.next())
        .await
        .expect("an event within 10 s")
        .expect("a readable stream")
}
