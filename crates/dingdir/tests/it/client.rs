//! `dingdir-client` against the real binary: every call and every typed error, the sign-in
//! round trip, and "system busy" on both gateways.

use crate::fakes::CountingProxy;
use crate::harness::Server;
use crate::signin::{REDIRECT, sign_in_through};
use dingdir_client::proto::ids::{CorpId, UnionId};
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
