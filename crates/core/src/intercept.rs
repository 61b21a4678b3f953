//! A store with a hook around every call: the one place a store call is forwarded, so a
//! decorator (the service's read counter and time bound, a test's injected fault) is a [`Hook`]
//! of a few lines rather than another copy of every store method.

use crate::StoreError;
use crate::callback::{Attempt, CallbackState};
use crate::change::{Change, ChangeQuery, Write};
use crate::clock::Millis;
use crate::ident::IdSecret;
use crate::mobile::Mobile;
use crate::model::{App, Corp, Department, Directory, Member, Membership, Person, PersonId, Role};
use crate::robot::{ChatSession, InboxEntry, InboxQuery, WebhookRobot};
use crate::store::{CallbackStore, DirectoryStore, LimitStore, MessageStore, SignInStore, Store, TokenStore};
use crate::stream::StreamCursor;
use crate::token::{CodeRecord, RefreshRecord, StoredAppToken, TokenRecord};
use dingdir_proto::admin::RateLimit;
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::future::Future;
use std::sync::Arc;

/// The store call a hook is around.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// The store method, as named in the port (`"membership"`, `"redeem_code"`).
    pub name: &'static str,
    /// What the call does to the data.
    pub kind: CallKind,
}

/// What a store call does to the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// Reads directory or token data.
    Read,
    /// Writes (and may read in the same statement).
    Write,
    /// Asks whether the store answers: [`Store::ping`].
    Probe,
}

impl Call {
    const fn read(name: &'static str) -> Self {
        Self {
            name,
            kind: CallKind::Read,
        }
    }

    const fn write(name: &'static str) -> Self {
        Self {
            name,
            kind: CallKind::Write,
        }
    }
}

/// What runs around each store call: it may run `call` (or not), time it, count it, or answer
/// in its place.
pub trait Hook: Send + Sync + 'static {
    /// Runs around one call; `run` is the call to the inner store, not yet started.
    fn around<T: Send>(
        &self,
        call: Call,
        run: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> impl Future<Output = Result<T, StoreError>> + Send;
}

/// `inner` with `hook` around every call but [`Store::close`].
pub struct Intercepted<H> {
    inner: Arc<dyn Store>,
    hook: H,
}

impl<H: Hook> Intercepted<H> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Store>, hook: H) -> Self {
        Self { inner, hook }
    }

    /// The hook, for what it has counted.
    pub fn hook(&self) -> &H {
        &self.hook
    }
}

