//! A platform on a temporary directory store, the in-process bus and a manual clock: the
//! use-cases without HTTP.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use exam_core::bus::InProcessBus;
use exam_core::clock::ManualClock;
use exam_core::generation::{Extractor, Generation};
use exam_core::service::{Platform, PlatformConfig};
use exam_core::store::FsStore;
use exam_domain::{ExamId, PassMark};

pub struct Fixture {
    pub platform: Arc<Platform>,
    pub clock: ManualClock,
    pub store: Arc<FsStore>,
    pub bus: Arc<InProcessBus>,
    pub dir: tempfile::TempDir,
}

pub const START: &str = "2026-12-01T09:00:00Z";

/// The teacher who owns the fixtures' exams.
pub fn owner() -> exam_domain::identity::TeacherId {
    exam_domain::identity::TeacherId::parse("0123456789abcdef0123456789abcdef").unwrap()
}

pub async fn platform() -> Fixture {
    platform_in(tempfile::tempdir().unwrap()).await
}

/// A platform on the store in `dir`: a second one on the same directory is a restart.
pub async fn platform_in(dir: tempfile::TempDir) -> Fixture {
    let store = Arc::new(FsStore::open(dir.path(), "exams").await.unwrap());
    let bus = Arc::new(InProcessBus::new(64));
    let clock = ManualClock::at(START);
    let generation = Arc::new(Generation::builtin(store.clone(), Extractor::InProcess, Duration::from_secs(10)));
    let platform = Platform::new(
        store.clone(),
        bus.clone(),
        PlatformConfig {
            announcements_topic: "announcements".into(),
            pass_mark: PassMark::default(),
            generation,
            clock: Arc::new(clock.clone()),
        },
    );
    platform.start().await.unwrap();
    Fixture { platform, clock, store, bus, dir }
}

/// A second gateway replica: the same store and bus, its own catalog and caches.
pub async fn replica(f: &Fixture) -> Arc<Platform> {
    replica_on(f, f.store.clone()).await
}

/// A bank of `n` four-option questions; the correct answer of each is its first option ("a").
pub fn bank_json(n: usize) -> Vec<u8> {
    let qs: Vec<serde_json::Value> = (1..=n)
        .map(|i| serde_json::json!({"question": format!("Question {i}?"), "options": [format!("right {i}"), "w1", "w2", "w3"], "correct_answer": format!("right {i}")}))
        .collect();
    serde_json::to_vec(&qs).unwrap()
}

impl Fixture {
    /// Imports and publishes an exam of `n` questions.
    pub async fn published(&self, n: usize) -> ExamId {
        let exam = self.platform.authoring().import_exam(&owner(), Some("Sitting".into()), "bank.json", &bank_json(n)).await.unwrap();
        self.platform.authoring().publish(&exam.id).await.unwrap();
        exam.id
    }

    pub async fn settings(&self, id: &ExamId, body: serde_json::Value) {
        self.platform.put_settings(id, &body).await.unwrap();
    }
}

/// A second gateway replica whose store is `store` (a wrapper over the fixture's).
pub async fn replica_on(f: &Fixture, store: Arc<dyn exam_core::store::ObjectStore>) -> Arc<Platform> {
    let generation = Arc::new(Generation::builtin(store.clone(), Extractor::InProcess, Duration::from_secs(10)));
    let platform = Platform::new(
        store,
        f.bus.clone(),
        PlatformConfig {
            announcements_topic: "announcements".into(),
            pass_mark: PassMark::default(),
            generation,
            clock: Arc::new(f.clock.clone()),
        },
    );
    platform.start().await.unwrap();
    platform
}

pub fn q(s: &str) -> exam_domain::QuestionId {
    exam_domain::QuestionId::parse(s).unwrap()
}
pub fn o(s: &str) -> exam_domain::OptionId {
    exam_domain::OptionId::parse(s).unwrap()
}
pub fn ada() -> exam_domain::Student {
    exam_domain::Student::parse("Ada").unwrap()
}
