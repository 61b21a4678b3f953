//! DingTalk's legacy gateway (`oapi.dingtalk.com`): snake_case bodies, always HTTP 200, errors as
//! `{"errcode","errmsg","request_id"}`; on `/topapi/*` token and permission failures come wrapped
//! as `errcode 88` with a string `sub_code`. Sources: WIRE.md §B, SDK-WIRE.md §3, seed 003.

use serde::{Deserialize, Serialize};

/// Paths of the legacy gateway, in axum 0.8 route syntax.
pub mod path {
    /// `GET /gettoken?appkey=&appsecret=`: an app token. WIRE.md §C1.
    pub const GET_TOKEN: &str = "/gettoken";
    /// `POST /robot/send?access_token=`: a custom group robot's webhook. docs/wire/robots.md §A.
    pub const ROBOT_SEND: &str = "/robot/send";
    /// `POST /robot/sendBySession?session=`: a bot's answer through a message's session webhook.
    /// docs/wire/robots.md §B2.
    pub const ROBOT_SEND_BY_SESSION: &str = "/robot/sendBySession";
    /// `POST /topapi/v2/user/getbymobile`: a userid by mobile (seed 003).
    pub const V2_USER_GET_BY_MOBILE: &str = "/topapi/v2/user/getbymobile";
    /// `POST /topapi/v2/user/get`: a member's full record. docs/wire/directory-read.md §2.1.
    pub const V2_USER_GET: &str = "/topapi/v2/user/get";
    /// `POST /topapi/user/getbyunionid`: a unionId's userid. docs/wire/directory-read.md §2.2.
    pub const USER_GET_BY_UNIONID: &str = "/topapi/user/getbyunionid";
    /// `POST /topapi/user/listid`: a department's userids. docs/wire/directory-read.md §2.5.
    pub const USER_LIST_ID: &str = "/topapi/user/listid";
    /// `POST /topapi/v2/user/list`: a page of full member records. docs/wire/directory-read.md §2.3.
    pub const V2_USER_LIST: &str = "/topapi/v2/user/list";
    /// `POST /topapi/user/listsimple`: a page of userids and names. docs/wire/directory-read.md §2.4.
    pub const USER_LIST_SIMPLE: &str = "/topapi/user/listsimple";
    /// `POST /topapi/user/count`: the corp's member count. docs/wire/directory-read.md §2.6.
    pub const USER_COUNT: &str = "/topapi/user/count";
    /// `POST /topapi/user/listadmin`: the corp's administrators. docs/wire/directory-read.md §2.7.
    pub const USER_LIST_ADMIN: &str = "/topapi/user/listadmin";
    /// `POST /topapi/v2/department/listparentbyuser`: a member's department paths. §2.11.
    pub const V2_DEPARTMENT_LIST_PARENT_BY_USER: &str = "/topapi/v2/department/listparentbyuser";
    /// `POST /topapi/v2/department/get`: a department. docs/wire/directory-read.md §2.8.
    pub const V2_DEPARTMENT_GET: &str = "/topapi/v2/department/get";
    /// `POST /topapi/v2/user/create`: adds a member. docs/wire/writes-and-callbacks.md §1.
    pub const V2_USER_CREATE: &str = "/topapi/v2/user/create";
    /// `POST /topapi/v2/user/update`: changes a member's record.
    pub const V2_USER_UPDATE: &str = "/topapi/v2/user/update";
    /// `POST /topapi/v2/user/delete`: a member leaves.
    pub const V2_USER_DELETE: &str = "/topapi/v2/user/delete";
    /// `POST /topapi/v2/department/create`: adds a department.
    pub const V2_DEPARTMENT_CREATE: &str = "/topapi/v2/department/create";
    /// `POST /topapi/v2/department/update`: changes a department.
    pub const V2_DEPARTMENT_UPDATE: &str = "/topapi/v2/department/update";
    /// `POST /topapi/v2/department/delete`: removes an empty department.
    pub const V2_DEPARTMENT_DELETE: &str = "/topapi/v2/department/delete";
    /// `POST /topapi/v2/department/listsub`: a department's children. docs/wire/directory-read.md §2.9.
    pub const V2_DEPARTMENT_LIST_SUB: &str = "/topapi/v2/department/listsub";
    /// `POST /topapi/v2/department/listsubid`: a department's children's ids. §2.10.
    pub const V2_DEPARTMENT_LIST_SUB_ID: &str = "/topapi/v2/department/listsubid";
    /// `POST /topapi/v2/department/listparentbydept`: a department's path to the root. §2.12.
    pub const V2_DEPARTMENT_LIST_PARENT_BY_DEPT: &str = "/topapi/v2/department/listparentbydept";
    /// Paths under this prefix use the `errcode 88` wrapper for token errors. WIRE.md §B1.
    pub const TOPAPI_PREFIX: &str = "/topapi/";
    /// The old member record, flat and camelCase. docs/wire/directory-read.md §2.14.
    pub const USER_GET: &str = "/user/get";
    /// The old department list, with an optional walk of the subtree. docs/wire/directory-read.md §2.13.
    pub const DEPARTMENT_LIST: &str = "/department/list";
    /// In-app sign-in: a JSAPI code for the member. docs/wire/directory-read.md §2.15.
    pub const V2_USER_GET_USER_INFO: &str = "/topapi/v2/user/getuserinfo";
    /// The old in-app sign-in, flat. docs/wire/directory-read.md §2.15.
    pub const USER_GET_USER_INFO: &str = "/user/getuserinfo";
    /// The app's contact range. docs/wire/directory-read.md §1.4.
    pub const AUTH_SCOPES: &str = "/auth/scopes";
    /// Registers the corp's callback. docs/wire/writes-and-callbacks.md §2.7.
    pub const REGISTER_CALL_BACK: &str = "/call_back/register_call_back";
    /// Replaces the corp's callback.
    pub const UPDATE_CALL_BACK: &str = "/call_back/update_call_back";
    /// The corp's callback.
    pub const GET_CALL_BACK: &str = "/call_back/get_call_back";
    /// Removes the corp's callback.
    pub const DELETE_CALL_BACK: &str = "/call_back/delete_call_back";
    /// The old member create, camelCase fields. docs/wire/old-writes.md §1.
    pub const USER_CREATE: &str = "/user/create";
    /// The old member update. docs/wire/old-writes.md §2.
    pub const USER_UPDATE: &str = "/user/update";
    /// The old member delete: GET with `userid`, or the community SDK's POST with `useridlist`.
    /// docs/wire/old-writes.md §3.
    pub const USER_DELETE: &str = "/user/delete";
    /// The old batch delete, 1 to 20 userids. docs/wire/old-writes.md §3.
    pub const USER_BATCH_DELETE: &str = "/user/batchdelete";
    /// The old department create. docs/wire/old-writes.md §4.
    pub const DEPARTMENT_CREATE: &str = "/department/create";
    /// The old department update. docs/wire/old-writes.md §5.
    pub const DEPARTMENT_UPDATE: &str = "/department/update";
    /// The old department delete, GET with `id`. docs/wire/old-writes.md §6.
    pub const DEPARTMENT_DELETE: &str = "/department/delete";
}

