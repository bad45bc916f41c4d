//! Which teacher may see and change which exam: `access/<exam>.json` ([`ExamAccess`]), written
//! with `CreateNew` when the exam is created and cached briefly (sharing can change it).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use exam_domain::ExamId;
use exam_domain::identity::{ExamAccess, TeacherId};
use exam_domain::keys;

use crate::error::ServiceError;
use crate::store::{self, ObjectStore, PutMode, StoreError};

/// How long a replica trusts its copy of an exam's access record.
pub const ACCESS_TTL: Duration = Duration::from_secs(2);

pub struct AccessRules {
    store: Arc<dyn ObjectStore>,
    cache: RwLock<HashMap<ExamId, (Option<ExamAccess>, Instant)>>,
}

impl AccessRules {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        AccessRules { store, cache: RwLock::default() }
    }

    pub async fn get(&self, exam: &ExamId) -> Result<Option<ExamAccess>, ServiceError> {
        if let Some((a, at)) = self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(exam)
            && at.elapsed() < ACCESS_TTL
        {
            return Ok(a.clone());
        }
        let access = store::get_json::<ExamAccess>(self.store.as_ref(), &keys::access_key(exam)).await?;
        self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(exam.clone(), (access.clone(), Instant::now()));
        Ok(access)
    }

    /// Drops the cached record (the exam was deleted).
    pub fn forget(&self, exam: &ExamId) {
        self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(exam);
    }

    /// Whether `teacher` may see and change `exam`.
    pub async fn allows(&self, teacher: &TeacherId, exam: &ExamId) -> Result<bool, ServiceError> {
        Ok(self.get(exam).await?.is_some_and(|a| a.allows(teacher)))
    }

    /// `Ok` when `teacher` may change `exam`; otherwise "not found", because whether another
    /// teacher's exam exists is not theirs to know.
    pub async fn check(&self, teacher: &TeacherId, exam: &ExamId) -> Result<(), ServiceError> {
        if self.allows(teacher, exam).await? { Ok(()) } else { Err(ServiceError::NotFound(format!("exam {exam}"))) }
    }

    /// Records `owner` as the owner of a new exam (or of one from before owners existed).
    /// Returns false when the exam already had an owner.
    pub async fn grant_owner(&self, exam: &ExamId, owner: &TeacherId) -> Result<bool, ServiceError> {
        let access = ExamAccess::owned_by(owner.clone());
        let created = match store::put_json(self.store.as_ref(), &keys::access_key(exam), &access, PutMode::CreateNew).await {
            Ok(_) => true,
            Err(StoreError::AlreadyExists(_)) => false,
            Err(e) => return Err(e.into()),
        };
        self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(exam);
        Ok(created)
    }

    /// Shares `exam` with `with` (a teacher). Only the owner shares; sharing twice is a no-op.
    pub async fn share(&self, exam: &ExamId, by: &TeacherId, with: &TeacherId) -> Result<ExamAccess, ServiceError> {
        self.change(exam, by, |a| {
            if &a.owner != with && !a.shared_with.contains(with) {
                a.shared_with.push(with.clone());
            }
        })
        .await
    }

    /// Stops sharing `exam` with `with`.
    pub async fn unshare(&self, exam: &ExamId, by: &TeacherId, with: &TeacherId) -> Result<ExamAccess, ServiceError> {
        self.change(exam, by, |a| a.shared_with.retain(|t| t != with)).await
    }

    async fn change(&self, exam: &ExamId, by: &TeacherId, f: impl FnOnce(&mut ExamAccess)) -> Result<ExamAccess, ServiceError> {
        let Some(mut access) = store::get_json::<ExamAccess>(self.store.as_ref(), &keys::access_key(exam)).await? else {
            return Err(ServiceError::NotFound(format!("exam {exam}")));
        };
        if &access.owner != by {
            return Err(if access.allows(by) {
                ServiceError::Forbidden("Only the exam's owner can change who it is shared with.".into())
            } else {
                ServiceError::NotFound(format!("exam {exam}"))
            });
        }
        f(&mut access);
        store::put_json(self.store.as_ref(), &keys::access_key(exam), &access, PutMode::Overwrite).await?;
        self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(exam);
        Ok(access)
    }
}
