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
    /// Call DingTalk (or a dingdir server, with --base-url) through `dingdir-client`; prints the
    /// answer as JSON, and an API error on stderr with a non-zero exit.
    Call(CallArgs),
    /// Script faults on a running dingdir server: rules that make matching DingTalk requests
    /// answer an error, wait, drop the connection or get half an answer.
    Faults(FaultsArgs),
    /// Read a running dingdir server's request journal: one JSON line per entry, oldest first.
    Journal(JournalArgs),
    /// Read or set the rate limits of a running dingdir server (every node sharing its store).
    RateLimits(RateLimitsArgs),
    /// Read a running dingdir server's inbox: every message robots, apps and people sent, one
    /// JSON line each, oldest first.
    Inbox(InboxArgs),
    /// Write to a bot as a person, on a running dingdir server: the bot gets DingTalk's chatbot
    /// message over Stream mode; prints what was sent and the bot's ack.
    Chat(ChatArgs),
    /// Run COMMAND against a `dingdir dev` started for it on a free port: its address, admin
    /// token and the seed's credentials are in COMMAND's environment (see the README); dingdir
    /// stops when COMMAND ends, and exits with COMMAND's status.
    Exec(ExecArgs),
}

/// Options of `exec`: `dev`'s, then the command after `--`.
#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub(crate) command: Vec<String>,
}

/// Options of `rate-limits`.
#[derive(Debug, Args)]
pub(crate) struct RateLimitsArgs {
    #[command(flatten)]
    pub(crate) server: AdminArgs,
    #[command(subcommand)]
    pub(crate) command: RateLimitsCommand,
}

/// What `rate-limits` does.
#[derive(Debug, Subcommand)]
pub(crate) enum RateLimitsCommand {
    /// The limits in force.
    List,
    /// Add a limit to those in force: at most --limit calls per window by one app to one endpoint.
    Add {
        /// Calls allowed per window.
        #[arg(long, value_name = "N")]
        limit: u64,
        /// The window: `second` (DingTalk's QPS limits), `minute`, or `month` (a corp's monthly
        /// API quota: the corp's calls counted together, 90020).
        #[arg(long, value_name = "WINDOW", default_value = "second")]
        per: String,
        /// Only this app's calls (default: every app, each counted apart; with `--per month`, every
        /// app of the corp together).
        #[arg(long, value_name = "KEY")]
        app: Option<String>,
        /// Only this endpoint (default: every endpoint, each counted apart).
        #[arg(long, value_name = "NAME")]
        endpoint: Option<String>,
        /// Count every app's calls together: DingTalk's global per-API limit (`90002`).
        #[arg(long)]
        all_apps: bool,
    },
    /// Lift every limit.
    Clear,
}

/// Which DingTalk calls a fault rule or a journal query means; every one given must hold.
#[derive(Debug, Args)]
pub(crate) struct CallMatch {
    /// The endpoint's name, as docs/COMPATIBILITY.md lists it (V2UserGetByMobile, GetUser).
    #[arg(long, value_name = "NAME")]
    pub(crate) endpoint: Option<String>,
    /// The calling app's key.
    #[arg(long, value_name = "KEY")]
    pub(crate) app: Option<String>,
    /// The corp the call acts in.
    #[arg(long, value_name = "CORPID")]
    pub(crate) corp: Option<String>,
    /// The member the call names (its userid, or the unionId in a GetUser path).
    #[arg(long, value_name = "ID")]
    pub(crate) user: Option<String>,
}

/// Options of `journal`: filters (every one given must hold), and what to do.
#[derive(Debug, Args)]
pub(crate) struct JournalArgs {
    #[command(flatten)]
    pub(crate) server: AdminArgs,
    #[command(flatten)]
    pub(crate) call: CallMatch,
    /// The HTTP status.
    #[arg(long, value_name = "STATUS")]
    pub(crate) status: Option<u16>,
    /// DingTalk's code: the legacy errcode (0, -1) or the new gateway's code.
    #[arg(long, value_name = "CODE", allow_hyphen_values = true)]
    pub(crate) code: Option<String>,
    /// Entries from this time on, in ms since the epoch.
    #[arg(long, value_name = "MS")]
    pub(crate) since_ms: Option<i64>,
    /// Entries before this time.
    #[arg(long, value_name = "MS")]
    pub(crate) until_ms: Option<i64>,
    /// Entries after this seq.
    #[arg(long, value_name = "SEQ")]
    pub(crate) after: Option<u64>,
    /// Only entries a fault fired on (true) or none fired on (false).
    #[arg(long, value_name = "BOOL")]
    pub(crate) faulted: Option<bool>,
    /// At most this many of the newest entries (default 100, at most 10000).
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    /// Print only how many entries match, as {"count": N}.
    #[arg(long, conflicts_with_all = ["follow", "clear"])]
    pub(crate) count: bool,
    /// Keep printing entries as they are recorded, until interrupted.
    #[arg(long, short, conflicts_with = "clear")]
    pub(crate) follow: bool,
    /// Forget every entry; prints {"cleared": N}.
    #[arg(long)]
    pub(crate) clear: bool,
}