/// The two answer envelopes of the legacy gateway. WIRE.md §0, §B1–B2, §C4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope {
    /// `/topapi/*`: content type [`TOPAPI_CONTENT_TYPE`], every answer carries `request_id`,
    /// token and permission failures are wrapped as `errcode 88` with a string `sub_code`.
    Top,
    /// Other legacy paths (`/gettoken`): content type [`CONTENT_TYPE`], codes answered
    /// directly, no `request_id`.
    Plain,
}

impl Envelope {
    /// The envelope of a path no endpoint serves, by its prefix.
    pub fn of_unknown_path(path: &str) -> Self {
        if path.starts_with(path::TOPAPI_PREFIX) {
            Self::Top
        } else {
            Self::Plain
        }
    }

    /// The answers' content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Top => TOPAPI_CONTENT_TYPE,
            Self::Plain => CONTENT_TYPE,
        }
    }
}

/// Content type of `/topapi/*` answers. WIRE.md §0.
pub const TOPAPI_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// Content type of other legacy answers (`/gettoken`). WIRE.md §0.
pub const CONTENT_TYPE: &str = "application/json";

/// The legacy error envelope, also the shape of a bare success (`errcode 0`). WIRE.md §B1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OapiError {
    /// A JSON number; `-1` exists (system busy).
    pub errcode: i64,
    /// Always present.
    pub errmsg: String,
    /// The wrapped code on `errcode 88`, a string such as `"40014"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_code: Option<String>,
    /// The wrapped message on `errcode 88`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_msg: Option<String>,
    /// Present on `/topapi/*` answers (12-13 lower-case alphanumerics), absent on `/gettoken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Legacy error codes. Each cites where it was seen.
