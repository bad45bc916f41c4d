//! The function's metrics: Prometheus text format on `/metrics` of its one HTTP port (a
//! Knative Service may declare a single container port; the KafkaSource only ever posts to
//! `/`, and the Service is cluster-local).
//!
//! [`FnMetrics`] holds the registry (prefix `exam_`) with the core's families (generation
//! by stage and outcome, PDF extraction, store operations, publishes) and the function's
//! requests by matched route, method and status. Made once in `main` and passed down.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use exam_core::metrics::{CoreMetrics, Families, PREFIX};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

fn request_buckets() -> Histogram {
    // A request to `/` lasts as long as one document's generation.
    Histogram::new([0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0])
}

/// The registry and the request family. Cheap to clone.
#[derive(Clone)]
pub struct FnMetrics {
    registry: Arc<Registry>,
    families: Families,
    core: CoreMetrics,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Default for FnMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl FnMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let core = CoreMetrics::default();
        let mut families = core.register(&mut registry);
        let requests: Family<RequestLabels, Histogram, fn() -> Histogram> = Family::new_with_constructor(request_buckets);
        let help = "HTTP requests by matched route, method and status";
        families.add(&mut registry, "http_request_duration_seconds", help, requests.clone());
        FnMetrics { registry: Arc::new(registry), families, core, requests }
    }

    /// Every family registered, as exported (name, type); see `helm/tests/metric-names.txt`.
    pub fn families(&self) -> &Families {
        &self.families
    }

    /// What the pipeline, the generation and the adapters record into.
    pub fn core(&self) -> &CoreMetrics {
        &self.core
    }

    /// Everything, in the Prometheus text format (0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "could not encode the metrics");
        }
        out
    }
}

pub(crate) async fn scrape(State(m): State<FnMetrics>) -> Response {
    ([(header::CONTENT_TYPE, prometheus_client::encoding::prometheus_text::CONTENT_TYPE)], m.render()).into_response()
}

/// Middleware: times every request under its matched route, method and status.
pub(crate) async fn track(State(m): State<FnMetrics>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "fallback".to_owned());
    let method = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels { route, method, status: response.status().as_u16() };
    m.requests.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}
