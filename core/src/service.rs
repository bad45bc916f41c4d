//! The gateway's use-cases. Handlers (HTTP, WebSocket, server functions) call these and
//! nothing else; everything here speaks only to the ports.
//!
//! Review and versioning (rules in `exam_domain::versions`): the teacher edits a draft
//! (`drafts/<exam>.json`, or implicitly the generated bank before the first edit); publishing
//! freezes it as `versions/<exam>/<n>.json` (written once) and points
//! `publications/<exam>.json` at it. Students start attempts on the highest version; an attempt
//! keeps its version until it is submitted.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use exam_domain::keys::{self, meta};
use exam_domain::versions::{EditError, MAX_QUESTIONS};
use exam_domain::{
    Announcement, Draft, DraftInfo, ExamId, ExamPaper, ExamStatus, ExamSummary, GenerationParams, OptionId, PassMark, PublishedVersion,
    QuestionBank, QuestionEdit, QuestionId, Stage, Student, SubmissionRecord, TeacherExam, VersionInfo, grade,
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
    /// The exam version the attempt was opened on; it is graded against this version even if
    /// a newer one is published before it is submitted.
    #[serde(default = "exam_domain::versions::first_version")]
    pub version: u32,
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
    /// Published versions are immutable too; cached after first use.
    versions: RwLock<HashMap<(ExamId, u32), Arc<PublishedVersion>>>,
    /// Serialises draft edits and publications in this process, so an edit never reads a
    /// draft another request is about to replace (across replicas, the revision check in
    /// [`Platform::edit`] is the guard, with a small window: see ARCHITECTURE.md).
    editing: tokio::sync::Mutex<()>,
    /// Serialised announcements for `/api/v1/live`, encoded once for all clients.
    live: broadcast::Sender<Arc<str>>,
}

const MAX_TITLE: usize = 200;