pub mod errcode {
    /// One app calling one API past its per-second limit (调用频次与限流).
    pub const APP_QPS_LIMIT: i64 = 90018;
    /// Every app together calling one API past its global limit (调用频率限制; the real 2019
    /// capture in docs/wire/rate-limits.md §2).
    pub const API_QPS_LIMIT: i64 = 90002;
    /// One app calling one API past its per-minute limit (global error table).
    pub const APP_QPM_LIMIT: i64 = 90006;
    /// An organisation past its monthly API quota (dingtalk.com help 1061621972).
    pub const ORG_MONTHLY_QUOTA: i64 = 90020;
    /// Success.
    pub const OK: i64 = 0;
    /// System busy. Seed 003.
    pub const SYSTEM_BUSY: i64 = -1;
    /// Unknown `/topapi` method. WIRE.md §B1, probe P14.
    pub const UNKNOWN_API: i64 = 22;
    /// The TOP layer's wrapper for token and permission failures. WIRE.md §B1.
    pub const TOP_WRAPPED: i64 = 88;
    /// Unknown non-topapi path. WIRE.md §C4, probe P12.
    pub const URI_NOT_FOUND: i64 = 404;
    /// Missing token (as `sub_code`). WIRE.md §B2, probe P9.
    pub const TOKEN_MISSING: i64 = 40000;
    /// Invalid or expired token (directly, or as `sub_code`). WIRE.md §B2.
    pub const TOKEN_INVALID: i64 = 40014;
    /// Missing parameters to `/gettoken`. WIRE.md §B2, probe P2.
    pub const MISSING_PARAMETER: i64 = 40035;
    /// Bad app key or secret. WIRE.md §C1, probe P1.
    pub const BAD_APP_CREDENTIALS: i64 = 40096;
    /// Malformed mobile. Seed 003.
    pub const BAD_MOBILE: i64 = 40104;
    /// Needs GET. WIRE.md §B2.
    pub const NEEDS_GET: i64 = 43001;
    /// Needs POST. WIRE.md §B2.
    pub const NEEDS_POST: i64 = 43002;
    /// No permission or wrong app type (as `sub_code`). WIRE.md §B2.
    pub const NO_PERMISSION: i64 = 60011;
    /// User not found or departed. Seed 003.
    pub const USER_NOT_FOUND: i64 = 60121;
    /// A userid the corp already holds (`UserID在公司中已存在`). docs/wire/writes-and-callbacks.md §1.
    pub const USERID_TAKEN: i64 = 60102;
    /// A mobile another member of the corp holds (`手机号码在公司中已存在`).
    pub const MOBILE_TAKEN: i64 = 60104;
    /// A malformed mobile on a write (`手机号码不合法`).
    pub const MOBILE_INVALID: i64 = 60103;
    /// The parent of a new or moved department does not exist (`父亲部门不存在`).
    pub const PARENT_NOT_FOUND: i64 = 60004;
    /// A department with members cannot be deleted (`不允许删除有成员的部门`).
    pub const DEPT_HAS_MEMBERS: i64 = 60005;
    /// A department with sub-departments cannot be deleted (`不允许删除有子部门的部门`).
    pub const DEPT_HAS_CHILDREN: i64 = 60006;
    /// The root department cannot be deleted.
    pub const ROOT_UNDELETABLE: i64 = 60007;
    /// The root department cannot be updated.
    pub const ROOT_UNCHANGEABLE: i64 = 60018;
    /// A move would put a department below itself.
    pub const DEPT_CYCLE: i64 = 60010;
    /// A sibling already has the name (`父部门下该部门名称已存在`).
    pub const DEPT_NAME_TAKEN: i64 = 60021;
    /// The app already has a callback (`回调地址已经存在`). docs/wire/writes-and-callbacks.md §2.6.
    pub const CALLBACK_EXISTS: i64 = 71006;
    /// The old batch delete's `useridlist` is not a list of userids. docs/wire/old-writes.md §3.
    pub const BAD_USERID_LIST: i64 = 40031;
    /// The old batch delete's `useridlist` holds none or more than 20. docs/wire/old-writes.md §3.
    pub const BAD_USERID_LIST_LENGTH: i64 = 40032;
    /// The app has no callback (`回调地址已不存在`).
    pub const CALLBACK_MISSING: i64 = 71007;
    /// The callback URL's answer was not the text `success` (`返回文本非success`).
    pub const CALLBACK_NOT_SUCCESS: i64 = 71009;
    /// A callback field is wrong (bad JSON fields).
    pub const CALLBACK_BAD_FIELD: i64 = 71010;
    /// The callback URL could not be reached (`url地址访问异常`).
    pub const CALLBACK_UNREACHABLE: i64 = 71012;
    /// Invalid parameter. Seed 003.
    pub const INVALID_PARAMETER: i64 = 400002;
    /// No such department (`部门不存在`, the real text). docs/wire/directory-read.md §1.6.
    pub const DEPT_NOT_FOUND: i64 = 60003;
    /// A parameter out of range (`参数非法`, v2/user/list's page). docs/wire/directory-read.md §1.6.
    pub const ILLEGAL_PARAMETER: i64 = 40035;
    /// A bad page cursor (`无效的偏移量`, listsimple's page). docs/wire/directory-read.md §1.6.
    pub const BAD_CURSOR: i64 = 40068;
    /// A bad page size (`无效的size`, listsimple's page). docs/wire/directory-read.md §1.6.
    pub const BAD_PAGE_SIZE: i64 = 40069;
    /// A member outside the app's contact range. docs/wire/directory-read.md §1.4.
    pub const USER_OUT_OF_RANGE: i64 = 50002;
    /// A department outside the app's contact range. docs/wire/directory-read.md §1.4.
    pub const DEPT_OUT_OF_RANGE: i64 = 50004;
}

