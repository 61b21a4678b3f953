//! Reading request bodies under a size limit, chunked or not, so each gateway can answer an
//! over-size body in its own wire form.

use axum::body::{Body, Bytes};
use http_body_util::{BodyExt, Limited};

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The connection failed mid-body.
    Read(String),
}

/// Reads the whole body, refusing more than `limit` bytes.
pub(crate) async fn read(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}
