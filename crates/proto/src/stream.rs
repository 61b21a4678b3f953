//! Stream mode: DingTalk's WebSocket gateway for events and callbacks (docs/wire/stream.md).
//!
//! An app opens a connection with its key and secret (`POST /v1.0/gateway/connections/open`),
//! gets an endpoint and a single-use ticket, and connects a WebSocket to `endpoint?ticket=…`.
//! Every frame either way is one JSON text message: the server sends [`Frame`]s, the client
//! answers each with an [`Ack`] naming the frame's `messageId`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Paths of the Stream gateway.
pub mod path {
    /// `POST /v1.0/gateway/connections/open`: credentials and subscriptions in, endpoint and
    /// ticket out (dingtalk-stream-sdk-python `stream.py` `OPEN_CONNECTION_API`).
    pub const OPEN_CONNECTION: &str = "/v1.0/gateway/connections/open";
    /// The WebSocket endpoint's path, as DingTalk's own endpoint ends
    /// (`wss://wss-open-connection.dingtalk.com:443/connect`).
    pub const CONNECT: &str = "/connect";
}

/// Frame types (`type`), as the SDKs route them.
pub mod kind {
    /// Connection life: `ping`, `disconnect` (and `CONNECTED`, `REGISTERED`, `KEEPALIVE`, which
    /// the Node SDK also reads).
    pub const SYSTEM: &str = "SYSTEM";
    /// An event from an `EVENT` subscription (topic `*`).
    pub const EVENT: &str = "EVENT";
    /// A callback from a `CALLBACK` subscription (a bot message, a card action).
    pub const CALLBACK: &str = "CALLBACK";
}

/// SYSTEM topics.
pub mod topic {
    /// The server's liveness probe; the client echoes its `data` (`{"opaque": …}`).
    pub const PING: &str = "ping";
    /// The server announces it will close the connection (`{"reason": …}`).
    pub const DISCONNECT: &str = "disconnect";
    /// The topic of the catch-all EVENT subscription.
    pub const ALL_EVENTS: &str = "*";
    /// The CALLBACK topic of the messages people send a bot (dingtalk-stream-sdk-python
    /// `chatbot.py` `ChatbotMessage.TOPIC`).
    pub const BOT_MESSAGES: &str = "/v1.0/im/bot/messages/get";
}

/// Header names the SDKs read (dingtalk-stream-sdk-python `frames.py` `Headers.from_dict`,
/// dingtalk-stream-sdk-java `EventHeaders`).
pub mod header {
    /// Which app the frame is for.
    pub const APP_ID: &str = "appId";
    /// The connection it was sent on.
    pub const CONNECTION_ID: &str = "connectionId";
    /// Always `application/json`.
    pub const CONTENT_TYPE: &str = "contentType";
    /// What the client's ack names.
    pub const MESSAGE_ID: &str = "messageId";
    /// The frame's topic.
    pub const TOPIC: &str = "topic";
    /// When it was sent, epoch milliseconds as a string.
    pub const TIME: &str = "time";
    /// The event's stable id: the same on every redelivery.
    pub const EVENT_ID: &str = "eventId";
    /// When the event happened, epoch milliseconds as a string.
    pub const EVENT_BORN_TIME: &str = "eventBornTime";
    /// The corp the event happened in.
    pub const EVENT_CORP_ID: &str = "eventCorpId";
    /// The event type, the HTTP callback's `EventType` (`user_add_org`, ...).
    pub const EVENT_TYPE: &str = "eventType";
    /// The app's unified id.
    pub const EVENT_UNIFIED_APP_ID: &str = "eventUnifiedAppId";
}

/// The only content type frames carry.
pub const JSON: &str = "application/json";
/// The protocol version the frames carry.
pub const SPEC_VERSION: &str = "1.0";

/// What a subscription asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// `EVENT` or `CALLBACK`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `*` for events, a callback's topic (`/v1.0/im/bot/messages/get`) otherwise.
    #[serde(default)]
    pub topic: String,
}

/// `POST /v1.0/gateway/connections/open`'s body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenConnectionRequest {
    /// The app key.
    pub client_id: Option<String>,
    /// The app secret.
    pub client_secret: Option<String>,
    /// What the connection will receive.
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    /// The SDK's name and version.
    pub ua: Option<String>,
    /// The client's own address, as it sees it.
    pub local_ip: Option<String>,
}

/// Its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenConnectionResponse {
    /// The WebSocket URL to connect to, without the ticket.
    pub endpoint: String,
    /// The single-use ticket, passed as `?ticket=`.
    pub ticket: String,
}

/// A frame from the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frame {
    /// [`SPEC_VERSION`].
    pub spec_version: String,
    /// One of [`kind`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Every value a string, as the SDKs parse them.
    pub headers: BTreeMap<String, String>,
    /// The payload: a JSON document in a string.
    pub data: String,
}

/// A client's answer to a frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// 200 when handled; the SDKs send 404 for a topic with no handler and 500 for a handler's
    /// exception.
    #[serde(default)]
    pub code: i64,
    /// `messageId` names the frame answered; the Node SDK echoes every header of a ping.
    #[serde(default)]
    pub headers: BTreeMap<String, serde_json::Value>,
    /// Free text (`OK`).
    #[serde(default)]
    pub message: Option<String>,
    /// A JSON document in a string: for an event, `{"status": "SUCCESS"|"LATER", "message": …}`.
    #[serde(default)]
    pub data: Option<String>,
}

/// An event ack's `data` (dingtalk-stream-sdk-java `AckPayload`, Node `EventAck`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAckData {
    /// `SUCCESS` or `LATER`.
    #[serde(default)]
    pub status: Option<String>,
    /// Why, for a `LATER`.
    #[serde(default)]
    pub message: Option<String>,
}

/// Event ack statuses.
pub mod status {
    /// Handled: do not send it again.
    pub const SUCCESS: &str = "SUCCESS";
    /// Not handled now: send it again later.
    pub const LATER: &str = "LATER";
}
