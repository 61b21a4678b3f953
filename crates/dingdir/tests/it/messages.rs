//! App messages through the real binary: an app robot's send read back with `dingdir inbox`,
//! followed live with `dingdir inbox -f`, and a person's message written with `dingdir chat`.

use crate::harness::{ADMIN_TOKEN, Server, command, http, run_json};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

async fn app_token(server: &Server) -> String {
    let body: Value = http()
        .post(server.url("/v1.0/oauth2/accessToken"))
        .json(&json!({"appKey": "dingdemointernal", "appSecret": "demo-internal-secret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["accessToken"].as_str().unwrap().to_owned()
}

async fn send(server: &Server, token: &str, to: &str, content: &str) -> String {
    let body = json!({"robotCode": "dingdemointernal", "userIds": [to], "msgKey": "sampleText",
                      "msgParam": json!({"content": content}).to_string()});
    let answer: Value = http()
        .post(server.url("/v1.0/robot/oToMessages/batchSend"))
        .header("x-acs-dingtalk-access-token", token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["processQueryKey"].as_str().expect("a key").to_owned()
}

#[tokio::test]
async fn dingdir_inbox_prints_and_follows_and_dingdir_chat_writes_as_a_person() {
    let server = Server::dev(&[]);
    let token = app_token(&server).await;
    let key = send(&server, &token, "zhangsan", "第一条").await;

    let out = command()
        .args([
            "inbox",
            "--url",
            &server.base,
            "--admin-token",
            ADMIN_TOKEN,
            "--person",
            "zhangsan",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["content"], json!({"content": "第一条"}));
    assert_eq!(lines[0]["task"], json!(key));
    let seq = lines[0]["seq"].as_i64().unwrap().to_string();

    // Following: nothing after `seq` yet; the next message is printed as it arrives.
    let mut child = command()
        .args([
            "inbox",
            "--url",
            &server.base,
            "--admin-token",
            ADMIN_TOKEN,
            "-f",
            "--after",
            &seq,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "nothing new yet");
    send(&server, &token, "lisi", "第二条").await;
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the follower prints the new message");
    let _ = child.kill();
    let _ = child.wait();
    let got: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (got["person"].clone(), got["content"].clone()),
        (json!("lisi"), json!({"content": "第二条"}))
    );

    let (ok, said, err) = run_json(&[
        "chat",
        "--url",
        &server.base,
        "--admin-token",
        ADMIN_TOKEN,
        "--app",
        "dingdemointernal",
        "--from",
        "lisi",
        "--group",
        "研发群",
        "构建好了吗",
    ]);
    assert!(ok, "{err}");
    assert_eq!(said["conversation"], json!("研发群"));
    assert_eq!(
        said["message"]["text"]["content"],
        json!(" 构建好了吗"),
        "the @ leaves its space"
    );
    assert_eq!(said.get("connection"), None, "no bot is connected");
    let (ok, _, err) = run_json(&[
        "chat",
        "--url",
        &server.base,
        "--admin-token",
        ADMIN_TOKEN,
        "--app",
        "dingdemointernal",
        "--from",
        "sunqi",
        "--group",
        "研发群",
        "我不在群里",
    ]);
    assert!(!ok);
    assert!(err.contains("not a member of group"), "{err}");
}
