//! The gateway's use-cases. Handlers (HTTP, WebSocket, server functions) call these and
//! nothing else; everything here speaks only to the ports.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use exam_domain::keys::{self, meta};
use exam_domain::{
    Announcement, ExamId, ExamPaper, ExamStatus, ExamSummary, GenerationParams, OptionId, PassMark, QuestionBank, QuestionId, Stage,
    Student, SubmissionRecord, TeacherExam, grade,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::bus::{EventBus, Group};
use crate::catalog::{Catalog, submission_announcement};
use crate::pipeline::encode_meta;
use crate::store::{self, ObjectMeta, ObjectStore, PutMode, StoreError};

/// What went wrong, in words a user can act on. The HTTP layer maps kinds to status codes.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0}")]
    Conflict(String),
    /// A dependency is down; nothing was lost, the user may retry.
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "object store failure");
        ServiceError::Unavailable("The document store is not reachable right now. Nothing was lost; please try again in a moment.".into())
    }
}

#[derive(Debug, Clone)]
pub struct PlatformConfig {
    pub announcements_topic: String,
    pub pass_mark: PassMark,
    /// Question writing, for regenerating single questions of a draft.
    pub generation: Arc<crate::generation::Generation>,
}

/// A document already spooled to local disk by the HTTP layer.
#[derive(Debug)]
pub struct NewExam {
    pub title: Option<String>,
    pub file_name: String,
    pub params: GenerationParams,
    pub file: PathBuf,
}

/// An unsubmitted attempt, autosaved at `attempts/<exam>/<student>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptState {
    pub exam_id: ExamId,
    pub student: Student,
    /// The number this attempt will have when submitted (1 for a first attempt).
    pub attempt: u32,
    pub answers: BTreeMap<QuestionId, OptionId>,
    pub started_at: String,
    pub updated_at: String,
}

pub struct Platform {
    store: Arc<dyn ObjectStore>,
    bus: Arc<dyn EventBus>,
    config: PlatformConfig,
    catalog: Catalog,
    /// Question banks are immutable once written; cached after first use.
    banks: RwLock<HashMap<ExamId, Arc<QuestionBank>>>,
    /// Serialised announcements for `/api/v1/live`, encoded once for all clients.
    live: broadcast::Sender<Arc<str>>,
}

const MAX_TITLE: usize = 200;

impl Platform {
    pub fn new(store: Arc<dyn ObjectStore>, bus: Arc<dyn EventBus>, config: PlatformConfig) -> Arc<Self> {
        Arc::new(Platform { store, bus, config, catalog: Catalog::default(), banks: RwLock::default(), live: broadcast::channel(256).0 })
    }

    /// Subscribes to announcements, rebuilds the catalog from the store, then follows the
    /// announcements in a background task. Subscribing first means nothing announced during
    /// the rebuild is missed.
    pub async fn start(self: &Arc<Self>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let mut stream = self.bus.subscribe(&self.config.announcements_topic, Group::EveryInstance).await?;
        let banks = self.catalog.rebuild(self.store.as_ref()).await?;
        {
            let mut cache = self.banks.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for b in banks {
                cache.insert(b.exam_id.clone(), Arc::new(b));
            }
        }
        tracing::info!(exams = self.catalog.list().len(), "catalog rebuilt from the store");
        let this = self.clone();
        Ok(tokio::spawn(async move {
            while let Some(d) = stream.next().await {
                match serde_json::from_slice::<Announcement>(&d.message.payload) {
                    Ok(a) => this.apply(&a),
                    Err(e) => tracing::warn!(error = %e, "ignoring unreadable announcement"),
                }
                d.ack().await;
            }
        }))
    }

    /// Applies an announcement and pushes it to this replica's browsers if it changed anything.
    fn apply(&self, a: &Announcement) {
        if self.catalog.apply(a)
            && let Ok(json) = serde_json::to_string(a)
        {
            let _ = self.live.send(Arc::from(json));
        }
    }

    /// Applies locally, then tells the other replicas.
    async fn announce(self: &Arc<Self>, a: Announcement) {
        self.apply(&a);
        self.broadcast(a);
    }

    /// Tells the other replicas, in the background (see `bus::publish_in_background`): no
    /// request waits for the broker.
    fn broadcast(self: &Arc<Self>, a: Announcement) {
        let Ok(payload) = serde_json::to_vec(&a) else { return };
        crate::bus::publish_in_background(
            self.bus.clone(),
            self.config.announcements_topic.clone(),
            a.key().to_owned(),
            Bytes::from(payload),
        );
    }

    /// Question writing (built-in or a language model): [`crate::generation::Generation::regenerate_question`].
    pub fn generation(&self) -> &crate::generation::Generation {
        &self.config.generation
    }

