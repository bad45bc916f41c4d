//! The audit log: who did what, when, from where. Appended to the store, one object per event
//! (`audit/<scope>/<time>-<random>.json`, never overwritten), so replicas never contend.
//! The scope is an exam (its owner reads it) or a teacher (sign-ins, tokens, invitations:
//! that teacher reads it).

use std::sync::Arc;

use exam_domain::ExamId;
use exam_domain::identity::TeacherId;

use super::secrets;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::{self, ObjectStore, PutMode};

const AUDIT_PREFIX: &str = "audit/";
/// Most events returned by one read (newest kept).
pub const MAX_EVENTS: usize = 1000;

pub use exam_domain::identity::AuditEvent;

pub enum Scope<'a> {
    Exam(&'a ExamId),
    Teacher(&'a TeacherId),
}

impl Scope<'_> {
    fn prefix(&self) -> String {
        match self {
            Scope::Exam(e) => format!("{AUDIT_PREFIX}exams/{e}/"),
            Scope::Teacher(t) => format!("{AUDIT_PREFIX}teachers/{t}/"),
        }
    }
}

pub struct Audit {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    /// Orders this replica's events within one millisecond.
    seq: std::sync::atomic::AtomicU64,
}

impl Audit {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        Audit { store, clock, seq: std::sync::atomic::AtomicU64::new(0) }
    }

    /// Appends an event. A store failure is logged, not raised: the action itself succeeded
    /// and must not be undone because its log line could not be written.
    pub async fn record(
        &self,
        scope: Scope<'_>,
        action: &str,
        actor: Option<&TeacherId>,
        exam: Option<&ExamId>,
        from: Option<&str>,
        detail: &str,
    ) {
        let at = self.clock.now_rfc3339();
        let event = AuditEvent {
            at: at.clone(),
            action: action.to_owned(),
            actor: actor.cloned(),
            exam: exam.cloned(),
            from: from.map(str::to_owned),
            detail: detail.chars().take(500).collect(),
        };
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("{}{}-{seq:010}-{}.json", scope.prefix(), at.replace(':', ""), &secrets::random_hex_id()[..8]);
        if let Err(e) = store::put_json(self.store.as_ref(), &key, &event, PutMode::CreateNew).await {
            tracing::warn!(error = %e, action, "could not append to the audit log");
        }
        tracing::info!(action, actor = ?actor.map(TeacherId::as_str), exam = ?exam.map(ExamId::as_str), from, "audit");
    }

    /// The scope's events, oldest first (the newest [`MAX_EVENTS`]).
    pub async fn read(&self, scope: Scope<'_>) -> Result<Vec<AuditEvent>, ServiceError> {
        let mut keys: Vec<String> = self.store.list(&scope.prefix()).await?.into_iter().map(|i| i.key).collect();
        keys.sort();
        let skip = keys.len().saturating_sub(MAX_EVENTS);
        let mut out = Vec::new();
        for key in keys.into_iter().skip(skip) {
            if let Some(e) = store::get_json::<AuditEvent>(self.store.as_ref(), &key).await? {
                out.push(e);
            }
        }
        Ok(out)
    }
}
