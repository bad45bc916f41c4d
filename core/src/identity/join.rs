//! Join codes and the students who joined with them (Kahoot's model): each exam has an
//! 8-character code the teacher shows the class; a student gives it with a display name and is
//! then a student of that exam, in their browser's session.
//!
//! Records: `join/exams/<exam>.json` holds the exam's current code, `join/codes/<CODE>.json`
//! points a code at its exam (both `CreateNew`, so two replicas making the first code agree on
//! one), and `join/students/<exam>/<student key>.json` claims a display name within the exam:
//! a second browser giving the same name becomes `Name (2)`, a different student, instead of
//! taking over the first one's attempt.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use exam_domain::identity::JoinCode;
use exam_domain::sitting::format_time;
use exam_domain::{ExamId, Student, keys};
use serde::{Deserialize, Serialize};

use super::secrets;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::{self, ObjectStore, PutMode, StoreError};

/// How long a replica trusts its copy of an exam's code (a regenerated code reaches the
/// other replicas within this).
pub const CACHE_TTL: Duration = Duration::from_secs(2);
/// Names tried for one join: `Ada`, `Ada (2)`, … `Ada (200)`.
const MAX_SUFFIX: u32 = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CodeRecord {
    exam: ExamId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExamCode {
    code: JoinCode,
    created_at: String,
}

/// A student of an exam, as recorded when they joined.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRecord {
    pub student: Student,
    pub joined_at: String,
    /// `join` or `oidc`.
    pub via: String,
}

pub struct JoinCodes {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    cache: RwLock<HashMap<ExamId, (JoinCode, Instant)>>,
}

fn random_code() -> JoinCode {
    let bytes = secrets::random_bytes::<5>();
    JoinCode::from_bits(bytes)
}

