//! Work notifications (工作通知, `/topapi/message/corpconversation/*`): an app's messages to
//! people of its corp, sent as one task whose progress and result can be asked for, and which
//! can be recalled (docs/wire/messages.md §B).

use crate::clock::Millis;
use crate::message::{Forbidden, Notice};
use crate::model::{AppKind, MemberStatus, ROOT_DEPT};
use crate::robot::RobotMessage;
use crate::service::{Caller, Service};
use crate::token::TokenKind;
use crate::{Error, StoreError};
use dingdir_proto::ids::{CorpId, UserId};
use dingdir_proto::message::{NoticeForbidden, NoticeProgress, NoticeResult, NoticeSendRequest, NoticeTaskRequest};
use serde_json::Value;
use std::collections::HashSet;

/// The most userids one send names.
pub const MAX_USERS: usize = 5_000;
/// The most department ids one send names.
pub const MAX_DEPTS: usize = 500;
/// The largest `msg`, in bytes of its JSON.
pub const MAX_MSG: usize = 2_048;
/// The most people an app reaches in a minute; past it, `143103`.
pub const PER_MINUTE: u64 = 5_000;
/// The most work notifications one internal app sends one person a day; past it, `143105`.
pub const PER_DAY_INTERNAL: u64 = 500;
/// The same for a third-party app.
pub const PER_DAY_THIRD_PARTY: u64 = 100;
/// The most people a department or whole-corp send is expanded to; the rest are not counted.
pub const MAX_EXPANDED: usize = 2 * MAX_USERS;
/// How long a task can be asked about or recalled.
pub const TASK_LIFE_MS: Millis = 24 * 60 * 60 * 1000;

/// A refusal in the legacy gateway's form: `errcode` and `errmsg`, unwrapped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{errcode} {errmsg}")]
pub struct OapiRefusal {
    /// The errcode.
    pub errcode: i64,
    /// The errmsg.
    pub errmsg: String,
}

/// Why a work-notification call failed.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    /// Token, permission, store.
    #[error(transparent)]
    Domain(#[from] Error),
    /// The endpoint's own refusal.
    #[error(transparent)]
    Refused(#[from] OapiRefusal),
}

impl From<StoreError> for NoticeError {
    fn from(e: StoreError) -> Self {
        Self::Domain(e.into())
    }
}

fn refuse(errcode: i64, errmsg: impl Into<String>) -> NoticeError {
    NoticeError::Refused(OapiRefusal {
        errcode,
        errmsg: errmsg.into(),
    })
}

/// The TOP layer's answer to a missing required parameter (docs/wire/messages.md §B0).
fn missing(name: &str) -> NoticeError {
    refuse(40, format!("Missing required arguments:{name}"))
}

fn illegal() -> NoticeError {
    refuse(40035, "不合法的参数")
}

fn non_empty(obj: &Value, field: &str) -> bool {
    match obj.get(field) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Number(_)) => true,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        _ => false,
    }
}

/// Reads and checks a work notification's `msg` (docs/wire/messages.md §B1): a JSON object of
/// at most [`MAX_MSG`] bytes whose `msgtype` is one of the eight and whose object of that type
/// has its required fields. Answers the message and the media ids it refers to.
pub fn parse_msg(msg: Option<&Value>) -> Result<(RobotMessage, Vec<String>), NoticeError> {
    let msg = match msg {
        None | Some(Value::Null) => return Err(missing("msg")),
        Some(Value::String(s)) if s.trim().is_empty() => return Err(missing("msg")),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).map_err(|_| illegal())?,
        Some(other) => other.clone(),
    };
    if !msg.is_object() {
        return Err(illegal());
    }
    if msg.to_string().len() > MAX_MSG {
        return Err(refuse(40035, format!("不合法的参数：msg 超过 {MAX_MSG} 字节")));
    }
    let msgtype = msg
        .get("msgtype")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let required: &[&str] = match msgtype.as_str() {
        "text" => &["content"],
        "image" | "file" => &["media_id"],
        "voice" => &["media_id", "duration"],
        "link" => &["messageUrl", "picUrl", "title", "text"],
        "oa" => &["message_url", "head", "body"],
        "markdown" => &["title", "text"],
        "action_card" => &["markdown"],
        _ => return Err(refuse(40008, "不合法的消息类型")),
    };
    let body = msg.get(&msgtype).filter(|b| b.is_object()).ok_or_else(illegal)?;
    for field in required {
        if !non_empty(body, field) {
            return Err(match (msgtype.as_str(), *field) {
                ("text", _) => refuse(44004, "文本消息内容为空"),
                (_, "media_id") => refuse(40007, "不合法的媒体文件id"),
                _ => refuse(40035, format!("不合法的参数：{msgtype}.{field}")),
            });
        }
    }
    if msgtype == "action_card" {
        let single = non_empty(body, "single_title") && non_empty(body, "single_url");
        if !single && !non_empty(body, "btn_json_list") {
            return Err(refuse(
                40035,
                "不合法的参数：action_card 需要 single_title 和 single_url，或 btn_json_list",
            ));
        }
    }
    let media = match msgtype.as_str() {
        "image" | "file" | "voice" => body
            .get("media_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    Ok((
        RobotMessage {
            content: body.clone(),
            msgtype,
            at: None,
        },
        media,
    ))
}

