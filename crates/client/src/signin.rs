//! The browser sign-in's first step: the authorize URL an app sends the browser to. WIRE.md §C3.
//! The code that comes back is exchanged with
//! [`Client::user_token_from_code`](crate::Client::user_token_from_code).

use reqwest::Url;

/// What goes into the authorize URL
/// (`https://login.dingtalk.com/oauth2/auth?redirect_uri=…&response_type=code&client_id=…&scope=…&state=…&prompt=consent`).
///
/// ```
/// use dingdir_client::{AuthorizeParams, Client};
///
/// let client = Client::new()?;
/// let url = client.authorize_url(&AuthorizeParams::new(
///     "dingdemointernal",
///     "http://127.0.0.1:3000/callback",
///     "st-42",
/// ));
/// assert_eq!(
///     url.as_str(),
///     "https://login.dingtalk.com/oauth2/auth?redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback\
///      &response_type=code&client_id=dingdemointernal&scope=openid%20corpid&state=st-42&prompt=consent"
/// );
/// # Ok::<(), dingdir_client::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizeParams {
    /// The app's key (AppKey, SuiteKey or AppId), sent as `client_id`.
    pub client_id: String,
    /// One of the app's registered redirect URIs.
    pub redirect_uri: String,
    /// An unguessable value the app checks on the redirect, against cross-site request forgery.
    pub state: String,
    /// `openid` or `openid corpid` (the default: the token answer then names the chosen corp).
    pub scope: String,
    /// `consent` (the default) or none.
    pub prompt: Option<String>,
    /// `management` to sign in as an administrator.
    pub org_type: Option<String>,
    /// Restrict the sign-in to this corp (`corpId`).
    pub corp_id: Option<String>,
    /// Sign in with an exclusive (enterprise) account (`exclusiveLogin=true`).
    pub exclusive_login: bool,
    /// The corp of the exclusive account (`exclusiveCorpId`).
    pub exclusive_corp_id: Option<String>,
}

impl AuthorizeParams {
    /// The usual parameters: scope `openid corpid`, prompt `consent`.
    pub fn new(client_id: impl Into<String>, redirect_uri: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            state: state.into(),
            scope: "openid corpid".to_owned(),
            prompt: Some("consent".to_owned()),
            org_type: None,
            corp_id: None,
            exclusive_login: false,
            exclusive_corp_id: None,
        }
    }

    /// The query string, in the order of DingTalk's documentation, spaces as `%20`.
    pub(crate) fn query(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("redirect_uri", &self.redirect_uri),
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("scope", &self.scope),
            ("state", &self.state),
        ];
        let optional = [
            ("prompt", self.prompt.as_deref()),
            ("org_type", self.org_type.as_deref()),
            ("corpId", self.corp_id.as_deref()),
            ("exclusiveLogin", self.exclusive_login.then_some("true")),
            ("exclusiveCorpId", self.exclusive_corp_id.as_deref()),
        ];
        pairs.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base` + `path`, keeping any path prefix the base has (a reverse proxy's `/dingtalk`).
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url.set_query(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_parameters_follow_in_documented_order() {
        let mut p = AuthorizeParams::new("k", "https://app.example/cb?x=1&y=2", "s t");
        p.scope = "openid".to_owned();
        p.prompt = None;
        p.org_type = Some("management".to_owned());
        p.corp_id = Some("ding1".to_owned());
        p.exclusive_login = true;
        p.exclusive_corp_id = Some("ding2".to_owned());
        assert_eq!(
            p.query(),
            "redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1%26y%3D2&response_type=code&client_id=k\
             &scope=openid&state=s%20t&org_type=management&corpId=ding1&exclusiveLogin=true&exclusiveCorpId=ding2"
        );
    }

    #[test]
    fn non_ascii_is_encoded_as_utf8_bytes() {
        assert_eq!(encode("状态 ~a-b_c.d"), "%E7%8A%B6%E6%80%81%20~a-b_c.d");
    }

    #[test]
    fn join_keeps_a_base_path_prefix_and_drops_a_base_query() {
        let base = Url::parse("https://proxy.example/dingtalk/?x=1").unwrap();
        assert_eq!(
            join(&base, "/gettoken").as_str(),
            "https://proxy.example/dingtalk/gettoken"
        );
        let bare = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            join(&bare, "/v1.0/oauth2/accessToken").as_str(),
            "http://127.0.0.1:8080/v1.0/oauth2/accessToken"
        );
    }
}
