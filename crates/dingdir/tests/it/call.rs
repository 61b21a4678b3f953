//! `dingdir call`, the CLI on top of the client, against the real binary.

use crate::client::{DEMO_CORP, is_api_request_id, mint_user_token};
use crate::harness::{Server, run};
use crate::signin::{REDIRECT, sign_in_through};
use serde_json::{Value, json};

fn call(server: &Server, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec!["call", "--base-url", &server.base];
    all.extend_from_slice(args);
    let out = run(&all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = if out.status.success() {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    } else {
        assert!(stdout.is_empty(), "nothing on stdout on failure: {stdout}");
        Value::Null
    };
    (out.status.success(), json, stderr)
}

const APP: [&str; 4] = ["--app-key", "dingdemointernal", "--app-secret", "demo-internal-secret"];

#[tokio::test]
async fn call_token_prints_each_gateways_answer_as_json() {
    let server = Server::dev(&[]);
    let (ok, api, _) = call(&server, &[&["token"][..], &APP].concat());
    assert!(ok);
    assert_eq!(api["expireIn"], json!(7200));
    let (ok, oapi, _) = call(&server, &[&["token"][..], &APP, &["--gateway", "oapi"]].concat());
    assert!(ok);
    assert_eq!(oapi["access_token"], api["accessToken"]);
    assert_eq!(oapi["errcode"], json!(0));

    let (ok, _, stderr) = call(
        &server,
        &["token", "--app-key", "dingdemointernal", "--app-secret", "wrong"],
    );
    assert!(!ok);
    assert!(
        stderr.starts_with("dingdir: 400 invalidClientIdOrSecret: 无效的clientId或者clientSecret (request id "),
        "{stderr}"
    );
}

#[tokio::test]
async fn call_user_get_prints_the_user_and_fails_plainly_when_not_found() {
    let server = Server::dev(&[]);
    let token = mint_user_token(&server, "dingdemointernal").await;
    let (ok, me, _) = call(&server, &["user", "get", "me", "--user-token", &token]);
    assert!(ok);
    assert_eq!(me["nick"], "zhangsan");
    assert_eq!(me["visitor"], json!(false));

    let (ok, _, stderr) = call(
        &server,
        &["user", "get", "nobody0000000000000000", "--user-token", &token],
    );
    assert!(!ok);
    let rest = stderr
        .strip_prefix("dingdir: 404 invalidParameter.user.notFound: 找不到该用户 (request id ")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(is_api_request_id(rest.trim_end().trim_end_matches(')')), "{stderr}");
}

#[tokio::test]
async fn call_user_by_mobile_lists_exclusive_accounts_and_shows_legacy_errors() {
    let server = Server::dev(&[]);
    let (ok, found, _) = call(
        &server,
        &[
            &["user", "by-mobile", "15000009144"][..],
            &APP,
            &["--exclusive", "--gateway", "oapi"],
        ]
        .concat(),
    );
    assert!(ok);
    assert_eq!(
        found["result"],
        json!({"exclusive_account_userid_list": ["zhaoliu_ex"], "userid": "zhangsan"})
    );
    let (ok, _, stderr) = call(&server, &[&["user", "by-mobile", "13999999999"][..], &APP].concat());
    assert!(!ok);
    assert!(
        stderr.starts_with("dingdir: errcode 60121: 找不到该用户 (request id "),
        "{stderr}"
    );
}

#[tokio::test]
async fn call_signin_and_corp_token_print_json() {
    let server = Server::dev(&[]);
    let (ok, url, _) = call(
        &server,
        &[
            "signin",
            "url",
            "--client-id",
            "dingdemointernal",
            "--redirect-uri",
            REDIRECT,
            "--state",
            "cli-state",
        ],
    );
    assert!(ok);
    let url = url["url"].as_str().unwrap().to_owned();
    let back = sign_in_through(&server, &url).await;
    assert_eq!(back["state"], "cli-state");
    let (ok, token, _) = call(&server, &[&["signin", "code", &back["code"]][..], &APP].concat());
    assert!(ok);
    assert_eq!(token["corpId"], DEMO_CORP);
    let refresh = token["refreshToken"].as_str().unwrap();
    let (ok, renewed, _) = call(&server, &[&["signin", "refresh", refresh][..], &APP].concat());
    assert!(ok);
    assert_ne!(renewed["accessToken"], token["accessToken"]);

    let (ok, corp, _) = call(
        &server,
        &[
            "corp-token",
            "--suite-key",
            "dingdemosuite",
            "--suite-secret",
            "demo-suite-secret",
            "--corp-id",
            DEMO_CORP,
            "--suite-ticket",
            "demo-suite-ticket",
        ],
    );
    assert!(ok);
    assert_eq!(corp["expireIn"], json!(7200));
}
