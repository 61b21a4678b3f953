//! The directory as integrations read it on the legacy gateway: the full member record, a
//! unionId's userid, departments and their members. docs/wire/directory-read.md §2.1–2.12.
//!
//! Every read acts in the caller's corp: an internal app's token, or a third-party enterprise
//! app's corp token. A member who departed answers as one who never existed (`60121`). Reads
//! of a member record or of a department are limited by the app's contact range (`50002`,
//! `50004`); the id lists, counts and paths DingTalk documents as unlimited are not (§1.4).

use crate::error::Error;
use crate::model::{AppKind, Department, Member, MemberStatus, Person, ROOT_DEPT};
use crate::service::{Caller, Service};
use crate::store::DirectoryStore;
use crate::token::TokenKind;
use dingdir_proto::ids::{CorpId, UserId};
use dingdir_proto::oapi::{
    AdminEntry, DepartmentBase, DepartmentGetResult, DeptLeader, DeptOrder, GetByUnionIdResult, ListUser, Page,
    ParentDeptList, ParentListResult, SimpleUser, UserCountResult, UserGetRequest, UserGetResult, UserListRequest,
    UserRole,
};
use dingdir_proto::scope::{
    CONTACT_USER_MOBILE, QYAPI_GET_DEPARTMENT_LIST, QYAPI_GET_DEPARTMENT_MEMBER, QYAPI_GET_MEMBER,
};
use std::sync::Arc;

mod in_app;
mod legacy;
mod write;

/// The longest userid `/topapi/v2/user/get` takes (the Java SDK's own check).
pub(crate) const MAX_USERID: usize = 64;
/// The longest unionId `/topapi/user/getbyunionid` takes (the Java SDK's own check).
const MAX_UNIONID: usize = 100;
/// The largest page of a member list (listsimple's page; the Java SDK's check for both).
const MAX_PAGE: i64 = 100;
/// The orders a member list takes. docs/wire/directory-read.md §2.3.
const ORDER_FIELDS: [&str; 5] = ["custom", "entry_asc", "entry_desc", "modify_asc", "modify_desc"];
/// How many parents a department may have before the chain counts as broken.
const MAX_DEPTH: usize = 64;

