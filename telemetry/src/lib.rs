//! Telemetry for both binaries.
//!
//! * [`init`] (feature `export`, on by default): the process's subscriber — the env filter
//!   (`RUST_LOG`), log lines as text or JSON (`EXAM_LOG_FORMAT=json|text`, default text), and,
//!   only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, an OpenTelemetry layer exporting spans over
//!   OTLP/HTTP (protobuf) in batches. Without the variable there is no exporter, no OpenTelemetry
//!   layer and no propagator: nothing is recorded or sent, and nothing is injected anywhere.
//!   With it, every log line within a span carries `trace_id` (and `span_id`).
//! * Propagation: W3C trace context (`traceparent`, `tracestate`) to and from plain string maps
//!   ([`inject`], [`set_parent`]) through the global propagator, so the libraries that carry
//!   the context (object metadata, Kafka headers, the in-process bus, CloudEvent headers) need
//!   only this crate without its `export` feature: the OpenTelemetry API, no SDK.
//! * [`http_request_span`]: the HTTP server span both binaries open per request, named by the
//!   matched route and continuing an incoming `traceparent`.

use std::collections::HashMap;

use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

#[cfg(feature = "export")]
mod export;
#[cfg(feature = "export")]
pub use export::{Guard, LogFormat, init, init_with, recording_subscriber};

/// The W3C trace-context header (and metadata key, and Kafka header) carrying the parent span.
pub const TRACEPARENT: &str = "traceparent";
/// Vendor-specific trace state travelling with [`TRACEPARENT`].
pub const TRACESTATE: &str = "tracestate";

/// `span`'s context as W3C trace-context entries (`traceparent`, and `tracestate` when there is
/// one). Empty when tracing is off (no propagator installed) or the span is not recorded.
pub fn inject(span: &tracing::Span) -> HashMap<String, String> {
    let cx = span.context();
    let mut carrier = HashMap::new();
    if cx.span().span_context().is_valid() {
        opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    }
    carrier
}

/// [`inject`] for the current span.
pub fn inject_current() -> HashMap<String, String> {
    inject(&tracing::Span::current())
}

/// Makes the remote context in `carrier` the parent of `span` (which must not have been entered
/// yet). Returns whether the carrier held a valid context; `false` leaves `span` where it was
/// (a child of the current span, or a root).
pub fn set_parent(span: &tracing::Span, carrier: &HashMap<String, String>) -> bool {
    if carrier.is_empty() {
        return false;
    }
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(carrier));
    if !cx.span().span_context().is_valid() {
        return false;
    }
    span.set_parent(cx).is_ok()
}

/// The trace id of `span` (32 hex digits), if tracing is on and it is recorded.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// The trace-context entries among `headers`, with `prefix` stripped from their names
/// (`""` for W3C's own headers, `"ce-"` for the CloudEvents distributed-tracing extension).
pub fn from_headers(headers: &http::HeaderMap, prefix: &str) -> HashMap<String, String> {
    [TRACEPARENT, TRACESTATE]
        .into_iter()
        .filter_map(|name| {
            let v = headers.get(format!("{prefix}{name}").as_str())?.to_str().ok()?;
            Some((name.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// The trace-context entries among string pairs whose names match case-insensitively, such as
/// Kafka record headers or object metadata (`X-Amz-Meta-Traceparent` counts as `traceparent`).
pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in pairs {
        let k = k.to_ascii_lowercase();
        let k = k.strip_prefix("x-amz-meta-").unwrap_or(&k);
        if k == TRACEPARENT || k == TRACESTATE {
            out.insert(k.to_owned(), v.trim().to_owned());
        }
    }
    out
}

/// The HTTP server span for one request: `otel.name` is `"<METHOD> <route>"` with the matched
/// route (`/api/v1/exams/{id}`, never the raw path, so names stay few), and a `traceparent`
/// the caller sent becomes its parent. The status is recorded by [`record_status`].
pub fn http_request_span(method: &http::Method, route: Option<&str>, path: &str, headers: &http::HeaderMap) -> tracing::Span {
    let route = route.unwrap_or("fallback");
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = route,
        url.path = path,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    set_parent(&span, &from_headers(headers, ""));
    span
}

/// Records the response status on a span from [`http_request_span`]; 5xx marks it an error.
pub fn record_status(span: &tracing::Span, status: http::StatusCode) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_context_is_found_in_headers_and_in_metadata_whatever_the_case() {
        let mut h = http::HeaderMap::new();
        h.insert("ce-traceparent", http::HeaderValue::from_static("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        h.insert("traceparent", http::HeaderValue::from_static("00-11111111111111111111111111111111-2222222222222222-01"));
        assert_eq!(from_headers(&h, "ce-")[TRACEPARENT], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assert_eq!(from_headers(&h, "")[TRACEPARENT], "00-11111111111111111111111111111111-2222222222222222-01");
        assert!(!from_headers(&h, "").contains_key(TRACESTATE));
        let meta = from_pairs([("X-Amz-Meta-Traceparent", "00-a-b-01"), ("n_mcq", "3")]);
        assert_eq!(meta.len(), 1);
        assert_eq!(meta[TRACEPARENT], "00-a-b-01");
    }

    #[test]
    fn without_a_propagator_nothing_is_injected_or_extracted() {
        // No `init`: the global propagator is the no-op one, as in a process with tracing off.
        let span = tracing::info_span!("x");
        assert!(inject(&span).is_empty());
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned())]);
        assert!(!set_parent(&span, &carrier));
        assert_eq!(trace_id(&span), None);
    }
}
