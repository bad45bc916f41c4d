//! Attempts: what a student does — see the paper, open an attempt, autosave answers, submit —
//! and what the server does when time runs out. One path for every way in (WebSocket, HTTP,
//! deadline sweeper), so the rules hold whichever is used.
//!
//! * An attempt document is created when the attempt opens (`CreateNew`: two tabs get one
//!   attempt), with the time limit, grace period and question/option order it keeps.
//! * Each answer is checked against the attempt's version and deadline + grace, then merged into
//!   the stored document: under a per-attempt lock on one replica, and written back with
//!   `PutMode::IfMatch` (read again on a lost race), so two tabs on two replicas never lose
//!   each other's acknowledged answers.
//! * Submitting first seals the stored attempt (a conditional write): answers that arrive after
//!   are refused, so what is graded holds every answer acknowledged before.
//! * Submitting writes `submissions/<exam>/<student>/<attempt>.json` with `CreateNew`: exactly
//!   one submission per attempt, whichever tab, replica or sweeper gets there first; the others
//!   get the stored one back. Then the attempt document is deleted.
//! * [`Attempts::sweep`] submits attempts whose deadline + grace has passed, whether or not a
//!   browser is connected; every replica sweeps, `CreateNew` makes the race harmless.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use exam_domain::sitting::{StudentReport, WindowState, attempt_order, attempt_seed, format_time, kept_submission};
use exam_domain::{
    AttemptState, ExamId, ExamPaper, ExamStatus, InProgress, OptionId, PublishedVersion, QuestionId, QuestionResult, SittingView, Student,
    StudentStatus, SubmissionRecord, grade, regrade_results,
};

use crate::announce::Announcer;
use crate::catalog::{Catalog, submission_announcement};
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::records::{Created, Records};
use crate::rules::{ExamRules, Rules};

const LOCK_STRIPES: usize = 64;

pub struct Attempts {
    records: Arc<Records>,
    catalog: Arc<Catalog>,
    announcer: Arc<Announcer>,
    rules: Arc<Rules>,
    clock: Arc<dyn Clock>,
    /// Per-attempt serialisation of answer merges and submission, striped so memory stays
    /// bounded whatever the number of students.
    locks: Vec<tokio::sync::Mutex<()>>,
    /// Answers saved and submissions made.
    metrics: crate::metrics::CoreMetrics,
}

/// What submitting produced.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub record: SubmissionRecord,
    /// What the student may see of it now.
    pub report: StudentReport,
    /// False when the attempt had already been submitted (another tab, replica or the sweeper).
    pub new: bool,
}

/// Read-modify-write rounds before giving up when other writers keep changing an attempt
/// (each lost round means another write landed: a tab or replica saving at the same instant).
const CONDITIONAL_ROUNDS: usize = 8;

fn busy() -> ServiceError {
    ServiceError::Unavailable("Your answers are being saved from elsewhere at the same moment; please try again.".into())
}

fn seconds_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

impl Attempts {
    pub fn new(records: Arc<Records>, catalog: Arc<Catalog>, announcer: Arc<Announcer>, rules: Arc<Rules>, clock: Arc<dyn Clock>) -> Self {
        let locks = (0..LOCK_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect();
        Attempts { records, catalog, announcer, rules, clock, locks, metrics: crate::metrics::CoreMetrics::default() }
    }

    /// Counts answers and submissions in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::CoreMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    fn lock(&self, exam: &ExamId, student: &Student) -> &tokio::sync::Mutex<()> {
        let h = attempt_seed(exam, student, 0);
        &self.locks[usize::try_from(h % LOCK_STRIPES as u64).unwrap_or(0)]
    }

