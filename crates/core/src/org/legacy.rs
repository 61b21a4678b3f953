//! The old, flat legacy reads that integrations written before `/topapi/v2` still call:
//! `GET /user/get`, `GET /department/list` and `GET /auth/scopes`.
//! docs/wire/directory-read.md §1.4, §2.13, §2.14.

use crate::error::Error;
use crate::model::{Department, ROOT_DEPT};
use crate::service::{Caller, Service};
use crate::store::DirectoryStore;
use crate::token::TokenKind;
use dingdir_proto::ids::CorpId;
use dingdir_proto::oapi::{AuthOrgScopes, LegacyDepartment, LegacyRole, LegacyUserResponse, errcode};
use dingdir_proto::scope::{CONTACT_USER_MOBILE, QYAPI_GET_DEPARTMENT_LIST};
use std::collections::{HashMap, HashSet};
use std::fmt::Display;

/// DingTalk's map-as-a-string form, `{1:true,2:false}`: bare keys, so not JSON.
fn bare_map<V: Display>(entries: impl Iterator<Item = (i64, V)>) -> String {
    let body: Vec<String> = entries.map(|(k, v)| format!("{k}:{v}")).collect();
    format!("{{{}}}", body.join(","))
}

impl Service {
    /// `GET /user/get`: [`Self::user_get`]'s record in the old flat, camelCase form, under the
    /// same permission, contact range and field rules.
    pub async fn legacy_user_get(&self, caller: &Caller, userid: &str) -> Result<LegacyUserResponse, Error> {
        let r = self.user_get(caller, super::MemberKey::UserId(userid)).await?;
        Ok(LegacyUserResponse {
            errcode: errcode::OK,
            active: r.active,
            avatar: r.avatar,
            department: r.dept_id_list,
            email: r.email,
            exclusive_account: r.exclusive_account,
            extattr: r.extension.as_deref().and_then(|t| serde_json::from_str(t).ok()),
            hired_date: r.hired_date,
            is_admin: r.admin,
            is_boss: r.boss,
            is_hide: r.hide_mobile,
            is_leader_in_depts: bare_map(r.leader_in_dept.iter().map(|l| (l.dept_id, l.leader))),
            is_senior: r.senior,
            jobnumber: r.job_number,
            manager_userid: r.manager_userid,
            mobile: r.mobile,
            name: r.name,
            open_id: r.unionid.clone(),
            order_in_depts: bare_map(r.dept_order_list.iter().map(|o| (o.dept_id, o.order))),
            org_email: r.org_email,
            position: r.title,
            real_authed: r.real_authed,
            remark: r.remark,
            roles: r
                .role_list
                .iter()
                .flatten()
                .map(|x| LegacyRole {
                    id: x.id,
                    name: x.name.clone(),
                    group_name: x.group_name.clone(),
                })
                .collect(),
            state_code: r.state_code,
            tel: r.telephone,
            unionid: r.unionid,
            userid: r.userid,
            work_place: r.work_place,
            errmsg: "ok".to_owned(),
        })
    }

    /// `GET /department/list`: without `id`, the root and what lies below it; with `id`, that
    /// department's children, never itself. `fetch_child` walks every level (depth first,
    /// siblings in order), otherwise one. The start must be in the contact range (`50004`), so
    /// an app with a partial range names one of its departments, as DingTalk tells ISVs to.
    pub async fn legacy_department_list(
        &self,
        caller: &Caller,
        id: Option<i64>,
        fetch_child: bool,
    ) -> Result<Vec<LegacyDepartment>, Error> {
        let corp = Self::may_read_directory(caller, QYAPI_GET_DEPARTMENT_LIST)?;
        let start = self.department_of(corp, id.unwrap_or(ROOT_DEPT)).await?;
        self.check_department_range(caller, corp, start.id).await?;
        let all = self.store.departments(corp).await?;
        let mut children: HashMap<i64, Vec<&Department>> = HashMap::new();
        for d in &all {
            if let Some(parent) = d.parent_id {
                children.entry(parent).or_default().push(d);
            }
        }
        let entry = |d: &Department| LegacyDepartment {
            create_dept_group: false,
            name: d.name.clone(),
            id: d.id,
            auto_add_user: false,
            parent_id: d.parent_id,
        };
        let mut out = Vec::new();
        if id.is_none() {
            out.push(entry(&start));
        }
        // Depth first, in sibling order: a stack of children still to visit, reversed.
        let mut seen = HashSet::from([start.id]);
        let mut stack: Vec<&Department> = children.get(&start.id).into_iter().flatten().rev().copied().collect();
        while let Some(d) = stack.pop() {
            if !seen.insert(d.id) {
                continue;
            }
            out.push(entry(d));
            if fetch_child {
                stack.extend(children.get(&d.id).into_iter().flatten().rev().copied());
            }
        }
        Ok(out)
    }

    /// `GET /auth/scopes`: the member fields and the contact range of the calling app in its
    /// corp. `qyapi_base` is every app's, so only the token is checked.
    pub fn auth_scopes(caller: &Caller) -> Result<(Vec<String>, AuthOrgScopes), Error> {
        if caller.kind == TokenKind::User {
            return Err(Error::TokenInvalid);
        }
        let corp: &CorpId = caller
            .corp_id
            .as_ref()
            .or(caller.app.corp_id.as_ref())
            .ok_or(Error::WrongAppType { scope: "qyapi_base" })?;
        let internal = caller.app.kind == crate::model::AppKind::Internal;
        let mut fields: Vec<&str> = vec!["userid", "name", "avatar", "department", "position", "jobnumber"];
        if internal {
            fields.extend(["email", "orgEmail", "tel", "workPlace", "remark", "hiredDate"]);
            if caller.app.has_scope(CONTACT_USER_MOBILE) {
                fields.extend(["mobile", "stateCode"]);
            }
        }
        let scopes = match caller.app.contact_range(corp) {
            None => AuthOrgScopes {
                authed_dept: vec![ROOT_DEPT],
                authed_user: Vec::new(),
            },
            Some(range) => AuthOrgScopes {
                authed_dept: range.departments.clone(),
                authed_user: range.users.iter().map(|u| u.0.clone()).collect(),
            },
        };
        Ok((fields.into_iter().map(str::to_owned).collect(), scopes))
    }
}

#[cfg(test)]
mod tests {
    use super::bare_map;

    #[test]
    fn bare_maps_are_written_as_dingtalk_writes_them() {
        assert_eq!(
            bare_map([(1, true), (58_319_756, false)].into_iter()),
            "{1:true,58319756:false}"
        );
        assert_eq!(bare_map(std::iter::empty::<(i64, i64)>()), "{}");
        assert_eq!(
            bare_map([(1, 176_332_680_479_820_512_i64)].into_iter()),
            "{1:176332680479820512}"
        );
    }
}
