//! [`AppTokenManager`]: one app's token, cached, refreshed ahead of expiry, fetched once for any
//! number of concurrent callers, renewed once on a token error, and retried (boundedly) when
//! DingTalk is busy.

use crate::client::{AppCredentials, AppToken, Client, Gateway};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::retry::RetryPolicy;
use dingdir_proto::oapi::GetByMobileResponse;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default refresh margin: a token is replaced 5 minutes before it expires.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// The smallest margin used, whatever is configured: a token is never used in its last seconds,
/// when clock skew and request latency could let it expire in flight.
pub const MIN_REFRESH_MARGIN: Duration = Duration::from_secs(10);

/// When a token of lifetime `ttl`, fetched at `fetched_at`, should be replaced.
///
/// The margin is `margin`, at least [`MIN_REFRESH_MARGIN`], but at most half the lifetime: a
/// short-lived token (a test server's `--token-ttl 60`) is still used for half its life instead
/// of being fetched again on every call.
pub(crate) fn refresh_at(fetched_at: Instant, ttl: Duration, margin: Duration) -> Instant {
    let margin = margin.max(MIN_REFRESH_MARGIN).min(ttl / 2);
    fetched_at + (ttl - margin)
}

struct Cached {
    token: String,
    refresh_at: Instant,
}

struct Inner {
    client: Client,
    app: AppCredentials,
    gateway: Gateway,
    refresh_margin: Duration,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    // An async mutex held across the fetch is the single flight: callers that find no fresh
    // token queue behind the one fetching and then read what it stored. If that fetch's future is
    // dropped, the lock passes on and the next caller fetches.
    cached: tokio::sync::Mutex<Option<Cached>>,
}

