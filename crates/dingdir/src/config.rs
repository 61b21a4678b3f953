//! Configuration: flags, then `DINGDIR_*` environment, then a TOML file, in that order of
//! precedence. Secrets may come from files (`..._FILE`). Unknown TOML keys are errors; unknown
//! `DINGDIR_*` variables are warnings (a typo should not stop a server, but should be seen).

use crate::cli::{ServeArgs, StoreArgs};
use anyhow::{Context, bail};
use dingdir_store::SqliteTarget;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KNOWN_ENV: &[&str] = &[
    "CONFIG",
    "LISTEN",
    "DB",
    "SEED",
    "ADMIN_TOKEN",
    "ADMIN_TOKEN_FILE",
    "METRICS_TOKEN",
    "METRICS_TOKEN_FILE",
    "ID_SECRET",
    "ID_SECRET_FILE",
    "MAX_IN_FLIGHT",
    "STORE_TIMEOUT_MS",
    "BODY_LIMIT",
    "LOG",
    "TOKEN_TTL",
    "TEST_CLOCK",
    "DB_POOL",
    "CACHE_TTL_MS",
    "VISIBILITY",
    "HEADER_TIMEOUT_MS",
    "IDLE_TIMEOUT_MS",
    "MAX_CONNECTIONS",
    "HASH_CONCURRENCY",
    "JOURNAL",
    "JOURNAL_ENTRIES",
    "JOURNAL_BYTES",
    "STREAM_ENDPOINT",
    "STREAM_ACK_TIMEOUT_MS",
    "STREAM_LATER_MS",
    "STREAM_PING_MS",
    "STREAM_MAX_PER_APP",
    "INBOX_MAX",
    // Read by the admin commands (`faults`, `journal`), not by the server.
    "URL",
];

/// The TOML file's keys; each is documented in the README.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    db: Option<String>,
    seed: Option<PathBuf>,
    admin_token: Option<String>,
    admin_token_file: Option<PathBuf>,
    metrics_token: Option<String>,
    metrics_token_file: Option<PathBuf>,
    id_secret: Option<String>,
    id_secret_file: Option<PathBuf>,
    max_in_flight: Option<usize>,
    store_timeout_ms: Option<u64>,
    body_limit: Option<usize>,
    log: Option<String>,
    token_ttl: Option<u64>,
    test_clock: Option<bool>,
    db_pool: Option<u32>,
    cache_ttl_ms: Option<u64>,
    visibility: Option<String>,
    header_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    hash_concurrency: Option<usize>,
    journal: Option<bool>,
    journal_entries: Option<usize>,
    journal_bytes: Option<usize>,
    node_id: Option<String>,
    callback_lease_ms: Option<u64>,
    callback_poll_ms: Option<u64>,
    callback_backoff_ms: Option<String>,
    stream_endpoint: Option<String>,
    stream_ack_timeout_ms: Option<u64>,
    stream_later_ms: Option<u64>,
    stream_ping_ms: Option<u64>,
    stream_max_per_app: Option<usize>,
    inbox_max: Option<u64>,
    media_max: Option<u64>,
}

/// The resolved configuration.
pub(crate) struct Config {
    pub(crate) listen: String,
    pub(crate) db: DbTarget,
    /// PostgreSQL pool size per node.
    pub(crate) db_pool: u32,
    pub(crate) seed: Option<PathBuf>,
    pub(crate) admin_token: Option<String>,
    /// A bearer token for the Prometheus metrics only.
    pub(crate) metrics_token: Option<String>,
    pub(crate) id_secret: Option<String>,
    pub(crate) max_in_flight: usize,
    pub(crate) store_timeout: Duration,
    pub(crate) body_limit: usize,
    pub(crate) log: String,
    pub(crate) token_ttl_secs: u64,
    pub(crate) cache_ttl_ms: u64,
    pub(crate) visibility: dingdir_core::Visibility,
    /// `None` means the mode's default (on in `dev`, off in `serve`).
    pub(crate) test_clock: Option<bool>,
    /// Connection timeouts and cap.
    pub(crate) connections: dingdir_server::ConnectionLimits,
    /// Argon2 checks at once.
    pub(crate) hash_concurrency: usize,
    /// Whether the request journal is on; `None` means the mode's default (on in `dev`, off in
    /// `serve`).
    pub(crate) journal: Option<bool>,
    /// The journal's bounds.
    pub(crate) journal_limits: dingdir_server::JournalLimits,
    /// How this node delivers HTTP event callbacks.
    pub(crate) callbacks: dingdir_server::CallbackSettings,
    /// How this node serves Stream mode.
    pub(crate) stream: dingdir_server::StreamSettings,
    /// The most messages the inbox keeps.
    pub(crate) inbox_max: u64,
    /// The most uploaded files the store keeps.
    pub(crate) media_max: u64,
    /// Warnings to log once logging is up.
    pub(crate) warnings: Vec<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("db", &self.db)
            .field("db_pool", &self.db_pool)
            .field("seed", &self.seed)
            .field("admin_token", &redact(&self.admin_token))
            .field("metrics_token", &redact(&self.metrics_token))
            .field("id_secret", &redact(&self.id_secret))
            .field("max_in_flight", &self.max_in_flight)
            .field("store_timeout", &self.store_timeout)
            .field("body_limit", &self.body_limit)
            .field("log", &self.log)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("test_clock", &self.test_clock)
            .field("cache_ttl_ms", &self.cache_ttl_ms)
            .field("visibility", &self.visibility)
            .field("connections", &self.connections)
            .field("hash_concurrency", &self.hash_concurrency)
            .field("journal", &self.journal)
            .field("journal_limits", &self.journal_limits)
            .field("callbacks", &self.callbacks)
            .field("stream", &self.stream)
            .finish()
    }
}

