//! The domain's entry points: each gateway handler calls one function here. A [`Service`] holds
//! the store, the clock, the id secret and the policy; nothing in it knows HTTP.

use crate::cache::Cached;
use crate::clock::{Clock, Millis};
use crate::error::Error;
use crate::ident::IdSecret;
use crate::intercept::Intercepted;
use crate::meter::Meter;
use crate::mobile::Mobile;
use crate::model::{App, AppKind, Department, Developer, Member, MemberStatus, Membership, Person, PersonId};
use crate::secret;
use crate::store::{CallbackStore, DirectoryStore, Store, TokenStore};
use crate::token::{
    CODE_TTL_MS, CodeRecord, DEFAULT_TOKEN_TTL_SECS, Grant, REFRESH_TTL_MS, RefreshRecord, StoredAppToken, TokenKind,
    TokenRecord,
};
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::sync::Arc;

/// Whom GetUser shows besides the caller. PRODUCT.md "Decisions".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Visibility {
    /// Active co-members of corps the caller is an active member of and the app is installed in.
    #[default]
    Corp,
    /// Only the token's own user.
    SelfOnly,
}

/// Rules that are settings, because users may want the other choice.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Access-token lifetime in seconds (default 7200).
    pub token_ttl_secs: u64,
    /// GetUser visibility.
    pub visibility: Visibility,
    /// How long tokens, apps and people are cached, in milliseconds (default 1000; 0 turns
    /// caching off). A write through another node is seen here within this time.
    pub cache_ttl_ms: i64,
    /// Argon2 checks (app secrets, passwords) run at once; more are answered "system busy".
    pub hash_concurrency: usize,
    /// How long one store call may take before it fails as unavailable ("system busy").
    pub store_timeout: std::time::Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            visibility: Visibility::default(),
            cache_ttl_ms: 1000,
            hash_concurrency: crate::verify::default_concurrency(),
            store_timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// The longest app key looked up; longer ones are unknown without a store read or a cache entry.
const MAX_APP_KEY_LEN: usize = 128;

/// Entries each cache holds before it is emptied.
const CACHE_CAPACITY: usize = 100_000;
/// Member pages the page cache holds before it is emptied: at most about 50 MB of 100-member pages.
const PAGE_CACHE_CAPACITY: usize = 1_000;

/// A cached member page: the app, the corp, the department, the cursor and the page size.
pub(crate) type PageKey = (AppKey, CorpId, i64, i64, i64);

/// The members of a corp with one mobile, with their people.
pub type MembersWithMobile = Arc<Vec<(Membership, Person)>>;

/// The caches in front of the store.
pub(crate) struct Caches {
    tokens: Cached<String, Arc<TokenRecord>>,
    /// Unknown keys too: a flood of guesses for one key reads the store once per TTL, not once
    /// per guess.
    apps: Cached<AppKey, Option<Arc<App>>>,
    people: Cached<PersonId, Arc<Person>>,
    numbers: Cached<u64, Arc<Person>>,
    memberships: Cached<PersonId, Arc<Vec<Membership>>>,
    by_mobile: Cached<(CorpId, Mobile), MembersWithMobile>,
    /// Full member records by (corp, userid), unknown userids too.
    members: Cached<(CorpId, UserId), Option<Arc<Member>>>,
    /// Departments by (corp, id), unknown ids too: every range check walks up the tree.
    departments: Cached<(CorpId, i64), Option<Arc<Department>>>,
    /// unionIds and openIds never change (the id secret is fixed), so they are kept, not derived
    /// again with a dozen HMACs per request.
    ids: Cached<(String, u64), Arc<str>>,
    /// GetUser's answer per (app, person), built once per TTL.
    pub(crate) profiles: Cached<(AppKey, u64), Arc<crate::profile::UserProfile>>,
    /// `/topapi/v2/user/list` results, serialised, per (app, corp, department, cursor, size):
    /// tens of kilobytes each, so fewer of them.
    pub(crate) pages: Cached<PageKey, Arc<[u8]>>,
    /// `/topapi/v2/user/get` results, serialised, per (app, corp, userid).
    pub(crate) records: Cached<(AppKey, CorpId, UserId), Arc<[u8]>>,
}

