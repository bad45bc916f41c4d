//! The function's `/metrics`, on its one HTTP port, scraped from a real server on loopback
//! after it handled a KafkaSource event: generation by stage and outcome, the PDF reader (the
//! real isolated child process), store operations, publishes and requests by route. The
//! families are exactly those `helm/tests/metric-names.txt` lists for the function.

use std::sync::Arc;
use std::time::Duration;

use exam_backends::BackendSettings;
use exam_core::generation::Generation;
use exam_core::pipeline::{Extractor, Pipeline, PipelineConfig};
use exam_core::store::{ObjectMeta, PutMode};
use exam_domain::events::{CreatedObject, S3Notification};
use exam_generator::ExtractCommand;
use generator_fn::metrics::FnMetrics;
use generator_fn::{FnState, metered_router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 request over a fresh connection; (status, body).
async fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), conn.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

fn listed() -> Vec<(String, String)> {
    let list = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../helm/tests/metric-names.txt")).unwrap();
    let mut out: Vec<(String, String)> = list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (name, kind) = (words.next()?, words.next()?);
            words.any(|b| b == "function").then(|| (name.to_owned(), kind.to_owned()))
        })
        .collect();
    out.sort();
    out
}

fn exported(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_an_event_count_generation_extraction_store_and_requests() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = FnMetrics::new();
    // The same wiring as `main`: the adapters, the generation and the pipeline record into one registry.
    let mut settings = BackendSettings::embedded(dir.path().to_path_buf(), "exams".into(), "uploads".into());
    settings.notify_uploads = false;
    let backends = exam_backends::connect_metered(&settings, metrics.core()).await.unwrap();
    let extractor =
        Extractor::Isolated(ExtractCommand { program: env!("CARGO_BIN_EXE_generator-fn").into(), args: vec!["extract-pdf".into()] });
    let generation =
        Arc::new(Generation::builtin(backends.store.clone(), extractor, Duration::from_secs(60)).with_metrics(metrics.core().clone()));
    let pipeline = Arc::new(Pipeline::new(
        backends.store.clone(),
        backends.bus.clone(),
        PipelineConfig { announcements_topic: "announcements".into(), generation },
    ));
    assert_eq!(metrics.families().sorted(), listed(), "the registered families differ from helm/tests/metric-names.txt");
    let app = metered_router(FnState { pipeline, store: backends.store.clone(), bus: backends.bus.clone() }, metrics);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (status, text) = http(port, "GET", "/metrics", &[], b"").await;
    assert_eq!(status, 200);
    assert!(exported(&text).iter().all(|f| listed().contains(f)), "{text}");

    let pdf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../generator/tests/fixtures/lecture.pdf")).unwrap();
    let mut meta = ObjectMeta { content_type: "application/pdf".into(), ..Default::default() };
    for (k, v) in [("n_mcq", "2"), ("n_mcq_options", "3"), ("n_tfq", "1"), ("title", "Lecture")] {
        meta.user.insert(k.into(), v.into());
    }
    let key = "exams/e1/lecture.pdf";
    let info = backends.store.put_bytes(key, pdf.into(), &meta, PutMode::Overwrite).await.unwrap();
    let event = serde_json::to_vec(&S3Notification::object_created(CreatedObject {
        bucket: "exams".into(),
        key: key.into(),
        size: info.size,
        user_metadata: meta.user,
        ..Default::default()
    }))
    .unwrap();
    let ce = [("ce-specversion", "1.0"), ("ce-id", "partition:0/offset:7"), ("ce-type", "dev.knative.kafka.event")];
    let (status, body) = http(port, "POST", "/", &ce, &event).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("generated"), "{body}");
    // A redelivery, and a request that is no CloudEvent.
    assert_eq!(http(port, "POST", "/", &ce, &event).await.0, 200);
    assert_eq!(http(port, "POST", "/", &[], b"{}").await.0, 400);

    let (status, text) = http(port, "GET", "/metrics", &[], b"").await;
    assert_eq!(status, 200);
    // Every family in the scrape is a listed one, with its listed type.
    assert!(exported(&text).iter().all(|f| listed().contains(f)), "{text}");
    for (series, n) in [
        (r#"exam_generation_outcomes_total{outcome="generated",generator="builtin"}"#, 1.0),
        (r#"exam_generation_outcomes_total{outcome="already_done",generator="builtin"}"#, 1.0),
        (r#"exam_generation_duration_seconds_count{stage="extract",generator="builtin"}"#, 1.0),
        (r#"exam_generation_duration_seconds_count{stage="generate",generator="builtin"}"#, 1.0),
        (r#"exam_generation_duration_seconds_count{stage="total",generator="builtin"}"#, 1.0),
        (r#"exam_pdf_extraction_duration_seconds_count{outcome="ok"}"#, 1.0),
        // extracting, generating, ready; then ready again for the redelivery.
        (r#"exam_bus_publish_duration_seconds_count{topic="announcements",outcome="ok"}"#, 4.0),
        (r#"exam_store_operation_duration_seconds_count{operation="head",outcome="ok"}"#, 1.0),
        (r#"exam_http_request_duration_seconds_count{route="/",method="POST",status="200"}"#, 2.0),
        (r#"exam_http_request_duration_seconds_count{route="/",method="POST",status="400"}"#, 1.0),
        (r#"exam_http_request_duration_seconds_count{route="/metrics",method="GET",status="200"}"#, 1.0),
    ] {
        assert_eq!(value(&text, series), Some(n), "{series}:\n{text}");
    }
    for series in [
        r#"exam_store_operation_duration_seconds_count{operation="put",outcome="ok"}"#,
        r#"exam_store_operation_duration_seconds_count{operation="get",outcome="ok"}"#,
        r#"exam_store_operation_duration_seconds_count{operation="get",outcome="not_found"}"#,
    ] {
        assert!(value(&text, series).is_some_and(|v| v >= 1.0), "{series}:\n{text}");
    }
    assert!(value(&text, r#"exam_generation_duration_seconds_sum{stage="extract",generator="builtin"}"#).unwrap() > 0.0);
}
