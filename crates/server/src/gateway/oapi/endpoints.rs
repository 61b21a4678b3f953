//! Every legacy-gateway operation, named after its path, and the facts about it.

use axum::http::Method;
use dingdir_proto::oapi::path;

/// One legacy operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET /gettoken`: an app token.
    GetToken,
    /// `POST /topapi/v2/user/getbymobile`: a userid by mobile (seed 003).
    V2UserGetByMobile,
}

impl Endpoint {
    /// Every operation, for route and documentation checks.
    pub(crate) const ALL: &[Self] = &[Self::GetToken, Self::V2UserGetByMobile];

    /// A name for logs and docs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::GetToken => "GetToken",
            Self::V2UserGetByMobile => "V2UserGetByMobile",
        }
    }

    /// The route path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::GetToken => path::GET_TOKEN,
            Self::V2UserGetByMobile => path::V2_USER_GET_BY_MOBILE,
        }
    }

    /// The HTTP method.
    pub(crate) fn method(self) -> Method {
        match self {
            Self::GetToken => Method::GET,
            Self::V2UserGetByMobile => Method::POST,
        }
    }

    /// The operation served at `path`, if any.
    pub(crate) fn at(path: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.path() == path)
    }
}