/// `GET /gettoken` answer; `expires_in` must be a number (the community SDK adds it). SDK-WIRE.md §3.4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetTokenResponse {
    /// `0`.
    pub errcode: i64,
    /// The app token, 32 lower-case hex.
    pub access_token: String,
    /// `"ok"`.
    pub errmsg: String,
    /// Seconds until expiry.
    pub expires_in: u64,
}

/// `POST /topapi/v2/user/getbymobile` answer. Seed 003, WIRE.md §D3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByMobileResponse {
    /// `0`.
    pub errcode: i64,
    /// `"ok"`.
    pub errmsg: String,
    /// The match.
    pub result: GetByMobileResult,
    /// Request id.
    pub request_id: String,
}

/// The `result` of getbymobile, keys in the order of a real answer. WIRE.md §D3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByMobileResult {
    /// Exclusive accounts of the caller's corp with that mobile; always a JSON array, `[]` when
    /// not asked for. WIRE.md §D3.
    #[serde(default)]
    pub exclusive_account_userid_list: Vec<String>,
    /// The active normal-account member with that mobile; absent when only exclusive accounts match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
}

/// `POST /topapi/v2/user/getbymobile` request body, as the Java TOP SDK sends it: JSON with every
/// value a string, so the flag is `"true"`/`"false"` (topapi has refused JSON booleans, WIRE.md §B1
/// errcode 41; §B3). The token goes in `?access_token=`, not here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByMobileRequest {
    /// National digits, or `+CC-NNNN`.
    pub mobile: String,
    /// `"true"` to also list the caller corp's exclusive accounts with that mobile. WIRE.md §D3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_exclusive_account_search: Option<TopBool>,
}

/// A TOP boolean. Sent as the string `"true"` or `"false"`, as the Java TOP SDK sends every value
/// (topapi has refused JSON booleans, WIRE.md §B1 errcode 41; §B3); read from those strings or a
/// JSON boolean.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TopBool(pub bool);

impl Serialize for TopBool {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0 { "true" } else { "false" })
    }
}

impl<'de> Deserialize<'de> for TopBool {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Bool(bool),
            Text(String),
        }
        match Either::deserialize(deserializer)? {
            Either::Bool(b) => Ok(Self(b)),
            Either::Text(t) if t == "true" => Ok(Self(true)),
            Either::Text(t) if t == "false" => Ok(Self(false)),
            Either::Text(t) => Err(serde::de::Error::custom(format!("{t:?} is not \"true\" or \"false\""))),
        }
    }
}

/// A `/topapi/*` success: `errcode 0`, `errmsg "ok"`, the endpoint's `result`, and the request id,
/// in the order of real answers. docs/wire/directory-read.md §1.1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopResponse<T> {
    /// `0`.
    pub errcode: i64,
    /// `"ok"`.
    pub errmsg: String,
    /// What the endpoint answers.
    pub result: T,
    /// Request id.
    pub request_id: String,
}

