//! In-app sign-in (免登): a code the DingTalk client's JSAPI hands a page (`dd.getAuthCode`),
//! which the app's server exchanges for the member. dingdir mints the codes through its admin
//! API. docs/wire/directory-read.md §2.15.

use crate::error::Error;
use crate::model::{App, AppKind, MemberStatus};
use crate::secret;
use crate::service::{Caller, Service, new_token};
use crate::store::{DirectoryStore, TokenStore};
use crate::token::{CODE_TTL_MS, CodeRecord, Grant, TokenKind};
use dingdir_proto::ids::{CorpId, UserId};
use dingdir_proto::oapi::UserInfoResult;

/// The `scope` an in-app code's grant carries, so that no other redemption path mistakes it.
const IN_APP_SCOPE: &str = "dingdir:in-app";

/// What an in-app code is stored under: a digest in its own namespace, so that an OAuth code
/// never redeems here (and is not spent by trying) and an in-app code never redeems as one.
fn in_app_digest(code: &str) -> String {
    secret::digest(&format!("in-app\0{code}"))
}

impl Service {
    /// An in-app sign-in code for `userid` of `corp`, redeemable once, within five minutes, by
    /// `app` only. The app must be installed in the corp and the member active.
    pub async fn issue_in_app_code(&self, app: &App, corp: &CorpId, userid: &UserId) -> Result<String, Error> {
        if !app.installed_in().contains(corp) {
            return Err(Error::NotAuthorised);
        }
        let member = self
            .membership(corp, userid)
            .await?
            .filter(|m| m.status == MemberStatus::Active)
            .ok_or(Error::UserNotFound)?;
        let code = new_token()?;
        let record = CodeRecord {
            digest: in_app_digest(&code),
            grant: Grant {
                app_key: app.key.clone(),
                person_id: member.person_id,
                corp_id: Some(corp.clone()),
                scope: IN_APP_SCOPE.to_owned(),
            },
            expires_at: self.now().saturating_add(CODE_TTL_MS),
        };
        self.store.insert_code(&record).await?;
        Ok(code)
    }

    /// `POST /topapi/v2/user/getuserinfo`: spends an in-app code of the calling app in the
    /// caller's corp and names the member. A used, expired, unknown or foreign code, or an
    /// OAuth code, is `40078`; a member who departed since is `60121`.
    pub async fn user_info_by_code(&self, caller: &Caller, code: &str) -> Result<UserInfoResult, Error> {
        if caller.kind == TokenKind::User {
            return Err(Error::TokenInvalid);
        }
        if caller.app.kind == AppKind::ThirdPartyPersonal {
            return Err(Error::WrongAppType { scope: "qyapi_base" });
        }
        let corp = caller
            .corp_id
            .as_ref()
            .or(caller.app.corp_id.as_ref())
            .ok_or(Error::WrongAppType { scope: "qyapi_base" })?;
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::InvalidParameter { name: "code" });
        }
        let record = self
            .store
            .redeem_code(&in_app_digest(code), &caller.app.key, self.now())
            .await?
            .filter(|r| r.grant.scope == IN_APP_SCOPE && r.grant.corp_id.as_ref() == Some(corp))
            .ok_or(Error::CodeInvalid)?;
        let person_id = &record.grant.person_id;
        let membership = self
            .store
            .memberships_of(person_id)
            .await?
            .into_iter()
            .find(|m| &m.corp_id == corp && m.status == MemberStatus::Active)
            .ok_or(Error::UserNotFound)?;
        let member = self
            .member(corp, &membership.userid)
            .await?
            .ok_or(Error::UserNotFound)?;
        let person = self.person(person_id).await?.ok_or(Error::UserNotFound)?;
        let d = &member.details;
        let sys_level = if d.main_admin {
            1
        } else if d.admin {
            2
        } else if d.boss {
            100
        } else {
            0
        };
        // One device per person and app: stable, and telling nothing of either.
        let device = secret::digest(&format!("device\0{}\0{}", person.id.0, caller.app.key.0));
        Ok(UserInfoResult {
            associated_unionid: String::new(),
            device_id: device[..32].to_owned(),
            name: member.membership.name.clone().unwrap_or_else(|| person.nick.clone()),
            sys: d.admin || d.main_admin,
            sys_level,
            unionid: self.union_id(&caller.app.developer(), person.number).to_string(),
            userid: member.membership.userid.0.clone(),
        })
    }
}
