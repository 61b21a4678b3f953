//! Starting and stopping the real binary: `--listen 127.0.0.1:0`, the address read from its
//! first line of output, every wait bounded, the child killed and reaped on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The binary under test.
pub(crate) fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dingdir"))
}

/// A command for the binary with a clean `DINGDIR_*` environment.
pub(crate) fn command() -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("DINGDIR_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("DINGDIR_LOG", "info");
    cmd
}

/// Runs a one-shot subcommand (`apply`, `export`, `schema`) to completion, bounded in time.
pub(crate) fn run(args: &[&str]) -> Output {
    let mut cmd = command();
    cmd.args(args);
    run_command(cmd)
}

/// Runs a subcommand that answers JSON on stdout: whether it succeeded, the JSON (`Null` on
/// failure, when stdout must be empty) and stderr.
pub(crate) fn run_json(args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = run(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = if out.status.success() {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    } else {
        assert!(stdout.is_empty(), "nothing on stdout on failure: {stdout}");
        serde_json::Value::Null
    };
    (out.status.success(), json, stderr)
}

/// Runs `cmd` (from [`command`], with its own arguments, directory or variables) to completion,
/// bounded in time as [`run`] is.
pub(crate) fn run_command(mut cmd: Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dingdir");
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            // Still running after a minute: kill it so the test fails instead of hanging.
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    });
    let out = child.wait_with_output().expect("wait for dingdir");
    let _ = tx.send(());
    out
}

/// A running server.
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub(crate) base: String,
    /// The admin token it was started with.
    pub(crate) admin_token: String,
    /// Where its stderr (the log) goes.
    pub(crate) log: PathBuf,
    printed: Arc<Mutex<String>>,
    _dir: Option<tempfile::TempDir>,
}

/// The admin token test servers are started with.
pub(crate) const ADMIN_TOKEN: &str = "test-admin-token";

impl Server {
    /// `dingdir dev` with the demo directory.
    pub(crate) fn dev(extra: &[&str]) -> Self {
        let mut args = vec!["dev"];
        args.extend_from_slice(extra);
        Self::start(&args, None)
    }

    /// `dingdir serve` on the given SQLite file.
    pub(crate) fn serve(db: &Path, extra: &[&str]) -> Self {
        let db = format!("sqlite:{}", db.display());
        let mut args = vec!["serve", "--db", &db];
        args.extend_from_slice(extra);
        Self::start(&args, None)
    }

    /// `dingdir serve` on a PostgreSQL database.
    pub(crate) fn serve_url(db: &str, extra: &[&str]) -> Self {
        let mut args = vec!["serve", "--db", db];
        args.extend_from_slice(extra);
        Self::start(&args, None)
    }

    /// `GET /gettoken` with `key` and `secret`: the whole legacy answer.
    pub(crate) async fn gettoken(&self, key: &str, secret: &str) -> serde_json::Value {
        let url = self.url(&format!("/gettoken?appkey={key}&appsecret={secret}"));
        http().get(url).send().await.unwrap().json().await.unwrap()
    }

