//! The records of app messages the store keeps: work notification tasks and uploaded files.
//! The rules that make them are in `notice.rs` and `media.rs`.

use crate::clock::Millis;
use crate::robot::RobotMessage;
use dingdir_proto::ids::{AppKey, CorpId, UserId};

/// One `asyncsend_v2` task, as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Its `task_id` (assigned by the store).
    pub task_id: i64,
    /// The corp it was sent in.
    pub corp_id: CorpId,
    /// The sending app.
    pub app_key: AppKey,
    /// The app's agentId, as the request named it.
    pub agent_id: i64,
    /// When it was sent.
    pub at: Millis,
    /// The message: its `msgtype` and the object of that type.
    pub message: RobotMessage,
    /// The people it reached, sorted.
    pub recipients: Vec<UserId>,
    /// Userids that named nobody in the corp.
    pub invalid_users: Vec<String>,
    /// Department ids that named no department of the corp.
    pub invalid_depts: Vec<i64>,
    /// The people a limit kept it from, with why.
    pub forbidden: Vec<Forbidden>,
    /// When it was recalled, if it was.
    pub recalled_at: Option<Millis>,
}

/// A person a work notification did not reach because of a limit: `getsendresult`'s
/// `forbidden_list` entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Forbidden {
    /// The limit's code.
    pub code: String,
    /// The count the limit allows.
    pub count: i64,
    /// The person.
    pub userid: String,
}

/// One uploaded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    /// Its `media_id` (`@` and base64 characters, as DingTalk's look).
    pub media_id: String,
    /// The corp of the token it was uploaded with.
    pub corp_id: CorpId,
    /// The app that uploaded it.
    pub app_key: AppKey,
    /// `image`, `voice`, `video` or `file`.
    pub kind: String,
    /// The file name the upload gave.
    pub file_name: String,
    /// The part's content type.
    pub content_type: String,
    /// When it was uploaded.
    pub at: Millis,
    /// The bytes.
    pub data: Vec<u8>,
}
