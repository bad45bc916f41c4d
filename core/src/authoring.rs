//! Authoring: what a teacher does to an exam's questions — upload or import, review and edit
//! the draft, regenerate single questions, publish versions, export.
//!
//! Rules (in `exam_domain::versions`): the teacher edits a draft (`drafts/<exam>.json`, or
//! implicitly the generated bank before the first edit); publishing freezes it as
//! `versions/<exam>/<n>.json` (written once) and points `publications/<exam>.json` at it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tracing::Instrument as _;

use exam_domain::keys::{self, meta};
use exam_domain::versions::{EditError, MAX_QUESTIONS, MAX_TEXT};
use exam_domain::{
    Announcement, Draft, DraftInfo, ExamId, ExamStatus, ExamSummary, GenerationParams, Publication, PublishedVersion, QuestionBank,
    QuestionEdit, QuestionId, Stage, TeacherExam, VersionInfo,
};

use crate::announce::Announcer;
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::generation::Generation;
use crate::identity::access::AccessRules;
use crate::pipeline::encode_meta;
use crate::records::{Created, Records};
use crate::store::ObjectMeta;

/// A document already spooled to local disk by the HTTP layer.
#[derive(Debug)]
pub struct NewExam {
    /// The teacher who uploads it: the exam's owner.
    pub owner: exam_domain::identity::TeacherId,
    pub title: Option<String>,
    pub file_name: String,
    pub params: GenerationParams,
    pub file: PathBuf,
}

const MAX_TITLE: usize = 200;

pub struct Authoring {
    records: Arc<Records>,
    catalog: Arc<Catalog>,
    announcer: Arc<Announcer>,
    generation: Arc<Generation>,
    access: Arc<AccessRules>,
    clock: Arc<dyn Clock>,
    /// Serialises draft edits and publications in this process, so an edit never reads a
    /// draft another request is about to replace (across replicas, the revision check in
    /// [`Authoring::edit`] is the guard, with a small window: see ARCHITECTURE.md).
    editing: tokio::sync::Mutex<()>,
}

impl Authoring {
    pub fn new(
        records: Arc<Records>,
        catalog: Arc<Catalog>,
        announcer: Arc<Announcer>,
        generation: Arc<Generation>,
        access: Arc<AccessRules>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Authoring { records, catalog, announcer, generation, access, clock, editing: tokio::sync::Mutex::new(()) }
    }

    pub fn generation(&self) -> &Generation {
        &self.generation
    }

    fn exam(&self, id: &ExamId) -> Result<ExamSummary, ServiceError> {
        self.catalog.get(id).ok_or_else(|| ServiceError::NotFound(format!("exam {id}")))
    }

    fn now(&self) -> String {
        self.clock.now_rfc3339()
    }

