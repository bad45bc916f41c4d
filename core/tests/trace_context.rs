//! The trace context travels with every message of the in-process bus (the embedded mode), as
//! Kafka record headers do in a cluster: whoever handles a message continues the publisher's
//! trace. With tracing off nothing is carried (the `exam-telemetry` unit tests).

use std::sync::Arc;

use bytes::Bytes;
use exam_core::bus::{EventBus, Group, InProcessBus, publish_in_background};
use futures_util::StreamExt;
use tracing::Instrument as _;

#[tokio::test]
async fn the_in_process_bus_carries_the_publishing_spans_context_to_the_consumer() {
    let _subscriber = tracing::subscriber::set_default(exam_telemetry::recording_subscriber());
    let bus = InProcessBus::default();
    let mut stream = bus.subscribe("t", Group::EveryInstance).await.unwrap();

    let publisher = exam_core::bus::publish_span("t");
    let trace = exam_telemetry::trace_id(&publisher).expect("recorded");
    bus.publish("t", "k", Bytes::from_static(b"1")).instrument(publisher.clone()).await.unwrap();
    let delivery = stream.next().await.unwrap();
    let carried = exam_telemetry::inject(&publisher);
    assert_eq!(delivery.message.headers, carried, "the message holds the publishing span's traceparent");
    assert!(carried["traceparent"].contains(&trace));
    let consumer = delivery.message.consumer_span("apply announcement");
    assert_eq!(exam_telemetry::trace_id(&consumer), Some(trace.clone()), "the consumer continues the publisher's trace");

    // Outside any span there is nothing to carry, and the consumer's span starts a trace.
    bus.publish("t", "k", Bytes::from_static(b"2")).await.unwrap();
    let delivery = stream.next().await.unwrap();
    assert!(delivery.message.headers.is_empty(), "{:?}", delivery.message.headers);
    let consumer = delivery.message.consumer_span("apply announcement");
    assert_ne!(exam_telemetry::trace_id(&consumer), Some(trace));
}

#[tokio::test]
async fn a_background_publish_stays_in_the_callers_trace() {
    let _subscriber = tracing::subscriber::set_default(exam_telemetry::recording_subscriber());
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
    let mut stream = bus.subscribe("t", Group::EveryInstance).await.unwrap();
    let request = tracing::info_span!("request");
    let trace = exam_telemetry::trace_id(&request).expect("recorded");
    let caller_span_id = exam_telemetry::inject(&request)["traceparent"].split('-').nth(2).unwrap().to_owned();
    request.in_scope(|| publish_in_background(bus.clone(), "t".into(), "k".into(), Bytes::from_static(b"1")));
    drop(request);
    let delivery = stream.next().await.unwrap();
    let traceparent = &delivery.message.headers["traceparent"];
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts[1], trace, "same trace as the request");
    assert_ne!(parts[2], caller_span_id, "published from a span of its own, the request's child");
}
