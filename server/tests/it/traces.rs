//! One upload is one trace, across processes: the gateway binary and the generator-function
//! binary export spans over OTLP/HTTP (protobuf) to a receiver this test runs on loopback,
//! which decodes the real protocol (`ExportTraceServiceRequest`). Between them are tansu
//! (Kafka) and s3s-fs (S3), as in `real_pipeline`: the trace context travels in the object's
//! user metadata (upload → bucket notification → function), as a Kafka record header
//! (notification, announcements) and back into the gateway's handling of the announcement.
//!
//! The function batches its spans for an hour: they reach the receiver only through the flush
//! when it stops (SIGTERM), so the test also checks that shutdown exports what is queued.

use crate::common;
use crate::real;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use common::{TestApp, fixture};
use exam_core::bus::{EventBus, Group};
use exam_core::store::ObjectStore as _;
use futures_util::StreamExt;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message as _;
use serde_json::Value;

/// One span as the receiver decoded it.
#[derive(Debug, Clone)]
struct Seen {
    service: String,
    name: String,
    trace: String,
    id: String,
    /// Empty for a root span.
    parent: String,
    kind: SpanKind,
    attributes: HashMap<String, String>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn text(v: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Any::StringValue(s)) => s.clone(),
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        Some(Any::DoubleValue(d)) => d.to_string(),
        _ => String::new(),
    }
}

