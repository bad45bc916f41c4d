//! The gateway's in-memory view of all exams.
//!
//! Rebuilt from the store when the gateway starts ([`Catalog::rebuild`]) and then kept current
//! by [`Catalog::apply`]ing announcements, whether they come from this process or, through the
//! bus, from the generator and other gateway replicas. `apply` is idempotent and ignores
//! stages that would move an exam backwards, so at-least-once, out-of-order delivery is safe,
//! and it reports whether anything changed so each replica pushes each change to its browsers
//! exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use exam_domain::keys;
use exam_domain::{Announcement, ExamId, ExamStatus, ExamSummary, FailureRecord, Publication, QuestionBank, Stage, SubmissionRecord};

use crate::pipeline::decode_meta;
use crate::store::{self, ObjectStore, StoreError};

#[derive(Debug, Clone)]
struct Entry {
    summary: ExamSummary,
    /// (student key, attempt) pairs already counted.
    seen_submissions: HashSet<(String, u32)>,
    /// When the version students get was published: a later `published` announcement is a
    /// new version (its question count replaces ours), an earlier or equal one is a repeat.
    published_at: String,
}

#[derive(Debug, Default)]
pub struct Catalog {
    exams: RwLock<HashMap<ExamId, Entry>>,
    /// Exams with a tombstone (`deletions/`): announcements about them are ignored, so a late
    /// or redelivered one cannot bring a deleted exam back.
    deleted: RwLock<HashSet<ExamId>>,
}

fn blank(id: ExamId, at: &str) -> Entry {
    Entry {
        summary: ExamSummary {
            title: id.to_string(),
            id,
            status: ExamStatus::Generating,
            stage: Stage::Stored,
            question_count: 0,
            created_at: at.to_owned(),
            error: None,
            notes: Vec::new(),
            stage_detail: None,
            submissions: 0,
            join_code: None,
        },
        seen_submissions: HashSet::new(),
        published_at: String::new(),
    }
}

