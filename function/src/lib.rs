//! The generator function: turns uploaded documents into question banks.
//!
//! Deployed as a Knative Service: a KafkaSource reads the uploads topic (MinIO's bucket
//! notifications) and POSTs each record to `/` as a binary-mode CloudEvent whose body is the
//! record value. The response tells KafkaSource what to do:
//!
//! | outcome | status | KafkaSource |
//! |---|---|---|
//! | generated, failed for a readable reason, already done, or ignored (not an upload) | 200 | done |
//! | not a CloudEvent / not a bucket notification | 400 | never retried (dead-letter sink if set) |
//! | store or broker unreachable | 503 | retried with backoff |
//!
//! Without Knative, `generator-fn consume` reads the uploads topic directly as consumer group
//! `exam-generator` and does the same work.
//!
//! CloudEvent headers are parsed by hand and leniently on purpose: KafkaSource copies the
//! record key into `ce-key` without encoding, so an object key with non-ASCII characters makes
//! a header that strict parsers (cloudevents-sdk's HTTP binding among them) reject with 400 —
//! which KafkaSource never retries. We only need `ce-specversion` (to know it is a CloudEvent)
//! and `ce-id` (for logs); the object key is taken from the body.
//!
//! [`metered_router`] adds `/metrics` ([`metrics`]) on the same port: a Knative Service has
//! one container port.

pub mod metrics;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use exam_core::pipeline::{Outcome, Pipeline, PipelineError};
use serde_json::{Value, json};
use tracing::Instrument as _;

#[derive(Clone)]
pub struct FnState {
    pub pipeline: Arc<Pipeline>,
    pub store: Arc<dyn exam_core::store::ObjectStore>,
    pub bus: Arc<dyn exam_core::bus::EventBus>,
}

pub fn router(state: FnState) -> Router {
    Router::new()
        .route("/", post(receive))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        // Bucket notifications are small; refuse anything absurd.
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(RequestSpan).on_response(RequestSpan))
        .with_state(state)
}

/// The HTTP server span of each request (`exam_telemetry::http_request_span`); probes and
/// scrapes get none.
#[derive(Clone, Copy)]
struct RequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> tracing::Span {
        let route = req.extensions().get::<axum::extract::MatchedPath>().map(axum::extract::MatchedPath::as_str);
        if matches!(route, Some("/healthz" | "/readyz" | "/metrics")) {
            return tracing::Span::none();
        }
        exam_telemetry::http_request_span(req.method(), route, req.uri().path(), req.headers())
    }
}

impl<B> tower_http::trace::OnResponse<B> for RequestSpan {
    fn on_response(self, response: &axum::http::Response<B>, _latency: std::time::Duration, span: &tracing::Span) {
        exam_telemetry::record_status(span, response.status());
    }
}

/// [`router`] plus `/metrics` (Prometheus text format), every request timed by route.
pub fn metered_router(state: FnState, metrics: metrics::FnMetrics) -> Router {
    router(state)
        .merge(Router::new().route("/metrics", get(metrics::scrape)).with_state(metrics.clone()))
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
}

async fn readyz(State(s): State<FnState>) -> Response {
    if let Err(e) = s.store.check().await {
        return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
    }
    if let Err(e) = s.bus.check().await {
        return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
    }
    "ready".into_response()
}

/// The event's id (for logs) and data (the Kafka record value).
#[derive(Debug, PartialEq)]
pub struct CloudEvent {
    pub id: String,
    pub data: Bytes,
}

/// Binary mode (`ce-*` headers, body = data, Content-Type optional) or structured mode
/// (`application/cloudevents+json` with a JSON `data` member).
pub fn cloud_event(headers: &HeaderMap, body: Bytes) -> Result<CloudEvent, String> {
    let lossy = |name: &str| headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let structured = headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/cloudevents+json"));
    if structured {
        let v: Value = serde_json::from_slice(&body).map_err(|e| format!("structured CloudEvent is not JSON: {e}"))?;
        if v.get("specversion").and_then(Value::as_str).is_none() {
            return Err("structured CloudEvent without specversion".into());
        }
        let id = v.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let data = match v.get("data") {
            Some(Value::String(s)) => Bytes::from(s.clone()),
            Some(d) => Bytes::from(serde_json::to_vec(d).map_err(|e| e.to_string())?),
            None => return Err("structured CloudEvent without data (data_base64 is not supported)".into()),
        };
        return Ok(CloudEvent { id, data });
    }
    if lossy("ce-specversion").is_none() {
        return Err("not a CloudEvent: missing ce-specversion header".into());
    }
    Ok(CloudEvent { id: lossy("ce-id").unwrap_or_default(), data: body })
}

fn describe(o: &Outcome) -> Value {
    match o {
        Outcome::Generated { exam_id, questions } => json!({"exam_id": exam_id, "result": "generated", "questions": questions}),
        Outcome::Failed { exam_id, reason } => json!({"exam_id": exam_id, "result": "failed", "reason": reason}),
        Outcome::AlreadyDone { exam_id } => json!({"exam_id": exam_id, "result": "already_done"}),
        Outcome::Ignored(why) => json!({"result": "ignored", "reason": why}),
    }
}

async fn receive(State(s): State<FnState>, headers: HeaderMap, body: Bytes) -> Response {
    let event = match cloud_event(&headers, body) {
        Ok(e) => e,
        Err(reason) => {
            tracing::warn!(%reason, "refusing request");
            return (StatusCode::BAD_REQUEST, Json(json!({"error": reason}))).into_response();
        }
    };
    // Instrumented, not entered: a guard held across `.await` would put other requests' log
    // lines into this span while this one waits (tests/spans.rs).
    let span = tracing::info_span!("cloudevent", otel.name = "handle upload notification", otel.kind = "consumer", ce.id = %event.id);
    exam_telemetry::set_parent(&span, &trace_parent(&headers, &event.data));
    handle(&s, &event.data).instrument(span).await
}

/// The upload's trace context: the `traceparent` the gateway wrote into the object's metadata
/// (MinIO's notification carries it in `userMetadata`), so that one upload is one trace
/// whatever delivered the notification; else the CloudEvents distributed-tracing extension
/// (`ce-traceparent`: KafkaSource turns the Kafka record's headers into extensions); else the
/// HTTP request's own `traceparent`. Empty when none is there (then the handler's span is a
/// child of the request's).
pub fn trace_parent(headers: &HeaderMap, data: &[u8]) -> std::collections::HashMap<String, String> {
    [exam_core::pipeline::trace_context(data), exam_telemetry::from_headers(headers, "ce-"), exam_telemetry::from_headers(headers, "")]
        .into_iter()
        .find(|c| c.contains_key(exam_telemetry::TRACEPARENT))
        .unwrap_or_default()
}

async fn handle(s: &FnState, data: &[u8]) -> Response {
    match s.pipeline.handle_notification(data).await {
        Ok(outcomes) => {
            tracing::info!(outcomes = ?outcomes, "event handled");
            (StatusCode::OK, Json(json!({"outcomes": outcomes.iter().map(describe).collect::<Vec<_>>()}))).into_response()
        }
        Err(PipelineError::Poison(reason)) => {
            tracing::warn!(%reason, "poison event");
            (StatusCode::BAD_REQUEST, Json(json!({"error": reason}))).into_response()
        }
        Err(PipelineError::Transient(reason)) => {
            tracing::warn!(%reason, "temporary failure; asking for a retry");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": reason}))).into_response()
        }
    }
}
