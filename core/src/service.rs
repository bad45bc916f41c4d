//! The gateway's entry into the use-cases: a thin facade that wires [`Authoring`],
//! [`Attempts`] and [`Rules`] over one [`Records`], one [`Catalog`] and one [`Announcer`], and
//! follows the announcements topic. Handlers (HTTP, WebSocket, server functions) call these and
//! nothing else; everything here speaks only to the ports.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use exam_domain::records::OverridesRecord;
use exam_domain::sitting::{ExamSettings, StudentOverride, kept_submission};
use exam_domain::stats::ExamStatistics;
use exam_domain::{Announcement, ExamId, ExamStatus, ExamSummary, PassMark, PublishedVersion, Student, SubmissionRecord};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::broadcast;

pub use crate::attempts::{Attempts, Submitted};
pub use crate::authoring::{Authoring, NewExam};
pub use crate::error::ServiceError;
pub use exam_domain::AttemptState;

use crate::announce::Announcer;
use crate::bus::{EventBus, Group};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::identity::IdentityService;
use crate::lifecycle::Lifecycle;
use crate::records::Records;
use crate::rules::Rules;
use crate::store::ObjectStore;
use exam_domain::identity::{JoinCode, TeacherId};

#[derive(Debug, Clone)]
pub struct PlatformConfig {
    pub announcements_topic: String,
    /// The pass mark of exams whose teacher has not set one (`EXAM_PASS_MARK`).
    pub pass_mark: PassMark,
    /// Question writing, for regenerating single questions of a draft.
    pub generation: Arc<crate::generation::Generation>,
    pub clock: Arc<dyn Clock>,
}

pub struct Platform {
    store: Arc<dyn ObjectStore>,
    records: Arc<Records>,
    catalog: Arc<Catalog>,
    announcer: Arc<Announcer>,
    authoring: Authoring,
    attempts: Arc<Attempts>,
    rules: Arc<Rules>,
    identity: Arc<IdentityService>,
    lifecycle: Arc<Lifecycle>,
}

impl Platform {
    pub fn new(store: Arc<dyn ObjectStore>, bus: Arc<dyn EventBus>, config: PlatformConfig) -> Arc<Self> {
        Self::with_metrics(store, bus, config, crate::metrics::CoreMetrics::default())
    }

    /// [`Platform::new`], counting answers and submissions in `metrics`.
    pub fn with_metrics(
        store: Arc<dyn ObjectStore>,
        bus: Arc<dyn EventBus>,
        config: PlatformConfig,
        metrics: crate::metrics::CoreMetrics,
    ) -> Arc<Self> {
        let records = Arc::new(Records::new(store.clone()));
        let catalog = Arc::new(Catalog::default());
        let announcer = Arc::new(Announcer::new(bus, config.announcements_topic, catalog.clone()));
        let rules = Arc::new(Rules::new(records.clone(), config.clock.clone(), config.pass_mark));
        let identity = Arc::new(IdentityService::new(store.clone(), config.clock.clone()));
        let authoring = Authoring::new(
            records.clone(),
            catalog.clone(),
            announcer.clone(),
            config.generation,
            identity.access.clone(),
            config.clock.clone(),
        );
        let attempts = Arc::new(
            Attempts::new(records.clone(), catalog.clone(), announcer.clone(), rules.clone(), config.clock.clone()).with_metrics(metrics),
        );
        let lifecycle =
            Arc::new(Lifecycle::new(records.clone(), catalog.clone(), announcer.clone(), identity.clone(), rules.clone(), config.clock));
        Arc::new(Platform { store, records, catalog, announcer, authoring, attempts, rules, identity, lifecycle })
    }

    /// Subscribes to announcements, rebuilds the catalog from the store, then follows the
    /// announcements in a background task. Subscribing first means nothing announced during
    /// the rebuild is missed.
    pub async fn start(self: &Arc<Self>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let mut stream = self.announcer.bus().subscribe(self.announcer.topic(), Group::EveryInstance).await?;
        for bank in self.catalog.rebuild(self.store.as_ref()).await? {
            self.records.cache_bank(Arc::new(bank));
        }
        tracing::info!(exams = self.catalog.list().len(), "catalog rebuilt from the store");
        let lifecycle = self.lifecycle.clone();
        // Deletions a restart interrupted are finished in the background: the exams are
        // already out of the catalog.
        tokio::spawn({
            let lifecycle = lifecycle.clone();
            async move {
                if let Err(e) = lifecycle.resume().await {
                    tracing::warn!(error = %e, "could not finish interrupted deletions (retried at the next start)");
                }
            }
        });
        let (announcer, catalog) = (self.announcer.clone(), self.catalog.clone());
        Ok(tokio::spawn(async move {
            while let Some(d) = stream.next().await {
                // A child of the publisher's span (the generator's, another replica's).
                let span = d.message.consumer_span("apply announcement");
                let entered = span.enter();
                match serde_json::from_slice::<Announcement>(&d.message.payload) {
                    // News of a deleted exam (a generation that was still running wrote its
                    // bank late): what it wrote is removed again.
                    Ok(a) if !matches!(a, Announcement::ExamDeleted { .. }) && catalog.is_deleted(a.exam_id()) => {
                        let (lifecycle, id) = (lifecycle.clone(), a.exam_id().clone());
                        tokio::spawn(async move {
                            if let Err(e) = lifecycle.purge(&id).await {
                                tracing::warn!(exam.id = %id, error = %e, "could not remove a deleted exam's late objects");
                            }
                        });
                    }
                    Ok(a) => announcer.apply(&a),
                    Err(e) => tracing::warn!(error = %e, "ignoring unreadable announcement"),
                }
                drop(entered);
                d.ack().await;
            }
        }))
    }

