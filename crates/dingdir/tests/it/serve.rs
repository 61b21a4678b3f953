//! `dev` and `serve` as a user runs them.

use crate::harness::{Server, http, run};
use serde_json::{Value, json};

#[tokio::test]
async fn dev_serves_health_and_prints_what_a_newcomer_needs() {
    let server = Server::dev(&[]);
    let r = http().get(server.url("/_dingdir/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-acs-request-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"], "ok");
    assert!(!id.is_empty());
    let printed = server.printed_with("PY\n");
    for want in [
        "dingdemointernal     demo-internal-secret",
        "dingdemosuite        demo-suite-secret",
        &format!(
            "curl '{}/gettoken?appkey=dingdemointernal&appsecret=demo-internal-secret'",
            server.base
        ),
        &format!("endpoint=\"{}\"", server.base.trim_start_matches("http://")),
    ] {
        assert!(printed.contains(want), "missing {want:?} in:\n{printed}");
    }
}

/// A refused request is logged at the default level, in plain text (the log is a file here, not a
/// terminal), and the line names the request: method, path, endpoint and the id the caller got.
#[tokio::test]
async fn a_refused_request_is_logged_in_plain_text_with_its_request() {
    let server = Server::dev(&[]);
    let r = server.get_me("0123456789abcdef0123456789abcdef").await;
    assert_eq!(r.status(), 400);
    let id = r.headers()["x-acs-request-id"].to_str().unwrap().to_owned();
    let want = format!("request=GET /v1.0/contact/users/me (GetUser) id={id}");
    let mut log = String::new();
    for _ in 0..100 {
        log = server.log_text();
        if log.contains(&want) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let line = log
        .lines()
        .find(|l| l.contains(&want))
        .unwrap_or_else(|| panic!("no {want:?} in:\n{log}"));
    assert!(
        line.contains(" INFO ") && line.contains("new gateway refused the request"),
        "{line}"
    );
    assert!(!log.contains('\u{1b}'), "escape codes in a log file:\n{log}");
}

#[tokio::test]
async fn admin_api_needs_the_admin_token() {
    let server = Server::dev(&[]);
    let r = http().get(server.url("/_dingdir/export")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let id = r.headers()["x-acs-request-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "Unauthorized");
    assert_eq!(body["requestid"], json!(id));
    let r = http()
        .get(server.url("/_dingdir/export"))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("dingdemointernal"));
}

#[tokio::test]
async fn serve_restarted_on_the_same_sqlite_file_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dir.sqlite");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
    let first = Server::serve(&db, &["--seed", demo]);
    let export = |s: &Server| {
        let url = s.url("/_dingdir/export");
        let token = s.admin_token.clone();
        async move {
            http()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let before = export(&first).await;
    assert!(before.contains("zhangsan"));
    assert!(first.stop(), "serve exits cleanly on SIGTERM");

    let second = Server::serve(&db, &[]);
    assert_eq!(export(&second).await, before);
    drop(second);

    let out = run(&["export", "--db", &format!("sqlite:{}", db.display())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), before);
}

#[tokio::test]
async fn dev_reset_goes_back_to_the_demo_directory() {
    let server = Server::dev(&[]);
    let client = http();
    let extra = "corps:\n  - id: dingextra\n    name: Extra\n";
    let r = client
        .post(server.url("/_dingdir/seed"))
        .bearer_auth(&server.admin_token)
        .body(extra)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let export = || {
        client
            .get(server.url("/_dingdir/export"))
            .bearer_auth(&server.admin_token)
            .send()
    };
    assert!(export().await.unwrap().text().await.unwrap().contains("dingextra"));
    let r = client
        .post(server.url("/_dingdir/reset"))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"corps": 2, "apps": 5, "people": 8, "memberships": 9}));
    assert!(!export().await.unwrap().text().await.unwrap().contains("dingextra"));
}
