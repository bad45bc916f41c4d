//! Exam platform core: everything between the HTTP edge and the outside world.
//!
//! * [`store`]: the object-store port ([`store::ObjectStore`]) and the embedded directory
//!   store. The S3 adapter implements the same trait.
//! * [`bus`]: the event-bus port ([`bus::EventBus`]) and the in-process bus. The Kafka adapter
//!   implements the same trait.
//! * [`notify`]: a store wrapper that publishes the MinIO-shaped object-created notification,
//!   playing the bucket notification's part where the store has none (always in embedded mode).
//! * [`generation`]: document → validated questions, with the built-in generator or a language
//!   model (the [`generation::QuestionModel`] port); also regenerates single questions.
//! * [`pipeline`]: generation, started by an object-created notification: document → question
//!   bank → announcement. Runs in-process (embedded) or behind the generator function.
//! * [`catalog`]: the gateway's in-memory view of all exams, rebuilt from the store at start and
//!   kept current by announcements.
//! * [`records`]: reading and writing the stored records (keys, `CreateNew` rules, caches).
//! * [`authoring`]: the teacher's use-cases: upload, import, drafts and edits, publish, export.
//! * [`rules`]: how each exam is sat (settings, accommodations, close, release), cached briefly.
//! * [`attempts`]: the student's use-cases: papers, attempts, answers, deadlines, submissions.
//! * [`announce`]: applying announcements locally and telling the other replicas.
//! * [`service`]: [`service::Platform`], the thin facade the gateway calls.
//! * [`identity`]: teacher accounts, the setup link, access tokens and exam ownership.
//! * [`lifecycle`]: deleting an exam, erasing a student's data, exam archives.
//! * [`metrics`]: the Prometheus families the use-cases and adapters record, and the store and
//!   bus wrappers that time every operation.
//! * [`clock`]: the injected clock (tests move time instead of sleeping).
//!
//! Architecture invariant: nothing here knows about HTTP, WebSockets or HTML; the answer key
//! leaves only through the teacher's views ([`authoring`]) and the student reports the review
//! policy allows ([`attempts`]).

pub mod announce;
pub mod attempts;
pub mod authoring;
pub mod bus;
pub mod catalog;
pub mod clock;
pub mod error;
pub mod generation;
pub mod identity;
pub mod lifecycle;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod records;
pub mod rules;
pub mod service;
pub mod store;

/// RFC 3339 UTC timestamp with milliseconds; sorts lexicographically.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// A credential. Debug and Display print `***`, so settings can be logged whole.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The one of `items` that `key` falls on (striped locks: one per key would grow without bound,
/// one for all would serialise unrelated keys).
pub(crate) fn stripe<'a, T, K: std::hash::Hash + ?Sized>(items: &'a [T], key: &K) -> &'a T {
    use std::hash::{BuildHasher as _, BuildHasherDefault, DefaultHasher};
    let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
    &items[usize::try_from(h % items.len() as u64).unwrap_or(0)]
}
