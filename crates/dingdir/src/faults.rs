//! `dingdir faults`, `journal`, `rate-limits`, `inbox` and `chat`: a running server's fault
//! rules, request journal, rate limits and messages, through the client's admin API.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the answer on stdout is the command's interface; a lag warning goes to stderr"
)]

use crate::cli::{
    AdminArgs, ChatArgs, FaultAdd, FaultsArgs, FaultsCommand, InboxArgs, JournalArgs, RateLimitsArgs, RateLimitsCommand,
};
use anyhow::{Context, bail};
use dingdir_client::proto::admin::{
    ChatSay, FaultAction, FaultFire, FaultRule, InboxFilter, JournalFilter, RateLimit, RateWindow,
};
use dingdir_client::{Admin, Client, JournalEvent};
use std::io::Write;
use std::time::Duration;

/// Runs one `faults` subcommand and prints the server's answer as JSON.
pub(crate) async fn run(args: FaultsArgs) -> anyhow::Result<()> {
    let admin = admin(&args.server)?;
    let answer = match args.command {
        FaultsCommand::List => serde_json::to_string_pretty(&admin.faults().await?)?,
        FaultsCommand::Add(add) => serde_json::to_string_pretty(&admin.add_fault(&rule(*add)?).await?)?,
        FaultsCommand::Remove { id } => {
            admin.remove_fault(id).await?;
            serde_json::to_string_pretty(&serde_json::json!({ "removed": id }))?
        }
        FaultsCommand::Clear => serde_json::to_string_pretty(&admin.clear_faults().await?)?,
    };
    println!("{answer}");
    Ok(())
}

/// Runs `journal`: prints matching entries (one JSON line each), their count, or clears them.
pub(crate) async fn journal(args: JournalArgs) -> anyhow::Result<()> {
    let filter = JournalFilter {
        endpoint: args.call.endpoint,
        app: args.call.app,
        corp: args.call.corp,
        user: args.call.user,
        status: args.status,
        code: args.code,
        since_ms: args.since_ms,
        until_ms: args.until_ms,
        after: args.after,
        faulted: args.faulted,
        limit: args.limit,
    };
    if args.clear {
        let admin = admin(&args.server)?;
        println!("{}", serde_json::to_string(&admin.clear_journal().await?)?);
        return Ok(());
    }
    if args.count {
        let admin = admin(&args.server)?;
        println!(
            "{}",
            serde_json::json!({ "count": admin.journal_count(&filter).await? })
        );
        return Ok(());
    }
    if !args.follow {
        let admin = admin(&args.server)?;
        for entry in admin.journal(&filter).await?.entries {
            println!("{}", serde_json::to_string(&entry)?);
        }
        return Ok(());
    }
    // Follow: a client with no overall timeout, since the stream lasts until interrupted.
    let admin = admin_with(&args.server, FOLLOW_TIMEOUT)?;
    let mut follow = admin.follow_journal(&filter).await?;
    let mut out = std::io::stdout();
    while let Some(event) = follow.next().await? {
        match event {
            JournalEvent::Entry(entry) => writeln!(out, "{}", serde_json::to_string(&entry)?)?,
            JournalEvent::Lagged(missed) => eprintln!("dingdir: fell behind the journal; {missed} entries missed"),
        }
        out.flush()?;
    }
    Ok(())
}

/// How long one follow request waits for a message before asking again.
const INBOX_WAIT_MS: u64 = 30_000;

/// Runs `inbox`: prints matching messages, one JSON line each; with --follow, goes on printing
/// them as they arrive (long polls of `wait_ms`).
pub(crate) async fn inbox(args: InboxArgs) -> anyhow::Result<()> {
    let mut filter = InboxFilter {
        conversation: args.conversation,
        sender_id: args.sender_id,
        person: args.person,
        task: args.task,
        after: args.after,
        limit: args.limit,
        wait_ms: None,
    };
    let admin = admin_with(
        &args.server,
        Duration::from_millis(INBOX_WAIT_MS) + Duration::from_secs(30),
    )?;
    let mut out = std::io::stdout();
    loop {
        let page = admin.inbox(&filter).await?;
        for m in &page.messages {
            writeln!(out, "{}", serde_json::to_string(m)?)?;
            filter.after = Some(m.seq);
        }
        out.flush()?;
        match (args.follow, page.next_cursor) {
            (_, Some(_)) => {}
            (true, None) => filter.wait_ms = Some(INBOX_WAIT_MS),
            (false, None) => return Ok(()),
        }
    }
}