/// `POST /topapi/v2/user/get` request. docs/wire/directory-read.md §2.1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGetRequest {
    /// The member's userid in the caller's corp; ignored when `login_id` is given.
    #[serde(default)]
    pub userid: String,
    /// The login name of an exclusive account the caller's corp created; when not empty it
    /// finds the member instead of `userid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
    /// `zh_CN` (default) or `en_US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// One of a member's roles, as `role_list` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRole {
    /// The role group's name.
    pub group_name: String,
    /// The role's 64-bit id.
    pub id: i64,
    /// The role's name.
    pub name: String,
}

/// A member's place in one department, as `dept_order_list` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeptOrder {
    /// The department.
    pub dept_id: i64,
    /// The member's order in it; can exceed 2^53.
    pub order: i64,
}

/// Whether a member leads one department, as `leader_in_dept` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeptLeader {
    /// The department.
    pub dept_id: i64,
    /// Whether the member manages it.
    pub leader: bool,
}

/// The `result` of `/topapi/v2/user/get`: keys in alphabetical order, as real answers have them;
/// optional fields are left out when unset or not for this app. docs/wire/directory-read.md §2.1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGetResult {
    /// Whether the account has activated DingTalk.
    pub active: bool,
    /// A corp administrator.
    pub admin: bool,
    /// Avatar URL; `""` for the default avatar, as real answers send it.
    pub avatar: String,
    /// The corp's boss.
    pub boss: bool,
    /// The member's departments.
    pub dept_id_list: Vec<i64>,
    /// The member's order in each department.
    pub dept_order_list: Vec<DeptOrder>,
    /// Personal email (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether this is an exclusive (enterprise-owned) account.
    pub exclusive_account: bool,
    /// The owning corp of an exclusive account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_account_corp_id: Option<String>,
    /// `dingtalk` or `sso`, for exclusive accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_account_type: Option<String>,
    /// Extension attributes, a JSON object encoded as a string (internal apps only; left out
    /// when the member has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Whether the member hides their mobile.
    pub hide_mobile: bool,
    /// Hire date, epoch ms (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hired_date: Option<i64>,
    /// Job number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_number: Option<String>,
    /// Whether the member leads each department.
    pub leader_in_dept: Vec<DeptLeader>,
    /// The login name of an exclusive account the caller's corp created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
    /// The direct manager's userid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_userid: Option<String>,
    /// National digits (internal apps with the mobile permission only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// The in-org name.
    pub name: String,
    /// Organisation mailbox (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_email: Option<String>,
    /// Whether the account is real-name verified.
    pub real_authed: bool,
    /// Remark (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// The member's roles; left out when they hold none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_list: Option<Vec<UserRole>>,
    /// A senior executive.
    pub senior: bool,
    /// Country calling code, with `mobile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    /// Extension telephone (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The member's unionId under the caller's developer account.
    pub unionid: String,
    /// The member's userid.
    pub userid: String,
    /// Office location (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_place: Option<String>,
}

/// `POST /topapi/user/getbyunionid` request. docs/wire/directory-read.md §2.2.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByUnionIdRequest {
    /// A unionId under the caller's developer account.
    pub unionid: String,
}

/// The `result` of getbyunionid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetByUnionIdResult {
    /// `0` for an employee (`1` would be an external contact, which dingdir does not model).
    pub contact_type: i64,
    /// The member's userid in the caller's corp.
    pub userid: String,
}

/// A request naming one department: `listid`, `department/get`, `listsub`, `listsubid`,
/// `listparentbydept`. The Java TOP SDK sends the id as a string; both forms are read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeptRequest {
    /// The department (1 is the root); `listsub` and `listsubid` default to the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept_id: Option<i64>,
    /// `zh_CN` (default) or `en_US`, where the endpoint takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The `result` of `/topapi/user/listid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListIdResult {
    /// The department's direct active members, in member order.
    pub userid_list: Vec<String>,
}

/// The `result` of `/topapi/v2/department/get`, keys in alphabetical order. Settings dingdir
/// does not model yet (group chats, hidden and outer departments) answer their defaults.
/// docs/wire/directory-read.md §2.8.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentGetResult {
    /// Whether new members join automatically.
    pub auto_add_user: bool,
    /// The description; `""` as real answers send it.
    pub brief: String,
    /// Whether the department has a group chat.
    pub create_dept_group: bool,
    /// The department's id.
    pub dept_id: i64,
    /// The managers' userids.
    pub dept_manager_userid_list: Vec<String>,
    /// Departments that may see a hidden department.
    pub dept_permits: Vec<i64>,
    /// Whether the group chat includes sub-departments.
    pub group_contain_sub_dept: bool,
    /// Whether the department is hidden.
    pub hide_dept: bool,
    /// The name.
    pub name: String,
    /// Sort key among siblings.
    pub order: i64,
    /// Whether members see only permitted parts of the directory.
    pub outer_dept: bool,
    /// Departments an outer department's members may see.
    pub outer_permit_depts: Vec<i64>,
    /// Users an outer department's members may see.
    pub outer_permit_users: Vec<String>,
    /// The parent; left out for the root (a guess: no real answer for the root was found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// Users who may see a hidden department.
    pub user_permits: Vec<String>,
}

