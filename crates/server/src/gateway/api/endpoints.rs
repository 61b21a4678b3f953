//! Every new-gateway operation, named as the official SDKs name it, and the facts about it.

use axum::http::Method;
use dingdir_proto::api::path;

/// One new-gateway operation.
#[expect(clippy::enum_variant_names, reason = "the official SDKs' operation names")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /v1.0/oauth2/accessToken` (oauth2_1_0 `GetAccessToken`).
    GetAccessToken,
    /// `POST /v1.0/oauth2/userAccessToken` (oauth2_1_0 `GetUserToken`).
    GetUserToken,
    /// `POST /v1.0/oauth2/corpAccessToken` (oauth2_1_0 `GetCorpAccessToken`).
    GetCorpAccessToken,
    /// `GET /v1.0/contact/users/{unionId}` (contact_1_0 `GetUser`), seed 000.
    GetUser,
}

impl Endpoint {
    /// Every operation, for route and documentation checks.
    pub(crate) const ALL: &[Self] = &[
        Self::GetAccessToken,
        Self::GetUserToken,
        Self::GetCorpAccessToken,
        Self::GetUser,
    ];

    /// The SDK's operation name, for logs and docs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::GetAccessToken => "GetAccessToken",
            Self::GetUserToken => "GetUserToken",
            Self::GetCorpAccessToken => "GetCorpAccessToken",
            Self::GetUser => "GetUser",
        }
    }

    /// The route path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::GetAccessToken => path::ACCESS_TOKEN,
            Self::GetUserToken => path::USER_ACCESS_TOKEN,
            Self::GetCorpAccessToken => path::CORP_ACCESS_TOKEN,
            Self::GetUser => path::GET_USER,
        }
    }

    /// The HTTP method.
    pub(crate) fn method(self) -> Method {
        match self {
            Self::GetAccessToken | Self::GetUserToken | Self::GetCorpAccessToken => Method::POST,
            Self::GetUser => Method::GET,
        }
    }
}