/// Runs `chat`: prints the server's answer (the message sent and the bot's ack) as JSON.
pub(crate) async fn chat(args: ChatArgs) -> anyhow::Result<()> {
    let admin = admin(&args.server)?;
    let said = admin
        .chat(&ChatSay {
            app_key: args.app,
            from: args.from,
            text: args.text,
            group: args.group,
            at_bot: Some(!args.no_at),
            corp_id: args.corp,
            media_id: None,
        })
        .await?;
    println!("{}", serde_json::to_string_pretty(&said)?);
    Ok(())
}

/// Runs `rate-limits`: prints the limits in force (after the change) as JSON.
pub(crate) async fn rate_limits(args: RateLimitsArgs) -> anyhow::Result<()> {
    let admin = admin(&args.server)?;
    let answer = match args.command {
        RateLimitsCommand::List => serde_json::json!({ "limits": admin.rate_limits().await? }),
        RateLimitsCommand::Add {
            limit,
            per,
            app,
            endpoint,
            all_apps,
        } => {
            let per = match per.as_str() {
                "second" => RateWindow::Second,
                "minute" => RateWindow::Minute,
                "month" => RateWindow::Month,
                other => bail!("--per {other}: give `second`, `minute` or `month`"),
            };
            let mut limits = admin.rate_limits().await?;
            limits.push(RateLimit {
                app,
                endpoint,
                limit,
                per,
                all_apps,
            });
            serde_json::json!({ "limits": admin.set_rate_limits(limits).await? })
        }
        RateLimitsCommand::Clear => serde_json::to_value(admin.clear_rate_limits().await?)?,
    };
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

/// The admin API of the server `args` names.
pub(crate) fn admin(args: &AdminArgs) -> anyhow::Result<Admin> {
    admin_with(args, Duration::from_secs(30))
}

/// A follower's request lasts until it is interrupted; reqwest has no "never", so a year.
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

fn admin_with(args: &AdminArgs, timeout: Duration) -> anyhow::Result<Admin> {
    let Some(token) = args.admin_token.as_deref().filter(|t| !t.is_empty()) else {
        bail!("give the server's admin token with --admin-token or DINGDIR_ADMIN_TOKEN");
    };
    let client = Client::builder()
        .base_url(&args.url)
        .timeout(timeout)
        .build()
        .with_context(|| format!("--url {}", args.url))?;
    Ok(client.admin(token))
}

/// The rule the options describe.
fn rule(add: FaultAdd) -> anyhow::Result<FaultRule> {
    if let Some(json) = add.rule {
        return serde_json::from_str(&json).context("--rule is not a fault rule");
    }
    let params = add
        .param
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => bail!("--param {p}: give NAME=VALUE"),
        })
        .collect::<anyhow::Result<_>>()?;
    let action = match (add.errcode, add.status, add.delay_ms) {
        (Some(errcode), _, _) => FaultAction::Errcode {
            errcode,
            errmsg: add.errmsg,
        },
        (_, Some(status), _) => FaultAction::Error {
            status,
            code: add.code.unwrap_or_default(),
            message: add.message.unwrap_or_default(),
        },
        (_, _, Some(ms)) => FaultAction::Delay { ms },
        _ if add.drop => FaultAction::Drop,
        _ if add.truncate => FaultAction::Truncate,
        _ => bail!("say what the fault does: --errcode, --status, --delay-ms, --drop or --truncate"),
    };
    let fire = match (add.next, add.after, add.probability, add.seed) {
        (Some(n), _, _, _) => FaultFire::Next(n),
        (_, Some(n), _, _) => FaultFire::After(n),
        (_, _, Some(p), Some(seed)) => FaultFire::Probability { p, seed },
        _ => FaultFire::Always,
    };
    Ok(FaultRule {
        endpoint: add.call.endpoint,
        app: add.call.app,
        corp: add.call.corp,
        user: add.call.user,
        params,
        action,
        fire,
    })
}
