//! App robots' sends on the new gateway (`/v1.0/robot/…`): one to one to people of the app's
//! corp, or into a group the robot was added to, with a message template; their read status and
//! recall (docs/wire/messages.md §A, and §D for what dingdir chose where DingTalk is silent).

use crate::clock::Millis;
use crate::group::{Group, single_conversation};
use crate::robot::{InboxEntry, InboxQuery, RobotMessage};
use crate::service::{Caller, Service};
use crate::{Error, StoreError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use dingdir_proto::message::{
    BatchSendOtoRequest, BatchSendOtoResponse, GroupSendRequest, GroupSendResponse, MessageReadInfo,
    ReadStatusResponse, RecallRequest, RecallResponse, SCOPE_ROBOT_SEND,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// The most people one batchSend reaches (the page's text; its error table says 100).
pub const MAX_USERS: usize = 20;
/// The longest `msgParam`, in bytes (groupMessages/send's documented bound, for both sends).
pub const MAX_PARAM: usize = 15_000;
/// The most keys one recall takes.
pub const MAX_RECALL: usize = 20;
/// How long a `processQueryKey` can be read or recalled.
pub const KEY_LIFE_MS: Millis = 24 * 60 * 60 * 1000;

/// A refusal in the new gateway's form: HTTP 400 with this `code` and `message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiRefusal {
    /// The code, e.g. `invalidParameter.msgKey.invalid`.
    pub code: &'static str,
    /// The message, in DingTalk's `错误描述: …;解决方案: …;` form.
    pub message: String,
}

/// Why an app-robot call failed: what every call can fail with, or this family's own refusal.
#[derive(Debug, thiserror::Error)]
pub enum AppRobotError {
    /// Token, permission, store.
    #[error(transparent)]
    Domain(#[from] Error),
    /// The endpoint's own refusal.
    #[error(transparent)]
    Refused(#[from] ApiRefusal),
}

impl From<StoreError> for AppRobotError {
    fn from(e: StoreError) -> Self {
        Self::Domain(e.into())
    }
}

fn refuse(code: &'static str, what: impl std::fmt::Display, fix: &str) -> AppRobotError {
    AppRobotError::Refused(ApiRefusal {
        code,
        message: format!("错误描述: {what};解决方案:{fix};"),
    })
}

/// A card's title and text.
const CARD_TEXT: &[(&str, &str)] = &[
    ("title", "miss.param.actionCardTotitle"),
    ("text", "miss.param.actionCardTotext"),
];

/// Each template's required fields, with the `miss.param.*` code a missing one answers.
const TEMPLATES: &[(&str, &[(&str, &str)])] = &[
    ("sampleText", &[("content", "miss.param.contentOfText")]),
    (
        "sampleMarkdown",
        &[
            ("title", "miss.param.markdownTotitle"),
            ("text", "miss.param.markdownTotext"),
        ],
    ),
    ("sampleImageMsg", &[("photoURL", "miss.param.photoTophotoUrl")]),
    (
        "sampleLink",
        &[
            ("text", "miss.param.textOfLink"),
            ("title", "miss.param.titleOfLink"),
            ("messageUrl", "miss.param.messageUrlOfLink"),
        ],
    ),
    (
        "sampleActionCard",
        &[
            ("title", "miss.param.actionCardTotitle"),
            ("text", "miss.param.actionCardTotext"),
            ("singleTitle", "miss.param.actionCardTosingleTitle"),
            ("singleURL", "miss.param.actionCardTosingleUrl"),
        ],
    ),
    ("sampleActionCard2", CARD_TEXT),
    ("sampleActionCard3", CARD_TEXT),
    ("sampleActionCard4", CARD_TEXT),
    ("sampleActionCard5", CARD_TEXT),
    (
        "sampleActionCard6",
        &[
            ("title", "miss.param.actionCardTotitle"),
            ("text", "miss.param.actionCardTotext"),
            ("buttonTitle1", "miss.param.actionCardTobtns"),
            ("buttonUrl1", "miss.param.actionCardTobtns"),
            ("buttonTitle2", "miss.param.actionCardTobtns"),
            ("buttonUrl2", "miss.param.actionCardTobtns"),
        ],
    ),
    (
        "sampleAudio",
        &[("mediaId", "miss.param.audio"), ("duration", "miss.param.audio")],
    ),
    (
        "sampleFile",
        &[
            ("mediaId", "miss.param.file"),
            ("fileName", "miss.param.file"),
            ("fileType", "miss.param.file"),
        ],
    ),
    (
        "sampleVideo",
        &[
            ("videoMediaId", "miss.param.video"),
            ("duration", "miss.param.video"),
            ("videoType", "miss.param.video"),
            ("picMediaId", "miss.param.video"),
        ],
    ),
];

/// Reads a template and its `msgParam`, checking what DingTalk checks: a known key, a JSON
/// object within [`MAX_PARAM`] bytes, and each required field present and not empty (a string
/// or a number). The message keeps the key as its `msgtype` and the object as its content.
pub fn parse_template(key: Option<&str>, param: Option<&str>) -> Result<RobotMessage, AppRobotError> {
    let key = key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| refuse("invalidParameter.msgKey.empty", "msgKey 为空", "请填写 msgKey"))?;
    let (_, fields) = TEMPLATES.iter().find(|(k, _)| *k == key).ok_or_else(|| {
        refuse(
            "invalidParameter.msgKey.invalid",
            format!("不支持类型 {key} "),
            "请使用支持的类型",
        )
    })?;
    let param = param
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| refuse("invalidParameter.msgParam.invalid", "msgParam 为空", "请填写 msgParam"))?;
    if param.len() > MAX_PARAM {
        return Err(refuse(
            "invalidParameter.msgParam.tooLong",
            format!("msgParam 超过 {MAX_PARAM} 字节"),
            "请缩短消息",
        ));
    }
    let content: Value = serde_json::from_str(param)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            refuse(
                "invalidParameter.msgParam.invalid",
                "msgParam 不是合法的JSON对象",
                "请传入JSON对象序列化后的字符串",
            )
        })?;
    // sampleActionCard2 to 5: that many vertical buttons, each a title and a URL.
    let buttons = key
        .strip_prefix("sampleActionCard")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (2..=5).contains(n))
        .unwrap_or(0);
    let button_fields = (1..=buttons)
        .flat_map(|i| [format!("actionTitle{i}"), format!("actionURL{i}")])
        .collect::<Vec<_>>();
    let required = fields.iter().map(|(f, c)| (*f, *c)).chain(
        button_fields
            .iter()
            .map(|f| (f.as_str(), "miss.param.actionCardTobtns")),
    );
    for (field, code) in required {
        let present = match content.get(field) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Number(_)) => true,
            _ => false,
        };
        if !present {
            return Err(refuse(code, format!("参数 {key} --》 {field} 缺失"), "请填写必填参数"));
        }
    }
    Ok(RobotMessage {
        msgtype: key.to_owned(),
        content,
        at: None,
    })
}

