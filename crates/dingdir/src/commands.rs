//! One function per subcommand.
#![allow(clippy::print_stdout, reason = "the CLI's output is its interface")]

use crate::cli::{Cli, Command, ExecArgs, ServeArgs};
use crate::config::{self, Config, DbTarget};
use anyhow::{Context, bail};
use dingdir_core::ident::IdSecret;
use dingdir_core::seed::{self, SeedDoc};
use dingdir_core::{MovableClock, Policy, Service, Store, secret};
use dingdir_server::{AppState, Mode, Settings};
use dingdir_store::{PgStore, SqliteStore, SqliteTarget};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The demo directory `dingdir dev` starts with.
const DEMO_SEED: &str = include_str!("../../../examples/demo.yaml");
const DEMO_SEED_NAME: &str = "examples/demo.yaml (built in)";
/// How often each node deletes expired tokens, codes, refresh tokens and consent tickets.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
/// `dev`'s fixed id secret, so the demo's unionIds and openIds are the same on every run.
const DEV_ID_SECRET: &str = "dingdir-dev";

/// Runs the parsed command line.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    let env = config::dingdir_env();
    let config_flag = cli.config.as_deref();
    match cli.command {
        Command::Dev(args) => {
            let config = config::resolve(config_flag, &args.store, Some(&args), &env, "sqlite::memory:")?;
            serve(Mode::Dev, &args, config, None).await.map(drop)
        }
        Command::Serve(args) => {
            let config = config::resolve(config_flag, &args.store, Some(&args), &env, "sqlite:dingdir.sqlite")?;
            serve(Mode::Serve, &args, config, None).await.map(drop)
        }
        Command::Exec(ExecArgs { serve: args, command }) => {
            let mut config = config::resolve(config_flag, &args.store, Some(&args), &env, "sqlite::memory:")?;
            if args.listen.is_none() && !env.contains_key("LISTEN") {
                config.listen = "127.0.0.1:0".to_owned();
            }
            let code = serve(Mode::Dev, &args, config, Some(command)).await?;
            std::process::exit(code.unwrap_or(1));
        }
        Command::Apply { file, store } => {
            let config = config::resolve(config_flag, &store, None, &env, "sqlite:dingdir.sqlite")?;
            init_logging(&config.log, &config.warnings);
            apply(&file, &config).await
        }
        Command::Export { output, store } => {
            let config = config::resolve(config_flag, &store, None, &env, "sqlite:dingdir.sqlite")?;
            init_logging(&config.log, &config.warnings);
            export(output.as_deref(), &config).await
        }
        Command::Generate {
            people,
            corps,
            sample,
            store,
        } => {
            let config = config::resolve(config_flag, &store, None, &env, "sqlite:dingdir.sqlite")?;
            init_logging(&config.log, &config.warnings);
            generate(people, corps, sample.as_deref(), &config).await
        }
        Command::Schema => {
            print!("{}", seed::json_schema());
            Ok(())
        }
        Command::Call(args) => crate::call::run(args).await,
        Command::Faults(args) => crate::faults::run(args).await,
        Command::Journal(args) => crate::faults::journal(args).await,
        Command::RateLimits(args) => crate::faults::rate_limits(args).await,
        Command::Inbox(args) => crate::faults::inbox(args).await,
        Command::Chat(args) => crate::faults::chat(args).await,
    }
}

fn init_logging(filter: &str, warnings: &[String]) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr: stdout carries the CLI's own output (the listen line, exports). Colours
    // only on a terminal, so a log file or a journal gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
    for w in warnings {
        tracing::warn!("{w}");
    }
}

async fn open_store(target: &DbTarget, pool: u32) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match target {
        DbTarget::Sqlite(t) => Arc::new(SqliteStore::open(t).await.with_context(|| match t {
            SqliteTarget::File(p) => format!("opening the SQLite store {}", p.display()),
            SqliteTarget::Memory => "opening the in-memory store".to_owned(),
        })?),
        DbTarget::Postgres(url) => Arc::new(
            PgStore::open(url, pool)
                .await
                .with_context(|| format!("opening the PostgreSQL store {target:?}"))?,
        ),
    })
}