impl JoinCodes {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        JoinCodes { store, clock, cache: RwLock::default() }
    }

    fn cached(&self, exam: &ExamId) -> Option<JoinCode> {
        let cache = self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(exam).filter(|(_, at)| at.elapsed() < CACHE_TTL).map(|(c, _)| c.clone())
    }

    fn remember(&self, exam: &ExamId, code: &JoinCode) {
        let mut cache = self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        cache.insert(exam.clone(), (code.clone(), Instant::now()));
    }

    /// A fresh code pointing at `exam` (a taken code, one in 2^40, is drawn again).
    async fn reserve(&self, exam: &ExamId) -> Result<JoinCode, ServiceError> {
        loop {
            let code = random_code();
            let record = CodeRecord { exam: exam.clone() };
            match store::put_json(self.store.as_ref(), &keys::join_code_key(&code), &record, PutMode::CreateNew).await {
                Ok(_) => return Ok(code),
                Err(StoreError::AlreadyExists(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The exam's code if it has one (never makes one).
    pub async fn current(&self, exam: &ExamId) -> Result<Option<JoinCode>, ServiceError> {
        Ok(store::get_json::<ExamCode>(self.store.as_ref(), &keys::exam_code_key(exam)).await?.map(|c| c.code))
    }

    /// Drops the cached code (the exam was deleted).
    pub fn forget(&self, exam: &ExamId) {
        self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(exam);
    }

    /// The exam's code, made on first use (exams from before codes existed get one too).
    pub async fn code_of(&self, exam: &ExamId) -> Result<JoinCode, ServiceError> {
        if let Some(code) = self.cached(exam) {
            return Ok(code);
        }
        let key = keys::exam_code_key(exam);
        if let Some(current) = store::get_json::<ExamCode>(self.store.as_ref(), &key).await? {
            self.remember(exam, &current.code);
            return Ok(current.code);
        }
        let code = self.reserve(exam).await?;
        let record = ExamCode { code: code.clone(), created_at: format_time(self.clock.now()) };
        match store::put_json(self.store.as_ref(), &key, &record, PutMode::CreateNew).await {
            Ok(_) => {
                self.remember(exam, &code);
                Ok(code)
            }
            // Another replica made the first code at the same moment: theirs stands.
            Err(StoreError::AlreadyExists(_)) => {
                let _ = self.store.delete(&keys::join_code_key(&code)).await;
                let theirs = store::get_json::<ExamCode>(self.store.as_ref(), &key)
                    .await?
                    .ok_or_else(|| ServiceError::Unavailable("the exam's join code vanished while it was made".into()))?;
                self.remember(exam, &theirs.code);
                Ok(theirs.code)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A new code for `exam`; the old one stops working at once on this replica and within
    /// [`CACHE_TTL`] on the others. Students who joined keep their place.
    pub async fn regenerate(&self, exam: &ExamId) -> Result<JoinCode, ServiceError> {
        let old = store::get_json::<ExamCode>(self.store.as_ref(), &keys::exam_code_key(exam)).await?;
        let code = self.reserve(exam).await?;
        let record = ExamCode { code: code.clone(), created_at: format_time(self.clock.now()) };
        store::put_json(self.store.as_ref(), &keys::exam_code_key(exam), &record, PutMode::Overwrite).await?;
        self.remember(exam, &code);
        if let Some(old) = old {
            // Best effort: a stale pointer is harmless, because `exam_for` checks it against
            // the exam's current code.
            let _ = self.store.delete(&keys::join_code_key(&old.code)).await;
        }
        tracing::info!(exam.id = %exam, "join code regenerated");
        Ok(code)
    }

    /// Whether `code` is `exam`'s current code (compared in constant time).
    pub async fn is_code_of(&self, exam: &ExamId, code: &JoinCode) -> Result<bool, ServiceError> {
        let current = self.code_of(exam).await?;
        Ok(secrets::same_secret(current.as_str(), code.as_str()))
    }

    /// The exam `code` opens, if it is some exam's current code.
    pub async fn exam_for(&self, code: &JoinCode) -> Result<Option<ExamId>, ServiceError> {
        let Some(record) = store::get_json::<CodeRecord>(self.store.as_ref(), &keys::join_code_key(code)).await? else {
            return Ok(None);
        };
        Ok(self.is_code_of(&record.exam, code).await?.then_some(record.exam))
    }

    /// Claims a display name in `exam` for a newly joined student: `wanted` itself if no one
    /// holds it, else the first free `wanted (n)`. A name with attempts from before join codes
    /// existed counts as held, so no newcomer inherits someone else's results.
    pub async fn claim(&self, exam: &ExamId, wanted: &Student, via: &str) -> Result<Student, ServiceError> {
        for n in 1..=MAX_SUFFIX {
            let candidate = if n == 1 { wanted.clone() } else { with_suffix(wanted, n)? };
            let key = candidate.key();
            if self.store.head(&keys::attempt_key(exam, &key)).await?.is_some()
                && self.store.head(&keys::joined_student_key(exam, &key)).await?.is_none()
            {
                continue;
            }
            let record = JoinRecord { student: candidate.clone(), joined_at: format_time(self.clock.now()), via: via.to_owned() };
            match store::put_json(self.store.as_ref(), &keys::joined_student_key(exam, &key), &record, PutMode::CreateNew).await {
                Ok(_) => return Ok(candidate),
                Err(StoreError::AlreadyExists(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict(format!("Too many students in this exam are called {wanted}. Please add your surname or initials.")))
    }

    /// Records `student` (a signed-in student's stable name) as a student of `exam`, if it is
    /// not yet: the same person joining again, from any browser, is the same student.
    pub async fn enrol(&self, exam: &ExamId, student: &Student, via: &str) -> Result<(), ServiceError> {
        let record = JoinRecord { student: student.clone(), joined_at: format_time(self.clock.now()), via: via.to_owned() };
        match store::put_json(self.store.as_ref(), &keys::joined_student_key(exam, &student.key()), &record, PutMode::CreateNew).await {
            Ok(_) | Err(StoreError::AlreadyExists(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// `Ada (2)`, shortening a long name so the suffix fits.
fn with_suffix(name: &Student, n: u32) -> Result<Student, ServiceError> {
    let suffix = format!(" ({n})");
    let room = Student::MAX_CHARS - suffix.chars().count();
    let base: String = name.as_str().chars().take(room).collect();
    Student::parse(&format!("{}{suffix}", base.trim_end())).map_err(|e| ServiceError::invalid("name", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_fit_within_the_name_limit() {
        let long = Student::parse(&"x".repeat(Student::MAX_CHARS)).unwrap();
        let s = with_suffix(&long, 12).unwrap();
        assert_eq!(s.as_str().chars().count(), Student::MAX_CHARS);
        assert!(s.as_str().ends_with(" (12)"));
        assert_eq!(with_suffix(&Student::parse("Ada").unwrap(), 2).unwrap().as_str(), "Ada (2)");
    }
}
