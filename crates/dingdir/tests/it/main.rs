//! Tests that drive the real `dingdir` binary: what in-process tests cannot show (real TCP,
//! the CLI, restarts on the same SQLite file, seed files on disk).

mod harness;
mod seeds;
mod serve;