    /// An app token from `GET /gettoken`; any other answer fails the test.
    pub(crate) async fn app_token(&self, key: &str, secret: &str) -> String {
        let body = self.gettoken(key, secret).await;
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// The server's resident memory in KiB (`VmRSS`), from `/proc`.
    pub(crate) fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// The listen address, for raw sockets.
    pub(crate) fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub(crate) fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the binary with `args` plus a free port, and waits (bounded) for its listen line.
    pub(crate) fn start(args: &[&str], env: Option<&[(&str, &str)]>) -> Self {
        Self::start_on("127.0.0.1:0", args, env)
    }

    /// [`Self::start`] on a given address, such as the one a stopped node listened on, so the
    /// clients that knew it find the new process there.
    pub(crate) fn start_on(listen: &str, args: &[&str], env: Option<&[(&str, &str)]>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("server.log");
        let mut cmd = command();
        cmd.args(args)
            .args(["--listen", listen, "--admin-token", ADMIN_TOKEN])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (k, v) in env.unwrap_or_default() {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn dingdir");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let printed = Arc::new(Mutex::new(String::new()));
        let sink = printed.clone();
        std::thread::spawn(move || {
            // Reads every line, so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("dingdir listening on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let Ok(base) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "dingdir did not start within 30 s; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Self {
            child,
            base,
            admin_token: ADMIN_TOKEN.to_owned(),
            log,
            printed,
            _dir: Some(dir),
        }
    }

    /// Applies a YAML seed through the admin API; any answer but 200 fails the test.
    pub(crate) async fn apply_seed(&self, yaml: &str) {
        let r = http()
            .post(self.url("/_dingdir/seed"))
            .bearer_auth(&self.admin_token)
            .body(yaml.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(status, 200, "{}", r.text().await.unwrap_or_default());
    }

    /// A URL on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Mints a user token through the admin API (`POST /_dingdir/tokens/user`) for the normal
    /// account with `mobile`, and returns the answer (`accessToken`, `refreshToken`, ...).
    pub(crate) async fn mint_user_token(&self, app_key: &str, mobile: &str) -> serde_json::Value {
        let r = http()
            .post(self.url("/_dingdir/tokens/user"))
            .bearer_auth(&self.admin_token)
            .json(&serde_json::json!({ "app_key": app_key, "mobile": mobile }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "minting a token for {app_key} / {mobile}");
        r.json().await.unwrap()
    }

    /// GetUser for the token's own person: `GET /v1.0/contact/users/me` with the token in
    /// `x-acs-dingtalk-access-token`.
    /// `POST /topapi/v2/user/getbymobile` with an app token: the answer as JSON.
    pub(crate) async fn by_mobile(&self, token: &str, mobile: &str) -> serde_json::Value {
        self.legacy_post(
            "/topapi/v2/user/getbymobile",
            token,
            &serde_json::json!({ "mobile": mobile }),
        )
        .await
    }

    /// A legacy-gateway POST with `?access_token=` and a JSON body: the answer as JSON.
    pub(crate) async fn legacy_post(&self, path: &str, token: &str, body: &serde_json::Value) -> serde_json::Value {
        http()
            .post(self.url(&format!("{path}?access_token={token}")))
            .json(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// An admin GET with the admin token: the answer as JSON; any status but success fails the test.
    pub(crate) async fn admin_get(&self, path: &str) -> serde_json::Value {
        self.admin(reqwest::Method::GET, path, None).await
    }

    /// An admin call with the admin token and an optional JSON body: the answer as JSON; any
    /// status but success fails the test.
    pub(crate) async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> serde_json::Value {
        let mut req = http().request(method, self.url(path)).bearer_auth(&self.admin_token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    pub(crate) async fn get_me(&self, token: &str) -> reqwest::Response {
        http()
            .get(self.url("/v1.0/contact/users/me"))
            .header("x-acs-dingtalk-access-token", token)
            .send()
            .await
            .unwrap()
    }

    /// An in-app sign-in code for `userid` of the app's own corp (`POST /_dingdir/auth-codes`).
    pub(crate) async fn auth_code(&self, app_key: &str, userid: &str) -> String {
        let r = http()
            .post(self.url("/_dingdir/auth-codes"))
            .bearer_auth(&self.admin_token)
            .json(&serde_json::json!({ "app_key": app_key, "userid": userid }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "minting a code for {app_key} / {userid}");
        let body: serde_json::Value = r.json().await.unwrap();
        body["code"].as_str().expect("code").to_owned()
    }

    /// Moves the server's clock forward (`POST /_dingdir/clock`); needs the test clock.
    pub(crate) async fn advance_clock(&self, secs: u64) {
        let r = http()
            .post(self.url("/_dingdir/clock"))
            .bearer_auth(&self.admin_token)
            .json(&serde_json::json!({ "advance_secs": secs }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    }

    /// What the server printed on stdout so far.
    pub(crate) fn printed(&self) -> String {
        self.printed.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// What the server printed, once it contains `needle` (bounded: 10 s), so a test never reads
    /// the banner before the reader thread has.
    pub(crate) fn printed_with(&self, needle: &str) -> String {
        for _ in 0..200 {
            let printed = self.printed();
            if printed.contains(needle) {
                return printed;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
        self.printed()
    }

    /// The server's log so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit; returns whether it exited cleanly.
    pub(crate) fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::park_timeout(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- dingdir log ({}) ---\n{}", self.base, self.log_text());
        }
    }
}

/// An HTTP client that never uses a proxy and never waits long.
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}
