//! How each exam is sat: its settings (`settings/<exam>.json`), the students' accommodations
//! (`overrides/<exam>.json`) and the teacher's sitting actions (close early, release results,
//! extend one student's time).
//!
//! Every autosaved answer needs the current rules (the deadline depends on the close time and
//! on accommodations, which apply at once), so they are cached per exam for [`RULES_TTL`]:
//! a change made on this replica is seen here at once, one made on another replica within the
//! TTL — far inside the grace period.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use exam_domain::records::{OverrideEntry, OverridesRecord, SettingsRecord};
use exam_domain::sitting::{ExamSettings, Sitting, StudentOverride};
use exam_domain::{ExamId, PassMark, Student};
use serde_json::Value;

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::records::Records;

pub const RULES_TTL: Duration = Duration::from_secs(1);

/// An exam's settings, release state and accommodations, as read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExamRules {
    pub settings: ExamSettings,
    pub released_at: Option<String>,
    pub overrides: OverridesRecord,
}

impl ExamRules {
    pub fn sitting(&self, student: &Student) -> Sitting<'_> {
        Sitting { settings: &self.settings, student: self.overrides.get(student), released_at: self.released_at.as_deref() }
    }

    /// The rules without any student's accommodations (what the teacher set for everyone).
    pub fn general(&self) -> Sitting<'_> {
        Sitting { settings: &self.settings, student: None, released_at: self.released_at.as_deref() }
    }

    pub fn pass_mark(&self) -> PassMark {
        PassMark::new(self.settings.pass_mark).unwrap_or_default()
    }

    /// Whether a running attempt can run out of time (a limit, or a close time for anyone).
    pub fn can_expire(&self) -> bool {
        self.settings.time_limit_secs.is_some()
            || self.settings.closes_at.is_some()
            || self.overrides.students.values().any(|o| o.rules.closes_at.is_some())
    }
}

pub struct Rules {
    records: Arc<Records>,
    clock: Arc<dyn Clock>,
    default_pass_mark: PassMark,
    cache: RwLock<HashMap<ExamId, (Instant, Arc<ExamRules>)>>,
    /// One load at a time per exam (striped): when the entry expires under a class answering
    /// at once, one task reads the two records and the others wait for its result instead of
    /// each reading them again. A write's reload takes it too, so a load that began before
    /// the write cannot put older rules in the cache after the write's.
    loading: Vec<tokio::sync::Mutex<()>>,
    /// Serialises read-modify-write of settings and overrides in this process.
    writing: tokio::sync::Mutex<()>,
}

const LOAD_STRIPES: usize = 16;