/// The process environment's `DINGDIR_*` variables, without the prefix.
pub(crate) fn dingdir_env() -> BTreeMap<String, String> {
    std::env::vars()
        .filter_map(|(k, v)| k.strip_prefix("DINGDIR_").map(|k| (k.to_owned(), v)))
        .collect()
}

/// Where the store is.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum DbTarget {
    /// SQLite, a file or memory.
    Sqlite(SqliteTarget),
    /// PostgreSQL, by connection URL (may hold a password: redacted in `Debug`).
    Postgres(String),
}

impl std::fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(t) => write!(f, "Sqlite({t:?})"),
            Self::Postgres(url) => {
                let host = url.rsplit('@').next().unwrap_or_default();
                write!(f, "Postgres(postgres://<redacted>@{host})")
            }
        }
    }
}

/// Parses a store URL: `sqlite:PATH`, `sqlite://PATH`, `sqlite::memory:` or `postgres://...`.
pub(crate) fn parse_db(url: &str) -> anyhow::Result<DbTarget> {
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Ok(DbTarget::Sqlite(SqliteTarget::Memory));
    }
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        if path.is_empty() {
            bail!("--db {url}: the SQLite path is empty");
        }
        return Ok(DbTarget::Sqlite(SqliteTarget::File(PathBuf::from(path))));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DbTarget::Postgres(url.to_owned()));
    }
    bail!("--db: expected sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB")
}

fn read_secret_file(path: &Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {what} from {}", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        bail!("{what} file {} is empty", path.display());
    }
    Ok(secret)
}

fn parse_num<T: std::str::FromStr>(name: &str, value: &str) -> anyhow::Result<T> {
    value
        .parse()
        .map_err(|_| anyhow::anyhow!("DINGDIR_{name}={value:?} is not a valid number"))
}

struct Layers<'a> {
    env: &'a BTreeMap<String, String>,
    file: FileConfig,
}

impl Layers<'_> {
    fn string(&self, flag: Option<&String>, key: &str, file: Option<&String>) -> Option<String> {
        flag.cloned()
            .or_else(|| self.env.get(key).cloned())
            .or_else(|| file.cloned())
    }

    fn number<T: std::str::FromStr + Copy>(
        &self,
        flag: Option<T>,
        key: &str,
        file: Option<T>,
    ) -> anyhow::Result<Option<T>> {
        if flag.is_some() {
            return Ok(flag);
        }
        if let Some(v) = self.env.get(key) {
            return parse_num(key, v).map(Some);
        }
        Ok(file)
    }

    /// A secret from a flag, `DINGDIR_<KEY>`, `DINGDIR_<KEY>_FILE`, or the TOML file's `key`/`key_file`.
    fn secret(
        &self,
        flag: Option<&String>,
        key: &str,
        file_value: Option<&String>,
        file_path: Option<&PathBuf>,
    ) -> anyhow::Result<Option<String>> {
        let what = key.to_lowercase().replace('_', " ");
        if let Some(v) = flag.or_else(|| self.env.get(key)) {
            return Ok(Some(v.clone()));
        }
        if let Some(p) = self.env.get(&format!("{key}_FILE")) {
            return read_secret_file(Path::new(p), &what).map(Some);
        }
        if let Some(v) = file_value {
            return Ok(Some(v.clone()));
        }
        file_path.map(|p| read_secret_file(p, &what)).transpose()
    }
}

