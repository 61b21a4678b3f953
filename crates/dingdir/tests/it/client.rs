//! `dingdir-client` against the real binary: every call and every typed error, the sign-in
//! round trip, and "system busy" on both gateways.

use crate::fakes::{CountingProxy, Stub, unknown_route};
use crate::harness::Server;
use crate::signin::{REDIRECT, sign_in_through};
use dingdir_client::proto::ids::{CorpId, UnionId, UserId};
use dingdir_client::proto::oapi::UserListRequest;
use dingdir_client::{AppCredentials, AppTokenManager, AuthorizeParams, Client, Error, Gateway, RetryPolicy};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) const DEMO_CORP: &str = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4";
pub(crate) const OTHER_CORP: &str = "ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01";
pub(crate) const TOKEN_API: &str = "POST /v1.0/oauth2/accessToken";
pub(crate) const TOKEN_OAPI: &str = "GET /gettoken";
pub(crate) const BY_MOBILE: &str = "POST /topapi/v2/user/getbymobile";

pub(crate) fn internal() -> AppCredentials {
    AppCredentials::new("dingdemointernal", "demo-internal-secret")
}

pub(crate) fn client_at(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Retries that do not make a test wait.
pub(crate) fn quick(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    }
}

pub(crate) async fn mint_user_token(server: &Server, app_key: &str) -> String {
    server.mint_user_token(app_key, "15000009144").await["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn is_api_request_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && s.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

// ---------------------------------------------------------------------------------------------
// Every call against the real server, with its typed errors.

#[tokio::test]
async fn client_app_tokens_from_both_gateways_are_one_token() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let api = client.get_access_token(&internal()).await.unwrap();
    let oapi = client.get_token(&internal()).await.unwrap();
    assert_eq!(api.access_token.len(), 32);
    assert_eq!(api.access_token, oapi.access_token, "one app, one token while valid");
    assert_eq!((api.expire_in, oapi.expires_in, oapi.errcode), (7200, 7200, 0));
    for gateway in [Gateway::Api, Gateway::Oapi] {
        let t = client.app_token(&internal(), gateway).await.unwrap();
        assert_eq!(
            (t.access_token.as_str(), t.expires_in),
            (api.access_token.as_str(), 7200)
        );
    }
}

#[tokio::test]
async fn client_bad_app_secret_is_typed_per_gateway() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let bad = AppCredentials::new("dingdemointernal", "wrong");
    let e = client.get_access_token(&bad).await.unwrap_err();
    let Error::Api {
        status,
        code,
        message,
        request_id,
        required_scopes,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((*status, code.as_str()), (400, "invalidClientIdOrSecret"));
    assert_eq!(message, "无效的clientId或者clientSecret");
    assert!(is_api_request_id(request_id), "{request_id}");
    assert!(required_scopes.is_empty());
    assert!(!e.is_token_invalid() && !e.is_not_found() && !e.is_permission_denied() && !e.is_system_busy());

    let e = client.get_token(&bad).await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Oapi {
                errcode: 40096,
                sub_code: None,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_token_invalid());
    assert!(!format!("{e:?}{e}").contains("wrong"), "the secret is not in the error");
}

#[tokio::test]
async fn client_corp_tokens_are_new_each_time_and_refusals_are_typed() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let suite = AppCredentials::new("dingdemosuite", "demo-suite-secret");
    let corp = CorpId::from(DEMO_CORP);
    let first = client
        .get_corp_access_token(&suite, &corp, "demo-suite-ticket")
        .await
        .unwrap();
    let second = client
        .get_corp_access_token(&suite, &CorpId::from(OTHER_CORP), "demo-suite-ticket")
        .await
        .unwrap();
    let third = client
        .get_corp_access_token(&suite, &corp, "demo-suite-ticket")
        .await
        .unwrap();
    assert_eq!(first.expire_in, 7200);
    assert_ne!(first.access_token, second.access_token);
    assert_ne!(first.access_token, third.access_token, "a corp token is new every time");

    let e = client
        .get_corp_access_token(&suite, &corp, "wrong-ticket")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidSuiteTicket"),
        "{e:?}"
    );
    let stranger = CorpId::from("ding00000000000000000000000000000000");
    let e = client
        .get_corp_access_token(&suite, &stranger, "demo-suite-ticket")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidAuthInfo"),
        "{e:?}"
    );
    let e = client
        .get_corp_access_token(&internal(), &corp, "demo-suite-ticket")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidSuiteKey"),
        "an internal app is no suite: {e:?}"
    );

    // getbymobile is for internal apps: a corp token is refused as a permission error.
    let e = client
        .get_by_mobile(&first.access_token, "15000009144", false)
        .await
        .unwrap_err();
    assert!(e.is_permission_denied(), "{e:?}");
}

