//! Failed-attempt counting for sign-in: per client address and per account, in a sliding
//! window, per replica. Only failures count, so a class signing in behind one NAT address is
//! not locked out by its own successes, and an account under attack is protected no matter how
//! many addresses the attacker uses.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    window: Duration,
    per_address: usize,
    per_account: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter::new(Duration::from_secs(15 * 60), 50, 10)
    }
}

impl FailureLimiter {
    pub fn new(window: Duration, per_address: usize, per_account: usize) -> Self {
        FailureLimiter { window, per_address, per_account, failures: Mutex::default() }
    }

    fn keys(address: &str, account: &str) -> [(String, bool); 2] {
        [(format!("addr:{address}"), true), (format!("acct:{account}"), false)]
    }

    /// `Some(seconds to wait)` when either counter is full.
    pub fn blocked(&self, address: &str, account: &str) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let mut wait = None;
        for (key, is_address) in Self::keys(address, account) {
            let Some(q) = map.get_mut(&key) else { continue };
            while q.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                q.pop_front();
            }
            let max = if is_address { self.per_address } else { self.per_account };
            if q.len() >= max
                && let Some(oldest) = q.front()
            {
                let secs = self.window.saturating_sub(now.duration_since(*oldest)).as_secs().max(1);
                wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
            }
        }
        wait
    }

    pub fn failed(&self, address: &str, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < window));
        }
        for (key, _) in Self::keys(address, account) {
            map.entry(key).or_default().push_back(Instant::now());
        }
    }

    /// A success clears the account's counter (not the address's).
    pub fn succeeded(&self, account: &str) {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&format!("acct:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_locks_after_its_failures_and_an_address_after_many_more() {
        let l = FailureLimiter::new(Duration::from_secs(60), 5, 2);
        assert_eq!(l.blocked("1.2.3.4", "ada"), None);
        l.failed("1.2.3.4", "ada");
        l.failed("5.6.7.8", "ada");
        assert!(l.blocked("9.9.9.9", "ada").is_some(), "the account is protected from any address");
        assert_eq!(l.blocked("1.2.3.4", "bob"), None, "others at the same address still get in");
        for i in 0..4 {
            l.failed("1.2.3.4", &format!("user{i}"));
        }
        assert!(l.blocked("1.2.3.4", "carol").is_some(), "five failures from one address");
        l.succeeded("ada");
        assert_eq!(l.blocked("9.9.9.9", "ada"), None);
    }
}
