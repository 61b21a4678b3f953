//! Conversations: group chats (the people in each and the app robots added to it) and the names
//! the inbox gives one-to-one chats, so every kind of message lands in a conversation a test can
//! read back.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dingdir_proto::ids::{AppKey, CorpId, UserId};

/// The most people a group holds (DingTalk's ordinary group limit; docs/wire/messages.md).
pub const MAX_MEMBERS: usize = 1_000;

/// A group chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The corp the group belongs to.
    pub corp_id: CorpId,
    /// Its title, unique in the corp: the inbox's conversation name.
    pub name: String,
    /// Its `openConversationId` (`cid…==`), derived from the corp and the name.
    pub conversation_id: String,
    /// The group's owner, a member.
    pub owner: Option<UserId>,
    /// The people in it, by userid, sorted.
    pub members: Vec<UserId>,
    /// The app robots added to it, by app key (= robotCode), sorted.
    pub bots: Vec<AppKey>,
}

impl Group {
    /// A group with its derived conversation id; members and bots sorted and deduplicated.
    pub fn new(
        corp_id: CorpId,
        name: String,
        owner: Option<UserId>,
        mut members: Vec<UserId>,
        mut bots: Vec<AppKey>,
    ) -> Self {
        if let Some(o) = &owner {
            members.push(o.clone());
        }
        members.sort();
        members.dedup();
        bots.sort();
        bots.dedup();
        Self {
            conversation_id: conversation_id(&corp_id, &name),
            corp_id,
            name,
            owner,
            members,
            bots,
        }
    }

    /// Whether the person is in the group.
    pub fn has_member(&self, user: &UserId) -> bool {
        self.members.binary_search(user).is_ok()
    }

    /// Whether the app's robot was added to the group.
    pub fn has_bot(&self, app: &AppKey) -> bool {
        self.bots.binary_search(app).is_ok()
    }
}

/// Checks a group's settings: a name, at most [`MAX_MEMBERS`] people.
pub fn check(group: &Group) -> Result<(), String> {
    if group.name.trim().is_empty() || group.name.chars().count() > 64 {
        return Err("name: 1 to 64 characters".to_owned());
    }
    if group.name.starts_with("single:") || group.name.starts_with("notice:") {
        return Err("name: `single:` and `notice:` name one-to-one conversations".to_owned());
    }
    if group.members.len() > MAX_MEMBERS {
        return Err(format!("members: at most {MAX_MEMBERS}"));
    }
    Ok(())
}

impl crate::Service {
    /// Creates or replaces a group, after checking its settings, its corp, that each person is
    /// a member of the corp and each robot's app is installed in it. The message names the
    /// field at fault.
    pub async fn put_group(&self, group: &Group) -> Result<(), SetupError> {
        use SetupError as E;
        check(group).map_err(E::Invalid)?;
        let store = self.store();
        if store.corp(&group.corp_id).await?.is_none() {
            return Err(E::Invalid(format!("corp_id {:?} does not exist", group.corp_id.0)));
        }
        for m in &group.members {
            if store.membership(&group.corp_id, m).await?.is_none() {
                return Err(E::Invalid(format!(
                    "members: {:?} is not a member of {}",
                    m.0, group.corp_id
                )));
            }
        }
        for b in &group.bots {
            let installed = store
                .app(b)
                .await?
                .is_some_and(|a| a.installed_in().contains(&group.corp_id));
            if !installed {
                return Err(E::Invalid(format!(
                    "bots: app {:?} is not installed in {}",
                    b.0, group.corp_id
                )));
            }
        }
        Ok(store.put_group(group).await?)
    }
}

/// Why a robot or a group could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Its settings: the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// An id DingTalk-shaped: `prefix`, base64 of a digest of `parts`, `suffix`.
pub(crate) fn short_id(prefix: &str, parts: &[&str], suffix: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(parts.join("|").as_bytes());
    format!("{prefix}{}{suffix}", BASE64.encode(&digest[..16]).trim_end_matches('='))
}

/// The `openConversationId` of a corp's group: `cid` + 22 base64 characters + `==`, as
/// DingTalk's look, stable for the corp and the name.
pub fn conversation_id(corp: &CorpId, name: &str) -> String {
    short_id("cid", &[&corp.0, name], "==")
}

/// The inbox's name for a person's one-to-one chat with an app's robot.
pub fn single_conversation(app: &AppKey, user: &UserId) -> String {
    format!("single:{}:{}", app.0, user.0)
}

/// The inbox's name for the work notification conversation of an app with a person
/// (工作通知, one per app and person).
pub fn notice_conversation(app: &AppKey, user: &UserId) -> String {
    format!("notice:{}:{}", app.0, user.0)
}

/// The person of a one-to-one conversation (a chat with a robot or a work notification
/// conversation); `None` for a group.
pub fn person_of(conversation: &str) -> Option<UserId> {
    let rest = conversation
        .strip_prefix("single:")
        .or_else(|| conversation.strip_prefix("notice:"))?;
    let (_app, user) = rest.split_once(':')?;
    Some(UserId(user.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_sorts_its_people_counts_its_owner_and_derives_its_id() {
        let g = Group::new(
            CorpId("dingA".into()),
            "Ops".into(),
            Some(UserId("zoe".into())),
            vec![UserId("bob".into()), UserId("amy".into()), UserId("bob".into())],
            vec![AppKey("k2".into()), AppKey("k1".into())],
        );
        assert_eq!(g.members, ["amy", "bob", "zoe"].map(|u| UserId(u.into())));
        assert!(g.has_member(&UserId("zoe".into())) && !g.has_member(&UserId("cat".into())));
        assert!(g.has_bot(&AppKey("k1".into())));
        assert!(g.conversation_id.starts_with("cid") && g.conversation_id.ends_with("=="));
        assert_eq!(g.conversation_id, conversation_id(&CorpId("dingA".into()), "Ops"));
        assert_ne!(g.conversation_id, conversation_id(&CorpId("dingB".into()), "Ops"));
        assert!(check(&g).is_ok());
        let bad = Group::new(CorpId("dingA".into()), "single:x".into(), None, vec![], vec![]);
        assert!(check(&bad).is_err());
        let one = single_conversation(&AppKey("k1".into()), &UserId("u:1".into()));
        assert_eq!(person_of(&one), Some(UserId("u:1".into())));
        assert_eq!(person_of("Ops"), None);
    }
}
