//! The Kafka event bus (rdkafka / librdkafka).
//!
//! * Producer: `enable.idempotence=true`, `acks=all`; a publish fails after
//!   `message.timeout.ms` (default 10 s here) when the broker is away, and callers retry.
//! * `Group::Shared(name)`: a consumer group; offsets are stored only when a delivery is
//!   acknowledged (`enable.auto.offset.store=false`) and committed by the auto-committer, so a
//!   crash redelivers what was not finished (at-least-once). Starts from the earliest offset
//!   the group has not committed, so uploads made before the first start are not missed.
//! * `Group::EveryInstance`: a group of its own per process (unique id, no commits), starting
//!   at the end: every gateway replica sees every announcement from the moment it starts
//!   (it rebuilt its catalog from the store just before).
//! * Any `KAFKA_*` environment variable becomes a librdkafka property
//!   (`KAFKA_SECURITY_PROTOCOL=SASL_SSL` → `security.protocol`, see `settings`), so TLS and
//!   SASL pass through.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use exam_core::bus::{Ack, BusError, Delivery, EventBus, Group, Message as BusMessage};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// librdkafka properties: `bootstrap.servers` and everything passed through.
    pub properties: Vec<(String, String)>,
    /// Prefix of per-instance consumer group ids.
    pub client_id: String,
}

impl KafkaSettings {
    pub fn bootstrap(servers: &str) -> Self {
        KafkaSettings { properties: vec![("bootstrap.servers".into(), servers.into())], client_id: "exam".into() }
    }

    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

pub struct KafkaBus {
    settings: KafkaSettings,
    /// Replaced when it can no longer deliver (see `publish`).
    producer: std::sync::RwLock<FutureProducer>,
    /// Consumer positions and producer replacements.
    metrics: exam_core::metrics::CoreMetrics,
}

fn err(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl KafkaBus {
    pub fn new(settings: KafkaSettings) -> Result<Self, BusError> {
        let producer = Self::producer(&settings)?;
        Ok(KafkaBus { settings, producer: std::sync::RwLock::new(producer), metrics: Default::default() })
    }

    /// Reports consumer positions and producer replacements in `metrics`.
    pub fn with_metrics(mut self, metrics: exam_core::metrics::CoreMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    fn producer(settings: &KafkaSettings) -> Result<FutureProducer, BusError> {
        let mut c = settings.config();
        c.set("enable.idempotence", "true").set("acks", "all");
        if !settings.properties.iter().any(|(k, _)| k == "message.timeout.ms") {
            c.set("message.timeout.ms", "10000");
        }
        c.create().map_err(err)
    }

    fn current(&self) -> FutureProducer {
        self.producer.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

struct OffsetAck {
    consumer: Arc<StreamConsumer>,
    topic: String,
    partition: i32,
    offset: i64,
    metrics: exam_core::metrics::CoreMetrics,
}

#[async_trait]
impl Ack for OffsetAck {
    async fn ack(self: Box<Self>) {
        match self.consumer.store_offset(&self.topic, self.partition, self.offset) {
            Ok(()) => self.metrics.consumer_position(&self.topic, self.partition, self.offset),
            Err(e) => {
                tracing::warn!(error = %e, topic = %self.topic, partition = self.partition, offset = self.offset, "could not store offset; the message may be delivered again")
            }
        }
    }
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn publish(&self, topic: &str, key: &str, payload: Bytes) -> Result<(), BusError> {
        let producer = self.current();
        // The publishing span's trace context travels as record headers (`traceparent`);
        // KafkaSource turns them into CloudEvent extensions (`ce-traceparent`).
        let context = exam_telemetry::inject_current();
        let mut record = FutureRecord::to(topic).key(key).payload(payload.as_ref());
        if !context.is_empty() {
            let headers = context.iter().fold(OwnedHeaders::new_with_capacity(context.len()), |h, (k, v)| {
                h.insert(Header { key: k.as_str(), value: Some(v.as_bytes()) })
            });
            record = record.headers(headers);
        }
        let sent = producer.send(record, Timeout::After(Duration::from_secs(5))).await;
        match sent {
            Ok(_) => Ok(()),
            Err((e, _)) => {
                // An idempotent producer whose id the cluster no longer knows (a broker that
                // lost its state, expired producer state) retries forever and times out; a
                // fatal error never recovers. A fresh producer gets a new id; the caller
                // retries the message.
                let fatal = producer.client().fatal_error();
                if fatal.is_some() || e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::MessageTimedOut) {
                    tracing::warn!(error = %e, ?fatal, "replacing the Kafka producer");
                    if let Ok(fresh) = Self::producer(&self.settings) {
                        self.metrics.producer_replaced();
                        *self.producer.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
                    }
                }
                Err(err(format!("publish to {topic}: {e}")))
            }
        }
    }

    async fn subscribe(&self, topic: &str, group: Group) -> Result<BoxStream<'static, Delivery>, BusError> {
        let mut c = self.settings.config();
        let acked = match &group {
            Group::Shared(name) => {
                c.set("group.id", name)
                    .set("enable.auto.commit", "true")
                    .set("enable.auto.offset.store", "false")
                    .set("auto.offset.reset", "earliest");
                true
            }
            Group::EveryInstance => {
                let id = format!("{}-{}", self.settings.client_id, uuid::Uuid::now_v7().simple());
                c.set("group.id", id).set("enable.auto.commit", "false").set("auto.offset.reset", "latest");
                false
            }
        };
        let consumer: StreamConsumer = c.create().map_err(err)?;
        consumer.subscribe(&[topic]).map_err(err)?;
        let consumer = Arc::new(consumer);
        let (tx, rx) = tokio::sync::mpsc::channel::<Delivery>(16);
        let topic_name = topic.to_owned();
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    r = consumer.recv() => r,
                    // The subscriber went away: stop, dropping the consumer here and now.
                    () = tx.closed() => break,
                };
                let delivery = match received {
                    Ok(m) => {
                        let headers = m
                            .headers()
                            .map(|h| {
                                exam_telemetry::from_pairs(h.iter().filter_map(|h| Some((h.key, std::str::from_utf8(h.value?).ok()?))))
                            })
                            .unwrap_or_default();
                        let message = BusMessage {
                            topic: m.topic().to_owned(),
                            key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default(),
                            payload: Bytes::copy_from_slice(m.payload().unwrap_or_default()),
                            headers,
                        };
                        let ack: Option<Box<dyn Ack>> = acked.then(|| {
                            Box::new(OffsetAck {
                                consumer: consumer.clone(),
                                topic: m.topic().to_owned(),
                                partition: m.partition(),
                                offset: m.offset(),
                                metrics: metrics.clone(),
                            }) as Box<dyn Ack>
                        });
                        Delivery::new(message, ack)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, topic = %topic_name, "kafka consumer error; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if tx.send(delivery).await.is_err() {
                    break; // The subscriber went away.
                }
            }
        });
        Ok(tokio_stream_from(rx))
    }

    async fn check(&self) -> Result<(), BusError> {
        let producer = self.current();
        tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, Timeout::After(Duration::from_secs(3))).map(|_| ()))
            .await
            .map_err(err)?
            .map_err(|e| err(format!("broker unreachable: {e}")))
    }
}

fn tokio_stream_from(mut rx: tokio::sync::mpsc::Receiver<Delivery>) -> BoxStream<'static, Delivery> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}