impl Caches {
    fn new(ttl_ms: i64) -> Self {
        Self {
            tokens: Cached::new("tokens", ttl_ms, CACHE_CAPACITY),
            apps: Cached::new("apps", ttl_ms, CACHE_CAPACITY),
            people: Cached::new("people", ttl_ms, CACHE_CAPACITY),
            numbers: Cached::new("numbers", ttl_ms, CACHE_CAPACITY),
            memberships: Cached::new("memberships", ttl_ms, CACHE_CAPACITY),
            by_mobile: Cached::new("by_mobile", ttl_ms, CACHE_CAPACITY),
            members: Cached::new("members", ttl_ms, CACHE_CAPACITY),
            departments: Cached::new("departments", ttl_ms, CACHE_CAPACITY),
            ids: Cached::new("ids", i64::MAX, CACHE_CAPACITY),
            profiles: Cached::new("profiles", ttl_ms, CACHE_CAPACITY),
            pages: Cached::new("pages", ttl_ms, PAGE_CACHE_CAPACITY),
            records: Cached::new("records", ttl_ms, CACHE_CAPACITY),
        }
    }

    fn stats(&self) -> Vec<crate::stats::CacheStats> {
        vec![
            self.tokens.stats(),
            self.apps.stats(),
            self.people.stats(),
            self.numbers.stats(),
            self.memberships.stats(),
            self.by_mobile.stats(),
            self.members.stats(),
            self.departments.stats(),
            self.ids.stats(),
            self.profiles.stats(),
            self.pages.stats(),
            self.records.stats(),
        ]
    }

    fn clear(&self) {
        self.tokens.clear();
        self.apps.clear();
        self.people.clear();
        self.numbers.clear();
        self.memberships.clear();
        self.by_mobile.clear();
        self.members.clear();
        self.departments.clear();
        self.profiles.clear();
        self.pages.clear();
        self.records.clear();
    }
}

/// A freshly issued access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// 32 lower-case hex.
    pub token: String,
    /// Seconds until expiry.
    pub expires_in: u64,
}

/// A user token with its refresh token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserToken {
    /// The access token.
    pub access_token: String,
    /// The refresh token (single use, 30 days).
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The corp, when the scope included `corpid`.
    pub corp_id: Option<CorpId>,
}

/// Who is calling: what a valid access token stands for.
#[derive(Clone, Debug)]
pub struct Caller {
    /// App, corp or user token.
    pub kind: TokenKind,
    /// The app the token was issued to (shared with the cache: cloning a caller is cheap).
    pub app: Arc<App>,
    /// The corp the token acts in.
    pub corp_id: Option<CorpId>,
    /// The person a user token acts for.
    pub person_id: Option<PersonId>,
}

/// The domain's facade.
pub struct Service {
    pub(crate) store: Arc<Intercepted<Meter>>,
    pub(crate) caches: Caches,
    clock: Arc<dyn Clock>,
    ids: IdSecret,
    policy: Policy,
    pub(crate) throttle: crate::throttle::Throttle,
    pub(crate) verifier: crate::verify::Verifier,
    pub(crate) limits: crate::rate::Limits,
    commits: tokio::sync::watch::Sender<u64>,
    inbox: tokio::sync::watch::Sender<u64>,
    background: Arc<dyn Store>,
}

/// How long [`Service::keep_numbered`] lets a burst of writes gather before it renumbers what
/// they marked: long enough that a stream of writes pays for one renumbering per interval, short
/// enough that member pages are back on their seek path before a test reads them.
pub const NUMBERING_DELAY: std::time::Duration = std::time::Duration::from_millis(200);

/// How often [`Service::keep_numbered`] also looks for marks without a write through this node
/// (one indexed read when there are none).
pub const NUMBERING_POLL: std::time::Duration = std::time::Duration::from_secs(5);

