//! The declarative seed format: YAML that names corps, apps and people. Applying a seed creates
//! and updates what it names and never deletes; applying the same file twice leaves the same
//! state. A bad file is refused whole with `file:line:column: field: message`, before any write.
//!
//! Ids left out are derived from what the file does name (a corp's name, an app's name, a normal
//! account's mobile, an exclusive account's owning corp and userid), so they stay stable across
//! re-applies; `export` writes every id out, so an exported file can rename things freely.
//! Plain secrets and passwords are hashed with Argon2id; when a stored hash already matches the
//! given plain value it is kept, so re-applying does not churn hashes.

mod locate;
mod validate;

pub use locate::{FieldPath, LineCol, Locator};
pub use validate::Plan;

use crate::change::NewChange;
use crate::clock::{Clock, Millis, SystemClock};
use crate::model::{AppKind, Directory, Member, MemberDept, MemberStatus, ROOT_DEPT};
use crate::store::DirectoryStore;
use crate::{StoreError, secret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole seed file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "dingdir seed",
    description = "A declarative DingTalk directory for dingdir."
)]
pub struct SeedDoc {
    /// Organisations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corps: Vec<CorpSeed>,
    /// Apps of the three DingTalk types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppSeed>,
    /// People (DingTalk accounts) and their memberships.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<PersonSeed>,
    /// Rate limits, as `PUT /_dingdir/rate-limits` takes them: when given, they replace the
    /// limits in force on every node sharing the store (an empty list lifts them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<Vec<dingdir_proto::admin::RateLimit>>,
    /// Fault rules, as `POST /_dingdir/faults` takes them: armed on the server that applies the
    /// seed (its startup seed, `POST /_dingdir/seed`, and `reset` again), after any already armed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<dingdir_proto::admin::FaultRule>,
    /// Custom group robots: each a webhook into one group (docs/wire/robots.md §A).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub robots: Vec<RobotSeed>,
    /// Group chats: their people and the app robots added to them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSeed>,
}

/// A group chat of a corp.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    /// The corp: defined in this file or already stored.
    pub corp: String,
    /// The group's title, unique in the corp: the inbox's conversation name. Its
    /// `openConversationId` is derived from the corp and the name.
    #[schemars(length(min = 1, max = 64))]
    pub name: String,
    /// The owner, by userid (a member too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The people in it, by userid (members of the corp).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The app robots added to it, by app key (= robotCode): apps installed in the corp.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bots: Vec<String>,
}

/// A custom group robot, as a group's admin adds it: its webhook token and security settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RobotSeed {
    /// The webhook's `access_token`: 1 to 128 letters, digits, `-` or `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,128}$"))]
    pub token: String,
    /// The corp of the group: defined in this file or already stored.
    pub corp: String,
    /// The robot's name, as the inbox shows the sender.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The group chat it posts into: the inbox's conversation.
    #[schemars(length(min = 1))]
    pub group: String,
    /// The signing secret (DingTalk's start with `SEC`): signing on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Up to 10 keywords, one of which each message must contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// IPv4 addresses or CIDR ranges the sender must come from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_ranges: Vec<String>,
}

/// An organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpSeed {
    /// corpId: `ding` + 1 to 60 letters or digits; derived from `name` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^ding[A-Za-z0-9]{1,60}$"))]
    pub id: Option<String>,
    /// Display name; also the name of the root department (id 1).
    #[schemars(length(min = 1))]
    pub name: String,
    /// The department tree below the root (id 1, named after the corp, always there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<DepartmentSeed>,
    /// The corp's roles (角色), which memberships name by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleSeed>,
}

/// A role of a corp.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSeed {
    /// DingTalk's numeric role id: 1 or more, unique in the corp.
    #[schemars(range(min = 1))]
    pub id: i64,
    /// Display name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The role group's name (角色组); defaults to `默认`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// A department under a corp's root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentSeed {
    /// DingTalk's numeric id: 2 or more (1 is the root), unique in the corp.
    #[schemars(range(min = 2))]
    pub id: i64,
    /// Display name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The parent's id; defaults to the root, 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
    /// Sort key among siblings, smaller first; defaults to 0 (ties go by id).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order: i64,
    /// A hidden department (隐藏部门): shown in the directory to its own members and to
    /// `dept_permits` and `user_permits` only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_dept: bool,
    /// Departments (of the same corp) whose members see the hidden department.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dept_permits: Vec<i64>,
    /// Members (userids of the same corp) who see the hidden department.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_permits: Vec<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A member's place in a department.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberDeptSeed {
    /// The department's id (1 is the root).
    pub id: i64,
    /// Sort key among the department's members, smaller first; defaults to 0 (ties go by userid).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order: i64,
    /// Whether the member manages the department.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leader: bool,
}