impl Catalog {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ExamId, Entry>> {
        self.exams.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ExamId, Entry>> {
        self.exams.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies an announcement; `true` when the catalog changed.
    pub fn apply(&self, a: &Announcement) -> bool {
        if let Announcement::ExamDeleted { exam_id, .. } = a {
            let fresh = self.deleted.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(exam_id.clone());
            return self.write().remove(exam_id).is_some() || fresh;
        }
        if self.is_deleted(a.exam_id()) {
            return false;
        }
        let mut exams = self.write();
        match a {
            Announcement::ExamStatus { exam_id, stage, title, question_count, error, notes, detail, at, .. } => {
                let fresh = !exams.contains_key(exam_id);
                let e = exams.entry(exam_id.clone()).or_insert_with(|| blank(exam_id.clone(), at));
                if *stage == Stage::Published {
                    let republished = e.summary.stage == Stage::Published && *at > e.published_at;
                    if republished || stage.supersedes(e.summary.stage) || fresh {
                        e.published_at.clone_from(at);
                    }
                    if republished {
                        if let Some(n) = question_count {
                            e.summary.question_count = *n;
                        }
                        return true;
                    }
                }
                let s = &mut e.summary;
                if !fresh && !stage.supersedes(s.stage) {
                    return false;
                }
                s.stage = *stage;
                s.status = stage.status();
                // A detail describes its own stage only.
                s.stage_detail.clone_from(detail);
                if let Some(t) = title {
                    s.title.clone_from(t);
                }
                if let Some(n) = question_count {
                    s.question_count = *n;
                }
                if error.is_some() {
                    s.error.clone_from(error);
                }
                if !notes.is_empty() {
                    s.notes.clone_from(notes);
                }
                true
            }
            Announcement::Submission { exam_id, student, attempt, submitted_at, .. } => {
                let e = exams.entry(exam_id.clone()).or_insert_with(|| blank(exam_id.clone(), submitted_at));
                let student_key = exam_domain::Student::parse(student).map(|s| s.key()).unwrap_or_else(|_| student.clone());
                if !e.seen_submissions.insert((student_key, *attempt)) {
                    return false;
                }
                e.summary.submissions += 1;
                true
            }
            Announcement::ExamDeleted { .. } => false,
        }
    }

    /// The exam has a tombstone.
    pub fn is_deleted(&self, id: &ExamId) -> bool {
        self.deleted.read().unwrap_or_else(std::sync::PoisonError::into_inner).contains(id)
    }

    /// Status only, without cloning the summary (checked on every saved answer).
    pub fn status(&self, id: &ExamId) -> Option<ExamStatus> {
        self.read().get(id).map(|e| e.summary.status)
    }

    pub fn get(&self, id: &ExamId) -> Option<ExamSummary> {
        self.read().get(id).map(|e| e.summary.clone())
    }

    /// Newest first.
    pub fn list(&self) -> Vec<ExamSummary> {
        let mut v: Vec<ExamSummary> = self.read().values().map(|e| e.summary.clone()).collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        v
    }

    pub fn remove(&self, id: &ExamId) {
        self.write().remove(id);
    }

    /// Reads the store's records into the catalog; returns the banks it loaded so the caller
    /// can cache them.
    pub async fn rebuild(&self, store: &dyn ObjectStore) -> Result<Vec<QuestionBank>, StoreError> {
        let mut banks = Vec::new();
        // Tombstones first: whatever a deletion has not removed yet stays out of the catalog.
        for info in store.list(keys::DELETIONS_PREFIX).await? {
            if let Some(id) = keys::exam_of_json_key(keys::DELETIONS_PREFIX, &info.key) {
                self.apply(&Announcement::ExamDeleted { exam_id: id, at: String::new() });
            }
        }
        for info in store.list(keys::UPLOADS_PREFIX).await? {
            let Some(id) = keys::exam_of_upload_key(&info.key) else { continue };
            let Some(head) = store.head(&info.key).await? else { continue };
            let at = head
                .meta
                .get(keys::meta::CREATED_AT)
                .map(str::to_owned)
                .unwrap_or_else(|| head.last_modified.map(|t| humantime::format_rfc3339_millis(t).to_string()).unwrap_or_default());
            let title = decode_meta(head.meta.get(keys::meta::TITLE)).or_else(|| decode_meta(head.meta.get(keys::meta::FILENAME)));
            self.apply(&Announcement::stage(id, Stage::Stored, at).with_title(title));
        }
        for info in store.list(keys::BANKS_PREFIX).await? {
            let Some(id) = keys::exam_of_json_key(keys::BANKS_PREFIX, &info.key) else { continue };
            let Some((bytes, _)) = store.get(&info.key).await? else { continue };
            match QuestionBank::from_json(&bytes, &id, id.as_str()) {
                Ok(bank) => {
                    if self.apply(&Announcement::ready(&bank, bank.created_at.clone())) {
                        banks.push(bank);
                    }
                }
                Err(e) => tracing::error!(key = %info.key, error = %e, "skipping unreadable question bank"),
            }
        }
        for info in store.list(keys::FAILURES_PREFIX).await? {
            let Some(f) = store::get_json::<FailureRecord>(store, &info.key).await.ok().flatten() else { continue };
            self.apply(&Announcement::failed(f.exam_id, f.title, f.reason, f.at));
        }
        for info in store.list(keys::PUBLICATIONS_PREFIX).await? {
            let Some(id) = keys::exam_of_json_key(keys::PUBLICATIONS_PREFIX, &info.key) else { continue };
            let record = store::get_json::<Publication>(store, &info.key).await.ok().flatten();
            let mut published =
                Announcement::stage(id, Stage::Published, record.as_ref().map(|r| r.published_at.clone()).unwrap_or_default());
            if let (Announcement::ExamStatus { question_count, .. }, Some(r)) = (&mut published, &record)
                && r.question_count > 0
            {
                *question_count = Some(r.question_count);
            }
            self.apply(&published);
        }
        for info in store.list(keys::SUBMISSIONS_PREFIX).await? {
            let Some(r) = store::get_json::<SubmissionRecord>(store, &info.key).await.ok().flatten() else { continue };
            self.apply(&submission_announcement(&r));
        }
        Ok(banks)
    }
}

pub fn submission_announcement(r: &SubmissionRecord) -> Announcement {
    Announcement::Submission {
        exam_id: r.exam_id.clone(),
        student: r.student.clone(),
        score: r.report.score,
        total: r.report.total,
        percent: r.report.percent,
        passed: r.report.passed,
        attempt: r.attempt,
        submitted_at: r.submitted_at.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ExamId {
        ExamId::parse("e1").unwrap()
    }

    #[test]
    fn duplicates_and_late_stages_change_nothing() {
        let c = Catalog::default();
        assert!(c.apply(&Announcement::stage(id(), Stage::Stored, "2026-01-01T00:00:00Z".into())));
        assert!(c.apply(&Announcement::stage(id(), Stage::Ready, "x".into())));
        assert!(!c.apply(&Announcement::stage(id(), Stage::Ready, "x".into())));
        assert!(!c.apply(&Announcement::stage(id(), Stage::Extracting, "x".into())));
        let s = c.get(&id()).unwrap();
        assert_eq!((s.status, s.stage), (ExamStatus::Draft, Stage::Ready));
        assert_eq!(s.created_at, "2026-01-01T00:00:00Z");
    }

    #[test]
    fn a_stage_detail_lasts_as_long_as_its_stage() {
        let c = Catalog::default();
        let generating = Announcement::stage(id(), Stage::Generating, "x".into()).with_detail(Some("with m1".into()));
        assert!(c.apply(&generating));
        assert_eq!(c.get(&id()).unwrap().stage_detail.as_deref(), Some("with m1"));
        assert!(c.apply(&Announcement::stage(id(), Stage::Ready, "x".into())));
        assert_eq!(c.get(&id()).unwrap().stage_detail, None);
    }

    #[test]
    fn a_later_publication_is_a_new_version_and_repeats_change_nothing() {
        let c = Catalog::default();
        let published = |at: &str, n| {
            let mut a = Announcement::stage(id(), Stage::Published, at.into());
            if let Announcement::ExamStatus { question_count, .. } = &mut a {
                *question_count = Some(n);
            }
            a
        };
        assert!(c.apply(&Announcement::stage(id(), Stage::Ready, "t0".into())));
        assert!(c.apply(&published("t1", 8)));
        assert!(!c.apply(&published("t1", 8)));
        assert!(c.apply(&published("t2", 7)));
        assert_eq!(c.get(&id()).unwrap().question_count, 7);
        // A late copy of the first publication does not roll the count back.
        assert!(!c.apply(&published("t1", 8)));
        assert_eq!(c.get(&id()).unwrap().question_count, 7);
        assert!(!c.apply(&Announcement::stage(id(), Stage::Ready, "t3".into())));
    }

    #[test]
    fn each_submission_counts_once() {
        let c = Catalog::default();
        let sub = |attempt| Announcement::Submission {
            exam_id: id(),
            student: "Ada".into(),
            score: 1,
            total: 2,
            percent: 50.0,
            passed: true,
            attempt,
            submitted_at: "t".into(),
        };
        assert!(c.apply(&sub(1)));
        assert!(!c.apply(&sub(1)));
        assert!(c.apply(&sub(2)));
        assert_eq!(c.get(&id()).unwrap().submissions, 2);
    }
}