#[tokio::test]
async fn client_sign_in_builds_the_url_exchanges_the_code_refreshes_and_gets_me() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let url = client.authorize_url(&AuthorizeParams::new("dingdemointernal", REDIRECT, "st-client 1"));
    assert!(url.as_str().starts_with(&server.url("/oauth2/auth?")), "{url}");
    let back = sign_in_through(&server, url.as_str()).await;
    assert_eq!(back["state"], "st-client 1", "state comes back as sent");
    assert_eq!(back["code"], back["authCode"]);

    let token = client.user_token_from_code(&internal(), &back["code"]).await.unwrap();
    assert_eq!(token.corp_id.as_deref(), Some(DEMO_CORP));
    assert_eq!(token.expire_in, 7200);
    let e = client
        .user_token_from_code(&internal(), &back["code"])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidCode"),
        "a code is single-use: {e:?}"
    );

    let refreshed = client
        .refresh_user_token(&internal(), &token.refresh_token)
        .await
        .unwrap();
    assert_ne!(refreshed.access_token, token.access_token);
    let e = client
        .refresh_user_token(&internal(), &token.refresh_token)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidRefreshToken"),
        "{e:?}"
    );
    let e = client
        .user_token_from_code(
            &AppCredentials::new("dingdemointernal", "wrong"),
            "0123456789abcdef0123456789abcdef",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalidClientIdOrSecret"),
        "{e:?}"
    );

    let me = client.get_me(&refreshed.access_token).await.unwrap();
    assert_eq!(me.nick.as_deref(), Some("zhangsan"));
    assert_eq!(me.mobile.as_deref(), Some("15000009144"));
    assert_eq!(me.state_code.as_deref(), Some("86"));
    assert!(!me.visitor);
    let union_id = UnionId::from(me.union_id.clone().unwrap());
    let by_id = client.get_user(&refreshed.access_token, &union_id).await.unwrap();
    assert_eq!(by_id, me, "`me` and the caller's own unionId are the same user");
}

#[tokio::test]
async fn client_get_user_errors_are_typed() {
    let server = Server::dev(&["--token-ttl", "60"]);
    let client = client_at(&server.base);
    let token = mint_user_token(&server, "dingdemointernal").await;

    let e = client
        .get_user(&token, &UnionId::from("nosuchunionid00000000000"))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert_eq!(e.status(), Some(404));
    let id = e.request_id().unwrap().to_owned();
    assert!(is_api_request_id(&id), "{id}");
    assert_eq!(
        e.to_string(),
        format!("404 invalidParameter.user.notFound: 找不到该用户 (request id {id})")
    );

    // An id with characters that would leave the path segment stays in it (and is not found).
    let e = client
        .get_user(&token, &UnionId::from("../../gettoken?x=1"))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");

    let e = client.get_me("0123456789abcdef0123456789abcdef").await.unwrap_err();
    assert!(e.is_token_invalid(), "{e:?}");
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "InvalidAuthentication"),
        "{e:?}"
    );

    let e = client.get_me("").await.unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "AuthenticationFailed.MissingParameter"),
        "{e:?}"
    );
    assert!(!e.is_token_invalid(), "a missing token is not a stale one");

    let app_token = client.get_access_token(&internal()).await.unwrap().access_token;
    let e = client.get_me(&app_token).await.unwrap_err();
    assert!(e.is_permission_denied(), "an app token on a user API: {e:?}");
    assert_eq!(e.status(), Some(403));
    assert_eq!(e.required_scopes(), ["Contact.User.Read".to_owned()]);
    assert!(e.to_string().contains("required scopes: Contact.User.Read"), "{e}");

    server.advance_clock(61).await;
    let e = client.get_me(&token).await.unwrap_err();
    assert!(e.is_token_invalid(), "an expired user token: {e:?}");
}