    /// Stores an uploaded document; its bucket notification starts generation.
    pub async fn create_exam(&self, new: NewExam) -> Result<ExamSummary, ServiceError> {
        let id = new_exam_id()?;
        let title = match new.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => t.to_owned(),
            // A title made from the file name is shortened rather than refused: the teacher
            // sent no title to correct.
            None => title_from_file_name(&new.file_name).chars().take(MAX_TITLE).collect(),
        };
        if title.chars().count() > MAX_TITLE {
            return Err(ServiceError::invalid("title", format!("must be at most {MAX_TITLE} characters")));
        }
        let created_at = self.now();
        // Owned before it exists: no moment in which the exam is nobody's.
        self.access.grant_owner(&id, &new.owner).await?;
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
        // The object carries this span's trace context in its metadata (`traceparent`): the
        // bucket notification brings it to the generator, so one upload is one trace.
        let put = tracing::info_span!("store_upload", otel.name = "store upload", exam.id = %id, object.key = %key);
        object_meta.user.extend(exam_telemetry::inject(&put));
        if let Err(e) = self.records.store().put_file(&key, &new.file, &object_meta).instrument(put).await {
            self.catalog.remove(&id);
            return Err(e.into());
        }
        tracing::info!(exam.id = %id, object.key = %key, "document stored");
        // Already applied above; now push it to this replica's browsers and tell the others.
        self.announcer.push(&stored);
        self.announcer.broadcast(stored);
        self.exam(&id)
    }

    /// Creates a draft exam from an uploaded question bank (our JSON or the seed's), without
    /// generation. Refuses banks that do not load, with the reason.
    pub async fn import_exam(
        &self,
        owner: &exam_domain::identity::TeacherId,
        title: Option<String>,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ExamSummary, ServiceError> {
        let id = new_exam_id()?;
        let fallback: String = title_from_file_name(file_name).chars().take(MAX_TITLE).collect();
        let mut bank = QuestionBank::from_json(bytes, &id, &fallback)
            .map_err(|e| ServiceError::invalid("file", format!("this question bank cannot be imported: {e}")))?;
        if bank.questions.len() > MAX_QUESTIONS {
            return Err(ServiceError::invalid(
                "file",
                format!("this question bank has {} questions; at most {MAX_QUESTIONS} can be imported", bank.questions.len()),
            ));
        }
        // The limits an edit has (and a generated question never comes near): a question or
        // option of megabytes would otherwise be stored, cached and sent to every student.
        for (i, q) in bank.questions.iter().enumerate() {
            let longest = std::iter::once(&q.question).chain(q.options.iter().map(|o| &o.text)).map(|t| t.chars().count()).max();
            if longest.unwrap_or(0) > MAX_TEXT || q.explanation.as_ref().is_some_and(|e| e.chars().count() > MAX_TEXT) {
                return Err(ServiceError::invalid(
                    "file",
                    format!("question {}: its text, options and explanation must be at most {MAX_TEXT} characters each", i + 1),
                ));
            }
        }
        if let Some(t) = title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            t.clone_into(&mut bank.title);
        }
        if bank.title.chars().count() > MAX_TITLE {
            return Err(ServiceError::invalid("title", format!("must be at most {MAX_TITLE} characters")));
        }
        let at = self.now();
        bank.exam_id = id.clone();
        bank.source_key = String::new();
        bank.created_at.clone_from(&at);
        if !bank.generator.starts_with("import") {
            bank.generator = format!("import/{}", bank.generator);
        }
        self.access.grant_owner(&id, owner).await?;
        let bank = self.records.create_bank(bank).await?;
        tracing::info!(exam.id = %id, questions = bank.questions.len(), "question bank imported");
        self.announcer.announce(Announcement::ready(&bank, at));
        self.exam(&id)
    }

    async fn latest_version(&self, id: &ExamId) -> Result<Option<Arc<PublishedVersion>>, ServiceError> {
        let published = self.catalog.status(id) == Some(ExamStatus::Published);
        self.records.latest_version(id, published, self.now()).await
    }

    /// The teacher's view: the draft (or the latest version) with keys, sources and flags, and
    /// the version history. Teachers only.
    pub async fn teacher_exam(&self, id: &ExamId) -> Result<TeacherExam, ServiceError> {
        let exam = self.exam(id)?;
        if matches!(exam.status, ExamStatus::Generating | ExamStatus::Failed) {
            return Ok(TeacherExam {
                exam,
                questions: Vec::new(),
                versions: Vec::new(),
                draft: None,
                revision: 0,
                can_regenerate: false,
                join_code: None,
            });
        }
        let published = exam.status == ExamStatus::Published;
        let mut versions = Vec::new();
        for n in self.records.published_versions(id, published, self.now()).await? {
            versions.push(VersionInfo::from(self.records.version(id, n).await?.as_ref()));
        }
        let latest = versions.last().map(|v| v.version);
        let bank = self.records.bank(id).await?;
        let can_regenerate = !bank.source_key.is_empty();
        let (questions, draft, revision) = match self.load_draft(id, latest).await? {
            Some(d) => (d.bank.questions, Some(DraftInfo { based_on: d.based_on, updated_at: d.updated_at }), d.revision),
            None => match latest {
                Some(n) => (self.records.version(id, n).await?.bank.questions.clone(), None, 0),
                None => (bank.questions.clone(), Some(DraftInfo { based_on: None, updated_at: bank.created_at.clone() }), 0),
            },
        };
        Ok(TeacherExam { exam, questions, versions, draft, revision, can_regenerate, join_code: None })
    }

    /// The stored draft, unless it is stale: a draft not based on the latest version was
    /// already published (its removal failed) and must not resurface as pending changes.
    async fn load_draft(&self, id: &ExamId, latest: Option<u32>) -> Result<Option<Draft>, ServiceError> {
        Ok(self.records.draft(id).await?.filter(|d| d.based_on == latest))
    }

    /// The draft to change: the stored one, else a new one from the latest version, else the
    /// generated bank.
    async fn working_draft(&self, id: &ExamId) -> Result<Draft, ServiceError> {
        let latest = self.latest_version(id).await?;
        if let Some(d) = self.load_draft(id, latest.as_ref().map(|v| v.version)).await? {
            return Ok(d);
        }
        let at = self.now();
        Ok(match latest {
            Some(v) => Draft::from_version(&v, at),
            None => {
                let bank = self.records.bank(id).await?;
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
            change(&mut draft, self.now()).map_err(edit_error)?;
            self.records.put_draft(&draft).await?;
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
        use crate::generation::RegenerateError;
        self.editable(id)?;
        let current = self.working_draft(id).await?;
        let old = current.bank.question(question).ok_or_else(|| ServiceError::NotFound(format!("question {question}")))?.clone();
        let fresh = self.generation.regenerate_question(id, old.kind, &current.bank.questions).await.map_err(|e| match e {
            RegenerateError::Store(e) => e.into(),
            RegenerateError::Extract(_) | RegenerateError::Model(_) => ServiceError::Unavailable(e.to_string()),
            RegenerateError::NoDocument | RegenerateError::Exhausted(_) => ServiceError::Conflict(e.to_string()),
        })?;
        self.edit(id, revision, |d, at| d.replace_question(question, fresh, at).map(|_| ())).await
    }

    /// Throws away unpublished changes (students are unaffected either way).
    pub async fn discard_draft(&self, id: &ExamId) -> Result<TeacherExam, ServiceError> {
        self.editable(id)?;
        {
            let _guard = self.editing.lock().await;
            self.records.delete_draft(id).await?;
        }
        self.teacher_exam(id).await
    }

    /// The questions of one version (`Some(n)`), or of what the teacher is editing (`None`).
    pub async fn export_bank(&self, id: &ExamId, version: Option<u32>) -> Result<QuestionBank, ServiceError> {
        let exam = self.exam(id)?;
        let mut bank = match version {
            Some(n) => self.records.version(id, n).await?.bank.clone(),
            None => {
                let t = self.teacher_exam(id).await?;
                if t.questions.is_empty() {
                    return Err(ServiceError::Conflict("The exam has no questions yet.".into()));
                }
                let mut b = (*self.records.bank(id).await?).clone();
                b.questions = t.questions;
                b
            }
        };
        bank.title = exam.title;
        Ok(bank)
    }

    /// Publishes the draft as the next version. Publishing with no unpublished changes changes
    /// nothing.
    pub async fn publish(&self, id: &ExamId) -> Result<ExamSummary, ServiceError> {
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
        let at = self.now();
        let frozen = draft.freeze(version, at.clone());
        let question_count = u32::try_from(frozen.bank.questions.len()).unwrap_or(u32::MAX);
        if self.records.create_version(frozen).await? == Created::AlreadyThere {
            return Err(ServiceError::Conflict(format!(
                "Version {version} was published from elsewhere at the same time. Reload the page to see it."
            )));
        }
        if let Err(e) = self.records.delete_draft(id).await {
            // Harmless: a draft not based on the latest version is ignored as stale.
            tracing::warn!(exam.id = %id, error = %e, "published, but the draft could not be removed");
        }
        self.records.put_publication(&Publication { exam_id: id.clone(), version, published_at: at.clone(), question_count }).await?;
        let mut announcement = Announcement::stage(id.clone(), Stage::Published, at);
        if let Announcement::ExamStatus { question_count: n, .. } = &mut announcement {
            *n = Some(question_count);
        }
        self.announcer.announce(announcement);
        tracing::info!(exam.id = %id, version, questions = question_count, "exam published");
        self.exam(id)
    }
}

pub(crate) fn new_exam_id() -> Result<ExamId, ServiceError> {
    ExamId::parse(&uuid::Uuid::now_v7().simple().to_string()).map_err(|e| ServiceError::Conflict(e.to_string()))
}

fn edit_error(e: EditError) -> ServiceError {
    match e {
        EditError::NoSuchQuestion(q) => ServiceError::NotFound(format!("question {q}")),
        EditError::Invalid { field, message } => ServiceError::invalid(field, message),
        EditError::LastQuestion => ServiceError::Conflict(EditError::LastQuestion.to_string()),
    }
}

/// `"notes/Lecture 3.json"` → `"Lecture 3"`.
fn title_from_file_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = base.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(base).trim();
    if stem.is_empty() { "Untitled exam".to_owned() } else { stem.to_owned() }
}