/// An app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppSeed {
    /// AppKey (= clientId = suiteKey): 4 to 64 letters or digits; derived from `name` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9]{4,64}$"))]
    pub key: Option<String>,
    /// Display name, shown on the consent page.
    #[schemars(length(min = 1))]
    pub name: String,
    /// `internal`, `third_party_enterprise` or `third_party_personal`.
    #[serde(rename = "type")]
    pub kind: AppKind,
    /// The AppSecret in plain text (stored hashed). Exactly one of `secret` and `secret_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The AppSecret as an Argon2id PHC string, as `export` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    /// The owning corp; required for `internal`, refused otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp: Option<String>,
    /// The ISV (developer account) of a third-party app; defaults to the app key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isv: Option<String>,
    /// Granted scopes, e.g. `Contact.User.Read`, `Contact.User.mobile`, `qyapi_get_member_by_mobile`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Registered OAuth redirect URIs (absolute http or https URLs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// Corps that authorised a `third_party_enterprise` app.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_corps: Vec<String>,
    /// The suite ticket a `third_party_enterprise` app must send for corp tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_ticket: Option<String>,
    /// Limited contact ranges (通讯录权限范围), at most one per corp; a corp without one is
    /// readable whole, the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_range: Vec<ContactRangeSeed>,
    /// The app's HTTP event callback, as if registered already: applying the seed sends no
    /// `check_url` (the receiver need not be up yet). Left out, any registration made through
    /// the APIs stays as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackSeed>,
    /// The agentId work notifications name the app by; derived from the key when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub agent_id: Option<i64>,
    /// The robot's HTTP callback (机器人 HTTP 回调): a person's message to the bot is POSTed
    /// there when the app has no Stream connection for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_callback: Option<BotCallbackSeed>,
}

/// A robot's HTTP callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BotCallbackSeed {
    /// The bot's absolute `http` or `https` URL.
    #[schemars(length(min = 8))]
    pub url: String,
    /// The secret the requests are signed with: DingTalk signs with the app's secret, so this
    /// defaults to the app's plain `secret`; give it when the app has only a `secret_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// An app's callback registration (事件订阅, HTTP push): where DingTalk POSTs its events and the
/// keys it encrypts and signs them with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackSeed {
    /// The receiver's absolute `http` or `https` URL.
    #[schemars(length(min = 8))]
    pub url: String,
    /// The signing token, 1 to 64 characters.
    #[schemars(length(min = 1, max = 64))]
    pub token: String,
    /// The `EncodingAESKey`: exactly 43 letters or digits.
    #[schemars(regex(pattern = r"^[A-Za-z0-9]{43}$"))]
    pub aes_key: String,
    /// Event types (`user_add_org`, `org_dept_create`, ...); empty or left out means every
    /// contact event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// The key that closes each plaintext and the receiver checks: `app_key` (the default, as
    /// for events subscribed in DingTalk's developer console; a third-party app's suite key) or
    /// `corp_id` (as for `register_call_back`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub receive_id: crate::callback::ReceiveId,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// What an app may read of one corp: these departments (each with everything below it) and
/// these members. Reads outside it fail with 50002 (a member) or 50004 (a department).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRangeSeed {
    /// The corp; defaults to an internal app's own corp, required for a third-party app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp: Option<String>,
    /// Authorised department ids (1 is the whole corp).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<i64>,
    /// Authorised members by userid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

