//! Each app's event delivery over its connections on this node: the next unacknowledged
//! change-log entry goes to one connection (round robin), and the next waits until a connection
//! acknowledges it with success. A `LATER`, a failed handler, a missing ack or a connection that
//! closes first each record a failed attempt, and the entry goes out again: after the `LATER`
//! delay, or at once on another (or the next) connection.

use super::random_id;
use crate::state::AppState;
use dingdir_core::callback::{self, Attempt};
use dingdir_core::change::{ChangeKind, ChangeQuery};
use dingdir_core::clock::Millis;
use dingdir_core::stream::{AckOutcome, StreamCursor, ack_outcome, event_frame};
use dingdir_proto::ids::{AppKey, CorpId};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Notify;

/// Entries read per query.
const BATCH: u64 = 32;

/// Starts the app's deliverer on this node unless it runs already (then wakes it).
pub(crate) fn start(state: &AppState, app: &AppKey) {
    if let Some(wake) = state.stream.claim_line(app) {
        let (state, app) = (state.clone(), app.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = deliver(&state, &app, &wake).await {
                    tracing::warn!(app = %app.0, error = %e, "stream delivery failed; trying again");
                    wait(&wake, state.settings.callbacks.poll).await;
                }
                if !state.stream.release_line(&app) {
                    return;
                }
                // Still wanted here but nothing to do (the app is gone): do not spin.
                wait(&wake, state.settings.callbacks.poll).await;
            }
        });
    }
}

/// Wakes every deliverer on this node after each write through it, until stopped.
pub(crate) async fn wake_on_commits(state: AppState) {
    let mut commits = state.service.commits();
    while commits.changed().await.is_ok() {
        state.stream.wake_all();
    }
}

