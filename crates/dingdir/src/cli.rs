//! The command line. Every option is also a `DINGDIR_*` variable and a TOML key (see `config`).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// A self-hosted server that speaks DingTalk's contact and token APIs.
#[derive(Debug, Parser)]
#[command(name = "dingdir", version, about)]
pub(crate) struct Cli {
    /// A TOML config file (env: DINGDIR_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve in memory with the demo directory (or --seed): for trying dingdir and for tests.
    Dev(ServeArgs),
    /// Serve a persistent directory.
    Serve(ServeArgs),
    /// Apply a seed file to the store and exit.
    Apply {
        /// The seed file (YAML).
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write the whole directory as a seed file (YAML) that `apply` takes back.
    Export {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the JSON Schema of the seed format.
    Schema,
    /// Write a generated directory of N people into an empty store (for benchmarks), with progress.
    Generate {
        /// How many people.
        #[arg(long, value_name = "N")]
        people: u64,
        /// How many corps (default: one per 5000 people, 1 to 2000).
        #[arg(long, value_name = "N")]
        corps: Option<u64>,
        /// Where to write credentials and sample members as JSON (default: next to a SQLite file,
        /// `<file>.sample.json`; otherwise standard output).
        #[arg(long, value_name = "FILE")]
        sample: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the store is.
#[derive(Debug, Default, Args)]
pub(crate) struct StoreArgs {
    /// The store: `sqlite:PATH`, `sqlite::memory:` or `postgres://USER@HOST:PORT/DB`
    /// (env: DINGDIR_DB; default sqlite:dingdir.sqlite).
    #[arg(long, value_name = "URL")]
    pub(crate) db: Option<String>,
    /// Connections per node to PostgreSQL (env: DINGDIR_DB_POOL; default 16).
    #[arg(long, value_name = "N")]
    pub(crate) db_pool: Option<u32>,
}

/// Options of `dev` and `serve`.
#[derive(Debug, Default, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Address to listen on (env: DINGDIR_LISTEN; default 127.0.0.1:8080). Port 0 picks a free one.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// A seed file to apply at start (env: DINGDIR_SEED). `dev` defaults to the demo directory.
    #[arg(long, value_name = "FILE")]
    pub(crate) seed: Option<PathBuf>,
    /// The admin API's bearer token (env: DINGDIR_ADMIN_TOKEN or DINGDIR_ADMIN_TOKEN_FILE);
    /// generated and printed when not set.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) admin_token: Option<String>,
    /// Gateway requests in flight before "system busy" (env: DINGDIR_MAX_IN_FLIGHT; default 512).
    #[arg(long, value_name = "N")]
    pub(crate) max_in_flight: Option<usize>,
    /// Milliseconds a request may wait on the store (env: DINGDIR_STORE_TIMEOUT_MS; default 5000).
    #[arg(long, value_name = "MS")]
    pub(crate) store_timeout_ms: Option<u64>,
    /// Largest gateway request body in bytes (env: DINGDIR_BODY_LIMIT; default 65536).
    #[arg(long, value_name = "BYTES")]
    pub(crate) body_limit: Option<usize>,
    /// Access-token lifetime in seconds (env: DINGDIR_TOKEN_TTL; default 7200).
    #[arg(long, value_name = "SECS")]
    pub(crate) token_ttl: Option<u64>,
    /// Let the admin API move the clock, for expiry tests (env: DINGDIR_TEST_CLOCK; default: on
    /// in `dev`, off in `serve`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) test_clock: Option<bool>,
    /// How long tokens, apps and people are cached, in milliseconds; a write through another
    /// node is seen within this time (env: DINGDIR_CACHE_TTL_MS; default 1000; 0 turns it off).
    #[arg(long, value_name = "MS")]
    pub(crate) cache_ttl_ms: Option<u64>,
    /// Whom GetUser shows besides the caller: `corp` (co-members) or `self-only`
    /// (env: DINGDIR_VISIBILITY; default corp).
    #[arg(long, value_name = "WHO")]
    pub(crate) visibility: Option<String>,
    /// Log filter, e.g. `info` or `dingdir_server=debug` (env: DINGDIR_LOG; default info).
    #[arg(long, value_name = "FILTER")]
    pub(crate) log: Option<String>,
}
