//! The change log: one entry per change to a corp's directory, appended in the transaction that
//! makes the change, so nothing changes without its entry and no entry exists without its change.
//! Entries are totally ordered by `seq` (writers take turns while appending, so a reader that has
//! seen `seq` n never later finds an entry below n). Each entry is what DingTalk announces as one
//! event (`user_add_org`, ...), with its one subject. docs/wire/writes-and-callbacks.md.

use crate::clock::Millis;
use crate::model::{Department, Directory, Member, MemberStatus, Person, PersonId};
use dingdir_proto::ids::{CorpId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What happened, named as DingTalk's contact events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ChangeKind {
    /// A member joined (`user_add_org`).
    #[serde(rename = "user_add_org")]
    UserAdd,
    /// A member's record changed (`user_modify_org`).
    #[serde(rename = "user_modify_org")]
    UserModify,
    /// A member left (`user_leave_org`).
    #[serde(rename = "user_leave_org")]
    UserLeave,
    /// A member became an administrator (`org_admin_add`).
    #[serde(rename = "org_admin_add")]
    AdminAdd,
    /// A member stopped being an administrator (`org_admin_remove`).
    #[serde(rename = "org_admin_remove")]
    AdminRemove,
    /// A department was created (`org_dept_create`).
    #[serde(rename = "org_dept_create")]
    DeptCreate,
    /// A department changed (`org_dept_modify`).
    #[serde(rename = "org_dept_modify")]
    DeptModify,
    /// A department was removed (`org_dept_remove`).
    #[serde(rename = "org_dept_remove")]
    DeptRemove,
}

impl ChangeKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 8] = [
        Self::UserAdd,
        Self::UserModify,
        Self::UserLeave,
        Self::AdminAdd,
        Self::AdminRemove,
        Self::DeptCreate,
        Self::DeptModify,
        Self::DeptRemove,
    ];

    /// DingTalk's event type: the stored spelling too.
    pub fn event_type(self) -> &'static str {
        match self {
            Self::UserAdd => "user_add_org",
            Self::UserModify => "user_modify_org",
            Self::UserLeave => "user_leave_org",
            Self::AdminAdd => "org_admin_add",
            Self::AdminRemove => "org_admin_remove",
            Self::DeptCreate => "org_dept_create",
            Self::DeptModify => "org_dept_modify",
            Self::DeptRemove => "org_dept_remove",
        }
    }

    /// Reads an event type.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.event_type() == s)
    }

    /// Whether the subject is a department id (otherwise a userid).
    pub fn is_department(self) -> bool {
        matches!(self, Self::DeptCreate | Self::DeptModify | Self::DeptRemove)
    }
}

/// A change about to be logged: what, in which corp, to whom.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewChange {
    /// The corp whose directory changed.
    pub corp_id: CorpId,
    /// What happened.
    pub kind: ChangeKind,
    /// The userid, or the department id in decimal.
    pub subject: String,
}

/// A logged change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Its position in the log: 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// When it was committed, epoch milliseconds.
    pub at: Millis,
    /// The change itself.
    pub change: NewChange,
}

/// Which entries a read of the log wants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeQuery {
    /// Only these corps'; empty means every corp.
    pub corps: Vec<CorpId>,
    /// Only these kinds; empty means all.
    pub kinds: Vec<ChangeKind>,
    /// Only entries after this position.
    pub after: i64,
    /// At most this many.
    pub limit: u64,
}

/// One write to the directory: what to upsert (as [`crate::store::DirectoryStore::apply`] does),
/// the departments to create (refused whole if one's id is taken) or remove (refused whole if one
/// still has sub-departments or active members), and the log entries it makes, all in one
/// transaction.
#[derive(Clone, Debug, Default)]
pub struct Write {
    /// Corps, apps, departments, roles and people to create or replace.
    pub directory: Directory,
    /// Departments that must not exist yet.
    pub new_departments: Vec<Department>,
    /// Departments to delete, by corp and id.
    pub removed_departments: Vec<(CorpId, i64)>,
    /// People the write replaces, each with the memberships it read them with: the store
    /// refuses the write as [`StoreError::Stale`](crate::StoreError::Stale) when a person's
    /// memberships (corp, userid, status) differ at commit, so that two writes racing on one
    /// person cannot drop each other's memberships. A person read as new has none.
    pub people_as_read: Vec<(PersonId, Vec<MembershipKey>)>,
    /// The entries appended to the change log, in this order, stamped `at`.
    pub log: Vec<NewChange>,
    /// When the write happens.
    pub at: Millis,
}