#[tokio::test]
async fn client_get_by_mobile_answers_and_errors_are_typed() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let token = client.get_token(&internal()).await.unwrap().access_token;

    let plain = client.get_by_mobile(&token, "15000009144", false).await.unwrap();
    assert_eq!(plain.result.userid.as_deref(), Some("zhangsan"));
    assert!(plain.result.exclusive_account_userid_list.is_empty());
    assert_eq!(plain.request_id.len(), 13);
    let wide = client.get_by_mobile(&token, "15000009144", true).await.unwrap();
    assert_eq!(wide.result.exclusive_account_userid_list, ["zhaoliu_ex".to_owned()]);
    let foreign = client.get_by_mobile(&token, "+852-91234567", false).await.unwrap();
    assert_eq!(foreign.result.userid.as_deref(), Some("chanxm"));

    // (mobile, errcode)
    for (mobile, errcode) in [
        ("13999999999", 60121),
        ("13800000001", 60121), // departed
        ("12ab", 40104),
        ("", 400002),
    ] {
        let e = client.get_by_mobile(&token, mobile, false).await.unwrap_err();
        assert!(
            matches!(&e, Error::Oapi { errcode: c, sub_code: None, request_id: Some(_), .. } if *c == errcode),
            "{mobile:?}: {e:?}"
        );
        assert_eq!(e.is_not_found(), errcode == 60121, "{mobile:?}");
    }

    let e = client
        .get_by_mobile("0123456789abcdef0123456789abcdef", "15000009144", false)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Oapi { errcode: 88, sub_code: Some(s), .. } if s == "40014"),
        "{e:?}"
    );
    assert!(e.is_token_invalid());

    let user_token = mint_user_token(&server, "dingdemointernal").await;
    let e = client
        .get_by_mobile(&user_token, "15000009144", false)
        .await
        .unwrap_err();
    assert!(e.is_token_invalid(), "a user token is no app token here: {e:?}");

    let readonly = client
        .get_token(&AppCredentials::new("dingdemoreadonly", "demo-readonly-secret"))
        .await
        .unwrap()
        .access_token;
    let e = client.get_by_mobile(&readonly, "15000009144", false).await.unwrap_err();
    assert!(
        matches!(&e, Error::Oapi { errcode: 88, sub_code: Some(s), sub_msg: Some(m), .. } if s == "60011" && m.contains("qyapi_get_member_by_mobile")),
        "{e:?}"
    );
    assert!(e.is_permission_denied());
}