impl Service {
    /// Builds the facade. Every store call goes through one decorator that counts reads
    /// ([`Service::store_reads`]) and bounds the call by `policy.store_timeout`; nothing else
    /// holds the store.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: IdSecret, policy: Policy) -> Self {
        Self {
            background: Arc::clone(&store),
            store: Arc::new(Intercepted::new(store, Meter::new(policy.store_timeout))),
            verifier: crate::verify::Verifier::new(policy.hash_concurrency),
            caches: Caches::new(policy.cache_ttl_ms),
            clock,
            ids,
            policy,
            throttle: crate::throttle::Throttle::default(),
            limits: crate::rate::Limits::default(),
            commits: tokio::sync::watch::Sender::new(0),
            inbox: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The store for work outside requests (callback delivery): its reads are not counted in
    /// [`Self::store_reads`], which measures what requests cost.
    pub fn background(&self) -> &dyn Store {
        self.background.as_ref()
    }

    /// A receiver that sees a change after each write through this node: what the callback
    /// deliverer and [`Self::keep_numbered`] wait on.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Changes each time this node adds to the inbox, so a reader following it wakes at once
    /// (messages other nodes add are seen by polling the store).
    pub fn inbox_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inbox.subscribe()
    }

    /// Signals [`Self::inbox_changes`].
    pub(crate) fn inbox_grew(&self) {
        self.inbox.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Adds a message to the inbox (keeping the newest `keep`) and wakes its followers;
    /// answers its position.
    pub(crate) async fn keep_message(
        &self,
        entry: &crate::robot::InboxEntry,
        keep: u64,
    ) -> Result<i64, crate::StoreError> {
        let seq = self.store().append_message(entry, keep).await?;
        self.inbox_grew();
        Ok(seq)
    }

    /// [`Self::keep_message`] for several, in one transaction.
    pub(crate) async fn keep_messages(
        &self,
        entries: &[crate::robot::InboxEntry],
        keep: u64,
    ) -> Result<Vec<i64>, crate::StoreError> {
        let seqs = self.store().append_messages(entries, keep).await?;
        self.inbox_grew();
        Ok(seqs)
    }

    /// Renumbers the departments that writes marked, until dropped: [`NUMBERING_DELAY`] after
    /// the first write through this node of each burst, and every [`NUMBERING_POLL`] for what
    /// other nodes or processes marked or an earlier pass failed on. Writes stay O(1) in
    /// department size and member pages seek again once the writes pause. Numbers what is marked
    /// at once on start.
    pub async fn keep_numbered(&self) {
        let mut commits = self.commits();
        loop {
            if let Err(e) = self.background.number_members().await {
                tracing::warn!(error = %e, "numbering department members failed; trying again");
            }
            tokio::select! {
                changed = commits.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    tokio::time::sleep(NUMBERING_DELAY).await;
                    commits.borrow_and_update();
                }
                () = tokio::time::sleep(NUMBERING_POLL) => {}
            }
        }
    }

    /// The store, counted and bounded: for this crate's rules only.
    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// How many store reads this service has made.
    pub fn store_reads(&self) -> u64 {
        self.store.hook().reads()
    }

    /// Each kind of store call this service has made: errors, timeouts and latency (background
    /// work's calls are not counted, as in [`Self::store_reads`]).
    pub fn store_stats(&self) -> Vec<crate::stats::StoreCallStats> {
        self.store.hook().calls()
    }

    /// The directory at a glance: corps with their counts, apps, and how many people.
    pub async fn glance(&self) -> Result<dingdir_proto::admin::Glance, crate::StoreError> {
        self.store().glance(dingdir_proto::admin::GLANCE_MAX).await
    }

    /// Each cache's hits, misses and entries.
    pub fn cache_stats(&self) -> Vec<crate::stats::CacheStats> {
        self.caches.stats()
    }

    /// Whether the store answers (readiness).
    pub async fn ping(&self) -> Result<(), Error> {
        Ok(self.store.ping().await?)
    }

    /// The whole directory, for export and the `dev` sign-in page's choices.
    pub async fn directory(&self) -> Result<crate::model::Directory, Error> {
        Ok(self.store.directory().await?)
    }

    /// A corp by id.
    pub async fn corp(&self, id: &CorpId) -> Result<Option<crate::model::Corp>, Error> {
        Ok(self.store.corp(id).await?)
    }

    /// The membership holding `userid` in `corp`, whatever its status.
    pub async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, Error> {
        Ok(self.store.membership(corp, userid).await?)
    }

    /// The normal account (not an exclusive one) with this mobile.
    pub async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, Error> {
        Ok(self.store.person_by_mobile(mobile).await?)
    }

