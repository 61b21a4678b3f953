//! The custom group robot (自定义机器人): a webhook that posts into one group chat, guarded by
//! the security settings DingTalk offers (a signature, keywords, IP ranges) and a per-minute
//! limit. Each message it takes lands in the inbox, where a test reads it. The facts, with
//! sources, are in docs/wire/robots.md §A.

use crate::clock::Millis;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dingdir_proto::ids::CorpId;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::net::Ipv4Addr;

/// One custom group robot, as a group's admin adds it in the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRobot {
    /// The webhook's `access_token`.
    pub token: String,
    /// The corp of the group.
    pub corp_id: CorpId,
    /// The robot's name.
    pub name: String,
    /// The group chat it posts into: the inbox's conversation.
    pub group: String,
    /// The signing secret (`SEC…`), when signing is on.
    pub secret: Option<String>,
    /// Up to 10 keywords, one of which every message must contain, when keywords are on.
    pub keywords: Vec<String>,
    /// IPv4 addresses or CIDR ranges a sender must come from, when the IP check is on.
    pub ip_ranges: Vec<String>,
    /// Until when it refuses every message after going over its per-minute limit.
    pub blocked_until: Millis,
}

/// Messages one robot takes per minute (docs/wire/robots.md §A3).
pub const PER_MINUTE: u64 = 20;
/// How long a robot refuses everything once over [`PER_MINUTE`].
pub const BLOCK_MS: Millis = 10 * 60 * 1000;
/// How far a signed request's `timestamp` may be from the server's clock.
pub const SKEW_MS: Millis = 60 * 60 * 1000;
/// The largest body a robot takes, in bytes.
pub const MAX_BODY: usize = 20_000;
/// The most keywords a robot has.
pub const MAX_KEYWORDS: usize = 10;
/// The most people one message may @.
pub const MAX_AT: usize = 50;

/// Why a robot refused a message: each is DingTalk's errcode and errmsg (docs/wire/robots.md §A3).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RobotRefusal {
    /// No robot has this `access_token`.
    #[error("token is not exist")]
    UnknownToken,
    /// The signature is missing or does not match.
    #[error("sign not match")]
    SignMismatch,
    /// The signed `timestamp` is not milliseconds within an hour of now.
    #[error("invalid timestamp")]
    BadTimestamp,
    /// The message contains none of the robot's keywords.
    #[error("keywords not in content")]
    NoKeyword,
    /// The sender's address is outside the robot's IP ranges.
    #[error("ip not in whitelist")]
    IpNotAllowed,
    /// Over [`PER_MINUTE`], or within the [`BLOCK_MS`] after.
    #[error("send too fast")]
    TooFast,
    /// The body is not a JSON object.
    #[error("missing parameter json")]
    NotJson,
    /// The body is over [`MAX_BODY`].
    #[error("body too large")]
    TooLarge,
    /// A `Content-Type` that is not JSON.
    #[error("content type is not JSON")]
    BadContentType,
    /// `msgtype` names no type a webhook takes.
    #[error("unsupported msgtype")]
    UnknownType,
    /// A required field is missing or empty: `type --》 field`.
    #[error("missing {0}")]
    Missing(String),
    /// A session webhook that does not exist or expired.
    #[error("session does not exist")]
    SessionGone,
}

impl RobotRefusal {
    /// The errcode and errmsg DingTalk answers, in its current `description:…;solution:…;` form
    /// where a capture shows that form, the older English one otherwise.
    pub fn wire(&self) -> (i64, String) {
        const MORE: &str = ", more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]";
        match self {
            Self::UnknownToken => (300_001, "token is not exist".to_owned()),
            Self::SignMismatch => (
                310_000,
                "description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;".to_owned(),
            ),
            Self::BadTimestamp => (310_000, format!("invalid timestamp{MORE}")),
            Self::NoKeyword => (
                310_000,
                "description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;".to_owned(),
            ),
            Self::IpNotAllowed => (
                310_000,
                "description:ip 不在白名单中;solution:请联系对应群的管理员，设置机器人安全ip地址段".to_owned(),
            ),
            Self::TooFast => (410_100, "send too fast, exceed 20 times per minute".to_owned()),
            Self::NotJson => (40_035, "缺少参数 json".to_owned()),
            Self::TooLarge => (
                460_101,
                "description: body 大小不合法;solution:请保持大小在 20000bytes 以内;".to_owned(),
            ),
            Self::UnknownType => (400_105, "不支持的消息类型".to_owned()),
            Self::BadContentType => (43_004, "无效的HTTP HEADER Content-Type".to_owned()),
            Self::SessionGone => (300_001, "session 不存在".to_owned()),
            Self::Missing(field) => (
                400_402,
                format!(
                    "错误描述:参数 {field} 缺失，或者参数格式不正确; 解决方案:请填充上对应参数;参考链接:请参考本接口对应文档查看参数获取方式，或者在https://open.dingtalk.com/document/  搜索对应文档;"
                ),
            ),
        }
    }
}

