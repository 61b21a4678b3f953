//! Extractors that reject in the legacy gateway's wire form.

use super::Error;
use crate::body::{self, BodyError};
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use dingdir_core::{Caller, Error as Domain, Service};
use dingdir_proto::oapi::{
    DepartmentListRequest, DeptRequest, GetByMobileRequest, GetByUnionIdRequest, TopBool, UserCountRequest,
    UserGetRequest, UserIdRequest, UserInfoRequest, UserListRequest,
};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The query string's parameters; a malformed query is a bad parameter, never a rejection page.
pub(crate) struct QueryParams(pub(crate) HashMap<String, String>);

impl FromRequestParts<AppState> for QueryParams {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Error> {
        axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| Error::BadBody(e.body_text()))
    }
}

impl QueryParams {
    /// A parameter, treating an empty value as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// A `/topapi/*` request: the token from `?access_token=` or a form body's `access_token`, and
/// the parameters from the query and the body (form or JSON, any charset, chunked or not; body
/// fields win). A body that cannot be read is reported after the token check, as DingTalk's
/// gateway authenticates first. WIRE.md §B3.
pub(crate) struct TopRequest {
    token: Option<String>,
    params: Map<String, Value>,
    body_error: Option<Error>,
}

impl FromRequest<AppState> for TopRequest {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let mut params = Map::new();
        let mut token = None;
        let mut body_error = None;
        // Decoded leniently: a stray `%` stays as it is and bytes that are not UTF-8 become
        // U+FFFD, so a bad value fails as that parameter (a malformed mobile, an invalid token).
        for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()) {
            if k == "access_token" {
                token = Some(v.into_owned());
            } else {
                params.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        let (says_json, says_form) = (
            contains_ignore_case(content_type, b"json"),
            contains_ignore_case(content_type, b"form"),
        );
        match body::read(
            req.into_body(),
            state.settings.body_limit,
            Some(state.settings.store_timeout),
        )
        .await
        {
            Err(BodyError::TooLarge) => body_error = Some(Error::BodyTooLarge),
            Err(BodyError::Read(why)) => body_error = Some(Error::BadBody(why)),
            Err(BodyError::TimedOut) => body_error = Some(Error::Busy),
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {}
            Ok(bytes) => {
                let json = says_json || (!says_form && bytes.trim_ascii_start().starts_with(b"{"));
                if json {
                    match serde_json::from_slice::<Map<String, Value>>(&bytes) {
                        Ok(fields) => params.extend(fields),
                        Err(e) => body_error = Some(Error::BadBody(format!("body is not a JSON object: {e}"))),
                    }
                } else {
                    for (k, v) in form_urlencoded::parse(&bytes) {
                        if k == "access_token" {
                            token.get_or_insert_with(|| v.into_owned());
                        } else {
                            params.insert(k.into_owned(), Value::String(v.into_owned()));
                        }
                    }
                }
            }
        }
        Ok(Self {
            token,
            params,
            body_error,
        })
    }
}

/// Whether `haystack` contains `needle`, ignoring ASCII case.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

impl TopRequest {
    /// Who is calling; missing, unknown and expired tokens are errors.
    pub(crate) async fn caller(&self, service: &Service) -> Result<Caller, Error> {
        let caller = service.authenticate(self.token.as_deref()).await?;
        crate::request::note_caller(&caller);
        Ok(caller)
    }

    /// The endpoint's input, typed: the body's own error if it could not be read, else the
    /// parameters read as `T`. Called after the token and permission checks, in DingTalk's order.
    pub(crate) fn input<T: FromParams>(&mut self) -> Result<T, Error> {
        if let Some(e) = self.body_error.take() {
            return Err(e);
        }
        T::from_params(self)
    }

    /// A string parameter; numbers are taken as their digits, other JSON types as their text.
    fn string(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// An integer parameter: a JSON number or a string of digits (the Java TOP SDK sends every
    /// value as a string), or absent. docs/wire/directory-read.md §1.2.
    pub(super) fn int(&self, name: &'static str) -> Result<Option<i64>, Error> {
        match self.params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(Domain::InvalidParameter { name }.into()),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Domain::InvalidParameter { name }.into()),
            Some(_) => Err(Domain::InvalidParameter { name }.into()),
        }
    }

    /// A boolean parameter: `true`, `false`, `"true"`, `"false"`, or absent (false). The Java
    /// TOP SDK sends every value as a string. WIRE.md §B3.
    fn flag(&self, name: &'static str) -> Result<bool, Error> {
        Ok(self.opt_flag(name)?.unwrap_or(false))
    }

