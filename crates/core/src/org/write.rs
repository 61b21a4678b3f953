//! Directory writes on the legacy gateway: members join, change and leave; departments are
//! created, changed and removed. Each is one store transaction that also appends its entries to
//! the change log ([`crate::change`]). docs/wire/writes-and-callbacks.md §1.
//!
//! Only internal apps with `qyapi_manage_addresslist` write, acting in their own corp, within
//! their contact range. A member who is deleted departs (the record stays, the userid stays
//! taken), as a seed's departure does.

use crate::StoreError;
use crate::change::{self, ChangeKind, NewChange, Write};
use crate::error::{Error, Refusal};
use crate::ident::{person_id_for, person_number, userid_for};
use crate::mobile::Mobile;
use crate::model::{
    AppKind, Department, Departure, DeptVisibility, Directory, LeaveReason, Member, MemberDept, MemberDetails,
    MemberStatus, Membership, Person, ROOT_DEPT,
};
use crate::service::{Caller, Service};
use crate::store::DirectoryStore;
use dingdir_proto::ids::{CorpId, UserId};
use dingdir_proto::oapi::{DeptCreateResult, DeptWriteRequest, UserCreateResult, UserWriteRequest};
use dingdir_proto::scope::QYAPI_MANAGE_ADDRESSLIST;

/// The longest member name a write takes.
const MAX_NAME: usize = 80;
/// The longest department name.
const MAX_DEPT_NAME: usize = 64;
/// The most departments a member may be placed in by one write.
const MAX_DEPTS: usize = 100;
/// How often a department create retries when a concurrent one took its id.
const CREATE_ATTEMPTS: usize = 5;

/// Comma-separated department ids, or `40035`-style invalid parameter naming `name`.
fn ids(list: &str, name: &'static str) -> Result<Vec<i64>, Error> {
    let ids: Vec<i64> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().map_err(|_| Error::InvalidParameter { name }))
        .collect::<Result<_, _>>()?;
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(Error::InvalidParameter { name });
    }
    Ok(ids)
}

/// A text field within `max` characters, or invalid parameter `name`.
fn bounded(value: Option<&str>, max: usize, name: &'static str) -> Result<(), Error> {
    match value {
        Some(v) if v.chars().count() > max => Err(Error::InvalidParameter { name }),
        _ => Ok(()),
    }
}

/// A required name: non-empty after trimming, within `max` characters.
fn required_name(value: Option<&str>, max: usize) -> Result<String, Error> {
    let name = value.map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > max {
        return Err(Error::InvalidParameter { name: "name" });
    }
    Ok(name.to_owned())
}

/// A department name as DingTalk takes it: 1 to 64 characters, none of `-`, `,` or `，`.
fn dept_name(value: Option<&str>) -> Result<String, Error> {
    let name = required_name(value, MAX_DEPT_NAME)?;
    if name.contains(['-', ',', '，']) {
        return Err(Error::InvalidParameter { name: "name" });
    }
    Ok(name)
}

/// Extension attributes from their JSON-object string.
fn extension(text: &str) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| Error::InvalidParameter { name: "extension" })?;
    let object = value.as_object().ok_or(Error::InvalidParameter { name: "extension" })?;
    Ok(object
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect())
}

/// Applies a write request's optional record fields to `details`, keeping what it leaves out.
fn fill_details(details: &mut MemberDetails, req: &UserWriteRequest) -> Result<(), Error> {
    bounded(req.title.as_deref(), 200, "title")?;
    bounded(req.job_number.as_deref(), 50, "job_number")?;
    bounded(req.telephone.as_deref(), 50, "telephone")?;
    bounded(req.work_place.as_deref(), 100, "work_place")?;
    bounded(req.org_email.as_deref(), 100, "org_email")?;
    bounded(req.remark.as_deref(), 2000, "remark")?;
    bounded(req.extension.as_deref(), 2000, "extension")?;
    let set = |field: &mut Option<String>, value: &Option<String>| {
        if let Some(v) = value {
            *field = (!v.is_empty()).then(|| v.clone());
        }
    };
    set(&mut details.title, &req.title);
    set(&mut details.job_number, &req.job_number);
    set(&mut details.work_place, &req.work_place);
    set(&mut details.telephone, &req.telephone);
    set(&mut details.org_email, &req.org_email);
    set(&mut details.remark, &req.remark);
    if let Some(d) = req.hired_date {
        details.hired_date = Some(d);
    }
    if let Some(m) = &req.manager_userid {
        details.manager_userid = (!m.is_empty()).then(|| UserId(m.clone()));
    }
    if let Some(s) = req.senior_mode {
        details.senior = s;
    }
    if let Some(h) = req.hide_mobile {
        details.hide_mobile = h;
    }
    if let Some(text) = &req.extension {
        details.extension = extension(text)?;
    }
    Ok(())
}