    /// Frames for `/api/v1/live`.
    pub fn live(&self) -> broadcast::Receiver<Arc<str>> {
        self.live.subscribe()
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

    /// Stores an uploaded document; its bucket notification starts generation.
    pub async fn create_exam(self: &Arc<Self>, new: NewExam) -> Result<ExamSummary, ServiceError> {
        let id = ExamId::parse(&uuid::Uuid::now_v7().simple().to_string()).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let title = new.title.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).unwrap_or_else(|| {
            let base = new.file_name.rsplit(['/', '\\']).next().unwrap_or("");
            base.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(base).trim().to_owned()
        });
        let title = if title.is_empty() { "Untitled exam".to_owned() } else { title };
        if title.chars().count() > MAX_TITLE {
            return Err(ServiceError::Invalid { field: "title", message: format!("must be at most {MAX_TITLE} characters") });
        }
        let created_at = crate::now_rfc3339();
        let key = keys::upload_key(&id, &new.file_name);
        let mut object_meta = ObjectMeta { content_type: "application/pdf".into(), user: BTreeMap::new() };
        for (k, v) in [
            (meta::EXAM_ID, id.to_string()),
            (meta::TITLE, encode_meta(&title)),
            (meta::FILENAME, encode_meta(&new.file_name)),
            (meta::CREATED_AT, created_at.clone()),
            (meta::MCQ, new.params.mcq.to_string()),
            (meta::OPTIONS, new.params.options.to_string()),
            (meta::TRUE_FALSE, new.params.true_false.to_string()),
        ] {
            object_meta.user.insert(k.to_owned(), v);
        }
        let stored = Announcement::stage(id.clone(), Stage::Stored, created_at).with_title(Some(title.clone()));
        // Enter the catalog before the object exists: the generator may announce progress
        // before `put_file` returns, and stages only move forward.
        self.catalog.apply(&stored);
        if let Err(e) = self.store.put_file(&key, &new.file, &object_meta).await {
            self.catalog.remove(&id);
            return Err(e.into());
        }
        tracing::info!(exam.id = %id, object.key = %key, "document stored");
        // Already applied above; now push it to this replica's browsers and tell the others.
        if let Ok(json) = serde_json::to_string(&stored) {
            let _ = self.live.send(Arc::from(json));
        }
        self.broadcast(stored);
        self.exam(&id)
    }

