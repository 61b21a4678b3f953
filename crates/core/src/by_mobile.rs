//! getbymobile's rules (seed 003): who may ask, what a mobile is, and what comes back.

use crate::error::Error;
use crate::mobile::{Mobile, MobileError};
use crate::model::{AppKind, MemberStatus};
use crate::service::{Caller, Service};
use crate::token::TokenKind;
use dingdir_proto::ids::CorpId;
use dingdir_proto::scope::QYAPI_GET_MEMBER_BY_MOBILE;

/// What getbymobile found in the caller's corp.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ByMobile {
    /// The active normal-account member with the mobile. `None` when only exclusive accounts
    /// matched (and were asked for).
    pub userid: Option<String>,
    /// Userids of the caller's corp's active exclusive accounts with the mobile, when asked for.
    pub exclusive_userids: Vec<String>,
}

impl Service {
    /// `POST /topapi/v2/user/getbymobile`. Only an internal app's token with
    /// `qyapi_get_member_by_mobile` may ask, and only about its own corp. A departed member is
    /// invisible, as if unknown. When only exclusive accounts match and they were asked for, the
    /// answer has no `userid` and lists them; when they were not asked for, it is 60121.
    pub async fn get_by_mobile(
        &self,
        caller: &Caller,
        mobile: Option<&str>,
        with_exclusive: bool,
    ) -> Result<ByMobile, Error> {
        let corp = Self::may_get_by_mobile(caller)?;
        let mobile = Mobile::parse(mobile.unwrap_or_default()).map_err(|e| match e {
            MobileError::Empty => Error::MobileMissing,
            MobileError::Malformed => Error::MobileMalformed,
        })?;
        let mut found = ByMobile::default();
        for (m, p) in self.members_by_mobile(corp, &mobile).await?.iter() {
            if m.status != MemberStatus::Active {
                continue;
            }
            match &p.exclusive_of {
                None => found.userid = Some(m.userid.0.clone()),
                Some(owner) if with_exclusive && owner == corp => found.exclusive_userids.push(m.userid.0.clone()),
                Some(_) => {}
            }
        }
        if found.userid.is_none() && found.exclusive_userids.is_empty() {
            return Err(Error::UserNotFound);
        }
        found.exclusive_userids.sort();
        Ok(found)
    }

    /// The caller's corp, when the caller may use getbymobile at all: checked before any
    /// parameter, as DingTalk's gateway does.
    pub fn may_get_by_mobile(caller: &Caller) -> Result<&CorpId, Error> {
        match caller.kind {
            // The legacy gateway knows app tokens only.
            TokenKind::User => return Err(Error::TokenInvalid),
            TokenKind::App | TokenKind::Corp => {}
        }
        if caller.app.kind != AppKind::Internal {
            return Err(Error::WrongAppType {
                scope: QYAPI_GET_MEMBER_BY_MOBILE,
            });
        }
        if !caller.app.has_scope(QYAPI_GET_MEMBER_BY_MOBILE) {
            return Err(Error::ScopeMissing {
                scope: QYAPI_GET_MEMBER_BY_MOBILE,
            });
        }
        caller
            .corp_id
            .as_ref()
            .or(caller.app.corp_id.as_ref())
            .ok_or(Error::WrongAppType {
                scope: QYAPI_GET_MEMBER_BY_MOBILE,
            })
    }
}