/// Settings of an [`AppTokenManager`]; see [`AppTokenManager::builder`].
pub struct AppTokenManagerBuilder {
    client: Client,
    app: AppCredentials,
    gateway: Gateway,
    refresh_margin: Duration,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl AppTokenManagerBuilder {
    /// The gateway tokens are fetched from (default [`Gateway::Api`]); a token from either works
    /// on both.
    pub fn gateway(mut self, gateway: Gateway) -> Self {
        self.gateway = gateway;
        self
    }

    /// How long before expiry a token is replaced (default [`DEFAULT_REFRESH_MARGIN`]); see
    /// [`MIN_REFRESH_MARGIN`] and the halving for short lifetimes on [`AppTokenManager`].
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Retries on "system busy", for token fetches and for calls (default
    /// [`RetryPolicy::default`]: 3).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The time source deciding when a token is due for refresh (default [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The manager, with an empty cache.
    pub fn build(self) -> AppTokenManager {
        AppTokenManager {
            inner: Arc::new(Inner {
                client: self.client,
                app: self.app,
                gateway: self.gateway,
                refresh_margin: self.refresh_margin,
                retry: self.retry,
                clock: self.clock,
                cached: tokio::sync::Mutex::new(None),
            }),
        }
    }
}

/// One app's access token, managed: cheap to clone, and clones share the cache.
///
/// - **Cache and refresh ahead of expiry.** The token is fetched on first use and replaced a
///   margin before it expires (5 minutes by default; never under [`MIN_REFRESH_MARGIN`], never
///   over half the token's lifetime).
/// - **Single flight.** However many tasks ask at once, one request fetches the token.
/// - **One renewal on a token error.** When a call made through [`AppTokenManager::with_token`]
///   fails with [`Error::is_token_invalid`], the token is dropped, a fresh one fetched and the call
///   repeated **once**. A second token error is returned as is. (The community Python SDK repeats
///   without bound and, against a server that keeps refusing, sent 968 requests before crashing;
///   SDK-WIRE.md §3.5.)
/// - **Bounded retries when busy.** A token fetch or call that fails with
///   [`Error::is_system_busy`] is repeated up to [`RetryPolicy::max_retries`] times, with capped,
///   jittered exponential backoff. Other errors are returned at once.
///
/// ```no_run
/// use dingdir_client::{AppCredentials, AppTokenManager, Client};
///
/// # async fn run() -> Result<(), dingdir_client::Error> {
/// let client = Client::builder().base_url("http://127.0.0.1:8080").build()?;
/// let manager = AppTokenManager::new(client, AppCredentials::new("dingdemointernal", "demo-internal-secret"));
/// let found = manager.get_by_mobile("15000009144", true).await?;
/// println!("{:?} {:?}", found.result.userid, found.result.exclusive_account_userid_list);
///
/// // Any call that takes the app token, with the same renewal and retries:
/// let client = manager.client().clone();
/// let again = manager
///     .with_token(|token| {
///         let client = client.clone();
///         async move { client.get_by_mobile(&token, "15532403240", false).await }
///     })
///     .await?;
/// # let _ = again;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AppTokenManager {
    inner: Arc<Inner>,
}

impl fmt::Debug for AppTokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppTokenManager")
            .field("app", &self.inner.app)
            .field("gateway", &self.inner.gateway)
            .field("refresh_margin", &self.inner.refresh_margin)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl AppTokenManager {
    /// A manager with the defaults: new-gateway tokens, 5-minute margin, 3 retries when busy,
    /// the system clock.
    pub fn new(client: Client, app: AppCredentials) -> Self {
        Self::builder(client, app).build()
    }

    /// A manager with settings.
    ///
    /// ```
    /// use dingdir_client::{AppCredentials, AppTokenManager, Client, Gateway, ManualClock, RetryPolicy};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let clock = Arc::new(ManualClock::new());
    /// let manager = AppTokenManager::builder(Client::new()?, AppCredentials::new("key", "secret"))
    ///     .gateway(Gateway::Oapi)
    ///     .refresh_margin(Duration::from_secs(600))
    ///     .retry(RetryPolicy { max_retries: 5, ..RetryPolicy::default() })
    ///     .clock(clock.clone())
    ///     .build();
    /// # let _ = manager;
    /// # Ok::<(), dingdir_client::Error>(())
    /// ```
    pub fn builder(client: Client, app: AppCredentials) -> AppTokenManagerBuilder {
        AppTokenManagerBuilder {
            client,
            app,
            gateway: Gateway::default(),
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The client the manager calls through.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The app's key.
    pub fn app_key(&self) -> &str {
        &self.inner.app.app_key
    }

    /// A token that is not due for refresh: the cached one, or a fresh one (one fetch for all
    /// concurrent callers, retried when DingTalk is busy).
    pub async fn token(&self) -> Result<String, Error> {
        let mut cached = self.inner.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if self.inner.clock.now() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        let fetched_at = self.inner.clock.now();
        let fresh = self.fetch().await?;
        *cached = Some(Cached {
            token: fresh.access_token.clone(),
            refresh_at: refresh_at(
                fetched_at,
                Duration::from_secs(fresh.expires_in),
                self.inner.refresh_margin,
            ),
        });
        Ok(fresh.access_token)
    }

    /// Drops the cached token, whatever it is; the next [`AppTokenManager::token`] fetches.
    pub async fn invalidate(&self) {
        *self.inner.cached.lock().await = None;
    }

    /// Drops the cached token only if it is still `token`: when many calls fail with the same
    /// token at once, the first to get here drops it and the rest keep the replacement.
    async fn forget(&self, token: &str) {
        let mut cached = self.inner.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    async fn fetch(&self) -> Result<AppToken, Error> {
        let mut busy = 0;
        loop {
            match self.inner.client.app_token(&self.inner.app, self.inner.gateway).await {
                Err(e) if e.is_system_busy() && busy < self.inner.retry.max_retries => {
                    tokio::time::sleep(self.inner.retry.delay(busy)).await;
                    busy += 1;
                }
                other => return other,
            }
        }
    }

    /// Runs `call` with the app token: on a token error, once more with a fresh token; on
    /// "system busy", again after a backoff, up to the retry limit. At most
    /// `2 + max_retries` calls.
    pub async fn with_token<T, F, Fut>(&self, mut call: F) -> Result<T, Error>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut renewed = false;
        let mut busy = 0;
        loop {
            let token = self.token().await?;
            match call(token.clone()).await {
                // Once only: a second token error means a fresh token does not help, and asking
                // again would loop (SDK-WIRE.md §3.5).
                Err(e) if e.is_token_invalid() && !renewed => {
                    renewed = true;
                    self.forget(&token).await;
                }
                Err(e) if e.is_system_busy() && busy < self.inner.retry.max_retries => {
                    tokio::time::sleep(self.inner.retry.delay(busy)).await;
                    busy += 1;
                }
                result => return result,
            }
        }
    }

    /// [`Client::get_by_mobile`] with the managed token.
    pub async fn get_by_mobile(&self, mobile: &str, exclusive: bool) -> Result<GetByMobileResponse, Error> {
        let client = &self.inner.client;
        self.with_token(|token| async move { client.get_by_mobile(&token, mobile, exclusive).await })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_comes_a_margin_before_expiry() {
        let t0 = Instant::now();
        let at = refresh_at(t0, Duration::from_secs(7200), DEFAULT_REFRESH_MARGIN);
        assert_eq!(at - t0, Duration::from_secs(6900));
    }

    #[test]
    fn short_lifetimes_are_used_for_half_their_life() {
        let t0 = Instant::now();
        let at = refresh_at(t0, Duration::from_secs(60), DEFAULT_REFRESH_MARGIN);
        assert_eq!(at - t0, Duration::from_secs(30));
        let at = refresh_at(t0, Duration::from_secs(1), DEFAULT_REFRESH_MARGIN);
        assert_eq!(at - t0, Duration::from_millis(500));
        assert_eq!(refresh_at(t0, Duration::ZERO, DEFAULT_REFRESH_MARGIN), t0);
    }

    #[test]
    fn the_margin_never_drops_below_the_minimum() {
        let t0 = Instant::now();
        let at = refresh_at(t0, Duration::from_secs(7200), Duration::ZERO);
        assert_eq!(at - t0, Duration::from_secs(7190));
    }

    #[tokio::test]
    async fn a_token_fetch_that_cannot_connect_is_a_transport_error_and_caches_nothing() {
        // A port that was free a moment ago: connecting is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = Client::builder()
            .base_url(format!("http://127.0.0.1:{port}"))
            .no_proxy()
            .build()
            .unwrap();
        let manager = AppTokenManager::new(client, AppCredentials::new("k", "s"));
        let e = manager.token().await.unwrap_err();
        assert!(matches!(e, Error::Transport(_)), "{e:?}");
        assert!(manager.inner.cached.lock().await.is_none());
    }
}