fn new_query_key() -> Result<String, AppRobotError> {
    let bytes = crate::secret::random_bytes(24).map_err(|e| Error::Store(StoreError::Other(e.into())))?;
    Ok(BASE64.encode(bytes))
}

impl Service {
    /// The corp an app-robot call acts in: an app token (not a user's) of an app installed in a
    /// corp, holding `qyapi_robot_sendmsg`.
    pub fn may_send_as_robot(caller: &Caller) -> Result<&CorpId, Error> {
        Self::may_read_directory(caller, SCOPE_ROBOT_SEND)
    }

    /// Checks a request's `robotCode`: the calling app's own (an app's robot code is its key).
    async fn own_robot(&self, caller: &Caller, code: Option<&str>) -> Result<(), AppRobotError> {
        let code = code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| refuse("invalidParameter.robotCode.empty", "robotCode 为空", "请填写 robotCode"))?;
        if code == caller.app.key.0 {
            return Ok(());
        }
        if self.store().app(&AppKey(code.to_owned())).await?.is_some() {
            return Err(refuse(
                "invalidParameter.robotCode.auth",
                "此应用appkey和机器人robotCode不匹配",
                "请使用机器人应用的appkey",
            ));
        }
        Err(refuse(
            "resource.not.found",
            "robot 不存在",
            "请确认 robotCode 是否正确",
        ))
    }

    fn robot_entry(
        caller: &Caller,
        corp: &CorpId,
        conversation: String,
        message: &RobotMessage,
        key: &str,
    ) -> InboxEntry {
        InboxEntry {
            seq: 0,
            at: 0,
            corp_id: corp.clone(),
            person: crate::group::person_of(&conversation),
            conversation,
            sender_kind: "app_robot".to_owned(),
            sender: caller.app.name.clone(),
            sender_id: caller.app.key.0.clone(),
            message: message.clone(),
            task: key.to_owned(),
            read_at: None,
            recalled_at: None,
        }
    }

    /// `POST /v1.0/robot/oToMessages/batchSend`: the message, one to one, to each active member
    /// of the caller's corp among `userIds`; the others come back as invalid (all of them
    /// invalid: `staffId.notExisted`). Each lands in the person's chat with the robot.
    pub async fn send_oto(
        &self,
        caller: &Caller,
        req: &BatchSendOtoRequest,
        keep: u64,
    ) -> Result<BatchSendOtoResponse, AppRobotError> {
        let corp = Self::may_send_as_robot(caller)?;
        self.own_robot(caller, req.robot_code.as_deref()).await?;
        let mut users: Vec<String> = req
            .user_ids
            .iter()
            .flatten()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        let mut seen = std::collections::HashSet::new();
        users.retain(|u| seen.insert(u.clone()));
        if users.is_empty() {
            return Err(refuse(
                "invalidParameter.userIds.empty",
                "userIds 为空",
                "请填写 userIds",
            ));
        }
        if users.len() > MAX_USERS {
            return Err(refuse(
                "invalidParameter.userIds.overMax",
                format!("userIds 超过 {MAX_USERS} 个"),
                "请分批发送",
            ));
        }
        let message = parse_template(req.msg_key.as_deref(), req.msg_param.as_deref())?;
        let mut invalid = Vec::new();
        let mut reached = Vec::new();
        for u in users {
            let uid = UserId(u);
            let active = self
                .store()
                .member(corp, &uid)
                .await?
                .is_some_and(|m| m.membership.status == crate::model::MemberStatus::Active);
            if active {
                reached.push(uid);
            } else {
                invalid.push(uid.0);
            }
        }
        if reached.is_empty() {
            return Err(refuse("staffId.notExisted", "staff 不存在", "请确认 userIds 是否正确"));
        }
        let key = new_query_key()?;
        let now = self.now();
        let entries: Vec<InboxEntry> = reached
            .iter()
            .map(|u| {
                let mut e = Self::robot_entry(caller, corp, single_conversation(&caller.app.key, u), &message, &key);
                e.at = now;
                e
            })
            .collect();
        self.keep_messages(&entries, keep).await?;
        Ok(BatchSendOtoResponse {
            process_query_key: key,
            invalid_staff_id_list: invalid,
            flow_controlled_staff_id_list: Vec::new(),
        })
    }

    /// The group an app-robot call names, checked: known, of the caller's corp, with the
    /// caller's robot in it.
    async fn robot_group(&self, caller: &Caller, corp: &CorpId, id: Option<&str>) -> Result<Group, AppRobotError> {
        let id = id.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
            refuse(
                "invalid.openConversationId",
                "openConversationId 为空",
                "请填写 openConversationId",
            )
        })?;
        let group = self.store().group_by_conversation(id).await?.ok_or_else(|| {
            refuse(
                "invalid.openConversationId",
                "openConversationId 不存在",
                "请确认 openConversationId 是否正确",
            )
        })?;
        if &group.corp_id != corp {
            return Err(refuse(
                "conversation.org.notMatch",
                "群所属组织与应用所属组织不一致",
                "请使用本组织的群",
            ));
        }
        if !group.has_bot(&caller.app.key) {
            return Err(refuse("resource.not.found", "robot 不存在", "请先将机器人添加到群中"));
        }
        Ok(group)
    }

    /// `POST /v1.0/robot/groupMessages/send`: the message into a group of the caller's corp the
    /// caller's robot is in.
    pub async fn send_to_group(
        &self,
        caller: &Caller,
        req: &GroupSendRequest,
        keep: u64,
    ) -> Result<GroupSendResponse, AppRobotError> {
        let corp = Self::may_send_as_robot(caller)?;
        self.own_robot(caller, req.robot_code.as_deref()).await?;
        let group = self
            .robot_group(caller, corp, req.open_conversation_id.as_deref())
            .await?;
        let message = parse_template(req.msg_key.as_deref(), req.msg_param.as_deref())?;
        let key = new_query_key()?;
        let mut entry = Self::robot_entry(caller, corp, group.name.clone(), &message, &key);
        entry.at = self.now();
        self.keep_message(&entry, keep).await?;
        Ok(GroupSendResponse { process_query_key: key })
    }

    /// The inbox entries of one of the caller's sends, while its key lives; `None` when the key
    /// names none of the caller's (or has expired).
    async fn own_send(&self, caller: &Caller, key: &str) -> Result<Option<Vec<InboxEntry>>, AppRobotError> {
        let entries = self
            .store()
            .messages(&InboxQuery {
                task: Some(key.to_owned()),
                limit: MAX_USERS as u64 * 10,
                ..InboxQuery::default()
            })
            .await?;
        let now = self.now();
        let own = !entries.is_empty()
            && entries
                .iter()
                .all(|e| e.sender_id == caller.app.key.0 && e.sender_kind == "app_robot" && e.at + KEY_LIFE_MS > now);
        Ok(own.then_some(entries))
    }

    /// `POST /v1.0/robot/messageFiles/download`: the file a person's message to the caller's
    /// bot carries, when its `downloadCode` names an upload of the caller's corp.
    pub async fn message_file(
        &self,
        caller: &Caller,
        req: &dingdir_proto::message::FileDownloadRequest,
    ) -> Result<crate::message::Media, AppRobotError> {
        let corp = Self::may_send_as_robot(caller)?;
        self.own_robot(caller, req.robot_code.as_deref()).await?;
        let bad = || {
            refuse(
                "invalidParameter.robotCode.downloadCode",
                "downloadCode 不合法或已过期",
                "请使用机器人收到的消息中的 downloadCode",
            )
        };
        let id = req
            .download_code
            .as_deref()
            .and_then(crate::ident::media_of_download_code)
            .ok_or_else(bad)?;
        let media = self.store().media(&id).await?.ok_or_else(bad)?;
        if &media.corp_id != corp {
            return Err(refuse(
                "invalidParameter.robotCode.auth",
                "downloadCode 属于其他组织",
                "请使用本组织机器人收到的 downloadCode",
            ));
        }
        Ok(media)
    }

    /// `GET /v1.0/robot/oToMessages/readStatus`: each receiver of a one-to-one send, read or not.
    pub async fn oto_read_status(
        &self,
        caller: &Caller,
        robot_code: Option<&str>,
        key: Option<&str>,
    ) -> Result<ReadStatusResponse, AppRobotError> {
        let corp = Self::may_send_as_robot(caller)?;
        self.own_robot(caller, robot_code).await?;
        let key = key.map(str::trim).filter(|k| !k.is_empty()).ok_or_else(|| {
            refuse(
                "invalidParameter.processQueryKey.missing",
                "processQueryKey 为空",
                "请填写 processQueryKey",
            )
        })?;
        let entries = self
            .own_send(caller, key)
            .await?
            .filter(|es| es.iter().all(|e| e.person.is_some()));
        let entries = entries.ok_or_else(|| {
            refuse(
                "invalid.processQueryKey",
                "processQueryKey 不存在或已过期",
                "请确认 processQueryKey 是否正确且在24小时内",
            )
        })?;
        let recalled = entries.iter().any(|e| e.recalled_at.is_some());
        let mut list = Vec::new();
        for e in &entries {
            let Some(user) = &e.person else { continue };
            let name = self
                .store()
                .member(corp, user)
                .await?
                .and_then(|m| m.membership.name)
                .unwrap_or_default();
            list.push(MessageReadInfo {
                name,
                user_id: user.0.clone(),
                read_status: if e.read_at.is_some() { "READ" } else { "UNREAD" }.to_owned(),
            });
        }
        Ok(ReadStatusResponse {
            send_status: if recalled { "RECALLED" } else { "SUCCESS" }.to_owned(),
            message_read_info_list: list,
        })
    }

    /// `POST /v1.0/robot/otoMessages/batchRecall` (`group: false`) and
    /// `/v1.0/robot/groupMessages/recall` (`group: true`): recalls the caller's sends within 24
    /// hours; a key that names none of them (in that group) fails alone.
    pub async fn recall_robot_sends(
        &self,
        caller: &Caller,
        req: &RecallRequest,
        group: bool,
    ) -> Result<RecallResponse, AppRobotError> {
        let corp = Self::may_send_as_robot(caller)?;
        self.own_robot(caller, req.robot_code.as_deref()).await?;
        let in_group = if group {
            Some(
                self.robot_group(caller, corp, req.open_conversation_id.as_deref())
                    .await?,
            )
        } else {
            None
        };
        let keys = req.process_query_keys.as_deref().unwrap_or_default();
        if keys.is_empty() {
            return Err(refuse(
                "invalidParameter.processQueryKeys.empty",
                "processQueryKeys 为空",
                "请填写 processQueryKeys",
            ));
        }
        if keys.len() > MAX_RECALL {
            return Err(refuse(
                "invalidParameter.processQueryKeys.overMax",
                format!("processQueryKeys 超过 {MAX_RECALL} 个"),
                "请分批撤回",
            ));
        }
        let mut out = RecallResponse {
            success_result: Vec::new(),
            failed_result: BTreeMap::new(),
        };
        let now = self.now();
        for key in keys {
            let fits = self.own_send(caller, key).await?.is_some_and(|es| {
                es.iter().all(|e| match &in_group {
                    Some(g) => e.person.is_none() && e.conversation == g.name,
                    None => e.person.is_some(),
                })
            });
            if fits {
                self.store().recall(key, now).await?;
                out.success_result.push(key.clone());
            } else {
                out.failed_result
                    .insert(key.clone(), "PROCESS_QUERY_KEY_NOT_FOUND".to_owned());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<RobotMessage, AppRobotError>) -> &'static str {
        match r {
            Err(AppRobotError::Refused(r)) => r.code,
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[test]
    fn templates_are_checked_as_dingtalk_names_them() {
        let m = parse_template(Some("sampleText"), Some(r#"{"content":"hi"}"#)).unwrap();
        assert_eq!(
            (m.msgtype.as_str(), m.content["content"].as_str()),
            ("sampleText", Some("hi"))
        );
        assert_eq!(code(parse_template(None, Some("{}"))), "invalidParameter.msgKey.empty");
        assert_eq!(
            code(parse_template(Some("sampleMarkdoswn"), Some("{}"))),
            "invalidParameter.msgKey.invalid"
        );
        assert_eq!(
            code(parse_template(Some("sampleText"), Some("[1]"))),
            "invalidParameter.msgParam.invalid"
        );
        assert_eq!(
            code(parse_template(Some("sampleText"), Some("{"))),
            "invalidParameter.msgParam.invalid"
        );
        assert_eq!(
            code(parse_template(Some("sampleMarkdown"), Some(r#"{"text":"x"}"#))),
            "miss.param.markdownTotitle"
        );
        assert_eq!(
            code(parse_template(
                Some("sampleActionCard3"),
                Some(
                    r#"{"title":"t","text":"x","actionTitle1":"a","actionURL1":"u","actionTitle2":"b","actionURL2":"v"}"#
                )
            )),
            "miss.param.actionCardTobtns"
        );
        assert!(parse_template(Some("sampleAudio"), Some(r#"{"mediaId":"@a","duration":"3000"}"#)).is_ok());
        let long = format!(r#"{{"content":"{}"}}"#, "x".repeat(MAX_PARAM));
        assert_eq!(
            code(parse_template(Some("sampleText"), Some(&long))),
            "invalidParameter.msgParam.tooLong"
        );
    }
}