impl Platform {
    pub fn new(store: Arc<dyn ObjectStore>, bus: Arc<dyn EventBus>, config: PlatformConfig) -> Arc<Self> {
        Arc::new(Platform {
            store,
            bus,
            config,
            catalog: Catalog::default(),
            banks: RwLock::default(),
            versions: RwLock::default(),
            editing: tokio::sync::Mutex::new(()),
            live: broadcast::channel(256).0,
        })
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

    /// The teacher's view: the draft (or the latest version) with keys, sources and flags, and
    /// the version history. Teachers only.
    pub async fn teacher_exam(&self, id: &ExamId) -> Result<TeacherExam, ServiceError> {
        let exam = self.exam(id)?;
        if matches!(exam.status, ExamStatus::Generating | ExamStatus::Failed) {
            return Ok(TeacherExam { exam, questions: Vec::new(), versions: Vec::new(), draft: None, revision: 0, can_regenerate: false });
        }
        let mut versions = Vec::new();
        for n in self.version_numbers(id).await? {
            versions.push(VersionInfo::from(self.version(id, n).await?.as_ref()));
        }
        let latest = versions.last().map(|v| v.version);
        let bank = self.bank(id).await?;
        let can_regenerate = !bank.source_key.is_empty();
        let (questions, draft, revision) = match self.load_draft(id, latest).await? {
            Some(d) => (d.bank.questions, Some(DraftInfo { based_on: d.based_on, updated_at: d.updated_at }), d.revision),
            None => match latest {
                Some(n) => (self.version(id, n).await?.bank.questions.clone(), None, 0),
                None => (bank.questions.clone(), Some(DraftInfo { based_on: None, updated_at: bank.created_at.clone() }), 0),
            },
        };
        Ok(TeacherExam { exam, questions, versions, draft, revision, can_regenerate })
    }

    /// Published version numbers, ascending. An exam published before versions existed gets
    /// its generated bank written as version 1 on first use.
    async fn version_numbers(&self, id: &ExamId) -> Result<Vec<u32>, ServiceError> {
        let mut numbers: Vec<u32> =
            self.store.list(&keys::versions_prefix(id)).await?.iter().filter_map(|o| keys::version_of_key(id, &o.key)).collect();
        numbers.sort_unstable();
        if numbers.is_empty() && self.catalog.status(id) == Some(ExamStatus::Published) {
            let bank = self.bank(id).await?;
            let at = crate::now_rfc3339();
            let v = Draft::first((*bank).clone(), at.clone()).freeze(1, at);
            match store::put_json(self.store.as_ref(), &keys::version_key(id, 1), &v, PutMode::CreateNew).await {
                Ok(_) | Err(StoreError::AlreadyExists(_)) => numbers.push(1),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(numbers)
    }

    /// One published version (cached: versions never change).
    pub async fn version(&self, id: &ExamId, n: u32) -> Result<Arc<PublishedVersion>, ServiceError> {
        if let Some(v) = self.versions.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&(id.clone(), n)) {
            return Ok(v.clone());
        }
        let v = store::get_json::<PublishedVersion>(self.store.as_ref(), &keys::version_key(id, n))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {n} of exam {id}")))?;
        let v = Arc::new(v);
        self.versions.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert((id.clone(), n), v.clone());
        Ok(v)
    }

    async fn latest_version(&self, id: &ExamId) -> Result<Option<Arc<PublishedVersion>>, ServiceError> {
        match self.version_numbers(id).await?.last() {
            Some(&n) => Ok(Some(self.version(id, n).await?)),
            None => Ok(None),
        }
    }

    /// The stored draft, unless it is stale: a draft not based on the latest version was
    /// already published (its removal failed) and must not resurface as pending changes.
    async fn load_draft(&self, id: &ExamId, latest: Option<u32>) -> Result<Option<Draft>, ServiceError> {
        let draft = store::get_json::<Draft>(self.store.as_ref(), &keys::draft_key(id)).await?;
        Ok(draft.filter(|d| d.based_on == latest))
    }

    /// The draft to change: the stored one, else a new one from the latest version, else the
    /// generated bank.
    async fn working_draft(&self, id: &ExamId) -> Result<Draft, ServiceError> {
        let latest = self.latest_version(id).await?;
        if let Some(d) = self.load_draft(id, latest.as_ref().map(|v| v.version)).await? {
            return Ok(d);
        }
        let at = crate::now_rfc3339();
        Ok(match latest {
            Some(v) => Draft::from_version(&v, at),
            None => {
                let bank = self.bank(id).await?;
                let mut d = Draft::first((*bank).clone(), at);
                d.updated_at.clone_from(&bank.created_at);
                d
            }
        })
    }

    fn editable(&self, id: &ExamId) -> Result<(), ServiceError> {
        match self.exam(id)?.status {
            ExamStatus::Draft | ExamStatus::Published => Ok(()),
            ExamStatus::Generating => Err(ServiceError::Conflict("The exam is still being generated.".into())),
            ExamStatus::Failed => Err(ServiceError::Conflict("Generation failed; there is nothing to edit.".into())),
        }
    }

    /// Applies one change to the draft and stores it. `revision`, when given, must be the
    /// revision the teacher saw; otherwise someone else changed the questions first.
    async fn edit(
        &self,
        id: &ExamId,
        revision: Option<u64>,
        change: impl FnOnce(&mut Draft, String) -> Result<(), EditError>,
    ) -> Result<TeacherExam, ServiceError> {
        self.editable(id)?;
        {
            let _guard = self.editing.lock().await;
            let mut draft = self.working_draft(id).await?;
            if let Some(r) = revision
                && r != draft.revision
            {
                return Err(ServiceError::Conflict(
                    "The questions were changed in another tab or by another teacher. Reload the page to see the current version, then make your change again.".into(),
                ));
            }
            change(&mut draft, crate::now_rfc3339()).map_err(edit_error)?;
            store::put_json(self.store.as_ref(), &keys::draft_key(id), &draft, PutMode::Overwrite).await?;
            tracing::info!(exam.id = %id, revision = draft.revision, based_on = ?draft.based_on, "draft changed");
        }
        self.teacher_exam(id).await
    }

    pub async fn edit_question(
        &self,
        id: &ExamId,
        question: &QuestionId,
        edit: QuestionEdit,
        revision: Option<u64>,
    ) -> Result<TeacherExam, ServiceError> {
        self.edit(id, revision, |d, at| d.edit_question(question, edit, at)).await
    }

    pub async fn delete_question(&self, id: &ExamId, question: &QuestionId, revision: Option<u64>) -> Result<TeacherExam, ServiceError> {
        self.edit(id, revision, |d, at| d.delete_question(question, at)).await
    }

    /// Moves a question to a 0-based position.
    pub async fn move_question(
        &self,
        id: &ExamId,
        question: &QuestionId,
        to: usize,
        revision: Option<u64>,
    ) -> Result<TeacherExam, ServiceError> {
        self.edit(id, revision, |d, at| d.move_question(question, to, at)).await
    }

    pub async fn reorder(&self, id: &ExamId, order: &[QuestionId], revision: Option<u64>) -> Result<TeacherExam, ServiceError> {
        self.edit(id, revision, |d, at| d.reorder(order, at)).await
    }

    /// Replaces one question with a newly generated one of the same kind (a fresh id).
    pub async fn regenerate_question(
        &self,
        id: &ExamId,
        question: &QuestionId,
        revision: Option<u64>,
    ) -> Result<TeacherExam, ServiceError> {
        self.editable(id)?;
        let current = self.working_draft(id).await?;
        let old = current.bank.question(question).ok_or_else(|| ServiceError::NotFound(format!("question {question}")))?.clone();
        let fresh = self.generate_replacement(id, &old, &current.bank.questions).await?;
        self.edit(id, revision, |d, at| d.replace_question(question, fresh, at).map(|_| ())).await
    }

    /// A new question of the same kind as `old`, different from every question in `avoid`.
    async fn generate_replacement(
        &self,
        id: &ExamId,
        old: &exam_domain::Question,
        avoid: &[exam_domain::Question],
    ) -> Result<exam_domain::Question, ServiceError> {
        use crate::generation::RegenerateError;
        self.generation().regenerate_question(id, old.kind, avoid).await.map_err(|e| match e {
            RegenerateError::Store(e) => e.into(),
            RegenerateError::Extract(_) | RegenerateError::Model(_) => ServiceError::Unavailable(e.to_string()),
            RegenerateError::NoDocument | RegenerateError::Exhausted(_) => ServiceError::Conflict(e.to_string()),
        })
    }

    /// Throws away unpublished changes (students are unaffected either way).
    pub async fn discard_draft(&self, id: &ExamId) -> Result<TeacherExam, ServiceError> {
        self.editable(id)?;
        {
            let _guard = self.editing.lock().await;
            self.store.delete(&keys::draft_key(id)).await?;
        }
        self.teacher_exam(id).await
    }

    /// The questions of one version (`Some(n)`), or of what the teacher is editing (`None`).
    pub async fn export_bank(&self, id: &ExamId, version: Option<u32>) -> Result<QuestionBank, ServiceError> {
        let exam = self.exam(id)?;
        let mut bank = match version {
            Some(n) => self.version(id, n).await?.bank.clone(),
            None => {
                let t = self.teacher_exam(id).await?;
                if t.questions.is_empty() {
                    return Err(ServiceError::Conflict("The exam has no questions yet.".into()));
                }
                let mut b = (*self.bank(id).await?).clone();
                b.questions = t.questions;
                b
            }
        };
        bank.title = exam.title;
        Ok(bank)
    }

    /// Publishes the draft as the next version. Publishing with no unpublished changes changes
    /// nothing.
    pub async fn publish(self: &Arc<Self>, id: &ExamId) -> Result<ExamSummary, ServiceError> {
        let exam = self.exam(id)?;
        match exam.status {
            ExamStatus::Draft | ExamStatus::Published => {}
            ExamStatus::Generating => return Err(ServiceError::Conflict("The exam is still being generated.".into())),
            ExamStatus::Failed => return Err(ServiceError::Conflict("Generation failed; there is nothing to publish.".into())),
        }
        let _guard = self.editing.lock().await;
        let latest = self.latest_version(id).await?.map(|v| v.version);
        let draft = match self.load_draft(id, latest).await? {
            Some(d) => d,
            None if latest.is_some() => return Ok(exam),
            None => self.working_draft(id).await?,
        };
        let version = latest.map_or(1, |n| n + 1);
        let at = crate::now_rfc3339();
        let frozen = draft.freeze(version, at.clone());
        match store::put_json(self.store.as_ref(), &keys::version_key(id, version), &frozen, PutMode::CreateNew).await {
            Ok(_) => {}
            Err(StoreError::AlreadyExists(_)) => {
                return Err(ServiceError::Conflict(format!(
                    "Version {version} was published from elsewhere at the same time. Reload the page to see it."
                )));
            }
            Err(e) => return Err(e.into()),
        }
        let question_count = u32::try_from(frozen.bank.questions.len()).unwrap_or(u32::MAX);
        self.versions.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert((id.clone(), version), Arc::new(frozen));
        if let Err(e) = self.store.delete(&keys::draft_key(id)).await {
            // Harmless: a draft not based on the latest version is ignored as stale.
            tracing::warn!(exam.id = %id, error = %e, "published, but the draft could not be removed");
        }
        let record = Publication { exam_id: id.clone(), version, published_at: at.clone(), question_count };
        store::put_json(self.store.as_ref(), &keys::publication_key(id), &record, PutMode::Overwrite).await?;
        let mut announcement = Announcement::stage(id.clone(), Stage::Published, at);
        if let Announcement::ExamStatus { question_count: n, .. } = &mut announcement {
            *n = Some(question_count);
        }
        self.announce(announcement).await;
        tracing::info!(exam.id = %id, version, questions = question_count, "exam published");
        self.exam(id)
    }

    /// Creates a draft exam from an uploaded question bank (our JSON or the seed's), without
    /// generation. Refuses banks that do not load, with the reason.
    pub async fn import_exam(self: &Arc<Self>, title: Option<String>, file_name: &str, bytes: &[u8]) -> Result<ExamSummary, ServiceError> {
        let id = ExamId::parse(&uuid::Uuid::now_v7().simple().to_string()).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let fallback = title_from_file_name(file_name);
        let mut bank = QuestionBank::from_json(bytes, &id, &fallback)
            .map_err(|e| ServiceError::Invalid { field: "file", message: format!("this question bank cannot be imported: {e}") })?;
        if bank.questions.len() > MAX_QUESTIONS {
            return Err(ServiceError::Invalid {
                field: "file",
                message: format!("this question bank has {} questions; at most {MAX_QUESTIONS} can be imported", bank.questions.len()),
            });
        }
        if let Some(t) = title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            t.clone_into(&mut bank.title);
        }
        if bank.title.chars().count() > MAX_TITLE {
            return Err(ServiceError::Invalid { field: "title", message: format!("must be at most {MAX_TITLE} characters") });
        }
        let at = crate::now_rfc3339();
        bank.exam_id = id.clone();
        bank.source_key = String::new();
        bank.created_at.clone_from(&at);
        if !bank.generator.starts_with("import") {
            bank.generator = format!("import/{}", bank.generator);
        }
        store::put_json(self.store.as_ref(), &keys::bank_key(&id), &bank, PutMode::CreateNew).await?;
        tracing::info!(exam.id = %id, questions = bank.questions.len(), "question bank imported");
        let bank = Arc::new(bank);
        self.banks.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.clone(), bank.clone());
        self.announce(Announcement::ready(&bank, at)).await;
        self.exam(&id)
    }