/// One child in `/topapi/v2/department/listsub`'s `result` array, keys in alphabetical order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentBase {
    /// Whether new members join automatically.
    pub auto_add_user: bool,
    /// Whether the department has a group chat.
    pub create_dept_group: bool,
    /// The department's id.
    pub dept_id: i64,
    /// The name.
    pub name: String,
    /// The parent.
    pub parent_id: i64,
}

/// The `result` of `/topapi/v2/department/listsubid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeptIdListResult {
    /// The direct children's ids, in sibling order.
    pub dept_id_list: Vec<i64>,
}

/// The `result` of `/topapi/v2/department/listparentbydept`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentIdListResult {
    /// The department itself first, then each parent up to the root, 1.
    pub parent_id_list: Vec<i64>,
}

/// `POST /topapi/v2/user/list` and `/topapi/user/listsimple` request: a page of a department's
/// direct members. docs/wire/directory-read.md §2.3, §2.4.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListRequest {
    /// The department (1 is the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept_id: Option<i64>,
    /// `0` for the first page, then the last answer's `next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<i64>,
    /// Members per page, 1 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// `custom` (default), `entry_asc`, `entry_desc`, `modify_asc` or `modify_desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_field: Option<String>,
    /// Whether members hidden from the directory are included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contain_access_limit: Option<TopBool>,
    /// `zh_CN` (default) or `en_US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// One page of a list, with DingTalk's cursor: `next_cursor` only while `has_more`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// Whether another page follows.
    pub has_more: bool,
    /// The members of this page.
    pub list: Vec<T>,
    /// The cursor of the next page; left out on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
}

/// A member in `/topapi/v2/user/list`'s page, keys in alphabetical order. Where
/// [`UserGetResult`] lists every department, this carries the member's place in the listed one
/// (`dept_order`, `leader`). docs/wire/directory-read.md §2.3.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListUser {
    /// Whether the account has activated DingTalk.
    pub active: bool,
    /// A corp administrator.
    pub admin: bool,
    /// Avatar URL; `""` for the default avatar.
    pub avatar: String,
    /// The corp's boss.
    pub boss: bool,
    /// The member's departments.
    pub dept_id_list: Vec<i64>,
    /// The member's order in the listed department.
    pub dept_order: i64,
    /// Personal email (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether this is an exclusive account (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_account: Option<bool>,
    /// `dingtalk` or `sso`, for exclusive accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_account_type: Option<String>,
    /// Extension attributes, a JSON object encoded as a string (internal apps only; left out
    /// when the member has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Whether the member hides their mobile.
    pub hide_mobile: bool,
    /// Hire date, epoch ms (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hired_date: Option<i64>,
    /// Job number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_number: Option<String>,
    /// Whether the member leads the listed department.
    pub leader: bool,
    /// The login name of an exclusive account the caller's corp created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
    /// National digits (internal apps with the mobile permission only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// The in-org name.
    pub name: String,
    /// Organisation mailbox (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_email: Option<String>,
    /// Remark (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Country calling code, with `mobile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    /// Extension telephone (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The member's unionId under the caller's developer account.
    pub unionid: String,
    /// The member's userid.
    pub userid: String,
    /// Office location (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_place: Option<String>,
}

/// A member in `/topapi/user/listsimple`'s page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimpleUser {
    /// The in-org name.
    pub name: String,
    /// The member's userid.
    pub userid: String,
}

/// `POST /topapi/user/count` request. docs/wire/directory-read.md §2.6.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCountRequest {
    /// Required: count only members who activated DingTalk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_active: Option<TopBool>,
}

/// The `result` of `/topapi/user/count`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCountResult {
    /// How many members the corp has.
    pub count: i64,
}

/// One entry of `/topapi/user/listadmin`'s `result` array. docs/wire/directory-read.md §2.7.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminEntry {
    /// `1` for the main administrator, `2` for a sub-administrator.
    pub sys_level: i64,
    /// The administrator's userid.
    pub userid: String,
}

