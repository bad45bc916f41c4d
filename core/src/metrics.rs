//! The metrics the use-cases and adapters record (Prometheus, `exam_*`).
//!
//! [`CoreMetrics`] is a bundle of metric families, cheap to clone (every family is an `Arc`
//! inside). A binary makes one, registers it in its registry ([`CoreMetrics::register`]) and
//! hands clones to what records: [`MeteredStore`] (every store operation), [`MeteredBus`]
//! (publishes, deliveries, the background backlog), `Generation::with_metrics`,
//! `Pipeline::with_metrics`, `Platform::with_metrics` and the Kafka bus. A `CoreMetrics` that
//! was never registered still counts, into nothing that is exported: the default for tests and
//! tools that construct the use-cases directly.
//!
//! Labels are all bounded: operation names, outcome words, topic names from the settings,
//! partitions. Never ids, keys or free text.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

use crate::bus::{BusError, Delivery, EventBus, Group};
use crate::store::{ObjectInfo, ObjectMeta, ObjectStore, PutMode, StoreError};

/// The prefix of every metric name (`exam_…`).
pub const PREFIX: &str = "exam";

/// The families a binary registered: exported name (with `_total` for counters) and type.
/// Tests compare it with `helm/tests/metric-names.txt`, which the dashboard test reads; a
/// scrape alone cannot tell, since families without samples are left out of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Families(pub Vec<(String, String)>);

impl Families {
    /// Registers `metric` under `name` and notes it.
    pub fn add<T: Metric + TypeName>(&mut self, registry: &mut Registry, name: &str, help: &str, metric: T) {
        let kind = T::NAME;
        let suffix = if kind == "counter" { "_total" } else { "" };
        self.0.push((format!("{PREFIX}_{name}{suffix}"), kind.to_owned()));
        registry.register(name, help, metric);
    }

    /// Sorted, for comparing.
    pub fn sorted(&self) -> Vec<(String, String)> {
        let mut v = self.0.clone();
        v.sort();
        v
    }
}

/// The Prometheus type a metric is exported as.
pub trait TypeName {
    const NAME: &'static str;
}

impl TypeName for Counter {
    const NAME: &'static str = "counter";
}

impl TypeName for Gauge {
    const NAME: &'static str = "gauge";
}

impl TypeName for Histogram {
    const NAME: &'static str = "histogram";
}

impl<L, M: TypeName, C> TypeName for Family<L, M, C> {
    const NAME: &'static str = M::NAME;
}

/// A histogram family whose buckets are set by a plain function.
pub type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// `put`, `put_file`, `get`, `head`, `list`, `delete`, `check`.
    pub operation: &'static str,
    /// `ok`, `not_found`, `already_exists`, `invalid_key`, `error`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicOutcome {
    pub topic: String,
    /// `ok` or `error`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    pub topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    pub topic: String,
    pub partition: i32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    /// `extract`, `generate`, `total`.
    pub stage: &'static str,
    /// `builtin` or `model`: the generator the deployment asks first.
    pub generator: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `generated`, `failed`, `already_done`, `ignored`, `poison`, `transient`.
    pub outcome: &'static str,
    pub generator: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TriggerLabel {
    /// `student` (the socket's or the HTTP submit) or `deadline` (time ran out: the socket,
    /// the student coming back, or the sweeper).
    pub trigger: &'static str,
}

fn store_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.5, 12))
}
fn publish_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.5, 11))
}
fn generation_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 14))
}
fn extraction_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 14))
}

/// The families; see the module docs. Names are given without the `exam_` prefix the
/// registry adds.
#[derive(Clone, Debug)]
pub struct CoreMetrics {
    store: Histograms<StoreLabels>,
    publishes: Histograms<TopicOutcome>,
    received: Family<TopicLabel, Counter>,
    backlog: Gauge,
    background_retries: Family<TopicLabel, Counter>,
    consumer_offset: Family<PartitionLabels, Gauge>,
    producer_replaced: Counter,
    generation: Histograms<StageLabels>,
    outcomes: Family<OutcomeLabels, Counter>,
    failures: Family<ReasonLabel, Counter>,
    fallbacks: Counter,
    extraction: Histograms<OutcomeLabel>,
    kills: Family<ReasonLabel, Counter>,
    answers: Family<OutcomeLabel, Counter>,
    submissions: Family<TriggerLabel, Counter>,
}

