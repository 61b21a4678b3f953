//! The directory: corps, people, their memberships, and apps.

use crate::mobile::Mobile;
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// An organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corp {
    /// `ding` + 32 hex.
    pub id: CorpId,
    /// Display name.
    pub name: String,
}

/// DingTalk's id of the root department of every corp's tree.
pub const ROOT_DEPT: i64 = 1;

/// A department: one node of a corp's tree, with DingTalk's numeric id. The root (id
/// [`ROOT_DEPT`], named after the corp) has no parent. docs/wire/directory-read.md §1.3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Department {
    /// The corp.
    pub corp_id: CorpId,
    /// A positive id, unique in the corp.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The parent department; `None` for the root only.
    pub parent_id: Option<i64>,
    /// Sort key among its siblings (smaller first); ties go by id.
    pub order: i64,
    /// Who besides its own members sees a hidden department (隐藏部门); `None` when it is not
    /// hidden.
    pub hidden: Option<DeptVisibility>,
}

/// A role of a corp (角色), in a role group; v2/user/get lists a member's as `role_list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// The corp it belongs to.
    pub corp_id: CorpId,
    /// DingTalk's 64-bit role id, unique in the corp.
    pub id: i64,
    /// The role's name.
    pub name: String,
    /// The name of the role group it sits in (角色组).
    pub group: String,
}

/// The exceptions of a hidden department: who may still see it in the directory.
/// `/topapi/v2/department/get` answers them as `dept_permits` and `user_permits`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeptVisibility {
    /// Departments whose members see it, sorted.
    pub departments: Vec<i64>,
    /// Members who see it, sorted.
    pub users: Vec<UserId>,
}

/// What an app may read of one corp's directory (通讯录权限范围): members of the listed
/// departments or of any department below them, and the listed members. A corp for which an app
/// has no range is readable whole. docs/wire/directory-read.md §1.4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRange {
    /// The corp the range applies in.
    pub corp_id: CorpId,
    /// Authorised departments, each with its whole subtree, sorted.
    pub departments: Vec<i64>,
    /// Authorised members, sorted.
    pub users: Vec<UserId>,
}

/// dingdir's own id of a person (one DingTalk account). Never on DingTalk's wire: the wire sees
/// userids, unionIds and openIds derived from it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(pub String);

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One DingTalk account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// dingdir's id.
    pub id: PersonId,
    /// A 64-bit number derived from `id`, from which unionIds and openIds are encrypted.
    pub number: u64,
    /// Display name.
    pub nick: String,
    /// Mobile; required for normal accounts, unique among them.
    pub mobile: Option<Mobile>,
    /// Personal email.
    pub email: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Argon2id PHC string of the sign-in password; no password means no browser sign-in.
    pub password_hash: Option<String>,
    /// The corp owning this exclusive account; `None` for a normal account.
    pub exclusive_of: Option<CorpId>,
    /// The login name of an exclusive account its corp created (专属帐号登录名), unique within
    /// that corp; `v2/user/get` finds the account by it.
    pub login_id: Option<String>,
}

/// Whether a member is still in the corp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// A current member.
    #[default]
    Active,
    /// Has left; invisible to every lookup, but the userid stays taken.
    Departed,
}

impl MemberStatus {
    /// The stored and seed spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Departed => "departed",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "departed" => Some(Self::Departed),
            _ => None,
        }
    }
}

/// Why a member left, as `/v1.0/contact/empLeaveRecords` names it. docs/wire/directory-read.md §2.16.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// Deleted through the API.
    Oapi,
    /// The account was closed.
    Cancel,
    /// Resigned.
    Leave,
    /// Not known.
    Unknown,
    /// Removed by an administrator: what a seed's departure is unless it says otherwise.
    #[default]
    Delete,
}

impl LeaveReason {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oapi => "oapi",
            Self::Cancel => "cancel",
            Self::Leave => "leave",
            Self::Unknown => "unknown",
            Self::Delete => "delete",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Oapi, Self::Cancel, Self::Leave, Self::Unknown, Self::Delete]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// When and why a departed member left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Departure {
    /// Epoch milliseconds; `None` until the store stamps it (a seed that gives no time).
    pub left_at: Option<i64>,
    /// Why.
    pub reason: LeaveReason,
}

/// A person in a corp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The corp.
    pub corp_id: CorpId,
    /// The member's userid in that corp.
    pub userid: UserId,
    /// The person.
    pub person_id: PersonId,
    /// The in-org name; `None` means the person's nick.
    pub name: Option<String>,
    /// Active or departed.
    pub status: MemberStatus,
}

