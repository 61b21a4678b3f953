//! Servers that stand in for dingdir in client tests: a reverse proxy that counts the requests
//! reaching the real server (which keeps no counter of its own), and a stub that plays refusals
//! the real server cannot be made to repeat. Both speak just enough HTTP/1.1: requests with
//! `Content-Length` bodies (what reqwest sends for JSON), several per connection.

use crate::harness::Server;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Reads one request: its raw bytes, its request line, and its body. `None` at end of stream.
async fn read_request<R: AsyncBufRead + Unpin>(r: &mut R) -> Option<(Vec<u8>, String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut request_line = String::new();
    let mut length = 0usize;
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if request_line.is_empty() {
            request_line = text;
            continue;
        }
        if text.is_empty() {
            break;
        }
        let (name, value) = text.split_once(':').unwrap_or((&text, ""));
        let name = name.trim().to_ascii_lowercase();
        assert_ne!(
            name, "transfer-encoding",
            "the test proxy reads Content-Length bodies only"
        );
        if name == "content-length" {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).await.ok()?;
    raw.extend_from_slice(&body);
    Some((raw, request_line, body))
}

/// "METHOD /path" of a request line, without the query.
fn route(request_line: &str) -> String {
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    format!("{method} {}", target.split('?').next().unwrap_or_default())
}

/// Every request seen, as "METHOD /path".
#[derive(Clone, Default)]
pub(crate) struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, route: String) -> usize {
        let mut seen = self.0.lock().unwrap();
        let nth = seen.iter().filter(|r| **r == route).count();
        seen.push(route);
        nth
    }

    pub(crate) fn count(&self, route: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|r| *r == route).count()
    }
}

/// A reverse proxy in front of a dingdir server that counts the requests passing through.
pub(crate) struct CountingProxy {
    pub(crate) base: String,
    pub(crate) seen: Seen,
}

impl CountingProxy {
    pub(crate) async fn start(server: &Server) -> Self {
        let upstream = server.base.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Seen::default();
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = TcpStream::connect(&upstream).await.unwrap();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let (client_read, mut client_write) = client.into_split();
                    let (mut upstream_read, mut upstream_write) = upstream.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
                    });
                    let mut client_read = BufReader::new(client_read);
                    while let Some((raw, line, _)) = read_request(&mut client_read).await {
                        counter.push(route(&line));
                        if upstream_write.write_all(&raw).await.is_err() {
                            break;
                        }
                    }
                    let _ = upstream_write.shutdown().await;
                });
            }
        });
        Self { base, seen }
    }
}

/// A scripted server: `answer(route, n)` gives the status and JSON body of the `n`th (0-based)
/// request to `route`.
type Script = Arc<dyn Fn(&str, usize) -> (u16, String) + Send + Sync>;

pub(crate) struct Stub {
    pub(crate) base: String,
    pub(crate) seen: Seen,
}

impl Stub {
    pub(crate) async fn start(script: impl Fn(&str, usize) -> (u16, String) + Send + Sync + 'static) -> Self {
        let script: Script = Arc::new(script);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Seen::default();
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (script, log) = (script.clone(), log.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut read = BufReader::new(read);
                    while let Some((_, line, _)) = read_request(&mut read).await {
                        let route = route(&line);
                        let nth = log.push(route.clone());
                        let (status, body) = script(&route, nth);
                        let head = format!(
                            "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        if write.write_all(head.as_bytes()).await.is_err()
                            || write.write_all(body.as_bytes()).await.is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        Self { base, seen }
    }
}

pub(crate) fn gettoken_ok(n: usize) -> (u16, String) {
    (
        200,
        json!({"errcode": 0, "access_token": format!("stub-token-{n}"), "errmsg": "ok", "expires_in": 7200})
            .to_string(),
    )
}

pub(crate) fn access_token_ok(n: usize) -> (u16, String) {
    (
        200,
        json!({"accessToken": format!("stub-token-{n}"), "expireIn": 7200}).to_string(),
    )
}

pub(crate) fn unknown_route() -> (u16, String) {
    (
        404,
        json!({"code": "InvalidAction.NotFound", "message": "stub", "requestid": "STUB"}).to_string(),
    )
}
