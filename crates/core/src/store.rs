//! The storage port, split by aggregate so that a decorator or a test double implements only
//! what it needs: [`DirectoryStore`] (corps, apps, people, memberships), [`TokenStore`] (tokens,
//! codes, refresh tokens), [`SignInStore`] (consent tickets), [`LimitStore`] (rate limits),
//! [`CallbackStore`] (callback delivery), and [`Store`], their sum with the
//! store's life cycle. Implementations live in `dingdir-store`; SQL stays there.

use crate::StoreError;
use crate::callback::{Attempt, CallbackState};
use crate::change::{Change, ChangeQuery, Write};
use crate::clock::Millis;
use crate::ident::IdSecret;
use crate::mobile::Mobile;
use crate::model::{App, Corp, Department, Directory, Member, Membership, Person, PersonId, Role};
use crate::robot::{ChatSession, InboxEntry, InboxQuery, WebhookRobot};
use crate::stream::StreamCursor;
use crate::token::{CodeRecord, RefreshRecord, StoredAppToken, TokenRecord};
use dingdir_proto::ids::{AppKey, CorpId, UserId};

/// The directory: corps, apps, people and their memberships. Every write is one transaction;
/// reads see committed data only.
#[async_trait::async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    /// Makes one write in one transaction: creates or updates everything its directory names (a
    /// person's memberships and an app's scopes, redirect URIs and authorised corps are
    /// replaced), creates and removes its departments, and appends its entries to the change log.
    /// A new department whose id is taken fails with [`StoreError::Conflict`]; a removed one that
    /// still has sub-departments or active members fails with [`StoreError::Refused`]. Writers
    /// take turns, so log entries commit in `seq` order.
    async fn apply(&self, write: &Write) -> Result<(), StoreError>;

    /// Entries of the change log, by `seq`.
    async fn changes(&self, query: &ChangeQuery) -> Result<Vec<Change>, StoreError>;

    /// Inserts a directory into a store that holds none of its entities, in one transaction,
    /// with multi-row statements: the fast path of `dingdir generate`. Any conflict fails the
    /// whole insert.
    async fn insert_directory(&self, directory: &Directory) -> Result<(), StoreError>;

    /// Imports a whole directory, batch by batch, into a store that holds none of its entities,
    /// then numbers every department's members: `dingdir generate` at scale. Any conflict fails
    /// the whole import. A store may do it in one transaction with its indexes built once at the
    /// end; this default inserts batch by batch.
    async fn import(&self, batches: &mut (dyn Iterator<Item = Directory> + Send)) -> Result<(), StoreError> {
        for batch in batches {
            self.insert_directory(&batch).await?;
        }
        self.number_members().await
    }

    /// Makes `write` in a store that holds no directory yet (no corps, apps or people): the
    /// rows, log entries and callbacks [`Self::apply`] would make, by the bulk path of
    /// [`Self::import`]. `dingdir apply` of a large seed into a new store comes here. This
    /// default applies it.
    async fn load(&self, write: &Write) -> Result<(), StoreError> {
        self.apply(write).await
    }

    /// The whole directory, ordered by id (corps, apps by key, people, memberships by corp).
    async fn directory(&self) -> Result<Directory, StoreError>;

    /// Deletes every corp, app, person and token; keeps the id secret.
    async fn reset(&self) -> Result<(), StoreError>;

    /// A corp's roles, by id.
    async fn roles(&self, corp: &CorpId) -> Result<Vec<Role>, StoreError>;

    /// A corp by id.
    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError>;

    /// An app by key.
    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError>;

    /// Sets the suite ticket a third-party enterprise app must present; `false` if no such app.
    async fn set_suite_ticket(&self, app: &AppKey, ticket: &str) -> Result<bool, StoreError>;

    /// A person by dingdir id.
    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError>;

    /// A person by the number behind their unionIds and openIds.
    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError>;

    /// The normal account (not an exclusive one) with this mobile.
    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError>;

    /// The exclusive account `owner` created with this login name.
    async fn person_by_login_id(&self, owner: &CorpId, login_id: &str) -> Result<Option<Person>, StoreError>;

    /// The membership holding `userid` in `corp`, whatever its status.
    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError>;

    /// Every membership of a person, by corp.
    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError>;

    /// The member holding `userid` in `corp` with their full record, whatever their status.
    async fn member(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Member>, StoreError>;

    /// A department of `corp` by id.
    async fn department(&self, corp: &CorpId, id: i64) -> Result<Option<Department>, StoreError>;

    /// The direct children of a department, by order then id.
    async fn sub_departments(&self, corp: &CorpId, parent: i64) -> Result<Vec<Department>, StoreError>;

    /// Every department of `corp`, by order then id: one read for a walk of the whole tree.
    async fn departments(&self, corp: &CorpId) -> Result<Vec<Department>, StoreError>;

    /// The highest department id `corp` holds, if any: where a new department's id follows.
    async fn last_department_id(&self, corp: &CorpId) -> Result<Option<i64>, StoreError>;

    /// A department's direct active members in its custom order: member order, then userid.
    async fn department_members(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError>;

    /// The active members who lead a department, by userid.
    async fn department_leaders(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError>;

    /// Up to `limit` of a department's direct active members from position `offset` of its custom
    /// order, with their full records and people: one index seek whatever the offset once the
    /// department is numbered ([`Self::number_members`]), a walk along its order index before.
    async fn department_page(
        &self,
        corp: &CorpId,
        dept: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError>;

    /// Up to `limit` members of `corp` who departed at `from` or later and before `to`, by
    /// departure time then userid, after the (time, userid) `after`, with their people.
    async fn departures(
        &self,
        corp: &CorpId,
        from: i64,
        to: i64,
        after: Option<(i64, &UserId)>,
        limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError>;

    /// How many active members `corp` has.
    async fn member_count(&self, corp: &CorpId) -> Result<u64, StoreError>;

    /// The directory at a glance: at most `max` corps (with their member and department
    /// counts) and apps, and how many people. A store answers it with counting queries; this
    /// default reads the whole directory, for small test stores.
    async fn glance(&self, max: u64) -> Result<dingdir_proto::admin::Glance, StoreError> {
        let d = self.directory().await?;
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        let corps = d
            .corps
            .iter()
            .take(max)
            .map(|c| dingdir_proto::admin::CorpGlance {
                id: c.id.0.clone(),
                name: c.name.clone(),
                members: d
                    .people
                    .iter()
                    .flat_map(|(_, members)| members)
                    .filter(|m| {
                        m.membership.corp_id == c.id && m.membership.status == crate::model::MemberStatus::Active
                    })
                    .count() as u64,
                departments: d.departments.iter().filter(|x| x.corp_id == c.id).count() as u64,
            })
            .collect();
        let apps = d.apps.iter().take(max).map(crate::model::App::glance).collect();
        Ok(dingdir_proto::admin::Glance {
            corps,
            apps,
            people: d.people.len() as u64,
            corp_count: d.corps.len() as u64,
            app_count: d.apps.len() as u64,
        })
    }

    /// The active administrators of `corp`, by userid, each with whether they are the main one.
    async fn admins(&self, corp: &CorpId) -> Result<Vec<(UserId, bool)>, StoreError>;

    /// Numbers the members of every department that [`Self::insert_directory`] or
    /// [`Self::apply`] marked as changed, so that [`Self::department_page`] seeks again: after a
    /// bulk insert, and after writes ([`crate::Service::keep_numbered`] does it for a server).
    async fn number_members(&self) -> Result<(), StoreError>;

    /// Every member of `corp` whose person has this mobile (normal and exclusive accounts, any
    /// status), with the person, by userid.
    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError>;
}

/// Access tokens, authorisation codes and refresh tokens, each kept as a digest.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Issues an app token: when `app` holds one valid at `now` (and it is not the one with the
    /// digest `unusable`), that one (its digest and nonce) with its expiry moved to
    /// `expires_at`; otherwise `candidate`. Atomic across every node sharing the store, so of
    /// two callers replacing the same unusable token, the second keeps the first's.
    async fn issue_app_token(
        &self,
        app: &AppKey,
        corp: Option<&CorpId>,
        candidate: &StoredAppToken,
        now: Millis,
        expires_at: Millis,
        unusable: Option<&str>,
    ) -> Result<StoredAppToken, StoreError>;

    /// Stores a corp or user token.
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;

    /// A token by its digest, expired or not.
    async fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Stores an authorisation code.
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError>;

    /// Marks the code with `digest` used and returns it, when it is unused, unexpired at `now`
    /// and issued to `app`; otherwise nothing changes. Atomic: of two concurrent redeemers only
    /// one wins.
    async fn redeem_code(&self, digest: &str, app: &AppKey, now: Millis) -> Result<Option<CodeRecord>, StoreError>;

    /// Stores a refresh token.
    async fn insert_refresh(&self, refresh: &RefreshRecord) -> Result<(), StoreError>;

    /// Consumes a refresh token as [`redeem_code`](Self::redeem_code) consumes a code.
    async fn redeem_refresh(
        &self,
        digest: &str,
        app: &AppKey,
        now: Millis,
    ) -> Result<Option<RefreshRecord>, StoreError>;
}

/// The browser sign-in's state that outlives a request: consent tickets.
#[async_trait::async_trait]
pub trait SignInStore: Send + Sync + 'static {
    /// Stores a sign-in's consent ticket (its digest): single use, until `expires_at`.
    async fn insert_ticket(&self, digest: &str, expires_at: Millis) -> Result<(), StoreError>;

    /// Spends the ticket with `digest`: `true` once, when it is unused and unexpired at `now`.
    /// Atomic, as [`TokenStore::redeem_code`].
    async fn redeem_ticket(&self, digest: &str, now: Millis) -> Result<bool, StoreError>;
}

/// Rate limits and their counters, shared by every node of the store, so a limit holds for the
/// cluster rather than per node.
#[async_trait::async_trait]
pub trait LimitStore: Send + Sync + 'static {
    /// The rate limits as last set; none when never set.
    async fn rate_limits(&self) -> Result<Vec<dingdir_proto::admin::RateLimit>, StoreError>;

    /// Replaces the rate limits.
    async fn set_rate_limits(&self, limits: &[dingdir_proto::admin::RateLimit]) -> Result<(), StoreError>;

    /// Counts one call in the window named `key` (kept until `expires_at`) and returns the
    /// window's count with it. Atomic across every node sharing the store.
    async fn hit_window(&self, key: &str, expires_at: Millis) -> Result<u64, StoreError>;

    /// Adds each `(key, n)`'s `n` to the window named `key` (kept until `expires_at`), in one
    /// transaction, and returns their counts in order. Atomic across every node.
    async fn hit_windows(&self, hits: &[(String, u64)], expires_at: Millis) -> Result<Vec<u64>, StoreError>;
}

/// Where each app's callback delivery stands, shared by every node so that one node at a time
/// delivers an app's events, in log order, and another takes over when it stops. Registrations
/// themselves are written with [`DirectoryStore::apply`] (a [`crate::model::Directory`]'s
/// `callbacks`).
#[async_trait::async_trait]
pub trait CallbackStore: Send + Sync + 'static {
    /// Every registration with its delivery state, by app key.
    async fn callbacks(&self) -> Result<Vec<CallbackState>, StoreError>;

    /// Removes an app's registration and its attempts; `false` if it had none.
    async fn remove_callback(&self, app: &AppKey) -> Result<bool, StoreError>;

    /// Takes or renews, for `node`, the lease on delivering `app`'s events until `until`, unless
    /// another node holds one unexpired at `now`. The state as leased, or `None`. Atomic across
    /// nodes: of two takers, one wins.
    async fn lease_callback(
        &self,
        app: &AppKey,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<CallbackState>, StoreError>;

    /// Records consecutive attempts by one node for one app, in one transaction, if that node
    /// still holds the lease: the successes move the app past the last of them; a failure (only
    /// the last attempt may be one) counts and holds the next attempt until `retry_at`. `false`
    /// (and nothing recorded) when the lease has passed to another node.
    async fn record_attempts(&self, attempts: &[Attempt], retry_at: Millis) -> Result<bool, StoreError>;

    /// The attempts at entries in (`after`, `upto`], by entry, app and time.
    async fn attempts(&self, after: i64, upto: i64) -> Result<Vec<Attempt>, StoreError>;

    /// The app's Stream cursor, made at the change log's last entry if it has none yet.
    async fn open_stream_cursor(&self, app: &AppKey) -> Result<StreamCursor, StoreError>;

    /// Every Stream cursor, by app key.
    async fn stream_cursors(&self) -> Result<Vec<StreamCursor>, StoreError>;

    /// [`Self::lease_callback`] for the app's Stream delivery.
    async fn lease_stream(
        &self,
        app: &AppKey,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<StreamCursor>, StoreError>;

    /// [`Self::record_attempts`] for Stream pushes.
    async fn record_stream_attempts(&self, attempts: &[Attempt], retry_at: Millis) -> Result<bool, StoreError>;

    /// The app's Stream pushes of entries after `after`, by entry and time, at most `limit`.
    async fn stream_attempts(&self, app: &AppKey, after: i64, limit: u64) -> Result<Vec<Attempt>, StoreError>;
}

/// Messages: the custom group robots and the inbox of everything sent.
#[async_trait::async_trait]
pub trait MessageStore: Send + Sync + 'static {
    /// Creates or replaces a robot (its block is kept).
    async fn put_robot(&self, robot: &WebhookRobot) -> Result<(), StoreError>;

    /// The robot with this token.
    async fn robot(&self, token: &str) -> Result<Option<WebhookRobot>, StoreError>;

    /// Every robot, by token.
    async fn robots(&self) -> Result<Vec<WebhookRobot>, StoreError>;

    /// Removes a robot; `false` if there was none.
    async fn remove_robot(&self, token: &str) -> Result<bool, StoreError>;

    /// Makes a robot refuse everything until `until`.
    async fn block_robot(&self, token: &str, until: Millis) -> Result<(), StoreError>;

    /// Appends a message to the inbox (its `seq` is ignored) and keeps only the newest `keep`;
    /// answers its position.
    async fn append_message(&self, entry: &InboxEntry, keep: u64) -> Result<i64, StoreError>;

    /// Appends messages to the inbox in one transaction, in order, keeping only the newest
    /// `keep`; answers their positions.
    async fn append_messages(&self, entries: &[InboxEntry], keep: u64) -> Result<Vec<i64>, StoreError>;

    /// Creates or replaces a group chat.
    async fn put_group(&self, group: &crate::group::Group) -> Result<(), StoreError>;

    /// A corp's group by name.
    async fn group(&self, corp: &CorpId, name: &str) -> Result<Option<crate::group::Group>, StoreError>;

    /// The group with this `openConversationId`.
    async fn group_by_conversation(&self, conversation_id: &str) -> Result<Option<crate::group::Group>, StoreError>;

    /// Every group, by corp and name.
    async fn groups(&self) -> Result<Vec<crate::group::Group>, StoreError>;

    /// Keeps a work notification (its `task_id` is assigned) and its inbox entries (their
    /// `task` set to it) in one transaction; answers the task id.
    async fn put_notice(
        &self,
        notice: &crate::message::Notice,
        entries: &[InboxEntry],
        keep: u64,
    ) -> Result<i64, StoreError>;

    /// A work notification by task id.
    async fn notice(&self, task_id: i64) -> Result<Option<crate::message::Notice>, StoreError>;

    /// Marks a send recalled at `at`: the inbox entries of `task`, and the work notification
    /// with that task id when there is one. Answers how many entries it marked.
    async fn recall(&self, task: &str, at: Millis) -> Result<u64, StoreError>;

    /// Marks what a person was sent one to one read at `at`, up to position `through`; answers
    /// how many messages it marked.
    async fn mark_read(&self, person: &UserId, through: i64, at: Millis) -> Result<u64, StoreError>;

    /// Keeps an uploaded file, and only the newest `keep` files.
    async fn put_media(&self, media: &crate::message::Media, keep: u64) -> Result<(), StoreError>;

    /// An uploaded file by media id.
    async fn media(&self, media_id: &str) -> Result<Option<crate::message::Media>, StoreError>;

    /// Messages by position.
    async fn messages(&self, query: &InboxQuery) -> Result<Vec<InboxEntry>, StoreError>;

    /// Keeps a chatbot session (purged once expired).
    async fn put_session(&self, session: &ChatSession) -> Result<(), StoreError>;

    /// The session with this token, expired or not.
    async fn session(&self, token: &str) -> Result<Option<ChatSession>, StoreError>;
}

/// A whole store: every aggregate, plus what belongs to the store itself.
#[async_trait::async_trait]
pub trait Store: DirectoryStore + TokenStore + SignInStore + LimitStore + CallbackStore + MessageStore {
    /// Answers when the store can serve reads (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Closes the store's connections once the calls in flight are done, so the database ends
    /// clean: SQLite checkpoints its write-ahead log into the file, PostgreSQL sees its sessions
    /// end. Calls made afterwards fail.
    async fn close(&self);

    /// The store's id secret: stored on first call with `proposed`, returned as stored afterwards.
    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError>;

    /// Deletes tokens, codes, refresh tokens, consent tickets and rate windows that expired before
    /// `before`.
    async fn purge_expired(&self, before: Millis) -> Result<u64, StoreError>;
}