#[async_trait::async_trait]
impl<H: Hook> DirectoryStore for Intercepted<H> {
    async fn apply(&self, write: &Write) -> Result<(), StoreError> {
        self.hook.around(Call::write("apply"), self.inner.apply(write)).await
    }
    async fn changes(&self, query: &ChangeQuery) -> Result<Vec<Change>, StoreError> {
        self.hook.around(Call::read("changes"), self.inner.changes(query)).await
    }
    async fn insert_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        let run = self.inner.insert_directory(directory);
        self.hook.around(Call::write("insert_directory"), run).await
    }
    async fn import(&self, batches: &mut (dyn Iterator<Item = Directory> + Send)) -> Result<(), StoreError> {
        let run = self.inner.import(batches);
        self.hook.around(Call::write("import"), run).await
    }
    async fn load(&self, write: &Write) -> Result<(), StoreError> {
        self.hook.around(Call::write("load"), self.inner.load(write)).await
    }
    async fn directory(&self) -> Result<Directory, StoreError> {
        self.hook.around(Call::read("directory"), self.inner.directory()).await
    }
    async fn reset(&self) -> Result<(), StoreError> {
        self.hook.around(Call::write("reset"), self.inner.reset()).await
    }
    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError> {
        self.hook.around(Call::read("corp"), self.inner.corp(id)).await
    }
    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError> {
        self.hook.around(Call::read("app"), self.inner.app(key)).await
    }
    async fn set_suite_ticket(&self, app: &AppKey, ticket: &str) -> Result<bool, StoreError> {
        let run = self.inner.set_suite_ticket(app, ticket);
        self.hook.around(Call::write("set_suite_ticket"), run).await
    }
    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        self.hook.around(Call::read("person"), self.inner.person(id)).await
    }
    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError> {
        let run = self.inner.person_by_number(number);
        self.hook.around(Call::read("person_by_number"), run).await
    }
    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError> {
        let run = self.inner.person_by_mobile(mobile);
        self.hook.around(Call::read("person_by_mobile"), run).await
    }
    async fn roles(&self, corp: &CorpId) -> Result<Vec<Role>, StoreError> {
        self.hook.around(Call::read("roles"), self.inner.roles(corp)).await
    }
    async fn person_by_login_id(&self, owner: &CorpId, login_id: &str) -> Result<Option<Person>, StoreError> {
        let run = self.inner.person_by_login_id(owner, login_id);
        self.hook.around(Call::read("person_by_login_id"), run).await
    }
    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError> {
        let run = self.inner.membership(corp, userid);
        self.hook.around(Call::read("membership"), run).await
    }
    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError> {
        let run = self.inner.memberships_of(person);
        self.hook.around(Call::read("memberships_of"), run).await
    }
    async fn member(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Member>, StoreError> {
        self.hook
            .around(Call::read("member"), self.inner.member(corp, userid))
            .await
    }
    async fn department(&self, corp: &CorpId, id: i64) -> Result<Option<Department>, StoreError> {
        self.hook
            .around(Call::read("department"), self.inner.department(corp, id))
            .await
    }
    async fn sub_departments(&self, corp: &CorpId, parent: i64) -> Result<Vec<Department>, StoreError> {
        let run = self.inner.sub_departments(corp, parent);
        self.hook.around(Call::read("sub_departments"), run).await
    }
    async fn departures(
        &self,
        corp: &CorpId,
        from: i64,
        to: i64,
        after: Option<(i64, &UserId)>,
        limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError> {
        let run = self.inner.departures(corp, from, to, after, limit);
        self.hook.around(Call::read("departures"), run).await
    }
    async fn departments(&self, corp: &CorpId) -> Result<Vec<Department>, StoreError> {
        let run = self.inner.departments(corp);
        self.hook.around(Call::read("departments"), run).await
    }
    async fn last_department_id(&self, corp: &CorpId) -> Result<Option<i64>, StoreError> {
        let run = self.inner.last_department_id(corp);
        self.hook.around(Call::read("last_department_id"), run).await
    }
    async fn department_members(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError> {
        let run = self.inner.department_members(corp, dept);
        self.hook.around(Call::read("department_members"), run).await
    }
    async fn department_leaders(&self, corp: &CorpId, dept: i64) -> Result<Vec<UserId>, StoreError> {
        let run = self.inner.department_leaders(corp, dept);
        self.hook.around(Call::read("department_leaders"), run).await
    }
    async fn department_page(
        &self,
        corp: &CorpId,
        dept: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(Member, Person)>, StoreError> {
        let run = self.inner.department_page(corp, dept, offset, limit);
        self.hook.around(Call::read("department_page"), run).await
    }
    async fn glance(&self, max: u64) -> Result<dingdir_proto::admin::Glance, StoreError> {
        let run = self.inner.glance(max);
        self.hook.around(Call::read("glance"), run).await
    }
    async fn member_count(&self, corp: &CorpId) -> Result<u64, StoreError> {
        let run = self.inner.member_count(corp);
        self.hook.around(Call::read("member_count"), run).await
    }
    async fn admins(&self, corp: &CorpId) -> Result<Vec<(UserId, bool)>, StoreError> {
        let run = self.inner.admins(corp);
        self.hook.around(Call::read("admins"), run).await
    }
    async fn number_members(&self) -> Result<(), StoreError> {
        let run = self.inner.number_members();
        self.hook.around(Call::write("number_members"), run).await
    }
    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError> {
        let run = self.inner.members_by_mobile(corp, mobile);
        self.hook.around(Call::read("members_by_mobile"), run).await
    }
}

#[async_trait::async_trait]
impl<H: Hook> TokenStore for Intercepted<H> {
    async fn issue_app_token(
        &self,
        app: &AppKey,
        corp: Option<&CorpId>,
        candidate: &StoredAppToken,
        now: Millis,
        expires_at: Millis,
        unusable: Option<&str>,
    ) -> Result<StoredAppToken, StoreError> {
        let run = self
            .inner
            .issue_app_token(app, corp, candidate, now, expires_at, unusable);
        self.hook.around(Call::write("issue_app_token"), run).await
    }
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.hook
            .around(Call::write("insert_token"), self.inner.insert_token(token))
            .await
    }
    async fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.hook.around(Call::read("token"), self.inner.token(digest)).await
    }
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        self.hook
            .around(Call::write("insert_code"), self.inner.insert_code(code))
            .await
    }
    async fn redeem_code(&self, digest: &str, app: &AppKey, now: Millis) -> Result<Option<CodeRecord>, StoreError> {
        let run = self.inner.redeem_code(digest, app, now);
        self.hook.around(Call::write("redeem_code"), run).await
    }
    async fn insert_refresh(&self, refresh: &RefreshRecord) -> Result<(), StoreError> {
        let run = self.inner.insert_refresh(refresh);
        self.hook.around(Call::write("insert_refresh"), run).await
    }
    async fn redeem_refresh(
        &self,
        digest: &str,
        app: &AppKey,
        now: Millis,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let run = self.inner.redeem_refresh(digest, app, now);
        self.hook.around(Call::write("redeem_refresh"), run).await
    }
}