/// Takes the server's only in-flight slot (`--max-in-flight 1`) with a getbymobile whose body is
/// held back. `Expect: 100-continue` makes the server say when the handler reads the body, so
/// the slot is surely taken when this returns.
async fn hold_the_only_slot(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /topapi/v2/user/getbymobile HTTP/1.1\r\nHost: oapi.dingtalk.com\r\n\
              Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    let read = async {
        while !got.ends_with(b"\r\n\r\n") {
            got.push(stream.read_u8().await.unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.unwrap();
    assert!(
        got.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    stream
}

/// Sends the held body and reads the answer, which frees the slot.
async fn release_the_slot(mut stream: TcpStream) {
    stream.write_all(b"{}").await.unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
}

#[tokio::test]
async fn client_system_busy_is_typed_on_both_gateways_and_retried_boundedly() {
    let server = Server::dev(&["--max-in-flight", "1", "--store-timeout-ms", "60000"]);
    let client = client_at(&server.base);
    let proxy = CountingProxy::start(&server).await;
    let manager = AppTokenManager::builder(client_at(&proxy.base), internal())
        .retry(quick(2))
        .build();
    let token = manager.token().await.unwrap();

    let hold = hold_the_only_slot(&server).await;
    let e = client.get_access_token(&internal()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 503, code, .. } if code == "system.busy"),
        "{e:?}"
    );
    assert!(e.is_system_busy());
    let e = client.get_token(&internal()).await.unwrap_err();
    assert!(matches!(&e, Error::Oapi { errcode: -1, .. }), "{e:?}");
    assert!(e.is_system_busy());
    let e = client.get_by_mobile(&token, "15000009144", false).await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Oapi {
                errcode: -1,
                request_id: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_system_busy());

    let e = manager.get_by_mobile("15000009144", false).await.unwrap_err();
    assert!(e.is_system_busy(), "{e:?}");
    assert_eq!(
        proxy.seen.count(BY_MOBILE),
        3,
        "the first try and 2 retries, then the error"
    );

    release_the_slot(hold).await;
    let ok = manager.get_by_mobile("15000009144", false).await.unwrap();
    assert_eq!(ok.result.userid.as_deref(), Some("zhangsan"));
    assert_eq!(proxy.seen.count(TOKEN_API), 1, "the cached token served every try");
}

// ---------------------------------------------------------------------------------------------
// The legacy gateway's directory reads (docs/wire/directory-read.md §2.1–2.12) on the demo seed.

/// The `errcode` of a legacy refusal, checking it is plain (no `88` wrapper) and carries a
/// request id.
fn oapi_errcode<T: std::fmt::Debug>(result: Result<T, Error>) -> (i64, String) {
    match result {
        Err(Error::Oapi {
            errcode,
            errmsg,
            sub_code: None,
            request_id: Some(id),
            ..
        }) if id.len() == 13 => (errcode, errmsg),
        other => panic!("not a plain legacy error: {other:?}"),
    }
}

#[tokio::test]
async fn client_directory_member_reads_answer_the_demo_seed() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let token = client.get_token(&internal()).await.unwrap().access_token;

    let zhangsan = client.get_user_detail(&token, &UserId::from("zhangsan")).await.unwrap();
    assert_eq!((zhangsan.errcode, zhangsan.errmsg.as_str()), (0, "ok"));
    assert_eq!(zhangsan.request_id.len(), 13);
    let z = &zhangsan.result;
    assert_eq!((z.userid.as_str(), z.name.as_str()), ("zhangsan", "张三"));
    assert!(z.admin && z.active && !z.boss, "the main administrator: {z:?}");
    assert_eq!(z.dept_id_list, [100, 101]);
    let leads: Vec<(i64, bool)> = z.leader_in_dept.iter().map(|l| (l.dept_id, l.leader)).collect();
    assert_eq!(leads, [(100, true), (101, false)]);
    assert_eq!(z.title.as_deref(), Some("研发总监"));
    assert_eq!(z.job_number.as_deref(), Some("0001"));
    assert_eq!(z.hired_date, Some(1_577_836_800_000));
    assert_eq!(
        (z.mobile.as_deref(), z.state_code.as_deref()),
        (Some("15000009144"), Some("86"))
    );
    assert_eq!(
        (z.work_place.as_deref(), z.telephone.as_deref()),
        (Some("杭州"), Some("8001"))
    );
    assert_eq!(z.manager_userid, None);
    // The member record's unionId is GetUser's, and getbyunionid maps it back.
    let me = client
        .get_me(&mint_user_token(&server, "dingdemointernal").await)
        .await
        .unwrap();
    assert_eq!(me.union_id.as_deref(), Some(z.unionid.as_str()));
    let back = client
        .get_by_union_id(&token, &UnionId::from(z.unionid.as_str()))
        .await
        .unwrap();
    assert_eq!((back.result.userid.as_str(), back.result.contact_type), ("zhangsan", 0));

    let lisi = client.get_user_detail(&token, &UserId::from("lisi")).await.unwrap();
    assert_eq!(lisi.result.manager_userid.as_deref(), Some("zhangsan"));
    assert_eq!(lisi.result.dept_id_list, [101]);
    assert!(!lisi.result.admin);

    // A page of one, then every page.
    let page = UserListRequest {
        dept_id: Some(101),
        cursor: Some(0),
        size: Some(1),
        ..Default::default()
    };
    let first = client.list_users(&token, &page).await.unwrap().result;
    assert!(first.has_more);
    assert_eq!(first.next_cursor, Some(1));
    let firsts: Vec<(&str, i64, bool)> = first
        .list
        .iter()
        .map(|m| (m.userid.as_str(), m.dept_order, m.leader))
        .collect();
    assert_eq!(firsts, [("zhangsan", 1, false)]);
    let all = client.list_all_users(&token, 101).await.unwrap();
    let all: Vec<(&str, &str, i64)> = all
        .iter()
        .map(|m| (m.userid.as_str(), m.name.as_str(), m.dept_order))
        .collect();
    assert_eq!(all, [("zhangsan", "张三", 1), ("lisi", "李四", 2)]);
    let leaders = client.list_all_users(&token, 100).await.unwrap();
    assert_eq!(leaders.len(), 1);
    assert!(leaders[0].leader, "zhangsan leads 研发部");
    let market = client.list_all_users(&token, 200).await.unwrap();
    assert_eq!(market.iter().map(|m| m.userid.as_str()).collect::<Vec<_>>(), ["chanxm"]);
    assert!(market[0].admin, "chanxm is a sub-administrator");

    let simple = client
        .list_users_simple(
            &token,
            &UserListRequest {
                dept_id: Some(1),
                ..page.clone()
            },
        )
        .await
        .unwrap()
        .result;
    let names: Vec<(&str, &str)> = simple
        .list
        .iter()
        .map(|m| (m.userid.as_str(), m.name.as_str()))
        .collect();
    assert_eq!(names, [("sunqi", "孙七")]);
    assert_eq!((simple.has_more, simple.next_cursor), (true, Some(1)));

    let ids = client.list_user_ids(&token, 101).await.unwrap().result.userid_list;
    assert_eq!(ids, ["zhangsan", "lisi"]);
    // Root members: sunqi and zhaoliu_ex have no department; departed wangwu is left out.
    let ids = client.list_user_ids(&token, 1).await.unwrap().result.userid_list;
    assert_eq!(ids, ["sunqi", "zhaoliu_ex"]);

    // zhangsan, lisi, zhaoliu_ex, chanxm, sunqi; not departed wangwu.
    for only_active in [true, false] {
        let count = client.count_users(&token, only_active).await.unwrap();
        assert_eq!(count.result.count, 5, "only_active {only_active}");
    }
    let admins = client.list_admins(&token).await.unwrap().result;
    let admins: Vec<(&str, i64)> = admins.iter().map(|a| (a.userid.as_str(), a.sys_level)).collect();
    assert_eq!(admins, [("chanxm", 2), ("zhangsan", 1)]);
}

#[tokio::test]
async fn client_directory_department_reads_answer_the_demo_seed() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let token = client.get_access_token(&internal()).await.unwrap().access_token;

    let rd = client.get_department(&token, 100).await.unwrap().result;
    assert_eq!(
        (rd.dept_id, rd.name.as_str(), rd.parent_id, rd.order),
        (100, "研发部", Some(1), 1)
    );
    assert_eq!(rd.dept_manager_userid_list, ["zhangsan"]);
    assert!(!rd.hide_dept);
    let root = client.get_department(&token, 1).await.unwrap().result;
    assert_eq!((root.name.as_str(), root.parent_id), ("Demo Co", None));

    let subs = client.list_sub_departments(&token, 1).await.unwrap().result;
    let subs: Vec<(i64, &str, i64)> = subs.iter().map(|d| (d.dept_id, d.name.as_str(), d.parent_id)).collect();
    assert_eq!(subs, [(100, "研发部", 1), (200, "市场部", 1)]);
    // 前端组 (102) under 研发部 is hidden in the demo; what apps see of it is pinned elsewhere.
    let leaf = client.list_sub_departments(&token, 101).await.unwrap().result;
    assert!(leaf.is_empty(), "{leaf:?}");
    let ids = client.list_sub_department_ids(&token, 1).await.unwrap().result;
    assert_eq!(ids.dept_id_list, [100, 200]);
    let ids = client.list_sub_department_ids(&token, 200).await.unwrap().result;
    assert!(ids.dept_id_list.is_empty(), "{ids:?}");

    for (dept, want) in [(101, vec![101, 100, 1]), (200, vec![200, 1]), (1, vec![1])] {
        let path = client.list_parents_by_department(&token, dept).await.unwrap().result;
        assert_eq!(path.parent_id_list, want, "dept {dept}");
    }
    let paths = client
        .list_parents_by_user(&token, &UserId::from("zhangsan"))
        .await
        .unwrap()
        .result;
    let paths: Vec<Vec<i64>> = paths.parent_list.into_iter().map(|p| p.parent_dept_id_list).collect();
    assert_eq!(paths, [vec![100, 1], vec![101, 100, 1]]);
}

