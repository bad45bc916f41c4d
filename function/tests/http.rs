//! The function's HTTP contract with KafkaSource, on the router (no socket), with the real
//! embedded store and bus.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use exam_core::bus::{EventBus, InProcessBus};
use exam_core::generation::Generation;
use exam_core::pipeline::{Extractor, Pipeline, PipelineConfig};
use exam_core::store::{FsStore, ObjectMeta, ObjectStore, PutMode};
use exam_domain::events::{CreatedObject, S3Notification};
use generator_fn::{FnState, router};
use serde_json::Value;
use tower::ServiceExt;

async fn setup() -> (tempfile::TempDir, axum::Router, Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path(), "exams").await.unwrap());
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
    let pipeline = Arc::new(Pipeline::new(
        store.clone(),
        bus.clone(),
        PipelineConfig {
            announcements_topic: "a".into(),
            generation: Arc::new(Generation::builtin(store.clone(), Extractor::InProcess, Duration::from_secs(30))),
        },
    ));
    (dir, router(FnState { pipeline, store: store.clone(), bus }), store)
}

async fn upload(store: &dyn ObjectStore, key: &str) -> Vec<u8> {
    let pdf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../generator/tests/fixtures/lecture.pdf")).unwrap();
    let mut meta = ObjectMeta { content_type: "application/pdf".into(), ..Default::default() };
    for (k, v) in [("n_mcq", "2"), ("n_mcq_options", "3"), ("n_tfq", "1"), ("title", "Lecture")] {
        meta.user.insert(k.into(), v.into());
    }
    let info = store.put_bytes(key, pdf.into(), &meta, PutMode::Overwrite).await.unwrap();
    serde_json::to_vec(&S3Notification::object_created(CreatedObject {
        bucket: "exams".into(),
        key: key.into(),
        size: info.size,
        user_metadata: meta.user,
        ..Default::default()
    }))
    .unwrap()
}

fn binary_event(body: Vec<u8>) -> Request<Body> {
    Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-id", "partition:0/offset:7")
        .header("ce-type", "dev.knative.kafka.event")
        // KafkaSource copies the record key raw: non-ASCII bytes must not make us refuse.
        .header("ce-key", axum::http::HeaderValue::from_bytes("exams/Über Vorlesung.pdf".as_bytes()).unwrap())
        .body(Body::from(body))
        .unwrap()
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_binary_mode_event_without_content_type_generates_the_bank_once() {
    let (_d, app, store) = setup().await;
    let event = upload(store.as_ref(), "exams/e1/lecture.pdf").await;
    let (status, body) = call(&app, binary_event(event.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcomes"][0]["result"], "generated");
    assert_eq!(body["outcomes"][0]["questions"], 3);
    assert!(store.get("question_bank/e1.json").await.unwrap().is_some());
    let (status, body) = call(&app, binary_event(event)).await;
    assert_eq!((status, body["outcomes"][0]["result"].as_str()), (StatusCode::OK, Some("already_done")));
}

#[tokio::test]
async fn a_structured_mode_event_works_too() {
    let (_d, app, store) = setup().await;
    let event: Value = serde_json::from_slice(&upload(store.as_ref(), "exams/e2/lecture.pdf").await).unwrap();
    let ce = serde_json::json!({"specversion": "1.0", "id": "x", "type": "t", "source": "s", "data": event});
    let req = Request::post("/").header("content-type", "application/cloudevents+json").body(Body::from(ce.to_string())).unwrap();
    let (status, body) = call(&app, req).await;
    assert_eq!((status, body["outcomes"][0]["result"].as_str()), (StatusCode::OK, Some("generated")));
}

#[tokio::test]
async fn poison_gets_a_4xx_that_kafkasource_does_not_retry() {
    let (_d, app, _store) = setup().await;
    let (status, body) = call(&app, binary_event(b"{\"Records\": 5}".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("not an S3 bucket notification"));
    let req = Request::post("/").body(Body::from("{}")).unwrap();
    let (status, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("ce-specversion"));
    let req =
        Request::post("/").header("content-type", "application/cloudevents+json").body(Body::from("{\"specversion\":\"1.0\"}")).unwrap();
    assert_eq!(call(&app, req).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_deleted_upload_and_a_bad_document_are_done_not_retried() {
    let (_d, app, store) = setup().await;
    let event = upload(store.as_ref(), "exams/e3/lecture.pdf").await;
    store.delete("exams/e3/lecture.pdf").await.unwrap();
    let (status, body) = call(&app, binary_event(event)).await;
    assert_eq!((status, body["outcomes"][0]["result"].as_str()), (StatusCode::OK, Some("ignored")));

    let meta = ObjectMeta { content_type: "application/pdf".into(), ..Default::default() };
    store.put_bytes("exams/e4/x.pdf", bytes::Bytes::from_static(b"%PDF-1.4 garbage"), &meta, PutMode::Overwrite).await.unwrap();
    let event = serde_json::to_vec(&S3Notification::object_created(CreatedObject {
        bucket: "exams".into(),
        key: "exams/e4/x.pdf".into(),
        ..Default::default()
    }))
    .unwrap();
    let (status, body) = call(&app, binary_event(event)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["outcomes"][0]["result"], "failed");
    assert!(store.get("failures/e4.json").await.unwrap().is_some());
}

#[tokio::test]
async fn health_and_readiness() {
    let (_d, app, _store) = setup().await;
    for path in ["/healthz", "/readyz"] {
        let res = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}
