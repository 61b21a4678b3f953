//! The directory reads of the legacy gateway: members, departments and the paths between them,
//! each `POST /topapi/...?access_token=` with an **app** token, answered in the `/topapi`
//! envelope ([`TopResponse`]). docs/wire/directory-read.md §2.1–2.12.

use crate::client::Client;
use crate::error::Error;
use dingdir_proto::ids::{UnionId, UserId};
use dingdir_proto::oapi::{
    AdminEntry, DepartmentBase, DepartmentGetResult, DeptIdListResult, DeptRequest, GetByUnionIdRequest,
    GetByUnionIdResult, ListUser, Page, ParentIdListResult, ParentListResult, SimpleUser, TopBool, TopResponse,
    UserCountRequest, UserCountResult, UserGetRequest, UserGetResult, UserIdRequest, UserInfoRequest, UserInfoResult,
    UserListIdResult, UserListRequest, path,
};
use dingdir_proto::oapi::{AuthScopesResponse, DepartmentListResponse, LegacyUserInfoResponse, LegacyUserResponse};
use std::collections::HashSet;

/// Members per page in [`Client::list_all_users`]: the most `v2/user/list` takes (§1.2).
const PAGE_SIZE: i64 = 100;
/// Pages [`Client::list_all_users`] reads at most: a million members at [`PAGE_SIZE`], so a server
/// that keeps answering `has_more` with fresh cursors cannot keep the walk going for ever.
const MAX_PAGES: usize = 10_000;

fn dept(dept_id: i64) -> DeptRequest {
    DeptRequest {
        dept_id: Some(dept_id),
        language: None,
    }
}

impl Client {
    /// The member behind an in-app sign-in code (免登授权码, from `dd.getAuthCode`; single use):
    /// `POST /topapi/v2/user/getuserinfo` (§2.15).
    pub async fn get_user_info(&self, app_token: &str, code: &str) -> Result<TopResponse<UserInfoResult>, Error> {
        let body = UserInfoRequest { code: code.to_owned() };
        self.oapi_post(path::V2_USER_GET_USER_INFO, app_token, &body).await
    }

    /// [`Self::get_user_info`] on the old path older integrations call, answered flat:
    /// `GET /user/getuserinfo` (§2.15).
    pub async fn get_user_info_legacy(&self, app_token: &str, code: &str) -> Result<LegacyUserInfoResponse, Error> {
        self.oapi_get(path::USER_GET_USER_INFO, app_token, &[("code", code.to_owned())])
            .await
    }

    /// A member's record in the old flat camelCase form: `GET /user/get` (§2.14).
    pub async fn get_user_legacy(&self, app_token: &str, userid: &UserId) -> Result<LegacyUserResponse, Error> {
        self.oapi_get(path::USER_GET, app_token, &[("userid", userid.0.clone())])
            .await
    }

    /// The old department list: without `id` the root and what lies below it, with `id` that
    /// department's children; `fetch_child` walks every level, not one: `GET /department/list`
    /// (§2.13).
    pub async fn list_departments(
        &self,
        app_token: &str,
        id: Option<i64>,
        fetch_child: bool,
    ) -> Result<DepartmentListResponse, Error> {
        let mut params = vec![("fetch_child", fetch_child.to_string())];
        if let Some(id) = id {
            params.push(("id", id.to_string()));
        }
        self.oapi_get(path::DEPARTMENT_LIST, app_token, &params).await
    }

    /// The app's contact range and readable member fields: `GET /auth/scopes` (§1.4).
    pub async fn get_auth_scopes(&self, app_token: &str) -> Result<AuthScopesResponse, Error> {
        self.oapi_get(path::AUTH_SCOPES, app_token, &[]).await
    }

    /// A member's full record by userid: `POST /topapi/v2/user/get` (§2.1).
    pub async fn get_user_detail(&self, app_token: &str, userid: &UserId) -> Result<TopResponse<UserGetResult>, Error> {
        let body = UserGetRequest {
            userid: userid.0.clone(),
            login_id: None,
            language: None,
        };
        self.oapi_post(path::V2_USER_GET, app_token, &body).await
    }

    /// The full record of an exclusive account the caller's corp created, by its login name:
    /// `POST /topapi/v2/user/get` with `login_id` (§2.1).
    pub async fn get_user_detail_by_login_id(
        &self,
        app_token: &str,
        login_id: &str,
    ) -> Result<TopResponse<UserGetResult>, Error> {
        let body = UserGetRequest {
            userid: String::new(),
            login_id: Some(login_id.to_owned()),
            language: None,
        };
        self.oapi_post(path::V2_USER_GET, app_token, &body).await
    }

    /// The userid in the caller's corp of a unionId under the caller's developer account:
    /// `POST /topapi/user/getbyunionid` (§2.2).
    pub async fn get_by_union_id(
        &self,
        app_token: &str,
        union_id: &UnionId,
    ) -> Result<TopResponse<GetByUnionIdResult>, Error> {
        let body = GetByUnionIdRequest {
            unionid: union_id.0.clone(),
        };
        self.oapi_post(path::USER_GET_BY_UNIONID, app_token, &body).await
    }

    /// One page of a department's direct members with their full records, from `page.cursor`
    /// (`0`, then the last page's `next_cursor`) for `page.size` members (1 to 100):
    /// `POST /topapi/v2/user/list` (§2.3).
    pub async fn list_users(
        &self,
        app_token: &str,
        page: &UserListRequest,
    ) -> Result<TopResponse<Page<ListUser>>, Error> {
        self.oapi_post(path::V2_USER_LIST, app_token, page).await
    }

