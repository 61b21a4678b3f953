//! Stream mode's domain: where an app's event delivery over its WebSocket connections stands, the
//! frames an event becomes, and what an acknowledgement means. The facts, with sources, are in
//! docs/wire/stream.md.

use crate::callback::Attempt;
use crate::change::Change;
use crate::clock::Millis;
use dingdir_proto::ids::AppKey;
use dingdir_proto::stream::{self as wire, Ack, EventAckData, Frame, header};
use sha2::Digest;
use std::collections::BTreeMap;

/// Where one app's Stream delivery stands: the same bookkeeping as an HTTP callback's, with no
/// URL, since the app brings its own connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamCursor {
    /// The app.
    pub app_key: AppKey,
    /// The log's last entry when the app first connected for events: later entries are its events.
    pub registered_seq: i64,
    /// The last entry a connection acknowledged with success.
    pub delivered_seq: i64,
    /// Unacknowledged pushes of the next entry since the last success.
    pub failures: u32,
    /// When the next push may be made.
    pub next_attempt_at: Millis,
    /// Why the last push was not acknowledged, if it was not.
    pub last_error: Option<String>,
    /// The node delivering for this app, and until when its lease holds.
    pub lease: Option<(String, Millis)>,
}

/// One push to record: an [`Attempt`] (Stream's share the callback's shape).
pub type StreamAttempt = Attempt;

/// What a connection's answer to an event says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AckOutcome {
    /// Handled: move on.
    Success,
    /// `LATER`: send it again after a while.
    Later(String),
    /// A code other than 200 (the SDKs send 404 when no handler is registered and 500 when
    /// the handler raised): send it again after a while.
    Failed(String),
}

/// Reads an event's ack. A 200 whose `data` has no `status` (the Python SDK echoes the event's
/// data) is a success; `LATER` asks for the event again.
pub fn ack_outcome(ack: &Ack) -> AckOutcome {
    if ack.code != 200 {
        let why = ack.message.as_deref().unwrap_or("");
        return AckOutcome::Failed(
            format!("acknowledged with code {} {why}", ack.code)
                .trim_end()
                .to_owned(),
        );
    }
    let data: EventAckData = ack
        .data
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    match data.status.as_deref() {
        Some(wire::status::LATER) => AckOutcome::Later(match data.message {
            Some(m) if !m.is_empty() => format!("LATER: {m}"),
            _ => "LATER".to_owned(),
        }),
        _ => AckOutcome::Success,
    }
}