/// A list of comma-separated values, trimmed, empty ones dropped.
fn comma_list(list: Option<&str>) -> Vec<&str> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The day a send counts in: the calendar day in Beijing time (UTC+8), where DingTalk's limits
/// reset (dingdir's reading of "per day").
fn beijing_day(now: Millis) -> i64 {
    (now + 8 * 3_600_000).div_euclid(86_400_000)
}

impl Service {
    /// The corp a call with only the basic permission (`qyapi_base`) acts in: an app token of
    /// an app installed in a corp.
    pub fn basic_corp(caller: &Caller) -> Result<&CorpId, Error> {
        let scope = dingdir_proto::scope::QYAPI_BASE;
        if caller.kind == TokenKind::User {
            return Err(Error::TokenInvalid);
        }
        if caller.app.kind == AppKind::ThirdPartyPersonal {
            return Err(Error::WrongAppType { scope });
        }
        caller
            .corp_id
            .as_ref()
            .or(caller.app.corp_id.as_ref())
            .ok_or(Error::WrongAppType { scope })
    }

    /// The corp a work-notification call acts in, and checks the agentId is the caller's.
    fn may_notify(caller: &Caller, agent_id: Option<i64>) -> Result<&CorpId, NoticeError> {
        let corp = Self::basic_corp(caller)?;
        match agent_id {
            None => Err(missing("agent_id")),
            Some(id) if id != caller.app.agent_id => Err(refuse(40056, "不合法的agentid")),
            Some(_) => Ok(corp),
        }
    }

    /// The active members of a department and every department below it, in tree order, at
    /// most `room` more than `into` holds.
    async fn subtree_members(
        &self,
        corp: &CorpId,
        top: i64,
        all: &[crate::model::Department],
        into: &mut Vec<UserId>,
        seen: &mut HashSet<UserId>,
    ) -> Result<(), StoreError> {
        let mut stack = vec![top];
        while let Some(d) = stack.pop() {
            for u in self.store().department_members(corp, d).await? {
                if into.len() >= MAX_EXPANDED {
                    return Ok(());
                }
                if seen.insert(u.clone()) {
                    into.push(u);
                }
            }
            stack.extend(all.iter().filter(|c| c.parent_id == Some(d)).map(|c| c.id).rev());
        }
        Ok(())
    }