/// The three app types DingTalk has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    /// Owned by one corp (企业内部应用).
    Internal,
    /// An ISV suite, authorised into corps (第三方企业应用).
    ThirdPartyEnterprise,
    /// An ISV app for individuals (第三方个人应用).
    ThirdPartyPersonal,
}

impl App {
    /// The app as the directory glance lists it.
    pub fn glance(&self) -> dingdir_proto::admin::AppGlance {
        dingdir_proto::admin::AppGlance {
            key: self.key.0.clone(),
            name: self.name.clone(),
            kind: self.kind.as_str().to_owned(),
            corp: self.corp_id.as_ref().map(|c| c.0.clone()),
        }
    }
}

impl AppKind {
    /// The stored and seed spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::ThirdPartyEnterprise => "third_party_enterprise",
            Self::ThirdPartyPersonal => "third_party_personal",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "internal" => Some(Self::Internal),
            "third_party_enterprise" => Some(Self::ThirdPartyEnterprise),
            "third_party_personal" => Some(Self::ThirdPartyPersonal),
            _ => None,
        }
    }
}

/// An app registered with DingTalk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    /// The app key (= OAuth client id = suite key).
    pub key: AppKey,
    /// Display name, shown on the consent page.
    pub name: String,
    /// Argon2id PHC string of the secret.
    pub secret_hash: String,
    /// Internal, third-party enterprise or third-party personal.
    pub kind: AppKind,
    /// The owning corp of an internal app.
    pub corp_id: Option<CorpId>,
    /// The ISV of a third-party app.
    pub isv: Option<String>,
    /// Granted scopes, sorted.
    pub scopes: Vec<String>,
    /// Registered OAuth redirect URIs, sorted.
    pub redirect_uris: Vec<String>,
    /// Corps a third-party enterprise app is authorised in, sorted.
    pub authorized_corps: Vec<CorpId>,
    /// The suite ticket a third-party enterprise app must present for corp tokens.
    pub suite_ticket: Option<String>,
    /// Limited contact ranges, one per corp at most, by corp; any other corp the app is
    /// installed in is readable whole.
    pub contact_ranges: Vec<ContactRange>,
    /// The agentId work notifications name the app by (`asyncsend_v2`'s `agent_id`): the
    /// seed's, or [`derived_agent_id`] of the key.
    pub agent_id: i64,
    /// Where the app's robot takes messages over HTTP (机器人 HTTP 回调), when it does.
    pub bot_callback: Option<BotCallback>,
}

/// A robot's HTTP callback: DingTalk POSTs each message for the bot to `url`, signed with the
/// app's secret (docs/wire/robots.md §B5). The secret is kept in the clear because signing
/// needs it; app secrets themselves are kept only as hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotCallback {
    /// The bot's absolute http(s) URL.
    pub url: String,
    /// The key the `sign` header is made with: the app's secret.
    pub secret: String,
}

/// The agentId of an app whose seed gives none: ten digits, stable for the key, so a test can
/// compute it and an export writes it out.
pub fn derived_agent_id(key: &AppKey) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.0.as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    1_000_000_000 + i64::try_from(n % 9_000_000_000).unwrap_or(0)
}

impl App {
    /// The developer account whose namespace this app's unionIds live in: the owning corp of an
    /// internal app, the ISV of a third-party app.
    pub fn developer(&self) -> Developer {
        match (&self.corp_id, &self.isv) {
            (Some(corp), _) if self.kind == AppKind::Internal => Developer::Corp(corp.clone()),
            (_, Some(isv)) => Developer::Isv(isv.clone()),
            _ => Developer::Isv(self.key.0.clone()),
        }
    }

    /// Whether the app holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The app's contact range in `corp`; `None` when it reads the whole corp.
    pub fn contact_range(&self, corp: &CorpId) -> Option<&ContactRange> {
        self.contact_ranges.iter().find(|r| &r.corp_id == corp)
    }

    /// The corps the app is installed in: its owner, or the corps that authorised it.
    pub fn installed_in(&self) -> Vec<CorpId> {
        match self.kind {
            AppKind::Internal => self.corp_id.iter().cloned().collect(),
            AppKind::ThirdPartyEnterprise => self.authorized_corps.clone(),
            AppKind::ThirdPartyPersonal => Vec::new(),
        }
    }
}

/// A developer account: the namespace of unionIds. WIRE.md §D1.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Developer {
    /// A corp developing its own internal apps.
    Corp(CorpId),
    /// An ISV developing third-party apps.
    Isv(String),
}

impl fmt::Display for Developer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Corp(c) => write!(f, "corp:{c}"),
            Self::Isv(i) => write!(f, "isv:{i}"),
        }
    }
}