#[tokio::test]
async fn client_old_flat_reads_and_the_in_app_sign_in_answer_the_demo_seed() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let token = client.get_token(&internal()).await.unwrap().access_token;

    let u = client.get_user_legacy(&token, &UserId::from("zhangsan")).await.unwrap();
    assert_eq!(
        (u.userid.as_str(), u.name.as_str(), u.is_admin),
        ("zhangsan", "张三", true)
    );
    assert_eq!(
        (u.department, u.order_in_depts.as_str()),
        (vec![100, 101], "{100:0,101:1}")
    );
    assert_eq!(u.open_id, u.unionid);
    let e = client.get_user_legacy(&token, &UserId::from("wangwu")).await;
    assert_eq!(oapi_errcode(e), (60121, "找不到该用户".to_owned()));

    let all = client.list_departments(&token, None, true).await.unwrap().department;
    let all: Vec<(i64, Option<i64>)> = all.iter().map(|d| (d.id, d.parent_id)).collect();
    assert_eq!(
        all,
        [
            (1, None),
            (100, Some(1)),
            (101, Some(100)),
            (102, Some(100)),
            (200, Some(1))
        ]
    );
    let one = client
        .list_departments(&token, Some(1), false)
        .await
        .unwrap()
        .department;
    assert_eq!(one.iter().map(|d| d.id).collect::<Vec<_>>(), [100, 200]);
    let e = client.list_departments(&token, Some(999), true).await;
    assert_eq!(oapi_errcode(e).0, 60003);

    let scopes = client.get_auth_scopes(&token).await.unwrap();
    assert_eq!(
        (scopes.auth_org_scopes.authed_dept, scopes.auth_org_scopes.authed_user),
        (vec![1], vec![])
    );

    let app_token = client.get_access_token(&internal()).await.unwrap().access_token;
    let window = dingdir_client::proto::api::ListEmpLeaveRecordsRequest {
        start_time: Some("2026-11-01T00:00:00Z".to_owned()),
        end_time: Some("2026-12-01T00:00:00Z".to_owned()),
        next_token: None,
        max_results: Some(50),
    };
    let gone = client.list_emp_leave_records(&app_token, &window).await.unwrap();
    let gone: Vec<(&str, &str, &str)> = gone
        .records
        .iter()
        .map(|r| (r.user_id.as_str(), r.leave_time.as_str(), r.leave_reason.as_str()))
        .collect();
    assert_eq!(gone, [("wangwu", "2026-11-02T01:30:00Z", "leave")]);
    let too_many = dingdir_client::proto::api::ListEmpLeaveRecordsRequest {
        max_results: Some(51),
        ..window
    };
    let e = client.list_emp_leave_records(&app_token, &too_many).await.unwrap_err();
    match e {
        dingdir_client::Error::Api {
            status, code, message, ..
        } => assert_eq!(
            (status, code.as_str(), message.as_str()),
            (400, "invalidParameter.param.invalid", "入参错误：maxResults")
        ),
        other => panic!("{other:?}"),
    }

    let code = server.auth_code("dingdemointernal", "zhangsan").await;
    let info = client.get_user_info(&token, &code).await.unwrap().result;
    assert_eq!((info.userid.as_str(), info.sys, info.sys_level), ("zhangsan", true, 1));
    let e = client.get_user_info(&token, &code).await;
    assert_eq!(oapi_errcode(e), (40078, "nonexistent temp auth code".to_owned()));
    let code = server.auth_code("dingdemointernal", "lisi").await;
    let info = client.get_user_info_legacy(&token, &code).await.unwrap();
    assert_eq!((info.userid.as_str(), info.is_sys, info.sys_level), ("lisi", false, 0));
}