/// `POST /topapi/v2/department/listparentbyuser` request. docs/wire/directory-read.md §2.11.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIdRequest {
    /// The member's userid in the caller's corp.
    pub userid: String,
}

/// One department path in `/topapi/v2/department/listparentbyuser`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentDeptList {
    /// One of the member's departments, then each parent up to the root, 1.
    pub parent_dept_id_list: Vec<i64>,
}

/// The `result` of `/topapi/v2/department/listparentbyuser`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentListResult {
    /// One path per department of the member, in the member's department order.
    pub parent_list: Vec<ParentDeptList>,
}

/// `GET /user/get`'s answer: the member record flat beside `errcode` and `errmsg`, in the old
/// camelCase, no `request_id`. docs/wire/directory-read.md §2.14.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyUserResponse {
    /// `0`; real answers put it first.
    pub errcode: i64,
    /// Whether the account has activated DingTalk.
    pub active: bool,
    /// Avatar URL; `""` for the default avatar.
    pub avatar: String,
    /// The member's departments.
    pub department: Vec<i64>,
    /// Personal email (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether this is an exclusive (enterprise-owned) account.
    pub exclusive_account: bool,
    /// Extension attributes as a JSON object (internal apps only; left out when there are none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extattr: Option<serde_json::Map<String, serde_json::Value>>,
    /// Hire date, epoch ms (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hired_date: Option<i64>,
    /// A corp administrator.
    pub is_admin: bool,
    /// The corp's boss.
    pub is_boss: bool,
    /// Whether the member hides their mobile.
    pub is_hide: bool,
    /// Leadership per department, as DingTalk writes it: `{dept:true,dept:false}`, a string
    /// that is not JSON (its keys are bare).
    pub is_leader_in_depts: String,
    /// A senior executive.
    pub is_senior: bool,
    /// Job number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobnumber: Option<String>,
    /// The direct manager's userid (the docs' casing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_userid: Option<String>,
    /// National digits (internal apps with the mobile permission only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// The in-org name.
    pub name: String,
    /// The same value as `unionid`, as in every real answer.
    pub open_id: String,
    /// Order per department, `{dept:order,…}` in the same bare-key string form.
    pub order_in_depts: String,
    /// Organisation mailbox (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_email: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Whether the account is real-name verified.
    pub real_authed: bool,
    /// Remark (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// The member's roles.
    pub roles: Vec<LegacyRole>,
    /// Country calling code, with `mobile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    /// Extension telephone (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tel: Option<String>,
    /// The member's unionId under the caller's developer account.
    pub unionid: String,
    /// The member's userid.
    pub userid: String,
    /// Office location (internal apps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_place: Option<String>,
    /// `ok`; real answers put it last.
    pub errmsg: String,
}

/// One role in `GET /user/get`'s `roles`. docs/wire/directory-read.md §2.14.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyRole {
    /// The role's id.
    pub id: i64,
    /// The role's name.
    pub name: String,
    /// The role group's name.
    pub group_name: String,
}

/// `GET /department/list`'s answer: `errcode`, the departments, `errmsg`, without `request_id`.
/// docs/wire/directory-read.md §2.13.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentListResponse {
    /// `0`.
    pub errcode: i64,
    /// The departments, depth first, siblings in order.
    pub department: Vec<LegacyDepartment>,
    /// `ok`.
    pub errmsg: String,
}

/// One department of `GET /department/list`, keys as a real answer orders them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyDepartment {
    /// Whether the department has a group chat.
    pub create_dept_group: bool,
    /// The name.
    pub name: String,
    /// The department's id.
    pub id: i64,
    /// Whether new members join automatically.
    pub auto_add_user: bool,
    /// The parent; left out for the root, as real answers do.
    #[serde(default, rename = "parentid", skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
}

/// `GET /department/list` request. docs/wire/directory-read.md §2.13.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentListRequest {
    /// The department whose children to list; the root (and itself) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Walk every level below, not one; `true` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_child: Option<bool>,
    /// `zh_CN` (default) or `en_US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// `POST /topapi/v2/user/getuserinfo` and `GET /user/getuserinfo` request: the in-app sign-in
/// code. docs/wire/directory-read.md §2.15.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfoRequest {
    /// The code from `dd.getAuthCode` (dingdir: from `POST /_dingdir/auth-codes`).
    pub code: String,
}