#[async_trait::async_trait]
impl<H: Hook> SignInStore for Intercepted<H> {
    async fn insert_ticket(&self, digest: &str, expires_at: Millis) -> Result<(), StoreError> {
        let run = self.inner.insert_ticket(digest, expires_at);
        self.hook.around(Call::write("insert_ticket"), run).await
    }
    async fn redeem_ticket(&self, digest: &str, now: Millis) -> Result<bool, StoreError> {
        let run = self.inner.redeem_ticket(digest, now);
        self.hook.around(Call::write("redeem_ticket"), run).await
    }
}

#[async_trait::async_trait]
impl<H: Hook> LimitStore for Intercepted<H> {
    async fn rate_limits(&self) -> Result<Vec<RateLimit>, StoreError> {
        self.hook
            .around(Call::read("rate_limits"), self.inner.rate_limits())
            .await
    }
    async fn set_rate_limits(&self, limits: &[RateLimit]) -> Result<(), StoreError> {
        let run = self.inner.set_rate_limits(limits);
        self.hook.around(Call::write("set_rate_limits"), run).await
    }
    async fn hit_window(&self, key: &str, expires_at: Millis) -> Result<u64, StoreError> {
        let run = self.inner.hit_window(key, expires_at);
        self.hook.around(Call::write("hit_window"), run).await
    }
    async fn hit_windows(&self, hits: &[(String, u64)], expires_at: Millis) -> Result<Vec<u64>, StoreError> {
        let run = self.inner.hit_windows(hits, expires_at);
        self.hook.around(Call::write("hit_windows"), run).await
    }
}