    /// Sets the suite ticket a third-party enterprise app must present; `false` if no such app.
    pub async fn set_suite_ticket(&self, app: &AppKey, ticket: &str) -> Result<bool, Error> {
        Ok(self.store.set_suite_ticket(app, ticket).await?)
    }

    /// Entries of the change log, by position.
    pub async fn changes(&self, query: &crate::change::ChangeQuery) -> Result<Vec<crate::change::Change>, Error> {
        Ok(self.store.changes(query).await?)
    }

    /// Forgets everything cached and signals [`Self::commits`]: after a write through this node.
    pub fn invalidate(&self) {
        self.caches.clear();
        self.commits.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Applies a seed (one transaction; refused whole) and forgets what was cached.
    pub async fn apply_seed(&self, file: &str, text: &str) -> Result<crate::seed::Plan, crate::seed::ApplyError> {
        let plan = Self::plan_seed(file, text)?;
        self.apply_planned(&plan).await?;
        Ok(plan)
    }

    /// Parses and checks a seed against every rule the file alone decides, writing nothing:
    /// the caller may check more (the server checks the fault rules' endpoints) before
    /// [`Self::apply_planned`].
    pub fn plan_seed(file: &str, text: &str) -> Result<crate::seed::Plan, crate::seed::ApplyError> {
        let (doc, locator) = crate::seed::parse(file, text)?;
        Ok(crate::seed::Plan::build(file, &doc, &locator)?)
    }

    /// Applies a planned seed: its directory in one transaction, then the rate limits it sets,
    /// if any. The fault rules are the caller's to arm.
    pub async fn apply_planned(&self, plan: &crate::seed::Plan) -> Result<(), crate::seed::ApplyError> {
        let result = crate::seed::apply_plan_at(self.store(), plan, self.now()).await;
        self.invalidate();
        result?;
        if let Some(limits) = plan.rate_limits() {
            self.store().set_rate_limits(limits).await?;
            self.limits.set(limits.to_vec());
        }
        crate::seed::apply_messaging(self.store(), plan).await?;
        Ok(())
    }

    /// Every callback registration with where its delivery stands.
    pub async fn callbacks(&self) -> Result<Vec<crate::callback::CallbackState>, Error> {
        Ok(self.store.callbacks().await?)
    }

    /// Creates or replaces an app's callback registration, once its URL has answered
    /// `check_url` (the caller's part: it needs HTTP). A new registration receives the entries
    /// logged from now on.
    pub async fn register_callback(&self, callback: crate::callback::Callback) -> Result<(), Error> {
        crate::callback::check(&callback)
            .map_err(|e| Error::CallbackRefused(crate::callback::CallbackRefusal::Invalid(e)))?;
        if self.store.app(&callback.app_key).await?.is_none() {
            return Err(Error::AppNotFound);
        }
        let write = crate::change::Write {
            directory: crate::model::Directory {
                callbacks: vec![callback],
                ..Default::default()
            },
            at: self.now(),
            ..Default::default()
        };
        self.store.apply(&write).await?;
        self.invalidate();
        Ok(())
    }

    /// Removes an app's registration; `false` when it had none.
    pub async fn remove_callback(&self, app: &AppKey) -> Result<bool, Error> {
        Ok(self.store.remove_callback(app).await?)
    }

    /// See [`crate::CallbackStore::attempts`].
    pub async fn attempts(&self, after: i64, upto: i64) -> Result<Vec<crate::callback::Attempt>, Error> {
        Ok(self.store.attempts(after, upto).await?)
    }

    /// Empties the store (`dev` reset) and forgets what was cached.
    pub async fn reset(&self) -> Result<(), Error> {
        let result = self.store.reset().await;
        self.invalidate();
        self.limits.set(Vec::new());
        Ok(result?)
    }

    /// Deletes the tokens, codes, refresh tokens and consent tickets that expired more than a
    /// day ago (a token a day past its expiry still answers "expired", not "invalid"), and
    /// returns how many. Run on a schedule on every node; the deletes are idempotent.
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        const GRACE_MS: Millis = 24 * 3600 * 1000;
        Ok(self.store.purge_expired(self.now().saturating_sub(GRACE_MS)).await?)
    }

