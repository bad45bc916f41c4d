//! Shared handler state.

use std::sync::Arc;

use axum::extract::FromRef;
use exam_core::service::Platform;
use leptos::config::LeptosOptions;

use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    /// The use-cases; everything handlers do goes through here.
    pub platform: Arc<Platform>,
    /// Settings the handlers need (upload limit, spool directory).
    pub settings: Arc<Settings>,
    /// For the Leptos renderer and static files.
    pub leptos: LeptosOptions,
    /// Failed sign-ins per client address and account.
    pub limiter: Arc<crate::auth::limits::FailureLimiter>,
    /// Wrong join codes per client address and exam.
    pub join_limiter: Arc<crate::auth::limits::FailureLimiter>,
    /// Open WebSockets per client address and in total.
    pub sockets: Arc<crate::ws_limits::SocketLimits>,
    /// Serving, draining or stopping (`/readyz`, and every socket closes when stopping).
    pub shutdown: crate::shutdown::Shutdown,
    /// Request timings, open sockets and the core's families (`/metrics`).
    pub metrics: crate::metrics::Metrics,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos.clone()
    }
}
