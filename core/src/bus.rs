//! The event-bus port and the in-process bus.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use tracing::Instrument as _;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker could not be reached or refused; retrying later can help.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
}

/// One record as read from a topic.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub key: String,
    pub payload: Bytes,
    /// The publisher's trace context (`traceparent`, `tracestate`): Kafka record headers, or
    /// what the in-process bus took from the publishing span. Empty with tracing off.
    pub headers: HashMap<String, String>,
}

impl Message {
    /// A span for handling this message: `name` as its OpenTelemetry name, a child of the
    /// publisher's span when the message carries one (else of the current span).
    pub fn consumer_span(&self, name: &'static str) -> tracing::Span {
        let span = tracing::info_span!("consume", otel.name = name, otel.kind = "consumer", messaging.destination.name = %self.topic);
        exam_telemetry::set_parent(&span, &self.headers);
        span
    }
}

/// The span a publish runs in; the bus puts its context into the message (`Message::headers`),
/// so whoever handles the message continues this trace.
pub fn publish_span(topic: &str) -> tracing::Span {
    tracing::info_span!("publish", otel.name = %format!("publish {topic}"), otel.kind = "producer", messaging.destination.name = %topic)
}

/// Marks a delivery handled (Kafka: store its offset for the next commit).
#[async_trait]
pub trait Ack: Send {
    async fn ack(self: Box<Self>);
}

/// A message plus the means to acknowledge it. Dropping a delivery without `ack` leaves it to
/// be delivered again after a restart (at-least-once).
pub struct Delivery {
    pub message: Message,
    acker: Option<Box<dyn Ack>>,
}

impl Delivery {
    pub fn new(message: Message, acker: Option<Box<dyn Ack>>) -> Self {
        Delivery { message, acker }
    }
    pub async fn ack(mut self) {
        if let Some(a) = self.acker.take() {
            a.ack().await;
        }
    }
}

/// How a subscriber shares a topic with others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    /// Members of one named group split the topic's messages between them (work queue).
    Shared(String),
    /// This process instance reads every message (fan-out: each gateway replica does this
    /// with the announcements so every browser hears every change).
    EveryInstance,
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    async fn publish(&self, topic: &str, key: &str, payload: Bytes) -> Result<(), BusError>;
    /// Messages published after this returns, until the stream is dropped.
    async fn subscribe(&self, topic: &str, group: Group) -> Result<BoxStream<'static, Delivery>, BusError>;
    /// Readiness: is the broker reachable?
    async fn check(&self) -> Result<(), BusError>;
    /// Where background publishes count their backlog and retries (`MeteredBus`).
    fn metrics(&self) -> Option<&crate::metrics::CoreMetrics> {
        None
    }
}

/// Publishes in the background, retrying with backoff (up to 15 s apart) until the broker
/// takes the message. For facts already stored: the caller answers its user at once, and a
/// broker outage delays the message without losing it (until the process stops; stored facts
/// are re-announced at start).
pub fn publish_in_background(bus: Arc<dyn EventBus>, topic: String, key: String, payload: Bytes) {
    if let Some(m) = bus.metrics() {
        m.backlog(true);
    }
    // A child of the caller's span in the trace, but not in `tracing`'s tree: the caller (a
    // request) ends when it answers, without waiting for the broker.
    let caller = exam_telemetry::inject_current();
    let span = tracing::info_span!(parent: None, "publish", otel.name = %format!("publish {topic}"), otel.kind = "producer", messaging.destination.name = %topic);
    exam_telemetry::set_parent(&span, &caller);
    let task = async move {
        let mut backoff = std::time::Duration::from_millis(250);
        loop {
            match bus.publish(&topic, &key, payload.clone()).await {
                Ok(()) => break,
                Err(e) => tracing::warn!(error = %e, %topic, %key, "not published yet; retrying"),
            }
            if let Some(m) = bus.metrics() {
                m.background_retry(&topic);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(std::time::Duration::from_secs(15));
        }
        if let Some(m) = bus.metrics() {
            m.backlog(false);
        }
    };
    tokio::spawn(task.instrument(span));
}

/// The embedded bus: a broadcast channel per topic. One process means one member per group,
/// so both [`Group`] kinds see every message.
#[derive(Debug, Clone)]
pub struct InProcessBus {
    topics: Arc<Mutex<HashMap<String, broadcast::Sender<Message>>>>,
    capacity: usize,
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        InProcessBus { topics: Arc::default(), capacity }
    }

    fn sender(&self, topic: &str) -> broadcast::Sender<Message> {
        let mut topics = self.topics.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        topics.entry(topic.to_owned()).or_insert_with(|| broadcast::channel(self.capacity).0).clone()
    }
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, topic: &str, key: &str, payload: Bytes) -> Result<(), BusError> {
        // No subscriber yet is not an error: like a topic nobody reads.
        let headers = exam_telemetry::inject_current();
        let _ = self.sender(topic).send(Message { topic: topic.to_owned(), key: key.to_owned(), payload, headers });
        Ok(())
    }

    async fn subscribe(&self, topic: &str, _group: Group) -> Result<BoxStream<'static, Delivery>, BusError> {
        let rx = self.sender(topic).subscribe();
        let topic = topic.to_owned();
        Ok(tokio_stream::wrappers::BroadcastStream::new(rx)
            .filter_map(move |r| {
                let out = match r {
                    Ok(m) => Some(Delivery::new(m, None)),
                    Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                        tracing::error!(topic = %topic, skipped = n, "in-process bus subscriber lagged; messages were skipped");
                        None
                    }
                };
                async move { out }
            })
            .boxed())
    }

    async fn check(&self) -> Result<(), BusError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_sees_every_message_in_order() {
        let bus = InProcessBus::default();
        let mut a = bus.subscribe("t", Group::EveryInstance).await.unwrap();
        let mut b = bus.subscribe("t", Group::Shared("g".into())).await.unwrap();
        bus.publish("t", "k", Bytes::from_static(b"1")).await.unwrap();
        bus.publish("t", "k", Bytes::from_static(b"2")).await.unwrap();
        bus.publish("other", "k", Bytes::from_static(b"x")).await.unwrap();
        for s in [&mut a, &mut b] {
            assert_eq!(&s.next().await.unwrap().message.payload[..], b"1");
            let d = s.next().await.unwrap();
            assert_eq!((&d.message.payload[..], d.message.topic.as_str()), (&b"2"[..], "t"));
            d.ack().await;
        }
    }
}