    /// An app, cached (an unknown key as well).
    pub async fn app(&self, key: &AppKey) -> Result<Option<Arc<App>>, Error> {
        let now = self.now();
        if let Some(app) = self.caches.apps.get(key, now) {
            return Ok(app);
        }
        let app = self.store.app(key).await?.map(Arc::new);
        self.caches.apps.put(key.clone(), app.clone(), now);
        Ok(app)
    }

    /// A person by id, cached.
    pub async fn person(&self, id: &PersonId) -> Result<Option<Arc<Person>>, Error> {
        let now = self.now();
        if let Some(p) = self.caches.people.get(id, now) {
            return Ok(Some(p));
        }
        let person = self.store.person(id).await?.map(Arc::new);
        if let Some(p) = &person {
            self.caches.people.put(id.clone(), p.clone(), now);
        }
        Ok(person)
    }

    /// A person by the number behind their unionIds, cached.
    pub async fn person_by_number(&self, number: u64) -> Result<Option<Arc<Person>>, Error> {
        let now = self.now();
        if let Some(p) = self.caches.numbers.get(&number, now) {
            return Ok(Some(p));
        }
        let person = self.store.person_by_number(number).await?.map(Arc::new);
        if let Some(p) = &person {
            self.caches.numbers.put(number, p.clone(), now);
        }
        Ok(person)
    }

    /// A person's memberships, cached.
    pub async fn memberships_of(&self, id: &PersonId) -> Result<Arc<Vec<Membership>>, Error> {
        let now = self.now();
        if let Some(ms) = self.caches.memberships.get(id, now) {
            return Ok(ms);
        }
        let ms = Arc::new(self.store.memberships_of(id).await?);
        self.caches.memberships.put(id.clone(), ms.clone(), now);
        Ok(ms)
    }

