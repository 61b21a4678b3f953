//! `dingdir call`, the CLI on top of the client, against the real binary.

use crate::client::{DEMO_CORP, is_api_request_id, mint_user_token};
use crate::harness::{Server, run_json};
use crate::signin::{REDIRECT, sign_in_through};
use serde_json::{Value, json};

fn call(server: &Server, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec!["call", "--base-url", &server.base];
    all.extend_from_slice(args);
    run_json(&all)
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

/// `dingdir call` with the demo internal app's credentials after `args`.
fn call_app(server: &Server, args: &[&str]) -> (bool, Value, String) {
    call(server, &[args, &APP].concat())
}

#[tokio::test]
async fn call_user_directory_reads_print_the_demo_seed() {
    let server = Server::dev(&[]);
    let (ok, detail, _) = call_app(&server, &["user", "detail", "--userid", "zhangsan"]);
    assert!(ok);
    assert_eq!(
        (detail["errcode"].clone(), detail["errmsg"].clone()),
        (json!(0), json!("ok"))
    );
    let z = &detail["result"];
    assert_eq!((z["name"].clone(), z["admin"].clone()), (json!("张三"), json!(true)));
    assert_eq!(z["dept_id_list"], json!([100, 101]));
    assert_eq!(z["title"], "研发总监");
    let unionid = z["unionid"].as_str().unwrap();
    let (ok, back, _) = call_app(&server, &["user", "by-unionid", "--unionid", unionid]);
    assert!(ok);
    assert_eq!(back["result"], json!({"contact_type": 0, "userid": "zhangsan"}));
    let (ok, ex, _) = call_app(&server, &["user", "detail", "--login-id", "zhaoliu"]);
    assert!(ok);
    assert_eq!(
        (ex["result"]["userid"].clone(), ex["result"]["login_id"].clone()),
        (json!("zhaoliu_ex"), json!("zhaoliu"))
    );

    let (ok, page, _) = call_app(&server, &["user", "list", "--dept-id", "101", "--size", "1"]);
    assert!(ok);
    assert_eq!(page["result"]["has_more"], json!(true));
    assert_eq!(page["result"]["next_cursor"], json!(1));
    assert_eq!(page["result"]["list"][0]["userid"], "zhangsan");
    let (ok, page, _) = call_app(
        &server,
        &[
            "user",
            "list",
            "--dept-id",
            "101",
            "--cursor",
            "1",
            "--size",
            "1",
            "--gateway",
            "oapi",
        ],
    );
    assert!(ok);
    assert_eq!(page["result"]["has_more"], json!(false));
    let lisi = &page["result"]["list"][0];
    assert_eq!(
        (lisi["userid"].clone(), lisi["dept_order"].clone()),
        (json!("lisi"), json!(2))
    );
    let (ok, all, _) = call_app(&server, &["user", "list", "--dept-id", "101", "--all"]);
    assert!(ok);
    let all: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userid"].as_str().unwrap())
        .collect();
    assert_eq!(all, ["zhangsan", "lisi"]);

    let (ok, simple, _) = call_app(&server, &["user", "simple-list", "--dept-id", "1"]);
    assert!(ok);
    assert_eq!(
        simple["result"],
        json!({"has_more": false, "list": [{"name": "孙七", "userid": "sunqi"}, {"name": "赵六", "userid": "zhaoliu_ex"}]})
    );
    let (ok, ids, _) = call_app(&server, &["user", "ids", "--dept-id", "101"]);
    assert!(ok);
    assert_eq!(ids["result"], json!({"userid_list": ["zhangsan", "lisi"]}));
    let (ok, count, _) = call_app(&server, &["user", "count", "--only-active"]);
    assert!(ok);
    assert_eq!(count["result"], json!({"count": 5}));
    let (ok, admins, _) = call_app(&server, &["user", "admins"]);
    assert!(ok);
    assert_eq!(
        admins["result"],
        json!([{"sys_level": 2, "userid": "chanxm"}, {"sys_level": 1, "userid": "zhangsan"}])
    );
}

#[tokio::test]
async fn call_old_flat_reads_and_the_in_app_code_print_json() {
    let server = Server::dev(&[]);
    let (ok, u, _) = call_app(&server, &["user", "legacy-get", "--userid", "lisi"]);
    assert!(ok);
    assert_eq!(
        (u["userid"].clone(), u["managerUserid"].clone()),
        (json!("lisi"), json!("zhangsan"))
    );
    let (ok, list, _) = call_app(&server, &["dept", "list", "--dept-id", "100", "--no-fetch-child"]);
    assert!(ok);
    let ids: Vec<i64> = list["department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [101, 102]);
    let (ok, scopes, _) = call_app(&server, &["user", "scopes"]);
    assert!(ok);
    assert_eq!(
        scopes["auth_org_scopes"],
        json!({"authed_dept": [1], "authed_user": []})
    );
    let (ok, gone, _) = call_app(
        &server,
        &[
            "user",
            "departed",
            "--start",
            "2026-11-01T00:00:00Z",
            "--end",
            "2026-12-01T00:00:00Z",
        ],
    );
    assert!(ok);
    assert_eq!(gone["records"][0]["userId"], "wangwu", "{gone}");
    assert_eq!(gone["records"][0]["leaveTime"], "2026-11-02T01:30:00Z");
    let (ok, _, err) = call_app(&server, &["user", "departed", "--start", "not-a-time"]);
    assert!(!ok);
    assert!(err.contains("invalidParameter.param.invalid"), "{err}");
    let code = server.auth_code("dingdemointernal", "chanxm").await;
    let (ok, info, _) = call_app(&server, &["user", "by-code", "--code", &code]);
    assert!(ok);
    assert_eq!(
        (info["result"]["userid"].clone(), info["result"]["sys_level"].clone()),
        (json!("chanxm"), json!(2))
    );
    let (ok, _, err) = call_app(&server, &["user", "by-code", "--code", &code, "--legacy"]);
    assert!(!ok);
    assert!(err.contains("40078"), "{err}");
}

#[tokio::test]
async fn call_dept_reads_print_the_demo_seed() {
    let server = Server::dev(&[]);
    let (ok, dept, _) = call_app(&server, &["dept", "get", "--dept-id", "100"]);
    assert!(ok);
    let d = &dept["result"];
    assert_eq!((d["name"].clone(), d["parent_id"].clone()), (json!("研发部"), json!(1)));
    assert_eq!(d["dept_manager_userid_list"], json!(["zhangsan"]));
    // No --dept-id: the root.
    let (ok, subs, _) = call_app(&server, &["dept", "subs"]);
    assert!(ok);
    let subs: Vec<(i64, &str)> = subs["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["dept_id"].as_i64().unwrap(), d["name"].as_str().unwrap()))
        .collect();
    assert_eq!(subs, [(100, "研发部"), (200, "市场部")]);
    let (ok, ids, _) = call_app(&server, &["dept", "sub-ids", "--dept-id", "1"]);
    assert!(ok);
    assert_eq!(ids["result"], json!({"dept_id_list": [100, 200]}));
    let (ok, paths, _) = call_app(&server, &["dept", "parents-of-user", "--userid", "zhangsan"]);
    assert!(ok);
    assert_eq!(
        paths["result"],
        json!({"parent_list": [{"parent_dept_id_list": [100, 1]}, {"parent_dept_id_list": [101, 100, 1]}]})
    );
    let (ok, path, _) = call_app(&server, &["dept", "parents-of-dept", "--dept-id", "101"]);
    assert!(ok);
    assert_eq!(path["result"], json!({"parent_id_list": [101, 100, 1]}));
}

#[tokio::test]
async fn call_directory_unknown_ids_fail_with_their_errcode() {
    let server = Server::dev(&[]);
    for (args, want) in [
        (
            &["user", "detail", "--userid", "nobody"][..],
            "errcode 60121: 找不到该用户",
        ),
        (
            &["user", "detail", "--login-id", "qianjiu"][..],
            "errcode 60121: 找不到该用户",
        ),
        (
            &["dept", "parents-of-user", "--userid", "wangwu"][..],
            "errcode 60121: 找不到该用户",
        ),
        (&["dept", "get", "--dept-id", "999"][..], "errcode 60003: 部门不存在"),
        (
            &["user", "list", "--dept-id", "999", "--all"][..],
            "errcode 60003: 部门不存在",
        ),
    ] {
        let (ok, _, stderr) = call_app(&server, args);
        assert!(!ok, "{args:?}");
        assert!(
            stderr.starts_with(&format!("dingdir: {want} (request id ")),
            "{args:?}: {stderr}"
        );
    }
    // --all reads every page from the start: a cursor makes no sense with it.
    let (ok, _, stderr) = call_app(&server, &["user", "list", "--dept-id", "1", "--all", "--cursor", "1"]);
    assert!(!ok);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
