//! The one path to the store: a [`Store`] decorator that counts reads, so "at most one store read
//! per hot request" can be shown, not just claimed (`GET /_dingdir/metrics`), and bounds every
//! call in time, so a store that does not answer fails as `Unavailable`, which every gateway
//! answers as "system busy" at once. The service wraps its store in it once; bounding the store
//! calls (not whole requests) keeps the timer off requests the caches answer.

use crate::StoreError;
use crate::clock::Millis;
use crate::ident::IdSecret;
use crate::mobile::Mobile;
use crate::model::{App, Corp, Directory, Membership, Person, PersonId};
use crate::store::Store;
use crate::token::{CodeRecord, RefreshRecord, StoredAppToken, TokenRecord};
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts every call that reads the store (writes are not counted) and bounds every call by
/// `limit`.
pub(crate) struct Metered {
    inner: Arc<dyn Store>,
    reads: AtomicU64,
    limit: Duration,
}

impl Metered {
    pub(crate) fn new(inner: Arc<dyn Store>, limit: Duration) -> Self {
        Self {
            inner,
            reads: AtomicU64::new(0),
            limit,
        }
    }

    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    fn read(&self) -> &dyn Store {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.as_ref()
    }

    async fn within<T>(&self, call: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        match tokio::time::timeout(self.limit, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::TimedOut),
        }
    }
}

#[async_trait::async_trait]
impl Store for Metered {
    async fn ping(&self) -> Result<(), StoreError> {
        self.within(self.inner.ping()).await
    }
    async fn close(&self) {
        self.inner.close().await;
    }
    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError> {
        self.within(self.inner.id_secret(proposed)).await
    }
    async fn apply(&self, directory: &Directory) -> Result<(), StoreError> {
        self.within(self.inner.apply(directory)).await
    }
    async fn insert_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        self.within(self.inner.insert_directory(directory)).await
    }
    async fn directory(&self) -> Result<Directory, StoreError> {
        self.within(self.read().directory()).await
    }
    async fn reset(&self) -> Result<(), StoreError> {
        self.within(self.inner.reset()).await
    }
    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError> {
        self.within(self.read().corp(id)).await
    }
    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError> {
        self.within(self.read().app(key)).await
    }
    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        self.within(self.read().person(id)).await
    }
    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError> {
        self.within(self.read().person_by_number(number)).await
    }
    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError> {
        self.within(self.read().person_by_mobile(mobile)).await
    }
    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError> {
        self.within(self.read().membership(corp, userid)).await
    }
    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError> {
        self.within(self.read().memberships_of(person)).await
    }
    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError> {
        self.within(self.read().members_by_mobile(corp, mobile)).await
    }
    async fn issue_app_token(
        &self,
        app: &AppKey,
        corp: Option<&CorpId>,
        candidate: &StoredAppToken,
        now: Millis,
        expires_at: Millis,
        unusable: Option<&str>,
    ) -> Result<StoredAppToken, StoreError> {
        self.within(
            self.inner
                .issue_app_token(app, corp, candidate, now, expires_at, unusable),
        )
        .await
    }
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.within(self.inner.insert_token(token)).await
    }
    async fn token(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.within(self.read().token(token)).await
    }
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        self.within(self.inner.insert_code(code)).await
    }
    async fn redeem_code(&self, code: &str, app: &AppKey, now: Millis) -> Result<Option<CodeRecord>, StoreError> {
        self.within(self.inner.redeem_code(code, app, now)).await
    }
    async fn insert_refresh(&self, refresh: &RefreshRecord) -> Result<(), StoreError> {
        self.within(self.inner.insert_refresh(refresh)).await
    }
    async fn redeem_refresh(
        &self,
        token: &str,
        app: &AppKey,
        now: Millis,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        self.within(self.inner.redeem_refresh(token, app, now)).await
    }
    async fn insert_ticket(&self, digest: &str, expires_at: Millis) -> Result<(), StoreError> {
        self.within(self.inner.insert_ticket(digest, expires_at)).await
    }
    async fn redeem_ticket(&self, digest: &str, now: Millis) -> Result<bool, StoreError> {
        self.within(self.inner.redeem_ticket(digest, now)).await
    }
    async fn set_suite_ticket(&self, app: &AppKey, ticket: &str) -> Result<bool, StoreError> {
        self.within(self.inner.set_suite_ticket(app, ticket)).await
    }
    async fn purge_expired(&self, before: Millis) -> Result<u64, StoreError> {
        self.within(self.inner.purge_expired(before)).await
    }
}