async fn id_secret(store: &dyn Store, mode: Mode, configured: Option<&str>) -> anyhow::Result<IdSecret> {
    let proposed = match (configured, mode) {
        (Some(p), _) => IdSecret::from_passphrase(p),
        (None, Mode::Dev) => IdSecret::from_passphrase(DEV_ID_SECRET),
        (None, Mode::Serve) => IdSecret::random().map_err(|e| anyhow::anyhow!("random source: {e}"))?,
    };
    let stored = store
        .id_secret(&proposed)
        .await
        .context("reading the store's id secret")?;
    if configured.is_some() && stored != proposed {
        bail!("id_secret differs from the one this store was created with; unionIds and openIds would change");
    }
    Ok(stored)
}

fn read_seed(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading seed file {}", path.display()))
}

/// Serves until a signal, or with `exec`, until `exec`'s command ends: then its exit status
/// (128 + the signal's number when a signal ended it).
async fn serve(mode: Mode, args: &ServeArgs, config: Config, exec: Option<Vec<String>>) -> anyhow::Result<Option<i32>> {
    init_logging(&config.log, &config.warnings);
    let db = if mode == Mode::Dev {
        DbTarget::Sqlite(SqliteTarget::Memory)
    } else {
        config.db.clone()
    };
    if mode == Mode::Dev && args.store.db.is_some() {
        tracing::warn!("`dingdir dev` always runs in memory; --db is ignored (use `dingdir serve`)");
    }
    let store = open_store(&db, config.db_pool).await?;
    let ids = id_secret(store.as_ref(), mode, config.id_secret.as_deref()).await?;

    let seed = match (&config.seed, mode) {
        (Some(path), _) => Some((path.display().to_string(), read_seed(path)?)),
        (None, Mode::Dev) => Some((DEMO_SEED_NAME.to_owned(), DEMO_SEED.to_owned())),
        (None, Mode::Serve) => None,
    };

    let generated = config.admin_token.is_none();
    let admin_token = match &config.admin_token {
        Some(t) => t.clone(),
        None => secret::random_hex(16).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let settings = Settings {
        mode,
        admin_token: admin_token.clone(),
        metrics_token: config.metrics_token.clone(),
        body_limit: config.body_limit,
        max_in_flight: config.max_in_flight,
        store_timeout: config.store_timeout,
        reset_seed: if mode == Mode::Dev { seed.clone() } else { None },
        test_clock: config.test_clock.unwrap_or(mode == Mode::Dev),
        journal: config
            .journal
            .unwrap_or(mode == Mode::Dev)
            .then_some(config.journal_limits),
        callbacks: config.callbacks.clone(),
        stream: config.stream.clone(),
        inbox_max: config.inbox_max,
        media_max: config.media_max,
        ..Settings::default()
    };
    let clock = Arc::new(MovableClock::new());
    let policy = Policy {
        token_ttl_secs: config.token_ttl_secs,
        visibility: config.visibility,
        cache_ttl_ms: i64::try_from(config.cache_ttl_ms).unwrap_or(i64::MAX),
        hash_concurrency: config.hash_concurrency,
        // Every store call is bounded: past it, the gateways answer "system busy".
        store_timeout: config.store_timeout,
    };
    let service = Service::new(Arc::clone(&store), clock.clone(), ids, policy);
    let state = AppState::new(service, settings, Some(clock));
    if let Some((name, text)) = &seed {
        dingdir_server::apply_seed(&state, name, text)
            .await
            .map_err(|why| anyhow::anyhow!("applying seed {name}: {why}"))?;
        tracing::info!(seed = %name, "seed applied");
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr().context("reading the listen address")?;

    let child = match &exec {
        Some(command) => {
            let vars = exec_env(&format!("http://{addr}"), &admin_token, seed.as_ref());
            let mut cmd = tokio::process::Command::new(&command[0]);
            cmd.args(&command[1..]).envs(vars).kill_on_drop(true);
            let child = cmd.spawn().with_context(|| format!("starting {}", command[0]))?;
            tracing::info!(url = %format!("http://{addr}"), command = %command.join(" "), "exec: serving the command");
            Some(child)
        }
        None => None,
    };
    let mut out = std::io::stdout().lock();
    if exec.is_none() {
        writeln!(out, "dingdir listening on http://{addr}")?;
    }
    if generated && exec.is_none() {
        writeln!(
            out,
            "admin token: {admin_token}  (send `Authorization: Bearer <token>` to /_dingdir/...)"
        )?;
    }
    if mode == Mode::Dev && exec.is_none() {
        if let Some((name, text)) = &seed {
            write!(out, "{}", dev_banner(&addr.to_string(), name, text))?;
        }
    }
    out.flush()?;
    drop(out);

    let purging = tokio::spawn(dingdir_server::purge_expired(state.clone(), PURGE_EVERY));
    // The limits in the store hold from the first request; one set through another node holds
    // here within a second.
    state
        .service
        .refresh_rate_limits()
        .await
        .context("reading the rate limits")?;
    let limits_every = std::time::Duration::from_millis(config.cache_ttl_ms.clamp(100, 1000));
    let refreshing = tokio::spawn(dingdir_server::refresh_rate_limits(state.clone(), limits_every));
    let delivering = tokio::spawn(dingdir_server::deliver_callbacks(state.clone()));
    let streaming = tokio::spawn(dingdir_server::wake_stream_deliverers(state.clone()));
    let numbering = {
        let state = state.clone();
        tokio::spawn(async move { state.service.keep_numbered().await })
    };
    let (status_tx, status_rx) = tokio::sync::oneshot::channel();
    let until = async move {
        match child {
            None => shutdown_signal().await,
            Some(mut child) => {
                let status = tokio::select! {
                    status = child.wait() => status.ok(),
                    () = shutdown_signal() => {
                        let _ = child.kill().await;
                        child.wait().await.ok()
                    }
                };
                let _ = status_tx.send(status);
            }
        }
    };
    dingdir_server::serve(listener, dingdir_server::app(state), config.connections, until).await;
    purging.abort();
    refreshing.abort();
    delivering.abort();
    streaming.abort();
    numbering.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(match (exec, status_rx.await.ok().flatten()) {
        (None, _) => None,
        (Some(_), Some(status)) => Some(exit_code(status)),
        (Some(_), None) => Some(1),
    })
}

/// A child's exit status as a shell gives it: its code, or 128 + the signal that ended it.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

/// What `exec` puts in its command's environment: the server, the admin token, and the
/// credentials of every app the seed names with a key and a plain secret (the README lists the
/// names).
fn exec_env(url: &str, admin_token: &str, seed: Option<&(String, String)>) -> Vec<(String, String)> {
    let mut vars = vec![
        ("DINGDIR_URL".to_owned(), url.to_owned()),
        ("DINGDIR_ADMIN_TOKEN".to_owned(), admin_token.to_owned()),
    ];
    let Some(doc) = seed.and_then(|(name, text)| seed::parse(name, text).ok().map(|(doc, _)| doc)) else {
        return vars;
    };
    let doc: SeedDoc = doc;
    let name = |key: &str| {
        key.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    let mut first = true;
    for app in &doc.apps {
        let (Some(key), Some(secret)) = (&app.key, &app.secret) else {
            continue;
        };
        if first {
            vars.push(("DINGDIR_APP_KEY".to_owned(), key.clone()));
            vars.push(("DINGDIR_APP_SECRET".to_owned(), secret.clone()));
            if let Some(corp) = &app.corp {
                vars.push(("DINGDIR_CORP_ID".to_owned(), corp.clone()));
            }
            first = false;
        }
        vars.push((format!("DINGDIR_APP_SECRET_{}", name(key)), secret.clone()));
        if let Some(ticket) = &app.suite_ticket {
            vars.push((format!("DINGDIR_SUITE_TICKET_{}", name(key)), ticket.clone()));
        }
    }
    vars
}

/// What `dingdir dev` prints: the credentials of the seed's apps and calls to try.
fn dev_banner(addr: &str, seed_name: &str, seed_text: &str) -> String {
    let Ok((doc, _)) = seed::parse(seed_name, seed_text) else {
        return String::new();
    };
    let doc: SeedDoc = doc;
    let mut s = format!("in memory; seed: {seed_name}\n\napps (appKey / appSecret):\n");
    for app in &doc.apps {
        if let (Some(key), Some(secret)) = (&app.key, &app.secret) {
            s.push_str(&format!(
                "  {key:<20} {secret:<24} {} ({})\n",
                app.name,
                app.kind.as_str()
            ));
        }
    }
    let internal = doc
        .apps
        .iter()
        .find(|a| a.kind == dingdir_core::model::AppKind::Internal && a.secret.is_some() && a.key.is_some());
    if let Some(app) = internal {
        let (key, secret) = (
            app.key.as_deref().unwrap_or_default(),
            app.secret.as_deref().unwrap_or_default(),
        );
        s.push_str(&format!(
            "\ntry it:\n  curl 'http://{addr}/gettoken?appkey={key}&appsecret={secret}'\n\n\
             or with the official Python SDK (pip install alibabacloud-dingtalk):\n\
             python3 - <<'PY'\n\
             from alibabacloud_tea_openapi import models as open_api_models\n\
             from alibabacloud_dingtalk.oauth2_1_0 import client as oauth_client, models as oauth_models\n\
             config = open_api_models.Config(protocol=\"http\", region_id=\"central\", endpoint=\"{addr}\")\n\
             tok = oauth_client.Client(config).get_access_token(\n    oauth_models.GetAccessTokenRequest(app_key=\"{key}\", app_secret=\"{secret}\"))\n\
             print(tok.body.access_token, tok.body.expire_in)\n\
             PY\n"
        ));
    }
    s
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
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
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn apply(file: &Path, config: &Config) -> anyhow::Result<()> {
    let text = read_seed(file)?;
    let store = open_store(&config.db, config.db_pool).await?;
    id_secret(store.as_ref(), Mode::Serve, config.id_secret.as_deref()).await?;
    let name = file.display().to_string();
    let plan = Service::plan_seed(&name, &text)?;
    dingdir_server::check_seed_rules(&plan)?;
    seed::apply_plan(store.as_ref(), &plan).await?;
    // Rate limits live in the store, so they hold for the servers that share it; fault rules
    // live in a server, so only a running one can arm them.
    if let Some(limits) = plan.rate_limits() {
        store.set_rate_limits(limits).await?;
        println!("set {} rate limits from {name}", limits.len());
    }
    seed::apply_messaging(store.as_ref(), &plan).await?;
    if plan.faults().next().is_some() {
        eprintln!(
            "{name}: its fault rules are not armed: `dingdir apply` writes the store only; send the seed to a running server (POST /_dingdir/seed) or start one with --seed"
        );
    }
    store.close().await;
    let (corps, apps, people, memberships) = plan.counts();
    println!(
        "applied {}: {corps} corps, {apps} apps, {people} people, {memberships} memberships",
        file.display()
    );
    Ok(())
}

async fn export(output: Option<&Path>, config: &Config) -> anyhow::Result<()> {
    let store = open_store(&config.db, config.db_pool).await?;
    let directory = store.directory().await.context("reading the directory")?;
    store.close().await;
    let yaml = seed::to_yaml(&seed::export(&directory)).map_err(|e| anyhow::anyhow!("writing YAML: {e}"))?;
    match output {
        Some(path) => std::fs::write(path, yaml).with_context(|| format!("writing {}", path.display()))?,
        None => print!("{yaml}"),
    }
    Ok(())
}

async fn generate(people: u64, corps: Option<u64>, sample: Option<&Path>, config: &Config) -> anyhow::Result<()> {
    let store = open_store(&config.db, config.db_pool).await?;
    id_secret(store.as_ref(), Mode::Serve, config.id_secret.as_deref()).await?;
    let result = crate::generate::generate(store.as_ref(), people, corps).await?;
    // Closing checkpoints SQLite's write-ahead log (tens of MB at a million people), so the
    // first write after `serve` starts does not pay for it.
    store.close().await;
    let json = serde_json::to_string_pretty(&result).context("writing the sample")?;
    let default = match &config.db {
        DbTarget::Sqlite(SqliteTarget::File(p)) => {
            Some(std::path::PathBuf::from(format!("{}.sample.json", p.display())))
        }
        DbTarget::Sqlite(SqliteTarget::Memory) | DbTarget::Postgres(_) => None,
    };
    match sample.map(Path::to_path_buf).or(default) {
        Some(path) => {
            std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
            println!("sample: {}", path.display());
        }
        None => println!("{json}"),
    }
    Ok(())
}
