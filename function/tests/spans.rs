//! The CloudEvent handler's span is instrumented, not entered: while one event waits for the
//! store, whatever else runs on the same thread logs outside that span. (It used to be
//! `span.enter()` held across the handler's `.await`s, which put other requests' and tasks'
//! log lines — and, with tracing on, their trace ids — into the waiting event's span.)

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use exam_core::bus::{EventBus, InProcessBus};
use exam_core::generation::Generation;
use exam_core::pipeline::{Extractor, Pipeline, PipelineConfig};
use exam_core::store::{FsStore, ObjectInfo, ObjectMeta, ObjectStore, PutMode, StoreError};
use exam_domain::events::{CreatedObject, S3Notification};
use generator_fn::{FnState, router};
use tokio::sync::Notify;
use tower::ServiceExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// A store whose reads wait until the test opens the gate.
struct GatedStore {
    inner: FsStore,
    waiting: Notify,
    /// No permits until the test opens it.
    gate: tokio::sync::Semaphore,
}

#[async_trait]
impl ObjectStore for GatedStore {
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        self.inner.put_bytes(key, body, meta, mode).await
    }
    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        self.inner.put_file(key, path, meta).await
    }
    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError> {
        self.waiting.notify_one();
        let _open = self.gate.acquire().await;
        self.inner.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.inner.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn check(&self) -> Result<(), StoreError> {
        self.inner.check().await
    }
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
}

/// An event's message and the names of the spans it was logged in, innermost first.
type Event = (String, Vec<String>);

/// Every event logged.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<Event>>>);

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>> tracing_subscriber::Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let spans = ctx.event_scope(event).map(|s| s.map(|span| span.name().to_owned()).collect()).unwrap_or_default();
        self.0.lock().unwrap().push((message.0, spans));
    }
}

#[tokio::test]
async fn a_waiting_event_does_not_lend_its_span_to_what_runs_meanwhile() {
    let events = Events::default();
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(events.clone()));
    let dir = tempfile::tempdir().unwrap();
    let gated = Arc::new(GatedStore {
        inner: FsStore::open(dir.path(), "exams").await.unwrap(),
        waiting: Notify::new(),
        gate: tokio::sync::Semaphore::new(0),
    });
    let store: Arc<dyn ObjectStore> = gated.clone();
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
    let generation = Arc::new(Generation::builtin(store.clone(), Extractor::InProcess, Duration::from_secs(30)));
    let pipeline = Arc::new(Pipeline::new(store.clone(), bus.clone(), PipelineConfig { announcements_topic: "a".into(), generation }));
    let app = router(FnState { pipeline, store, bus });
    let notification = S3Notification::object_created(CreatedObject {
        bucket: "exams".into(),
        key: "exams/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/lecture.pdf".into(),
        size: 1,
        e_tag: "e".into(),
        content_type: "application/pdf".into(),
        user_metadata: Default::default(),
        event_time: "2026-12-01T00:00:00Z".into(),
        sequencer: "1".into(),
    });
    let request = axum::http::Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-id", "partition:0/offset:7")
        .body(axum::body::Body::from(serde_json::to_vec(&notification).unwrap()))
        .unwrap();

    // The event runs until the store makes it wait (this is a current-thread runtime: one
    // thread runs both the event and what follows).
    let handling = tokio::spawn(app.oneshot(request));
    gated.waiting.notified().await;
    tracing::info!("meanwhile");
    gated.gate.add_permits(1);
    let response = handling.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);

    let events = events.0.lock().unwrap().clone();
    let meanwhile = events.iter().find(|(m, _)| m == "meanwhile").expect("logged");
    assert!(meanwhile.1.is_empty(), "logged outside any span, not in the waiting event's: {:?}", meanwhile.1);
    let handled = events.iter().find(|(m, _)| m == "event handled").expect("the event's own line");
    assert_eq!(handled.1.first().map(String::as_str), Some("cloudevent"), "{events:?}");
}
