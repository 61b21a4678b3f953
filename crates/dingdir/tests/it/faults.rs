//! `dingdir faults` against the real binary, and what only a real connection shows: a dropped
//! connection and a cut-short answer.

use crate::harness::{ADMIN_TOKEN, Server, http, run, run_json};
use serde_json::{Value, json};

fn faults(server: &Server, args: &[&str]) -> (bool, Value, String) {
    admin_cli("faults", server, args)
}

/// `dingdir SUBCOMMAND --url … --admin-token … ARGS`, answering JSON.
fn admin_cli(subcommand: &str, server: &Server, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec![subcommand, "--url", &server.base, "--admin-token", ADMIN_TOKEN];
    all.extend_from_slice(args);
    run_json(&all)
}

async fn app_token(server: &Server) -> String {
    server.app_token("dingdemointernal", "demo-internal-secret").await
}

fn by_mobile(server: &Server, token: &str) -> reqwest::RequestBuilder {
    http()
        .post(server.url(&format!("/topapi/v2/user/getbymobile?access_token={token}")))
        .json(&json!({"mobile": "15000009144"}))
}

#[tokio::test]
async fn a_dropped_connection_and_a_cut_short_answer_reach_the_client_as_such() {
    let server = Server::dev(&[]);
    let token = app_token(&server).await;

    let (ok, added, stderr) = faults(
        &server,
        &["add", "--endpoint", "V2UserGetByMobile", "--drop", "--next", "1"],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        added,
        json!({"id": 1, "endpoint": "V2UserGetByMobile", "action": {"kind": "drop"}, "fire": {"next": 1}, "matched": 0, "fired": 0})
    );
    let dropped = by_mobile(&server, &token).send().await;
    let e = dropped.expect_err("no answer to a dropped request");
    assert!(!e.is_timeout() && e.status().is_none(), "{e:?}");

    let (ok, _, stderr) = faults(
        &server,
        &["add", "--endpoint", "V2UserGetByMobile", "--truncate", "--next", "1"],
    );
    assert!(ok, "{stderr}");
    let cut = by_mobile(&server, &token).send().await.expect("the head arrives");
    assert_eq!(cut.status(), 200);
    let announced: usize = cut.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert!(announced > 40, "the whole answer's length is announced: {announced}");
    let body = cut.bytes().await;
    assert!(body.is_err(), "the body stops short: {body:?}");

    // Both rules are spent; the next call is served.
    let whole: Value = by_mobile(&server, &token).send().await.unwrap().json().await.unwrap();
    assert_eq!(whole["result"]["userid"], "zhangsan", "{whole}");

    let (ok, listed, _) = faults(&server, &["list"]);
    assert!(ok);
    let counters: Vec<(u64, u64)> = listed["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["matched"].as_u64().unwrap(), f["fired"].as_u64().unwrap()))
        .collect();
    // The drop rule saw all three calls; the truncate rule the last two.
    assert_eq!(counters, [(3, 1), (2, 1)]);
    let (ok, cleared, _) = faults(&server, &["clear"]);
    assert!(ok);
    assert_eq!(cleared, json!({"cleared": 2}));
    assert!(server.stop(), "a clean stop");
}

#[tokio::test]
async fn faults_add_takes_every_matcher_and_a_whole_rule_and_names_what_is_wrong() {
    let server = Server::dev(&[]);
    let (ok, added, stderr) = faults(
        &server,
        &[
            "add",
            "--app",
            "dingdemointernal",
            "--corp",
            "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4",
            "--user",
            "lisi",
            "--param",
            "language=en_US",
            "--errcode",
            "90018",
            "--errmsg",
            "app qps limit",
            "--probability",
            "0.25",
            "--seed",
            "7",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        added,
        json!({
            "id": 1, "app": "dingdemointernal", "corp": "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4", "user": "lisi",
            "params": {"language": "en_US"},
            "action": {"kind": "errcode", "errcode": 90018, "errmsg": "app qps limit"},
            "fire": {"probability": {"p": 0.25, "seed": 7}},
            "matched": 0, "fired": 0,
        })
    );
    let rule = r#"{"endpoint":"GetUser","action":{"kind":"error","status":503,"code":"ServiceUnavailable","message":"try later"}}"#;
    let (ok, added, stderr) = faults(&server, &["add", "--rule", rule]);
    assert!(ok, "{stderr}");
    assert_eq!(added["id"], 2);
    let (ok, removed, _) = faults(&server, &["remove", "1"]);
    assert!(ok);
    assert_eq!(removed, json!({"removed": 1}));

    let (ok, _, stderr) = faults(&server, &["remove", "1"]);
    assert!(!ok);
    assert!(stderr.starts_with("dingdir: 404 NotFound: no fault rule 1"), "{stderr}");
    let (ok, _, stderr) = faults(&server, &["add", "--endpoint", "Nope", "--errcode", "-1"]);
    assert!(!ok);
    assert!(
        stderr.starts_with("dingdir: 400 BadRequest: unknown endpoint `Nope`"),
        "{stderr}"
    );
    let (ok, _, stderr) = faults(&server, &["add", "--endpoint", "GetUser"]);
    assert!(!ok);
    assert!(stderr.contains("say what the fault does"), "{stderr}");
    let out = run(&["faults", "--url", &server.base, "list"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--admin-token or DINGDIR_ADMIN_TOKEN"), "{stderr}");
    let (ok, listed, _) = faults(&server, &["list"]);
    assert!(ok);
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn dingdir_rate_limits_adds_lists_and_clears() {
    let server = Server::dev(&[]);
    let cli = |args: &[&str]| admin_cli("rate-limits", &server, args);
    let (ok, first, err) = cli(&["add", "--limit", "20"]);
    assert!(ok, "{err}");
    let (ok, both, err) = cli(&[
        "add",
        "--limit",
        "5",
        "--per",
        "minute",
        "--app",
        "dingdemointernal",
        "--endpoint",
        "GetUser",
    ]);
    assert!(ok, "{err}");
    assert_eq!(first, json!({"limits": [{"limit": 20, "per": "second"}]}));
    assert_eq!(
        both,
        json!({"limits": [{"limit": 20, "per": "second"}, {"app": "dingdemointernal", "endpoint": "GetUser", "limit": 5, "per": "minute"}]})
    );
    let (ok, listed, _) = cli(&["list"]);
    assert!(ok);
    assert_eq!(listed, both);
    let (ok, _, err) = cli(&["add", "--limit", "1", "--per", "hour"]);
    assert!(!ok);
    assert!(err.contains("--per hour: give `second`, `minute` or `month`"), "{err}");
    let (ok, _, err) = cli(&["add", "--limit", "0"]);
    assert!(!ok);
    assert!(
        err.starts_with("dingdir: 400 BadRequest: a rate limit's `limit` is at least 1"),
        "{err}"
    );
    let (ok, cleared, _) = cli(&["clear"]);
    assert!(ok);
    assert_eq!(cleared, json!({"cleared": 2}));
}

/// The demo seed plus the rules a test run declares up front.
fn demo_with_rules(dir: &std::path::Path) -> std::path::PathBuf {
    let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml"))
        .expect("examples/demo.yaml");
    let rules = "\nfaults:\n  - { endpoint: V2UserGetByMobile, action: { kind: errcode, errcode: -1 }, fire: { next: 2 } }\nrate_limits:\n  - { endpoint: GetUser, limit: 50 }\n";
    let path = dir.join("with-rules.yaml");
    std::fs::write(&path, format!("{demo}{rules}")).expect("writing the seed");
    path
}

#[tokio::test]
async fn a_startup_seed_arms_its_fault_rules_and_sets_its_limits_and_apply_says_what_it_cannot_arm() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let seed = demo_with_rules(dir.path());
    let server = Server::dev(&["--seed", seed.to_str().expect("a UTF-8 path")]);
    let token = app_token(&server).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let answer: Value = by_mobile(&server, &token)
            .send()
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON");
        codes.push(answer["errcode"].clone());
    }
    assert_eq!(codes, [json!(-1), json!(-1), json!(0)]);
    let (ok, limits, stderr) = admin_cli("rate-limits", &server, &["list"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        limits,
        json!({"limits": [{"endpoint": "GetUser", "limit": 50, "per": "second"}]})
    );

    // `dingdir apply` writes the store: the limits, and a word about the rules it cannot arm.
    let db = dir.path().join("apply.sqlite");
    let db_url = format!("sqlite:{}", db.display());
    let out = run(&["apply", seed.to_str().expect("a UTF-8 path"), "--db", &db_url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("set 1 rate limits"),
        "{out:?}"
    );
    assert!(stderr.contains("its fault rules are not armed"), "{stderr}");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "faults:\n  - { endpoint: Nope, action: { kind: drop } }\n").expect("writing");
    let out = run(&["apply", bad.to_str().expect("a UTF-8 path"), "--db", &db_url]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml:2:") && stderr.contains("faults[0]") && stderr.contains("unknown endpoint `Nope`"),
        "{stderr}"
    );
}
