//! How many WebSockets may be open: per client address and in total (`EXAM_WS_MAX_PER_CLIENT`,
//! `EXAM_WS_MAX_TOTAL`). A socket holds a [`SocketPermit`] for its whole life; dropping it (the
//! session ending, however it ends) gives the place back. Checked before upgrading, so a
//! refused client gets a readable HTTP answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::error::AppError;

/// Largest message a client may send (an answer frame is under 1 KiB). Larger ones, also
/// fragmented, close the socket instead of being buffered.
pub const MAX_MESSAGE: usize = 16 * 1024;

pub struct SocketLimits {
    per_client: usize,
    total: usize,
    open: Mutex<(usize, HashMap<String, usize>)>,
}

pub struct SocketPermit {
    limits: Arc<SocketLimits>,
    client: String,
}

impl SocketLimits {
    pub fn new(per_client: usize, total: usize) -> Arc<Self> {
        Arc::new(SocketLimits { per_client, total, open: Mutex::default() })
    }

    /// A place for one more socket from `client`, or the reason there is none.
    pub fn acquire(self: &Arc<Self>, client: &str) -> Result<SocketPermit, AppError> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.0 >= self.total {
            tracing::warn!(open = open.0, "websocket refused: the server's limit is reached");
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server has too many live connections; please try again in a moment.",
            ));
        }
        let mine = open.1.get(client).copied().unwrap_or(0);
        if mine >= self.per_client {
            tracing::warn!(client.address = %client, open = mine, "websocket refused: too many from one address");
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many live connections from this address. Close some tabs and try again.",
            ));
        }
        open.0 += 1;
        open.1.insert(client.to_owned(), mine + 1);
        Ok(SocketPermit { limits: self.clone(), client: client.to_owned() })
    }

    /// Sockets open now (all clients).
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.1.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_client_and_in_total_and_given_back() {
        let limits = SocketLimits::new(2, 3);
        let a1 = limits.acquire("a").unwrap();
        let _a2 = limits.acquire("a").unwrap();
        assert_eq!(limits.acquire("a").err().map(|e| e.status), Some(StatusCode::TOO_MANY_REQUESTS));
        let _b1 = limits.acquire("b").unwrap();
        assert_eq!(limits.acquire("c").err().map(|e| e.status), Some(StatusCode::SERVICE_UNAVAILABLE));
        drop(a1);
        assert_eq!(limits.open(), 2);
        assert!(limits.acquire("a").is_ok());
    }
}