/// Resolves the configuration of any subcommand.
pub(crate) fn resolve(
    config_flag: Option<&Path>,
    store: &StoreArgs,
    serve: Option<&ServeArgs>,
    env: &BTreeMap<String, String>,
    default_db: &str,
) -> anyhow::Result<Config> {
    let mut warnings = Vec::new();
    for key in env.keys() {
        if !KNOWN_ENV.contains(&key.as_str()) {
            warnings.push(format!("ignoring unknown environment variable DINGDIR_{key}"));
        }
    }
    let config_path = config_flag
        .map(Path::to_path_buf)
        .or_else(|| env.get("CONFIG").map(PathBuf::from));
    let file = match &config_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading config file {}", p.display()))?;
            toml::from_str::<FileConfig>(&text).with_context(|| format!("config file {}", p.display()))?
        }
        None => FileConfig::default(),
    };
    let layers = Layers { env, file };
    let f = &layers.file;
    let empty = ServeArgs::default();
    let s = serve.unwrap_or(&empty);

    let db = layers
        .string(store.db.as_ref(), "DB", f.db.as_ref())
        .unwrap_or_else(|| default_db.to_owned());
    let seed = s
        .seed
        .clone()
        .or_else(|| env.get("SEED").map(PathBuf::from))
        .or_else(|| f.seed.clone());
    let max_in_flight = layers
        .number(s.max_in_flight, "MAX_IN_FLIGHT", f.max_in_flight)?
        .unwrap_or(512);
    if max_in_flight == 0 {
        bail!("max_in_flight must be at least 1");
    }
    let token_ttl_secs = layers.number(s.token_ttl, "TOKEN_TTL", f.token_ttl)?.unwrap_or(7200);
    if token_ttl_secs == 0 {
        bail!("token_ttl must be at least 1 second");
    }
    let test_clock = match (s.test_clock, env.get("TEST_CLOCK")) {
        (Some(b), _) => Some(b),
        (None, Some(v)) => Some(matches!(v.as_str(), "1" | "true" | "yes" | "on")),
        (None, None) => f.test_clock,
    };
    let journal = match (s.journal, env.get("JOURNAL")) {
        (Some(b), _) => Some(b),
        (None, Some(v)) => Some(matches!(v.as_str(), "1" | "true" | "yes" | "on")),
        (None, None) => f.journal,
    };
    let journal_defaults = dingdir_server::JournalLimits::default();
    let journal_limits = dingdir_server::JournalLimits {
        max_entries: layers
            .number(s.journal_entries, "JOURNAL_ENTRIES", f.journal_entries)?
            .unwrap_or(journal_defaults.max_entries),
        max_bytes: layers
            .number(s.journal_bytes, "JOURNAL_BYTES", f.journal_bytes)?
            .unwrap_or(journal_defaults.max_bytes),
    };
    if journal_limits.max_entries == 0 || journal_limits.max_bytes == 0 {
        bail!("journal_entries and journal_bytes must be at least 1 (turn the journal off with journal = false)");
    }
    let db_pool = layers.number(store.db_pool, "DB_POOL", f.db_pool)?.unwrap_or(16);
    let cache_ttl_ms = layers
        .number(s.cache_ttl_ms, "CACHE_TTL_MS", f.cache_ttl_ms)?
        .unwrap_or(1000);
    let visibility = match layers
        .string(s.visibility.as_ref(), "VISIBILITY", f.visibility.as_ref())
        .as_deref()
    {
        None | Some("corp") => dingdir_core::Visibility::Corp,
        Some("self-only") => dingdir_core::Visibility::SelfOnly,
        Some(other) => bail!("visibility {other:?}: expected `corp` or `self-only`"),
    };
    let defaults = dingdir_server::ConnectionLimits::default();
    let millis = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
    let connections = dingdir_server::ConnectionLimits {
        header_timeout: millis(
            layers.number(s.header_timeout_ms, "HEADER_TIMEOUT_MS", f.header_timeout_ms)?,
            defaults.header_timeout,
        ),
        idle_timeout: millis(
            layers.number(s.idle_timeout_ms, "IDLE_TIMEOUT_MS", f.idle_timeout_ms)?,
            defaults.idle_timeout,
        ),
        max_connections: layers
            .number(s.max_connections, "MAX_CONNECTIONS", f.max_connections)?
            .unwrap_or(defaults.max_connections),
        ..defaults
    };
    if connections.header_timeout.is_zero() || connections.idle_timeout.is_zero() {
        bail!("header_timeout_ms and idle_timeout_ms must be at least 1");
    }
    if connections.max_connections == 0 {
        bail!("max_connections must be at least 1");
    }
    let hash_concurrency = layers
        .number(s.hash_concurrency, "HASH_CONCURRENCY", f.hash_concurrency)?
        .unwrap_or_else(dingdir_core::default_hash_concurrency);
    if hash_concurrency == 0 {
        bail!("hash_concurrency must be at least 1");
    }
    let callback_defaults = dingdir_server::CallbackSettings::default();
    let node = layers
        .string(s.node_id.as_ref(), "NODE_ID", f.node_id.as_ref())
        .unwrap_or(callback_defaults.node.clone());
    if node.is_empty() || node.len() > 64 {
        bail!("node_id must be 1 to 64 characters");
    }
    let backoff = match layers.string(
        s.callback_backoff_ms.as_ref(),
        "CALLBACK_BACKOFF_MS",
        f.callback_backoff_ms.as_ref(),
    ) {
        None => callback_defaults.backoff.clone(),
        Some(list) => {
            let steps: Result<Vec<i64>, _> = list.split(',').map(|v| v.trim().parse::<i64>()).collect();
            match steps {
                Ok(steps) if !steps.is_empty() && steps.iter().all(|&ms| ms >= 1) => steps,
                _ => bail!("callback_backoff_ms {list:?}: expected milliseconds separated by commas, each at least 1"),
            }
        }
    };
    let callbacks = dingdir_server::CallbackSettings {
        node,
        lease: millis(
            layers.number(s.callback_lease_ms, "CALLBACK_LEASE_MS", f.callback_lease_ms)?,
            callback_defaults.lease,
        ),
        poll: millis(
            layers.number(s.callback_poll_ms, "CALLBACK_POLL_MS", f.callback_poll_ms)?,
            callback_defaults.poll,
        ),
        backoff,
        ..callback_defaults
    };
    if callbacks.lease < Duration::from_secs(2) {
        bail!("callback_lease_ms must be at least 2000: longer than one push may take (1500 ms)");
    }
    if callbacks.poll.is_zero() {
        bail!("callback_poll_ms must be at least 1");
    }
    let stream_defaults = dingdir_server::StreamSettings::default();
    let stream = dingdir_server::StreamSettings {
        endpoint: layers.string(
            s.stream_endpoint.as_ref(),
            "STREAM_ENDPOINT",
            f.stream_endpoint.as_ref(),
        ),
        ack_timeout: millis(
            layers.number(
                s.stream_ack_timeout_ms,
                "STREAM_ACK_TIMEOUT_MS",
                f.stream_ack_timeout_ms,
            )?,
            stream_defaults.ack_timeout,
        ),
        later_delay: millis(
            layers.number(s.stream_later_ms, "STREAM_LATER_MS", f.stream_later_ms)?,
            stream_defaults.later_delay,
        ),
        ping_interval: millis(
            layers.number(s.stream_ping_ms, "STREAM_PING_MS", f.stream_ping_ms)?,
            stream_defaults.ping_interval,
        ),
        max_per_app: layers
            .number(s.stream_max_per_app, "STREAM_MAX_PER_APP", f.stream_max_per_app)?
            .unwrap_or(stream_defaults.max_per_app),
        ..stream_defaults
    };
    if let Some(base) = &stream.endpoint
        && !(base.starts_with("ws://") || base.starts_with("wss://"))
    {
        bail!("stream_endpoint {base:?}: expected a ws:// or wss:// URL");
    }
    if stream.ack_timeout.is_zero() || stream.max_per_app == 0 {
        bail!("stream_ack_timeout_ms and stream_max_per_app must be at least 1");
    }
    let inbox_max = layers.number(s.inbox_max, "INBOX_MAX", f.inbox_max)?.unwrap_or(100_000);
    if inbox_max == 0 {
        bail!("inbox_max must be at least 1");
    }
    let media_max = layers.number(s.media_max, "MEDIA_MAX", f.media_max)?.unwrap_or(1_000);
    if media_max == 0 {
        bail!("media_max must be at least 1");
    }
    Ok(Config {
        inbox_max,
        media_max,
        stream,
        callbacks,
        connections,
        hash_concurrency,
        journal,
        journal_limits,
        listen: layers
            .string(s.listen.as_ref(), "LISTEN", f.listen.as_ref())
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
        db: parse_db(&db)?,
        db_pool,
        cache_ttl_ms,
        visibility,
        seed,
        admin_token: layers.secret(
            s.admin_token.as_ref(),
            "ADMIN_TOKEN",
            f.admin_token.as_ref(),
            f.admin_token_file.as_ref(),
        )?,
        metrics_token: layers.secret(
            s.metrics_token.as_ref(),
            "METRICS_TOKEN",
            f.metrics_token.as_ref(),
            f.metrics_token_file.as_ref(),
        )?,
        id_secret: layers.secret(None, "ID_SECRET", f.id_secret.as_ref(), f.id_secret_file.as_ref())?,
        max_in_flight,
        store_timeout: Duration::from_millis(
            layers
                .number(s.store_timeout_ms, "STORE_TIMEOUT_MS", f.store_timeout_ms)?
                .unwrap_or(5000),
        ),
        body_limit: layers
            .number(s.body_limit, "BODY_LIMIT", f.body_limit)?
            .unwrap_or(64 * 1024),
        log: layers
            .string(s.log.as_ref(), "LOG", f.log.as_ref())
            .unwrap_or_else(|| "info".to_owned()),
        token_ttl_secs,
        test_clock,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dingdir.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\ndb = \"sqlite:from-file.db\"\nmax_in_flight = 7\nlog = \"warn\"\n",
        )
        .unwrap();
        let e = env(&[("LISTEN", "127.0.0.1:2"), ("MAX_IN_FLIGHT", "9")]);
        let args = ServeArgs {
            listen: Some("127.0.0.1:3".into()),
            ..ServeArgs::default()
        };
        let c = resolve(Some(&file), &StoreArgs::default(), Some(&args), &e, "sqlite:default.db").unwrap();
        assert_eq!(c.listen, "127.0.0.1:3", "flag wins");
        assert_eq!(c.max_in_flight, 9, "env beats file");
        assert_eq!(c.log, "warn", "file beats default");
        assert_eq!(c.db, DbTarget::Sqlite(SqliteTarget::File("from-file.db".into())));
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn secrets_come_from_files_and_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("token");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let e = env(&[("ADMIN_TOKEN_FILE", secret.to_str().unwrap())]);
        let c = resolve(None, &StoreArgs::default(), None, &e, "sqlite::memory:").unwrap();
        assert_eq!(c.admin_token.as_deref(), Some("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn unknown_file_keys_fail_and_unknown_env_warns() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let err = resolve(
            Some(&file),
            &StoreArgs::default(),
            None,
            &BTreeMap::new(),
            "sqlite::memory:",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
        let c = resolve(
            None,
            &StoreArgs::default(),
            None,
            &env(&[("LISTN", "x")]),
            "sqlite::memory:",
        )
        .unwrap();
        assert_eq!(
            c.warnings,
            vec!["ignoring unknown environment variable DINGDIR_LISTN".to_owned()]
        );
    }

    #[test]
    fn visibility_and_cache_settings() {
        let c = resolve(
            None,
            &StoreArgs::default(),
            None,
            &env(&[("VISIBILITY", "self-only"), ("CACHE_TTL_MS", "0")]),
            "sqlite::memory:",
        )
        .unwrap();
        assert_eq!(c.visibility, dingdir_core::Visibility::SelfOnly);
        assert_eq!(c.cache_ttl_ms, 0);
        assert!(
            resolve(
                None,
                &StoreArgs::default(),
                None,
                &env(&[("VISIBILITY", "all")]),
                "sqlite::memory:"
            )
            .is_err()
        );
    }

    #[test]
    fn db_urls() {
        assert_eq!(
            parse_db("sqlite::memory:").unwrap(),
            DbTarget::Sqlite(SqliteTarget::Memory)
        );
        assert_eq!(
            parse_db("sqlite:/tmp/x.db").unwrap(),
            DbTarget::Sqlite(SqliteTarget::File("/tmp/x.db".into()))
        );
        assert_eq!(
            parse_db("sqlite:///tmp/x.db").unwrap(),
            DbTarget::Sqlite(SqliteTarget::File("/tmp/x.db".into()))
        );
        let pg = parse_db("postgres://u:hunter2@db:5432/d").unwrap();
        assert_eq!(pg, DbTarget::Postgres("postgres://u:hunter2@db:5432/d".into()));
        assert!(!format!("{pg:?}").contains("hunter2"));
        assert!(parse_db("mysql://x").is_err());
        assert!(parse_db("sqlite:").is_err());
    }
}