impl Default for CoreMetrics {
    fn default() -> Self {
        CoreMetrics {
            store: Family::new_with_constructor(store_buckets),
            publishes: Family::new_with_constructor(publish_buckets),
            received: Family::default(),
            backlog: Gauge::default(),
            background_retries: Family::default(),
            consumer_offset: Family::default(),
            producer_replaced: Counter::default(),
            generation: Family::new_with_constructor(generation_buckets),
            outcomes: Family::default(),
            failures: Family::default(),
            fallbacks: Counter::default(),
            extraction: Family::new_with_constructor(extraction_buckets),
            kills: Family::default(),
            answers: Family::default(),
            submissions: Family::default(),
        }
    }
}

impl CoreMetrics {
    /// Registers every family in `registry` (made with [`PREFIX`]); returns the exported
    /// family names with their types, as the `# TYPE` lines of a scrape say them.
    pub fn register(&self, registry: &mut Registry) -> Families {
        let mut f = Families::default();
        let r = registry;
        f.add(r, "store_operation_duration_seconds", "Object store operations by kind and outcome", self.store.clone());
        f.add(r, "bus_publish_duration_seconds", "Messages published to the event bus, by topic and outcome", self.publishes.clone());
        f.add(r, "bus_received", "Messages delivered to this process's subscribers, by topic", self.received.clone());
        f.add(r, "bus_background_backlog", "Stored facts whose announcement the broker has not taken yet", self.backlog.clone());
        f.add(
            r,
            "bus_background_retries",
            "Background publishes that failed and will be retried, by topic",
            self.background_retries.clone(),
        );
        f.add(
            r,
            "kafka_consumer_offset",
            "Next offset this process's consumer group will commit, by topic and partition",
            self.consumer_offset.clone(),
        );
        f.add(
            r,
            "kafka_producer_replacements",
            "Kafka producers replaced because they could no longer deliver",
            self.producer_replaced.clone(),
        );
        f.add(
            r,
            "generation_duration_seconds",
            "Time spent generating a question bank, by stage and the generator asked first",
            self.generation.clone(),
        );
        f.add(r, "generation_outcomes", "Upload notifications handled, by outcome", self.outcomes.clone());
        f.add(r, "generation_failures", "Generations that failed for a reason the teacher sees, by reason", self.failures.clone());
        f.add(
            r,
            "generation_model_fallbacks",
            "Banks the built-in generator wrote because the language model could not",
            self.fallbacks.clone(),
        );
        f.add(r, "pdf_extraction_duration_seconds", "PDF text extraction, by outcome", self.extraction.clone());
        f.add(r, "pdf_extraction_kills", "PDF reader child processes ended by their limits, by reason", self.kills.clone());
        f.add(r, "answers", "Answers received on attempt sockets, by outcome (saved or refused)", self.answers.clone());
        f.add(r, "submissions", "Attempts submitted (each once), by trigger", self.submissions.clone());
        f
    }

    pub fn store_op(&self, operation: &'static str, outcome: &'static str, took: Duration) {
        self.store.get_or_create(&StoreLabels { operation, outcome }).observe(took.as_secs_f64());
    }

    pub fn published(&self, topic: &str, ok: bool, took: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.publishes.get_or_create(&TopicOutcome { topic: topic.to_owned(), outcome }).observe(took.as_secs_f64());
    }

    pub fn received(&self, topic: &str) {
        self.received.get_or_create(&TopicLabel { topic: topic.to_owned() }).inc();
    }

    /// One more (`true`) or one fewer message waiting in the background publisher.
    pub fn backlog(&self, waiting: bool) {
        if waiting {
            self.backlog.inc();
        } else {
            self.backlog.dec();
        }
    }

    pub fn background_retry(&self, topic: &str) {
        self.background_retries.get_or_create(&TopicLabel { topic: topic.to_owned() }).inc();
    }

    /// A delivery at `offset` was handled: the group's next position is `offset + 1`.
    pub fn consumer_position(&self, topic: &str, partition: i32, offset: i64) {
        self.consumer_offset.get_or_create(&PartitionLabels { topic: topic.to_owned(), partition }).set(offset.saturating_add(1));
    }

    pub fn producer_replaced(&self) {
        self.producer_replaced.inc();
    }

    pub fn stage(&self, stage: &'static str, generator: &'static str, took: Duration) {
        self.generation.get_or_create(&StageLabels { stage, generator }).observe(took.as_secs_f64());
    }

    pub fn outcome(&self, outcome: &'static str, generator: &'static str) {
        self.outcomes.get_or_create(&OutcomeLabels { outcome, generator }).inc();
    }

    pub fn failure(&self, reason: &'static str) {
        self.failures.get_or_create(&ReasonLabel { reason }).inc();
    }

    pub fn model_fallback(&self) {
        self.fallbacks.inc();
    }

    pub fn extraction(&self, outcome: &'static str, took: Duration) {
        self.extraction.get_or_create(&OutcomeLabel { outcome }).observe(took.as_secs_f64());
    }

