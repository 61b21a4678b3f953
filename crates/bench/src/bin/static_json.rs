//! `static-json`: the benchmark's baseline. An axum server on the same stack as dingdir (axum 0.8,
//! HTTP/1.1, multi-thread tokio) that answers every GET and POST, on any path, with one fixed JSON
//! body the size and shape of a GetUser answer. `scripts/bench` drives it with the same load as
//! dingdir in the same run, and reports dingdir's throughput as a ratio to it: absolute numbers
//! drift on a shared machine, the ratio much less.
//!
//! Usage: `static-json [--listen 127.0.0.1:0] [--body FILE]` (`--body`: answer that file's bytes,
//! the baseline for a larger answer such as a page of member records). The first stdout line is
//! `listening on http://ADDR`; SIGTERM or Ctrl-C stops it after the requests in flight.

use std::io::Write;

const USAGE: &str = "usage: static-json [--listen 127.0.0.1:0] [--body FILE]";

/// The listen address, and the file whose bytes to answer instead of the GetUser-sized body.
fn parse_args() -> Result<(String, Option<String>), String> {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut body = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--body" => body = Some(args.next().ok_or("--body needs a file")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => match other.strip_prefix("--listen=") {
                Some(addr) => addr.clone_into(&mut listen),
                None => return Err(format!("unknown argument {other:?}; {USAGE}")),
            },
        }
    }
    Ok((listen, body))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
}

async fn run() -> Result<(), String> {
    let (listen, body) = parse_args()?;
    let app = match body {
        None => dingdir_bench::static_app(),
        Some(file) => {
            let bytes = std::fs::read(&file).map_err(|e| format!("reading --body {file}: {e}"))?;
            dingdir_bench::static_app_with(bytes.into())
        }
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("listening on {listen}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("reading the listen address: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{addr}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
    drop(out);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("serving HTTP: {e}"))
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("static-json: {e}");
        std::process::exit(1);
    }
}
