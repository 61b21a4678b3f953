//! `stream-bench DINGDIR_BINARY DEMO_SEED OUT_JSON`: Stream mode's figures for docs/PERFORMANCE.md.
//!
//! Starts `dingdir serve` on a fresh SQLite file with the demo seed on 127.0.0.1, and measures,
//! with a WebSocket client that frames and acks as the official SDKs do:
//! - latency: for each of `STREAM_WRITES` sequential `POST /topapi/v2/user/create`, the time from
//!   the write's answer to its event's frame (an event that beats the answer counts 0), against
//!   the same run's write round trip as the baseline;
//! - throughput: `STREAM_BACKLOG` events written while no connection is open, then the time for
//!   one connection to receive and ack them all, against the same run's write rate;
//! - memory: the server's RSS before and after `STREAM_IDLE` idle connections, per connection.
//!
//! Prints a table to stderr and writes the figures as JSON. Everything is 127.0.0.1; every wait
//! is bounded; the server is killed on exit.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

const ADMIN: &str = "bench";
const APP: &str = "dingdemointernal";
const SECRET: &str = "demo-internal-secret";
const WRITER_SEED: &str = "apps:\n  - key: dingbenchwriter\n    name: Bench Writer\n    type: internal\n    \
    secret: bench-writer-secret\n    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4\n    \
    scopes: [qyapi_get_member, qyapi_manage_addresslist]\n";
const WAIT: Duration = Duration::from_secs(30);

type Ws = WebSocketStream<TcpStream>;
type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn start(binary: &str, seed: &str, db: &std::path::Path) -> Result<Server, Failure> {
    let mut child = Command::new(binary)
        .args(["serve", "--db", &format!("sqlite:{}", db.display()), "--seed", seed])
        .args(["--listen", "127.0.0.1:0", "--admin-token", ADMIN, "--log", "warn"])
        .args(["--max-connections", "4096", "--stream-max-per-app", "2000"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("dingdir listening on ") {
                let _ = tx.send(addr.trim().to_owned());
            }
        }
    });
    let base = rx.recv_timeout(WAIT).map_err(|_| "dingdir did not start in 30 s")?;
    Ok(Server { child, base })
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn connect(http: &reqwest::Client, base: &str) -> Result<Ws, Failure> {
    let open: Value = http
        .post(format!("{base}/v1.0/gateway/connections/open"))
        .json(&json!({"clientId": APP, "clientSecret": SECRET, "subscriptions": [{"type": "EVENT", "topic": "*"}], "ua": "stream-bench"}))
        .send()
        .await?
        .json()
        .await?;
    let endpoint = open["endpoint"].as_str().ok_or("no endpoint")?;
    let ticket = open["ticket"].as_str().ok_or("no ticket")?;
    let addr = endpoint.trim_start_matches("ws://").trim_end_matches("/connect");
    let tcp = TcpStream::connect(addr).await?;
    let (ws, _) = tokio_tungstenite::client_async(format!("{endpoint}?ticket={ticket}"), tcp).await?;
    Ok(ws)
}

/// The next EVENT frame's `userId`, acked with SUCCESS as the Node SDK does.
async fn next_event(ws: &mut Ws) -> Result<String, Failure> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .map_err(|_| "no event in 30 s")?;
        let Some(Ok(Message::Text(text))) = msg else {
            if matches!(msg, Some(Ok(_))) {
                continue;
            }
            return Err("the connection closed".into());
        };
        let frame: Value = serde_json::from_str(text.as_str())?;
        if frame["type"] != "EVENT" {
            continue;
        }
        let ack = json!({"code": 200, "headers": {"contentType": "application/json", "messageId": frame["headers"]["messageId"]},
                         "message": "OK", "data": "{\"status\":\"SUCCESS\"}"});
        ws.send(Message::Text(ack.to_string().into())).await?;
        let data: Value = serde_json::from_str(frame["data"].as_str().unwrap_or("{}"))?;
        return Ok(data["userId"][0].as_str().unwrap_or_default().to_owned());
    }
}

struct Writer {
    http: reqwest::Client,
    url: String,
}