/// A person: one DingTalk account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonSeed {
    /// dingdir's own id of the person (letters, digits, `_`, `-`); derived when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub id: Option<String>,
    /// Display name.
    #[schemars(length(min = 1))]
    pub nick: String,
    /// National digits (state code 86, or `state_code`) or `+CC-NNNN`. Required for normal accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Country calling code of a bare-digit `mobile`; defaults to `86`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    /// Personal email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Avatar URL (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Browser sign-in password in plain text (stored hashed). At most one of `password` and `password_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Browser sign-in password as an Argon2id PHC string, as `export` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// For an exclusive (enterprise) account: the corp that owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_of: Option<String>,
    /// For an exclusive account: its login name (登录名), at most 64 characters without
    /// whitespace, unique within the owning corp. v2/user/get finds the account by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
    /// The person's memberships; replaces the stored list when applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memberships: Vec<MembershipSeed>,
}

/// A person's membership of a corp.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipSeed {
    /// The corp's id.
    pub corp: String,
    /// The userid in that corp (letters, digits, `_ . @ -`); a 17-digit one is derived when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.@-]{1,64}$"))]
    pub userid: Option<String>,
    /// The in-org name; defaults to the person's nick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `active` (default) or `departed`.
    #[serde(default)]
    pub status: MemberStatus,
    /// The member's departments; defaults to the root alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<MemberDeptSeed>,
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
    /// Organisation mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_email: Option<String>,
    /// Remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// The direct manager's userid in the same corp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// A corp administrator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
    /// The corp's main administrator (主管理员); implies `admin`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub main_admin: bool,
    /// The corp's boss.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub boss: bool,
    /// A senior executive.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub senior: bool,
    /// Hides their mobile number from colleagues.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_mobile: bool,
    /// When a departed member left, epoch milliseconds; when left out, the time the seed first
    /// records the departure (kept by later applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at: Option<i64>,
    /// Why a departed member left: `delete` (default), `leave`, `oapi`, `cancel` or `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_reason: Option<crate::model::LeaveReason>,
    /// Extension attributes (扩展属性), name to value, e.g. `{爱好: 旅游}`; internal apps see
    /// them. At most 2,000 characters as JSON, DingTalk's bound for the field.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extension: std::collections::BTreeMap<String, String>,
    /// The ids of the corp's roles the member holds, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<i64>,
}

/// A seed refused: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError {
    /// The file's name as the user gave it.
    pub file: String,
    /// Line and column, from 1.
    pub at: LineCol,
    /// The field path, e.g. `people[2].mobile`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.at.line, self.at.column, self.field, self.message
        )
    }
}

impl std::error::Error for SeedError {}

/// Why applying a seed failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The seed is wrong; nothing was written.
    #[error(transparent)]
    Invalid(#[from] SeedError),
    /// Hashing a secret failed; nothing was written.
    #[error("hashing a secret")]
    Secret(#[from] secret::SecretError),
    /// The store failed; the transaction was rolled back.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How deeply a seed's collections may nest. A real seed nests about six deep; the limit is
/// checked by the parser as it reads, before anything recurses, so every way a seed arrives
/// (the admin API, `apply`, `--seed`, `reset`) is refused cleanly instead of running a worker's
/// stack out (52 nested brackets did that to a debug build).
pub const MAX_DEPTH: usize = 24;

/// The YAML parser's options for a seed of `len` bytes: [`MAX_DEPTH`], and the parser's default
/// budget with its node, event and scalar-byte caps raised to what `len` bytes can hold without
/// aliases (a node takes at least a byte of text, a key with no value excepted, and makes at
/// most two events). The defaults (250,000 nodes) refused any seed past about 15,000 people;
/// aliases, the way a small text expands, keep their default caps, so a seed still costs the
/// parser about its own size.
pub(crate) fn yaml_options(len: usize) -> serde_saphyr::Options {
    let defaults = serde_saphyr::Budget::default();
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            flow_nesting_limit: MAX_DEPTH,
            max_nodes: defaults.max_nodes.max(2 * len + 2),
            max_events: defaults.max_events.max(4 * len + 4),
            max_total_scalar_bytes: defaults.max_total_scalar_bytes.max(len),
        },
    }
}