impl Service {
    /// The corp a directory write acts in: an internal app's token holding
    /// `qyapi_manage_addresslist`.
    pub fn may_write_directory(caller: &Caller) -> Result<&CorpId, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_MANAGE_ADDRESSLIST)?;
        if caller.app.kind != AppKind::Internal {
            return Err(Error::WrongAppType {
                scope: QYAPI_MANAGE_ADDRESSLIST,
            });
        }
        Ok(corp)
    }

    /// Commits one write and forgets what this node cached.
    async fn commit(&self, write: Write) -> Result<(), Error> {
        let result = self.store.apply(&write).await;
        self.invalidate();
        match result {
            Err(StoreError::Refused(why)) => Err(Error::WriteRefused(why)),
            other => Ok(other?),
        }
    }

    /// A person with every membership they hold, as a write that replaces them must carry.
    async fn person_with_members(&self, person: Person) -> Result<(Person, Vec<Member>), Error> {
        let mut members = Vec::new();
        for m in self.store.memberships_of(&person.id).await? {
            if let Some(member) = self.store.member(&m.corp_id, &m.userid).await? {
                members.push(member);
            }
        }
        Ok((person, members))
    }

    /// Departments a member is placed in: each must exist and lie in the caller's range.
    async fn placement(
        &self,
        caller: &Caller,
        corp: &CorpId,
        list: &str,
        orders: Option<&[dingdir_proto::oapi::DeptOrder]>,
        before: &[MemberDept],
    ) -> Result<Vec<MemberDept>, Error> {
        let ids = ids(list, "dept_id_list")?;
        if ids.is_empty() || ids.len() > MAX_DEPTS {
            return Err(Error::InvalidParameter { name: "dept_id_list" });
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if id < ROOT_DEPT || self.store.department(corp, id).await?.is_none() {
                return Err(Error::DepartmentNotFound);
            }
            self.check_department_range(caller, corp, id).await?;
            let kept = before.iter().find(|d| d.dept_id == id);
            let order = orders
                .and_then(|o| o.iter().find(|o| o.dept_id == id))
                .map(|o| o.order)
                .or(kept.map(|d| d.order))
                .unwrap_or(0);
            out.push(MemberDept {
                dept_id: id,
                order,
                leader: kept.is_some_and(|d| d.leader),
            });
        }
        Ok(out)
    }

    /// `POST /topapi/v2/user/create`: a person joins the caller's corp. A normal account with
    /// the mobile joins as it is (one DingTalk account in several corps); otherwise the account
    /// is created.
    pub async fn user_create(&self, caller: &Caller, req: &UserWriteRequest) -> Result<UserCreateResult, Error> {
        for _ in 0..CREATE_ATTEMPTS {
            match self.user_create_once(caller, req).await {
                Err(Error::Store(StoreError::Stale(_))) => continue,
                other => return other,
            }
        }
        Err(Error::Overloaded)
    }

    /// One try of the write above; [`StoreError::Stale`] when another write changed the person first.
    async fn user_create_once(&self, caller: &Caller, req: &UserWriteRequest) -> Result<UserCreateResult, Error> {
        let corp = Self::may_write_directory(caller)?.clone();
        let name = required_name(req.name.as_deref(), MAX_NAME)?;
        let mobile_text = req.mobile.as_deref().map(str::trim).unwrap_or_default();
        if mobile_text.is_empty() {
            return Err(Error::MobileMissing);
        }
        let mobile = Mobile::parse(mobile_text).map_err(|_| Error::WriteRefused(Refusal::MobileInvalid))?;
        bounded(req.email.as_deref(), 50, "email")?;
        if let Some(u) = req.userid.as_deref() {
            if u.is_empty() || u.len() > super::MAX_USERID {
                return Err(Error::InvalidParameter { name: "userid" });
            }
        }
        let list = req.dept_id_list.as_deref().unwrap_or_default();
        let departments = self
            .placement(caller, &corp, list, req.dept_order_list.as_deref(), &[])
            .await?;
        let existing = self.store.person_by_mobile(&mobile).await?;
        let (mut person, mut members) = match existing {
            Some(p) => self.person_with_members(p).await?,
            None => {
                let id = person_id_for(&["mobile", &mobile.to_string()]);
                let person = Person {
                    number: person_number(&id),
                    id,
                    nick: name.clone(),
                    mobile: Some(mobile),
                    email: None,
                    avatar_url: None,
                    password_hash: None,
                    exclusive_of: None,
                    login_id: None,
                };
                (person, Vec::new())
            }
        };
        if members
            .iter()
            .any(|m| m.membership.corp_id == corp && m.membership.status == MemberStatus::Active)
        {
            return Err(Error::WriteRefused(Refusal::MobileTaken));
        }
        let userid = match req.userid.as_deref() {
            Some(u) => UserId(u.to_owned()),
            None => userid_for(&corp, &person.id),
        };
        if self.store.membership(&corp, &userid).await?.is_some() {
            return Err(Error::WriteRefused(Refusal::UserIdTaken));
        }
        if let Some(email) = req.email.as_deref().filter(|e| !e.is_empty()) {
            person.email = Some(email.to_owned());
        }
        let mut details = MemberDetails {
            departments,
            ..MemberDetails::default()
        };
        fill_details(&mut details, req)?;
        let member = Member {
            membership: Membership {
                corp_id: corp.clone(),
                userid: userid.clone(),
                person_id: person.id.clone(),
                name: (name != person.nick).then_some(name),
                status: MemberStatus::Active,
            },
            details,
        };
        let log = change::member_changes(None, Some(&member), false);
        let as_read = change::membership_keys(&members);
        members.push(member);
        let union_id = self.ids().union_id(&caller.app.developer(), person.number).0;
        self.commit_person(person, as_read, members, log)
            .await
            .map_err(|e| match e {
                // A concurrent create took the userid or the mobile between the checks and the write.
                // The store's conflict names what collided: the mobile's unique index is
                // `people_normal_mobile` (PostgreSQL names it, SQLite names `people.mobile`).
                Error::Store(StoreError::Conflict(what)) if what.contains("mobile") => {
                    Error::WriteRefused(Refusal::MobileTaken)
                }
                Error::Store(StoreError::Conflict(_)) => Error::WriteRefused(Refusal::UserIdTaken),
                other => other,
            })?;
        Ok(UserCreateResult {
            userid: userid.0,
            union_id,
        })
    }

    /// An active member of the caller's corp in its range, with their person and every
    /// membership the person holds.
    async fn writable_member(
        &self,
        caller: &Caller,
        corp: &CorpId,
        userid: Option<&str>,
    ) -> Result<(Member, Person, Vec<Member>), Error> {
        let userid = userid.unwrap_or_default();
        if userid.is_empty() || userid.len() > super::MAX_USERID {
            return Err(Error::InvalidParameter { name: "userid" });
        }
        let member = self
            .store
            .member(corp, &UserId(userid.to_owned()))
            .await?
            .filter(|m| m.membership.status == MemberStatus::Active)
            .ok_or(Error::UserNotFound)?;
        self.check_member_range(caller, corp, &member).await?;
        let person = self
            .store
            .person(&member.membership.person_id)
            .await?
            .ok_or(Error::UserNotFound)?;
        let (person, members) = self.person_with_members(person).await?;
        // The member as the person's own read has it, so that what the write replaces and the
        // memberships it is checked against come from one read: a delete committed between the
        // two reads makes this a 60121, never an update that brings the member back.
        let member = members
            .iter()
            .find(|m| m.membership.corp_id == *corp && m.membership.userid == member.membership.userid)
            .filter(|m| m.membership.status == MemberStatus::Active)
            .cloned()
            .ok_or(Error::UserNotFound)?;
        Ok((member, person, members))
    }

    /// Writes one member's new version among their person's memberships, logging what changed.
    async fn replace_member(
        &self,
        before: &Member,
        person: Person,
        mut members: Vec<Member>,
        after: Member,
        person_changed: bool,
    ) -> Result<(), Error> {
        let log = change::member_changes(Some(before), Some(&after), person_changed);
        let as_read = change::membership_keys(&members);
        for m in &mut members {
            if m.membership.corp_id == after.membership.corp_id && m.membership.userid == after.membership.userid {
                *m = after.clone();
            }
        }
        self.commit_person(person, as_read, members, log).await
    }

    /// Writes a person with every membership they hold, and the entries the write logs, if the
    /// person still has the memberships `as_read` when the write commits.
    async fn commit_person(
        &self,
        person: Person,
        as_read: Vec<change::MembershipKey>,
        members: Vec<Member>,
        log: Vec<NewChange>,
    ) -> Result<(), Error> {
        self.commit(Write {
            people_as_read: vec![(person.id.clone(), as_read)],
            directory: Directory {
                people: vec![(person, members)],
                ..Directory::default()
            },
            log,
            at: self.now(),
            ..Write::default()
        })
        .await
    }

    /// `POST /topapi/v2/user/update`: changes an active member's record; what the request leaves
    /// out is kept. The mobile is not changed here, as on DingTalk.
    pub async fn user_update(&self, caller: &Caller, req: &UserWriteRequest) -> Result<(), Error> {
        for _ in 0..CREATE_ATTEMPTS {
            match self.user_update_once(caller, req).await {
                Err(Error::Store(StoreError::Stale(_))) => continue,
                other => return other,
            }
        }
        Err(Error::Overloaded)
    }

    /// One try of the write above; [`StoreError::Stale`] when another write changed the person first.
    async fn user_update_once(&self, caller: &Caller, req: &UserWriteRequest) -> Result<(), Error> {
        let corp = Self::may_write_directory(caller)?.clone();
        let (before, mut person, members) = self.writable_member(caller, &corp, req.userid.as_deref()).await?;
        let mut after = before.clone();
        if let Some(name) = req.name.as_deref() {
            let name = required_name(Some(name), MAX_NAME)?;
            after.membership.name = (name != person.nick).then_some(name);
        }
        if let Some(list) = req.dept_id_list.as_deref() {
            after.details.departments = self
                .placement(
                    caller,
                    &corp,
                    list,
                    req.dept_order_list.as_deref(),
                    &before.details.departments,
                )
                .await?;
        } else if let Some(orders) = &req.dept_order_list {
            for d in &mut after.details.departments {
                if let Some(o) = orders.iter().find(|o| o.dept_id == d.dept_id) {
                    d.order = o.order;
                }
            }
        }
        fill_details(&mut after.details, req)?;
        let before_person = person.clone();
        if let Some(email) = req.email.as_deref() {
            bounded(Some(email), 50, "email")?;
            person.email = (!email.is_empty()).then(|| email.to_owned());
        }
        let changed = change::person_changed(Some(&before_person), &person);
        self.replace_member(&before, person, members, after, changed).await
    }

    /// `POST /topapi/v2/user/delete`: an active member departs now, deleted through the API.
    pub async fn user_delete(&self, caller: &Caller, userid: &str) -> Result<(), Error> {
        for _ in 0..CREATE_ATTEMPTS {
            match self.user_delete_once(caller, userid).await {
                Err(Error::Store(StoreError::Stale(_))) => continue,
                other => return other,
            }
        }
        Err(Error::Overloaded)
    }

    /// One try of the write above; [`StoreError::Stale`] when another write changed the person first.
    async fn user_delete_once(&self, caller: &Caller, userid: &str) -> Result<(), Error> {
        let corp = Self::may_write_directory(caller)?.clone();
        let (before, person, members) = self.writable_member(caller, &corp, Some(userid)).await?;
        let mut after = before.clone();
        after.membership.status = MemberStatus::Departed;
        after.details.departure = Some(Departure {
            left_at: Some(self.now()),
            reason: LeaveReason::Oapi,
        });
        self.replace_member(&before, person, members, after, false).await
    }

    /// Whether [`Self::user_delete`] would take `userid` now: its checks, with nothing written.
    /// The old batch delete checks its whole list first.
    pub async fn check_user_delete(&self, caller: &Caller, userid: &str) -> Result<(), Error> {
        let corp = Self::may_write_directory(caller)?.clone();
        self.writable_member(caller, &corp, Some(userid)).await.map(|_| ())
    }

    /// The hidden flag and permits a department write asks for, over `before`'s.
    fn visibility(req: &DeptWriteRequest, before: Option<&DeptVisibility>) -> Result<Option<DeptVisibility>, Error> {
        let hidden = req.hide_dept.unwrap_or(before.is_some());
        if !hidden {
            return Ok(None);
        }
        let mut v = before.cloned().unwrap_or_default();
        if let Some(list) = &req.dept_permits {
            let mut d = ids(list, "dept_permits")?;
            d.sort_unstable();
            v.departments = d;
        }
        if let Some(list) = &req.user_permits {
            let mut u: Vec<UserId> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| UserId(s.to_owned()))
                .collect();
            u.sort();
            u.dedup();
            v.users = u;
        }
        if v.departments.len() > 50 || v.users.len() > 50 {
            return Err(Error::InvalidParameter { name: "dept_permits" });
        }
        Ok(Some(v))
    }

    /// `parent`, when it exists and lies in the caller's range; its children.
    async fn parent_children(&self, caller: &Caller, corp: &CorpId, parent: i64) -> Result<Vec<Department>, Error> {
        if parent < ROOT_DEPT || self.store.department(corp, parent).await?.is_none() {
            return Err(Error::WriteRefused(Refusal::ParentNotFound));
        }
        self.check_department_range(caller, corp, parent).await?;
        Ok(self.store.sub_departments(corp, parent).await?)
    }

    /// `POST /topapi/v2/department/create`: a department under `parent_id`, named uniquely among
    /// its siblings; its id is the corp's next.
    pub async fn department_create(&self, caller: &Caller, req: &DeptWriteRequest) -> Result<DeptCreateResult, Error> {
        let corp = Self::may_write_directory(caller)?.clone();
        let name = dept_name(req.name.as_deref())?;
        let parent = req.parent_id.ok_or(Error::InvalidParameter { name: "parent_id" })?;
        let siblings = self.parent_children(caller, &corp, parent).await?;
        if siblings.iter().any(|d| d.name == name) {
            return Err(Error::WriteRefused(Refusal::DepartmentNameTaken));
        }
        let hidden = Self::visibility(req, None)?;
        for _ in 0..CREATE_ATTEMPTS {
            let next = self.store.last_department_id(&corp).await?.unwrap_or(ROOT_DEPT) + 1;
            let department = Department {
                corp_id: corp.clone(),
                id: next,
                name: name.clone(),
                parent_id: Some(parent),
                order: req.order.unwrap_or(next),
                hidden: hidden.clone(),
            };
            let log = change::department_change(None, &department).into_iter().collect();
            match self
                .commit(Write {
                    new_departments: vec![department],
                    log,
                    at: self.now(),
                    ..Write::default()
                })
                .await
            {
                Ok(()) => return Ok(DeptCreateResult { dept_id: next }),
                Err(Error::Store(StoreError::Conflict(_))) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Overloaded)
    }

    /// The department a write names: it exists, is not the root, lies in the caller's range.
    async fn writable_department(
        &self,
        caller: &Caller,
        corp: &CorpId,
        id: Option<i64>,
        root: Refusal,
    ) -> Result<Department, Error> {
        let id = id.ok_or(Error::InvalidParameter { name: "dept_id" })?;
        if id == ROOT_DEPT {
            return Err(Error::WriteRefused(root));
        }
        let d = self
            .store
            .department(corp, id)
            .await?
            .filter(|_| id > ROOT_DEPT)
            .ok_or(Error::DepartmentNotFound)?;
        self.check_department_range(caller, corp, id).await?;
        Ok(d)
    }

    /// `POST /topapi/v2/department/update`: renames, moves, reorders or hides a department; what
    /// the request leaves out is kept.
    pub async fn department_update(&self, caller: &Caller, req: &DeptWriteRequest) -> Result<(), Error> {
        let corp = Self::may_write_directory(caller)?.clone();
        let before = self
            .writable_department(caller, &corp, req.dept_id, Refusal::RootUnchangeable)
            .await?;
        let mut after = before.clone();
        if let Some(name) = req.name.as_deref() {
            after.name = dept_name(Some(name))?;
        }
        if let Some(parent) = req.parent_id {
            after.parent_id = Some(parent);
        }
        let parent = after.parent_id.unwrap_or(ROOT_DEPT);
        let siblings = self.parent_children(caller, &corp, parent).await?;
        if parent != before.parent_id.unwrap_or(ROOT_DEPT)
            && self.path_to_root(&corp, parent).await?.contains(&before.id)
        {
            return Err(Error::WriteRefused(Refusal::DepartmentCycle));
        }
        if siblings.iter().any(|d| d.id != before.id && d.name == after.name) {
            return Err(Error::WriteRefused(Refusal::DepartmentNameTaken));
        }
        if let Some(order) = req.order {
            after.order = order;
        }
        after.hidden = Self::visibility(req, before.hidden.as_ref())?;
        let log = change::department_change(Some(&before), &after).into_iter().collect();
        self.commit(Write {
            directory: Directory {
                departments: vec![after],
                ..Directory::default()
            },
            log,
            at: self.now(),
            ..Write::default()
        })
        .await
    }

    /// `POST /topapi/v2/department/delete`: removes a department with no sub-departments and no
    /// active members (checked again inside the write, against concurrent writers).
    pub async fn department_delete(&self, caller: &Caller, id: Option<i64>) -> Result<(), Error> {
        let corp = Self::may_write_directory(caller)?.clone();
        let d = self
            .writable_department(caller, &corp, id, Refusal::RootUndeletable)
            .await?;
        self.commit(Write {
            removed_departments: vec![(corp.clone(), d.id)],
            log: vec![NewChange {
                corp_id: corp,
                kind: ChangeKind::DeptRemove,
                subject: d.id.to_string(),
            }],
            at: self.now(),
            ..Write::default()
        })
        .await
    }
}
