//! Telling everyone what changed: this replica's catalog and browsers at once, the other
//! replicas through the bus, in the background (no request waits for the broker).

use std::sync::Arc;

use bytes::Bytes;
use exam_domain::{Announcement, ExamId, ExamStatus};
use tokio::sync::broadcast;

use crate::bus::EventBus;
use crate::catalog::Catalog;

/// One `/api/v1/live` frame: encoded once, with who may receive it decided once, for every
/// socket of this replica (thousands of sockets do not each parse it again).
#[derive(Debug)]
pub struct LiveFrame {
    /// The JSON text (valid UTF-8).
    pub text: Bytes,
    /// The exam it concerns.
    pub exam_id: ExamId,
    /// Whether students who joined the exam may receive it (a published exam's status);
    /// otherwise only teachers who may work on the exam.
    pub for_students: bool,
}

pub struct Announcer {
    bus: Arc<dyn EventBus>,
    topic: String,
    catalog: Arc<Catalog>,
    /// Announcements for `/api/v1/live`, encoded once for all clients.
    live: broadcast::Sender<Arc<LiveFrame>>,
}

impl Announcer {
    pub fn new(bus: Arc<dyn EventBus>, topic: String, catalog: Arc<Catalog>) -> Self {
        Announcer { bus, topic, catalog, live: broadcast::channel(256).0 }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.bus
    }

    /// Frames for `/api/v1/live`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveFrame>> {
        self.live.subscribe()
    }

    /// Applies an announcement and pushes it to this replica's browsers if it changed anything.
    pub fn apply(&self, a: &Announcement) {
        if self.catalog.apply(a) {
            self.push(a);
        }
    }

    /// Pushes to this replica's browsers only. The live feed reaches every open browser,
    /// students' included, so a submission goes out without who submitted or what they scored:
    /// only that an exam's results changed (teacher pages refetch on it).
    pub fn push(&self, a: &Announcement) {
        let (json, exam_id, for_students) = match a {
            // Browsers learn of a deletion when they next load (the deleting teacher's page
            // moves on by itself); the frame contract stays as it is.
            Announcement::ExamDeleted { .. } => return,
            Announcement::Submission { exam_id, attempt, submitted_at, .. } => (
                serde_json::to_vec(
                    &serde_json::json!({"type": "submission", "exam_id": exam_id, "attempt": attempt, "submitted_at": submitted_at}),
                ),
                exam_id,
                false,
            ),
            Announcement::ExamStatus { exam_id, status, .. } => (serde_json::to_vec(a), exam_id, *status == ExamStatus::Published),
        };
        if let Ok(json) = json {
            let _ = self.live.send(Arc::new(LiveFrame { text: Bytes::from(json), exam_id: exam_id.clone(), for_students }));
        }
    }

    /// Applies locally, then tells the other replicas.
    pub fn announce(&self, a: Announcement) {
        self.apply(&a);
        self.broadcast(a);
    }

    /// Tells the other replicas (see `bus::publish_in_background`).
    pub fn broadcast(&self, a: Announcement) {
        let Ok(payload) = serde_json::to_vec(&a) else { return };
        crate::bus::publish_in_background(self.bus.clone(), self.topic.clone(), a.key().to_owned(), Bytes::from(payload));
    }
}
