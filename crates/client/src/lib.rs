//! `dingdir-client`: a typed async client for DingTalk's contact and token APIs. It talks to the
//! real DingTalk (the default base URLs) or to a dingdir
//! server, which serves both gateways and the sign-in on one listener.
//!
//! | Call | Endpoint | Method |
//! |---|---|---|
//! | app token (new gateway) | `POST /v1.0/oauth2/accessToken` | [`Client::get_access_token`] |
//! | app token (legacy gateway) | `GET /gettoken` | [`Client::get_token`] |
//! | either, one shape | | [`Client::app_token`] |
//! | third-party corp token | `POST /v1.0/oauth2/corpAccessToken` | [`Client::get_corp_access_token`] |
//! | sign-in URL | `login.dingtalk.com/oauth2/auth` | [`Client::authorize_url`] |
//! | code → user token | `POST /v1.0/oauth2/userAccessToken` | [`Client::user_token_from_code`] |
//! | refresh a user token | `POST /v1.0/oauth2/userAccessToken` | [`Client::refresh_user_token`] |
//! | GetUser | `GET /v1.0/contact/users/{unionId}` | [`Client::get_user`], [`Client::get_me`] |
//! | departed members | `GET /v1.0/contact/empLeaveRecords` | [`Client::list_emp_leave_records`] |
//! | userid by mobile | `POST /topapi/v2/user/getbymobile` | [`Client::get_by_mobile`], [`AppTokenManager::get_by_mobile`] |
//! | member record | `POST /topapi/v2/user/get` | [`Client::get_user_detail`] |
//! | userid by unionId | `POST /topapi/user/getbyunionid` | [`Client::get_by_union_id`] |
//! | a department's members | `POST /topapi/v2/user/list` | [`Client::list_users`] (a page), [`Client::list_all_users`] (every page) |
//! | their userids and names | `POST /topapi/user/listsimple` | [`Client::list_users_simple`] |
//! | their userids | `POST /topapi/user/listid` | [`Client::list_user_ids`] |
//! | member count | `POST /topapi/user/count` | [`Client::count_users`] |
//! | administrators | `POST /topapi/user/listadmin` | [`Client::list_admins`] |
//! | department | `POST /topapi/v2/department/get` | [`Client::get_department`] |
//! | its children | `POST /topapi/v2/department/listsub`, `listsubid` | [`Client::list_sub_departments`], [`Client::list_sub_department_ids`] |
//! | paths to the root | `POST /topapi/v2/department/listparentbyuser`, `listparentbydept` | [`Client::list_parents_by_user`], [`Client::list_parents_by_department`] |
//! | in-app sign-in code → member | `POST /topapi/v2/user/getuserinfo`, `GET /user/getuserinfo` | [`Client::get_user_info`], [`Client::get_user_info_legacy`] |
//! | old flat member record | `GET /user/get` | [`Client::get_user_legacy`] |
//! | old department list | `GET /department/list` | [`Client::list_departments`] |
//! | the app's contact range | `GET /auth/scopes` | [`Client::get_auth_scopes`] |
//!
//! A dingdir server's own admin API (fault rules, the request journal) is [`Client::admin`],
//! which gives an [`Admin`].
//!
//! Requests and answers are the wire types of [`dingdir_proto`] (re-exported as [`proto`]), the
//! same structs the dingdir server serialises. Failures are one [`Error`] that keeps each
//! gateway's error typed ([`Error::Api`] with status, `code`, `message`, request id and required
//! scopes; [`Error::Oapi`] with `errcode`, `errmsg`, `sub_code`, `sub_msg`, request id), apart
//! from transport and decode failures, with helpers such as [`Error::is_token_invalid`].
//!
//! [`Client`] makes exactly one request per call ([`Client::list_all_users`]: one per page).
//! [`AppTokenManager`] holds an app's token: cached, refreshed ahead of expiry, fetched once for
//! concurrent callers, renewed once on a token error and retried a bounded number of times when
//! DingTalk is busy.
//!
//! ```no_run
//! use dingdir_client::{AppCredentials, AppTokenManager, Client, Gateway};
//!
//! # async fn run() -> Result<(), dingdir_client::Error> {
//! // Real DingTalk: Client::new()?. A dingdir server (`dingdir dev`):
//! let client = Client::builder().base_url("http://127.0.0.1:8080").build()?;
//! let app = AppCredentials::new("dingdemointernal", "demo-internal-secret");
//!
//! let token = client.app_token(&app, Gateway::Oapi).await?;
//! let found = client.get_by_mobile(&token.access_token, "15000009144", false).await?;
//! assert_eq!(found.result.userid.as_deref(), Some("zhangsan"));
//!
//! match client.get_by_mobile(&token.access_token, "13999999999", false).await {
//!     Err(e) if e.is_not_found() => println!("no such member ({e})"),
//!     other => println!("{other:?}"),
//! }
//!
//! // Or let a manager handle the token:
//! let manager = AppTokenManager::new(client, app);
//! let found = manager.get_by_mobile("15000009144", true).await?;
//! # let _ = found;
//! # Ok(()) }
//! ```
//!
//! The sign-in, then GetUser with the user's token:
//!
//! ```no_run
//! use dingdir_client::{AppCredentials, AuthorizeParams, Client};
//!
//! # async fn run(code_from_redirect: &str) -> Result<(), dingdir_client::Error> {
//! let client = Client::builder().base_url("http://127.0.0.1:8080").build()?;
//! let app = AppCredentials::new("dingdemointernal", "demo-internal-secret");
//! let url = client.authorize_url(&AuthorizeParams::new(
//!     "dingdemointernal",
//!     "http://127.0.0.1:3000/callback",
//!     "a-random-state",
//! ));
//! println!("open {url}");
//! // ... the browser comes back to the redirect URI with ?code=...&authCode=...&state=...
//! let user = client.user_token_from_code(&app, code_from_redirect).await?;
//! let me = client.get_me(&user.access_token).await?;
//! println!("{:?} {:?}", me.nick, me.union_id);
//! let later = client.refresh_user_token(&app, &user.refresh_token).await?;
//! # let _ = later;
//! # Ok(()) }
//! ```
//!
//! This crate depends on the wire types only: never on the dingdir server, its store, or clap.
//! HTTP is reqwest with rustls (no system OpenSSL).
#![warn(missing_docs)]

mod admin;
mod client;
mod clock;
mod directory;
mod error;
mod manager;
mod retry;
mod signin;

pub use admin::{Admin, JournalEvent, JournalFollow};
pub use client::{
    AppCredentials, AppToken, Client, ClientBuilder, DEFAULT_API_BASE, DEFAULT_LOGIN_BASE, DEFAULT_OAPI_BASE, Gateway,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::Error;
pub use manager::{AppTokenManager, AppTokenManagerBuilder, DEFAULT_REFRESH_MARGIN, MIN_REFRESH_MARGIN};
pub use retry::RetryPolicy;
pub use signin::AuthorizeParams;

/// The wire types, for naming answers and identifiers without another dependency.
pub use dingdir_proto as proto;
/// The URL type of [`Client::authorize_url`] and the base URLs.
pub use reqwest::Url;