    pub fn extraction_killed(&self, reason: &'static str) {
        self.kills.get_or_create(&ReasonLabel { reason }).inc();
    }

    pub fn answer(&self, saved: bool) {
        self.answers.get_or_create(&OutcomeLabel { outcome: if saved { "saved" } else { "refused" } }).inc();
    }

    /// A new submission (not one a second tab found already stored).
    pub fn submitted(&self, auto: bool) {
        self.submissions.get_or_create(&TriggerLabel { trigger: if auto { "deadline" } else { "student" } }).inc();
    }
}

fn outcome_of<T>(r: &Result<T, StoreError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(StoreError::AlreadyExists(_)) => "already_exists",
        Err(StoreError::Changed(_)) => "changed",
        Err(StoreError::InvalidKey(_)) => "invalid_key",
        Err(StoreError::Unavailable(_)) => "error",
    }
}

fn found<T>(r: &Result<Option<T>, StoreError>) -> &'static str {
    match r {
        Ok(None) => "not_found",
        other => outcome_of(other),
    }
}

/// Times every operation of the store it wraps (`exam_store_operation_duration_seconds`).
pub struct MeteredStore {
    inner: Arc<dyn ObjectStore>,
    metrics: CoreMetrics,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn ObjectStore>, metrics: CoreMetrics) -> Self {
        MeteredStore { inner, metrics }
    }
}

#[async_trait]
impl ObjectStore for MeteredStore {
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        let started = Instant::now();
        let r = self.inner.put_bytes(key, body, meta, mode).await;
        self.metrics.store_op("put", outcome_of(&r), started.elapsed());
        r
    }

    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        let started = Instant::now();
        let r = self.inner.put_file(key, path, meta).await;
        self.metrics.store_op("put_file", outcome_of(&r), started.elapsed());
        r
    }

    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError> {
        let started = Instant::now();
        let r = self.inner.get(key).await;
        self.metrics.store_op("get", found(&r), started.elapsed());
        r
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let started = Instant::now();
        let r = self.inner.head(key).await;
        self.metrics.store_op("head", found(&r), started.elapsed());
        r
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let started = Instant::now();
        let r = self.inner.list(prefix).await;
        self.metrics.store_op("list", outcome_of(&r), started.elapsed());
        r
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        let r = self.inner.delete(key).await;
        self.metrics.store_op("delete", outcome_of(&r), started.elapsed());
        r
    }

    async fn check(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let r = self.inner.check().await;
        self.metrics.store_op("check", outcome_of(&r), started.elapsed());
        r
    }

    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
}

/// Counts what goes through the bus it wraps: publishes (timed, by topic and outcome) and
/// deliveries; gives [`crate::bus::publish_in_background`] the backlog gauge.
pub struct MeteredBus {
    inner: Arc<dyn EventBus>,
    metrics: CoreMetrics,
}

impl MeteredBus {
    pub fn new(inner: Arc<dyn EventBus>, metrics: CoreMetrics) -> Self {
        MeteredBus { inner, metrics }
    }
}

#[async_trait]
impl EventBus for MeteredBus {
    async fn publish(&self, topic: &str, key: &str, payload: Bytes) -> Result<(), BusError> {
        let started = Instant::now();
        let r = self.inner.publish(topic, key, payload).await;
        self.metrics.published(topic, r.is_ok(), started.elapsed());
        r
    }

    async fn subscribe(&self, topic: &str, group: Group) -> Result<BoxStream<'static, Delivery>, BusError> {
        let stream = self.inner.subscribe(topic, group).await?;
        let metrics = self.metrics.clone();
        Ok(stream
            .map(move |d| {
                metrics.received(&d.message.topic);
                d
            })
            .boxed())
    }

    async fn check(&self) -> Result<(), BusError> {
        self.inner.check().await
    }

    fn metrics(&self) -> Option<&CoreMetrics> {
        Some(&self.metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn store_operations_are_counted_by_kind_and_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = CoreMetrics::default();
        let mut registry = Registry::with_prefix(PREFIX);
        metrics.register(&mut registry);
        let store = MeteredStore::new(Arc::new(crate::store::FsStore::open(dir.path(), "b").await.unwrap()), metrics);
        store.put_bytes("a.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::CreateNew).await.unwrap();
        assert!(store.put_bytes("a.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::CreateNew).await.is_err());
        assert!(store.get("missing.json").await.unwrap().is_none());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            r#"exam_store_operation_duration_seconds_count{operation="put",outcome="ok"} 1"#,
            r#"exam_store_operation_duration_seconds_count{operation="put",outcome="already_exists"} 1"#,
            r#"exam_store_operation_duration_seconds_count{operation="get",outcome="not_found"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