impl Writer {
    async fn create(&self, userid: &str, n: usize) -> Result<(), Failure> {
        let body = json!({"userid": userid, "name": userid, "mobile": format!("13{:09}", n), "dept_id_list": "1"});
        let v: Value = self.http.post(&self.url).json(&body).send().await?.json().await?;
        if v["errcode"] != 0 {
            return Err(format!("create {userid}: {v}").into());
        }
        Ok(())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(binary: &str, seed: &str, out: &str) -> Result<(), Failure> {
    let writes = env_usize("STREAM_WRITES", 300);
    let backlog = env_usize("STREAM_BACKLOG", 2000);
    let idle = env_usize("STREAM_IDLE", 1000);
    let dir = std::env::temp_dir().join(format!("dingdir-stream-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let server = start(binary, seed, &dir.join("bench.sqlite"))?;
    let base = server.base.clone();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let applied = http
        .post(format!("{base}/_dingdir/seed"))
        .bearer_auth(ADMIN)
        .body(WRITER_SEED)
        .send()
        .await?;
    if !applied.status().is_success() {
        return Err(format!("seed: {}", applied.text().await?).into());
    }
    let token: Value = http
        .get(format!(
            "{base}/gettoken?appkey=dingbenchwriter&appsecret=bench-writer-secret"
        ))
        .send()
        .await?
        .json()
        .await?;
    let writer = Writer {
        http: http.clone(),
        url: format!(
            "{base}/topapi/v2/user/create?access_token={}",
            token["access_token"].as_str().ok_or("no token")?
        ),
    };

    // Latency: one write at a time, each one's event awaited.
    let mut ws = connect(&http, &base).await?;
    let (mut lat, mut rtt, mut early) = (Vec::new(), Vec::new(), 0usize);
    for n in 0..writes {
        let userid = format!("lat{n}");
        let sent = Instant::now();
        let write = writer.create(&userid, n);
        let (written, got) = tokio::join!(
            async {
                write.await?;
                Ok::<_, Failure>(Instant::now())
            },
            async {
                let id = next_event(&mut ws).await?;
                Ok::<_, Failure>((id, Instant::now()))
            }
        );
        let (answered, (id, arrived)) = (written?, got?);
        if id != userid {
            return Err(format!("expected {userid}'s event, got {id}'s").into());
        }
        rtt.push(millis(answered - sent));
        if arrived < answered {
            early += 1;
            lat.push(0.0);
        } else {
            lat.push(millis(arrived - answered));
        }
    }
    drop(ws);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Throughput: a backlog written with no connection open, then drained by one.
    let wrote = Instant::now();
    for n in 0..backlog {
        writer.create(&format!("bl{n}"), writes + n).await?;
    }
    let write_rate = backlog as f64 / wrote.elapsed().as_secs_f64();
    let mut ws = connect(&http, &base).await?;
    let drained = Instant::now();
    for n in 0..backlog {
        let id = next_event(&mut ws).await?;
        if id != format!("bl{n}") {
            return Err(format!("out of order: expected bl{n}, got {id}").into());
        }
    }
    let events_per_sec = backlog as f64 / drained.elapsed().as_secs_f64();
    drop(ws);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Memory: idle connections.
    let pid = server.child.id();
    let before = rss_kib(pid);
    let mut idle_conns = Vec::with_capacity(idle);
    for _ in 0..idle {
        idle_conns.push(connect(&http, &base).await?);
    }
    let listed: Value = http
        .get(format!("{base}/_dingdir/stream/connections"))
        .bearer_auth(ADMIN)
        .send()
        .await?
        .json()
        .await?;
    let open = listed["connections"].as_array().map_or(0, Vec::len);
    if open != idle {
        return Err(format!("{open} connections listed, {idle} opened").into());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid);
    drop(idle_conns);

    lat.sort_by(f64::total_cmp);
    rtt.sort_by(f64::total_cmp);
    let per_conn = (after.saturating_sub(before)) as f64 / idle as f64;
    let figures = json!({
        "writes": writes,
        "latency_ms": {"p50": percentile(&lat, 0.5), "p99": percentile(&lat, 0.99), "max": percentile(&lat, 1.0)},
        "events_before_the_answer": early,
        "write_rtt_ms": {"p50": percentile(&rtt, 0.5), "p99": percentile(&rtt, 0.99)},
        "latency_p50_over_write_rtt_p50": percentile(&lat, 0.5) / percentile(&rtt, 0.5).max(1e-9),
        "backlog": backlog,
        "events_per_sec": events_per_sec,
        "writes_per_sec": write_rate,
        "events_per_sec_over_writes_per_sec": events_per_sec / write_rate,
        "idle_connections": idle,
        "rss_kib_before": before,
        "rss_kib_after": after,
        "kib_per_idle_connection": per_conn,
    });
    std::fs::write(out, serde_json::to_string_pretty(&figures)?)?;
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "stream: write→handler p50 {:.2} ms, p99 {:.2} ms ({early} of {writes} before the answer; write round trip p50 {:.2} ms)\n\
         stream: {events_per_sec:.0} events/s to one connection ({write_rate:.0} writes/s while the backlog was written)\n\
         stream: {per_conn:.1} KiB per idle connection ({idle} open: RSS {before} → {after} KiB)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&rtt, 0.5),
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: stream-bench DINGDIR_BINARY DEMO_SEED OUT_JSON");
        std::process::exit(2);
    }
    if let Err(e) = run(&args[1], &args[2], &args[3]).await {
        eprintln!("stream-bench: {e}");
        std::process::exit(1);
    }
}