/// The `result` of `POST /topapi/v2/user/getuserinfo`. docs/wire/directory-read.md §2.15.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfoResult {
    /// The linked personal account's unionId; `""` for every dingdir account.
    pub associated_unionid: String,
    /// The device the code was asked on.
    pub device_id: String,
    /// The member's name.
    pub name: String,
    /// Whether the member is an administrator.
    pub sys: bool,
    /// `1` main administrator, `2` sub-administrator, `100` boss, `0` anyone else.
    pub sys_level: i64,
    /// The member's unionId under the caller's developer account.
    pub unionid: String,
    /// The member's userid.
    pub userid: String,
}

/// `GET /user/getuserinfo`'s answer, flat, in a real answer's key order.
/// docs/wire/directory-read.md §2.15.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyUserInfoResponse {
    /// `0`.
    pub errcode: i64,
    /// As [`UserInfoResult::sys_level`].
    pub sys_level: i64,
    /// As [`UserInfoResult::sys`].
    pub is_sys: bool,
    /// The member's name.
    pub name: String,
    /// `ok`.
    pub errmsg: String,
    /// The device the code was asked on.
    #[serde(rename = "deviceId")]
    pub device_id: String,
    /// The member's userid.
    pub userid: String,
}

/// `GET /auth/scopes`'s answer: what the app may read. docs/wire/directory-read.md §1.4.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthScopesResponse {
    /// `0`.
    pub errcode: i64,
    /// `ok`.
    pub errmsg: String,
    /// The member fields the app may read.
    pub auth_user_field: Vec<String>,
    /// Conditions on the range; dingdir sets none.
    pub condition_field: Vec<String>,
    /// The contact range.
    pub auth_org_scopes: AuthOrgScopes,
}

/// The contact range in `GET /auth/scopes`: `authed_dept: [1]` for a whole corp.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthOrgScopes {
    /// Departments in range, each with its subtree.
    pub authed_dept: Vec<i64>,
    /// Members in range by userid.
    pub authed_user: Vec<String>,
}

/// `POST /topapi/v2/user/create` and `/topapi/v2/user/update`: a member's record. On update every
/// field but `userid` is optional and an absent one is kept. docs/wire/writes-and-callbacks.md §1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserWriteRequest {
    /// The userid; create makes one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
    /// The member's name in the corp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The mobile (create only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Departments, comma-separated ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept_id_list: Option<String>,
    /// The member's order in each department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept_order_list: Option<Vec<DeptOrder>>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Job number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_number: Option<String>,
    /// Hire date, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hired_date: Option<i64>,
    /// Office location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_place: Option<String>,
    /// Extension telephone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Personal email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Organisation mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_email: Option<String>,
    /// Remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// The direct manager's userid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_userid: Option<String>,
    /// A senior executive whose mobile is hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senior_mode: Option<bool>,
    /// The member hides their mobile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_mobile: Option<bool>,
    /// Extension attributes, a JSON object in a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

/// The `result` of `/topapi/v2/user/create`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreateResult {
    /// The new member's userid.
    pub userid: String,
    /// Their unionId for the calling app's developer.
    #[serde(rename = "unionId")]
    pub union_id: String,
}

/// `POST /topapi/v2/department/create` and `/update`: a department. On update every field but
/// `dept_id` is optional and an absent one is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeptWriteRequest {
    /// The department (update only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept_id: Option<i64>,
    /// Its name, unique among its siblings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its parent (1 is the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// Sort key among its siblings, smaller first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// Whether it is hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_dept: Option<bool>,
    /// Departments that see a hidden one, comma-separated ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept_permits: Option<String>,
    /// Members who see a hidden one, comma-separated userids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_permits: Option<String>,
}

/// The `result` of `/topapi/v2/department/create`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeptCreateResult {
    /// The new department's id.
    pub dept_id: i64,
}

/// `POST /call_back/register_call_back` and `update_call_back`. docs/wire/writes-and-callbacks.md §2.7.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallBackRequest {
    /// The event types to receive.
    #[serde(default)]
    pub call_back_tag: Vec<String>,
    /// The signing token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The 43-character `EncodingAESKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aes_key: Option<String>,
    /// The receiver's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `GET /call_back/get_call_back`'s answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallBackResponse {
    /// `0`.
    pub errcode: i64,
    /// `ok`.
    pub errmsg: String,
    /// The event types registered.
    pub call_back_tag: Vec<String>,
    /// The signing token.
    pub token: String,
    /// The `EncodingAESKey`.
    pub aes_key: String,
    /// The receiver's URL.
    pub url: String,
}