/// Which dingdir server an admin command talks to.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    /// The server's base URL (env: DINGDIR_URL; default http://127.0.0.1:8080).
    #[arg(
        long,
        value_name = "URL",
        env = "DINGDIR_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub(crate) url: String,
    /// Its admin token (env: DINGDIR_ADMIN_TOKEN), as `dev` and `serve` print it at start.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "DINGDIR_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub(crate) admin_token: Option<String>,
}

/// Options of `faults`.
#[derive(Debug, Args)]
pub(crate) struct FaultsArgs {
    #[command(flatten)]
    pub(crate) server: AdminArgs,
    #[command(subcommand)]
    pub(crate) command: FaultsCommand,
}

/// What `faults` does.
#[derive(Debug, Subcommand)]
pub(crate) enum FaultsCommand {
    /// The rules, in the order they are tried, with how often each matched and fired.
    List,
    /// Arm a rule after the others; prints it with its id.
    Add(Box<FaultAdd>),
    /// Disarm one rule.
    Remove {
        /// The rule's id, as `add` and `list` print it.
        id: u64,
    },
    /// Disarm every rule.
    Clear,
}

/// A rule for `faults add`: matchers (all must hold; none matches every request), one action,
/// and when it fires. `--rule` gives the whole rule as the admin API's JSON instead.
#[derive(Debug, Args)]
pub(crate) struct FaultAdd {
    /// The whole rule as JSON (`POST /_dingdir/faults`'s body); the other options must be absent.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["endpoint", "app", "corp", "user", "param", "errcode", "status", "delay_ms", "drop", "truncate", "next", "after", "probability"])]
    pub(crate) rule: Option<String>,
    #[command(flatten)]
    pub(crate) call: CallMatch,
    /// A parameter that must have this value, as NAME=VALUE; repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) param: Vec<String>,
    /// Answer this legacy-gateway errcode (e.g. -1, 90018).
    #[arg(long, value_name = "N", allow_hyphen_values = true, group = "action")]
    pub(crate) errcode: Option<i64>,
    /// The errcode's errmsg (-1 defaults to 系统繁忙).
    #[arg(long, value_name = "TEXT", requires = "errcode")]
    pub(crate) errmsg: Option<String>,
    /// Answer a new-gateway error with this HTTP status; needs --code and --message.
    #[arg(long, value_name = "STATUS", group = "action", requires_all = ["code", "message"])]
    pub(crate) status: Option<u16>,
    /// The new-gateway error's code (e.g. Forbidden.AccessDenied.QpsLimitForAppkeyAndApi).
    #[arg(long, value_name = "CODE", requires = "status")]
    pub(crate) code: Option<String>,
    /// The new-gateway error's message.
    #[arg(long, value_name = "TEXT", requires = "status")]
    pub(crate) message: Option<String>,
    /// Hold the request this many milliseconds, then serve it.
    #[arg(long, value_name = "MS", group = "action")]
    pub(crate) delay_ms: Option<u64>,
    /// Close the connection without an answer.
    #[arg(long, group = "action")]
    pub(crate) drop: bool,
    /// Serve the request but send only the first half of the answer.
    #[arg(long, group = "action")]
    pub(crate) truncate: bool,
    /// Fire on the next N matches only.
    #[arg(long, value_name = "N", group = "fire")]
    pub(crate) next: Option<u64>,
    /// Fire on every match after the first N.
    #[arg(long, value_name = "N", group = "fire")]
    pub(crate) after: Option<u64>,
    /// Fire on each match with this probability (0 to 1), drawn from --seed.
    #[arg(long, value_name = "P", group = "fire", requires = "seed")]
    pub(crate) probability: Option<f64>,
    /// The seed of --probability's draws: the same seed fires on the same matches.
    #[arg(long, value_name = "N", requires = "probability")]
    pub(crate) seed: Option<u64>,
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
    /// A bearer token that grants GET /_dingdir/metrics/prometheus only, for a scraper (env:
    /// DINGDIR_METRICS_TOKEN or DINGDIR_METRICS_TOKEN_FILE; default: none, the admin token only).
    #[arg(long, value_name = "TOKEN")]
    pub(crate) metrics_token: Option<String>,
    /// Gateway requests in flight before "system busy" (env: DINGDIR_MAX_IN_FLIGHT; default 512).
    #[arg(long, value_name = "N")]
    pub(crate) max_in_flight: Option<usize>,
    /// Milliseconds a store call or a request body may take before the answer is "system busy"
    /// (env: DINGDIR_STORE_TIMEOUT_MS; default 5000).
    #[arg(long, value_name = "MS")]
    pub(crate) store_timeout_ms: Option<u64>,
    /// Milliseconds a connection may take to send a complete request head, counted from when the
    /// server waits for one, so also how long an idle keep-alive connection stays open
    /// (env: DINGDIR_HEADER_TIMEOUT_MS; default 10000).
    #[arg(long, value_name = "MS")]
    pub(crate) header_timeout_ms: Option<u64>,
    /// Milliseconds a connection may move no byte either way before it is closed
    /// (env: DINGDIR_IDLE_TIMEOUT_MS; default 60000).
    #[arg(long, value_name = "MS")]
    pub(crate) idle_timeout_ms: Option<u64>,
    /// Connections open at once; past it new ones are closed and a warning logged
    /// (env: DINGDIR_MAX_CONNECTIONS; default: the open-file limit less 64).
    #[arg(long, value_name = "N")]
    pub(crate) max_connections: Option<usize>,
    /// Argon2 checks of app secrets and passwords run at once; more are answered "system busy"
    /// (env: DINGDIR_HASH_CONCURRENCY; default: half the cores, at least 1).
    #[arg(long, value_name = "N")]
    pub(crate) hash_concurrency: Option<usize>,
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
    /// Keep a journal of DingTalk-gateway requests, for `dingdir journal` and
    /// `/_dingdir/journal` (env: DINGDIR_JOURNAL; default: on in `dev`, off in `serve`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) journal: Option<bool>,
    /// Journal entries kept at most; the oldest go first (env: DINGDIR_JOURNAL_ENTRIES; default 10000).
    #[arg(long, value_name = "N")]
    pub(crate) journal_entries: Option<usize>,
    /// Bytes of journal entries kept at most (env: DINGDIR_JOURNAL_BYTES; default 33554432).
    #[arg(long, value_name = "BYTES")]
    pub(crate) journal_bytes: Option<usize>,
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
    /// This node's name in callback delivery leases, unique per running node
    /// (env: DINGDIR_NODE_ID; default: random).
    #[arg(long, value_name = "NAME")]
    pub(crate) node_id: Option<String>,
    /// Milliseconds a node's lease on an app's callback delivery holds: how soon another node
    /// takes over from a stopped one (env: DINGDIR_CALLBACK_LEASE_MS; default 10000).
    #[arg(long, value_name = "MS")]
    pub(crate) callback_lease_ms: Option<u64>,
    /// Milliseconds between reads of the change log for other nodes' writes and due retries
    /// (env: DINGDIR_CALLBACK_POLL_MS; default 250).
    #[arg(long, value_name = "MS")]
    pub(crate) callback_poll_ms: Option<u64>,
    /// Waits after the 1st, 2nd, ... failed callback push in a row, in milliseconds, the last
    /// one repeated (env: DINGDIR_CALLBACK_BACKOFF_MS; default 10000,30000,60000,300000,600000).
    #[arg(long, value_name = "MS,MS,...")]
    pub(crate) callback_backoff_ms: Option<String>,
    /// The Stream WebSocket base URL `connections/open` hands out, such as `wss://dingdir.example`
    /// behind a proxy (env: DINGDIR_STREAM_ENDPOINT; default `ws://` and the request's Host).
    #[arg(long, value_name = "URL")]
    pub(crate) stream_endpoint: Option<String>,
    /// Milliseconds a Stream event waits for its ack before it is sent again
    /// (env: DINGDIR_STREAM_ACK_TIMEOUT_MS; default 60000).
    #[arg(long, value_name = "MS")]
    pub(crate) stream_ack_timeout_ms: Option<u64>,
    /// Milliseconds after a `LATER` ack (or a failed handler) before the event is sent again
    /// (env: DINGDIR_STREAM_LATER_MS; default 10000).
    #[arg(long, value_name = "MS")]
    pub(crate) stream_later_ms: Option<u64>,
    /// Milliseconds between the server's SYSTEM pings on each Stream connection, 0 for none
    /// (env: DINGDIR_STREAM_PING_MS; default 30000).
    #[arg(long, value_name = "MS")]
    pub(crate) stream_ping_ms: Option<u64>,
    /// The most Stream connections one app may hold on a node (env: DINGDIR_STREAM_MAX_PER_APP;
    /// default 50).
    #[arg(long, value_name = "N")]
    pub(crate) stream_max_per_app: Option<usize>,
    /// The most messages the inbox keeps; the oldest go first (env: DINGDIR_INBOX_MAX; default
    /// 100000).
    #[arg(long, value_name = "N")]
    pub(crate) inbox_max: Option<u64>,
    /// The most uploaded files (`/media/upload`) the store keeps; the oldest go first (env:
    /// DINGDIR_MEDIA_MAX; default 1000).
    #[arg(long, value_name = "N")]
    pub(crate) media_max: Option<u64>,
}

