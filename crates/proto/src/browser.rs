//! The browser sign-in (`login.dingtalk.com/oauth2/auth`): HTML pages, then a redirect to the
//! app's registered `redirect_uri` with `code`, `authCode` and `state`. WIRE.md §C3.

/// Paths of the sign-in pages.
pub mod path {
    /// `GET`: the authorise URL an app sends the browser to; shows the sign-in page.
    pub const AUTHORIZE: &str = "/oauth2/auth";
    /// `POST`: the sign-in form (mobile and password); shows the consent page.
    pub const SIGN_IN: &str = "/oauth2/auth/signin";
    /// `POST`: the consent form; redirects to the app.
    pub const CONSENT: &str = "/oauth2/auth/consent";
    /// Every sign-in path starts with this.
    pub const PREFIX: &str = "/oauth2/";
}

/// The error value on the redirect when the person denies. WIRE.md §C3.
pub const ACCESS_DENIED: &str = "access_denied";
