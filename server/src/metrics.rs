//! The gateway's metrics: Prometheus text format on `/metrics`, on a listener of its own
//! (`EXAM_METRICS_ADDR`), so the Ingress, which routes to the main port, never exposes it.
//!
//! [`Metrics`] holds the registry (prefix `exam_`) with the core's families
//! ([`exam_core::metrics::CoreMetrics`]: store, bus, generation, extraction, answers,
//! submissions) and the gateway's own: requests by *matched route* (axum's `MatchedPath`, so
//! `/api/v1/exams/{id}`, never the raw path: bounded cardinality), method and status, and the
//! open WebSockets by kind. It is built once in `Application::build` and passed down; nothing
//! here is global, so each gateway in a test process counts only its own work.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use exam_core::metrics::{CoreMetrics, Families, PREFIX};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route pattern that matched, `fallback` for static files and unknown paths.
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SocketLabels {
    /// `live` (`/api/v1/live`) or `attempt` (`/api/v1/exams/{id}/attempt`).
    kind: &'static str,
}

/// Which WebSocket a [`SocketOpen`] counts.
#[derive(Debug, Clone, Copy)]
pub enum SocketKind {
    Live,
    Attempt,
}

fn request_buckets() -> Histogram {
    Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
}

/// The registry and the families the gateway records itself. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    families: Families,
    core: CoreMetrics,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    sockets: Family<SocketLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let core = CoreMetrics::default();
        let mut families = core.register(&mut registry);
        let requests: Family<RequestLabels, Histogram, fn() -> Histogram> = Family::new_with_constructor(request_buckets);
        let help = "HTTP requests by matched route, method and status";
        families.add(&mut registry, "http_request_duration_seconds", help, requests.clone());
        let sockets = Family::<SocketLabels, Gauge>::default();
        families.add(&mut registry, "websockets_open", "WebSockets open now, by kind", sockets.clone());
        for kind in ["live", "attempt"] {
            // Present at zero from the start, so dashboards and alerts see the series.
            drop(sockets.get_or_create(&SocketLabels { kind }));
        }
        Metrics { registry: Arc::new(registry), families, core, requests, sockets }
    }

    /// Every family registered, as exported (name, type); see `helm/tests/metric-names.txt`.
    pub fn families(&self) -> &Families {
        &self.families
    }

    /// The families the core and the adapters record into.
    pub fn core(&self) -> &CoreMetrics {
        &self.core
    }

    /// Counts one open socket of `kind` until the returned guard is dropped.
    pub fn socket_open(&self, kind: SocketKind) -> SocketOpen {
        let kind = match kind {
            SocketKind::Live => "live",
            SocketKind::Attempt => "attempt",
        };
        let gauge = self.sockets.get_or_create(&SocketLabels { kind }).clone();
        gauge.inc();
        SocketOpen { gauge }
    }

    /// Everything, in the Prometheus text format (0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "could not encode the metrics");
        }
        out
    }

    /// The router of the metrics listener: `/metrics` only.
    pub fn router(&self) -> axum::Router {
        axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(self.clone())
    }
}

/// Holds one place in `exam_websockets_open`.
pub struct SocketOpen {
    gauge: Gauge,
}

impl Drop for SocketOpen {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

async fn scrape(State(m): State<Metrics>) -> Response {
    ([(header::CONTENT_TYPE, prometheus_client::encoding::prometheus_text::CONTENT_TYPE)], m.render()).into_response()
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: times every request under its matched route (`Router::layer`, so the route is
/// known), method and status.
pub async fn track(State(m): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "fallback".to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels { route, method, status: response.status().as_u16() };
    m.requests.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}

/// Serves [`Metrics::router`] on `listener` until the task is aborted.
pub fn serve(listener: tokio::net::TcpListener, metrics: &Metrics) -> tokio::task::JoinHandle<()> {
    let router = metrics.router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dashboard test (helm/tests) reads this list: it must be exactly what is registered.
    #[test]
    fn the_registered_families_are_the_listed_ones() {
        let list = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../helm/tests/metric-names.txt")).unwrap();
        let mut listed: Vec<(String, String)> = list
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w[2..].contains(&"gateway").then(|| (w[0].to_owned(), w[1].to_owned()))
            })
            .collect();
        listed.sort();
        assert_eq!(Metrics::new().families().sorted(), listed);
    }
}
