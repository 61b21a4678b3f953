//! The wire of app messages: app-robot sends on the new gateway (`/v1.0/robot/…`), work
//! notifications (`/topapi/message/corpconversation/…`) and media (`/media/upload`), as
//! docs/wire/messages.md records them.

use serde::{Deserialize, Serialize};

/// Paths.
pub mod path {
    /// `POST`: an app robot to people, one to one. docs/wire/messages.md §A1.
    pub const OTO_BATCH_SEND: &str = "/v1.0/robot/oToMessages/batchSend";
    /// `GET ?robotCode=&processQueryKey=`: who read a one-to-one send. §A4.
    pub const OTO_READ_STATUS: &str = "/v1.0/robot/oToMessages/readStatus";
    /// `POST`: recalls one-to-one sends (note the lower-case `oto`). §A4.
    pub const OTO_BATCH_RECALL: &str = "/v1.0/robot/otoMessages/batchRecall";
    /// `POST`: an app robot to a group. §A2.
    pub const GROUP_SEND: &str = "/v1.0/robot/groupMessages/send";
    /// `POST`: who in the group read a group send. §A4.
    pub const GROUP_QUERY: &str = "/v1.0/robot/groupMessages/query";
    /// `POST`: recalls group sends. §A4.
    pub const GROUP_RECALL: &str = "/v1.0/robot/groupMessages/recall";
    /// `POST`: the download URL of a file a person sent the bot. §A4.
    pub const MESSAGE_FILE_DOWNLOAD: &str = "/v1.0/robot/messageFiles/download";
    /// `POST ?access_token=`: a work notification. §B1.
    pub const NOTICE_SEND: &str = "/topapi/message/corpconversation/asyncsend_v2";
    /// `POST ?access_token=`: how far a work notification got. §B2.
    pub const NOTICE_PROGRESS: &str = "/topapi/message/corpconversation/getsendprogress";
    /// `POST ?access_token=`: whom a work notification reached. §B3.
    pub const NOTICE_RESULT: &str = "/topapi/message/corpconversation/getsendresult";
    /// `POST ?access_token=`: recalls a work notification. §B4.
    pub const NOTICE_RECALL: &str = "/topapi/message/corpconversation/recall";
    /// `POST ?access_token=&type=` (multipart): uploads a file. §C.
    pub const MEDIA_UPLOAD: &str = "/media/upload";
}

/// The app-robot send scope. docs/wire/messages.md §A0.
pub const SCOPE_ROBOT_SEND: &str = "qyapi_robot_sendmsg";

/// `POST /v1.0/robot/oToMessages/batchSend`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSendOtoRequest {
    /// The app robot's code (an internal app's AppKey).
    #[serde(default)]
    pub robot_code: Option<String>,
    /// Whom to: userids.
    #[serde(default)]
    pub user_ids: Option<Vec<String>>,
    /// The template (`sampleText`, …).
    #[serde(default)]
    pub msg_key: Option<String>,
    /// The template's fields as a JSON string.
    #[serde(default)]
    pub msg_param: Option<String>,
}

/// What batchSend answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSendOtoResponse {
    /// The send's key, for readStatus and batchRecall.
    pub process_query_key: String,
    /// Userids that named no member of the corp.
    pub invalid_staff_id_list: Vec<String>,
    /// Userids held back by flow control.
    pub flow_controlled_staff_id_list: Vec<String>,
}

/// `POST /v1.0/robot/groupMessages/send`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSendRequest {
    /// The template's fields as a JSON string.
    #[serde(default)]
    pub msg_param: Option<String>,
    /// The template.
    #[serde(default)]
    pub msg_key: Option<String>,
    /// The group's `openConversationId`.
    #[serde(default)]
    pub open_conversation_id: Option<String>,
    /// The app robot's code.
    #[serde(default)]
    pub robot_code: Option<String>,
    /// A cool app's code (taken, not used).
    #[serde(default)]
    pub cool_app_code: Option<String>,
}

/// What groupMessages/send answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSendResponse {
    /// The send's key, for groupMessages/query and recall.
    pub process_query_key: String,
}