/// A membership as a write read it: enough to tell whether another writer added, removed or
/// ended one since.
pub type MembershipKey = (CorpId, UserId, MemberStatus);

/// The [`MembershipKey`]s of `members`, sorted: what [`Write::people_as_read`] holds.
pub fn membership_keys(members: &[Member]) -> Vec<MembershipKey> {
    sorted_keys(
        members
            .iter()
            .map(|m| {
                (
                    m.membership.corp_id.clone(),
                    m.membership.userid.clone(),
                    m.membership.status,
                )
            })
            .collect(),
    )
}

/// `keys` in the order [`Write::people_as_read`] compares them in.
pub fn sorted_keys(mut keys: Vec<MembershipKey>) -> Vec<MembershipKey> {
    keys.sort_by(|a, b| (&a.0.0, &a.1.0, a.2.as_str()).cmp(&(&b.0.0, &b.1.0, b.2.as_str())));
    keys
}

fn user(corp: &CorpId, kind: ChangeKind, userid: &str) -> NewChange {
    NewChange {
        corp_id: corp.clone(),
        kind,
        subject: userid.to_owned(),
    }
}

/// What a person shows in every corp: a change to it changes each of their member records.
fn visible(p: &Person) -> impl PartialEq + '_ {
    (&p.nick, &p.mobile, &p.email, &p.avatar_url, &p.login_id)
}

/// The entries a member's change from `before` to `after` makes (either may be absent; an absent
/// or departed member is not in the corp). `person_changed` says the person's visible fields
/// changed.
pub fn member_changes(before: Option<&Member>, after: Option<&Member>, person_changed: bool) -> Vec<NewChange> {
    fn active(m: Option<&Member>) -> Option<&Member> {
        m.filter(|m| m.membership.status == MemberStatus::Active)
    }
    let admin = |m: Option<&Member>| active(m).is_some_and(|m| m.details.admin);
    let Some(any) = after.or(before) else {
        return Vec::new();
    };
    let (corp, userid) = (&any.membership.corp_id, any.membership.userid.0.as_str());
    let mut out = Vec::new();
    match (active(before), active(after)) {
        (None, Some(_)) => out.push(user(corp, ChangeKind::UserAdd, userid)),
        (Some(_), None) => out.push(user(corp, ChangeKind::UserLeave, userid)),
        (Some(b), Some(a)) => {
            let same = b.membership.name == a.membership.name && {
                // The departure is absent for both; the admin flags are their own events.
                let (mut bd, mut ad) = (b.details.clone(), a.details.clone());
                (bd.admin, bd.main_admin, ad.admin, ad.main_admin) = (false, false, false, false);
                bd == ad
            };
            if !same || person_changed {
                out.push(user(corp, ChangeKind::UserModify, userid));
            }
        }
        (None, None) => {}
    }
    match (admin(before), admin(after)) {
        (false, true) => out.push(user(corp, ChangeKind::AdminAdd, userid)),
        (true, false) if active(after).is_some() => out.push(user(corp, ChangeKind::AdminRemove, userid)),
        _ => {}
    }
    out
}

/// The entry a department's change makes, if any.
pub fn department_change(before: Option<&Department>, after: &Department) -> Option<NewChange> {
    let kind = match before {
        None => ChangeKind::DeptCreate,
        Some(b) if b != after => ChangeKind::DeptModify,
        Some(_) => return None,
    };
    Some(NewChange {
        corp_id: after.corp_id.clone(),
        kind,
        subject: after.id.to_string(),
    })
}

/// Whether two versions of a person differ in what their corps see.
pub fn person_changed(before: Option<&Person>, after: &Person) -> bool {
    before.is_none_or(|b| visible(b) != visible(after))
}

/// Sorts a write's entries into the order a reader expects: departments created before the
/// members placed in them, members leaving before departments removed.
pub fn ordered(mut log: Vec<NewChange>) -> Vec<NewChange> {
    let rank = |k: ChangeKind| match k {
        ChangeKind::DeptCreate | ChangeKind::DeptModify => 0,
        ChangeKind::DeptRemove => 2,
        _ => 1,
    };
    let mut seen = BTreeSet::new();
    log.retain(|c| seen.insert((c.corp_id.clone(), c.kind, c.subject.clone())));
    log.sort_by_key(|c| rank(c.kind));
    log
}