/// DingTalk's robot signature: base64 of HMAC-SHA256 over `timestamp + "\n" + secret`, keyed
/// with the secret (sent URL-encoded; this is the decoded form).
pub fn sign(secret: &str, timestamp: &str) -> String {
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp}\n{secret}").as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// Checks a signed request: the `timestamp` within [`SKEW_MS`] of `now` and the `sign` right.
pub fn check_sign(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    now: Millis,
) -> Result<(), RobotRefusal> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(RobotRefusal::SignMismatch);
    };
    let at: Millis = timestamp.parse().map_err(|_| RobotRefusal::BadTimestamp)?;
    if at.abs_diff(now) > SKEW_MS.unsigned_abs() {
        return Err(RobotRefusal::BadTimestamp);
    }
    let want = sign(secret, timestamp);
    if crate::secret::same(want.as_bytes(), signature.as_bytes()) {
        Ok(())
    } else {
        Err(RobotRefusal::SignMismatch)
    }
}

/// Whether `ip` is one of `ranges` (IPv4 addresses or CIDR ranges).
pub fn ip_allowed(ranges: &[String], ip: Option<Ipv4Addr>) -> bool {
    let Some(ip) = ip else { return false };
    ranges.iter().any(|r| match parse_range(r) {
        Some((net, bits)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        None => false,
    })
}

/// An IPv4 address or CIDR range; `None` if it is neither.
pub fn parse_range(range: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, bits) = match range.split_once('/') {
        Some((a, b)) => (a, b.parse::<u8>().ok().filter(|b| *b <= 32)?),
        None => (range, 32),
    };
    Some((addr.parse().ok()?, bits))
}

/// A message as the robot took it: its type, the object for that type, and whom it @s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RobotMessage {
    /// `text`, `markdown`, `link`, `actionCard` or `feedCard`.
    pub msgtype: String,
    /// The type's object, as sent.
    pub content: Value,
    /// The `at` object, as sent (text and markdown only).
    pub at: Option<Value>,
}

fn text_field(obj: &Value, msgtype: &str, field: &str) -> Result<(), RobotRefusal> {
    match obj.get(field).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(()),
        _ => Err(RobotRefusal::Missing(format!("{msgtype} --》 {field}"))),
    }
}

/// Reads and checks a webhook body: a JSON object with a `msgtype` a webhook takes and that
/// type's required fields.
pub fn parse_message(body: &[u8]) -> Result<RobotMessage, RobotRefusal> {
    if body.len() > MAX_BODY {
        return Err(RobotRefusal::TooLarge);
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| RobotRefusal::NotJson)?;
    let Some(map) = v.as_object() else {
        return Err(RobotRefusal::NotJson);
    };
    let msgtype = map.get("msgtype").and_then(Value::as_str).unwrap_or_default();
    let content = map.get(msgtype).cloned().unwrap_or(Value::Null);
    if !content.is_object() && matches!(msgtype, "text" | "markdown" | "link" | "actionCard" | "feedCard") {
        return Err(RobotRefusal::Missing(msgtype.to_owned()));
    }
    match msgtype {
        "text" => text_field(&content, msgtype, "content")?,
        "markdown" => {
            text_field(&content, msgtype, "title")?;
            text_field(&content, msgtype, "text")?;
        }
        "link" => {
            for f in ["title", "text", "messageUrl"] {
                text_field(&content, msgtype, f)?;
            }
        }
        "actionCard" => {
            text_field(&content, msgtype, "title")?;
            text_field(&content, msgtype, "text")?;
            let single = content
                .get("singleTitle")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            if single {
                text_field(&content, msgtype, "singleURL")?;
            } else {
                let btns = content.get("btns").and_then(Value::as_array).filter(|b| !b.is_empty());
                let btns = btns.ok_or_else(|| RobotRefusal::Missing("actionCard --》 btns".to_owned()))?;
                for b in btns {
                    text_field(b, "actionCard --》 btns", "title")?;
                    text_field(b, "actionCard --》 btns", "actionURL")?;
                }
            }
        }
        "feedCard" => {
            let links = content.get("links").and_then(Value::as_array).filter(|l| !l.is_empty());
            let links = links.ok_or_else(|| RobotRefusal::Missing("feedCard --》 links".to_owned()))?;
            for l in links {
                text_field(l, "feedCard --》 links", "title")?;
                text_field(l, "feedCard --》 links", "messageURL")?;
            }
        }
        _ => return Err(RobotRefusal::UnknownType),
    }
    let at = matches!(msgtype, "text" | "markdown")
        .then(|| map.get("at").cloned())
        .flatten()
        .filter(Value::is_object);
    if let Some(at) = &at {
        let count = ["atMobiles", "atUserIds"]
            .iter()
            .filter_map(|k| at.get(*k).and_then(Value::as_array))
            .map(Vec::len)
            .sum::<usize>();
        if count > MAX_AT {
            return Err(RobotRefusal::Missing(format!("at --》 at most {MAX_AT} people")));
        }
    }
    Ok(RobotMessage {
        msgtype: msgtype.to_owned(),
        content,
        at,
    })
}