    /// The member holding `userid` in `corp` with their full record, whatever their status,
    /// cached (an unknown userid as well).
    pub async fn member(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Arc<Member>>, Error> {
        let now = self.now();
        let key = (corp.clone(), userid.clone());
        if let Some(found) = self.caches.members.get(&key, now) {
            return Ok(found);
        }
        let found = self.store.member(corp, userid).await?.map(Arc::new);
        self.caches.members.put(key, found.clone(), now);
        Ok(found)
    }

    /// Department `id` of `corp`, cached (an unknown id as well).
    pub async fn department(&self, corp: &CorpId, id: i64) -> Result<Option<Arc<Department>>, Error> {
        let now = self.now();
        let key = (corp.clone(), id);
        if let Some(found) = self.caches.departments.get(&key, now) {
            return Ok(found);
        }
        let found = self.store.department(corp, id).await?.map(Arc::new);
        self.caches.departments.put(key, found.clone(), now);
        Ok(found)
    }

    /// The members of `corp` with `mobile` (any account kind and status), cached: one store
    /// read per lookup at most, none while cached.
    pub async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<MembersWithMobile, Error> {
        let now = self.now();
        let key = (corp.clone(), mobile.clone());
        if let Some(found) = self.caches.by_mobile.get(&key, now) {
            return Ok(found);
        }
        let found = Arc::new(self.store.members_by_mobile(corp, mobile).await?);
        self.caches.by_mobile.put(key, found.clone(), now);
        Ok(found)
    }

    /// A person's unionId under a developer account, derived once and kept.
    pub fn union_id(&self, developer: &Developer, number: u64) -> Arc<str> {
        self.memo_id(format!("union|{developer}"), number, || {
            self.ids.union_id(developer, number).0
        })
    }

    /// A person's openId in an app, derived once and kept.
    pub fn open_id(&self, app: &AppKey, number: u64) -> Arc<str> {
        self.memo_id(format!("open|{app}"), number, || self.ids.open_id(app, number).0)
    }

    fn memo_id(&self, namespace: String, number: u64, derive: impl FnOnce() -> String) -> Arc<str> {
        let key = (namespace, number);
        if let Some(id) = self.caches.ids.get(&key, 0) {
            return id;
        }
        let id: Arc<str> = derive().into();
        self.caches.ids.put(key, id.clone(), 0);
        id
    }

    /// A token record, cached while it is valid; an expired cached entry is read again, since
    /// another node may have renewed it.
    async fn token_record(&self, token: &str) -> Result<Option<Arc<TokenRecord>>, Error> {
        let now = self.now();
        if let Some(t) = self.caches.tokens.get(token, now) {
            if t.expires_at > now {
                return Ok(Some(t));
            }
        }
        let record = self.store.token(&secret::digest(token)).await?.map(Arc::new);
        if let Some(t) = &record {
            self.caches.tokens.put(token.to_owned(), t.clone(), now);
        }
        Ok(record)
    }

    /// The id secret.
    pub fn ids(&self) -> &IdSecret {
        &self.ids
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    fn ttl_ms(&self) -> Millis {
        i64::try_from(self.policy.token_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// Checks an app key and secret; unknown key and wrong secret are the same error, and cost
    /// the same (an unknown key is checked against a decoy hash).
    pub async fn verify_client(&self, key: Option<&str>, secret: Option<&str>) -> Result<Arc<App>, Error> {
        Ok(self.verify_client_keyed(key, secret).await?.0)
    }

    /// [`verify_client`](Self::verify_client), with the key the app's tokens are derived with.
    async fn verify_client_keyed(
        &self,
        key: Option<&str>,
        secret: Option<&str>,
    ) -> Result<(Arc<App>, [u8; 32]), Error> {
        let (Some(key), Some(secret)) = (key.filter(|k| !k.is_empty()), secret.filter(|s| !s.is_empty())) else {
            return Err(Error::AppCredentialsMissing);
        };
        // No app key is this long (DingTalk's are about 20 characters); longer ones are not
        // looked up, so the cache of unknown keys holds only short ones.
        let app = if key.len() <= MAX_APP_KEY_LEN {
            self.app(&AppKey(key.to_owned())).await?
        } else {
            None
        };
        let hash = app
            .as_ref()
            .map_or(crate::verify::decoy_hash(), |a| a.secret_hash.as_str());
        let token_key = self.verifier.verify_app(key, secret, hash).await?;
        match (app, token_key) {
            (Some(app), Some(token_key)) => Ok((app, token_key)),
            (Some(_) | None, _) => Err(Error::BadAppSecret),
        }
    }

    /// An app token for `GET /gettoken` and `POST /v1.0/oauth2/accessToken`: the same string
    /// while it is valid, its expiry renewed. WIRE.md §C1-C2.
    ///
    /// The store keeps the token's digest and a nonce; the string is derived from the nonce and
    /// a slow key of the app's secret, which only the caller brings.
    pub async fn app_token(&self, key: Option<&str>, secret: Option<&str>) -> Result<IssuedToken, Error> {
        let (app, token_key) = self.verify_client_keyed(key, secret).await?;
        let now = self.now();
        let nonce = new_token()?;
        let candidate = secret::app_token(&token_key, &nonce);
        let corp = match app.kind {
            AppKind::Internal => app.corp_id.clone(),
            AppKind::ThirdPartyEnterprise | AppKind::ThirdPartyPersonal => None,
        };
        let expires_at = now.saturating_add(self.ttl_ms());
        let seal = StoredAppToken {
            digest: secret::digest(&candidate),
            nonce: Some(nonce),
        };
        let derive = |kept: &StoredAppToken| {
            let t = secret::app_token(&token_key, kept.nonce.as_deref()?);
            secret::same(secret::digest(&t).as_bytes(), kept.digest.as_bytes()).then_some(t)
        };
        let kept = self
            .store
            .issue_app_token(&app.key, corp.as_ref(), &seal, now, expires_at, None)
            .await?;
        let token = match derive(&kept) {
            Some(t) => t,
            // The valid token on record was issued under another secret, or before tokens were
            // derived: nobody can be given it again, so it is replaced, unless a concurrent
            // caller replaced it first (then theirs is kept, and derived here too).
            None => {
                let now_kept = self
                    .store
                    .issue_app_token(&app.key, corp.as_ref(), &seal, now, expires_at, Some(&kept.digest))
                    .await?;
                derive(&now_kept).unwrap_or(candidate)
            }
        };
        Ok(IssuedToken {
            token,
            expires_in: self.policy.token_ttl_secs,
        })
    }

    /// A third-party enterprise app's token for a corp that authorised it: new on every call.
    /// A suite with no stored ticket takes any non-empty ticket. WIRE.md §C4.
    pub async fn corp_token(
        &self,
        suite_key: Option<&str>,
        suite_secret: Option<&str>,
        auth_corp_id: Option<&str>,
        suite_ticket: Option<&str>,
    ) -> Result<IssuedToken, Error> {
        let app = match self.verify_client(suite_key, suite_secret).await {
            Ok(app) if app.kind == AppKind::ThirdPartyEnterprise => app,
            Ok(_) | Err(Error::BadAppSecret | Error::AppCredentialsMissing) => return Err(Error::BadSuiteKey),
            Err(e) => return Err(e),
        };
        let ticket = suite_ticket.unwrap_or_default();
        let ticket_ok = match &app.suite_ticket {
            Some(want) => secret::same(ticket.as_bytes(), want.as_bytes()),
            None => !ticket.is_empty(),
        };
        if !ticket_ok {
            return Err(Error::BadSuiteTicket);
        }
        let corp = auth_corp_id.map(|c| CorpId(c.to_owned()));
        let corp = match corp {
            Some(c) if app.authorized_corps.contains(&c) => c,
            _ => return Err(Error::NotAuthorised),
        };
        let token = new_token()?;
        let record = TokenRecord {
            digest: secret::digest(&token),
            kind: TokenKind::Corp,
            app_key: app.key.clone(),
            corp_id: Some(corp),
            person_id: None,
            expires_at: self.now().saturating_add(self.ttl_ms()),
        };
        self.store.insert_token(&record).await?;
        Ok(IssuedToken {
            token,
            expires_in: self.policy.token_ttl_secs,
        })
    }

    /// Stores an authorisation code for a signed-in person and returns it.
    pub async fn issue_code(&self, grant: Grant) -> Result<String, Error> {
        let code = new_token()?;
        let record = CodeRecord {
            digest: secret::digest(&code),
            grant,
            expires_at: self.now().saturating_add(CODE_TTL_MS),
        };
        self.store.insert_code(&record).await?;
        Ok(code)
    }

    async fn issue_user_token(&self, grant: Grant) -> Result<UserToken, Error> {
        let now = self.now();
        let access_token = new_token()?;
        let access = TokenRecord {
            digest: secret::digest(&access_token),
            kind: TokenKind::User,
            app_key: grant.app_key.clone(),
            corp_id: grant.corp_id.clone(),
            person_id: Some(grant.person_id.clone()),
            expires_at: now.saturating_add(self.ttl_ms()),
        };
        self.store.insert_token(&access).await?;
        let with_corp = scope_has_corpid(&grant.scope);
        let corp_id = grant.corp_id.clone().filter(|_| with_corp);
        let refresh_token = new_token()?;
        let refresh = RefreshRecord {
            digest: secret::digest(&refresh_token),
            grant,
            expires_at: now.saturating_add(REFRESH_TTL_MS),
        };
        self.store.insert_refresh(&refresh).await?;
        Ok(UserToken {
            access_token,
            refresh_token,
            expires_in: self.policy.token_ttl_secs,
            corp_id,
        })
    }

    /// `grantType=authorization_code`: a single-use, five-minute code for a user token.
    pub async fn user_token_from_code(
        &self,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        code: Option<&str>,
    ) -> Result<UserToken, Error> {
        let app = self.verify_client(client_id, client_secret).await?;
        let code = code.filter(|c| !c.is_empty()).ok_or(Error::CodeInvalid)?;
        let record = self
            .store
            .redeem_code(&secret::digest(code), &app.key, self.now())
            .await?
            .ok_or(Error::CodeInvalid)?;
        self.issue_user_token(record.grant).await
    }

    /// `grantType=refresh_token`: a new user token and a new refresh token; the old one is spent.
    pub async fn user_token_from_refresh(
        &self,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        refresh: Option<&str>,
    ) -> Result<UserToken, Error> {
        let app = self.verify_client(client_id, client_secret).await?;
        let refresh = refresh.filter(|r| !r.is_empty()).ok_or(Error::RefreshTokenInvalid)?;
        let record = self
            .store
            .redeem_refresh(&secret::digest(refresh), &app.key, self.now())
            .await?
            .ok_or(Error::RefreshTokenInvalid)?;
        self.issue_user_token(record.grant).await
    }

    /// A user token without the browser (admin API): the sign-in flow's own path, a code issued
    /// and redeemed at once.
    pub async fn mint_user_token(
        &self,
        app: &App,
        person: &PersonId,
        corp_id: Option<CorpId>,
        scope: &str,
    ) -> Result<UserToken, Error> {
        let grant = Grant {
            app_key: app.key.clone(),
            person_id: person.clone(),
            corp_id,
            scope: scope.to_owned(),
        };
        let code = self.issue_code(grant).await?;
        let record = self
            .store
            .redeem_code(&secret::digest(&code), &app.key, self.now())
            .await?
            .ok_or(Error::CodeInvalid)?;
        self.issue_user_token(record.grant).await
    }

    /// What an access token stands for; missing, unknown and expired tokens are errors.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, Error> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Error::TokenMissing)?;
        // DingTalk never issues anything else; refusing early keeps junk away from the store.
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::TokenInvalid);
        }
        let record = self.token_record(token).await?.ok_or(Error::TokenInvalid)?;
        if record.expires_at <= self.now() {
            return Err(Error::TokenExpired);
        }
        let app = self.app(&record.app_key).await?.ok_or(Error::TokenInvalid)?;
        Ok(Caller {
            kind: record.kind,
            app,
            corp_id: record.corp_id.clone(),
            person_id: record.person_id.clone(),
        })
    }

    /// The corp a sign-in to `app` is for: the owner of an internal app, otherwise the first
    /// corp (by id) where the person is an active member and the app is installed.
    pub async fn sign_in_corp(&self, app: &App, person: &PersonId) -> Result<Option<CorpId>, Error> {
        let installed = app.installed_in();
        let memberships = self.memberships_of(person).await?;
        let active = memberships.iter().filter(|m| m.status == MemberStatus::Active);
        Ok(match app.kind {
            AppKind::Internal | AppKind::ThirdPartyEnterprise => active
                .filter(|m| installed.contains(&m.corp_id))
                .map(|m| m.corp_id.clone())
                .min(),
            AppKind::ThirdPartyPersonal => active.map(|m| m.corp_id.clone()).min(),
        })
    }
}

/// Whether an OAuth scope string asks for the corp (`openid corpid`).
pub fn scope_has_corpid(scope: &str) -> bool {
    scope.split([' ', '+', ',']).any(|s| s == "corpid")
}

pub(crate) fn new_token() -> Result<String, Error> {
    secret::random_hex(16).map_err(|e| Error::Store(crate::StoreError::Other(Box::new(e))))
}

/// Rate limits ([`crate::rate`]): the cluster's limits as this node holds them, and the count.
impl Service {
    /// Whether any rate limit is in force on this node: one atomic load.
    pub fn rate_limited(&self) -> bool {
        self.limits.any()
    }

