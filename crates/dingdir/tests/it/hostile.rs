//! Hostile input and hostile load against the real binary (issue 13): each finding of the probe,
//! pinned through real TCP, plus a bounded mixed stream of malformed requests.

use crate::harness::{Server, http};
use crate::signin::{code_in, consent, open_sign_in, sign_in, user_token, zhangsan_ticket};
use reqwest::header::COOKIE;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Reads until the server closes the socket or `within` passes; answers what was read and
/// whether it was closed.
fn read_until_closed(sock: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        match sock.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

/// Finding 1: sign-in posts cannot grow memory: a large form is refused before it is parsed, and
/// malformed mobiles are never counted.
#[tokio::test]
async fn sign_in_posts_with_huge_or_malformed_mobiles_keep_memory_flat() {
    let server = Server::dev(&[]);
    let page = open_sign_in(&server, "dingdemointernal").await;
    // A 1 MB form is refused by its length before it is read: the answer is a 413 page, or, when
    // the server closes with the body unread before the client reads the answer, a reset.
    let huge = "1".repeat(1024 * 1024);
    let sent = crate::signin::browser()
        .post(server.url("/oauth2/auth/signin"))
        .header(COOKIE, format!("dingdir_csrf={}", page.csrf))
        .form(&[
            ("flow", page.flow.as_str()),
            ("csrf", page.csrf.as_str()),
            ("mobile", &huge),
            ("password", "x"),
        ])
        .send()
        .await;
    if let Ok(r) = sent {
        assert_eq!(r.status(), 413, "a 1 MB form is refused");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    }
    // Warm up, then 300 distinct malformed mobiles of 10 KB each: about 3 MB of input that,
    // counted, would stay in memory for ever.
    for i in 0..20 {
        sign_in(&server, &page, &format!("x{i}"), "x").await;
    }
    let before = server.rss_kib();
    for i in 0..300 {
        let mobile = format!("{i}-{}", "a".repeat(10 * 1024));
        let r = sign_in(&server, &page, &mobile, "wrong").await;
        assert_eq!(r.status(), 401, "a malformed mobile is a wrong mobile or password");
    }
    let after = server.rss_kib();
    assert!(
        after < before + 8 * 1024,
        "RSS grew from {before} KiB to {after} KiB over 300 malformed sign-ins"
    );
    // The throttle still works for a well-formed mobile.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sign_in(&server, &page, "13800000001", "wrong").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
}

/// Finding 2: Argon2 runs off the async workers and is bounded: a flood of distinct wrong
/// secrets is answered "system busy" at once past the bound, while valid tokens are served.
#[tokio::test]
async fn a_wrong_secret_flood_is_shed_and_valid_tokens_are_served_meanwhile() {
    let server = Server::dev(&["--hash-concurrency", "1"]);
    let ok = server.gettoken("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(ok["errcode"], 0, "{ok}");
    let token = server.mint_user_token("dingdemointernal", "15000009144").await["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = http();
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let client = client.clone();
            let url = server.url(&format!("/gettoken?appkey=nosuchapp&appsecret=guess{i}"));
            tokio::spawn(async move {
                client
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            })
        })
        .collect();
    // While the flood runs, GetUser answers, and the secret verified before is not checked
    // again, so it is not refused for want of a place.
    let me = server.get_me(&token).await;
    assert_eq!(me.status(), 200);
    let ok = server.gettoken("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(ok["errcode"], 0, "{ok}");
    let mut busy = 0;
    let mut refused = 0;
    for f in flood {
        let body = f.await.unwrap();
        match body["errcode"].as_i64() {
            Some(-1) => busy += 1,
            Some(40089 | 40096) => refused += 1,
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    assert!(
        busy > 0,
        "past the bound, guesses are shed ({refused} refused, {busy} busy)"
    );
    assert!(refused >= 1, "the ones checked are refused as wrong ({refused})");
    let ok = server.gettoken("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(ok["errcode"], 0, "after the flood too: {ok}");
}

/// Finding 3: idle sockets, partial headers, HTTP/0.9 lines and half-sent bodies are closed, and
/// at the connection cap new connections are refused, logged, while open ones are served.
#[tokio::test]
async fn idle_and_partial_connections_are_closed_and_the_cap_is_logged() {
    let server = Server::dev(&[
        "--header-timeout-ms",
        "400",
        "--idle-timeout-ms",
        "800",
        "--store-timeout-ms",
        "600",
        "--max-connections",
        "12",
    ]);
    let addr = server.addr();
    // Twelve idle sockets fill the cap: the next connection is closed at once, unanswered.
    let mut idle: Vec<TcpStream> = (0..12).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    // The listener accepts in arrival order, so this one comes thirteenth.
    let mut over = TcpStream::connect(&addr).unwrap();
    let _ = over.write_all(b"GET /_dingdir/health HTTP/1.1\r\nHost: x\r\n\r\n");
    let (got, closed) = read_until_closed(&mut over, Duration::from_secs(3));
    assert!(
        closed && got.is_empty(),
        "over the cap: closed without an answer, got {:?}",
        String::from_utf8_lossy(&got)
    );
    for sock in &mut idle {
        let (_, closed) = read_until_closed(sock, Duration::from_secs(5));
        assert!(closed, "idle connection still open");
    }
    // A kept-alive connection that sent one request and stays quiet, partial headers, an
    // HTTP/0.9 line and a body that stops half-way: each is closed within a few seconds.
    let mut served = TcpStream::connect(&addr).unwrap();
    served
        .write_all(b"GET /_dingdir/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut partial = TcpStream::connect(&addr).unwrap();
    partial.write_all(b"GET /gettoken HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut http09 = TcpStream::connect(&addr).unwrap();
    http09.write_all(b"GET /\r\n").unwrap();
    let mut half_body = TcpStream::connect(&addr).unwrap();
    half_body
        .write_all(b"POST /topapi/v2/user/getbymobile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mob")
        .unwrap();
    for (name, sock) in [
        ("kept-alive", &mut served),
        ("partial headers", &mut partial),
        ("HTTP/0.9", &mut http09),
        ("half-sent body", &mut half_body),
    ] {
        let (got, closed) = read_until_closed(sock, Duration::from_secs(5));
        assert!(
            closed,
            "{name} connection still open after {:?}",
            String::from_utf8_lossy(&got)
        );
    }
    // Below the cap again: a legitimate request is served.
    let r = http().get(server.url("/_dingdir/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let log = server.log_text();
    assert!(log.contains("at the connection cap"), "{log}");
}

/// Finding 5: nothing in the store lets its reader present a credential; a consent ticket is
/// single-use and bound to the browser that signed in.
#[tokio::test]
async fn the_store_holds_no_usable_credential_and_a_consent_ticket_is_single_use() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.sqlite");
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
    let server = Server::serve(&db, &["--seed", seed]);
    let app_token = server.app_token("dingdemointernal", "demo-internal-secret").await;
    let again = server.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(again, app_token, "renewed, the same string");

    let (page, ticket) = zhangsan_ticket(&server, "dingdemointernal").await;
    // Another browser (another CSRF cookie) cannot use this browser's ticket.
    let other = open_sign_in(&server, "dingdemointernal").await;
    let r = consent(&server, &other.csrf, &ticket, "approve").await;
    assert_eq!(r.status(), 400, "a ticket is bound to the browser that signed in");
    let r = consent(&server, &page.csrf, &ticket, "approve").await;
    assert_eq!(r.status(), 302);
    let code = code_in(&r);
    let r = consent(&server, &page.csrf, &ticket, "approve").await;
    assert_eq!(r.status(), 400, "approving the same ticket again gives no second code");

    let (status, user) = user_token(
        &server,
        serde_json::json!({
            "clientId": "dingdemointernal", "clientSecret": "demo-internal-secret",
            "code": code, "grantType": "authorization_code"}),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    let access = user["accessToken"].as_str().unwrap().to_owned();
    let refresh = user["refreshToken"].as_str().unwrap().to_owned();
    assert_eq!(server.get_me(&access).await.status(), 200);
    assert!(server.stop(), "clean stop");

    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(dir.path().join("d.sqlite-wal")).unwrap_or_default());
    for (name, secret) in [
        ("app token", &app_token),
        ("code", &code),
        ("user token", &access),
        ("refresh token", &refresh),
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the {name} is stored as it is sent"
        );
    }
    // And after a restart on the same file, the tokens still work: lookups are by digest.
    let server = Server::serve(&db, &[]);
    assert_eq!(server.get_me(&access).await.status(), 200);
}

/// Finding 5, from a reader of the store: with the id secret (`dev`'s is fixed) a consent form can
/// be resealed, but a ticket resealed for another person spends nothing.
#[tokio::test]
async fn a_ticket_resealed_with_the_id_secret_for_another_person_is_refused() {
    use dingdir_core::ident::{IdSecret, hex, unhex};
    let server = Server::dev(&[]);
    let (page, ticket) = zhangsan_ticket(&server, "dingdemointernal").await;
    let (data, _) = ticket.split_once('.').unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&unhex(data).unwrap()).unwrap();
    assert_eq!(json["person"], "zhangsan");
    json["person"] = "lisi".into();
    let forged_json = serde_json::to_vec(&json).unwrap();
    let tag = IdSecret::from_passphrase("dingdir-dev").tag("ticket", &forged_json);
    let forged = format!("{}.{}", hex(&forged_json), hex(&tag));
    let r = consent(&server, &page.csrf, &forged, "approve").await;
    assert_eq!(r.status(), 400, "a resealed ticket for another person gives no code");
    // The untouched ticket still works once: the refusal did not spend it.
    let r = consent(&server, &page.csrf, &ticket, "approve").await;
    assert_eq!(r.status(), 302);
}

/// Finding 6: a sign-in for a mobile without an account costs what one with an account costs.
#[tokio::test]
async fn sign_in_timing_does_not_tell_which_mobiles_have_accounts() {
    let server = Server::dev(&[]);
    let page = open_sign_in(&server, "dingdemointernal").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    // Four attempts per mobile stay under the throttle; distinct passwords are never remembered.
    for round in 0..4 {
        for (mobile, out) in [("13800000001", &mut known), ("13811112222", &mut unknown)] {
            let at = Instant::now();
            let r = sign_in(&server, &page, mobile, &format!("wrong-{round}")).await;
            out.push(at.elapsed());
            assert_eq!(r.status(), 401);
        }
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[2].as_secs_f64(), unknown[2].as_secs_f64());
    assert!(
        u > k * 0.4 && k > u * 0.4,
        "median known {k:.4} s against unknown {u:.4} s: the difference names the accounts"
    );
}

/// Finding 8: concurrent wrong passwords are counted with the check; CONNECT gets a wire-form
/// answer; admin-token guesses and sign-in attempts are in the log, without secrets.
#[tokio::test]
async fn concurrent_guesses_get_five_checks_connect_is_answered_and_guesses_are_logged() {
    // Room for every guess at once, so none is shed and the count alone decides.
    let server = Server::dev(&["--hash-concurrency", "40"]);
    let page = open_sign_in(&server, "dingdemointernal").await;
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let (base, flow, csrf) = (server.base.clone(), page.flow.clone(), page.csrf.clone());
            tokio::spawn(async move {
                crate::signin::browser()
                    .post(format!("{base}/oauth2/auth/signin"))
                    .header(COOKIE, format!("dingdir_csrf={csrf}"))
                    .form(&[
                        ("flow", flow.as_str()),
                        ("csrf", csrf.as_str()),
                        ("mobile", "13900000007"),
                        ("password", &format!("guess-{i}")),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let throttled = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((checked, throttled), (5, 35), "{statuses:?}");

    let mut sock = TcpStream::connect(server.addr()).unwrap();
    sock.write_all(b"CONNECT /gettoken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (got, _) = read_until_closed(&mut sock, Duration::from_secs(5));
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 405"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert!(json["errcode"].as_i64().is_some_and(|c| c != 0), "{json}");

    let r = http()
        .get(server.url("/_dingdir/export"))
        .header("authorization", "Bearer not-the-admin-token-guess")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let log = server.log_text();
    assert!(log.contains("wrong or missing admin token"), "{log}");
    assert!(log.contains("sign-in attempt") && log.contains("139****0007"), "{log}");
    for secret in ["not-the-admin-token-guess", "guess-1", "demo-password"] {
        assert!(!log.contains(secret), "the log holds {secret}");
    }
}

/// A mixed stream of malformed requests over every endpoint: each answer is in its gateway's
/// wire form, nothing panics, and memory stays bounded. Bounded to a few thousand requests.
#[tokio::test]
async fn a_stream_of_malformed_requests_gets_wire_form_answers_and_no_panic() {
    let server = Server::dev(&[]);
    // A fresh connection per request: a server that answers an over-size body before reading it
    // closes that connection, and a pooled client could race it.
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let paths: [(&str, &str); 9] = [
        ("GET", "/gettoken"),
        (
            "POST",
            "/topapi/v2/user/getbymobile?access_token=0123456789abcdef0123456789abcdef",
        ),
        ("POST", "/v1.0/oauth2/accessToken"),
        ("POST", "/v1.0/oauth2/userAccessToken"),
        ("POST", "/v1.0/oauth2/corpAccessToken"),
        ("GET", "/v1.0/contact/users/me"),
        ("POST", "/_dingdir/seed"),
        ("POST", "/oauth2/corpAccessToken"),
        ("PUT", "/topapi/unknown"),
    ];
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<(Vec<u8>, &str)> = vec![
        (vec![0xff, 0xfe, 0x00, 0x80], "application/json"),
        (b"{\"mobile\":".to_vec(), "application/json"),
        (deep.clone().into_bytes(), "application/json"),
        (deep.into_bytes(), "application/x-yaml"),
        (
            format!("{{\"mobile\": \"{}\"}}", "9".repeat(60_000)).into_bytes(),
            "application/json",
        ),
        (b"mobile=%zz&x=%ff".to_vec(), "application/x-www-form-urlencoded"),
        (b"appKey=1&appSecret=2".to_vec(), "text/plain"),
        (vec![b'a'; 70_000], "application/json"),
        (b"".to_vec(), "application/json"),
        (
            "{\"grantType\":\"authorization_code\",\"code\":\"\u{0}\u{fffd}\"}"
                .as_bytes()
                .to_vec(),
            "application/json",
        ),
    ];
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let before = server.rss_kib();
    let started = Instant::now();
    let mut sent = 0;
    while sent < 1500 && started.elapsed() < Duration::from_secs(40) {
        let (method, path) = paths[(next() % paths.len() as u64) as usize];
        let (body, ctype) = &bodies[(next() % bodies.len() as u64) as usize];
        let mut body = body.clone();
        if next() % 4 == 0 {
            let cut = (next() as usize) % (body.len() + 1);
            body.truncate(cut);
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client
            .request(method, server.url(path))
            .header("content-type", *ctype)
            .body(body);
        if path.starts_with("/_dingdir/") {
            req = req.header("authorization", format!("Bearer {}", server.admin_token));
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let ctype = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = r.bytes().await.unwrap();
        assert!(!bytes.is_empty(), "{path}: empty body with {status}");
        assert!(
            ctype.starts_with("application/json"),
            "{path}: {status} {ctype}: {}",
            String::from_utf8_lossy(&bytes)
        );
        let json: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{path}: not JSON: {}", String::from_utf8_lossy(&bytes)));
        let wire_form = if path.starts_with("/v1.0/") || path.starts_with("/_dingdir/") {
            json.get("code").is_some() || status.is_success()
        } else {
            status == 200 && json.get("errcode").is_some()
        };
        assert!(wire_form, "{path}: {status} {json}");
        sent += 1;
    }
    assert!(sent >= 300, "only {sent} requests in the time bound");
    let after = server.rss_kib();
    assert!(after < before + 64 * 1024, "RSS grew from {before} KiB to {after} KiB");
    let log = server.log_text();
    assert!(!log.contains("panicked"), "{log}");
}
