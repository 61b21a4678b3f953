//! One WebSocket connection: frames out from the deliverer and the ping timer, acks in, and the
//! admin API's close, drop and zombie orders.

use super::{Conn, Out, deliver};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use dingdir_core::stream::system_frame;
use dingdir_proto::stream::{Ack, header, topic};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// Pings not yet answered that are remembered; older ones are forgotten.
const MAX_PINGS: usize = 16;

/// SYSTEM pings in a row left unanswered after which the connection is taken for dead and
/// dropped (a client gone without a FIN would otherwise hold its place for many minutes).
const UNANSWERED_PINGS: u32 = 3;

/// How long a zombie lasts when the admin API gives no period.
const ZOMBIE_MAX: Duration = Duration::from_secs(10 * 60);

/// Serves one connection until it closes, then forgets it.
pub(crate) async fn serve_socket(state: AppState, conn: Arc<Conn>, mut rx: UnboundedReceiver<Out>, mut ws: WebSocket) {
    tracing::info!(app = %conn.app.0, connection = %conn.id, "stream connection open");
    if conn.events {
        deliver::start(&state, &conn.app);
    }
    let every = state.settings.stream.ping_interval;
    let mut ping = tokio::time::interval_at(
        Instant::now() + every.max(Duration::from_millis(1)),
        every.max(Duration::from_millis(1)),
    );
    let mut pings: HashSet<String> = HashSet::new();
    let mut unanswered: u32 = 0;
    let mut zombie_end: Option<(Instant, bool)> = None;
    let far = || Instant::now() + Duration::from_secs(86_400 * 365);
    loop {
        let zombie = conn.zombie.load(Ordering::Relaxed);
        let end_at = zombie_end.map_or_else(far, |(at, _)| at);
        tokio::select! {
            msg = ws.recv(), if !zombie => match msg {
                Some(Ok(Message::Text(text))) => {
                    if on_text(&state, &conn, &mut pings, text.as_str()) {
                        unanswered = 0;
                    }
                }
                Some(Ok(Message::Close(_))) => {
                    finish(&mut ws).await;
                    break;
                }
                Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(Out::Frame(text)) => {
                    if !zombie && ws.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(notice)) => {
                    close(&state, &conn, &mut ws, &mut pings, notice).await;
                    break;
                }
                Some(Out::Drop) | None => break,
                Some(Out::Zombie { period, drop }) => {
                    tracing::info!(app = %conn.app.0, connection = %conn.id, ?period, "stream connection made a zombie");
                    zombie_end = Some((Instant::now() + period.unwrap_or(ZOMBIE_MAX).min(ZOMBIE_MAX), drop));
                }
            },
            _ = ping.tick(), if !zombie && !every.is_zero() => {
                if unanswered >= UNANSWERED_PINGS {
                    tracing::info!(app = %conn.app.0, connection = %conn.id, "no answer to {UNANSWERED_PINGS} pings; dropping the connection");
                    break;
                }
                unanswered += 1;
                let id = super::random_id();
                let frame = system_frame(topic::PING, &id, &serde_json::json!({ "opaque": super::random_id() }), state.service.now());
                if pings.len() >= MAX_PINGS {
                    pings.clear();
                }
                pings.insert(id);
                let text = serde_json::to_string(&frame).unwrap_or_default();
                if ws.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            () = tokio::time::sleep_until(end_at), if zombie_end.is_some() => {
                if zombie_end.is_some_and(|(_, drop)| !drop) && ws.send(closing(None)).await.is_ok() {
                    finish(&mut ws).await;
                }
                break;
            }
        }
    }
    state.stream.remove(&conn.id);
    tracing::info!(app = %conn.app.0, connection = %conn.id, "stream connection closed");
}

/// Reads one text frame from the client: an answer to a ping (then `true`), or an ack for a push.
fn on_text(state: &AppState, conn: &Arc<Conn>, pings: &mut HashSet<String>, text: &str) -> bool {
    let Ok(ack) = serde_json::from_str::<Ack>(text) else {
        tracing::debug!(connection = %conn.id, "ignoring a frame that is not an ack");
        return false;
    };
    let id = ack.headers.get(header::MESSAGE_ID).and_then(serde_json::Value::as_str);
    if id.is_some_and(|id| pings.remove(id)) {
        conn.pings_answered.fetch_add(1, Ordering::Relaxed);
        return true;
    }
    state.stream.acked(conn, ack);
    false
}

fn closing(reason: Option<&str>) -> Message {
    Message::Close(Some(CloseFrame {
        code: close_code::NORMAL,
        reason: reason.unwrap_or("").to_owned().into(),
    }))
}

/// Closes: with a notice, sends SYSTEM `disconnect` and waits up to the grace period for the
/// client to close (still reading its acks), then closes itself.
async fn close(
    state: &AppState,
    conn: &Arc<Conn>,
    ws: &mut WebSocket,
    pings: &mut HashSet<String>,
    notice: Option<String>,
) {
    if let Some(reason) = &notice {
        let frame = system_frame(
            topic::DISCONNECT,
            &super::random_id(),
            &serde_json::json!({ "reason": reason }),
            state.service.now(),
        );
        let text = serde_json::to_string(&frame).unwrap_or_default();
        if ws.send(Message::Text(text.into())).await.is_err() {
            return;
        }
        let grace = tokio::time::sleep(state.settings.stream.disconnect_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                () = &mut grace => break,
                msg = ws.recv() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        on_text(state, conn, pings, text.as_str());
                    }
                    Some(Ok(Message::Close(_))) => return finish(ws).await,
                    Some(Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    if ws.send(closing(notice.as_deref())).await.is_ok() {
        finish(ws).await;
    }
}

/// Completes a close handshake: reading flushes the reply to the client's close frame, or
/// waits for the client's reply to ours, for at most a second.
async fn finish(ws: &mut WebSocket) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(msg)) = ws.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
