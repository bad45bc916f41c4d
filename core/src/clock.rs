//! The clock, injected so deadlines and windows can be tested by moving time instead of
//! sleeping. The domain stays pure: it is handed `now`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> SystemTime;

    /// RFC 3339 UTC with milliseconds (sorts lexicographically).
    fn now_rfc3339(&self) -> String {
        exam_domain::sitting::format_time(self.now())
    }
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn at(rfc3339: &str) -> Self {
        let t = exam_domain::sitting::parse_time(rfc3339).unwrap_or(SystemTime::UNIX_EPOCH);
        ManualClock(Arc::new(Mutex::new(t)))
    }
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