async fn wait(wake: &Notify, most: Duration) {
    tokio::select! {
        () = wake.notified() => {}
        () = tokio::time::sleep(most) => {}
    }
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// The lease this node holds on an app's delivery, and when it was last renewed.
struct Held {
    cursor: StreamCursor,
    renewed: Millis,
}

/// Renews (or takes) the lease if a third of it has passed; `false` when another node holds it.
async fn renew(state: &AppState, app: &AppKey, held: &mut Option<Held>) -> Result<bool, dingdir_core::Error> {
    let now = state.service.now();
    let lease = millis(state.settings.callbacks.lease);
    if held.as_ref().is_some_and(|h| now < h.renewed.saturating_add(lease / 3)) {
        return Ok(true);
    }
    let node = state.settings.callbacks.node.as_str();
    let leased = state
        .service
        .background()
        .lease_stream(app, node, now, now.saturating_add(lease))
        .await?;
    *held = leased.map(|cursor| Held { cursor, renewed: now });
    Ok(held.is_some())
}

/// Delivers while the app has a connection for events here; returns when it has none.
async fn deliver(state: &AppState, app: &AppKey, wake: &Notify) -> Result<(), dingdir_core::Error> {
    let service = &state.service;
    let poll = state.settings.callbacks.poll;
    let resets = state.stream.resets();
    service.background().open_stream_cursor(app).await?;
    let mut held: Option<Held> = None;
    loop {
        // After a reset the cursor held here is stale: the next deliverer opens a new one when
        // the app connects again, at the log as it is then.
        if !state.stream.has_events(app) || state.stream.resets() != resets {
            return Ok(());
        }
        if !renew(state, app, &mut held).await? {
            wait(wake, poll).await;
            continue;
        }
        let Some(h) = held.as_mut() else { continue };
        let now = service.now();
        if h.cursor.next_attempt_at > now {
            let due = Duration::from_millis(u64::try_from(h.cursor.next_attempt_at - now).unwrap_or(0));
            wait(wake, due.min(poll)).await;
            continue;
        }
        let Some(record) = service.background().app(app).await? else {
            return Ok(());
        };
        let corps: Vec<CorpId> = record
            .installed_in()
            .into_iter()
            .filter(|c| callback::permitted(&record, c))
            .collect();
        let entries = if corps.is_empty() {
            Vec::new()
        } else {
            let query = ChangeQuery {
                corps,
                kinds: ChangeKind::ALL.to_vec(),
                after: h.cursor.delivered_seq,
                limit: BATCH,
            };
            service.background().changes(&query).await?
        };
        if entries.is_empty() {
            wait(wake, poll).await;
            continue;
        }
        for entry in &entries {
            // However quickly the acks come, the lease must outlast every push made under it.
            if !renew(state, app, &mut held).await? || state.stream.resets() != resets {
                break;
            }
            let Some(conn) = state.stream.next_for_events(app) else {
                return Ok(());
            };
            let message_id = random_id();
            let frame = event_frame(entry, app, &message_id, &conn.id, service.now());
            let answer = conn.expect(&message_id);
            conn.sent.fetch_add(1, Ordering::Relaxed);
            let _ = conn
                .tx
                .send(super::Out::Frame(serde_json::to_string(&frame).unwrap_or_default()));
            let outcome = await_ack(state, app, &mut held, &conn, &message_id, answer).await?;
            let now = service.now();
            let (error, retry_at) = match outcome {
                Waited::Ack(ack) => match ack_outcome(&ack) {
                    AckOutcome::Success => (None, 0),
                    AckOutcome::Later(why) | AckOutcome::Failed(why) => {
                        (Some(why), now.saturating_add(millis(state.settings.stream.later_delay)))
                    }
                },
                Waited::Closed => (Some("the connection closed before acknowledging".to_owned()), now),
                Waited::TimedOut => (
                    Some(format!(
                        "no acknowledgement within {} ms",
                        state.settings.stream.ack_timeout.as_millis()
                    )),
                    now,
                ),
                Waited::LeaseLost => break,
            };
            let attempt = Attempt {
                app_key: app.clone(),
                seq: entry.seq,
                at: now,
                node: state.settings.callbacks.node.clone(),
                error: error.clone(),
            };
            if !service
                .background()
                .record_stream_attempts(&[attempt], retry_at)
                .await?
            {
                held = None;
                break;
            }
            let Some(h) = held.as_mut() else { break };
            if let Some(why) = error {
                tracing::info!(app = %app.0, seq = entry.seq, connection = %conn.id, error = %why, "stream event not acknowledged; will send again");
                h.cursor.failures = h.cursor.failures.saturating_add(1);
                h.cursor.next_attempt_at = retry_at;
                break;
            }
            h.cursor.delivered_seq = entry.seq;
            h.cursor.failures = 0;
            h.cursor.next_attempt_at = 0;
        }
    }
}

/// How waiting for one ack ended.
enum Waited {
    Ack(dingdir_proto::stream::Ack),
    Closed,
    TimedOut,
    LeaseLost,
}

/// Waits for the ack of one push, renewing the lease meanwhile so that no other node pushes the
/// same entry while this one may still be acknowledged.
async fn await_ack(
    state: &AppState,
    app: &AppKey,
    held: &mut Option<Held>,
    conn: &Arc<super::Conn>,
    message_id: &str,
    mut answer: tokio::sync::oneshot::Receiver<dingdir_proto::stream::Ack>,
) -> Result<Waited, dingdir_core::Error> {
    let deadline = tokio::time::Instant::now() + state.settings.stream.ack_timeout;
    let slice = state.settings.callbacks.lease / 3;
    loop {
        let until = deadline.min(tokio::time::Instant::now() + slice);
        match tokio::time::timeout_at(until, &mut answer).await {
            Ok(Ok(ack)) => return Ok(Waited::Ack(ack)),
            Ok(Err(_)) => return Ok(Waited::Closed),
            Err(_) if tokio::time::Instant::now() >= deadline => {
                conn.forget(message_id);
                return Ok(Waited::TimedOut);
            }
            Err(_) => {
                let renewed = renew(state, app, held).await;
                if !matches!(renewed, Ok(true)) {
                    conn.forget(message_id);
                }
                if !renewed? {
                    return Ok(Waited::LeaseLost);
                }
            }
        }
    }
}