    /// [`Self::flag`] where absence matters.
    fn opt_flag(&self, name: &'static str) -> Result<Option<bool>, Error> {
        match self.params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(_) => Err(Domain::InvalidParameter { name }.into()),
        }
    }

    /// A boolean of the old GET paths, which clients fill from their language's own spelling:
    /// Python's `True`/`False`, `true`/`false`, `1`/`0`. docs/wire/directory-read.md §2.13.
    fn loose_flag(&self, name: &'static str) -> Result<Option<bool>, Error> {
        match self.params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => match s.trim() {
                "true" | "True" | "TRUE" | "1" => Ok(Some(true)),
                "false" | "False" | "FALSE" | "0" => Ok(Some(false)),
                _ => Err(Domain::InvalidParameter { name }.into()),
            },
            Some(_) => Err(Domain::InvalidParameter { name }.into()),
        }
    }
}

/// A legacy request read from a [`TopRequest`]'s parameters as its proto struct: the one place
/// the server spells the request's field names, each read as leniently as DingTalk reads it.
pub(crate) trait FromParams: Sized {
    /// Reads the parameters; a value of the wrong kind is [`Domain::InvalidParameter`].
    fn from_params(request: &TopRequest) -> Result<Self, Error>;
}

impl FromParams for dingdir_proto::message::NoticeSendRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            agent_id: r.int("agent_id")?,
            userid_list: r.string("userid_list"),
            dept_id_list: r.string("dept_id_list"),
            to_all_user: r.flag("to_all_user")?,
            msg: r.params.get("msg").cloned(),
        })
    }
}

impl FromParams for dingdir_proto::message::NoticeTaskRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            agent_id: r.int("agent_id")?,
            task_id: r.int("task_id")?,
        })
    }
}

impl FromParams for GetByMobileRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            mobile: r.string("mobile").unwrap_or_default(),
            support_exclusive_account_search: Some(TopBool(r.flag("support_exclusive_account_search")?)),
        })
    }
}

impl FromParams for UserGetRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            userid: r.string("userid").unwrap_or_default(),
            login_id: r.string("login_id"),
            language: r.string("language"),
        })
    }
}

impl FromParams for GetByUnionIdRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            unionid: r.string("unionid").unwrap_or_default(),
        })
    }
}

impl FromParams for dingdir_proto::oapi::CallBackRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            call_back_tag: r.json_list("call_back_tag")?.unwrap_or_default(),
            token: r.string("token"),
            aes_key: r.string("aes_key"),
            url: r.string("url"),
        })
    }
}

impl FromParams for DeptRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            dept_id: r.int("dept_id")?,
            language: r.string("language"),
        })
    }
}

impl FromParams for UserListRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            dept_id: r.int("dept_id")?,
            cursor: r.int("cursor")?,
            size: r.int("size")?,
            order_field: r.string("order_field"),
            contain_access_limit: r.opt_flag("contain_access_limit")?.map(TopBool),
            language: r.string("language"),
        })
    }
}

impl FromParams for UserCountRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            only_active: r.opt_flag("only_active")?.map(TopBool),
        })
    }
}

impl FromParams for UserIdRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            userid: r.string("userid").unwrap_or_default(),
        })
    }
}

/// Requests without parameters of their own (`/topapi/user/listadmin`).
impl FromParams for () {
    fn from_params(_: &TopRequest) -> Result<Self, Error> {
        Ok(())
    }
}

impl FromParams for DepartmentListRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            id: r.int("id")?,
            fetch_child: r.loose_flag("fetch_child")?,
            lang: r.string("lang"),
        })
    }
}

impl FromParams for UserInfoRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            code: r.string("code").unwrap_or_default(),
        })
    }
}

impl TopRequest {
    /// A JSON array parameter: a JSON array, or a string holding one (how the TOP SDKs send
    /// `dept_order_list`).
    fn json_list<T: serde::de::DeserializeOwned>(&self, name: &'static str) -> Result<Option<Vec<T>>, Error> {
        let value = match self.params.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) if s.is_empty() => return Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| Domain::InvalidParameter { name })?,
            Some(v) => v.clone(),
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|_| Domain::InvalidParameter { name }.into())
    }
}

impl FromParams for dingdir_proto::oapi::UserWriteRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            userid: r.string("userid"),
            name: r.string("name"),
            mobile: r.string("mobile"),
            dept_id_list: r.string("dept_id_list"),
            dept_order_list: r.json_list("dept_order_list")?,
            title: r.string("title"),
            job_number: r.string("job_number"),
            hired_date: r.int("hired_date")?,
            work_place: r.string("work_place"),
            telephone: r.string("telephone"),
            email: r.string("email"),
            org_email: r.string("org_email"),
            remark: r.string("remark"),
            manager_userid: r.string("manager_userid"),
            senior_mode: r.opt_flag("senior_mode")?,
            hide_mobile: r.opt_flag("hide_mobile")?,
            extension: r.string("extension"),
        })
    }
}

/// Takes the documented names and the older Java TOP SDK's (`id`, `dept_hiding`).
/// docs/wire/writes-and-callbacks.md §1.
impl FromParams for dingdir_proto::oapi::DeptWriteRequest {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        Ok(Self {
            dept_id: match r.int("dept_id")? {
                Some(id) => Some(id),
                None => r.int("id")?,
            },
            name: r.string("name"),
            parent_id: r.int("parent_id")?,
            order: r.int("order")?,
            hide_dept: match r.opt_flag("hide_dept")? {
                Some(h) => Some(h),
                None => r.opt_flag("dept_hiding")?,
            },
            dept_permits: r.string("dept_permits"),
            user_permits: r.string("user_permits"),
        })
    }
}