/// The event's stable id: the same on every redelivery and on every node, so an app can drop a
/// duplicate. 32 hex digits, the shape of DingTalk's.
pub fn event_id(seq: i64) -> String {
    let digest = sha2::Sha256::digest(format!("dingdir-event:{seq}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// An event's `data` in Stream mode, as each contact event's page documents it under
/// "Stream模式推送" (docs/wire/stream.md §4): `{"timeStamp": "<ms>", "userId": [...]}` for a
/// member, `{"deptId": [...]}` for a department. Not the HTTP callback's body.
pub fn event_data(change: &Change) -> String {
    let c = &change.change;
    if c.kind.is_department() {
        let id = c
            .subject
            .parse::<i64>()
            .map_or_else(|_| c.subject.clone().into(), serde_json::Value::from);
        serde_json::json!({ "deptId": [id] }).to_string()
    } else {
        serde_json::json!({ "timeStamp": change.at.to_string(), "userId": [c.subject] }).to_string()
    }
}

/// A frame of `kind` on `topic`: the headers every frame carries (the app and connection ones
/// when given), then `extra`.
fn frame(
    kind: &str,
    topic: &str,
    to: Option<(&AppKey, &str)>,
    message_id: &str,
    now: Millis,
    extra: &[(&str, String)],
    data: String,
) -> Frame {
    let mut headers = BTreeMap::new();
    if let Some((app, connection_id)) = to {
        headers.insert(header::APP_ID.to_owned(), app.0.clone());
        headers.insert(header::CONNECTION_ID.to_owned(), connection_id.to_owned());
    }
    headers.insert(header::CONTENT_TYPE.to_owned(), wire::JSON.to_owned());
    headers.insert(header::MESSAGE_ID.to_owned(), message_id.to_owned());
    headers.insert(header::TOPIC.to_owned(), topic.to_owned());
    headers.insert(header::TIME.to_owned(), now.to_string());
    for (name, value) in extra {
        headers.insert((*name).to_owned(), value.clone());
    }
    Frame {
        spec_version: wire::SPEC_VERSION.to_owned(),
        kind: kind.to_owned(),
        headers,
        data,
    }
}

/// The EVENT frame that carries `change` to `app` on `connection` as push `message_id`.
pub fn event_frame(change: &Change, app: &AppKey, message_id: &str, connection_id: &str, now: Millis) -> Frame {
    let c = &change.change;
    let extra = [
        (header::EVENT_ID, event_id(change.seq)),
        (header::EVENT_BORN_TIME, change.at.to_string()),
        (header::EVENT_CORP_ID, c.corp_id.0.clone()),
        (header::EVENT_TYPE, c.kind.event_type().to_owned()),
        (header::EVENT_UNIFIED_APP_ID, app.0.clone()),
    ];
    let to = Some((app, connection_id));
    frame(
        wire::kind::EVENT,
        wire::topic::ALL_EVENTS,
        to,
        message_id,
        now,
        &extra,
        event_data(change),
    )
}

/// A CALLBACK frame on `topic` (a bot message: `/v1.0/im/bot/messages/get`) to `app`.
pub fn callback_frame(
    topic: &str,
    app: &AppKey,
    message_id: &str,
    connection_id: &str,
    data: &serde_json::Value,
    now: Millis,
) -> Frame {
    let to = Some((app, connection_id));
    frame(wire::kind::CALLBACK, topic, to, message_id, now, &[], data.to_string())
}

/// A SYSTEM frame on `topic` with `data`.
pub fn system_frame(topic: &str, message_id: &str, data: &serde_json::Value, now: Millis) -> Frame {
    frame(wire::kind::SYSTEM, topic, None, message_id, now, &[], data.to_string())
}

/// The most subscriptions one connection takes.
pub const MAX_SUBSCRIPTIONS: usize = 32;

/// Whether a subscription list asks for events, and whether every entry is one the gateway
/// knows: `EVENT` with topic `*`, or `CALLBACK` with a non-empty topic. The error names the
/// first that is not.
pub fn check_subscriptions(subs: &[wire::Subscription]) -> Result<bool, String> {
    if subs.is_empty() {
        return Err("subscriptions is empty".to_owned());
    }
    if subs.len() > MAX_SUBSCRIPTIONS {
        return Err(format!("at most {MAX_SUBSCRIPTIONS} subscriptions"));
    }
    let mut events = false;
    for (i, s) in subs.iter().enumerate() {
        match s.kind.as_str() {
            wire::kind::EVENT if s.topic == wire::topic::ALL_EVENTS => events = true,
            wire::kind::EVENT => {
                return Err(format!(
                    "subscriptions[{i}]: an EVENT subscription's topic must be \"*\""
                ));
            }
            wire::kind::CALLBACK if !s.topic.is_empty() && s.topic.len() <= 256 => {}
            wire::kind::CALLBACK => return Err(format!("subscriptions[{i}]: a CALLBACK subscription needs a topic")),
            other => {
                return Err(format!(
                    "subscriptions[{i}]: type {:?} is not EVENT or CALLBACK",
                    other.chars().take(32).collect::<String>()
                ));
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(code: i64, data: Option<&str>) -> Ack {
        Ack {
            code,
            data: data.map(str::to_owned),
            ..Ack::default()
        }
    }

    #[test]
    fn acks_read_as_the_sdks_send_them() {
        // Node's EventAck.SUCCESS, Python's echo of the event's data, Node's LATER, Python's 404.
        assert_eq!(
            ack_outcome(&ack(200, Some(r#"{"status":"SUCCESS"}"#))),
            AckOutcome::Success
        );
        assert_eq!(
            ack_outcome(&ack(200, Some(r#"{"EventType":"user_add_org"}"#))),
            AckOutcome::Success
        );
        assert_eq!(ack_outcome(&ack(200, None)), AckOutcome::Success);
        assert_eq!(
            ack_outcome(&ack(200, Some(r#"{"status":"LATER","message":"db down"}"#))),
            AckOutcome::Later("LATER: db down".to_owned())
        );
        assert!(matches!(ack_outcome(&ack(404, Some("{}"))), AckOutcome::Failed(m) if m.contains("404")));
    }

    #[test]
    fn event_ids_are_stable_and_distinct() {
        assert_eq!(event_id(7), event_id(7));
        assert_ne!(event_id(7), event_id(8));
        assert_eq!(event_id(7).len(), 32);
    }

    #[test]
    fn subscriptions_are_checked() {
        let sub = |kind: &str, topic: &str| wire::Subscription {
            kind: kind.to_owned(),
            topic: topic.to_owned(),
        };
        assert_eq!(check_subscriptions(&[sub("EVENT", "*")]), Ok(true));
        assert_eq!(
            check_subscriptions(&[sub("CALLBACK", "/v1.0/im/bot/messages/get")]),
            Ok(false)
        );
        assert!(check_subscriptions(&[]).is_err());
        assert!(check_subscriptions(&[sub("EVENT", "user_add_org")]).is_err());
        assert!(check_subscriptions(&[sub("PUSH", "*")]).is_err());
    }
}