/// An OTLP/HTTP trace receiver on loopback: `POST /v1/traces`, protobuf bodies.
struct Receiver {
    endpoint: String,
    spans: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(spans): State<Arc<Mutex<Vec<Seen>>>>, headers: HeaderMap, body: Bytes) -> axum::response::Response {
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/x-protobuf") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "protobuf only").into_response();
    }
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, "not an ExportTraceServiceRequest").into_response();
    };
    let mut seen = Vec::new();
    for rs in request.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .map(|a| text(a.value.as_ref()))
            .unwrap_or_default();
        for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
            seen.push(Seen {
                service: service.clone(),
                name: span.name.clone(),
                trace: hex(&span.trace_id),
                id: hex(&span.span_id),
                parent: hex(&span.parent_span_id),
                kind: SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified),
                attributes: span.attributes.iter().map(|a| (a.key.clone(), text(a.value.as_ref()))).collect(),
            });
        }
    }
    spans.lock().unwrap().extend(seen);
    ([(header::CONTENT_TYPE, "application/x-protobuf")], ExportTraceServiceResponse::default().encode_to_vec()).into_response()
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let spans = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new().route("/v1/traces", axum::routing::post(receive)).with_state(spans.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { endpoint, spans, task }
    }

    fn spans(&self) -> Vec<Seen> {
        self.spans.lock().unwrap().clone()
    }

    /// Waits (at most two minutes) until `found` finds something among the spans received.
    async fn until<T>(&self, what: &str, found: impl Fn(&[Seen]) -> Option<T>) -> T {
        for _ in 0..1200 {
            if let Some(t) = found(&self.spans()) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never received {what}; spans: {:#?}", self.spans());
    }
}

/// Whether `span` is below the span `ancestor` (through the spans received: the gateway's
/// session layer has a span of its own between a request and its handler's spans).
fn descends(spans: &[Seen], span: &Seen, ancestor: &str) -> bool {
    let mut parent = span.parent.clone();
    for _ in 0..32 {
        if parent == ancestor {
            return true;
        }
        match spans.iter().find(|s| s.id == parent && s.trace == span.trace) {
            Some(p) => parent = p.parent.clone(),
            None => return false,
        }
    }
    false
}

fn one<'a>(spans: &'a [Seen], what: &str, pred: impl Fn(&Seen) -> bool) -> &'a Seen {
    let found: Vec<&Seen> = spans.iter().filter(|s| pred(s)).collect();
    assert_eq!(found.len(), 1, "exactly one {what} expected: {found:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_upload_is_one_trace_across_the_gateway_the_function_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let _logs = real::capture_logs(dir.path());
    let otlp = Receiver::start().await;
    let kafka = real::Kafka::start().await;
    let s3 = real::S3::start(&dir.path().join("s3")).await;
    let gateway_env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint.clone()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("EXAM_LOG_FORMAT", "json".into()),
    ];
    let (_gateway, gw) = real::start_gateway_with(&kafka, &s3, dir.path(), &gateway_env).await;
    let function_env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint.clone()),
        ("OTEL_SERVICE_NAME", "generator-under-test".into()),
        // Nothing is exported before the function stops: only the flush on shutdown sends.
        ("OTEL_BSP_SCHEDULE_DELAY", "3600000".into()),
    ];
    let (function_proc, function) = real::start_generator_with(&kafka, &s3, "serve", &function_env).await;
    let app = TestApp::remote(&gw).await;
    let bus = exam_backends::KafkaBus::new(kafka.settings()).unwrap();
    let mut uploads = bus.subscribe(real::UPLOADS, Group::Shared("test-kafkasource".into())).await.unwrap();
    let mut live = app.ws("/api/v1/live").await;

    // 1. The upload: the gateway's request span and its child that stores the document, whose
    //    context is now in the object's metadata.
    let r = app.upload("lecture.pdf", fixture("lecture.pdf"), &[("mcq", "2"), ("true_false", "1")]).await;
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let (request, put) = otlp
        .until("the gateway's upload spans", |spans| {
            let request = spans.iter().find(|s| s.service == "exam-gateway" && s.name == "POST /api/v1/exams")?;
            let put = spans.iter().find(|s| s.name == "store upload" && descends(spans, s, &request.id))?;
            Some((request.clone(), put.clone()))
        })
        .await;
    assert_eq!(request.kind, SpanKind::Server);
    assert_eq!(request.attributes.get("http.route").map(String::as_str), Some("/api/v1/exams"));
    assert_eq!(request.attributes.get("http.response.status_code").map(String::as_str), Some("202"));
    assert_eq!(put.trace, request.trace);
    let trace = request.trace.clone();
    let store = s3.client().await;
    let key = store.list(&format!("exams/{id}/")).await.unwrap()[0].key.clone();
    let head = store.head(&key).await.unwrap().unwrap();
    assert_eq!(head.meta.get("traceparent"), Some(format!("00-{trace}-{}-01", put.id).as_str()), "{:?}", head.meta);

    // 2. The notification on the uploads topic (the gateway plays the store's part, as in
    //    real_pipeline) carries the publisher's context as a Kafka header, as every record does.
    let record = tokio::time::timeout(Duration::from_secs(120), uploads.next()).await.expect("a notification").unwrap();
    let header = record.message.headers.get("traceparent").cloned().expect("a traceparent record header");
    assert!(header.starts_with(&format!("00-{trace}-")), "{header}");
    let value = record.message.payload.clone();
    record.ack().await;

    // 3. KafkaSource delivers it: binary mode, the record's headers as extensions.
    let deliver = |ce_traceparent: String, value: Vec<u8>| {
        let (client, function) = (app.client.clone(), function.clone());
        async move {
            let r = client
                .post(format!("{function}/"))
                .header("ce-specversion", "1.0")
                .header("ce-id", "partition:0/offset:0")
                .header("ce-source", "/apis/v1/namespaces/exams/kafkasources/uploads#exam-uploads")
                .header("ce-type", "dev.knative.kafka.event")
                .header("ce-traceparent", ce_traceparent)
                .body(value)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = deliver(header.clone(), value.to_vec()).await;
    assert_eq!((status, body["outcomes"][0]["result"].as_str()), (200, Some("generated")), "{body}");
    live.until(|f| f["exam_id"] == id.as_str() && f["status"] == "draft").await;

    // 4. A notification without the metadata (an object some other tool wrote) continues the
    //    trace of the CloudEvent's `ce-traceparent` extension instead.
    let mut bare: Value = serde_json::from_slice(&value).unwrap();
    bare["Records"][0]["s3"]["object"]["userMetadata"].as_object_mut().unwrap().retain(|k, _| !k.eq_ignore_ascii_case("traceparent"));
    let (foreign_trace, foreign_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let (status, body) = deliver(format!("00-{foreign_trace}-{foreign_span}-01"), serde_json::to_vec(&bare).unwrap()).await;
    assert_eq!((status, body["outcomes"][0]["result"].as_str()), (200, Some("already_done")), "{body}");

    // 5. The function stops; its queued spans are exported on the way out.
    assert!(function_proc.terminate().await.success());
    let spans = otlp
        .until("the function's spans (flushed at shutdown)", |spans| {
            (spans.iter().filter(|s| s.service == "generator-under-test" && s.name == "handle upload notification").count() == 2)
                .then(|| spans.to_vec())
        })
        .await;
    let function_spans: Vec<&Seen> = spans.iter().filter(|s| s.service == "generator-under-test").collect();
    assert!(spans.iter().all(|s| s.service != "exam-generator"), "OTEL_SERVICE_NAME names the service");

    // The first delivery: a child of the span that stored the upload (from the object's
    // metadata, which wins over the record header), in the upload's trace.
    let handler = one(&spans, "handler span in the upload's trace", |s| {
        s.service == "generator-under-test" && s.name == "handle upload notification" && s.trace == trace
    });
    assert_eq!(handler.parent, put.id, "the function's handler continues the stored object's context");
    assert_eq!(handler.kind, SpanKind::Consumer);
    let generate = one(&spans, "generation span", |s| s.name == "generate exam" && s.parent == handler.id);
    for stage in ["extract text", "generate questions", "store question bank"] {
        one(&spans, stage, |s| s.name == stage && s.parent == generate.id && s.trace == trace);
    }
    let publishes: Vec<&Seen> = function_spans
        .iter()
        .copied()
        .filter(|s| s.name == "publish exam-announcements" && s.trace == trace && s.parent == generate.id)
        .collect();
    assert_eq!(publishes.len(), 3, "extracting, generating, ready: {publishes:#?}");
    assert!(publishes.iter().all(|s| s.kind == SpanKind::Producer));

    // The second delivery: a child of the CloudEvent's extension.
    let foreign =
        one(&spans, "handler span of the bare notification", |s| s.name == "handle upload notification" && s.trace == foreign_trace);
    assert_eq!(foreign.parent, foreign_span);

    // 6. Back in the gateway: each of the function's announcements is applied in a span that is
    //    a child of the function's publish span, found through the Kafka record header.
    for publish in &publishes {
        let applied = otlp
            .until("the gateway applying the function's announcement", |spans| {
                spans.iter().find(|s| s.service == "exam-gateway" && s.name == "apply announcement" && s.parent == publish.id).cloned()
            })
            .await;
        assert_eq!(applied.trace, trace);
        assert_eq!(applied.kind, SpanKind::Consumer);
    }

    // Logs: JSON lines; those written within the upload's spans carry its trace id.
    let logs = std::fs::read_to_string(dir.path().join("gateway.log")).unwrap();
    let lines: Vec<Value> = logs.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(lines.len() > 3, "the gateway writes JSON lines: {logs}");
    let stored = lines.iter().find(|l| l["fields"]["message"] == "document stored").expect("the upload's log line");
    assert_eq!(stored["trace_id"], trace.as_str(), "{stored}");
}