/// Parses `text` (named `file` in errors) into a seed document.
pub fn parse(file: &str, text: &str) -> Result<(SeedDoc, Locator), SeedError> {
    let locator = Locator::new(text);
    match serde_saphyr::from_str_with_options::<SeedDoc>(text, yaml_options(text.len())) {
        Ok(doc) => Ok((doc, locator)),
        Err(e) => {
            let at = e
                .location()
                .map(|l| LineCol {
                    line: l.line(),
                    column: l.column(),
                })
                .unwrap_or(LineCol { line: 1, column: 1 });
            let message = e.without_snippet().to_string();
            let mut message = message.lines().next().unwrap_or("invalid YAML").to_owned();
            // The position is already in front; drop the parser's own copy of it.
            if let Some(cut) = message.rfind(" at line ") {
                message.truncate(cut);
            }
            let mut field = locator.path_at(at);
            // An unknown key has no value node of its own: name it under its parent.
            if let Some(key) = message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
            {
                if matches!(field.0.last(), Some(locate::Seg::Key(_))) {
                    field.0.pop();
                }
                field = field.key(key);
            }
            Err(SeedError {
                file: file.to_owned(),
                at,
                field: field.to_string(),
                message,
            })
        }
    }
}

/// Parses, validates and applies a seed in one transaction; on any error the store is unchanged.
/// A departure the seed gives no time is dated by the system clock (see [`apply_text_at`]).
pub async fn apply_text(store: &dyn DirectoryStore, file: &str, text: &str) -> Result<Plan, ApplyError> {
    apply_text_at(store, file, text, SystemClock.now_ms()).await
}

/// [`apply_text`], dating by `now` a departure the seed gives no time and the store has not
/// recorded yet.
pub async fn apply_text_at(
    store: &dyn DirectoryStore,
    file: &str,
    text: &str,
    now: Millis,
) -> Result<Plan, ApplyError> {
    let (doc, locator) = parse(file, text)?;
    let plan = Plan::build(file, &doc, &locator)?;
    apply_plan_at(store, &plan, now).await?;
    Ok(plan)
}

/// Checks a validated plan against the store, resolves its secrets and writes it in one
/// transaction, dating untimed departures by the system clock.
pub async fn apply_plan(store: &dyn DirectoryStore, plan: &Plan) -> Result<(), ApplyError> {
    apply_plan_at(store, plan, SystemClock.now_ms()).await
}

/// [`apply_plan`] with `now` as the time of an untimed departure.
pub async fn apply_plan_at(store: &dyn DirectoryStore, plan: &Plan, now: Millis) -> Result<(), ApplyError> {
    let prior = Prior::of(store).await?;
    plan.check_against(store, prior).await?;
    let mut directory = plan.resolve(store).await?;
    date_departures(prior, &mut directory, now).await?;
    let log = crate::change::ordered(changes_of(prior, &directory).await?);
    let write = crate::change::Write {
        directory,
        log,
        at: now,
        ..Default::default()
    };
    match prior.0 {
        Some(_) => store.apply(&write).await?,
        None => store.load(&write).await?,
    }
    Ok(())
}

/// What a seed is compared against: the store, or nothing when it holds no directory yet, so
/// that a seed applied to an empty store costs no reads per entity (a million-person seed made
/// over four million, each a round trip to the store, for answers known to be empty). The log
/// and the dates come out the same either way.
#[derive(Clone, Copy)]
pub(crate) struct Prior<'a>(Option<&'a dyn DirectoryStore>);

impl<'a> Prior<'a> {
    async fn of(store: &'a dyn DirectoryStore) -> Result<Self, StoreError> {
        let glance = store.glance(0).await?;
        let empty = glance.corp_count == 0 && glance.app_count == 0 && glance.people == 0;
        Ok(Self((!empty).then_some(store)))
    }