/// Options of `call`: where DingTalk is, and the call.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// One base URL for both gateways and the sign-in, such as a dingdir server's
    /// `http://127.0.0.1:8080` (default: DingTalk's own hosts).
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) base_url: Option<String>,
    /// The new gateway's base URL, over --base-url (default https://api.dingtalk.com).
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) api_base: Option<String>,
    /// The legacy gateway's base URL, over --base-url (default https://oapi.dingtalk.com).
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) oapi_base: Option<String>,
    /// The sign-in host's base URL, over --base-url (default https://login.dingtalk.com).
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) login_base: Option<String>,
    /// Seconds one request may take (default 10).
    #[arg(long, value_name = "SECS", global = true)]
    pub(crate) timeout: Option<u64>,
    #[command(subcommand)]
    pub(crate) call: Call,
}

/// The calls of `dingdir call`.
#[derive(Debug, Subcommand)]
pub(crate) enum Call {
    /// An app token: `POST /v1.0/oauth2/accessToken` (api) or `GET /gettoken` (oapi).
    Token {
        #[command(flatten)]
        app: AppArgs,
        /// The gateway to ask.
        #[arg(long, value_enum, default_value_t = GatewayArg::Api)]
        gateway: GatewayArg,
    },
    /// A third-party enterprise app's token for one corp: `POST /v1.0/oauth2/corpAccessToken`.
    CorpToken {
        /// The suite's key.
        #[arg(long, value_name = "KEY")]
        suite_key: String,
        /// The suite's secret.
        #[arg(long, value_name = "SECRET")]
        suite_secret: String,
        /// The corp that authorised the suite.
        #[arg(long, value_name = "CORP_ID")]
        corp_id: String,
        /// The suite ticket.
        #[arg(long, value_name = "TICKET")]
        suite_ticket: String,
    },
    /// The browser sign-in: the authorize URL, the code exchange, the refresh.
    #[command(subcommand)]
    Signin(SigninCall),
    /// Users: GetUser, and the legacy gateway's member reads with an app token.
    #[command(subcommand)]
    User(UserCall),
    /// Departments on the legacy gateway, with an app token: one, its children, paths to the root.
    #[command(subcommand)]
    Dept(DeptCall),
}