/// The old `/user/create` and `/user/update` fields, camelCase and typed as DingTalk's 1.0
/// pages and the community SDK send them, read as the v2 write's. docs/wire/old-writes.md §1–2.
/// `positionInDepts` and `lang` are accepted and not kept: dingdir records one title per member.
pub(crate) struct OldUserWrite(pub(crate) dingdir_proto::oapi::UserWriteRequest);

impl FromParams for OldUserWrite {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        let department = r
            .json_list::<i64>("department")?
            .map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        Ok(Self(dingdir_proto::oapi::UserWriteRequest {
            userid: r.string("userid"),
            name: r.string("name"),
            mobile: r.string("mobile"),
            dept_id_list: department,
            dept_order_list: r.dept_orders("orderInDepts")?,
            title: r.string("position"),
            job_number: r.string("jobnumber"),
            hired_date: r.int("hiredDate")?,
            work_place: r.string("workPlace"),
            telephone: r.string("tel"),
            email: r.string("email"),
            org_email: r.string("orgEmail"),
            remark: r.string("remark"),
            manager_userid: r.string("managerUserid"),
            senior_mode: r.loose_flag("isSenior")?,
            hide_mobile: r.loose_flag("isHide")?,
            extension: r.string("extattr"),
        }))
    }
}

/// The old `/department/create` and `/department/update` fields as the v2 write's. The 1.0
/// pages join `deptPermits` and `userPermits` with `|` and still show the misspelled
/// `deptPerimits`/`userPerimits`; both spellings are read. docs/wire/old-writes.md §4–5.
pub(crate) struct OldDeptWrite(pub(crate) dingdir_proto::oapi::DeptWriteRequest);

impl FromParams for OldDeptWrite {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        let permits = |name: &str, old: &str| r.string(name).or_else(|| r.string(old)).map(|s| s.replace('|', ","));
        Ok(Self(dingdir_proto::oapi::DeptWriteRequest {
            dept_id: r.int("id")?,
            name: r.string("name"),
            parent_id: r.int("parentid")?,
            order: r.int("order")?,
            hide_dept: r.loose_flag("deptHiding")?,
            dept_permits: permits("deptPermits", "deptPerimits"),
            user_permits: permits("userPermits", "userPerimits"),
        }))
    }
}

/// Who the old `/user/delete` and `/user/batchdelete` remove: one `userid`, or a
/// `useridlist` (the community SDK's batch delete POSTs it to `/user/delete`).
/// docs/wire/old-writes.md §3.
pub(crate) enum OldUserDelete {
    /// `userid`, in the query or the body.
    One(String),
    /// `useridlist`, as given; its length is checked by the handler.
    Many(Vec<String>),
}

impl FromParams for OldUserDelete {
    fn from_params(r: &TopRequest) -> Result<Self, Error> {
        if r.params.contains_key("useridlist") {
            let list = r
                .json_list::<String>("useridlist")
                .map_err(|_| Error::Refused {
                    errcode: dingdir_proto::oapi::errcode::BAD_USERID_LIST,
                    errmsg: "useridlist must be a JSON array of userids",
                })?
                .unwrap_or_default();
            return Ok(Self::Many(list));
        }
        Ok(Self::One(r.string("userid").unwrap_or_default()))
    }
}

impl TopRequest {
    /// The old `orderInDepts`: a JSON object of department id to order, or a string holding
    /// one, or the bare-key form DingTalk's 1.0 pages show and `/user/get` answers (`{1:10,2:20}`),
    /// so a record read there can be sent back.
    fn dept_orders(&self, name: &'static str) -> Result<Option<Vec<dingdir_proto::oapi::DeptOrder>>, Error> {
        let bad = || Error::from(Domain::InvalidParameter { name });
        let value = match self.params.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(v) => v,
                Err(_) => bare_object(s).ok_or_else(bad)?,
            },
            Some(v) => v.clone(),
        };
        let Value::Object(map) = value else {
            return Err(bad());
        };
        map.iter()
            .map(|(dept, order)| {
                let order = match order {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                Ok(dingdir_proto::oapi::DeptOrder {
                    dept_id: dept.trim().parse().map_err(|_| bad())?,
                    order: order.ok_or_else(bad)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()
            .map(Some)
    }
}

/// `{1:10, 2:"20"}`, keys without quotes, as a JSON object; `None` when it is not that form.
fn bare_object(text: &str) -> Option<Value> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?.trim();
    let mut map = Map::new();
    for pair in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(':')?;
        let key = key.trim().trim_matches('"');
        let value = value.trim().trim_matches('"');
        if key.is_empty() || value.is_empty() {
            return None;
        }
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    Some(Value::Object(map))
}
