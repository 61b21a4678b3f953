//! How often and how long to wait before repeating a call that DingTalk refused as busy.

use std::time::Duration;

/// Bounded retries with capped exponential backoff and jitter, for "system busy" answers
/// (legacy `-1`, new gateway `system.busy`). DingTalk's own advice for `-1` is "retry, at most 3
/// times" (WIRE.md §B2).
///
/// Retry `n` (0-based) waits between half and all of `min(max_delay, base_delay × 2ⁿ)`, chosen at
/// random, so clients that were refused together do not come back together.
///
/// ```
/// use dingdir_client::RetryPolicy;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_retries, 3);
/// let d = policy.delay(1);
/// assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 3); 0 never retries.
    pub max_retries: u32,
    /// The ceiling of the first retry's wait (default 200 ms).
    pub base_delay: Duration,
    /// The largest ceiling any retry waits (default 5 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The ceiling of retry `retry`'s wait: `min(max_delay, base_delay × 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The wait before retry `retry` (0-based): jittered in `[ceiling / 2, ceiling]`.
    pub fn delay(&self, retry: u32) -> Duration {
        // A failing OS random source only removes the jitter.
        self.delay_with(retry, getrandom::u64().unwrap_or(0))
    }

    fn delay_with(&self, retry: u32, random: u64) -> Duration {
        let ceiling = self.ceiling(retry);
        let half = ceiling / 2;
        let span = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = if span == u64::MAX { random } else { random % (span + 1) };
        half + Duration::from_nanos(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_stops_at_the_cap() {
        let p = RetryPolicy::default();
        let ms = |n| p.ceiling(n).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(4), ms(5)],
            [200, 400, 800, 1600, 3200, 5000]
        );
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(5), "no overflow");
    }

    #[test]
    fn jitter_stays_within_half_and_all_of_the_ceiling() {
        let p = RetryPolicy::default();
        for retry in [0, 1, 2, 3, 10, 64, u32::MAX] {
            let ceiling = p.ceiling(retry);
            for random in [0, 1, 12_345, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
                let d = p.delay_with(retry, random);
                assert!(d >= ceiling / 2 && d <= ceiling, "retry {retry} random {random}: {d:?}");
            }
            let d = p.delay(retry);
            assert!(d >= ceiling / 2 && d <= ceiling, "retry {retry}: {d:?}");
        }
        assert_eq!(p.delay_with(0, 0), Duration::from_millis(100));
    }

    #[test]
    fn a_zero_base_never_waits() {
        let p = RetryPolicy {
            base_delay: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(3), Duration::ZERO);
    }
}