    /// The latest published version; students only ever start on this one.
    async fn current_version(&self, id: &ExamId) -> Result<Arc<PublishedVersion>, ServiceError> {
        if self.catalog.status(id) != Some(ExamStatus::Published) {
            return Err(ServiceError::NotFound(format!("published exam {id}")));
        }
        self.latest_version(id).await?.ok_or_else(|| ServiceError::NotFound(format!("published exam {id}")))
    }

    /// A published version, for an attempt bound to it.
    async fn attempt_version(&self, id: &ExamId, version: u32) -> Result<Arc<PublishedVersion>, ServiceError> {
        if self.catalog.status(id) != Some(ExamStatus::Published) {
            return Err(ServiceError::NotFound(format!("published exam {id}")));
        }
        self.version(id, version).await
    }

    /// The student's key-free paper of the current version; only for published exams.
    pub async fn paper(&self, id: &ExamId) -> Result<ExamPaper, ServiceError> {
        let v = self.current_version(id).await?;
        Ok(v.bank.paper(v.version))
    }

    /// The key-free paper of a given published version: what a student whose attempt is bound
    /// to an older version sees.
    pub async fn paper_version(&self, id: &ExamId, version: u32) -> Result<ExamPaper, ServiceError> {
        let v = self.attempt_version(id, version).await?;
        Ok(v.bank.paper(v.version))
    }

