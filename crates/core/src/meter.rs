//! The service's hook around every store call: it counts reads, so "at most one store read per
//! hot request" can be shown, not just claimed (`GET /_dingdir/metrics`), and bounds every call
//! in time, so a store that does not answer fails as [`StoreError::TimedOut`], which every
//! gateway answers as "system busy" at once. Bounding the store calls (not whole requests)
//! keeps the timer off requests the caches answer.

use crate::StoreError;
use crate::intercept::{Call, CallKind, Hook};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts the calls that read and bounds every call by `limit`.
pub(crate) struct Meter {
    reads: AtomicU64,
    limit: Duration,
}

impl Meter {
    pub(crate) fn new(limit: Duration) -> Self {
        Self {
            reads: AtomicU64::new(0),
            limit,
        }
    }

    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
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
            tokio::time::timeout(limit, run)
                .await
                .unwrap_or(Err(StoreError::TimedOut))
        }
    }
}