/// A member's place in one department.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberDept {
    /// The department.
    pub dept_id: i64,
    /// Sort key among the department's members (smaller first); ties go by userid.
    pub order: i64,
    /// Whether the member manages the department (主管).
    pub leader: bool,
}

/// What the full member record (`/topapi/v2/user/get`) says beyond the membership itself.
/// docs/wire/directory-read.md §2.1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberDetails {
    /// The departments, in the order given; never empty for a stored member (the root by default).
    pub departments: Vec<MemberDept>,
    /// Job title (职位).
    pub title: Option<String>,
    /// Job number (工号).
    pub job_number: Option<String>,
    /// Hire date, epoch milliseconds.
    pub hired_date: Option<i64>,
    /// Office location.
    pub work_place: Option<String>,
    /// Extension telephone (分机号).
    pub telephone: Option<String>,
    /// Organisation mailbox.
    pub org_email: Option<String>,
    /// Remark.
    pub remark: Option<String>,
    /// The direct manager's userid in the same corp.
    pub manager_userid: Option<UserId>,
    /// An administrator of the corp.
    pub admin: bool,
    /// The corp's main administrator (主管理员, `sys_level` 1); other admins are sub-admins.
    pub main_admin: bool,
    /// The corp's boss.
    pub boss: bool,
    /// A senior executive (高管), whose mobile is hidden from others.
    pub senior: bool,
    /// The member hides their mobile number.
    pub hide_mobile: bool,
    /// When and why a departed member left; `None` for an active one.
    pub departure: Option<Departure>,
    /// Extension attributes (扩展属性): the corp's own fields, name to value, shown to internal
    /// apps as v2/user/get's `extension` (a JSON object in a string) and /user/get's `extattr`.
    pub extension: BTreeMap<String, String>,
    /// The ids of the corp's roles the member holds, in the order given.
    pub roles: Vec<i64>,
}

impl MemberDetails {
    /// The extension attributes as the JSON object DingTalk puts in `extension`'s string, or
    /// `None` when there are none (the field is then left out).
    pub fn extension_json(&self) -> Option<String> {
        (!self.extension.is_empty()).then(|| serde_json::to_string(&self.extension).unwrap_or_default())
    }

    /// Extension attributes back from [`Self::extension_json`]'s form.
    pub fn extension_from_json(text: &str) -> Result<BTreeMap<String, String>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The role ids as the stored JSON array, or `None` when the member holds none.
    pub fn roles_json(&self) -> Option<String> {
        (!self.roles.is_empty()).then(|| serde_json::to_string(&self.roles).unwrap_or_default())
    }

    /// Role ids back from [`Self::roles_json`]'s form.
    pub fn roles_from_json(text: &str) -> Result<Vec<i64>, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A membership with its full record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Who, where, and whether still there.
    pub membership: Membership,
    /// Departments, title and the rest of the record.
    pub details: MemberDetails,
}

/// The whole directory, in a stable order: what `export` writes and `apply` reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    /// Corps, by id.
    pub corps: Vec<Corp>,
    /// Departments, by corp then id; every corp's root included.
    pub departments: Vec<Department>,
    /// Roles, by corp then id.
    pub roles: Vec<Role>,
    /// Apps, by key.
    pub apps: Vec<App>,
    /// People, by id, each with their members by corp.
    pub people: Vec<(Person, Vec<Member>)>,
    /// Callback registrations, by app key. Applying one creates or updates it and leaves the
    /// others alone; a new one receives the entries logged after the write that makes it.
    pub callbacks: Vec<Callback>,
}

/// Which key closes an event's plaintext, and so which key the receiver checks it against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiveId {
    /// The app key (the suite key of a third-party app): what DingTalk uses for events
    /// subscribed in the developer console.
    #[default]
    AppKey,
    /// The corp the event happened in: what DingTalk uses for `register_call_back`.
    CorpId,
}

/// An app's callback registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// The subscribing app.
    pub app_key: AppKey,
    /// Where events are POSTed (`http` or `https`).
    pub url: String,
    /// The token the signatures are made with.
    pub token: String,
    /// The 43-character `EncodingAESKey`.
    pub aes_key: String,
    /// The event types (`call_back_tag`s) subscribed to; empty means every contact event.
    pub events: Vec<String>,
    /// Which key ends the plaintext.
    pub receive_id: ReceiveId,
}

impl Callback {
    /// The receiveid of an event in `corp`.
    pub fn receive_id_for<'a>(&'a self, corp: &'a CorpId) -> &'a str {
        match self.receive_id {
            ReceiveId::AppKey => &self.app_key.0,
            ReceiveId::CorpId => &corp.0,
        }
    }
}
