//! The server's clock. A running server reads the system clock; a test starts its server with a
//! [`Clock::fixed`] and moves it, so that deadlines, at-risk instants and dated states are
//! checked on instants worked out by hand. Nothing outside the tests can set it: the binary has
//! no flag or variable for it.
//!
//! The rules that depend on the date take "now" as an argument (`crm_domain::ticket`); the
//! ticket routes read it here.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// The system clock, or a fixed instant shared with the test that moves it.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `at` until it is [`set`](Clock::set) or
    /// [`advanced`](Clock::advance); clones share it.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(at.trunc_subsecs(6)))))
    }

    /// Now, at the precision both databases store (microseconds).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => crate::conventions::now(),
            Some(at) => *at.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Moves a fixed clock to `at`; the system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(cell) = &self.0 {
            *cell.lock().unwrap_or_else(PoisonError::into_inner) = at.trunc_subsecs(6);
        }
    }

    /// Moves a fixed clock on by `by`; the system clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Some(cell) = &self.0 {
            let mut at = cell.lock().unwrap_or_else(PoisonError::into_inner);
            *at += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2026-03-27T16:00:00Z").map(|t| t.with_timezone(&Utc));
        let start = start.unwrap_or_else(|e| panic!("{e}"));
        let clock = Clock::fixed(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(Duration::hours(2));
        assert_eq!(clock.now(), start + Duration::hours(2));
        clock.set(start);
        assert_eq!(shared.now(), start);
        let system = Clock::system();
        system.set(start);
        assert!(system.now() > start);
    }
}