    /// `POST /topapi/message/corpconversation/asyncsend_v2`: checks the call, works out whom it
    /// reaches (named people, departments with their sub-departments, or everyone), holds back
    /// those a limit keeps it from (the same content twice a day `143106`, over the daily count
    /// `143105`, over the app's per-minute receivers `143103`), and delivers it to the others'
    /// work notification conversations. Answers the task id. Limits never fail the call: they
    /// show in `getsendresult`, as on DingTalk.
    pub async fn send_notice(&self, caller: &Caller, req: &NoticeSendRequest, keep: u64) -> Result<i64, NoticeError> {
        let corp = Self::may_notify(caller, req.agent_id)?.clone();
        let (message, media) = parse_msg(req.msg.as_ref())?;
        for id in &media {
            let known = self.store().media(id).await?.is_some_and(|m| m.corp_id == corp);
            if !known {
                return Err(refuse(40007, "不合法的媒体文件id"));
            }
        }
        let users = comma_list(req.userid_list.as_deref());
        if users.len() > MAX_USERS {
            return Err(refuse(40032, "不合法的UserID列表长度"));
        }
        let depts = comma_list(req.dept_id_list.as_deref())
            .into_iter()
            .map(|d| d.parse::<i64>().map_err(|_| illegal()))
            .collect::<Result<Vec<_>, _>>()?;
        if depts.len() > MAX_DEPTS {
            return Err(refuse(40035, format!("不合法的参数：dept_id_list 超过 {MAX_DEPTS} 个")));
        }
        if users.is_empty() && depts.is_empty() && !req.to_all_user {
            return Err(refuse(
                40035,
                "不合法的参数：userid_list、dept_id_list、to_all_user 至少填一个",
            ));
        }
        let mut seen = HashSet::new();
        let mut candidates: Vec<UserId> = Vec::new();
        let mut invalid_users = Vec::new();
        for u in users {
            let uid = UserId(u.to_owned());
            let active = self
                .store()
                .member(&corp, &uid)
                .await?
                .is_some_and(|m| m.membership.status == MemberStatus::Active);
            if !active {
                invalid_users.push(u.to_owned());
            } else if seen.insert(uid.clone()) {
                candidates.push(uid);
            }
        }
        let mut invalid_depts = Vec::new();
        if !depts.is_empty() || req.to_all_user {
            let all = self.store().departments(&corp).await?;
            let tops: Vec<i64> = if req.to_all_user { vec![ROOT_DEPT] } else { depts };
            for d in tops {
                if all.iter().any(|x| x.id == d) {
                    self.subtree_members(&corp, d, &all, &mut candidates, &mut seen).await?;
                } else {
                    invalid_depts.push(d);
                }
            }
        }
        let now = self.now();
        let day = beijing_day(now);
        let day_end = (day + 1) * 86_400_000 - 8 * 3_600_000;
        let app = &caller.app.key.0;
        let mut forbidden = Vec::new();
        // The same content to the same person once a day.
        let digest = {
            use sha2::Digest;
            crate::ident::hex(&sha2::Sha256::digest(format!("{}|{}", message.msgtype, message.content))[..12])
        };
        let same: Vec<(String, u64)> = candidates
            .iter()
            .map(|u| (format!("notice-same|{app}|{}|{digest}|{day}", u.0), 1))
            .collect();
        let counts = self.store().hit_windows(&same, day_end).await?;
        let mut fresh = Vec::new();
        for (u, n) in candidates.into_iter().zip(counts) {
            if n > 1 {
                forbidden.push(Forbidden {
                    code: "143106".to_owned(),
                    count: 1,
                    userid: u.0,
                });
            } else {
                fresh.push(u);
            }
        }
        // At most so many a day from one app to one person.
        let per_day = if caller.app.kind == AppKind::Internal {
            PER_DAY_INTERNAL
        } else {
            PER_DAY_THIRD_PARTY
        };
        let daily: Vec<(String, u64)> = fresh
            .iter()
            .map(|u| (format!("notice-day|{app}|{}|{day}", u.0), 1))
            .collect();
        let counts = self.store().hit_windows(&daily, day_end).await?;
        let mut within = Vec::new();
        for (u, n) in fresh.into_iter().zip(counts) {
            if n > per_day {
                forbidden.push(Forbidden {
                    code: "143105".to_owned(),
                    count: per_day as i64,
                    userid: u.0,
                });
            } else {
                within.push(u);
            }
        }
        // At most so many people a minute from one app.
        let minute = now.div_euclid(60_000);
        let n = within.len() as u64;
        let total = self
            .store()
            .hit_windows(&[(format!("notice-minute|{app}|{minute}"), n)], (minute + 1) * 60_000)
            .await?
            .first()
            .copied()
            .unwrap_or(n);
        let room = usize::try_from(PER_MINUTE.saturating_sub(total.saturating_sub(n))).unwrap_or(usize::MAX);
        let recipients: Vec<UserId> = if within.len() > room {
            for u in within.split_off(room) {
                forbidden.push(Forbidden {
                    code: "143103".to_owned(),
                    count: PER_MINUTE as i64,
                    userid: u.0,
                });
            }
            within
        } else {
            within
        };
        let notice = Notice {
            task_id: 0,
            corp_id: corp.clone(),
            app_key: caller.app.key.clone(),
            agent_id: caller.app.agent_id,
            at: now,
            message: message.clone(),
            recipients: recipients.clone(),
            invalid_users,
            invalid_depts,
            forbidden,
            recalled_at: None,
        };
        let entries: Vec<crate::robot::InboxEntry> = recipients
            .iter()
            .map(|u| crate::robot::InboxEntry {
                seq: 0,
                at: now,
                corp_id: corp.clone(),
                conversation: crate::group::notice_conversation(&caller.app.key, u),
                sender_kind: "work_notice".to_owned(),
                sender: caller.app.name.clone(),
                sender_id: caller.app.key.0.clone(),
                message: message.clone(),
                person: Some(u.clone()),
                task: String::new(),
                read_at: None,
                recalled_at: None,
            })
            .collect();
        let task = self.store().put_notice(&notice, &entries, keep).await?;
        self.inbox_grew();
        Ok(task)
    }