/// One receiver in readStatus.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageReadInfo {
    /// The person's name.
    pub name: String,
    /// The person's userid.
    pub user_id: String,
    /// `READ` or `UNREAD`.
    pub read_status: String,
}

/// What readStatus answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadStatusResponse {
    /// `SUCCESS` or `RECALLED`.
    pub send_status: String,
    /// One per receiver.
    pub message_read_info_list: Vec<MessageReadInfo>,
}

/// `POST /v1.0/robot/otoMessages/batchRecall` and (with `openConversationId`)
/// `/v1.0/robot/groupMessages/recall`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecallRequest {
    /// The app robot's code.
    #[serde(default)]
    pub robot_code: Option<String>,
    /// The sends to recall, at most 20.
    #[serde(default)]
    pub process_query_keys: Option<Vec<String>>,
    /// The group, for a group recall.
    #[serde(default)]
    pub open_conversation_id: Option<String>,
}

/// What a recall answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecallResponse {
    /// The keys recalled.
    pub success_result: Vec<String>,
    /// The keys not recalled, each with why.
    pub failed_result: std::collections::BTreeMap<String, String>,
}

/// `POST /v1.0/robot/groupMessages/query`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupQueryRequest {
    /// The send.
    #[serde(default)]
    pub process_query_key: Option<String>,
    /// The group.
    #[serde(default)]
    pub open_conversation_id: Option<String>,
    /// The app robot's code.
    #[serde(default)]
    pub robot_code: Option<String>,
    /// Page size, at most 200.
    #[serde(default)]
    pub max_results: Option<i64>,
    /// The page to go on from.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// What groupMessages/query answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupQueryResponse {
    /// `SUCCESS` or `RECALLED`.
    pub send_status: String,
    /// Members who read it, this page.
    pub read_user_ids: Vec<String>,
    /// The next page's token, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Whether there are more.
    pub has_more: bool,
}

/// `POST /v1.0/robot/messageFiles/download`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDownloadRequest {
    /// The file's `downloadCode`, from the bot's message.
    #[serde(default)]
    pub download_code: Option<String>,
    /// The app robot's code.
    #[serde(default)]
    pub robot_code: Option<String>,
}

/// What messageFiles/download answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDownloadResponse {
    /// A URL the file can be fetched from with a plain GET.
    pub download_url: String,
}

/// getsendprogress's `progress`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeProgress {
    /// 0 to 100.
    pub progress_in_percent: i64,
    /// 0 not started, 1 sending, 2 done.
    pub status: i64,
}

/// One person a limit kept a work notification from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeForbidden {
    /// The limit's code (`143105`, …), a string.
    pub code: String,
    /// The count the limit allows.
    pub count: i64,
    /// The person.
    pub userid: String,
}

/// getsendresult's `send_result`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeResult {
    /// Userids that named nobody.
    pub invalid_user_id_list: Vec<String>,
    /// People a limit held it back from.
    pub forbidden_user_id_list: Vec<String>,
    /// People it failed to reach.
    pub failed_user_id_list: Vec<String>,
    /// People who read it.
    pub read_user_id_list: Vec<String>,
    /// People who have not read it yet.
    pub unread_user_id_list: Vec<String>,
    /// Department ids that named no department.
    pub invalid_dept_id_list: Vec<i64>,
    /// The limits, per person.
    pub forbidden_list: Vec<NoticeForbidden>,
}

/// `POST /topapi/message/corpconversation/asyncsend_v2`, read leniently (numbers or digit
/// strings, booleans or `"true"`, `msg` an object or a string of JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoticeSendRequest {
    /// The app's agentId.
    pub agent_id: Option<i64>,
    /// Comma-separated userids.
    pub userid_list: Option<String>,
    /// Comma-separated department ids (each with its sub-departments).
    pub dept_id_list: Option<String>,
    /// Everyone in the corp.
    pub to_all_user: bool,
    /// The message: `{"msgtype": X, X: {…}}`.
    pub msg: Option<serde_json::Value>,
}

/// getsendprogress and getsendresult (`task_id`), and recall (`msg_task_id`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoticeTaskRequest {
    /// The app's agentId.
    pub agent_id: Option<i64>,
    /// The task.
    pub task_id: Option<i64>,
}
