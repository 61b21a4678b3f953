//! Real clients as referees: the official DingTalk SDKs (Python sync and async, Node), the
//! community Python SDKs (`dingtalk-sdk`, `dingtalk-oapi-zhcn`) and a real browser, unmodified,
//! against the real binary. Each test starts `dingdir dev`, runs one driver from `tests/compat/`
//! with `HOST:PORT ADMIN_TOKEN`, and passes when the driver exits 0; a failing driver's output
//! names the check and what the client saw.
//!
//! `scripts/test` installs the clients and says where they are:
//! `DINGDIR_COMPAT_PYTHON` (a venv's python with the pinned SDKs), `DINGDIR_COMPAT_NODE_MODULES`
//! (`tests/compat/node_modules`), `DINGDIR_COMPAT_CHROMIUM` (`/usr/bin/chromium`) and
//! `DINGDIR_ARTIFACTS` (where screenshots go). Without them the same places are tried. A client
//! that is missing skips its test, except with `CI=true`, where a missing client is a failure.
//! `docs/COMPATIBILITY.md` lists which driver verifies what.

use crate::harness::Server;
use serde_json::Value;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long one driver may run before it is killed (with everything it started).
const DRIVER_TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn compat_dir() -> PathBuf {
    repo().join("tests/compat")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A client is missing: in CI that fails the test, elsewhere the test is skipped.
fn missing(what: &str) -> Option<PathBuf> {
    assert!(
        !in_ci(),
        "{what}; a missing SDK is a failure in CI (scripts/test installs it)"
    );
    eprintln!("SKIPPED: {what}; run scripts/test to install the compat clients");
    None
}

fn env_path(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map_or(default, PathBuf::from)
}

/// Whether `program args...` exits 0 within a short bound.
fn succeeds(program: &Path, args: &[&str]) -> bool {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    run_bounded(cmd, Duration::from_secs(30)).is_some_and(|out| out.status.success())
}

/// The venv's python, if it can import every one of `modules`.
fn python(modules: &[&str]) -> Option<PathBuf> {
    let python = env_path("DINGDIR_COMPAT_PYTHON", repo().join(".venv/bin/python"));
    let import = format!("import {}", modules.join(", "));
    if !python.is_file() {
        return missing(&format!("no python at {}", python.display()));
    }
    if !succeeds(&python, &["-c", &import]) {
        return missing(&format!("{} cannot `{import}`", python.display()));
    }
    Some(python)
}

/// `node`, if it runs and `node_modules` holds every one of `packages`; returns the node_modules.
fn node_modules(packages: &[&str]) -> Option<PathBuf> {
    let modules = env_path("DINGDIR_COMPAT_NODE_MODULES", compat_dir().join("node_modules"));
    if !succeeds(Path::new("node"), &["--version"]) {
        return missing("no `node` on PATH");
    }
    for package in packages {
        if !modules.join(package).join("package.json").is_file() {
            return missing(&format!("{package} is not in {}", modules.display()));
        }
    }
    Some(modules)
}

/// What a browser driver needs: playwright-core, Chromium, and where screenshots go.
struct Browser {
    modules: PathBuf,
    chromium: PathBuf,
    artifacts: PathBuf,
}

impl Browser {
    fn find() -> Option<Self> {
        let (modules, chromium) = (node_modules(&["playwright-core"])?, chromium()?);
        let artifacts = env_path("DINGDIR_ARTIFACTS", repo().join("artifacts"));
        Some(Self {
            modules,
            chromium,
            artifacts,
        })
    }

    /// Runs the Node browser driver `script` against `server`; its stdout.
    fn drive(&self, server: &Server, script: &str) -> String {
        let env = [
            ("NODE_PATH", self.modules.clone().into_os_string()),
            ("DINGDIR_COMPAT_CHROMIUM", self.chromium.clone().into_os_string()),
            ("DINGDIR_ARTIFACTS", self.artifacts.clone().into_os_string()),
        ];
        drive(server, Path::new("node"), script, &[], &env)
    }
}

fn chromium() -> Option<PathBuf> {
    let chromium = env_path("DINGDIR_COMPAT_CHROMIUM", PathBuf::from("/usr/bin/chromium"));
    if chromium.is_file() {
        Some(chromium)
    } else {
        missing(&format!("no chromium at {}", chromium.display()))
    }
}

/// Runs `cmd` in its own process group; after `limit` the whole group is killed.
fn run_bounded(mut cmd: Command, limit: Duration) -> Option<Output> {
    cmd.process_group(0);
    let child = cmd.spawn().ok()?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.ok(),
        Err(_) => {
            // A browser or an SDK stuck on a socket: kill the group so nothing outlives the test.
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
            let out = rx.recv_timeout(Duration::from_secs(10)).ok()?.ok()?;
            panic!(
                "killed after {} s\n--- stdout ---\n{}\n--- stderr ---\n{}",
                limit.as_secs(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Runs a driver against `server` and returns its stdout; fails the test unless it exits 0.
fn drive(server: &Server, program: &Path, script: &str, extra: &[String], env: &[(&str, OsString)]) -> String {
    let hostport = server.base.trim_start_matches("http://");
    let mut cmd = Command::new(program);
    cmd.arg(compat_dir().join(script))
        .arg(hostport)
        .arg(&server.admin_token)
        .args(extra)
        .current_dir(compat_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out =
        run_bounded(cmd, DRIVER_TIMEOUT).unwrap_or_else(|| panic!("could not run {} {script}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    eprintln!("--- {script} ---\n{stdout}{stderr}");
    stdout
}

#[test]
fn official_python_sdk_sync_and_async_accept_every_answer() {
    let Some(python) = python(&["alibabacloud_dingtalk"]) else {
        return;
    };
    let server = Server::dev(&[]);
    drive(&server, &python, "py_official.py", &[], &[]);
}

#[test]
fn official_node_sdk_casts_every_answer_without_complaint() {
    let Some(modules) = node_modules(&["@alicloud/dingtalk"]) else {
        return;
    };
    let server = Server::dev(&[]);
    drive(
        &server,
        Path::new("node"),
        "node_official.js",
        &[],
        &[("NODE_PATH", modules.into_os_string())],
    );
}

#[test]
fn prometheus_client_parses_the_metrics_and_they_count_what_was_done() {
    let Some(python) = python(&["alibabacloud_dingtalk", "prometheus_client"]) else {
        return;
    };
    let server = Server::dev(&[]);
    drive(&server, &python, "py_prometheus.py", &[], &[]);
}

#[test]
fn community_python_sdk_fetches_caches_and_uses_app_tokens() {
    let Some(python) = python(&["dingtalk"]) else {
        return;
    };
    let server = Server::dev(&[]);
    drive(&server, &python, "py_community.py", &[], &[]);
}

#[test]
fn community_python_sdk_receives_every_event_and_performs_every_write() {
    let Some(python) = python(&["dingtalk"]) else {
        return;
    };
    // Short retries, so the wrong receiver sees several within the driver's bounds.
    let server = Server::dev(&["--callback-backoff-ms", "300", "--callback-poll-ms", "50"]);
    drive(&server, &python, "py_callbacks.py", &[], &[]);
}

/// The Stream timings the Stream referees run with: short enough for their bounded waits.
const STREAM_FLAGS: [&str; 8] = [
    "--stream-ack-timeout-ms",
    "1000",
    "--stream-later-ms",
    "300",
    "--stream-ping-ms",
    "500",
    "--callback-poll-ms",
    "50",
];

#[test]
fn official_python_stream_sdk_gets_every_contact_event_and_what_it_missed() {
    let Some(python) = python(&["dingtalk_stream"]) else {
        return;
    };
    let server = Server::dev(&STREAM_FLAGS);
    drive(&server, &python, "py_stream.py", &[], &[]);
}

#[test]
fn dingtalkchatbot_sends_every_message_type_and_gets_dingtalks_refusals() {
    let Some(python) = python(&["dingtalkchatbot"]) else {
        return;
    };
    let server = Server::dev(&[]);
    drive(&server, &python, "py_robot.py", &[], &[]);
}

#[test]
fn a_chatbot_on_the_official_python_stream_sdk_answers_a_person_into_the_inbox() {
    let Some(python) = python(&["dingtalk_stream"]) else {
        return;
    };
    let server = Server::dev(&[]);
    drive(&server, &python, "py_chatbot.py", &[], &[]);
}

#[test]
fn an_app_sends_robot_messages_and_work_notifications_through_the_python_sdks() {
    let Some(python) = python(&["alibabacloud_dingtalk", "dingtalk"]) else {
        return;
    };
    let server = Server::dev(&[]);
    drive(&server, &python, "py_messages.py", &[], &[]);
}

#[test]
fn official_node_stream_sdk_gets_events_through_the_documented_shim() {
    let Some(modules) = node_modules(&["dingtalk-stream"]) else {
        return;
    };
    let server = Server::dev(&STREAM_FLAGS);
    drive(
        &server,
        Path::new("node"),
        "node_stream.js",
        &[],
        &[("NODE_PATH", modules.into_os_string())],
    );
}

/// The venv's python for `dingtalk-oapi-zhcn`. Every release of it declares `Requires-Python
/// >=3.13` and the project's Python is 3.11, so `scripts/test` installs it past that check
/// (`tests/compat/requirements-zhcn.txt`); its code runs on 3.11 unchanged.
fn python_for_zhcn() -> Option<PathBuf> {
    python(&["dingtalk_oapi_zhcn"])
}

#[test]
fn zhcn_python_sdk_reads_the_directory_with_a_new_gateway_app_token() {
    let Some(python) = python_for_zhcn() else {
        return;
    };
    let server = Server::dev(&[]);
    drive(&server, &python, "py_zhcn.py", &[], &[]);
}

#[test]
fn a_real_browser_signs_in_to_the_inspector_and_watches_the_journal() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let server = Server::dev(&[]);
    browser.drive(&server, "inspector.js");
    let artifacts = browser.artifacts;
    for device in ["desktop", "phone"] {
        for shot in [
            format!("inspector-signin-{device}.png"),
            format!("inspector-{device}.png"),
        ] {
            assert!(artifacts.join(&shot).is_file(), "no screenshot {shot}");
        }
    }
}

#[test]
fn browser_sign_in_gives_a_code_the_official_python_sdk_exchanges() {
    let (Some(browser), Some(python)) = (Browser::find(), python(&["alibabacloud_dingtalk"])) else {
        return;
    };
    let server = Server::dev(&[]);
    let printed = browser.drive(&server, "browser.js");
    let artifacts = browser.artifacts;
    let codes: Vec<String> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("code="))
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 2, "one code per device (desktop, phone):\n{printed}");
    for shot in [
        "signin-desktop.png",
        "consent-desktop.png",
        "signin-phone.png",
        "consent-phone.png",
    ] {
        assert!(artifacts.join(shot).is_file(), "no screenshot {shot}");
    }

    let exchanged = drive(&server, &python, "py_exchange.py", &codes, &[]);
    let people: Vec<Value> = exchanged
        .lines()
        .filter_map(|l| l.strip_prefix("me="))
        .map(|json| serde_json::from_str(json).unwrap())
        .collect();
    assert_eq!(people.len(), codes.len(), "{exchanged}");
    for me in people {
        assert_eq!(me["nick"], "zhangsan", "{me}");
        assert_eq!(me["mobile"], "15000009144", "{me}");
        assert_eq!(me["visitor"], false, "{me}");
    }
}

/// A child process group killed when dropped, so a receiver that runs until told never outlives
/// its test.
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pid = self.0.id();
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
        let _ = self.0.wait();
    }
}

/// The deliveries the receiver wrote so far: `(eventId, UserId)` in the order they arrived.
fn deliveries(file: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            (
                v["event_id"].as_str().unwrap_or_default().to_owned(),
                v["ids"][0].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Waits (bounded) until the receiver saw every one of `userids`.
async fn wait_for(file: &Path, userids: &[String], within: Duration) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let got = deliveries(file);
        if userids.iter().all(|u| got.iter().any(|(_, id)| id == u)) {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the SDK did not receive {userids:?} within {} s; it got {got:?}",
            within.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn python_stream_sdk_on_node_b_gets_node_a_writes_in_order_across_b_restarting() {
    let Some(python) = python(&["dingtalk_stream"]) else {
        return;
    };
    if dingdir_store::testing::postgres_server().is_none() {
        return;
    }
    let db = dingdir_store::testing::fresh_postgres_database().await;
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
    let mut a_args = vec!["serve", "--db", &db, "--seed", demo, "--node-id", "node-a"];
    a_args.extend_from_slice(&STREAM_FLAGS);
    let a = Server::start(&a_args, None);
    let mut b_args = vec!["serve", "--db", &db, "--node-id", "node-b"];
    b_args.extend_from_slice(&STREAM_FLAGS);
    let mut b = Server::start(&b_args, None);
    a.apply_seed(
        "apps:\n  - key: dingstreamwriter\n    name: Stream Writer\n    type: internal\n    secret: stream-writer-secret\n    \
         corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4\n    scopes: [qyapi_get_member, qyapi_manage_addresslist]\n",
    )
    .await;
    let token = a.app_token("dingstreamwriter", "stream-writer-secret").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deliveries.jsonl");
    let mut cmd = Command::new(&python);
    cmd.arg(compat_dir().join("py_stream.py"))
        .arg(b.addr())
        .arg(&b.admin_token)
        .args(["--receive-only", "1000"])
        .arg(&file)
        .current_dir(compat_dir())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let _receiver = Group(cmd.spawn().expect("spawn the receiver"));
    let listed = async |server: &Server| {
        let v = server.admin_get("/_dingdir/stream/connections").await;
        v["connections"].as_array().map_or(0, Vec::len)
    };
    for _ in 0..200 {
        if listed(&b).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed(&b).await, 1, "the SDK connected to node B");
    let create = async |n: usize| {
        let userid = format!("nodeab{n}");
        let body = serde_json::json!({"userid": userid, "name": userid, "mobile": format!("1350000{n:04}"), "dept_id_list": "1"});
        let v = a.legacy_post("/topapi/v2/user/create", &token, &body).await;
        assert_eq!(v["errcode"], 0, "{v}");
        userid
    };
    let mut written = Vec::new();
    for n in 0..3 {
        written.push(create(n).await);
    }
    wait_for(&file, &written, Duration::from_secs(20)).await;
    // Node B dies with the SDK connected; node A takes writes meanwhile; B comes back where it
    // was, and the SDK (after its own 10 s pause on an abnormal close) reconnects to it.
    let addr = b.addr();
    b.kill_now();
    for n in 3..6 {
        written.push(create(n).await);
    }
    let _b = Server::start_on(&addr, &b_args, None);
    for n in 6..8 {
        written.push(create(n).await);
    }
    let got = wait_for(&file, &written, Duration::from_secs(60)).await;
    let mut first_seen: Vec<&str> = Vec::new();
    for (_, id) in &got {
        if !first_seen.contains(&id.as_str()) {
            first_seen.push(id);
        }
    }
    assert_eq!(first_seen, written, "first deliveries in the order of the writes");
    // Once per acknowledgement: every entry has exactly one successful push, and an event came
    // twice only if node B died before it recorded the ack.
    let attempts = a.admin_get("/_dingdir/stream/attempts?app_key=dingdemointernal").await;
    let pushes = attempts["attempts"].as_array().unwrap();
    let mut successes: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    for p in pushes {
        if p.get("error").is_none() {
            *successes.entry(p["seq"].as_i64().unwrap()).or_default() += 1;
        }
    }
    assert_eq!(successes.len(), written.len(), "{attempts}");
    assert!(successes.values().all(|&n| n == 1), "{attempts}");
    assert!(
        got.len() <= written.len() + 1,
        "more repeats than the one push in flight: {got:?}"
    );
}