    /// Continues the student's unsubmitted attempt (on the version it was opened on), or
    /// starts one on the current version.
    pub async fn open_attempt(&self, id: &ExamId, student: Student) -> Result<AttemptState, ServiceError> {
        let current = self.current_version(id).await?;
        let key = keys::attempt_key(id, &student.key());
        if let Some(state) = store::get_json::<AttemptState>(self.store.as_ref(), &key).await? {
            return Ok(state);
        }
        let attempt = self.next_attempt_number(id, &student).await?;
        let now = crate::now_rfc3339();
        Ok(AttemptState {
            exam_id: id.clone(),
            student,
            attempt,
            version: current.version,
            answers: BTreeMap::new(),
            started_at: now.clone(),
            updated_at: now,
        })
    }

    async fn next_attempt_number(&self, id: &ExamId, student: &Student) -> Result<u32, ServiceError> {
        let prefix = format!("{}{}/", keys::submissions_prefix(id), student.key());
        let n = self.store.list(&prefix).await?.len();
        Ok(u32::try_from(n).unwrap_or(u32::MAX - 1) + 1)
    }

    /// Records one answer durably; returns once it is stored.
    pub async fn save_answer(&self, state: &mut AttemptState, question: QuestionId, option: OptionId) -> Result<(), ServiceError> {
        let version = self.attempt_version(&state.exam_id, state.version).await?;
        let q = version
            .bank
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

    /// Grades and stores a one-shot submission (the HTTP API). It closes the student's open
    /// attempt if there is one, graded against that attempt's version; otherwise it is graded
    /// against the current version.
    pub async fn submit(
        self: &Arc<Self>,
        id: &ExamId,
        student: Student,
        answers: BTreeMap<QuestionId, OptionId>,
    ) -> Result<SubmissionRecord, ServiceError> {
        let state = self.open_attempt(id, student).await?;
        self.submit_on(id, state.student, state.version, answers).await
    }

    /// Grades and stores a submission against `version`, never overwriting an earlier one,
    /// then announces it.
    async fn submit_on(
        self: &Arc<Self>,
        id: &ExamId,
        student: Student,
        version: u32,
        answers: BTreeMap<QuestionId, OptionId>,
    ) -> Result<SubmissionRecord, ServiceError> {
        let bank = self.attempt_version(id, version).await?;
        let report = grade(&bank.bank, &answers, self.config.pass_mark);
        let mut attempt = self.next_attempt_number(id, &student).await?;
        let record = loop {
            let record = SubmissionRecord {
                exam_id: id.clone(),
                student: student.to_string(),
                attempt,
                version,
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
        tracing::info!(exam.id = %id, attempt, version, score = record.report.score, total = record.report.total, "submission stored");
        self.announce(submission_announcement(&record)).await;
        Ok(record)
    }

    /// Submits an autosaved attempt, graded against the version it was opened on.
    pub async fn submit_attempt(self: &Arc<Self>, state: &AttemptState) -> Result<SubmissionRecord, ServiceError> {
        self.submit_on(&state.exam_id, state.student.clone(), state.version, state.answers.clone()).await
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

/// `publications/<exam>.json`: which version students get. Records written before versions
/// existed have no `version` (they mean version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub exam_id: ExamId,
    #[serde(default = "exam_domain::versions::first_version")]
    pub version: u32,
    pub published_at: String,
    #[serde(default)]
    pub question_count: u32,
}

fn edit_error(e: EditError) -> ServiceError {
    match e {
        EditError::NoSuchQuestion(q) => ServiceError::NotFound(format!("question {q}")),
        EditError::Invalid { field, message } => ServiceError::Invalid { field, message },
        EditError::LastQuestion => ServiceError::Conflict(EditError::LastQuestion.to_string()),
    }
}

/// `"notes/Lecture 3.json"` → `"Lecture 3"`.
fn title_from_file_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = base.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(base).trim();
    if stem.is_empty() { "Untitled exam".to_owned() } else { stem.to_owned() }
}