    /// Submits expired attempts every `every` (see [`Attempts::sweep`]).
    pub fn spawn_sweeper(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        self.attempts.clone().spawn_sweeper(every)
    }

    /// The teacher's use-cases on questions and versions.
    pub fn authoring(&self) -> &Authoring {
        &self.authoring
    }

    /// Deleting exams, erasing students, exam archives.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Accounts, the setup link, access tokens and exam ownership.
    pub fn identity(&self) -> &IdentityService {
        &self.identity
    }

    /// The exams `teacher` may see (owned or shared), newest first as in the catalog, each
    /// with its join code.
    pub async fn exams_of(&self, teacher: &TeacherId) -> Result<Vec<ExamSummary>, ServiceError> {
        let mut out = Vec::new();
        for mut e in self.catalog.list() {
            if self.identity.access.allows(teacher, &e.id).await? {
                e.join_code = Some(self.identity.join.code_of(&e.id).await?.to_string());
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The teacher's view of an exam, with its join code.
    pub async fn teacher_exam(&self, id: &ExamId) -> Result<exam_domain::TeacherExam, ServiceError> {
        let mut exam = self.authoring.teacher_exam(id).await?;
        exam.join_code = Some(self.identity.join.code_of(id).await?.to_string());
        Ok(exam)
    }

    /// A new join code for `id` (the old one stops working), audited.
    pub async fn regenerate_join_code(&self, by: &TeacherId, id: &ExamId) -> Result<JoinCode, ServiceError> {
        self.exam(id)?;
        let code = self.identity.join.regenerate(id).await?;
        self.identity.audit.record(crate::identity::audit::Scope::Exam(id), "join_code_regenerated", Some(by), Some(id), None, "").await;
        Ok(code)
    }

    /// A published exam's summary, or "not found" (drafts and failures are the teacher's).
    pub fn published_exam(&self, id: &ExamId) -> Result<ExamSummary, ServiceError> {
        self.exam(id)
            .ok()
            .filter(|e| e.status == ExamStatus::Published)
            .ok_or_else(|| ServiceError::NotFound(format!("exam {id} (not published)")))
    }

    /// Joins `id` with its `code` under the display name `name`: the student the attempts
    /// are filed under (`name`, or `name (2)` when another browser holds it). `Forbidden` for a
    /// wrong code, which the caller counts towards the join limits.
    pub async fn join(&self, id: &ExamId, code: &JoinCode, name: &Student) -> Result<Student, ServiceError> {
        self.published_exam(id)?;
        if !self.identity.join.is_code_of(id, code).await? {
            return Err(ServiceError::Forbidden("This join code is not right for this exam. Check it with your teacher.".into()));
        }
        self.identity.join.claim(id, name, "join").await
    }

    /// The published exam a code opens (`Forbidden` for a code that opens none).
    pub async fn exam_for_code(&self, code: &JoinCode) -> Result<ExamId, ServiceError> {
        match self.identity.join.exam_for(code).await? {
            Some(id) if self.published_exam(&id).is_ok() => Ok(id),
            Some(_) => Err(ServiceError::NotFound("This exam is not published yet. Ask your teacher when it opens.".into())),
            None => Err(ServiceError::Forbidden("No exam has this join code. Check it with your teacher.".into())),
        }
    }

    /// Publishes the draft as `by`, and says so in the exam's audit log.
    pub async fn publish_as(&self, by: &TeacherId, id: &ExamId) -> Result<ExamSummary, ServiceError> {
        let exam = self.authoring.publish(id).await?;
        let detail = self.catalog.get(id).map(|e| format!("{} questions", e.question_count)).unwrap_or_default();
        self.identity.audit.record(crate::identity::audit::Scope::Exam(id), "publish", Some(by), Some(id), None, &detail).await;
        Ok(exam)
    }

    /// The student's use-cases (and the server's, when time runs out).
    pub fn attempts(&self) -> &Attempts {
        &self.attempts
    }

    /// Frames for `/api/v1/live`.
    pub fn live(&self) -> broadcast::Receiver<Arc<crate::announce::LiveFrame>> {
        self.announcer.subscribe()
    }

    pub fn exams(&self) -> Vec<ExamSummary> {
        self.catalog.list()
    }

    pub fn published(&self) -> Vec<ExamSummary> {
        self.catalog.list().into_iter().filter(|e| e.status == ExamStatus::Published).collect()
    }

    pub fn exam(&self, id: &ExamId) -> Result<ExamSummary, ServiceError> {
        self.catalog.get(id).ok_or_else(|| ServiceError::NotFound(format!("exam {id}")))
    }

    /// A published version with its key (teachers only).
    pub async fn version(&self, id: &ExamId, n: u32) -> Result<Arc<PublishedVersion>, ServiceError> {
        self.exam(id)?;
        self.records.version(id, n).await
    }

    /// All stored submissions of an exam, oldest first (teachers only).
    pub async fn submissions(&self, id: &ExamId) -> Result<Vec<SubmissionRecord>, ServiceError> {
        self.exam(id)?;
        self.records.submissions(id).await
    }

    /// The `(student key, attempt)` of each student's submission that counts under the exam's
    /// grade policy.
    pub async fn kept(&self, id: &ExamId, subs: &[SubmissionRecord]) -> Result<BTreeSet<(String, u32)>, ServiceError> {
        let policy = self.rules.get(id).await?.settings.grade;
        let mut by_student: std::collections::BTreeMap<String, Vec<&SubmissionRecord>> = std::collections::BTreeMap::new();
        for s in subs {
            by_student.entry(student_key(&s.student)).or_default().push(s);
        }
        Ok(by_student.into_iter().filter_map(|(k, list)| kept_submission(&list, policy).map(|i| (k, list[i].attempt))).collect())
    }

    /// Item analysis of one published version (default: the latest). Each student counts once,
    /// with the submission on that version that the grade policy keeps.
    pub async fn statistics(&self, id: &ExamId, version: Option<u32>) -> Result<ExamStatistics, ServiceError> {
        let exam = self.exam(id)?;
        let n = match version {
            Some(n) => n,
            None => *self
                .records
                .version_numbers(id)
                .await?
                .last()
                .ok_or_else(|| ServiceError::Conflict("The exam has not been published yet; there is nothing to analyse.".into()))?,
        };
        let v = self.records.version(id, n).await?;
        let subs: Vec<SubmissionRecord> = self.records.submissions(id).await?.into_iter().filter(|s| s.version == n).collect();
        let kept = self.kept(id, &subs).await?;
        let responses: Vec<_> =
            subs.iter().filter(|s| kept.contains(&(student_key(&s.student), s.attempt))).map(|s| s.answers.clone()).collect();
        let mut stats = exam_domain::stats::analyse(&v.bank, n, &responses);
        stats.title = exam.title;
        Ok(stats)
    }

    // --- how the exam is sat (teachers) ---

    pub async fn settings(&self, id: &ExamId) -> Result<ExamSettings, ServiceError> {
        self.exam(id)?;
        Ok(self.rules.get(id).await?.settings.clone())
    }

    pub async fn put_settings(&self, id: &ExamId, body: &Value) -> Result<ExamSettings, ServiceError> {
        self.exam(id)?;
        self.rules.put_settings(id, body).await
    }

    pub async fn overrides(&self, id: &ExamId) -> Result<OverridesRecord, ServiceError> {
        self.exam(id)?;
        Ok(self.rules.get(id).await?.overrides.clone())
    }

    pub async fn set_override(&self, id: &ExamId, student: &Student, o: StudentOverride) -> Result<OverridesRecord, ServiceError> {
        self.exam(id)?;
        self.rules.set_override(id, student, o).await
    }

    pub async fn extend(&self, id: &ExamId, student: &Student, secs: u32) -> Result<StudentOverride, ServiceError> {
        self.exam(id)?;
        self.rules.extend(id, student, secs).await
    }

    pub async fn close_now(&self, id: &ExamId) -> Result<ExamSettings, ServiceError> {
        self.exam(id)?;
        self.rules.close_now(id).await
    }

    pub async fn release_results(&self, id: &ExamId) -> Result<String, ServiceError> {
        self.exam(id)?;
        self.rules.release(id).await
    }

    /// Readiness of both dependencies.
    pub async fn check(&self) -> Result<(), String> {
        self.store.check().await.map_err(|e| e.to_string())?;
        self.announcer.bus().check().await.map_err(|e| e.to_string())
    }
}

fn student_key(name: &str) -> String {
    Student::parse(name).map(|s| s.key()).unwrap_or_else(|_| name.to_owned())
}