/// `dingdir call signin ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum SigninCall {
    /// The URL to send a browser to (`/oauth2/auth`).
    Url {
        /// The app's key.
        #[arg(long, value_name = "KEY")]
        client_id: String,
        /// One of the app's registered redirect URIs.
        #[arg(long, value_name = "URI")]
        redirect_uri: String,
        /// The value the redirect must bring back.
        #[arg(long)]
        state: String,
        /// `openid` or `openid corpid`.
        #[arg(long, default_value = "openid corpid")]
        scope: String,
    },
    /// A user token for a sign-in code: `POST /v1.0/oauth2/userAccessToken`.
    Code {
        /// The `code` (or `authCode`) from the redirect.
        code: String,
        #[command(flatten)]
        app: AppArgs,
    },
    /// A new user token for a refresh token: `POST /v1.0/oauth2/userAccessToken`.
    Refresh {
        /// The refresh token.
        refresh_token: String,
        #[command(flatten)]
        app: AppArgs,
    },
}

/// `dingdir call user ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCall {
    /// GetUser: `GET /v1.0/contact/users/{unionId}` with a user token (`me`: the token's user).
    Get {
        /// The unionId, or `me`.
        union_id: String,
        /// The user access token.
        #[arg(long, value_name = "TOKEN")]
        user_token: String,
    },
    /// A member's userid by mobile: `POST /topapi/v2/user/getbymobile`, with an app token fetched
    /// first (renewed once on a token error, retried when busy).
    ByMobile {
        /// National digits, or `+CC-NNNN`.
        mobile: String,
        #[command(flatten)]
        app: AppTokenArgs,
        /// Also list the corp's exclusive accounts with that mobile.
        #[arg(long)]
        exclusive: bool,
    },
    /// A member's full record: `POST /topapi/v2/user/get`, with an app token fetched first (as
    /// for `by-mobile`). Give `--userid`, or `--login-id` for an exclusive account.
    Detail {
        /// The member's userid.
        #[arg(
            long,
            value_name = "USERID",
            required_unless_present = "login_id",
            conflicts_with = "login_id"
        )]
        userid: Option<String>,
        /// The login name of an exclusive account the app's corp created.
        #[arg(long, value_name = "LOGIN_ID")]
        login_id: Option<String>,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// The userid of a unionId: `POST /topapi/user/getbyunionid`.
    ByUnionid {
        /// The unionId, under the app's developer account.
        #[arg(long, value_name = "UNIONID")]
        unionid: String,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A page of a department's members with their records: `POST /topapi/v2/user/list`; with
    /// `--all`, every page, as one JSON array of members.
    List {
        #[command(flatten)]
        page: PageArgs,
        /// Read every page (100 members each) instead of the one at --cursor.
        #[arg(long, conflicts_with_all = ["cursor", "size"])]
        all: bool,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A page of a department's members as userids and names: `POST /topapi/user/listsimple`.
    SimpleList {
        #[command(flatten)]
        page: PageArgs,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A department's member userids: `POST /topapi/user/listid`.
    Ids {
        /// The department (1 is the root).
        #[arg(long, value_name = "ID")]
        dept_id: i64,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// The corp's member count: `POST /topapi/user/count`.
    Count {
        /// Count only members who activated DingTalk.
        #[arg(long)]
        only_active: bool,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// The corp's administrators (`sys_level` 1 main, 2 sub): `POST /topapi/user/listadmin`.
    Admins {
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// The member behind an in-app sign-in code (single use, five minutes):
    /// `POST /topapi/v2/user/getuserinfo`, or `GET /user/getuserinfo` with --legacy.
    ByCode {
        /// The code (`dd.getAuthCode`'s; dingdir mints them at `POST /_dingdir/auth-codes`).
        #[arg(long, value_name = "CODE")]
        code: String,
        /// Ask the old flat path instead.
        #[arg(long)]
        legacy: bool,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A member's record in the old flat camelCase form: `GET /user/get`.
    LegacyGet {
        /// The member's userid.
        #[arg(long, value_name = "USERID")]
        userid: String,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// One page of the corp's departed members, oldest first: `GET /v1.0/contact/empLeaveRecords`
    /// (with an app token the command fetches from the new gateway).
    Departed {
        /// The window's start, ISO 8601 (`2026-11-01T00:00:00Z`).
        #[arg(long, value_name = "TIME")]
        start: String,
        /// The window's end (at most 365 days after the start); now when left out.
        #[arg(long, value_name = "TIME")]
        end: Option<String>,
        /// The last page's `nextToken`.
        #[arg(long, value_name = "TOKEN")]
        next_token: Option<String>,
        /// Records per page, 1 to 50.
        #[arg(long, value_name = "N", default_value_t = 50)]
        max_results: i64,
        #[command(flatten)]
        app: AppArgs,
    },
    /// The app's contact range and the member fields it reads: `GET /auth/scopes`.
    Scopes {
        #[command(flatten)]
        app: AppTokenArgs,
    },
}

/// `dingdir call dept ...`: each with an app token fetched first (as for `user by-mobile`).
#[derive(Debug, Subcommand)]
pub(crate) enum DeptCall {
    /// A department: `POST /topapi/v2/department/get`.
    Get {
        /// The department (1 is the root).
        #[arg(long, value_name = "ID")]
        dept_id: i64,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A department's children: `POST /topapi/v2/department/listsub`.
    Subs {
        /// The department.
        #[arg(long, value_name = "ID", default_value_t = 1)]
        dept_id: i64,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A department's children's ids: `POST /topapi/v2/department/listsubid`.
    SubIds {
        /// The department.
        #[arg(long, value_name = "ID", default_value_t = 1)]
        dept_id: i64,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A member's departments, each with its path to the root:
    /// `POST /topapi/v2/department/listparentbyuser`.
    ParentsOfUser {
        /// The member's userid.
        #[arg(long, value_name = "USERID")]
        userid: String,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// A department's path to the root: `POST /topapi/v2/department/listparentbydept`.
    ParentsOfDept {
        /// The department.
        #[arg(long, value_name = "ID")]
        dept_id: i64,
        #[command(flatten)]
        app: AppTokenArgs,
    },
    /// The old department list: `GET /department/list`. Without --dept-id the root and below it;
    /// with it, that department's children.
    List {
        /// The department whose children to list.
        #[arg(long, value_name = "ID")]
        dept_id: Option<i64>,
        /// One level only, not the whole subtree.
        #[arg(long)]
        no_fetch_child: bool,
        #[command(flatten)]
        app: AppTokenArgs,
    },
}

/// Which page of a department's members.
#[derive(Debug, Args)]
pub(crate) struct PageArgs {
    /// The department (1 is the root).
    #[arg(long, value_name = "ID")]
    pub(crate) dept_id: i64,
    /// 0 for the first page, then the last answer's `next_cursor`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) cursor: i64,
    /// Members per page, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub(crate) size: i64,
}

/// An app's credentials and the gateway its token comes from, for the calls that take an app
/// token.
#[derive(Debug, Args)]
pub(crate) struct AppTokenArgs {
    #[command(flatten)]
    pub(crate) app: AppArgs,
    /// The gateway the app token comes from.
    #[arg(long, value_enum, default_value_t = GatewayArg::Api)]
    pub(crate) gateway: GatewayArg,
}

/// An app's credentials.
#[derive(Debug, Args)]
pub(crate) struct AppArgs {
    /// The app's key (AppKey).
    #[arg(long, value_name = "KEY")]
    pub(crate) app_key: String,
    /// The app's secret (AppSecret).
    #[arg(long, value_name = "SECRET")]
    pub(crate) app_secret: String,
}

/// `--gateway`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GatewayArg {
    /// The new gateway (api.dingtalk.com).
    Api,
    /// The legacy gateway (oapi.dingtalk.com).
    Oapi,
}

/// Options of `inbox`.
#[derive(Debug, Args)]
pub(crate) struct InboxArgs {
    #[command(flatten)]
    pub(crate) server: AdminArgs,
    /// One conversation: a group's name, `single:{appKey}:{userid}`, `notice:{appKey}:{userid}`.
    #[arg(long, value_name = "NAME")]
    pub(crate) conversation: Option<String>,
    /// What one person was sent one to one, or said (a userid).
    #[arg(long, value_name = "USERID")]
    pub(crate) person: Option<String>,
    /// One sender: a robot's token or an app key.
    #[arg(long, value_name = "ID")]
    pub(crate) sender_id: Option<String>,
    /// One send: a `processQueryKey` or a work notification's `task_id`.
    #[arg(long, value_name = "KEY")]
    pub(crate) task: Option<String>,
    /// Messages after this position.
    #[arg(long, value_name = "SEQ")]
    pub(crate) after: Option<i64>,
    /// At most this many (default 100, at most 1000); with --follow, per page.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u64>,
    /// Keep printing messages as they arrive, until interrupted.
    #[arg(long, short)]
    pub(crate) follow: bool,
}

/// Options of `chat`: a person writes to a bot.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    #[command(flatten)]
    pub(crate) server: AdminArgs,
    /// The bot's app key (its robotCode).
    #[arg(long, value_name = "APP_KEY")]
    pub(crate) app: String,
    /// The person writing, by userid.
    #[arg(long, value_name = "USERID")]
    pub(crate) from: String,
    /// The group written in (default: the person's one-to-one chat with the bot).
    #[arg(long, value_name = "NAME")]
    pub(crate) group: Option<String>,
    /// In a group, write without @-ing the bot.
    #[arg(long)]
    pub(crate) no_at: bool,
    /// The corp the person writes in (default: the app's own).
    #[arg(long, value_name = "CORP_ID")]
    pub(crate) corp: Option<String>,
    /// The message.
    pub(crate) text: String,
}
