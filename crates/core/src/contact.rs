//! GetUser's rules (seed 000): whom a user token may see, and which fields it gets.

use crate::error::Error;
use crate::model::{AppKind, MemberStatus, Person};
pub use crate::profile::UserProfile;
use crate::service::{Caller, Service, Visibility};
use crate::token::TokenKind;
use dingdir_proto::api::GetUserResponse;
use dingdir_proto::scope::{CONTACT_USER_MOBILE, CONTACT_USER_READ};
use std::collections::HashSet;
use std::sync::Arc;

fn non_empty(s: &Option<String>) -> Option<String> {
    s.clone().filter(|v| !v.trim().is_empty())
}

impl Service {
    /// `GET /v1.0/contact/users/{unionId}`. Anyone the caller may not see answers exactly as
    /// someone who does not exist, so existence does not leak.
    pub async fn get_user(&self, caller: &Caller, union_id: &str) -> Result<Arc<UserProfile>, Error> {
        if caller.kind != TokenKind::User {
            return Err(Error::WrongTokenKind {
                scope: CONTACT_USER_READ,
            });
        }
        if !caller.app.has_scope(CONTACT_USER_READ) {
            return Err(Error::ScopeMissing {
                scope: CONTACT_USER_READ,
            });
        }
        let me = caller.person_id.as_ref().ok_or(Error::TokenInvalid)?;
        let developer = caller.app.developer();
        let me_number = crate::ident::person_number(me);
        let target = if union_id == "me" {
            me_number
        } else {
            self.ids()
                .person_of_union_id(&developer, union_id)
                .ok_or(Error::UserNotFound)?
        };
        let now = self.now();
        let key = (caller.app.key.clone(), target);
        if target == me_number {
            // The caller always sees themself: a cached answer needs no other read.
            if let Some(profile) = self.caches.profiles.get(&key, now) {
                return Ok(profile);
            }
        }
        let person = if target == me_number {
            self.person(me).await?.ok_or(Error::UserNotFound)?
        } else {
            let person = self.person_by_number(target).await?.ok_or(Error::UserNotFound)?;
            if !self.visible(caller, &person).await? {
                return Err(Error::UserNotFound);
            }
            person
        };
        if let Some(profile) = self.caches.profiles.get(&key, now) {
            return Ok(profile);
        }
        let profile = Arc::new(self.profile(caller, &person));
        self.caches.profiles.put(key, profile.clone(), now);
        Ok(profile)
    }

    /// Whether `person` (not the caller) is visible: an active member of a corp where the caller
    /// is an active member and the app is installed. PRODUCT.md "Decisions".
    async fn visible(&self, caller: &Caller, person: &Person) -> Result<bool, Error> {
        if self.policy().visibility == Visibility::SelfOnly || caller.app.kind == AppKind::ThirdPartyPersonal {
            return Ok(false);
        }
        let Some(me) = &caller.person_id else { return Ok(false) };
        let installed: HashSet<_> = caller.app.installed_in().into_iter().collect();
        let active = |ms: std::sync::Arc<Vec<crate::model::Membership>>| -> HashSet<_> {
            ms.iter()
                .filter(|m| m.status == MemberStatus::Active && installed.contains(&m.corp_id))
                .map(|m| m.corp_id.clone())
                .collect()
        };
        let mine = active(self.memberships_of(me).await?);
        if mine.is_empty() {
            return Ok(false);
        }
        let theirs = active(self.memberships_of(&person.id).await?);
        Ok(!mine.is_disjoint(&theirs))
    }

    fn profile(&self, caller: &Caller, person: &Person) -> UserProfile {
        let app = &caller.app;
        let (mobile, state_code) = match &person.mobile {
            Some(m) if app.has_scope(CONTACT_USER_MOBILE) => {
                let digits = if app.kind == AppKind::ThirdPartyEnterprise {
                    m.masked()
                } else {
                    m.national().to_owned()
                };
                (Some(digits), Some(m.state_code().to_owned()))
            }
            _ => (None, None),
        };
        UserProfile::new(GetUserResponse {
            nick: Some(person.nick.clone()).filter(|n| !n.is_empty()),
            avatar_url: non_empty(&person.avatar_url),
            mobile,
            state_code,
            open_id: Some(self.open_id(&app.key, person.number).to_string()),
            union_id: Some(self.union_id(&app.developer(), person.number).to_string()),
            email: non_empty(&person.email),
            // dingdir has no visitors. SDK-WIRE.md §2.3: a JSON boolean.
            visitor: false,
        })
    }
}