    /// What `read` finds in the store, or nothing (`None`, an empty list) from an empty one.
    pub(crate) async fn read<T, F>(self, read: impl FnOnce(&'a dyn DirectoryStore) -> F) -> Result<T, StoreError>
    where
        T: Default,
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        match self.0 {
            Some(store) => read(store).await,
            None => Ok(T::default()),
        }
    }
}

/// The change-log entries applying `directory` makes: each department and member it creates or
/// changes against what the store holds, and each membership it drops from a person it names.
/// Re-applying the same seed makes none.
async fn changes_of(store: Prior<'_>, directory: &Directory) -> Result<Vec<NewChange>, StoreError> {
    use crate::change::{department_change, member_changes, person_changed};
    let mut log = Vec::new();
    for d in &directory.departments {
        let before = store.read(|s| s.department(&d.corp_id, d.id)).await?;
        log.extend(department_change(before.as_ref(), d));
    }
    for (person, members) in &directory.people {
        let changed = person_changed(store.read(|s| s.person(&person.id)).await?.as_ref(), person);
        for m in members {
            let before = store
                .read(|s| s.member(&m.membership.corp_id, &m.membership.userid))
                .await?;
            // A userid moving to another person is that member leaving and a new one joining.
            let before = before.filter(|b| b.membership.person_id == person.id);
            log.extend(member_changes(before.as_ref(), Some(m), changed));
        }
        for held in store.read(|s| s.memberships_of(&person.id)).await? {
            let kept = members
                .iter()
                .any(|m| m.membership.corp_id == held.corp_id && m.membership.userid == held.userid);
            if !kept {
                let before = store.read(|s| s.member(&held.corp_id, &held.userid)).await?;
                log.extend(member_changes(before.as_ref(), None, false));
            }
        }
    }
    Ok(log)
}

/// Gives every departure without a time the one the store recorded for it, or `now` when the
/// store holds none (the member was active, or is new): re-applying a seed keeps the date.
async fn date_departures(store: Prior<'_>, directory: &mut Directory, now: Millis) -> Result<(), StoreError> {
    for (_, members) in &mut directory.people {
        for m in members.iter_mut() {
            let Some(departure) = m.details.departure.as_mut() else {
                continue;
            };
            if departure.left_at.is_some() {
                continue;
            }
            let (corp, userid) = (&m.membership.corp_id, &m.membership.userid);
            let recorded = store
                .read(|s| s.member(corp, userid))
                .await?
                .and_then(|stored| stored.details.departure)
                .and_then(|d| d.left_at);
            departure.left_at = Some(recorded.unwrap_or(now));
        }
    }
    Ok(())
}

/// The store's whole directory as a seed document, every id written out, in a stable order
/// (sorted here, byte-wise, so every backend's collation gives the same file).
pub fn export(directory: &Directory) -> SeedDoc {
    let mut doc = unsorted_export(directory);
    doc.corps.sort_by(|a, b| a.id.cmp(&b.id));
    for corp in &mut doc.corps {
        corp.departments.sort_by_key(|d| d.id);
        corp.roles.sort_by_key(|r| r.id);
    }
    doc.apps.sort_by(|a, b| a.key.cmp(&b.key));
    for app in &mut doc.apps {
        app.scopes.sort();
        app.redirect_uris.sort();
        app.authorized_corps.sort();
    }
    doc.people.sort_by(|a, b| a.id.cmp(&b.id));
    for person in &mut doc.people {
        person.memberships.sort_by(|a, b| a.corp.cmp(&b.corp));
    }
    doc
}

/// A stored member as its seed entry; a member of the root alone is written without departments.
fn member_seed(member: &Member) -> MembershipSeed {
    let (m, d) = (&member.membership, &member.details);
    let root_only = matches!(
        &d.departments[..],
        [MemberDept {
            dept_id: ROOT_DEPT,
            order: 0,
            leader: false
        }]
    );
    MembershipSeed {
        corp: m.corp_id.0.clone(),
        userid: Some(m.userid.0.clone()),
        name: m.name.clone(),
        status: m.status,
        departments: if root_only {
            Vec::new()
        } else {
            d.departments
                .iter()
                .map(|x| MemberDeptSeed {
                    id: x.dept_id,
                    order: x.order,
                    leader: x.leader,
                })
                .collect()
        },
        title: d.title.clone(),
        job_number: d.job_number.clone(),
        hired_date: d.hired_date,
        work_place: d.work_place.clone(),
        telephone: d.telephone.clone(),
        org_email: d.org_email.clone(),
        remark: d.remark.clone(),
        manager: d.manager_userid.as_ref().map(|u| u.0.clone()),
        admin: d.admin && !d.main_admin,
        main_admin: d.main_admin,
        boss: d.boss,
        senior: d.senior,
        hide_mobile: d.hide_mobile,
        left_at: d.departure.and_then(|x| x.left_at),
        leave_reason: d.departure.map(|x| x.reason),
        extension: d.extension.clone(),
        roles: d.roles.clone(),
    }
}

fn unsorted_export(directory: &Directory) -> SeedDoc {
    SeedDoc {
        corps: directory
            .corps
            .iter()
            .map(|c| CorpSeed {
                id: Some(c.id.0.clone()),
                name: c.name.clone(),
                departments: directory
                    .departments
                    .iter()
                    .filter(|d| d.corp_id == c.id && d.id != ROOT_DEPT)
                    .map(|d| DepartmentSeed {
                        id: d.id,
                        name: d.name.clone(),
                        parent: d.parent_id.filter(|p| *p != ROOT_DEPT),
                        order: d.order,
                        hide_dept: d.hidden.is_some(),
                        dept_permits: d.hidden.iter().flat_map(|h| h.departments.iter().copied()).collect(),
                        user_permits: d
                            .hidden
                            .iter()
                            .flat_map(|h| h.users.iter().map(|u| u.0.clone()))
                            .collect(),
                    })
                    .collect(),
                roles: directory
                    .roles
                    .iter()
                    .filter(|r| r.corp_id == c.id)
                    .map(|r| RoleSeed {
                        id: r.id,
                        name: r.name.clone(),
                        group: Some(r.group.clone()),
                    })
                    .collect(),
            })
            .collect(),
        apps: directory
            .apps
            .iter()
            .map(|a| AppSeed {
                key: Some(a.key.0.clone()),
                name: a.name.clone(),
                kind: a.kind,
                secret: None,
                secret_hash: Some(a.secret_hash.clone()),
                corp: a.corp_id.as_ref().map(|c| c.0.clone()),
                isv: a.isv.clone(),
                scopes: a.scopes.clone(),
                redirect_uris: a.redirect_uris.clone(),
                authorized_corps: a.authorized_corps.iter().map(|c| c.0.clone()).collect(),
                suite_ticket: a.suite_ticket.clone(),
                contact_range: a
                    .contact_ranges
                    .iter()
                    .map(|r| ContactRangeSeed {
                        corp: Some(r.corp_id.0.clone()),
                        departments: r.departments.clone(),
                        users: r.users.iter().map(|u| u.0.clone()).collect(),
                    })
                    .collect(),
                callback: directory
                    .callbacks
                    .iter()
                    .find(|c| c.app_key == a.key)
                    .map(|c| CallbackSeed {
                        url: c.url.clone(),
                        token: c.token.clone(),
                        aes_key: c.aes_key.clone(),
                        events: c.events.clone(),
                        receive_id: c.receive_id,
                    }),
                agent_id: Some(a.agent_id),
                bot_callback: a.bot_callback.as_ref().map(|b| BotCallbackSeed {
                    url: b.url.clone(),
                    secret: Some(b.secret.clone()),
                }),
            })
            .collect(),
        people: directory
            .people
            .iter()
            .map(|(p, ms)| PersonSeed {
                id: Some(p.id.0.clone()),
                nick: p.nick.clone(),
                mobile: p.mobile.as_ref().map(|m| m.national().to_owned()),
                state_code: p.mobile.as_ref().map(|m| m.state_code().to_owned()),
                email: p.email.clone(),
                avatar_url: p.avatar_url.clone(),
                password: None,
                password_hash: p.password_hash.clone(),
                exclusive_of: p.exclusive_of.as_ref().map(|c| c.0.clone()),
                login_id: p.login_id.clone(),
                memberships: ms.iter().map(member_seed).collect(),
            })
            .collect(),
        // The export is the directory: rate limits and faults are run-time settings.
        rate_limits: None,
        faults: Vec::new(),
        // Robots and groups are the messaging side's, not the directory's.
        robots: Vec::new(),
        groups: Vec::new(),
    }
}

/// Writes what a seed sets up for messages, after its directory: its custom group robots and
/// its group chats.
pub async fn apply_messaging(store: &dyn crate::store::MessageStore, plan: &Plan) -> Result<(), StoreError> {
    for robot in plan.robots() {
        store.put_robot(robot).await?;
    }
    for group in plan.groups() {
        store.put_group(group).await?;
    }
    Ok(())
}

/// Writes a seed document as YAML.
pub fn to_yaml(doc: &SeedDoc) -> Result<String, String> {
    // One line per value (no folded scalars), list items indented under their key.
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false, compact_list_indent: false };
    serde_saphyr::to_string_with_options(doc, options).map_err(|e| e.to_string())
}