    fn published(&self, id: &ExamId) -> Result<(), ServiceError> {
        if self.catalog.status(id) == Some(ExamStatus::Published) {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("published exam {id}")))
        }
    }

    /// The latest published version; students only ever start on this one.
    async fn current_version(&self, id: &ExamId) -> Result<Arc<PublishedVersion>, ServiceError> {
        self.published(id)?;
        self.records
            .latest_version(id, true, self.clock.now_rfc3339())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("published exam {id}")))
    }

    /// A published version, for an attempt bound to it.
    async fn attempt_version(&self, id: &ExamId, version: u32) -> Result<Arc<PublishedVersion>, ServiceError> {
        self.published(id)?;
        self.records.version(id, version).await
    }

    /// The key-free paper of the current version, in canonical order.
    pub async fn paper(&self, id: &ExamId) -> Result<ExamPaper, ServiceError> {
        let v = self.current_version(id).await?;
        Ok(v.bank.paper(v.version))
    }

    /// The key-free paper of a given published version.
    pub async fn paper_version(&self, id: &ExamId, version: u32) -> Result<ExamPaper, ServiceError> {
        let v = self.attempt_version(id, version).await?;
        Ok(v.bank.paper(v.version))
    }

    /// The paper one attempt shows: its version, in its order.
    pub async fn attempt_paper(&self, state: &AttemptState) -> Result<ExamPaper, ServiceError> {
        Ok(self.paper_version(&state.exam_id, state.version).await?.in_order(&state.question_order, &state.option_order))
    }

    /// The current rules of an exam (cached briefly; see [`crate::rules`]).
    pub async fn rules(&self, id: &ExamId) -> Result<Arc<ExamRules>, ServiceError> {
        self.rules.get(id).await
    }

    /// The attempt's effective deadline now (accommodations and close time applied).
    pub async fn deadline(&self, state: &AttemptState) -> Result<Option<SystemTime>, ServiceError> {
        Ok(self.rules.get(&state.exam_id).await?.sitting(&state.student).deadline(state))
    }

    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Continues the student's unsubmitted attempt (on the version it was opened on), or
    /// starts one on the current version if the window is open and attempts are left.
    pub async fn open(&self, id: &ExamId, student: Student) -> Result<AttemptState, ServiceError> {
        let version = self.current_version(id).await?;
        if let Some(doc) = self.running(id, &student).await? {
            return Ok(doc);
        }
        let rules = self.rules.get(id).await?;
        let sitting = rules.sitting(&student);
        match sitting.window(self.clock.now()) {
            WindowState::Open { .. } => {}
            WindowState::NotYetOpen { opens_at } => {
                return Err(ServiceError::Conflict(format!("This exam opens at {opens_at}; come back then.")));
            }
            WindowState::Closed { closed_at } => {
                return Err(ServiceError::Conflict(format!("This exam closed at {closed_at}; no new attempts can be started.")));
            }
        }
        let used = self.records.submission_count(id, &student).await?;
        if let Some(max) = sitting.attempts_allowed()
            && used >= max
        {
            return Err(ServiceError::Conflict(format!(
                "You have used all {max} attempt{} allowed for this exam.",
                if max == 1 { "" } else { "s" }
            )));
        }
        let attempt = used + 1;
        let settings = &rules.settings;
        let (question_order, option_order) =
            attempt_order(&version.bank, attempt_seed(id, &student, attempt), settings.shuffle_questions, settings.shuffle_options);
        let now = self.clock.now_rfc3339();
        let mut state = AttemptState {
            exam_id: id.clone(),
            student: student.clone(),
            attempt,
            version: version.version,
            answers: BTreeMap::new(),
            started_at: now.clone(),
            updated_at: now,
            time_limit_secs: sitting.time_limit_secs(),
            grace_secs: settings.grace_secs,
            deadline: None,
            question_order,
            option_order,
            sealed: false,
        };
        state.deadline = sitting.deadline(&state).map(format_time);
        match self.records.create_attempt(&state).await? {
            Created::New => {
                tracing::info!(exam.id = %id, attempt, version = state.version, deadline = ?state.deadline, "attempt opened");
                Ok(state)
            }
            // Another tab opened it at the same instant: continue that one.
            Created::AlreadyThere => self
                .records
                .attempt(id, &student)
                .await?
                .ok_or_else(|| ServiceError::Unavailable("The attempt could not be opened; please try again.".into())),
        }
    }

    /// The student's open attempt, if any. A document left over from an attempt that was
    /// submitted (its deletion failed) is removed, not resumed.
    async fn running(&self, id: &ExamId, student: &Student) -> Result<Option<AttemptState>, ServiceError> {
        let Some(doc) = self.records.attempt(id, student).await? else { return Ok(None) };
        if self.records.submission(id, student, doc.attempt).await?.is_none() {
            return Ok(Some(doc));
        }
        if let Err(e) = self.records.delete_attempt(id, student).await {
            tracing::warn!(exam.id = %id, error = %e, "could not remove a submitted attempt's document");
        }
        Ok(None)
    }

    /// Checks one answer against the attempt's version.
    fn check_answer(version: &PublishedVersion, question: &QuestionId, option: &OptionId) -> Result<(), ServiceError> {
        let q = version
            .bank
            .question(question)
            .ok_or_else(|| ServiceError::invalid("question_id", format!("no question {question} in this exam")))?;
        if q.option_text(option).is_none() {
            return Err(ServiceError::invalid("option_id", format!("question {question} has no option {option}")));
        }
        Ok(())
    }

    /// Records one answer durably; returns once it is stored. Refused once the attempt's
    /// deadline + grace has passed, or when the attempt was submitted meanwhile.
    pub async fn save_answer(&self, state: &mut AttemptState, question: QuestionId, option: OptionId) -> Result<(), ServiceError> {
        let saved = self.save_answer_uncounted(state, question, option).await;
        self.metrics.answer(saved.is_ok());
        saved
    }

    async fn save_answer_uncounted(&self, state: &mut AttemptState, question: QuestionId, option: OptionId) -> Result<(), ServiceError> {
        let version = self.attempt_version(&state.exam_id, state.version).await?;
        Self::check_answer(&version, &question, &option)?;
        let rules = self.rules.get(&state.exam_id).await?;
        if !rules.sitting(&state.student).accepts_answers(state, self.clock.now()) {
            return Err(ServiceError::Conflict("Time is up: answers sent after the deadline are not accepted.".into()));
        }
        let _guard = self.lock(&state.exam_id, &state.student).lock().await;
        // Read, merge, write back only if nobody wrote in between (another replica's tab):
        // else read again. Each round trip either lands or sees the other's write.
        for _ in 0..CONDITIONAL_ROUNDS {
            let (mut doc, tag) = match self.records.attempt_tagged(&state.exam_id, &state.student).await? {
                Some((doc, tag)) if doc.attempt == state.attempt => (doc, tag),
                _ => return Err(ServiceError::Conflict("This attempt has already been submitted.".into())),
            };
            if doc.sealed {
                return Err(ServiceError::Conflict("This attempt is being submitted; no more answers are accepted.".into()));
            }
            doc.answers.insert(question.clone(), option.clone());
            doc.updated_at = self.clock.now_rfc3339();
            if self.records.replace_attempt(&doc, &tag).await? {
                *state = doc;
                return Ok(());
            }
        }
        Err(busy())
    }

    /// What the student may see of a submission now.
    pub async fn report(&self, record: &SubmissionRecord) -> Result<StudentReport, ServiceError> {
        let rules = self.rules.get(&record.exam_id).await?;
        let student = Student::parse(&record.student).map_err(|e| ServiceError::invalid("student", e.to_string()))?;
        let visible = rules.sitting(&student).results_visible(self.clock.now());
        let outcomes = self.outcomes(record, StudentReport::needs_outcomes(rules.settings.review, visible)).await?;
        Ok(StudentReport::new(record, &outcomes, rules.settings.review, visible))
    }

    /// The per-question outcomes of a submission, when `needed`: a stored record is compact
    /// (answers and score), so they are rebuilt from its answers and the published version it
    /// was graded against (immutable, and cached); records stored before carry them.
    async fn outcomes(&self, record: &SubmissionRecord, needed: bool) -> Result<Vec<QuestionResult>, ServiceError> {
        if !needed {
            return Ok(Vec::new());
        }
        if !record.report.results.is_empty() {
            return Ok(record.report.results.clone());
        }
        let version = self.records.version(&record.exam_id, record.version).await?;
        Ok(regrade_results(&version.bank, &record.answers))
    }

    /// Grades and stores the attempt, exactly once. `extra` answers (the HTTP submit's) are
    /// merged into the stored ones. `auto`: the server submits because time ran out.
    pub async fn submit(&self, state: &AttemptState, extra: BTreeMap<QuestionId, OptionId>, auto: bool) -> Result<Submitted, ServiceError> {
        let (id, student) = (&state.exam_id, &state.student);
        let _guard = self.lock(id, student).lock().await;
        if let Some(existing) = self.records.submission(id, student, state.attempt).await? {
            self.remove_attempt(state).await;
            let report = self.report(&existing).await?;
            return Ok(Submitted { record: existing, report, new: false });
        }
        let mut doc = self.seal(state).await?;
        doc.answers.extend(extra);
        let version = self.attempt_version(id, doc.version).await?;
        let rules = self.rules.get(id).await?;
        let graded = grade(&version.bank, &doc.answers, rules.pass_mark());
        let answers =
            doc.answers.into_iter().filter(|(q, o)| version.bank.question(q).is_some_and(|q| q.option_text(o).is_some())).collect();
        // Compact: the answers (only ids of the paper) and the score; the outcomes are
        // rebuilt from the version when a review shows them.
        let report = graded.compact();
        let record = SubmissionRecord {
            exam_id: id.clone(),
            student: student.to_string(),
            attempt: state.attempt,
            version: doc.version,
            submitted_at: self.clock.now_rfc3339(),
            answers,
            report,
            auto_submitted: auto,
        };
        let (record, new) = match self.records.create_submission(&record, student).await? {
            Created::New => (record, true),
            Created::AlreadyThere => (self.records.submission(id, student, state.attempt).await?.unwrap_or(record), false),
        };
        self.remove_attempt(state).await;
        if new {
            self.metrics.submitted(auto);
            tracing::info!(exam.id = %id, attempt = record.attempt, version = record.version, auto, score = record.report.score, total = record.report.total, "submission stored");
            self.announcer.announce(submission_announcement(&record));
        }
        let report = if new {
            // The outcomes just graded, not rebuilt.
            let sitting = rules.sitting(student);
            let visible = sitting.results_visible(self.clock.now());
            StudentReport::new(&record, &graded.results, rules.settings.review, visible)
        } else {
            self.report(&record).await?
        };
        Ok(Submitted { record, report, new })
    }

    /// Marks the stored attempt as being submitted (a conditional write, so an answer saved
    /// on another replica meanwhile is either in it or refused) and returns it; the caller's
    /// copy when there is no stored one (an HTTP submit's).
    async fn seal(&self, state: &AttemptState) -> Result<AttemptState, ServiceError> {
        for _ in 0..CONDITIONAL_ROUNDS {
            let Some((mut doc, tag)) = self.records.attempt_tagged(&state.exam_id, &state.student).await? else {
                return Ok(state.clone());
            };
            if doc.attempt != state.attempt {
                return Ok(state.clone());
            }
            if doc.sealed {
                return Ok(doc);
            }
            doc.sealed = true;
            if self.records.replace_attempt(&doc, &tag).await? {
                return Ok(doc);
            }
        }
        Err(busy())
    }

    async fn remove_attempt(&self, state: &AttemptState) {
        if let Err(e) = self.records.delete_attempt(&state.exam_id, &state.student).await {
            tracing::warn!(error = %e, "submitted, but the autosaved attempt could not be removed");
        }
    }

    /// The HTTP submit: opens (or continues) the student's attempt under the same rules as the
    /// WebSocket, validates the answers against the attempt's paper, and submits. Past the
    /// deadline + grace the posted answers are ignored and the stored ones submitted.
    pub async fn submit_answers(
        &self,
        id: &ExamId,
        student: Student,
        answers: BTreeMap<QuestionId, OptionId>,
    ) -> Result<Submitted, ServiceError> {
        let state = self.open(id, student).await?;
        let version = self.attempt_version(id, state.version).await?;
        for (q, o) in &answers {
            Self::check_answer(&version, q, o).map_err(|e| match e {
                ServiceError::Invalid { message, .. } => ServiceError::invalid("answers", message),
                other => other,
            })?;
        }
        let rules = self.rules.get(id).await?;
        if rules.sitting(&state.student).accepts_answers(&state, self.clock.now()) {
            self.submit(&state, answers, false).await
        } else {
            self.submit(&state, BTreeMap::new(), true).await
        }
    }

    /// Submits the attempt if its time is up (deadline + grace passed); `None` otherwise.
    pub async fn expire_if_due(&self, state: &AttemptState) -> Result<Option<Submitted>, ServiceError> {
        let rules = self.rules.get(&state.exam_id).await?;
        if rules.sitting(&state.student).accepts_answers(state, self.clock.now()) {
            return Ok(None);
        }
        self.submit(state, BTreeMap::new(), true).await.map(Some)
    }

    /// Submits every attempt, of every published exam that can run out of time, whose deadline
    /// + grace has passed. Returns how many this call submitted.
    pub async fn sweep(&self) -> usize {
        let mut submitted = 0;
        for exam in self.catalog.list().into_iter().filter(|e| e.status == ExamStatus::Published) {
            let Ok(rules) = self.rules.get(&exam.id).await else { continue };
            if !rules.can_expire() {
                continue;
            }
            let Ok(open) = self.records.list_attempts(&exam.id).await else { continue };
            for info in open {
                let Ok(Some(doc)) = self.records.attempt_at(&info.key).await else { continue };
                match self.expire_if_due(&doc).await {
                    Ok(Some(s)) if s.new => submitted += 1,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(exam.id = %exam.id, error = %e, "could not submit an expired attempt; will retry"),
                }
            }
        }
        submitted
    }

    /// Runs [`Attempts::sweep`] every `every` until the task is aborted.
    pub fn spawn_sweeper(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let n = self.sweep().await;
                if n > 0 {
                    tracing::info!(submitted = n, "expired attempts submitted by the server");
                }
            }
        })
    }

    fn in_progress(&self, doc: &AttemptState, rules: &ExamRules, now: SystemTime) -> InProgress {
        let deadline = rules.sitting(&doc.student).deadline(doc);
        InProgress {
            student: doc.student.to_string(),
            attempt: doc.attempt,
            version: doc.version,
            started_at: doc.started_at.clone(),
            deadline: deadline.map(format_time),
            seconds_left: deadline.map(|d| seconds_between(now, d)),
            answered: u32::try_from(doc.answers.len()).unwrap_or(u32::MAX),
        }
    }

    /// A student's standing: window, attempts, the running attempt, and their results as the
    /// review policy allows. An attempt whose time ran out is submitted first, so a student
    /// who comes back sees the result at once.
    pub async fn status(&self, id: &ExamId, student: &Student) -> Result<StudentStatus, ServiceError> {
        let exam = self.catalog.get(id).ok_or_else(|| ServiceError::NotFound(format!("exam {id}")))?;
        let version = self.current_version(id).await?;
        let mut running = self.running(id, student).await?;
        if let Some(doc) = &running
            && self.expire_if_due(doc).await?.is_some()
        {
            running = None;
        }
        let rules = self.rules.get(id).await?;
        let sitting = rules.sitting(student);
        let now = self.clock.now();
        let subs = self.records.student_submissions(id, student).await?;
        let visible = sitting.results_visible(now);
        let used = u32::try_from(subs.len()).unwrap_or(u32::MAX);
        let allowed = sitting.attempts_allowed();
        let window = sitting.window(now);
        let refs: Vec<&SubmissionRecord> = subs.iter().collect();
        let kept_attempt = if visible { kept_submission(&refs, rules.settings.grade).map(|i| subs[i].attempt) } else { None };
        let time_limit_secs = sitting.time_limit_secs().map(|limit| u32::try_from(sitting.with_accommodations(limit)).unwrap_or(u32::MAX));
        let attempts_left = allowed.map(|a| a.saturating_sub(used));
        let needed = StudentReport::needs_outcomes(rules.settings.review, visible);
        let mut results = Vec::with_capacity(subs.len());
        for r in &subs {
            results.push(StudentReport::new(r, &self.outcomes(r, needed).await?, rules.settings.review, visible));
        }
        Ok(StudentStatus {
            exam_id: id.clone(),
            title: exam.title,
            version: version.version,
            question_count: u32::try_from(version.bank.questions.len()).unwrap_or(u32::MAX),
            can_start: running.is_none() && matches!(window, WindowState::Open { .. }) && attempts_left != Some(0),
            window,
            time_limit_secs,
            attempts_allowed: allowed,
            attempts_used: used,
            attempts_left,
            in_progress: running.as_ref().map(|d| self.in_progress(d, &rules, now)),
            results,
            kept_attempt,
            server_time: format_time(now),
        })
    }

    /// The teacher's live view of a sitting: who is in progress, with time left.
    pub async fn sitting(&self, id: &ExamId) -> Result<SittingView, ServiceError> {
        let exam = self.catalog.get(id).ok_or_else(|| ServiceError::NotFound(format!("exam {id}")))?;
        let rules = self.rules.get(id).await?;
        let now = self.clock.now();
        let mut in_progress = Vec::new();
        for info in self.records.list_attempts(id).await? {
            if let Some(doc) = self.records.attempt_at(&info.key).await? {
                in_progress.push(self.in_progress(&doc, &rules, now));
            }
        }
        in_progress
            .sort_by(|a, b| a.seconds_left.unwrap_or(i64::MAX).cmp(&b.seconds_left.unwrap_or(i64::MAX)).then(a.student.cmp(&b.student)));
        let subs = self.records.submissions(id).await?;
        let students: std::collections::BTreeSet<String> =
            subs.iter().map(|s| Student::parse(&s.student).map(|s| s.key()).unwrap_or_else(|_| s.student.clone())).collect();
        let general = rules.general();
        Ok(SittingView {
            exam_id: id.clone(),
            title: exam.title,
            settings: rules.settings.clone(),
            window: general.window(now),
            released_at: rules.released_at.clone(),
            results_visible: general.results_visible(now),
            in_progress,
            students_submitted: u32::try_from(students.len()).unwrap_or(u32::MAX),
            submissions: u32::try_from(subs.len()).unwrap_or(u32::MAX),
            question_count: exam.question_count,
            server_time: format_time(now),
        })
    }
}
