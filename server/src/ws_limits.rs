//! How many WebSockets may be open: per client address and in total (`EXAM_WS_MAX_PER_CLIENT`,
//! `EXAM_WS_MAX_TOTAL`), and attempt sockets per student and exam ([`MAX_PER_STUDENT`]). A
//! socket holds a [`SocketPermit`] for its whole life; dropping it (the session ending, however
//! it ends) gives the place back. Checked before upgrading, so a refused client gets a readable
//! HTTP answer.
//!
//! The buffer sizes are what an idle socket costs (see ARCHITECTURE.md, "Performance"):
//! tungstenite's defaults (128 KiB read buffer, zero-filled on the first read) made an idle
//! attempt socket cost ~130 KiB of resident memory; the protocol's frames are well under 1 KiB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::error::AppError;

/// Largest message a client may send (an answer frame is under 1 KiB). Larger ones, also
/// fragmented, close the socket instead of being buffered.
pub const MAX_MESSAGE: usize = 16 * 1024;

/// Bytes a socket reads at a time. Larger frames are read in several reads into a buffer that
/// grows to the frame (at most [`MAX_MESSAGE`]); an idle socket keeps only this much (it is
/// zero-filled, so resident). A client's frames are an answer (~90 bytes), `submit` and pongs:
/// one read each.
pub const READ_BUFFER: usize = 256;

/// Frames waiting for a client that does not read (past the kernel's send buffer): past this
/// the send fails and the socket is closed. Live frames are small; an attempt socket's largest
/// frame is the `result` report (a review of 200 long questions is a few MiB).
pub const MAX_WRITE_BUFFER_LIVE: usize = 256 * 1024;
pub const MAX_WRITE_BUFFER_ATTEMPT: usize = 16 * 1024 * 1024;

/// Attempt sockets one student may have open on one exam at once (tabs, windows, and a
/// reconnect overlapping a socket the server has not yet seen die). One more is refused (429).
pub const MAX_PER_STUDENT: usize = 4;

/// Raises the soft limit on open files (`RLIMIT_NOFILE`) to the hard one, first thing at start:
/// every socket is a file, and the usual soft limit (1,024) is reached long before
/// `EXAM_WS_MAX_TOTAL`. Returns the limit in force (`None` when it could not be read or set).
pub fn raise_open_files_limit() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}

pub struct SocketLimits {
    per_client: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_client: HashMap<String, usize>,
    per_student: HashMap<String, usize>,
}

pub struct SocketPermit {
    limits: Arc<SocketLimits>,
    client: String,
    student: Option<String>,
}

fn take(map: &mut HashMap<String, usize>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl SocketLimits {
    pub fn new(per_client: usize, total: usize) -> Arc<Self> {
        Arc::new(SocketLimits { per_client, total, open: Mutex::default() })
    }

    /// A place for one more socket from `client`, or the reason there is none.
    pub fn acquire(self: &Arc<Self>, client: &str) -> Result<SocketPermit, AppError> {
        self.acquire_inner(client, None)
    }

    /// A place for one more attempt socket of `student` (a key naming the exam and the
    /// student) from `client`: also at most [`MAX_PER_STUDENT`] for that student.
    pub fn acquire_attempt(self: &Arc<Self>, client: &str, student: String) -> Result<SocketPermit, AppError> {
        self.acquire_inner(client, Some(student))
    }

    fn acquire_inner(self: &Arc<Self>, client: &str, student: Option<String>) -> Result<SocketPermit, AppError> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.total >= self.total {
            tracing::warn!(open = open.total, "websocket refused: the server's limit is reached");
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server has too many live connections; please try again in a moment.",
            ));
        }
        let mine = open.per_client.get(client).copied().unwrap_or(0);
        if mine >= self.per_client {
            tracing::warn!(client.address = %client, open = mine, "websocket refused: too many from one address");
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many live connections from this address. Close some tabs and try again.",
            ));
        }
        if let Some(key) = &student {
            let theirs = open.per_student.get(key).copied().unwrap_or(0);
            if theirs >= MAX_PER_STUDENT {
                tracing::warn!(open = theirs, "attempt socket refused: too many for one student");
                return Err(AppError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "This exam is open in too many tabs or windows. Close one and reload this page.",
                ));
            }
            open.per_student.insert(key.clone(), theirs + 1);
        }
        open.total += 1;
        open.per_client.insert(client.to_owned(), mine + 1);
        Ok(SocketPermit { limits: self.clone(), client: client.to_owned(), student })
    }

    /// Sockets open now (all clients).
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).total
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        take(&mut open.per_client, &self.client);
        if let Some(student) = &self.student {
            take(&mut open.per_student, student);
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

    #[test]
    fn one_student_gets_a_bounded_number_of_attempt_sockets_on_one_exam() {
        let limits = SocketLimits::new(100, 100);
        let ada: Vec<_> = (0..MAX_PER_STUDENT).map(|_| limits.acquire_attempt("a", "e1/ada".into()).unwrap()).collect();
        assert_eq!(limits.acquire_attempt("b", "e1/ada".into()).err().map(|e| e.status), Some(StatusCode::TOO_MANY_REQUESTS));
        // Other students, the same student on another exam, and live sockets are not affected.
        assert!(limits.acquire_attempt("a", "e1/bob".into()).is_ok());
        assert!(limits.acquire_attempt("a", "e2/ada".into()).is_ok());
        assert!(limits.acquire("a").is_ok());
        drop(ada);
        let again = limits.acquire_attempt("a", "e1/ada".into()).unwrap();
        assert_eq!(limits.open(), 1);
        drop(again);
        assert_eq!(limits.open(), 0);
    }
}
