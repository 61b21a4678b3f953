//! HTTP event callbacks on the wire: `check_url` when an app registers, and the delivery of
//! each change-log entry to every app that subscribed to it, encrypted and signed as DingTalk
//! does (docs/wire/writes-and-callbacks.md §2–4).
//!
//! Delivery is at least once and in log order per app. Where each app stands is in the store
//! ([`dingdir_core::CallbackStore`]); a node delivers an app's events only while it holds that
//! app's lease, so with several nodes one delivers and another takes over when it stops. An
//! entry is acknowledged only by the receiver's encrypted `success`; until then it is retried
//! with backoff and the entries after it wait. A node killed between the receiver's answer and
//! the store's record makes the next holder send that entry again.

use crate::delivery::Busy;
use crate::state::AppState;
use dingdir_core::Service;
use dingdir_core::callback::{self, Attempt, Callback, CallbackRefusal, CallbackState, Crypto};
use dingdir_core::change::{Change, ChangeQuery};
use dingdir_core::clock::Millis;
use dingdir_proto::ids::CorpId;

/// Why one push was not acknowledged.
#[derive(Debug)]
enum PushError {
    /// No answer, an HTTP failure, or too slow.
    Unreachable(String),
    /// An answer, but not an encrypted `success`.
    NotSuccess(String),
}

impl PushError {
    fn text(&self) -> &str {
        match self {
            Self::Unreachable(s) | Self::NotSuccess(s) => s,
        }
    }
}

/// What a receiver must answer: its own signature over an encrypted `success`.
#[derive(serde::Deserialize)]
struct Reply {
    msg_signature: String,
    #[serde(rename = "timeStamp")]
    time_stamp: serde_json::Value,
    nonce: String,
    encrypt: String,
}

