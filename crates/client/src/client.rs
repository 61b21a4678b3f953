//! [`Client`]: one method per DingTalk call, each a single request with no retry (retries live in
//! [`AppTokenManager`](crate::AppTokenManager)).

use crate::error::{Error, decode_api, decode_oapi};
use crate::signin::{AuthorizeParams, encode, join};
use dingdir_proto::api::{
    self, AccessTokenResponse, GetAccessTokenRequest, GetCorpAccessTokenRequest, GetUserResponse, GetUserTokenRequest,
    UserTokenResponse,
};
use dingdir_proto::browser;
use dingdir_proto::ids::{CorpId, UnionId};
use dingdir_proto::oapi::{self, GetByMobileRequest, GetByMobileResponse, GetTokenResponse};
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderMap};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// DingTalk's new gateway.
pub const DEFAULT_API_BASE: &str = "https://api.dingtalk.com";
/// DingTalk's legacy gateway.
pub const DEFAULT_OAPI_BASE: &str = "https://oapi.dingtalk.com";
/// DingTalk's browser sign-in host.
pub const DEFAULT_LOGIN_BASE: &str = "https://login.dingtalk.com";

/// Which of DingTalk's two gateways a call goes to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Gateway {
    /// The new gateway (`api.dingtalk.com`): camelCase JSON, real HTTP statuses.
    #[default]
    Api,
    /// The legacy gateway (`oapi.dingtalk.com`): snake_case JSON, HTTP 200 with `errcode`.
    Oapi,
}

impl Gateway {
    /// `api` or `oapi`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Oapi => "oapi",
        }
    }
}

impl fmt::Display for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Gateway {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "api" => Ok(Self::Api),
            "oapi" => Ok(Self::Oapi),
            other => Err(Error::Config(format!("unknown gateway {other:?} (api or oapi)"))),
        }
    }
}

/// An app's key and secret (AppKey/AppSecret, or a suite's SuiteKey/SuiteSecret, which DingTalk
/// also calls clientId/clientSecret). `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AppCredentials {
    /// The key.
    pub app_key: String,
    app_secret: String,
}

impl AppCredentials {
    /// Key and secret.
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
        }
    }

    /// The secret.
    pub fn app_secret(&self) -> &str {
        &self.app_secret
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_key", &self.app_key)
            .field("app_secret", &"<redacted>")
            .finish()
    }
}

/// An app access token, whichever gateway issued it (one token works on both; WIRE.md §C2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppToken {
    /// The token, 32 lower-case hex characters on today's DingTalk.
    pub access_token: String,
    /// Seconds until it expires (7200 by default).
    pub expires_in: u64,
}

/// Settings of a [`Client`]; see [`Client::builder`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    api_base: String,
    oapi_base: String,
    login_base: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    no_proxy: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            oapi_base: DEFAULT_OAPI_BASE.to_owned(),
            login_base: DEFAULT_LOGIN_BASE.to_owned(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            user_agent: concat!("dingdir-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            no_proxy: false,
        }
    }
}

impl ClientBuilder {
    /// The new gateway's base URL (default `https://api.dingtalk.com`).
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = url.into();
        self
    }

    /// The legacy gateway's base URL (default `https://oapi.dingtalk.com`).
    pub fn oapi_base(mut self, url: impl Into<String>) -> Self {
        self.oapi_base = url.into();
        self
    }

    /// The sign-in host's base URL, for [`Client::authorize_url`] (default
    /// `https://login.dingtalk.com`).
    pub fn login_base(mut self, url: impl Into<String>) -> Self {
        self.login_base = url.into();
        self
    }

    /// One base URL for all three, as a dingdir server serves them on one listener.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.api_base(url.clone()).oapi_base(url.clone()).login_base(url)
    }

    /// The longest a whole request may take, connecting included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest connecting may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `dingdir-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Ignore `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` from the environment.
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Checks the base URLs and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let parse = |which: &str, s: &str| -> Result<Url, Error> {
            let url = Url::parse(s).map_err(|e| Error::Config(format!("{which} base URL {s:?}: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
                return Err(Error::Config(format!("{which} base URL {s:?}: not an http(s) URL")));
            }
            Ok(url)
        };
        let mut http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent);
        if self.no_proxy {
            http = http.no_proxy();
        }
        Ok(Client {
            http: http.build().map_err(Error::Transport)?,
            api_base: parse("api", &self.api_base)?,
            oapi_base: parse("oapi", &self.oapi_base)?,
            login_base: parse("login", &self.login_base)?,
        })
    }
}

