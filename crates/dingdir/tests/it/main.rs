//! Tests that drive the real `dingdir` binary: what in-process tests cannot show (real TCP,
//! the CLI, restarts on the same SQLite file, seed files on disk).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test harness fails by panicking"
)]

mod client;
mod cache;
mod harness;
mod seeds;
mod serve;
mod multinode;
mod signin;
mod tokens;
