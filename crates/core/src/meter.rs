//! The service's hook around every store call: it times each call by name (the metrics'
//! store latency), counts reads, so "at most one store read per
//! hot request" can be shown, not just claimed (`GET /_dingdir/metrics`), and bounds every call
//! in time, so a store that does not answer fails as [`StoreError::TimedOut`], which every
//! gateway answers as "system busy" at once. Bounding the store calls (not whole requests)
//! keeps the timer off requests the caches answer.

use crate::StoreError;
use crate::intercept::{Call, CallKind, Hook};
use crate::stats::{Latency, StoreCallStats};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts the calls that read, times every call by its name, and bounds it by `limit`.
pub(crate) struct Meter {
    reads: AtomicU64,
    calls: Mutex<HashMap<&'static str, StoreCallStats>>,
    limit: Duration,
}

impl Meter {
    pub(crate) fn new(limit: Duration) -> Self {
        Self {
            reads: AtomicU64::new(0),
            calls: Mutex::new(HashMap::new()),
            limit,
        }
    }

    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Every kind of call made so far, by name.
    pub(crate) fn calls(&self) -> Vec<StoreCallStats> {
        let calls = self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all: Vec<_> = calls.values().cloned().collect();
        all.sort_by_key(|c| c.name);
        all
    }

    fn observe(&self, call: Call, us: u64, outcome: Result<(), &StoreError>) {
        let mut calls = self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let stats = calls.entry(call.name).or_insert_with(|| StoreCallStats {
            name: call.name,
            kind: match call.kind {
                CallKind::Read => "read",
                CallKind::Write => "write",
                CallKind::Probe => "probe",
            },
            errors: 0,
            timeouts: 0,
            latency: Latency::default(),
        });
        stats.latency.observe(us);
        if let Err(e) = outcome {
            stats.errors += 1;
            if matches!(e, StoreError::TimedOut) {
                stats.timeouts += 1;
            }
        }
    }
}

impl Hook for Meter {
    fn around<T: Send>(
        &self,
        call: Call,
        run: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        if call.kind == CallKind::Read {
            self.reads.fetch_add(1, Ordering::Relaxed);
        }
        let limit = self.limit;
        async move {
            let started = Instant::now();
            let result = tokio::time::timeout(limit, run)
                .await
                .unwrap_or(Err(StoreError::TimedOut));
            let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.observe(call, us, result.as_ref().map(|_| ()));
            result
        }
    }
}