/// The JSON Schema of the seed format, as committed at `schema/seed.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(SeedDoc);
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_json_schema_is_current() {
        let committed = include_str!("../../../../schema/seed.schema.json");
        assert!(
            committed == super::json_schema(),
            "schema/seed.schema.json is stale: run `cargo run -p dingdir -- schema > schema/seed.schema.json`"
        );
    }

    /// A whole company's seed is millions of YAML nodes, past the parser's default budget of
    /// 250,000 (a seed of about 15,000 people); a small text that expands through aliases is
    /// still refused.
    #[test]
    fn a_seed_past_the_parsers_default_budget_parses_and_an_alias_bomb_does_not() {
        let scopes = vec!["a"; 300_000].join(", ");
        let text = format!(
            "apps:\n  - key: dingbig\n    name: Big\n    type: internal\n    secret: s\n    scopes: [{scopes}]\n"
        );
        let (doc, _) = super::parse("big.yaml", &text).unwrap();
        assert_eq!(doc.apps[0].scopes.len(), 300_000);

        let mut bomb = String::from("x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
        for i in 1..9 {
            let refs = vec![format!("*x{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("x{i}: &x{i} [{refs}]\n"));
        }
        let parsed = serde_saphyr::from_str_with_options::<serde_json::Value>(&bomb, super::yaml_options(bomb.len()));
        let err = parsed.expect_err("a billion a's").to_string();
        assert!(err.contains("budget"), "{err}");
    }

    #[test]
    fn the_demo_seed_parses_and_validates() {
        let text = include_str!("../../../../examples/demo.yaml");
        let (doc, locator) = super::parse("demo.yaml", text).unwrap();
        let plan = super::Plan::build("demo.yaml", &doc, &locator).unwrap();
        assert_eq!(plan.counts(), (2, 5, 8, 9));
    }

    /// Deep nesting is refused by the parser with a position, in flow and in block style, on a
    /// thread with half a tokio worker's stack, in the debug build: no recursion runs past the
    /// limit.
    #[test]
    fn deep_nesting_is_refused_with_its_line_before_anything_recurses() {
        let deep = 10_000;
        let cases = [
            ("flow", format!("{}{}", "[".repeat(deep), "]".repeat(deep))),
            ("flow maps", format!("{}{}", "{a: ".repeat(deep), "}".repeat(deep))),
            (
                "block",
                (0..200)
                    .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                    .collect::<String>(),
            ),
            (
                "under corps",
                format!("corps:\n  - id: {}{}\n", "[".repeat(60), "]".repeat(60)),
            ),
        ];
        for (name, text) in cases {
            let outcome = std::thread::Builder::new()
                .stack_size(1024 * 1024)
                .spawn(move || super::parse("deep.yaml", &text).map(|_| ()))
                .unwrap()
                .join()
                .expect("parsing must not overflow the stack");
            let err = outcome.expect_err(name);
            assert!(err.at.line >= 1, "{name}: {err}");
        }
        let ok = format!(
            "corps: {}{}",
            "[".repeat(super::MAX_DEPTH - 2),
            "]".repeat(super::MAX_DEPTH - 2)
        );
        let err = super::parse("shallow.yaml", &ok).map(|_| ()).unwrap_err();
        let msg = err.message.to_lowercase();
        assert!(
            !msg.contains("depth") && !msg.contains("recursion"),
            "within the limit it is the usual error: {err}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    /// YAML-ish text: the characters seeds are made of, brackets and indentation included.
    fn seedish() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("corps:\n".to_owned()),
                Just("  - id: ".to_owned()),
                Just("[".to_owned()),
                Just("]".to_owned()),
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just(": ".to_owned()),
                Just("\n    ".to_owned()),
                Just("&a ".to_owned()),
                Just("*a ".to_owned()),
                Just("\"".to_owned()),
                "[a-z0-9 ,:-]{0,8}",
            ],
            0..400,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        /// Whatever a seed holds, parsing answers a located error or a document, never a panic or
        /// a stack overflow (run on a small stack).
        #[test]
        fn any_seed_text_parses_or_is_refused_with_a_position(text in seedish()) {
            let outcome = std::thread::Builder::new()
                .stack_size(512 * 1024)
                .spawn(move || super::parse("p.yaml", &text).map(|_| ()))
                .unwrap()
                .join();
            prop_assert!(outcome.is_ok(), "parsing panicked or overflowed");
            if let Ok(Err(e)) = outcome {
                prop_assert!(e.at.line >= 1 && e.at.column >= 1);
            }
        }
    }
}
