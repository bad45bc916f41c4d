//! Erasing one student's data on request: their open attempt is deleted, their submissions
//! are kept under a pseudonym ("Erased 3f9a1c"), so the exam's statistics and item analysis
//! stay as they were, and their join record and accommodations go. The pseudonym is random and
//! recorded nowhere with the name, so nothing left in the store leads back to the student.
//!
//! Each submission is copied under the pseudonym before the original is removed: a crash in
//! between leaves the original, and erasing again finishes the job (the student may then count
//! as two anonymous students in the statistics; nothing of theirs remains under their name).

use exam_domain::identity::TeacherId;
use exam_domain::records::SubmissionRecord;
use exam_domain::sitting::StudentOverride;
use exam_domain::{ExamId, Student, keys};
use serde::Serialize;

use super::Lifecycle;
use crate::error::ServiceError;
use crate::identity::audit::Scope;
use crate::identity::secrets;
use crate::store::{self, PutMode, StoreError};

/// What erasing a student in one exam did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    pub exam_id: ExamId,
    pub attempts_deleted: u32,
    pub submissions_anonymised: u32,
    /// The name the submissions are kept under (`null` when there were none).
    pub pseudonym: Option<String>,
}

impl Erasure {
    fn is_empty(&self) -> bool {
        self.attempts_deleted == 0 && self.submissions_anonymised == 0
    }
}

impl Lifecycle {
    /// Erases `student` in one exam `by` created.
    pub async fn erase_student(&self, by: &TeacherId, id: &ExamId, student: &Student) -> Result<Erasure, ServiceError> {
        self.require_creator(by, id, "Only the teacher who created this exam can erase a student's data.").await?;
        self.catalog.get(id).ok_or_else(|| ServiceError::NotFound(format!("exam {id}")))?;
        let erasure = self.erase_in(id, student).await?;
        self.audit(by, &erasure).await;
        Ok(erasure)
    }

    /// Erases `student` in every exam `by` created; returns the exams where there was
    /// something to erase.
    pub async fn erase_everywhere(&self, by: &TeacherId, student: &Student) -> Result<Vec<Erasure>, ServiceError> {
        let mut done = Vec::new();
        for exam in self.catalog.list() {
            if self.identity.access.get(&exam.id).await?.is_none_or(|a| &a.owner != by) {
                continue;
            }
            let erasure = self.erase_in(&exam.id, student).await?;
            if !erasure.is_empty() {
                self.audit(by, &erasure).await;
                done.push(erasure);
            }
        }
        Ok(done)
    }

    async fn audit(&self, by: &TeacherId, e: &Erasure) {
        let detail = format!(
            "{} attempt(s) deleted, {} submission(s) kept as {}",
            e.attempts_deleted,
            e.submissions_anonymised,
            e.pseudonym.as_deref().unwrap_or("-")
        );
        self.identity.audit.record(Scope::Exam(&e.exam_id), "student_erased", Some(by), Some(&e.exam_id), None, &detail).await;
    }

    async fn erase_in(&self, id: &ExamId, student: &Student) -> Result<Erasure, ServiceError> {
        let store = self.store();
        let key = student.key();
        let mut erasure = Erasure { exam_id: id.clone(), attempts_deleted: 0, submissions_anonymised: 0, pseudonym: None };

        let attempt = keys::attempt_key(id, &key);
        if store.head(&attempt).await?.is_some() {
            store.delete(&attempt).await?;
            erasure.attempts_deleted = 1;
        }

        let originals = store.list(&format!("{}{key}/", keys::submissions_prefix(id))).await?;
        if !originals.is_empty() {
            let pseudonym = Student::parse(&format!("Erased {}", &secrets::random_hex_id()[..6]))
                .map_err(|e| ServiceError::Unavailable(format!("cannot make a pseudonym: {e}")))?;
            for info in originals {
                let Some(mut record) = store::get_json::<SubmissionRecord>(store, &info.key).await? else { continue };
                pseudonym.as_str().clone_into(&mut record.student);
                let copy = keys::submission_key(id, &pseudonym.key(), record.attempt);
                match store::put_json(store, &copy, &record, PutMode::CreateNew).await {
                    Ok(_) | Err(StoreError::AlreadyExists(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                store.delete(&info.key).await?;
                erasure.submissions_anonymised += 1;
            }
            erasure.pseudonym = Some(pseudonym.as_str().to_owned());
        }

        store.delete(&keys::joined_student_key(id, &key)).await?;
        if self.rules.get(id).await?.overrides.get(student).is_some() {
            self.rules.set_override(id, student, StudentOverride::default()).await?;
        }
        Ok(erasure)
    }
}