    /// One of the caller's tasks younger than a day, or `refusal`.
    async fn own_notice(
        &self,
        caller: &Caller,
        req: &NoticeTaskRequest,
        task_name: &str,
        refusal: fn() -> NoticeError,
    ) -> Result<Notice, NoticeError> {
        Self::may_notify(caller, req.agent_id)?;
        let task = req.task_id.ok_or_else(|| missing(task_name))?;
        let notice = self.store().notice(task).await?.ok_or_else(refusal)?;
        if notice.app_key != caller.app.key || notice.at + TASK_LIFE_MS <= self.now() {
            return Err(refusal());
        }
        Ok(notice)
    }

    /// `POST /topapi/message/corpconversation/getsendprogress`: dingdir delivers a send before
    /// answering it, so a task is always done.
    pub async fn notice_progress(
        &self,
        caller: &Caller,
        req: &NoticeTaskRequest,
    ) -> Result<NoticeProgress, NoticeError> {
        self.own_notice(caller, req, "task_id", illegal).await?;
        Ok(NoticeProgress {
            progress_in_percent: 100,
            status: 2,
        })
    }

    /// `POST /topapi/message/corpconversation/getsendresult`: whom the task reached, who has
    /// read it, and whom it did not reach and why.
    pub async fn notice_result(&self, caller: &Caller, req: &NoticeTaskRequest) -> Result<NoticeResult, NoticeError> {
        let notice = self.own_notice(caller, req, "task_id", illegal).await?;
        let entries = self
            .store()
            .messages(&crate::robot::InboxQuery {
                task: Some(notice.task_id.to_string()),
                limit: MAX_EXPANDED as u64,
                ..crate::robot::InboxQuery::default()
            })
            .await?;
        let read: HashSet<&UserId> = entries
            .iter()
            .filter(|e| e.read_at.is_some())
            .filter_map(|e| e.person.as_ref())
            .collect();
        let (read_users, unread_users): (Vec<&UserId>, Vec<&UserId>) =
            notice.recipients.iter().partition(|u| read.contains(u));
        Ok(NoticeResult {
            invalid_user_id_list: notice.invalid_users.clone(),
            forbidden_user_id_list: notice.forbidden.iter().map(|f| f.userid.clone()).collect(),
            failed_user_id_list: Vec::new(),
            read_user_id_list: read_users.into_iter().map(|u| u.0.clone()).collect(),
            unread_user_id_list: unread_users.into_iter().map(|u| u.0.clone()).collect(),
            invalid_dept_id_list: notice.invalid_depts.clone(),
            forbidden_list: notice
                .forbidden
                .iter()
                .map(|f| NoticeForbidden {
                    code: f.code.clone(),
                    count: f.count,
                    userid: f.userid.clone(),
                })
                .collect(),
        })
    }

    /// `POST /topapi/message/corpconversation/recall`: takes the task's messages back from
    /// every conversation it reached, within a day.
    pub async fn recall_notice(&self, caller: &Caller, req: &NoticeTaskRequest) -> Result<(), NoticeError> {
        let bad = || refuse(400002, "agentId不合法或taskId不合法");
        let notice = self.own_notice(caller, req, "msg_task_id", bad).await?;
        self.store().recall(&notice.task_id.to_string(), self.now()).await?;
        Ok(())
    }
}
