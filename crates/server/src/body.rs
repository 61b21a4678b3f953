//! Reading request bodies under a size limit, chunked or not, so each gateway can answer an
//! over-size body in its own wire form; and writing JSON answers.

use axum::body::{Body, Bytes};
use http_body_util::{BodyExt, Limited};
use std::time::Duration;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The connection failed mid-body.
    Read(String),
    /// The body did not arrive in time.
    TimedOut,
}

/// Reads the whole body, refusing more than `limit` bytes, and giving up after `within` when
/// given (a client that never finishes its body must not hold a request slot for ever).
pub(crate) async fn read(body: Body, limit: usize, within: Option<Duration>) -> Result<Bytes, BodyError> {
    // A request that announced no body (a GET) costs no timer.
    if axum::body::HttpBody::is_end_stream(&body) {
        return Ok(Bytes::new());
    }
    let collect = Limited::new(body, limit).collect();
    let collected = match within {
        Some(d) => tokio::time::timeout(d, collect)
            .await
            .map_err(|_| BodyError::TimedOut)?,
        None => collect.await,
    };
    match collected {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            crate::request::note_body(&bytes);
            Ok(bytes)
        }
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

/// `value` as JSON, into a buffer sized for a typical answer so serialising does not regrow it.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    match serde_json::to_writer(&mut out, value) {
        Ok(()) => out,
        // Only a map with non-string keys or a failing `Serialize` impl gets here; none is sent.
        Err(_) => b"{}".to_vec(),
    }
}