    /// The limits in force on this node.
    pub fn rate_limits(&self) -> Vec<dingdir_proto::admin::RateLimit> {
        self.limits.get().as_ref().clone()
    }

    /// Rereads the cluster's limits from the store: what another node set shows here.
    pub async fn refresh_rate_limits(&self) -> Result<(), Error> {
        let rules = self.store().rate_limits().await?;
        self.limits.set(rules);
        Ok(())
    }

    /// Replaces the cluster's limits (`[]` lifts them all); in force on this node at once and on
    /// the others at their next refresh. Limits [`crate::rate::check`] refuses are refused here
    /// as `InvalidParameter` (`limits`): check first to tell the caller why.
    pub async fn set_rate_limits(&self, limits: Vec<dingdir_proto::admin::RateLimit>) -> Result<(), Error> {
        crate::rate::check(&limits).map_err(|_| Error::InvalidParameter { name: "limits" })?;
        self.store().set_rate_limits(&limits).await?;
        self.limits.set(limits);
        Ok(())
    }

    /// Counts a call against the limits that match it; the first one it breaks, if any.
    pub async fn count_call(&self, call: &crate::rate::Call<'_>) -> Result<Option<crate::rate::Exceeded>, Error> {
        Ok(self.limits.count(self.store(), self.now(), call).await?)
    }
}