    /// Every direct member of a department, read through [`Client::list_users`] 100 at a time
    /// until a page says `has_more: false`, in at most 10 000 pages, and [`Error::Paging`] when a
    /// page says `has_more` without a `next_cursor`, repeats a cursor, or the limit is passed.
    pub async fn list_all_users(&self, app_token: &str, dept_id: i64) -> Result<Vec<ListUser>, Error> {
        let mut members = Vec::new();
        let mut visited = HashSet::new();
        let mut cursor = 0;
        let mut pages = 0;
        loop {
            visited.insert(cursor);
            let page = UserListRequest {
                dept_id: Some(dept_id),
                cursor: Some(cursor),
                size: Some(PAGE_SIZE),
                ..UserListRequest::default()
            };
            let answer = self.list_users(app_token, &page).await?;
            pages += 1;
            members.extend(answer.result.list);
            if !answer.result.has_more {
                return Ok(members);
            }
            let reason = match answer.result.next_cursor {
                None => "a page says `has_more` but gives no `next_cursor`".to_owned(),
                Some(next) if visited.contains(&next) => format!("`next_cursor` {next} was read before"),
                Some(_) if pages >= MAX_PAGES => format!("more than {MAX_PAGES} pages"),
                Some(next) => {
                    cursor = next;
                    continue;
                }
            };
            return Err(Error::Paging {
                pages,
                reason,
                request_id: Some(answer.request_id),
            });
        }
    }

    /// One page of a department's direct members as userids and names, paged as
    /// [`Client::list_users`] is: `POST /topapi/user/listsimple` (§2.4).
    pub async fn list_users_simple(
        &self,
        app_token: &str,
        page: &UserListRequest,
    ) -> Result<TopResponse<Page<SimpleUser>>, Error> {
        self.oapi_post(path::USER_LIST_SIMPLE, app_token, page).await
    }

    /// The userids of a department's direct active members, in member order:
    /// `POST /topapi/user/listid` (§2.5).
    pub async fn list_user_ids(&self, app_token: &str, dept_id: i64) -> Result<TopResponse<UserListIdResult>, Error> {
        self.oapi_post(path::USER_LIST_ID, app_token, &dept(dept_id)).await
    }

    /// How many members the caller's corp has, only those who activated DingTalk with
    /// `only_active`: `POST /topapi/user/count` (§2.6).
    pub async fn count_users(&self, app_token: &str, only_active: bool) -> Result<TopResponse<UserCountResult>, Error> {
        let body = UserCountRequest {
            only_active: Some(TopBool(only_active)),
        };
        self.oapi_post(path::USER_COUNT, app_token, &body).await
    }

    /// The caller corp's administrators with their levels (`1` main, `2` sub):
    /// `POST /topapi/user/listadmin` (§2.7).
    pub async fn list_admins(&self, app_token: &str) -> Result<TopResponse<Vec<AdminEntry>>, Error> {
        self.oapi_post(path::USER_LIST_ADMIN, app_token, &serde_json::Map::new())
            .await
    }

    /// A department by id (`1` is the root): `POST /topapi/v2/department/get` (§2.8).
    pub async fn get_department(
        &self,
        app_token: &str,
        dept_id: i64,
    ) -> Result<TopResponse<DepartmentGetResult>, Error> {
        self.oapi_post(path::V2_DEPARTMENT_GET, app_token, &dept(dept_id)).await
    }

    /// A department's direct children, in sibling order: `POST /topapi/v2/department/listsub`
    /// (§2.9).
    pub async fn list_sub_departments(
        &self,
        app_token: &str,
        dept_id: i64,
    ) -> Result<TopResponse<Vec<DepartmentBase>>, Error> {
        self.oapi_post(path::V2_DEPARTMENT_LIST_SUB, app_token, &dept(dept_id))
            .await
    }

    /// The ids of a department's direct children, in sibling order:
    /// `POST /topapi/v2/department/listsubid` (§2.10).
    pub async fn list_sub_department_ids(
        &self,
        app_token: &str,
        dept_id: i64,
    ) -> Result<TopResponse<DeptIdListResult>, Error> {
        self.oapi_post(path::V2_DEPARTMENT_LIST_SUB_ID, app_token, &dept(dept_id))
            .await
    }

    /// For each of a member's departments, its path up to the root:
    /// `POST /topapi/v2/department/listparentbyuser` (§2.11).
    pub async fn list_parents_by_user(
        &self,
        app_token: &str,
        userid: &UserId,
    ) -> Result<TopResponse<ParentListResult>, Error> {
        let body = UserIdRequest {
            userid: userid.0.clone(),
        };
        self.oapi_post(path::V2_DEPARTMENT_LIST_PARENT_BY_USER, app_token, &body)
            .await
    }

    /// A department's path up to the root, the department first:
    /// `POST /topapi/v2/department/listparentbydept` (§2.12).
    pub async fn list_parents_by_department(
        &self,
        app_token: &str,
        dept_id: i64,
    ) -> Result<TopResponse<ParentIdListResult>, Error> {
        self.oapi_post(path::V2_DEPARTMENT_LIST_PARENT_BY_DEPT, app_token, &dept(dept_id))
            .await
    }
}
