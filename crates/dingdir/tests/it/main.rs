//! Tests that drive the real `dingdir` binary: what in-process tests cannot show (real TCP,
//! the CLI, restarts on the same SQLite file, seed files on disk).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test harness fails by panicking"
)]

mod cache;
mod call;
mod callbacks;
mod client;
mod client_manager;
mod compat;
mod exec;
mod fakes;
mod faults;
mod harness;
mod hostile;
mod journal;
mod messages;
mod multinode;
mod seeds;
mod serve;
mod signin;
mod tokens;
