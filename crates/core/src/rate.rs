//! Rate limits as DingTalk counts them: calls per app and per API in a fixed window, counted in
//! the store so that every node sharing it enforces one limit for the cluster.
//!
//! The limits themselves are read from the store and kept on each node; the service
//! rereads them every second on each node, and setting them through a node takes effect on that
//! node at once.

use crate::StoreError;
use crate::clock::Millis;
use crate::store::LimitStore;
use dingdir_proto::admin::{RateLimit, RateWindow};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// How long a window's counter is kept after the window ends: long enough for a slow node's
/// clock, short enough that the table stays small.
const WINDOW_GRACE_MS: Millis = 60_000;

/// The most limits one cluster holds.
pub const MAX_LIMITS: usize = 1_000;

/// One node's copy of the cluster's limits.
#[derive(Default)]
pub(crate) struct Limits {
    rules: RwLock<Arc<Vec<RateLimit>>>,
    any: AtomicBool,
}

impl Limits {
    pub(crate) fn set(&self, rules: Vec<RateLimit>) {
        self.any.store(!rules.is_empty(), Ordering::Relaxed);
        *self.rules.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(rules);
    }

    pub(crate) fn get(&self) -> Arc<Vec<RateLimit>> {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether any limit is in force: one atomic load.
    pub(crate) fn any(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Counts a call by `app` to `endpoint` at `now` against every limit that matches it, and
    /// answers the first one it breaks. Every matching limit counts the call, whether or not
    /// another broke.
    pub(crate) async fn count(
        &self,
        store: &dyn LimitStore,
        now: Millis,
        call: &Call<'_>,
    ) -> Result<Option<Exceeded>, StoreError> {
        let rules = self.get();
        let mut broken = None;
        // The per-second and per-minute limits first: a call they refuse does not count against
        // the monthly quota, as DingTalk counts it.
        let (quotas, rates): (Vec<&RateLimit>, Vec<&RateLimit>) =
            rules.iter().partition(|r| r.per == RateWindow::Month);
        for rule in rates.into_iter().chain(quotas) {
            let fits = |want: &Option<String>, got: &str| want.as_deref().is_none_or(|w| w == got);
            if !fits(&rule.app, call.app) || !fits(&rule.endpoint, call.endpoint) {
                continue;
            }
            if rule.per == RateWindow::Month && broken.is_some() {
                continue;
            }
            let (start, end) = window(rule.per, now);
            // The limit itself (its numbers and whom it names) is in the key, so changing a limit
            // starts a new count and two limits that both match a call count it once each.
            let scope = format!(
                "{}|{}",
                rule.app.as_deref().unwrap_or("*"),
                rule.endpoint.as_deref().unwrap_or("*")
            );
            // A global limit counts every app's calls together.
            let app = if rule.all_apps { "*" } else { call.app };
            let key = match rule.per {
                RateWindow::Second => format!("{}/s|{scope}|{app}|{}|{start}", rule.limit, call.endpoint),
                RateWindow::Minute => format!("{}/m|{scope}|{app}|{}|{start}", rule.limit, call.endpoint),
                // The monthly quota is the organisation's: a call in no corp is not counted. Its
                // count is kept when the quota changes mid-month, as a bought upgrade keeps it.
                RateWindow::Month => match call.corp {
                    Some(corp) => {
                        let app = rule.app.as_deref().unwrap_or("*");
                        let endpoint = rule.endpoint.as_deref().unwrap_or("*");
                        format!("mo|{corp}|{app}|{endpoint}|{start}")
                    }
                    None => continue,
                },
            };
            let hits = store.hit_window(&key, end + WINDOW_GRACE_MS).await?;
            if hits > rule.limit && broken.is_none() {
                broken = Some(Exceeded {
                    limit: rule.clone(),
                    hits,
                    window: (start, end),
                });
            }
        }
        Ok(broken)
    }
}

/// A call being counted: who made it, to what, and in which corp.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The calling app's key.
    pub app: &'a str,
    /// The endpoint's name.
    pub endpoint: &'a str,
    /// The corp the call acts in, when its token has one.
    pub corp: Option<&'a str>,
}

/// China Standard Time, in which DingTalk counts its months.
const CHINA_MS: Millis = 8 * 3_600_000;

/// The window of `per` that holds `now`: its start and its end, in ms since the epoch. Seconds
/// and minutes are aligned to the epoch; a month is a calendar month in China Standard Time.
pub fn window(per: RateWindow, now: Millis) -> (Millis, Millis) {
    let fixed = |len: Millis| {
        let start = now.div_euclid(len) * len;
        (start, start + len)
    };
    match per {
        RateWindow::Second => fixed(1_000),
        RateWindow::Minute => fixed(60_000),
        RateWindow::Month => crate::iso_time::month_of(now, CHINA_MS),
    }
}

/// A call over a limit: the limit it broke, and how many calls its window has counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// The limit.
    pub limit: RateLimit,
    /// Calls counted in the window so far, this one included.
    pub hits: u64,
    /// When the window began and ends, in ms since the epoch.
    pub window: (Millis, Millis),
}

/// Refuses limits that could never work.
pub fn check(limits: &[RateLimit]) -> Result<(), String> {
    if limits.len() > MAX_LIMITS {
        return Err(format!("at most {MAX_LIMITS} rate limits"));
    }
    for l in limits {
        if l.limit == 0 {
            return Err("a rate limit's `limit` is at least 1".to_owned());
        }
        if l.all_apps && l.app.is_some() {
            return Err("a rate limit with `all_apps` counts every app: leave `app` out".to_owned());
        }
        if l.all_apps && l.per == RateWindow::Month {
            return Err("`all_apps` is for per-second and per-minute limits; a month is the corp's".to_owned());
        }
        for (what, value) in [("app", &l.app), ("endpoint", &l.endpoint)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty() || v.len() > 128) {
                return Err(format!("a rate limit's `{what}` is 1 to 128 characters"));
            }
        }
    }
    Ok(())
}