/// A DingTalk client: cheap to clone (the connection pool is shared).
///
/// Every method is one HTTP request ([`Client::list_all_users`]: one per page). Errors come
/// typed per gateway ([`Error::Api`], [`Error::Oapi`]); the client does not retry, cache or
/// refresh tokens itself; for app tokens [`AppTokenManager`](crate::AppTokenManager) does.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    api_base: Url,
    oapi_base: Url,
    login_base: Url,
}

fn header_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(api::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl Client {
    /// A client for the real DingTalk, with the default timeouts.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// Settings: base URLs (real DingTalk by default, or a dingdir server), timeouts.
    ///
    /// ```
    /// use dingdir_client::Client;
    /// use std::time::Duration;
    ///
    /// let client = Client::builder()
    ///     .base_url("http://127.0.0.1:8080")
    ///     .timeout(Duration::from_secs(3))
    ///     .build()?;
    /// assert_eq!(client.api_base().as_str(), "http://127.0.0.1:8080/");
    /// # Ok::<(), dingdir_client::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The new gateway's base URL.
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }

    /// The legacy gateway's base URL.
    pub fn oapi_base(&self) -> &Url {
        &self.oapi_base
    }

    /// The sign-in host's base URL.
    pub fn login_base(&self) -> &Url {
        &self.login_base
    }

    pub(crate) async fn send(
        &self,
        req: reqwest::RequestBuilder,
        redacted: Option<&Url>,
    ) -> Result<(u16, Option<String>, Vec<u8>), Error> {
        // A transport error's text names the URL; a URL whose query holds a secret or a token is
        // reported without the query.
        let scrub = |e: reqwest::Error| match redacted {
            Some(url) => Error::Transport(e.with_url(url.clone())),
            None => Error::Transport(e),
        };
        let resp = req.header(ACCEPT, "application/json").send().await.map_err(scrub)?;
        let status = resp.status().as_u16();
        let request_id = header_request_id(resp.headers());
        let body = resp.bytes().await.map_err(scrub)?;
        Ok((status, request_id, body.to_vec()))
    }

    async fn api_post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let (status, id, bytes) = self
            .send(self.http.post(join(&self.api_base, path)).json(body), None)
            .await?;
        decode_api(status, id, &bytes)
    }

    /// An app token from the new gateway: `POST /v1.0/oauth2/accessToken`. WIRE.md §C2.
    pub async fn get_access_token(&self, app: &AppCredentials) -> Result<AccessTokenResponse, Error> {
        let body = GetAccessTokenRequest {
            app_key: Some(app.app_key.clone()),
            app_secret: Some(app.app_secret.clone()),
        };
        self.api_post(api::path::ACCESS_TOKEN, &body).await
    }

    /// An app token from the legacy gateway: `GET /gettoken?appkey=&appsecret=`. WIRE.md §C1.
    pub async fn get_token(&self, app: &AppCredentials) -> Result<GetTokenResponse, Error> {
        let bare = join(&self.oapi_base, oapi::path::GET_TOKEN);
        let mut url = bare.clone();
        url.query_pairs_mut()
            .append_pair("appkey", &app.app_key)
            .append_pair("appsecret", &app.app_secret);
        let (status, id, bytes) = self.send(self.http.get(url), Some(&bare)).await?;
        decode_oapi(status, id, &bytes)
    }

    /// An app token from either gateway, in one shape.
    pub async fn app_token(&self, app: &AppCredentials, gateway: Gateway) -> Result<AppToken, Error> {
        Ok(match gateway {
            Gateway::Api => {
                let t = self.get_access_token(app).await?;
                AppToken {
                    access_token: t.access_token,
                    expires_in: t.expire_in,
                }
            }
            Gateway::Oapi => {
                let t = self.get_token(app).await?;
                AppToken {
                    access_token: t.access_token,
                    expires_in: t.expires_in,
                }
            }
        })
    }

    /// A third-party enterprise app's token for one corp that authorised it:
    /// `POST /v1.0/oauth2/corpAccessToken`. Unlike an internal app's, it is new on every call.
    /// WIRE.md §C4.
    pub async fn get_corp_access_token(
        &self,
        suite: &AppCredentials,
        auth_corp_id: &CorpId,
        suite_ticket: &str,
    ) -> Result<AccessTokenResponse, Error> {
        let body = GetCorpAccessTokenRequest {
            suite_key: Some(suite.app_key.clone()),
            suite_secret: Some(suite.app_secret.clone()),
            auth_corp_id: Some(auth_corp_id.0.clone()),
            suite_ticket: Some(suite_ticket.to_owned()),
        };
        self.api_post(api::path::CORP_ACCESS_TOKEN, &body).await
    }

    /// The URL to send the browser to for the sign-in. The redirect back to `redirect_uri`
    /// carries `code` (and the same value as `authCode`) and `state`. WIRE.md §C3.
    pub fn authorize_url(&self, params: &AuthorizeParams) -> Url {
        let mut url = join(&self.login_base, browser::path::AUTHORIZE);
        url.set_query(Some(&params.query()));
        url
    }

    /// A user token for the code of a finished sign-in (`grantType authorization_code`):
    /// `POST /v1.0/oauth2/userAccessToken`. Codes are single-use and live 5 minutes. WIRE.md §C3.
    pub async fn user_token_from_code(&self, app: &AppCredentials, code: &str) -> Result<UserTokenResponse, Error> {
        let body = GetUserTokenRequest {
            client_id: Some(app.app_key.clone()),
            client_secret: Some(app.app_secret.clone()),
            code: Some(code.to_owned()),
            refresh_token: None,
            grant_type: Some("authorization_code".to_owned()),
        };
        self.api_post(api::path::USER_ACCESS_TOKEN, &body).await
    }

    /// A new user token for a refresh token (`grantType refresh_token`):
    /// `POST /v1.0/oauth2/userAccessToken`. Use the refresh token of the answer next time.
    /// WIRE.md §C3.
    pub async fn refresh_user_token(
        &self,
        app: &AppCredentials,
        refresh_token: &str,
    ) -> Result<UserTokenResponse, Error> {
        let body = GetUserTokenRequest {
            client_id: Some(app.app_key.clone()),
            client_secret: Some(app.app_secret.clone()),
            code: None,
            refresh_token: Some(refresh_token.to_owned()),
            grant_type: Some("refresh_token".to_owned()),
        };
        self.api_post(api::path::USER_ACCESS_TOKEN, &body).await
    }

    /// GetUser: `GET /v1.0/contact/users/{unionId}` with a **user** token (seed 000). The id
    /// `me` is the token's own user; see [`Client::get_me`].
    pub async fn get_user(&self, user_token: &str, union_id: &UnionId) -> Result<GetUserResponse, Error> {
        // One path segment, percent-encoded, so an id cannot reach another path.
        let path = api::path::GET_USER.replace("{unionId}", &encode(union_id.as_str()));
        let req = self
            .http
            .get(join(&self.api_base, &path))
            .header(api::ACCESS_TOKEN_HEADER, user_token);
        let (status, id, bytes) = self.send(req, None).await?;
        decode_api(status, id, &bytes)
    }

    /// One page of the corp's departed members: `GET /v1.0/contact/empLeaveRecords` with an
    /// internal app's **app** token; `req.next_token` is `None` (or `0`) for the first page, then
    /// the last answer's. docs/wire/directory-read.md §2.16.
    pub async fn list_emp_leave_records(
        &self,
        app_token: &str,
        req: &api::ListEmpLeaveRecordsRequest,
    ) -> Result<api::ListEmpLeaveRecordsResponse, Error> {
        let mut url = join(&self.api_base, api::path::EMP_LEAVE_RECORDS);
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in [
                ("startTime", req.start_time.clone()),
                ("endTime", req.end_time.clone()),
                ("nextToken", req.next_token.clone()),
                ("maxResults", req.max_results.map(|n| n.to_string())),
            ] {
                if let Some(v) = v {
                    q.append_pair(k, &v);
                }
            }
        }
        let req = self.http.get(url).header(api::ACCESS_TOKEN_HEADER, app_token);
        let (status, id, bytes) = self.send(req, None).await?;
        decode_api(status, id, &bytes)
    }

    /// GetUser for the token's own user (`/v1.0/contact/users/me`).
    pub async fn get_me(&self, user_token: &str) -> Result<GetUserResponse, Error> {
        self.get_user(user_token, &UnionId::from("me")).await
    }

    /// The userid of a corp member by mobile: `POST /topapi/v2/user/getbymobile` with an **app**
    /// token (seed 003). With `exclusive`, the caller corp's exclusive accounts with that mobile
    /// come in `result.exclusive_account_userid_list`. WIRE.md §D3-D4.
    pub async fn get_by_mobile(
        &self,
        app_token: &str,
        mobile: &str,
        exclusive: bool,
    ) -> Result<GetByMobileResponse, Error> {
        let body = GetByMobileRequest {
            mobile: mobile.to_owned(),
            support_exclusive_account_search: exclusive.then_some(oapi::TopBool(true)),
        };
        self.oapi_post(oapi::path::V2_USER_GET_BY_MOBILE, app_token, &body)
            .await
    }

    /// `GET {path}?access_token=&{params}` on the legacy gateway, read as a legacy answer: a
    /// non-zero `errcode` is [`Error::Oapi`].
    pub(crate) async fn oapi_get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        app_token: &str,
        params: &[(&str, String)],
    ) -> Result<T, Error> {
        let bare = join(&self.oapi_base, path);
        let mut url = bare.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("access_token", app_token);
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        let (status, id, bytes) = self.send(self.http.get(url), Some(&bare)).await?;
        decode_oapi(status, id, &bytes)
    }

    /// `POST {path}?access_token=` on the legacy gateway with a JSON body, read as a legacy
    /// answer: a non-zero `errcode` is [`Error::Oapi`].
    pub(crate) async fn oapi_post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        app_token: &str,
        body: &B,
    ) -> Result<T, Error> {
        let bare = join(&self.oapi_base, path);
        let mut url = bare.clone();
        url.query_pairs_mut().append_pair("access_token", app_token);
        let (status, id, bytes) = self.send(self.http.post(url).json(body), Some(&bare)).await?;
        decode_oapi(status, id, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dingtalks_real_hosts() {
        let c = Client::new().unwrap();
        assert_eq!(c.api_base().as_str(), "https://api.dingtalk.com/");
        assert_eq!(c.oapi_base().as_str(), "https://oapi.dingtalk.com/");
        assert_eq!(c.login_base().as_str(), "https://login.dingtalk.com/");
    }

    #[test]
    fn bad_base_urls_are_config_errors() {
        for bad in ["not a url", "ftp://example.com", "mailto:a@b"] {
            let e = Client::builder().oapi_base(bad).build().unwrap_err();
            assert!(
                matches!(&e, Error::Config(m) if m.contains("oapi base URL")),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn gateways_parse_and_print() {
        assert_eq!("api".parse::<Gateway>().unwrap(), Gateway::Api);
        assert_eq!("oapi".parse::<Gateway>().unwrap(), Gateway::Oapi);
        assert!("both".parse::<Gateway>().is_err());
        assert_eq!(Gateway::Oapi.to_string(), "oapi");
    }

    #[test]
    fn credentials_never_show_the_secret() {
        let c = AppCredentials::new("dingkey", "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(c.app_secret(), "s3cret");
    }

    #[test]
    fn the_authorize_url_goes_to_the_login_base() {
        let c = Client::builder()
            .login_base("http://127.0.0.1:9/prefix/")
            .build()
            .unwrap();
        let url = c.authorize_url(&AuthorizeParams::new("k", "http://x/cb", "s"));
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/prefix/oauth2/auth?redirect_uri=http%3A%2F%2Fx%2Fcb&response_type=code&client_id=k&scope=openid%20corpid&state=s&prompt=consent"
        );
    }
}
