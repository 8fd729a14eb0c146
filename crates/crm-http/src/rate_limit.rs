//! A per-process limit on how often one client may try credentials, so that a password cannot
//! be guessed at network speed. Each process counts on its own: with N processes behind a load
//! balancer, a client gets at most N times the limit, which still rules out brute force.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::problem::ApiError;

/// At most `limit` attempts per key in each window of `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt for `key`.
    ///
    /// # Errors
    /// 429 with the seconds until the window ends once the key used up its attempts.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), ApiError> {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 10_000 {
            // Forget finished windows so that many distinct keys cannot grow the map without bound.
            let window = self.window;
            windows.retain(|_, (started, _)| now.duration_since(*started) < window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let remaining = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(ApiError::TooManyRequests { retry_after_seconds: remaining.as_secs().max(1) });
        }
        entry.1 += 1;
        Ok(())
    }

    /// Takes back one attempt of `key`: an attempt that turned out well does not count.
    pub fn forgive(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = windows.get_mut(key) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

/// The limits of the authentication endpoints.
pub struct AuthLimits {
    /// Logins per client address and email: 10 a minute.
    pub login: RateLimiter,
    /// Failed logins per client address, whatever the email: 30 a minute. Each attempt counts
    /// when it starts (so that a burst of concurrent ones is counted at once) and is taken back
    /// when it succeeds.
    pub failed_logins_per_address: RateLimiter,
    /// Signups and refreshes per client address: 30 a minute.
    pub per_address: RateLimiter,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            login: RateLimiter::new(10, Duration::from_secs(60)),
            failed_logins_per_address: RateLimiter::new(30, Duration::from_secs(60)),
            per_address: RateLimiter::new(30, Duration::from_secs(60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_limit_per_window_then_waits() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let start = Instant::now();
        assert!(limiter.check_at("a", start).is_ok());
        assert!(limiter.check_at("a", start).is_ok());
        match limiter.check_at("a", start + Duration::from_secs(15)) {
            Err(ApiError::TooManyRequests { retry_after_seconds }) => assert_eq!(retry_after_seconds, 45),
            other => panic!("{other:?}"),
        }
        assert!(limiter.check_at("b", start).is_ok(), "keys are counted apart");
        assert!(limiter.check_at("a", start + Duration::from_secs(60)).is_ok(), "a new window starts afresh");
    }

    #[test]
    fn a_forgiven_attempt_does_not_count() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60));
        let start = Instant::now();
        assert!(limiter.check_at("a", start).is_ok());
        limiter.forgive("a");
        assert!(limiter.check_at("a", start).is_ok());
        assert!(limiter.check_at("a", start).is_err());
    }
}
