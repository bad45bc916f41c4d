//! Graceful shutdown, in the order Kubernetes needs it. On SIGTERM the gateway first *drains*:
//! `/readyz` answers 503 so the Service stops sending new traffic, while everything keeps
//! working for `EXAM_SHUTDOWN_DELAY_SECS` (endpoints take a few seconds to update). Then it
//! *stops*: no new connections, every open WebSocket is closed with code 1012 ("service
//! restart", the page reconnects, to another replica), and in-flight requests get up to
//! `EXAM_SHUTDOWN_GRACE_SECS` to finish before the process exits. Answers are stored as they
//! arrive, so nothing a student sent is lost by closing their socket.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Serving,
    Draining,
    Stopping,
}

/// The gateway's phase, shared by the accept loop, `/readyz` and every socket.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<Phase>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown { tx: Arc::new(watch::channel(Phase::Serving).0) }
    }
}

impl Shutdown {
    pub fn phase(&self) -> Phase {
        *self.tx.borrow()
    }

    pub fn set(&self, phase: Phase) {
        self.tx.send_replace(phase);
    }

    /// Resolves once the gateway is stopping (at once if it is).
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            let _ = rx.wait_for(|p| *p == Phase::Stopping).await;
        }
    }
}

/// WebSocket close code 1012: the service is restarting; reconnect.
pub const SERVICE_RESTART: u16 = 1012;

/// The close frame every open socket gets when the gateway stops.
pub fn restart_frame() -> Message {
    Message::Close(Some(CloseFrame { code: SERVICE_RESTART, reason: "The server is restarting; reconnecting.".into() }))
}