#[async_trait::async_trait]
impl<H: Hook> CallbackStore for Intercepted<H> {
    async fn callbacks(&self) -> Result<Vec<CallbackState>, StoreError> {
        self.hook.around(Call::read("callbacks"), self.inner.callbacks()).await
    }
    async fn remove_callback(&self, app: &AppKey) -> Result<bool, StoreError> {
        let run = self.inner.remove_callback(app);
        self.hook.around(Call::write("remove_callback"), run).await
    }
    async fn lease_callback(
        &self,
        app: &AppKey,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<CallbackState>, StoreError> {
        let run = self.inner.lease_callback(app, node, now, until);
        self.hook.around(Call::write("lease_callback"), run).await
    }
    async fn record_attempts(&self, attempts: &[Attempt], retry_at: Millis) -> Result<bool, StoreError> {
        let run = self.inner.record_attempts(attempts, retry_at);
        self.hook.around(Call::write("record_attempts"), run).await
    }
    async fn attempts(&self, after: i64, upto: i64) -> Result<Vec<Attempt>, StoreError> {
        let run = self.inner.attempts(after, upto);
        self.hook.around(Call::read("attempts"), run).await
    }
    async fn open_stream_cursor(&self, app: &AppKey) -> Result<StreamCursor, StoreError> {
        let run = self.inner.open_stream_cursor(app);
        self.hook.around(Call::write("open_stream_cursor"), run).await
    }
    async fn stream_cursors(&self) -> Result<Vec<StreamCursor>, StoreError> {
        self.hook
            .around(Call::read("stream_cursors"), self.inner.stream_cursors())
            .await
    }
    async fn lease_stream(
        &self,
        app: &AppKey,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<StreamCursor>, StoreError> {
        let run = self.inner.lease_stream(app, node, now, until);
        self.hook.around(Call::write("lease_stream"), run).await
    }
    async fn record_stream_attempts(&self, attempts: &[Attempt], retry_at: Millis) -> Result<bool, StoreError> {
        let run = self.inner.record_stream_attempts(attempts, retry_at);
        self.hook.around(Call::write("record_stream_attempts"), run).await
    }
    async fn stream_attempts(&self, app: &AppKey, after: i64, limit: u64) -> Result<Vec<Attempt>, StoreError> {
        let run = self.inner.stream_attempts(app, after, limit);
        self.hook.around(Call::read("stream_attempts"), run).await
    }
}

#[async_trait::async_trait]
impl<H: Hook> MessageStore for Intercepted<H> {
    async fn put_robot(&self, robot: &WebhookRobot) -> Result<(), StoreError> {
        self.hook
            .around(Call::write("put_robot"), self.inner.put_robot(robot))
            .await
    }
    async fn robot(&self, token: &str) -> Result<Option<WebhookRobot>, StoreError> {
        self.hook.around(Call::read("robot"), self.inner.robot(token)).await
    }
    async fn robots(&self) -> Result<Vec<WebhookRobot>, StoreError> {
        self.hook.around(Call::read("robots"), self.inner.robots()).await
    }
    async fn remove_robot(&self, token: &str) -> Result<bool, StoreError> {
        self.hook
            .around(Call::write("remove_robot"), self.inner.remove_robot(token))
            .await
    }
    async fn block_robot(&self, token: &str, until: Millis) -> Result<(), StoreError> {
        let run = self.inner.block_robot(token, until);
        self.hook.around(Call::write("block_robot"), run).await
    }
    async fn append_message(&self, entry: &InboxEntry, keep: u64) -> Result<i64, StoreError> {
        let run = self.inner.append_message(entry, keep);
        self.hook.around(Call::write("append_message"), run).await
    }
    async fn messages(&self, query: &InboxQuery) -> Result<Vec<InboxEntry>, StoreError> {
        self.hook
            .around(Call::read("messages"), self.inner.messages(query))
            .await
    }
    async fn put_session(&self, session: &ChatSession) -> Result<(), StoreError> {
        let run = self.inner.put_session(session);
        self.hook.around(Call::write("put_session"), run).await
    }
    async fn session(&self, token: &str) -> Result<Option<ChatSession>, StoreError> {
        self.hook.around(Call::read("session"), self.inner.session(token)).await
    }
    async fn append_messages(&self, entries: &[InboxEntry], keep: u64) -> Result<Vec<i64>, StoreError> {
        let run = self.inner.append_messages(entries, keep);
        self.hook.around(Call::write("append_messages"), run).await
    }
    async fn put_group(&self, group: &crate::group::Group) -> Result<(), StoreError> {
        self.hook
            .around(Call::write("put_group"), self.inner.put_group(group))
            .await
    }
    async fn group(&self, corp: &CorpId, name: &str) -> Result<Option<crate::group::Group>, StoreError> {
        self.hook
            .around(Call::read("group"), self.inner.group(corp, name))
            .await
    }
    async fn group_by_conversation(&self, conversation_id: &str) -> Result<Option<crate::group::Group>, StoreError> {
        let run = self.inner.group_by_conversation(conversation_id);
        self.hook.around(Call::read("group_by_conversation"), run).await
    }
    async fn groups(&self) -> Result<Vec<crate::group::Group>, StoreError> {
        self.hook.around(Call::read("groups"), self.inner.groups()).await
    }
    async fn put_notice(
        &self,
        notice: &crate::message::Notice,
        entries: &[InboxEntry],
        keep: u64,
    ) -> Result<i64, StoreError> {
        let run = self.inner.put_notice(notice, entries, keep);
        self.hook.around(Call::write("put_notice"), run).await
    }
    async fn notice(&self, task_id: i64) -> Result<Option<crate::message::Notice>, StoreError> {
        self.hook.around(Call::read("notice"), self.inner.notice(task_id)).await
    }
    async fn recall(&self, task: &str, at: Millis) -> Result<u64, StoreError> {
        self.hook
            .around(Call::write("recall"), self.inner.recall(task, at))
            .await
    }
    async fn mark_read(&self, person: &UserId, through: i64, at: Millis) -> Result<u64, StoreError> {
        let run = self.inner.mark_read(person, through, at);
        self.hook.around(Call::write("mark_read"), run).await
    }
    async fn put_media(&self, media: &crate::message::Media, keep: u64) -> Result<(), StoreError> {
        let run = self.inner.put_media(media, keep);
        self.hook.around(Call::write("put_media"), run).await
    }
    async fn media(&self, media_id: &str) -> Result<Option<crate::message::Media>, StoreError> {
        self.hook.around(Call::read("media"), self.inner.media(media_id)).await
    }
}

#[async_trait::async_trait]
impl<H: Hook> Store for Intercepted<H> {
    async fn ping(&self) -> Result<(), StoreError> {
        let probe = Call {
            name: "ping",
            kind: CallKind::Probe,
        };
        self.hook.around(probe, self.inner.ping()).await
    }
    async fn close(&self) {
        self.inner.close().await;
    }
    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError> {
        self.hook
            .around(Call::write("id_secret"), self.inner.id_secret(proposed))
            .await
    }
    async fn purge_expired(&self, before: Millis) -> Result<u64, StoreError> {
        let run = self.inner.purge_expired(before);
        self.hook.around(Call::write("purge_expired"), run).await
    }
}