/// POSTs one encrypted message as DingTalk does and checks the answer.
async fn push(
    state: &AppState,
    cb: &Callback,
    crypto: &Crypto,
    receive_id: &str,
    message: &str,
) -> Result<(), PushError> {
    let timestamp = state.service.now().to_string();
    let sealed = crypto.seal(message, receive_id, &timestamp);
    let query = [
        ("signature", sealed.signature.as_str()),
        ("msg_signature", sealed.signature.as_str()),
        ("timestamp", sealed.timestamp.as_str()),
        ("timeStamp", sealed.timestamp.as_str()),
        ("nonce", sealed.nonce.as_str()),
    ];
    let timeout = state.settings.callbacks.timeout;
    let request = state
        .delivery
        .client
        .post(&cb.url)
        .query(&query)
        .json(&serde_json::json!({ "encrypt": sealed.encrypt }));
    let (status, body) = crate::delivery::exchange(request, timeout)
        .await
        .map_err(PushError::Unreachable)?;
    if !status.is_success() {
        return Err(PushError::Unreachable(format!("answered HTTP {}", status.as_u16())));
    }
    let reply: Reply = serde_json::from_slice(&body).map_err(|_| {
        PushError::NotSuccess("the answer is not JSON with msg_signature, timeStamp, nonce and encrypt".to_owned())
    })?;
    let time_stamp = match &reply.time_stamp {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let sealed = callback::Sealed {
        signature: reply.msg_signature,
        timestamp: time_stamp,
        nonce: reply.nonce,
        encrypt: reply.encrypt,
    };
    match crypto.open(&sealed) {
        Ok((text, _)) if text == "success" => Ok(()),
        Ok((text, _)) => Err(PushError::NotSuccess(format!(
            "the answer decrypts to {:?}, not \"success\" (71009 返回文本非success)",
            truncate(&text)
        ))),
        Err(e) => Err(PushError::NotSuccess(format!("the answer does not verify: {e}"))),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Sends `{"EventType":"check_url"}` closed by `receive_id`, as DingTalk does when a callback is
/// saved, and refuses the registration unless the answer is an encrypted `success` in time.
pub(crate) async fn check_url(state: &AppState, cb: &Callback, receive_id: &str) -> Result<(), CallbackRefusal> {
    callback::check(cb).map_err(CallbackRefusal::Invalid)?;
    let crypto = Crypto::new(&cb.token, &cb.aes_key).map_err(|e| CallbackRefusal::Invalid(e.to_string()))?;
    push(state, cb, &crypto, receive_id, r#"{"EventType":"check_url"}"#)
        .await
        .map_err(|e| match e {
            PushError::Unreachable(s) => CallbackRefusal::Unreachable(s),
            PushError::NotSuccess(s) => CallbackRefusal::NotSuccess(s),
        })
}

/// The corp a `check_url` names for an app whose receiveid is its corp: an internal app's own,
/// a third-party app's first authorising corp.
pub(crate) fn check_corp(app: &dingdir_core::model::App) -> Option<CorpId> {
    app.installed_in().into_iter().next()
}

/// Delivers until stopped: a round after each write through this node, and at least every
/// `poll` for writes through others and for retries coming due.
pub async fn deliver_callbacks(state: AppState) {
    let mut commits = state.service.commits();
    loop {
        let round = state.clone();
        // Each app's delivery runs on its own; an app still busy from an earlier round is
        // skipped, so a slow receiver holds up only its own events.
        tokio::spawn(async move {
            if let Err(e) = deliver_round(&round).await {
                tracing::warn!(error = %e, "callback delivery round failed; trying again");
            }
        });
        let poll = state.settings.callbacks.poll;
        tokio::select! {
            _ = commits.changed() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// One round: every app not already being delivered, each as far as it can go now. Answers how
/// many entries were acknowledged.
pub(crate) async fn deliver_round(state: &AppState) -> Result<usize, dingdir_core::Error> {
    let states = state.service.background().callbacks().await?;
    let runs = states.into_iter().map(|s| async move {
        let Some(_busy) = Busy::take(&state.delivery, &s.callback.app_key) else {
            return 0;
        };
        match deliver_app(state, s).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "callback delivery failed; trying again");
                0
            }
        }
    });
    Ok(futures_util::future::join_all(runs).await.into_iter().sum())
}

/// How many entries one app's turn may deliver before the next round, so that noticing a new
/// registration stays timely.
const TURN: usize = 500;

/// Entries read per query, and acknowledgements recorded per transaction (and so the most a
/// node that dies resends).
const BATCH: usize = 32;

async fn deliver_app(state: &AppState, seen: CallbackState) -> Result<usize, dingdir_core::Error> {
    let service: &Service = &state.service;
    let settings = &state.settings.callbacks;
    let node = settings.node.as_str();
    let now = service.now();
    if seen
        .lease
        .as_ref()
        .is_some_and(|(owner, until)| owner != node && *until > now)
        || seen.next_attempt_at > now
    {
        return Ok(0);
    }
    let lease = Millis::try_from(settings.lease.as_millis()).unwrap_or(Millis::MAX);
    let Some(mut current) = service
        .background()
        .lease_callback(&seen.callback.app_key, node, now, now.saturating_add(lease))
        .await?
    else {
        return Ok(0);
    };
    let Some(app) = service.background().app(&current.callback.app_key).await? else {
        return Ok(0);
    };
    let corps: Vec<CorpId> = app
        .installed_in()
        .into_iter()
        .filter(|c| callback::permitted(&app, c))
        .collect();
    if corps.is_empty() {
        return Ok(0);
    }
    let cb = current.callback.clone();
    let crypto = Crypto::new(&cb.token, &cb.aes_key)
        .map_err(|e| dingdir_core::Error::CallbackRefused(CallbackRefusal::Invalid(e.to_string())))?;
    let mut delivered = 0;
    let mut acked: Vec<Attempt> = Vec::new();
    let mut cursor = current.delivered_seq;
    let mut leased_at = now;
    'turn: while delivered < TURN {
        let query = ChangeQuery {
            corps: corps.clone(),
            kinds: callback::kinds(&cb),
            after: cursor,
            limit: BATCH as u64,
        };
        let entries = service.background().changes(&query).await?;
        if entries.is_empty() {
            break;
        }
        for entry in entries.iter().filter(|e| callback::wants(&cb, e.change.kind)) {
            // The lease must outlast every push made under it: renew it well before it runs out,
            // after recording what is acknowledged so far.
            if service.now() >= leased_at.saturating_add(lease / 3) {
                if !record(state, &mut current, std::mem::take(&mut acked)).await? {
                    return Ok(delivered);
                }
                leased_at = service.now();
                let until = leased_at.saturating_add(lease);
                match service
                    .background()
                    .lease_callback(&cb.app_key, node, leased_at, until)
                    .await?
                {
                    Some(renewed) => current = renewed,
                    None => return Ok(delivered),
                }
            }
            let result = push(
                state,
                &cb,
                &crypto,
                cb.receive_id_for(&entry.change.corp_id),
                &callback::event_body(entry),
            )
            .await;
            cursor = entry.seq;
            let attempt = attempt(state, &cb, entry, result.as_ref().err().map(PushError::text));
            acked.push(attempt);
            if result.is_err() {
                record(state, &mut current, std::mem::take(&mut acked)).await?;
                break 'turn;
            }
            delivered += 1;
            if acked.len() >= BATCH && !record(state, &mut current, std::mem::take(&mut acked)).await? {
                return Ok(delivered);
            }
            if delivered >= TURN {
                break 'turn;
            }
        }
    }
    record(state, &mut current, acked).await?;
    Ok(delivered)
}

/// One attempt at `entry`, made now by this node.
fn attempt(state: &AppState, cb: &Callback, entry: &Change, error: Option<&str>) -> Attempt {
    Attempt {
        app_key: cb.app_key.clone(),
        seq: entry.seq,
        at: state.service.now(),
        node: state.settings.callbacks.node.clone(),
        error: error.map(str::to_owned),
    }
}

/// Records consecutive attempts in one transaction (every one a success but perhaps the last);
/// `false` when the lease has passed to another node.
async fn record(
    state: &AppState,
    current: &mut CallbackState,
    attempts: Vec<Attempt>,
) -> Result<bool, dingdir_core::Error> {
    let Some(last) = attempts.last() else {
        return Ok(true);
    };
    let retry_at = match &last.error {
        None => 0,
        Some(why) => {
            let wait = callback::backoff(&state.settings.callbacks.backoff, current.failures.saturating_add(1));
            tracing::warn!(app = %last.app_key.0, seq = last.seq, error = %why, wait_ms = wait, "callback not acknowledged; will retry");
            last.at.saturating_add(wait)
        }
    };
    if !state.service.background().record_attempts(&attempts, retry_at).await? {
        return Ok(false);
    }
    if let Some(seq) = attempts.iter().filter(|a| a.error.is_none()).map(|a| a.seq).max() {
        current.delivered_seq = seq;
        current.failures = 0;
    }
    if last.error.is_some() {
        current.failures = current.failures.saturating_add(1);
    }
    Ok(true)
}

/// A registration shared by the admin API and `register_call_back`: checks the URL (unless told
/// not to) and stores it.
pub(crate) async fn register(state: &AppState, cb: Callback, check: bool) -> Result<(), dingdir_core::Error> {
    callback::check(&cb).map_err(|e| dingdir_core::Error::CallbackRefused(CallbackRefusal::Invalid(e)))?;
    let app = state
        .service
        .app(&cb.app_key)
        .await?
        .ok_or(dingdir_core::Error::AppNotFound)?;
    if check {
        let receive_id = match cb.receive_id {
            callback::ReceiveId::AppKey => cb.app_key.0.clone(),
            callback::ReceiveId::CorpId => check_corp(&app).map(|c| c.0).unwrap_or_default(),
        };
        check_url(state, &cb, &receive_id)
            .await
            .map_err(dingdir_core::Error::CallbackRefused)?;
    }
    state.service.register_callback(cb).await
}

/// For the tests: runs rounds until one acknowledges nothing.
#[cfg(test)]
pub(crate) async fn deliver_until_idle(state: &AppState) -> usize {
    let mut total = 0;
    for _ in 0..100 {
        match deliver_round(state).await {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    total
}