#[tokio::test]
async fn client_directory_unknown_ids_are_typed_errors_with_their_errcode() {
    let server = Server::dev(&[]);
    let client = client_at(&server.base);
    let token = client.get_token(&internal()).await.unwrap().access_token;
    let user = |id: &str| UserId::from(id);

    // Unknown, departed, or in another corp only: 60121.
    for userid in ["nobody", "wangwu", "zs001"] {
        let e = client.get_user_detail(&token, &user(userid)).await;
        assert_eq!(oapi_errcode(e), (60121, "找不到该用户".to_owned()), "{userid}");
    }
    let e = client.get_user_detail(&token, &user("nobody")).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert_eq!(e.status(), Some(200));
    let e = client
        .get_by_union_id(&token, &UnionId::from("nosuchunionid00000000000"))
        .await;
    assert_eq!(oapi_errcode(e).0, 60121);
    let e = client.list_parents_by_user(&token, &user("wangwu")).await;
    assert_eq!(oapi_errcode(e).0, 60121);

    // An unknown department: 60003, from every read that names one.
    let missing = || (60003, "部门不存在".to_owned());
    assert_eq!(oapi_errcode(client.get_department(&token, 999).await), missing());
    assert_eq!(oapi_errcode(client.list_user_ids(&token, 999).await), missing());
    assert_eq!(oapi_errcode(client.list_sub_departments(&token, 999).await), missing());
    assert_eq!(
        oapi_errcode(client.list_sub_department_ids(&token, 999).await),
        missing()
    );
    assert_eq!(
        oapi_errcode(client.list_parents_by_department(&token, 999).await),
        missing()
    );
    assert_eq!(oapi_errcode(client.list_all_users(&token, 999).await), missing());
    let e = client.get_department(&token, 999).await.unwrap_err();
    assert!(!e.is_not_found(), "a missing department is not a missing user: {e:?}");
    assert!(
        e.to_string().starts_with("errcode 60003: 部门不存在 (request id "),
        "{e}"
    );

    // A page over 100 members.
    let page = UserListRequest {
        dept_id: Some(1),
        cursor: Some(0),
        size: Some(101),
        ..Default::default()
    };
    assert_eq!(oapi_errcode(client.list_users(&token, &page).await).0, 40035);

    // An app without the directory scopes: 88 wrapping 60011, naming the scope.
    let readonly = client
        .get_token(&AppCredentials::new("dingdemoreadonly", "demo-readonly-secret"))
        .await
        .unwrap()
        .access_token;
    let e = client.get_department(&readonly, 1).await.unwrap_err();
    assert!(
        matches!(&e, Error::Oapi { errcode: 88, sub_code: Some(s), sub_msg: Some(m), .. } if s == "60011" && m.contains("qyapi_get_department_list")),
        "{e:?}"
    );
    assert!(e.is_permission_denied());
    let e = client
        .list_admins("0123456789abcdef0123456789abcdef")
        .await
        .unwrap_err();
    assert!(e.is_token_invalid(), "{e:?}");
}