impl Rules {
    pub fn new(records: Arc<Records>, clock: Arc<dyn Clock>, default_pass_mark: PassMark) -> Self {
        let loading = (0..LOAD_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect();
        Rules { records, clock, default_pass_mark, cache: RwLock::default(), loading, writing: tokio::sync::Mutex::new(()) }
    }

    /// The current rules (cached for [`RULES_TTL`]).
    pub async fn get(&self, id: &ExamId) -> Result<Arc<ExamRules>, ServiceError> {
        if let Some(r) = self.cached(id) {
            return Ok(r);
        }
        let _one = self.load_lock(id).lock().await;
        // Loaded by the task this one waited for?
        if let Some(r) = self.cached(id) {
            return Ok(r);
        }
        self.load_locked(id).await
    }

    fn cached(&self, id: &ExamId) -> Option<Arc<ExamRules>> {
        let cache = self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(id).filter(|(at, _)| at.elapsed() < RULES_TTL).map(|(_, r)| r.clone())
    }

    fn load_lock(&self, id: &ExamId) -> &tokio::sync::Mutex<()> {
        crate::stripe(&self.loading, id)
    }

    /// Reads the rules now (after a write: the new ones) and caches them.
    async fn load(&self, id: &ExamId) -> Result<Arc<ExamRules>, ServiceError> {
        let _one = self.load_lock(id).lock().await;
        self.load_locked(id).await
    }

    async fn load_locked(&self, id: &ExamId) -> Result<Arc<ExamRules>, ServiceError> {
        let record = self.records.settings(id).await?;
        let overrides = self.records.overrides(id).await?;
        let (settings, released_at) = match record {
            Some(r) => (r.settings, r.released_at),
            None => (ExamSettings::defaults(self.default_pass_mark.percent()), None),
        };
        let rules = Arc::new(ExamRules { settings, released_at, overrides });
        let mut cache = self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bounded: entries of exams nobody asked about for a while are dropped.
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _)| at.elapsed() < RULES_TTL);
        }
        cache.insert(id.clone(), (Instant::now(), rules.clone()));
        Ok(rules)
    }

    async fn update_settings(
        &self,
        id: &ExamId,
        change: impl FnOnce(&mut SettingsRecord) -> Result<(), ServiceError>,
    ) -> Result<Arc<ExamRules>, ServiceError> {
        let _guard = self.writing.lock().await;
        let now = self.clock.now_rfc3339();
        let mut record = self.records.settings(id).await?.unwrap_or_else(|| SettingsRecord {
            exam_id: id.clone(),
            settings: ExamSettings::defaults(self.default_pass_mark.percent()),
            updated_at: now.clone(),
            released_at: None,
        });
        change(&mut record)?;
        record.updated_at = now;
        self.records.put_settings(&record).await?;
        self.load(id).await
    }

    /// Applies a JSON object of settings; fields left out keep their value (422 names the field).
    pub async fn put_settings(&self, id: &ExamId, body: &Value) -> Result<ExamSettings, ServiceError> {
        let rules = self.update_settings(id, |r| r.settings.apply_json(body).map_err(ServiceError::from)).await?;
        tracing::info!(exam.id = %id, settings = ?rules.settings, "exam settings changed");
        Ok(rules.settings.clone())
    }

    /// Closes the exam now: no new attempts; running ones are submitted (after the grace period).
    pub async fn close_now(&self, id: &ExamId) -> Result<ExamSettings, ServiceError> {
        let now = self.clock.now_rfc3339();
        let rules = self
            .update_settings(id, |r| {
                let earlier = r.settings.closes_at.as_deref().is_some_and(|c| c <= now.as_str());
                if !earlier {
                    r.settings.closes_at = Some(now.clone());
                    if r.settings.opens_at.as_deref().is_some_and(|o| o >= now.as_str()) {
                        r.settings.opens_at = None;
                    }
                }
                Ok(())
            })
            .await?;
        tracing::info!(exam.id = %id, "exam closed by its teacher");
        Ok(rules.settings.clone())
    }

    /// Releases results to students (`review.when = "on_release"`). Idempotent.
    pub async fn release(&self, id: &ExamId) -> Result<String, ServiceError> {
        let now = self.clock.now_rfc3339();
        let rules = self
            .update_settings(id, |r| {
                r.released_at.get_or_insert(now);
                Ok(())
            })
            .await?;
        Ok(rules.released_at.clone().unwrap_or_default())
    }

    async fn update_overrides(
        &self,
        id: &ExamId,
        change: impl FnOnce(&mut OverridesRecord) -> Result<(), ServiceError>,
    ) -> Result<Arc<ExamRules>, ServiceError> {
        let _guard = self.writing.lock().await;
        let mut record = self.records.overrides(id).await?;
        change(&mut record)?;
        record.updated_at = self.clock.now_rfc3339();
        self.records.put_overrides(id, &record).await?;
        self.load(id).await
    }

    /// Replaces one student's accommodations (an empty override removes them).
    pub async fn set_override(&self, id: &ExamId, student: &Student, rules: StudentOverride) -> Result<OverridesRecord, ServiceError> {
        let r = self
            .update_overrides(id, |o| {
                if rules.is_empty() {
                    o.students.remove(&student.key());
                } else {
                    o.students.insert(student.key(), OverrideEntry { student: student.to_string(), rules });
                }
                Ok(())
            })
            .await?;
        Ok(r.overrides.clone())
    }

    /// Gives one student `secs` more time, on top of any accommodation (live, while sitting).
    pub async fn extend(&self, id: &ExamId, student: &Student, secs: u32) -> Result<StudentOverride, ServiceError> {
        if secs == 0 || secs > exam_domain::sitting::MAX_TIME_LIMIT_SECS {
            return Err(ServiceError::invalid("secs", "must be from 1 to 604800"));
        }
        let r = self
            .update_overrides(id, |o| {
                let e = o
                    .students
                    .entry(student.key())
                    .or_insert_with(|| OverrideEntry { student: student.to_string(), rules: StudentOverride::default() });
                e.rules.extra_time_secs = e.rules.extra_time_secs.saturating_add(secs);
                Ok(())
            })
            .await?;
        Ok(r.overrides.get(student).cloned().unwrap_or_default())
    }
}