/// How `/topapi/v2/user/get` names a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKey<'a> {
    /// A userid in the caller's corp.
    UserId(&'a str),
    /// The login name of an exclusive account the caller's corp created.
    LoginId(&'a str),
}

impl<'a> MemberKey<'a> {
    /// The key a request names: a non-empty `login_id` wins over `userid`, as DingTalk documents.
    pub fn of(request: &'a UserGetRequest) -> Self {
        match request.login_id.as_deref() {
            Some(login_id) if !login_id.is_empty() => Self::LoginId(login_id),
            _ => Self::UserId(&request.userid),
        }
    }
}

/// A userid as `/topapi/v2/user/get` takes it, or `40035` naming `userid`.
fn check_userid(userid: &str) -> Result<(), Error> {
    if userid.is_empty() || userid.len() > MAX_USERID {
        return Err(Error::InvalidParameter { name: "userid" });
    }
    Ok(())
}

impl Service {
    /// The corp a legacy directory read acts in, when `caller` may make it: an app token (not a
    /// user token), of an internal or third-party enterprise app holding `scope`, acting in a corp.
    pub fn may_read_directory<'c>(caller: &'c Caller, scope: &'static str) -> Result<&'c CorpId, Error> {
        if caller.kind == TokenKind::User {
            return Err(Error::TokenInvalid);
        }
        if caller.app.kind == AppKind::ThirdPartyPersonal {
            return Err(Error::WrongAppType { scope });
        }
        if !caller.app.has_scope(scope) {
            return Err(Error::ScopeMissing { scope });
        }
        caller
            .corp_id
            .as_ref()
            .or(caller.app.corp_id.as_ref())
            .ok_or(Error::WrongAppType { scope })
    }

    /// `POST /topapi/v2/user/get`: an active member's full record, found by userid or by an
    /// exclusive account's login name. Third-party enterprise apps get no contact or HR fields
    /// (mobile, email, telephone, work place, remark, org email, hire date); internal apps get
    /// the mobile with the mobile permission (`Contact.User.mobile`, dingdir's stand-in for the
    /// console's field permission).
    pub async fn user_get(&self, caller: &Caller, key: MemberKey<'_>) -> Result<UserGetResult, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_MEMBER)?;
        let member = self
            .member_by_key(corp, key)
            .await?
            .filter(|m| m.membership.status == MemberStatus::Active)
            .ok_or(Error::UserNotFound)?;
        self.check_member_range(caller, corp, &member).await?;
        let person = self
            .person(&member.membership.person_id)
            .await?
            .ok_or(Error::UserNotFound)?;
        let r = self.record(caller, &member, &person);
        let (m, d) = (&member.membership, &member.details);
        let role_list = if d.roles.is_empty() {
            None
        } else {
            let roles = self.store.roles(corp).await?;
            let held = d.roles.iter().filter_map(|id| roles.iter().find(|r| r.id == *id));
            Some(
                held.map(|r| UserRole {
                    group_name: r.group.clone(),
                    id: r.id,
                    name: r.name.clone(),
                })
                .collect(),
            )
        };
        Ok(UserGetResult {
            active: true,
            admin: d.admin,
            avatar: r.avatar,
            boss: d.boss,
            dept_id_list: d.departments.iter().map(|x| x.dept_id).collect(),
            dept_order_list: d
                .departments
                .iter()
                .map(|x| DeptOrder {
                    dept_id: x.dept_id,
                    order: x.order,
                })
                .collect(),
            email: r.email,
            exclusive_account: person.exclusive_of.is_some(),
            exclusive_account_corp_id: person.exclusive_of.as_ref().map(|c| c.0.clone()),
            exclusive_account_type: r.exclusive_account_type,
            extension: r.extension,
            hide_mobile: d.hide_mobile,
            hired_date: r.hired_date,
            job_number: d.job_number.clone(),
            leader_in_dept: d
                .departments
                .iter()
                .map(|x| DeptLeader {
                    dept_id: x.dept_id,
                    leader: x.leader,
                })
                .collect(),
            login_id: r.login_id,
            manager_userid: d.manager_userid.as_ref().map(|u| u.0.clone()),
            mobile: r.mobile,
            name: r.name,
            org_email: r.org_email,
            real_authed: true,
            remark: r.remark,
            role_list,
            senior: d.senior,
            state_code: r.state_code,
            telephone: r.telephone,
            title: d.title.clone(),
            unionid: r.unionid,
            userid: m.userid.0.clone(),
            work_place: r.work_place,
        })
    }

    /// [`Self::user_get`]'s `result`, serialised, built once per cache TTL for each (app, corp,
    /// userid): the app decides the contact range and which fields show, so the same bytes
    /// answer every later call of that app. The permission and the userid are checked first,
    /// every time. A lookup by login name is rare and answered uncached.
    pub async fn user_get_json(&self, caller: &Caller, key: MemberKey<'_>) -> Result<Arc<[u8]>, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_MEMBER)?;
        let to_json = |record: &UserGetResult| -> Result<Arc<[u8]>, Error> {
            Ok(serde_json::to_vec(record)
                .map_err(|e| Error::Store(crate::StoreError::Other(Box::new(e))))?
                .into())
        };
        let MemberKey::UserId(userid) = key else {
            return to_json(&self.user_get(caller, key).await?);
        };
        check_userid(userid)?;
        let cache_key = (caller.app.key.clone(), corp.clone(), UserId(userid.to_owned()));
        let now = self.now();
        if let Some(json) = self.caches.records.get(&cache_key, now) {
            return Ok(json);
        }
        let json = to_json(&self.user_get(caller, key).await?)?;
        self.caches.records.put(cache_key, json.clone(), now);
        Ok(json)
    }

    /// The member `key` names in `corp`, whatever their status: a login name names an exclusive
    /// account `corp` owns, and through it that account's one membership.
    async fn member_by_key(&self, corp: &CorpId, key: MemberKey<'_>) -> Result<Option<Arc<Member>>, Error> {
        let userid = match key {
            MemberKey::UserId(userid) => {
                check_userid(userid)?;
                UserId(userid.to_owned())
            }
            MemberKey::LoginId(login_id) => {
                let Some(person) = self.store.person_by_login_id(corp, login_id).await? else {
                    return Ok(None);
                };
                let memberships = self.memberships_of(&person.id).await?;
                match memberships.iter().find(|m| &m.corp_id == corp) {
                    Some(m) => m.userid.clone(),
                    None => return Ok(None),
                }
            }
        };
        self.member(corp, &userid).await
    }

    /// The parts of a member record that depend on who asks: what an app of this kind and with
    /// these permissions may see.
    fn record(&self, caller: &Caller, member: &Member, person: &Person) -> Record {
        let internal = caller.app.kind == AppKind::Internal;
        let d = &member.details;
        let (mobile, state_code) = match &person.mobile {
            Some(mob) if internal && caller.app.has_scope(CONTACT_USER_MOBILE) => {
                (Some(mob.national().to_owned()), Some(mob.state_code().to_owned()))
            }
            _ => (None, None),
        };
        let only_internal = |v: &Option<String>| v.clone().filter(|_| internal);
        Record {
            avatar: person.avatar_url.clone().unwrap_or_default(),
            email: only_internal(&person.email),
            exclusive_account_type: person.exclusive_of.as_ref().map(|_| "dingtalk".to_owned()),
            extension: d.extension_json().filter(|_| internal),
            hired_date: d.hired_date.filter(|_| internal),
            login_id: person
                .login_id
                .clone()
                .filter(|_| person.exclusive_of.as_ref() == Some(&member.membership.corp_id)),
            mobile,
            name: member.membership.name.clone().unwrap_or_else(|| person.nick.clone()),
            org_email: only_internal(&d.org_email),
            remark: only_internal(&d.remark),
            state_code,
            telephone: only_internal(&d.telephone),
            unionid: self.union_id(&caller.app.developer(), person.number).to_string(),
            work_place: only_internal(&d.work_place),
        }
    }

    /// `POST /topapi/user/getbyunionid`: the userid in the caller's corp of the active member
    /// behind a unionId of the caller's developer account.
    pub async fn userid_by_union_id(&self, caller: &Caller, union_id: &str) -> Result<GetByUnionIdResult, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_MEMBER)?;
        if union_id.is_empty() || union_id.len() > MAX_UNIONID {
            return Err(Error::InvalidParameter { name: "unionid" });
        }
        let number = self
            .ids()
            .person_of_union_id(&caller.app.developer(), union_id)
            .ok_or(Error::UserNotFound)?;
        let person = self.person_by_number(number).await?.ok_or(Error::UserNotFound)?;
        let memberships = self.memberships_of(&person.id).await?;
        let member = memberships
            .iter()
            .find(|m| &m.corp_id == corp && m.status == MemberStatus::Active)
            .ok_or(Error::UserNotFound)?;
        Ok(GetByUnionIdResult {
            contact_type: 0,
            userid: member.userid.0.clone(),
        })
    }

    /// The caller's department `id`; ids below 1 are simply unknown.
    pub(crate) async fn department_of(&self, corp: &CorpId, id: i64) -> Result<Arc<Department>, Error> {
        if id < ROOT_DEPT {
            return Err(Error::DepartmentNotFound);
        }
        self.department(corp, id).await?.ok_or(Error::DepartmentNotFound)
    }

    /// Whether department `dept` is in the caller's contact range: the range lists it or a
    /// department above it. An app without a range in the corp reads it whole.
    async fn department_in_range(&self, caller: &Caller, corp: &CorpId, dept: i64) -> Result<bool, Error> {
        let Some(range) = caller.app.contact_range(corp) else {
            return Ok(true);
        };
        if range.departments.is_empty() {
            return Ok(false);
        }
        let path = self.path_to_root(corp, dept).await?;
        Ok(path.iter().any(|d| range.departments.contains(d)))
    }

    /// [`Self::department_in_range`], or `50004`.
    pub(crate) async fn check_department_range(&self, caller: &Caller, corp: &CorpId, dept: i64) -> Result<(), Error> {
        if self.department_in_range(caller, corp, dept).await? {
            Ok(())
        } else {
            Err(Error::DepartmentOutOfRange)
        }
    }

    /// Whether the caller's contact range holds `member`: listed by userid, or in a department
    /// of the range (or below one). Otherwise `50002`.
    pub(crate) async fn check_member_range(
        &self,
        caller: &Caller,
        corp: &CorpId,
        member: &Member,
    ) -> Result<(), Error> {
        let Some(range) = caller.app.contact_range(corp) else {
            return Ok(());
        };
        if range.users.contains(&member.membership.userid) {
            return Ok(());
        }
        for d in &member.details.departments {
            if self.department_in_range(caller, corp, d.dept_id).await? {
                return Ok(());
            }
        }
        Err(Error::UserOutOfRange)
    }

    /// `POST /topapi/user/listid`: a department's direct active members, in member order.
    pub async fn department_userids(&self, caller: &Caller, dept: Option<i64>) -> Result<Vec<String>, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_MEMBER)?;
        let dept = dept.ok_or(Error::InvalidParameter { name: "dept_id" })?;
        self.department_of(corp, dept).await?;
        let members = self.store.department_members(corp, dept).await?;
        Ok(members.into_iter().map(|u| u.0).collect())
    }

    /// `POST /topapi/v2/department/get`: one department, its managers being the members who
    /// lead it. Settings dingdir does not model answer their defaults.
    pub async fn department_get(&self, caller: &Caller, dept: Option<i64>) -> Result<DepartmentGetResult, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_DEPARTMENT_LIST)?;
        let dept = dept.ok_or(Error::InvalidParameter { name: "dept_id" })?;
        let d = self.department_of(corp, dept).await?;
        self.check_department_range(caller, corp, dept).await?;
        let managers = self.store.department_leaders(corp, dept).await?;
        let hidden = d.hidden.as_ref();
        Ok(DepartmentGetResult {
            dept_id: d.id,
            dept_manager_userid_list: managers.into_iter().map(|u| u.0).collect(),
            dept_permits: hidden.map(|h| h.departments.clone()).unwrap_or_default(),
            hide_dept: hidden.is_some(),
            name: d.name.clone(),
            order: d.order,
            parent_id: d.parent_id,
            user_permits: hidden
                .map(|h| h.users.iter().map(|u| u.0.clone()).collect())
                .unwrap_or_default(),
            ..DepartmentGetResult::default()
        })
    }

    /// `POST /topapi/v2/department/listsub`: a department's direct children (the root's when no
    /// id is given), in sibling order; the department must be in the contact range.
    pub async fn department_children(&self, caller: &Caller, dept: Option<i64>) -> Result<Vec<DepartmentBase>, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_DEPARTMENT_LIST)?;
        let dept = dept.unwrap_or(ROOT_DEPT);
        self.department_of(corp, dept).await?;
        self.check_department_range(caller, corp, dept).await?;
        let children = self.store.sub_departments(corp, dept).await?;
        Ok(children
            .into_iter()
            .map(|c| DepartmentBase {
                auto_add_user: false,
                create_dept_group: false,
                dept_id: c.id,
                name: c.name,
                parent_id: dept,
            })
            .collect())
    }

    /// `POST /topapi/v2/department/listsubid`: the ids of a department's direct children,
    /// whatever the contact range (documented as unlimited).
    pub async fn department_child_ids(&self, caller: &Caller, dept: Option<i64>) -> Result<Vec<i64>, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_DEPARTMENT_LIST)?;
        let dept = dept.unwrap_or(ROOT_DEPT);
        self.department_of(corp, dept).await?;
        let children = self.store.sub_departments(corp, dept).await?;
        Ok(children.into_iter().map(|c| c.id).collect())
    }

    /// `POST /topapi/v2/department/listparentbydept`: the department, then each parent up to
    /// the root.
    pub async fn department_path(&self, caller: &Caller, dept: Option<i64>) -> Result<Vec<i64>, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_DEPARTMENT_LIST)?;
        let dept = dept.ok_or(Error::InvalidParameter { name: "dept_id" })?;
        self.path_to_root(corp, dept).await
    }

    /// `dept`, then each parent up to the root.
    pub(crate) async fn path_to_root(&self, corp: &CorpId, dept: i64) -> Result<Vec<i64>, Error> {
        let mut at = self.department_of(corp, dept).await?;
        let mut path = vec![at.id];
        while let Some(parent) = at.parent_id {
            if path.len() > MAX_DEPTH {
                return Err(Error::DepartmentNotFound);
            }
            at = self.department_of(corp, parent).await?;
            path.push(at.id);
        }
        Ok(path)
    }

    /// `POST /topapi/v2/department/listparentbyuser`: for each of an active member's
    /// departments, in the member's order, the path from it up to the root.
    pub async fn member_department_paths(&self, caller: &Caller, userid: &str) -> Result<ParentListResult, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_DEPARTMENT_LIST)?;
        if userid.is_empty() || userid.len() > MAX_USERID {
            return Err(Error::InvalidParameter { name: "userid" });
        }
        let member = self
            .member(corp, &UserId(userid.to_owned()))
            .await?
            .filter(|m| m.membership.status == MemberStatus::Active)
            .ok_or(Error::UserNotFound)?;
        let mut parent_list = Vec::with_capacity(member.details.departments.len());
        for d in &member.details.departments {
            parent_list.push(ParentDeptList {
                parent_dept_id_list: self.path_to_root(corp, d.dept_id).await?,
            });
        }
        Ok(ParentListResult { parent_list })
    }

    /// The department and window a member page names, checked as `/topapi/v2/user/list` (every
    /// fault `40035`) or `/topapi/user/listsimple` (`40068` cursor, `40069` size) checks them.
    async fn member_page(&self, caller: &Caller, req: &UserListRequest, simple: bool) -> Result<PageWindow, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_DEPARTMENT_MEMBER)?;
        let dept = req.dept_id.ok_or(Error::InvalidParameter { name: "dept_id" })?;
        let cursor = req.cursor.ok_or(Error::InvalidParameter { name: "cursor" })?;
        let size = req.size.ok_or(Error::InvalidParameter { name: "size" })?;
        let (bad_cursor, bad_size) = if simple {
            (Error::CursorInvalid, Error::PageSizeInvalid)
        } else {
            (
                Error::IllegalParameter { name: "cursor" },
                Error::IllegalParameter { name: "size" },
            )
        };
        if cursor < 0 {
            return Err(bad_cursor);
        }
        if !(1..=MAX_PAGE).contains(&size) {
            return Err(bad_size);
        }
        if let Some(order) = req.order_field.as_deref()
            && !ORDER_FIELDS.contains(&order)
        {
            return Err(if simple {
                Error::InvalidParameter { name: "order_field" }
            } else {
                Error::IllegalParameter { name: "order_field" }
            });
        }
        self.department_of(corp, dept).await?;
        self.check_department_range(caller, corp, dept).await?;
        Ok(PageWindow {
            corp: corp.clone(),
            dept,
            cursor,
            size,
        })
    }

    /// The members in a checked window, and the next page's cursor when there is one.
    async fn read_window(&self, w: &PageWindow) -> Result<(Vec<(Member, Person)>, Option<i64>), Error> {
        // One more than asked tells whether another page follows.
        let (offset, take) = (w.cursor.unsigned_abs(), w.size.unsigned_abs());
        let mut page = self.store.department_page(&w.corp, w.dept, offset, take + 1).await?;
        let next = (page.len() as u64 > take).then(|| {
            page.truncate(usize::try_from(take).unwrap_or(usize::MAX));
            w.cursor + w.size
        });
        Ok((page, next))
    }

    /// `POST /topapi/v2/user/list`: a page of a department's direct active members with their
    /// records, in the department's custom order. `order_field` values other than `custom` are
    /// accepted and answered in custom order: dingdir records no join or change times yet.
    /// `contain_access_limit` changes nothing: no member is hidden.
    pub async fn user_list(&self, caller: &Caller, req: &UserListRequest) -> Result<Page<ListUser>, Error> {
        let window = self.member_page(caller, req, false).await?;
        self.list_window(caller, &window).await
    }

    /// [`Self::user_list`]'s `result`, serialised: checked on every call, then built once per
    /// cache TTL for each (app, department, cursor, size), so paging a big department costs a
    /// store read per page and TTL, not per request.
    pub async fn user_list_json(&self, caller: &Caller, req: &UserListRequest) -> Result<Arc<[u8]>, Error> {
        let window = self.member_page(caller, req, false).await?;
        let key = (
            caller.app.key.clone(),
            window.corp.clone(),
            window.dept,
            window.cursor,
            window.size,
        );
        let now = self.now();
        if let Some(json) = self.caches.pages.get(&key, now) {
            return Ok(json);
        }
        // Every client paging this department at once missed together: one reads the page.
        let _loading = self.caches.pages.loading(&key).await;
        let now = self.now();
        if let Some(json) = self.caches.pages.get(&key, now) {
            return Ok(json);
        }
        let page = self.list_window(caller, &window).await?;
        let json: Arc<[u8]> = serde_json::to_vec(&page)
            .map_err(|e| Error::Store(crate::StoreError::Other(Box::new(e))))?
            .into();
        self.caches.pages.put(key, json.clone(), now);
        Ok(json)
    }

    /// A checked window of `/topapi/v2/user/list`, read and shaped for the caller.
    async fn list_window(&self, caller: &Caller, window: &PageWindow) -> Result<Page<ListUser>, Error> {
        let dept = window.dept;
        let (page, next_cursor) = self.read_window(window).await?;
        let internal = caller.app.kind == AppKind::Internal;
        let list = page
            .iter()
            .map(|(member, person)| {
                let r = self.record(caller, member, person);
                let d = &member.details;
                let here = d.departments.iter().find(|x| x.dept_id == dept);
                ListUser {
                    active: true,
                    admin: d.admin,
                    avatar: r.avatar,
                    boss: d.boss,
                    dept_id_list: d.departments.iter().map(|x| x.dept_id).collect(),
                    dept_order: here.map_or(0, |x| x.order),
                    email: r.email,
                    exclusive_account: internal.then_some(person.exclusive_of.is_some()),
                    exclusive_account_type: r.exclusive_account_type,
                    extension: r.extension,
                    hide_mobile: d.hide_mobile,
                    hired_date: r.hired_date,
                    job_number: d.job_number.clone(),
                    leader: here.is_some_and(|x| x.leader),
                    login_id: r.login_id.filter(|_| internal),
                    mobile: r.mobile,
                    name: r.name,
                    org_email: r.org_email,
                    remark: r.remark,
                    state_code: r.state_code,
                    telephone: r.telephone,
                    title: d.title.clone(),
                    unionid: r.unionid,
                    userid: member.membership.userid.0.clone(),
                    work_place: r.work_place,
                }
            })
            .collect();
        Ok(Page {
            has_more: next_cursor.is_some(),
            list,
            next_cursor,
        })
    }

    /// `POST /topapi/user/listsimple`: [`Self::user_list`] with userid and name only.
    pub async fn user_list_simple(&self, caller: &Caller, req: &UserListRequest) -> Result<Page<SimpleUser>, Error> {
        let window = self.member_page(caller, req, true).await?;
        let (page, next_cursor) = self.read_window(&window).await?;
        let list = page
            .into_iter()
            .map(|(m, p)| SimpleUser {
                name: m.membership.name.unwrap_or(p.nick),
                userid: m.membership.userid.0,
            })
            .collect();
        Ok(Page {
            has_more: next_cursor.is_some(),
            list,
            next_cursor,
        })
    }

    /// `POST /topapi/user/count`: the corp's active members. `only_active` is required; every
    /// dingdir member has activated DingTalk, so both answers are the same.
    pub async fn user_count(&self, caller: &Caller, only_active: Option<bool>) -> Result<UserCountResult, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_MEMBER)?;
        only_active.ok_or(Error::InvalidParameter { name: "only_active" })?;
        let count = self.store.member_count(corp).await?;
        Ok(UserCountResult {
            count: i64::try_from(count).unwrap_or(i64::MAX),
        })
    }

    /// `POST /topapi/user/listadmin`: the corp's active administrators by userid, the main one
    /// `sys_level` 1, the others 2.
    pub async fn admins(&self, caller: &Caller) -> Result<Vec<AdminEntry>, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_MEMBER)?;
        let admins = self.store.admins(corp).await?;
        Ok(admins
            .into_iter()
            .map(|(u, main)| AdminEntry {
                sys_level: if main { 1 } else { 2 },
                userid: u.0,
            })
            .collect())
    }
}

/// A member page's checked request: the department and the window into its custom order.
struct PageWindow {
    corp: CorpId,
    dept: i64,
    cursor: i64,
    size: i64,
}

/// The caller-dependent parts of a member record, shared by the record and the list item.
struct Record {
    avatar: String,
    email: Option<String>,
    exclusive_account_type: Option<String>,
    extension: Option<String>,
    hired_date: Option<i64>,
    login_id: Option<String>,
    mobile: Option<String>,
    name: String,
    org_email: Option<String>,
    remark: Option<String>,
    state_code: Option<String>,
    telephone: Option<String>,
    unionid: String,
    work_place: Option<String>,
}