/// Every text a keyword may be found in: each string in the message's object, nested ones too.
fn texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        Value::Object(o) => o.values().for_each(|x| texts(x, out)),
        _ => {}
    }
}

/// Whether the message contains one of `keywords` (**guess**: in any text of its object).
pub fn has_keyword(keywords: &[String], message: &RobotMessage) -> bool {
    let mut all = Vec::new();
    texts(&message.content, &mut all);
    keywords.iter().any(|k| all.iter().any(|t| t.contains(k.as_str())))
}

/// Checks a robot's settings as the admin API or a seed gives them; the error names the field.
pub fn check_settings(robot: &WebhookRobot) -> Result<(), String> {
    let token_ok = !robot.token.is_empty()
        && robot.token.len() <= 128
        && robot
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !token_ok {
        return Err("token: 1 to 128 letters, digits, '-' or '_'".to_owned());
    }
    if robot.name.trim().is_empty() || robot.group.trim().is_empty() {
        return Err("name and group must not be empty".to_owned());
    }
    if robot.secret.as_deref().is_some_and(|s| s.is_empty() || s.len() > 256) {
        return Err("secret: 1 to 256 characters (DingTalk's start with SEC)".to_owned());
    }
    if robot.keywords.len() > MAX_KEYWORDS || robot.keywords.iter().any(|k| k.trim().is_empty()) {
        return Err(format!("keywords: at most {MAX_KEYWORDS}, none empty"));
    }
    if let Some(bad) = robot.ip_ranges.iter().find(|r| parse_range(r).is_none()) {
        return Err(format!("ip_ranges: {bad:?} is not an IPv4 address or CIDR range"));
    }
    if robot.secret.is_none() && robot.keywords.is_empty() && robot.ip_ranges.is_empty() {
        return Err("a robot needs at least one security setting: secret, keywords or ip_ranges".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_dingtalks() {
        // HMAC-SHA256("SECtest", "1700000000000\nSECtest"), base64: computed independently with
        // Python's hmac module, as DingtalkChatbot signs.
        assert_eq!(
            sign("SECtest", "1700000000000"),
            "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="
        );
        let now = 1_700_000_000_000;
        let good = sign("SECtest", "1700000000000");
        assert_eq!(check_sign("SECtest", Some("1700000000000"), Some(&good), now), Ok(()));
        assert_eq!(
            check_sign("SECtest", Some("1700000000000"), Some("x"), now),
            Err(RobotRefusal::SignMismatch)
        );
        assert_eq!(
            check_sign("SECtest", None, Some(&good), now),
            Err(RobotRefusal::SignMismatch)
        );
        let late = now + SKEW_MS + 1;
        assert_eq!(
            check_sign("SECtest", Some("1700000000000"), Some(&good), late),
            Err(RobotRefusal::BadTimestamp)
        );
        assert_eq!(
            check_sign("SECtest", Some("soon"), Some(&good), now),
            Err(RobotRefusal::BadTimestamp)
        );
    }

    #[test]
    fn messages_need_their_types_fields() {
        let ok = |b: &str| parse_message(b.as_bytes());
        assert_eq!(
            ok(r#"{"msgtype":"text","text":{"content":"hi"}}"#).unwrap().msgtype,
            "text"
        );
        assert_eq!(ok("{nope"), Err(RobotRefusal::NotJson));
        assert_eq!(ok(r#"{"msgtype":"image","image":{}}"#), Err(RobotRefusal::UnknownType));
        assert_eq!(ok(r#"{"text":{"content":"hi"}}"#), Err(RobotRefusal::UnknownType));
        assert_eq!(
            ok(r#"{"msgtype":"markdown","markdown":{"text":"x"}}"#),
            Err(RobotRefusal::Missing("markdown --》 title".to_owned()))
        );
        assert!(ok(r#"{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","btns":[{"title":"a","actionURL":"u"}]}}"#).is_ok());
        assert!(ok(r#"{"msgtype":"feedCard","feedCard":{"links":[]}}"#).is_err());
        assert_eq!(
            ok(&format!(
                r#"{{"msgtype":"text","text":{{"content":"{}"}}}}"#,
                "x".repeat(MAX_BODY)
            )),
            Err(RobotRefusal::TooLarge)
        );
    }

    #[test]
    fn keywords_and_ip_ranges() {
        let m = parse_message(
            r#"{"msgtype":"link","link":{"title":"Build 7","text":"failed","messageUrl":"u"}}"#.as_bytes(),
        )
        .unwrap();
        assert!(has_keyword(&["failed".to_owned()], &m));
        assert!(!has_keyword(&["alert".to_owned()], &m));
        let ranges = vec!["10.0.0.0/8".to_owned(), "192.168.1.7".to_owned()];
        assert!(ip_allowed(&ranges, Some(Ipv4Addr::new(10, 2, 3, 4))));
        assert!(ip_allowed(&ranges, Some(Ipv4Addr::new(192, 168, 1, 7))));
        assert!(!ip_allowed(&ranges, Some(Ipv4Addr::new(192, 168, 1, 8))));
        assert!(!ip_allowed(&ranges, None));
    }
}

/// One message in the inbox: what a robot (or, later, an app) sent into a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxEntry {
    /// Its position in the inbox: increasing, never reused.
    pub seq: i64,
    /// When it was taken.
    pub at: Millis,
    /// The corp of the conversation.
    pub corp_id: CorpId,
    /// The conversation: a group's name.
    pub conversation: String,
    /// Who sent it: `webhook_robot`.
    pub sender_kind: String,
    /// The sender: the robot's name.
    pub sender: String,
    /// The robot's token (or the app key), so a test can tell two robots of a group apart.
    pub sender_id: String,
    /// The message as taken.
    pub message: RobotMessage,
    /// The person a one-to-one message (an app robot's, a work notification) went to.
    pub person: Option<dingdir_proto::ids::UserId>,
    /// The send it belongs to: an app robot's `processQueryKey`, a work notification's
    /// `task_id`, or empty.
    pub task: String,
    /// When its person read it, if they did.
    pub read_at: Option<Millis>,
    /// When it was recalled, if it was.
    pub recalled_at: Option<Millis>,
}

/// What `GET /_dingdir/inbox` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboxQuery {
    /// Only this conversation.
    pub conversation: Option<String>,
    /// Only this sender id (robot token or app key).
    pub sender_id: Option<String>,
    /// Only what this person (a userid) was sent one to one, or said.
    pub person: Option<String>,
    /// Only the messages of this send (a `processQueryKey` or a work notification's task id).
    pub task: Option<String>,
    /// Entries after this position.
    pub after: i64,
    /// At most this many.
    pub limit: u64,
}

/// A webhook call as the HTTP edge read it.
#[derive(Clone, Debug, Default)]
pub struct WebhookCall<'a> {
    /// `?access_token=`.
    pub token: Option<&'a str>,
    /// `?timestamp=`.
    pub timestamp: Option<&'a str>,
    /// `?sign=`, URL-decoded.
    pub sign: Option<&'a str>,
    /// The sender's IPv4 address, when it has one.
    pub peer: Option<Ipv4Addr>,
    /// The body.
    pub body: &'a [u8],
}

/// What a webhook call ended in: a refusal the robot answers, or the store failing.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The robot's answer.
    #[error(transparent)]
    Refused(#[from] RobotRefusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

pub use crate::group::SetupError;

impl crate::Service {
    /// Takes one message through a custom robot's webhook, as DingTalk does: the token, then
    /// the body, then each security setting that is on, then the per-minute limit; the message
    /// lands in the inbox (keeping the newest `keep`). Answers its inbox position.
    pub async fn send_by_webhook(&self, call: &WebhookCall<'_>, keep: u64) -> Result<i64, SendError> {
        let token = call.token.filter(|t| !t.is_empty()).ok_or(RobotRefusal::UnknownToken)?;
        let robot = self.store().robot(token).await?.ok_or(RobotRefusal::UnknownToken)?;
        let now = self.now();
        let message = parse_message(call.body)?;
        if let Some(secret) = &robot.secret {
            check_sign(secret, call.timestamp, call.sign, now)?;
        }
        if !robot.ip_ranges.is_empty() && !ip_allowed(&robot.ip_ranges, call.peer) {
            return Err(RobotRefusal::IpNotAllowed.into());
        }
        if !robot.keywords.is_empty() && !has_keyword(&robot.keywords, &message) {
            return Err(RobotRefusal::NoKeyword.into());
        }
        if robot.blocked_until > now {
            return Err(RobotRefusal::TooFast.into());
        }
        // Fixed minute windows (**guess**, docs/wire/robots.md §A3), counted in the store so the
        // limit holds across nodes.
        let start = now.div_euclid(60_000) * 60_000;
        let end = start + 60_000;
        let count = self.store().hit_window(&format!("robot|{token}|{start}"), end).await?;
        if count > PER_MINUTE {
            self.store().block_robot(token, now.saturating_add(BLOCK_MS)).await?;
            return Err(RobotRefusal::TooFast.into());
        }
        let entry = InboxEntry {
            seq: 0,
            at: now,
            corp_id: robot.corp_id.clone(),
            conversation: robot.group.clone(),
            sender_kind: "webhook_robot".to_owned(),
            sender: robot.name.clone(),
            sender_id: robot.token.clone(),
            message,
            person: None,
            task: String::new(),
            read_at: None,
            recalled_at: None,
        };
        let seq = self.keep_message(&entry, keep).await?;
        Ok(seq)
    }

    /// Creates or replaces a custom robot, after checking its settings and that its corp exists.
    pub async fn put_robot(&self, robot: &WebhookRobot) -> Result<(), SetupError> {
        check_settings(robot).map_err(SetupError::Invalid)?;
        if self.store().corp(&robot.corp_id).await?.is_none() {
            return Err(SetupError::Invalid(format!(
                "corp_id {:?} does not exist",
                robot.corp_id.0
            )));
        }
        Ok(self.store().put_robot(robot).await?)
    }
}

/// A chatbot session: the webhook a bot answers one message through, as the app, into that
/// message's conversation, until it expires (docs/wire/robots.md §B3: about 90 minutes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSession {
    /// The `?session=` of the session webhook.
    pub token: String,
    /// The bot's app.
    pub app_key: dingdir_proto::ids::AppKey,
    /// The corp of the conversation.
    pub corp_id: CorpId,
    /// The conversation the answers land in.
    pub conversation: String,
    /// When it stops working.
    pub expires_at: Millis,
}

/// How long a session webhook works after the message it came with.
pub const SESSION_MS: Millis = 90 * 60 * 1000;

/// A person's message to a bot, as the admin API takes it.
#[derive(Clone, Debug)]
pub struct ChatOrder {
    /// The bot's app (its `robotCode`).
    pub app_key: dingdir_proto::ids::AppKey,
    /// The corp the person writes in; defaults to the app's own (or first) corp.
    pub corp_id: Option<CorpId>,
    /// The person, by userid.
    pub from: dingdir_proto::ids::UserId,
    /// The group written in; `None` for the person's one-to-one chat with the bot.
    pub group: Option<String>,
    /// The text.
    pub text: String,
    /// Whether the message @s the bot (always so in a one-to-one chat).
    pub at_bot: bool,
    /// A file uploaded to the corp (`/media/upload`) the person sends instead of text: the
    /// bot gets a `picture`, `file`, `audio` or `video` message with its `downloadCode`.
    pub media_id: Option<String>,
}

/// A person's message made ready for the bot: its inbox entry and the data of the CALLBACK
/// frame, whose `sessionWebhook` is `{session_base}?session=…`.
#[derive(Clone, Debug)]
pub struct ChatPrepared {
    /// The inbox position of the person's message.
    pub seq: i64,
    /// The conversation, as the inbox names it.
    pub conversation: String,
    /// The frame's `data`: DingTalk's chatbot message (docs/wire/robots.md §B1).
    pub data: Value,
    /// The session webhook's token, which the bot's answers name.
    pub session: String,
}

/// Why a person's message could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// A field of the order, named.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl crate::Service {
    /// Makes a person's message to a bot: checks the person and the app, opens a session
    /// webhook for the answer, records the message in the inbox, and gives the chatbot message
    /// DingTalk sends the bot.
    pub async fn person_says(
        &self,
        order: &ChatOrder,
        session_base: &str,
        keep: u64,
    ) -> Result<ChatPrepared, ChatError> {
        let text = order.text.trim_end();
        if order.media_id.is_none() && (text.is_empty() || text.len() > MAX_BODY) {
            return Err(ChatError::Invalid(format!("text: 1 to {MAX_BODY} bytes")));
        }
        let app = self
            .store()
            .app(&order.app_key)
            .await?
            .ok_or_else(|| ChatError::Invalid(format!("no app {:?}", order.app_key.0)))?;
        let installed = app.installed_in();
        let corp = match &order.corp_id {
            Some(c) => c.clone(),
            None => installed
                .first()
                .cloned()
                .ok_or_else(|| ChatError::Invalid("the app is installed in no corp: give corp_id".to_owned()))?,
        };
        if !installed.contains(&corp) {
            return Err(ChatError::Invalid(format!("the app is not installed in {:?}", corp.0)));
        }
        let member = self
            .store()
            .member(&corp, &order.from)
            .await?
            .filter(|m| m.membership.status == crate::model::MemberStatus::Active)
            .ok_or_else(|| ChatError::Invalid(format!("no member {:?} in {:?}", order.from.0, corp.0)))?;
        let now = self.now();
        let (conversation, kind, at_bot) = match &order.group {
            Some(g) if !g.trim().is_empty() => (g.clone(), "2", order.at_bot),
            Some(_) => return Err(ChatError::Invalid("group must not be empty".to_owned())),
            None => (crate::group::single_conversation(&app.key, &order.from), "1", true),
        };
        if kind == "2" {
            self.join_chat(&corp, &conversation, &order.from, &app.key).await?;
        }
        let session = ChatSession {
            token: crate::secret::random_hex(16).map_err(|e| ChatError::Invalid(e.to_string()))?,
            app_key: app.key.clone(),
            corp_id: corp.clone(),
            conversation: conversation.clone(),
            expires_at: now.saturating_add(SESSION_MS),
        };
        // A file: the message type and content the bot gets for its kind (§B1).
        let file = match &order.media_id {
            None => None,
            Some(id) => {
                let media = self
                    .store()
                    .media(id)
                    .await?
                    .filter(|m| m.corp_id == corp)
                    .ok_or_else(|| ChatError::Invalid(format!("no media {id:?} uploaded in {}", corp.0)))?;
                let code = crate::ident::download_code(&media.media_id);
                Some(match media.kind.as_str() {
                    "image" => ("picture", serde_json::json!({ "downloadCode": code })),
                    "voice" => (
                        "audio",
                        serde_json::json!({ "downloadCode": code, "duration": 0, "recognition": "" }),
                    ),
                    "video" => (
                        "video",
                        serde_json::json!({ "downloadCode": code, "duration": 0, "videoType": "mp4" }),
                    ),
                    _ => (
                        "file",
                        serde_json::json!({ "downloadCode": code, "fileName": media.file_name }),
                    ),
                })
            }
        };
        self.store().put_session(&session).await?;
        let name = member.membership.name.clone().unwrap_or_else(|| order.from.0.clone());
        let content = if at_bot && kind == "2" {
            format!(" {text}")
        } else {
            text.to_owned()
        };
        let entry = InboxEntry {
            seq: 0,
            at: now,
            corp_id: corp.clone(),
            conversation: conversation.clone(),
            sender_kind: "person".to_owned(),
            sender: name.clone(),
            sender_id: order.from.0.clone(),
            message: RobotMessage {
                msgtype: file.as_ref().map_or("text", |f| f.0).to_owned(),
                content: file
                    .as_ref()
                    .map_or_else(|| serde_json::json!({ "content": text }), |f| f.1.clone()),
                at: at_bot.then(|| serde_json::json!({ "atRobot": app.key.0 })),
            },
            person: crate::group::person_of(&conversation),
            task: String::new(),
            read_at: None,
            recalled_at: None,
        };
        let seq = self.keep_message(&entry, keep).await?;
        let conversation_id = crate::group::short_id("cid", &[&corp.0, &conversation], "==");
        let mut data = serde_json::json!({
            "conversationId": conversation_id,
            "conversationType": kind,
            "chatbotCorpId": corp.0,
            "chatbotUserId": crate::group::short_id("$:LWCP_v1:$", &["bot", &app.key.0], ""),
            "msgId": crate::group::short_id("msg", &[&seq.to_string(), &now.to_string()], "=="),
            "senderNick": name,
            "isAdmin": member.details.admin,
            "senderStaffId": order.from.0,
            "sessionWebhookExpiredTime": session.expires_at,
            "createAt": now,
            "senderCorpId": corp.0,
            "senderId": crate::group::short_id("$:LWCP_v1:$", &["person", &member.membership.person_id.0], ""),
            "isInAtList": at_bot,
            "sessionWebhook": format!("{session_base}?session={}", session.token),
            "text": { "content": content },
            "msgtype": "text",
            "robotCode": app.key.0,
        });
        if let Some((msgtype, content)) = file {
            if let Some(obj) = data.as_object_mut() {
                obj.remove("text");
                obj.insert("msgtype".to_owned(), Value::from(msgtype));
                obj.insert("content".to_owned(), content);
            }
        }
        if kind == "2" {
            data["conversationTitle"] = Value::from(conversation.clone());
            if at_bot {
                data["atUsers"] = serde_json::json!([{ "dingtalkId": data["chatbotUserId"].clone() }]);
            }
        }
        Ok(ChatPrepared {
            seq,
            conversation,
            data,
            session: session.token,
        })
    }

    /// Checks that a person writing in a group is in it with the bot; a group not yet known is
    /// made with the two of them, so a test can talk in a group it never seeded.
    async fn join_chat(
        &self,
        corp: &CorpId,
        name: &str,
        from: &dingdir_proto::ids::UserId,
        app: &dingdir_proto::ids::AppKey,
    ) -> Result<(), ChatError> {
        match self.store().group(corp, name).await? {
            Some(g) if !g.has_member(from) => Err(ChatError::Invalid(format!(
                "{:?} is not a member of group {name:?}",
                from.0
            ))),
            Some(g) if !g.has_bot(app) => Err(ChatError::Invalid(format!(
                "the robot of app {:?} is not in group {name:?}",
                app.0
            ))),
            Some(_) => Ok(()),
            None => {
                let group = crate::group::Group::new(
                    corp.clone(),
                    name.to_owned(),
                    None,
                    vec![from.clone()],
                    vec![app.clone()],
                );
                crate::group::check(&group).map_err(|why| ChatError::Invalid(format!("group: {why}")))?;
                Ok(self.store().put_group(&group).await?)
            }
        }
    }

    /// Takes a bot's answer through a session webhook into the session's conversation.
    pub async fn send_by_session(&self, token: Option<&str>, body: &[u8], keep: u64) -> Result<i64, SendError> {
        let token = token.filter(|t| !t.is_empty()).ok_or(RobotRefusal::SessionGone)?;
        let session = self
            .store()
            .session(token)
            .await?
            .filter(|s| s.expires_at > self.now())
            .ok_or(RobotRefusal::SessionGone)?;
        let message = parse_message(body)?;
        let app = self.store().app(&session.app_key).await?;
        let entry = InboxEntry {
            seq: 0,
            at: self.now(),
            corp_id: session.corp_id.clone(),
            conversation: session.conversation.clone(),
            sender_kind: "app_robot".to_owned(),
            sender: app.map_or_else(|| session.app_key.0.clone(), |a| a.name),
            sender_id: session.app_key.0.clone(),
            message,
            person: crate::group::person_of(&session.conversation),
            task: String::new(),
            read_at: None,
            recalled_at: None,
        };
        let seq = self.keep_message(&entry, keep).await?;
        Ok(seq)
    }
}
