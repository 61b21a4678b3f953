//! A [`Store`] decorator that counts reads, so "at most one store read per hot request" can be
//! shown, not just claimed (`GET /_dingdir/metrics`).

use crate::StoreError;
use crate::clock::Millis;
use crate::ident::IdSecret;
use crate::mobile::Mobile;
use crate::model::{App, Corp, Directory, Membership, Person, PersonId};
use crate::store::Store;
use crate::token::{CodeRecord, RefreshRecord, StoredAppToken, TokenRecord};
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts every call that reads the store (writes are not counted).
pub(crate) struct Counting {
    inner: Arc<dyn Store>,
    reads: AtomicU64,
}

impl Counting {
    pub(crate) fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            reads: AtomicU64::new(0),
        }
    }

    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    fn read(&self) -> &dyn Store {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.as_ref()
    }
}

#[async_trait::async_trait]
impl Store for Counting {
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn close(&self) {
        self.inner.close().await;
    }
    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError> {
        self.inner.id_secret(proposed).await
    }
    async fn apply(&self, directory: &Directory) -> Result<(), StoreError> {
        self.inner.apply(directory).await
    }
    async fn insert_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        self.inner.insert_directory(directory).await
    }
    async fn directory(&self) -> Result<Directory, StoreError> {
        self.read().directory().await
    }
    async fn reset(&self) -> Result<(), StoreError> {
        self.inner.reset().await
    }
    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError> {
        self.read().corp(id).await
    }
    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError> {
        self.read().app(key).await
    }
    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        self.read().person(id).await
    }
    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError> {
        self.read().person_by_number(number).await
    }
    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError> {
        self.read().person_by_mobile(mobile).await
    }
    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError> {
        self.read().membership(corp, userid).await
    }
    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError> {
        self.read().memberships_of(person).await
    }
    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError> {
        self.read().members_by_mobile(corp, mobile).await
    }
    async fn issue_app_token(
        &self,
        app: &AppKey,
        corp: Option<&CorpId>,
        candidate: &StoredAppToken,
        now: Millis,
        expires_at: Millis,
    ) -> Result<StoredAppToken, StoreError> {
        self.inner.issue_app_token(app, corp, candidate, now, expires_at).await
    }
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.inner.insert_token(token).await
    }
    async fn token(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.read().token(token).await
    }
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        self.inner.insert_code(code).await
    }
    async fn redeem_code(&self, code: &str, app: &AppKey, now: Millis) -> Result<Option<CodeRecord>, StoreError> {
        self.inner.redeem_code(code, app, now).await
    }
    async fn insert_refresh(&self, refresh: &RefreshRecord) -> Result<(), StoreError> {
        self.inner.insert_refresh(refresh).await
    }
    async fn redeem_refresh(
        &self,
        token: &str,
        app: &AppKey,
        now: Millis,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        self.inner.redeem_refresh(token, app, now).await
    }
    async fn insert_ticket(&self, digest: &str, expires_at: Millis) -> Result<(), StoreError> {
        self.inner.insert_ticket(digest, expires_at).await
    }
    async fn redeem_ticket(&self, digest: &str, now: Millis) -> Result<bool, StoreError> {
        self.inner.redeem_ticket(digest, now).await
    }
    async fn set_suite_ticket(&self, app: &AppKey, ticket: &str) -> Result<bool, StoreError> {
        self.inner.set_suite_ticket(app, ticket).await
    }
    async fn purge_expired(&self, before: Millis) -> Result<u64, StoreError> {
        self.inner.purge_expired(before).await
    }
}
