//! A [`Store`] decorator that bounds every call in time: a store that does not answer within the
//! configured time fails as `Unavailable`, which both gateways answer as "system busy" at once.
//! Bounding the store calls (not the whole request) keeps the timer off requests the caches
//! answer.

use async_trait::async_trait;
use dingdir_core::clock::Millis;
use dingdir_core::ident::IdSecret;
use dingdir_core::mobile::Mobile;
use dingdir_core::model::{App, Corp, Directory, Membership, Person, PersonId};
use dingdir_core::token::{CodeRecord, RefreshRecord, StoredAppToken, TokenRecord};
use dingdir_core::{Store, StoreError};
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Wraps `store` so that each call fails as `Unavailable` after `limit`.
pub fn bounded(store: Arc<dyn Store>, limit: Duration) -> Arc<dyn Store> {
    Arc::new(Bounded { inner: store, limit })
}

struct Bounded {
    inner: Arc<dyn Store>,
    limit: Duration,
}

impl Bounded {
    async fn within<T>(&self, call: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        match tokio::time::timeout(self.limit, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(format!(
                "the store did not answer within {:?}",
                self.limit
            ))),
        }
    }
}

#[async_trait]
impl Store for Bounded {
    /// The readiness check bounds its own ping, to tell a timeout from a failure.
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    /// Closing waits for the calls in flight, however long the store takes.
    async fn close(&self) {
        self.inner.close().await;
    }
    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError> {
        self.within(self.inner.id_secret(proposed)).await
    }
    /// Seeds may be large: applying one is bounded by the store's own timeouts only.
    async fn apply(&self, directory: &Directory) -> Result<(), StoreError> {
        self.inner.apply(directory).await
    }
    async fn insert_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        self.inner.insert_directory(directory).await
    }
    async fn directory(&self) -> Result<Directory, StoreError> {
        self.inner.directory().await
    }
    async fn reset(&self) -> Result<(), StoreError> {
        self.inner.reset().await
    }
    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError> {
        self.within(self.inner.corp(id)).await
    }
    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError> {
        self.within(self.inner.app(key)).await
    }
    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        self.within(self.inner.person(id)).await
    }
    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError> {
        self.within(self.inner.person_by_number(number)).await
    }
    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError> {
        self.within(self.inner.person_by_mobile(mobile)).await
    }
    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError> {
        self.within(self.inner.membership(corp, userid)).await
    }
    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError> {
        self.within(self.inner.memberships_of(person)).await
    }
    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError> {
        self.within(self.inner.members_by_mobile(corp, mobile)).await
    }
    async fn issue_app_token(
        &self,
        app: &AppKey,
        corp: Option<&CorpId>,
        candidate: &StoredAppToken,
        now: Millis,
        expires_at: Millis,
    ) -> Result<StoredAppToken, StoreError> {
        self.within(self.inner.issue_app_token(app, corp, candidate, now, expires_at))
            .await
    }
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.within(self.inner.insert_token(token)).await
    }
    async fn token(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.within(self.inner.token(token)).await
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