/// A `v2/user/list` answer with the members `userids`.
fn list_page(userids: &[&str], has_more: bool, next_cursor: Option<i64>) -> (u16, String) {
    let list: Vec<serde_json::Value> = userids
        .iter()
        .map(|u| {
            serde_json::json!({
                "active": true, "admin": false, "avatar": "", "boss": false, "dept_id_list": [1],
                "dept_order": 0, "hide_mobile": false, "leader": false, "name": u,
                "unionid": format!("union-{u}"), "userid": u,
            })
        })
        .collect();
    let mut result = serde_json::json!({"has_more": has_more, "list": list});
    if let Some(c) = next_cursor {
        result["next_cursor"] = c.into();
    }
    let body = serde_json::json!({"errcode": 0, "errmsg": "ok", "result": result, "request_id": "stubrequest01"});
    (200, body.to_string())
}

#[tokio::test]
async fn client_list_all_users_follows_next_cursor_and_stops_on_a_broken_one() {
    const LIST: &str = "POST /topapi/v2/user/list";
    // Three pages, then the end.
    let stub = Stub::start(|route, n| match (route, n) {
        (LIST, 0) => list_page(&["a", "b"], true, Some(2)),
        (LIST, 1) => list_page(&["c", "d"], true, Some(4)),
        (LIST, _) => list_page(&["e"], false, None),
        _ => unknown_route(),
    })
    .await;
    let all = client_at(&stub.base).list_all_users("t", 1).await.unwrap();
    let all: Vec<&str> = all.iter().map(|m| m.userid.as_str()).collect();
    assert_eq!(all, ["a", "b", "c", "d", "e"]);
    assert_eq!(stub.seen.count(LIST), 3);

    // `has_more` without a `next_cursor`: an error, not a loop or a silent end.
    let stub = Stub::start(|route, n| match (route, n) {
        (LIST, 0) => list_page(&["a"], true, Some(1)),
        (LIST, _) => list_page(&["b"], true, None),
        _ => unknown_route(),
    })
    .await;
    let e = client_at(&stub.base).list_all_users("t", 1).await.unwrap_err();
    assert!(
        matches!(&e, Error::Paging { pages: 2, reason, .. } if reason.contains("next_cursor")),
        "{e:?}"
    );
    assert_eq!(e.request_id(), Some("stubrequest01"));
    assert_eq!(stub.seen.count(LIST), 2);

    // A cursor that leads back to a page already read.
    let stub = Stub::start(|route, n| match (route, n) {
        (LIST, 0) => list_page(&["a"], true, Some(1)),
        (LIST, _) => list_page(&["b"], true, Some(0)),
        _ => unknown_route(),
    })
    .await;
    let e = client_at(&stub.base).list_all_users("t", 1).await.unwrap_err();
    assert!(
        matches!(&e, Error::Paging { pages: 2, reason, .. } if reason.contains("read before")),
        "{e:?}"
    );
    assert_eq!(stub.seen.count(LIST), 2);
}