    pub async fn bank(&self, id: &ExamId) -> Result<Arc<QuestionBank>, ServiceError> {
        if let Some(b) = self.banks.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id) {
            return Ok(b.clone());
        }
        let Some((bytes, _)) = self.store.get(&keys::bank_key(id)).await? else {
            return Err(ServiceError::NotFound(format!("question bank of exam {id}")));
        };
        let bank = QuestionBank::from_json(&bytes, id, id.as_str()).map_err(|e| {
            tracing::error!(exam.id = %id, error = %e, "stored question bank is unreadable");
            ServiceError::Conflict(format!("The stored question bank of this exam is unreadable: {e}"))
        })?;
        let bank = Arc::new(bank);
        self.banks.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.clone(), bank.clone());
        Ok(bank)
    }

    /// Every question with its key and source: teachers only.
    pub async fn teacher_exam(&self, id: &ExamId) -> Result<TeacherExam, ServiceError> {
        let exam = self.exam(id)?;
        let questions = match exam.status {
            ExamStatus::Draft | ExamStatus::Published => self.bank(id).await?.questions.clone(),
            ExamStatus::Generating | ExamStatus::Failed => Vec::new(),
        };
        Ok(TeacherExam { exam, questions })
    }

    pub async fn publish(self: &Arc<Self>, id: &ExamId) -> Result<ExamSummary, ServiceError> {
        let exam = self.exam(id)?;
        match exam.status {
            ExamStatus::Published => return Ok(exam),
            ExamStatus::Draft => {}
            ExamStatus::Generating => return Err(ServiceError::Conflict("The exam is still being generated.".into())),
            ExamStatus::Failed => return Err(ServiceError::Conflict("Generation failed; there is nothing to publish.".into())),
        }
        let at = crate::now_rfc3339();
        let record = serde_json::json!({ "exam_id": id, "published_at": at, "question_count": exam.question_count });
        store::put_json(self.store.as_ref(), &keys::publication_key(id), &record, PutMode::Overwrite).await?;
        self.announce(Announcement::stage(id.clone(), Stage::Published, at)).await;
        tracing::info!(exam.id = %id, "exam published");
        self.exam(id)
    }

    async fn published_bank(&self, id: &ExamId) -> Result<Arc<QuestionBank>, ServiceError> {
        match self.catalog.status(id) {
            Some(ExamStatus::Published) => self.bank(id).await,
            _ => Err(ServiceError::NotFound(format!("published exam {id}"))),
        }
    }

    /// The student's key-free paper; only for published exams.
    pub async fn paper(&self, id: &ExamId) -> Result<ExamPaper, ServiceError> {
        Ok(self.published_bank(id).await?.paper())
    }

    /// Continues the student's unsubmitted attempt, or starts one.
    pub async fn open_attempt(&self, id: &ExamId, student: Student) -> Result<AttemptState, ServiceError> {
        self.published_bank(id).await?;
        let key = keys::attempt_key(id, &student.key());
        if let Some(state) = store::get_json::<AttemptState>(self.store.as_ref(), &key).await? {
            return Ok(state);
        }
        let attempt = self.next_attempt_number(id, &student).await?;
        let now = crate::now_rfc3339();
        Ok(AttemptState { exam_id: id.clone(), student, attempt, answers: BTreeMap::new(), started_at: now.clone(), updated_at: now })
    }

    async fn next_attempt_number(&self, id: &ExamId, student: &Student) -> Result<u32, ServiceError> {
        let prefix = format!("{}{}/", keys::submissions_prefix(id), student.key());
        let n = self.store.list(&prefix).await?.len();
        Ok(u32::try_from(n).unwrap_or(u32::MAX - 1) + 1)
    }

    /// Records one answer durably; returns once it is stored.
    pub async fn save_answer(&self, state: &mut AttemptState, question: QuestionId, option: OptionId) -> Result<(), ServiceError> {
        let bank = self.published_bank(&state.exam_id).await?;
        let q = bank
            .question(&question)
            .ok_or_else(|| ServiceError::Invalid { field: "question_id", message: format!("no question {question} in this exam") })?;
        if q.option_text(&option).is_none() {
            return Err(ServiceError::Invalid { field: "option_id", message: format!("question {question} has no option {option}") });
        }
        let previous = state.answers.insert(question.clone(), option);
        state.updated_at = crate::now_rfc3339();
        let key = keys::attempt_key(&state.exam_id, &state.student.key());
        if let Err(e) = store::put_json(self.store.as_ref(), &key, state, PutMode::Overwrite).await {
            // Keep memory and store in step: the answer is not saved.
            match previous {
                Some(p) => state.answers.insert(question, p),
                None => state.answers.remove(&question),
            };
            return Err(e.into());
        }
        Ok(())
    }

    /// Grades and stores a submission, never overwriting an earlier one, then announces it.
    pub async fn submit(
        self: &Arc<Self>,
        id: &ExamId,
        student: Student,
        answers: BTreeMap<QuestionId, OptionId>,
    ) -> Result<SubmissionRecord, ServiceError> {
        let bank = self.published_bank(id).await?;
        let report = grade(&bank, &answers, self.config.pass_mark);
        let mut attempt = self.next_attempt_number(id, &student).await?;
        let record = loop {
            let record = SubmissionRecord {
                exam_id: id.clone(),
                student: student.to_string(),
                attempt,
                submitted_at: crate::now_rfc3339(),
                answers: answers.clone(),
                report: report.clone(),
            };
            let key = keys::submission_key(id, &student.key(), attempt);
            match store::put_json(self.store.as_ref(), &key, &record, PutMode::CreateNew).await {
                Ok(_) => break record,
                // Another tab or replica took this number first: take the next one.
                Err(StoreError::AlreadyExists(_)) if attempt < 10_000 => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        };
        if let Err(e) = self.store.delete(&keys::attempt_key(id, &student.key())).await {
            tracing::warn!(error = %e, "submitted, but the autosaved attempt could not be removed");
        }
        tracing::info!(exam.id = %id, attempt, score = record.report.score, total = record.report.total, "submission stored");
        self.announce(submission_announcement(&record)).await;
        Ok(record)
    }

    /// Submits an autosaved attempt.
    pub async fn submit_attempt(self: &Arc<Self>, state: &AttemptState) -> Result<SubmissionRecord, ServiceError> {
        self.submit(&state.exam_id, state.student.clone(), state.answers.clone()).await
    }

    /// All stored submissions of an exam, oldest first.
    pub async fn submissions(&self, id: &ExamId) -> Result<Vec<SubmissionRecord>, ServiceError> {
        self.exam(id)?;
        let mut out = Vec::new();
        for info in self.store.list(&keys::submissions_prefix(id)).await? {
            if let Some(r) = store::get_json::<SubmissionRecord>(self.store.as_ref(), &info.key).await? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at));
        Ok(out)
    }

    /// Readiness of both dependencies.
    pub async fn check(&self) -> Result<(), String> {
        self.store.check().await.map_err(|e| e.to_string())?;
        self.bus.check().await.map_err(|e| e.to_string())
    }
}
