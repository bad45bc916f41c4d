//! Reading and writing the platform's records: the one module that knows keys, `CreateNew`
//! rules and caches. Authoring and attempts speak to the store only through [`Records`].
//!
//! Caches: question banks and published versions are immutable once written, so they are
//! cached after first use and never go stale. Both caches are bounded in entries and in
//! (approximate) bytes ([`BANK_CACHE`], [`VERSION_CACHE`]); the oldest entries go first and
//! are read from the store again when needed. Everything else is read from the store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use exam_domain::keys;
use exam_domain::records::{OverridesRecord, SettingsRecord};
use exam_domain::{AttemptState, Draft, ExamId, Publication, PublishedVersion, QuestionBank, Student, SubmissionRecord};

use crate::error::ServiceError;
use crate::store::{self, ObjectInfo, ObjectStore, PutMode, StoreError};

/// The outcome of a write that must happen at most once.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    New,
    /// Someone (another tab, replica or the deadline sweeper) wrote it first.
    AlreadyThere,
}

pub struct Records {
    store: Arc<dyn ObjectStore>,
    banks: RwLock<Bounded<ExamId, QuestionBank>>,
    versions: RwLock<Bounded<(ExamId, u32), PublishedVersion>>,
}

/// How many question banks, and how many bytes of their text, stay cached at most.
pub const BANK_CACHE: CacheLimit = CacheLimit { entries: 256, bytes: 32 << 20 };
/// How many published versions, and how many bytes of their text, stay cached at most.
pub const VERSION_CACHE: CacheLimit = CacheLimit { entries: 1024, bytes: 64 << 20 };

/// The bound of one cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimit {
    pub entries: usize,
    pub bytes: usize,
}

/// What the caches hold now (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUsage {
    pub banks: usize,
    pub bank_bytes: usize,
    pub versions: usize,
    pub version_bytes: usize,
}

/// A cache of immutable values bounded in entries and bytes, oldest out first.
struct Bounded<K, V> {
    map: HashMap<K, (Arc<V>, usize)>,
    order: VecDeque<K>,
    bytes: usize,
    limit: CacheLimit,
}

impl<K: std::hash::Hash + Eq + Clone, V> Bounded<K, V> {
    fn new(limit: CacheLimit) -> Self {
        Bounded { map: HashMap::new(), order: VecDeque::new(), bytes: 0, limit }
    }

    fn get(&self, k: &K) -> Option<Arc<V>> {
        self.map.get(k).map(|(v, _)| v.clone())
    }

    fn remove_where(&mut self, f: impl Fn(&K) -> bool) {
        let gone: Vec<K> = self.map.keys().filter(|k| f(k)).cloned().collect();
        for k in gone {
            if let Some((_, n)) = self.map.remove(&k) {
                self.bytes -= n;
            }
        }
        self.order.retain(|k| self.map.contains_key(k));
    }

    fn insert(&mut self, k: K, v: Arc<V>, size: usize) {
        // Too large to keep (it would evict everything): served, not cached.
        if size > self.limit.bytes / 4 || self.map.contains_key(&k) {
            return;
        }
        self.map.insert(k.clone(), (v, size));
        self.order.push_back(k);
        self.bytes += size;
        while self.map.len() > self.limit.entries || self.bytes > self.limit.bytes {
            let Some(old) = self.order.pop_front() else { break };
            if let Some((_, n)) = self.map.remove(&old) {
                self.bytes -= n;
            }
        }
    }
}

/// Roughly what a bank takes in memory: its text plus a fixed cost per question and option.
fn bank_bytes(b: &QuestionBank) -> usize {
    let text = |s: &str| s.len();
    b.title.len()
        + b.notes.iter().map(|n| text(n)).sum::<usize>()
        + b.questions
            .iter()
            .map(|q| {
                256 + text(&q.question)
                    + text(&q.correct_answer)
                    + q.options.iter().map(|o| 64 + text(&o.text)).sum::<usize>()
                    + q.source.as_ref().map_or(0, |s| text(&s.quote))
                    + q.explanation.as_deref().map_or(0, text)
                    + q.flags.iter().map(|f| text(f)).sum::<usize>()
            })
            .sum::<usize>()
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}
fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn create_new<T: serde::Serialize + Sync>(store: &dyn ObjectStore, key: &str, value: &T) -> Result<Created, ServiceError> {
    match store::put_json(store, key, value, PutMode::CreateNew).await {
        Ok(_) => Ok(Created::New),
        Err(StoreError::AlreadyExists(_)) => Ok(Created::AlreadyThere),
        Err(e) => Err(e.into()),
    }
}

impl Records {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Records { store, banks: RwLock::new(Bounded::new(BANK_CACHE)), versions: RwLock::new(Bounded::new(VERSION_CACHE)) }
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    // --- question banks (written once by the generator or an import) ---

    pub fn cache_bank(&self, bank: Arc<QuestionBank>) {
        let size = bank_bytes(&bank);
        write(&self.banks).insert(bank.exam_id.clone(), bank, size);
    }

    /// Drops a deleted exam's bank and versions from the caches.
    pub fn forget(&self, id: &ExamId) {
        write(&self.banks).remove_where(|k| k == id);
        write(&self.versions).remove_where(|(e, _)| e == id);
    }

    /// How full the caches are.
    pub fn cache_usage(&self) -> CacheUsage {
        let (banks, versions) = (read(&self.banks), read(&self.versions));
        CacheUsage { banks: banks.map.len(), bank_bytes: banks.bytes, versions: versions.map.len(), version_bytes: versions.bytes }
    }

    fn cache_version(&self, v: Arc<PublishedVersion>) {
        let size = bank_bytes(&v.bank);
        write(&self.versions).insert((v.exam_id.clone(), v.version), v, size);
    }

    pub async fn bank(&self, id: &ExamId) -> Result<Arc<QuestionBank>, ServiceError> {
        if let Some(b) = read(&self.banks).get(id) {
            return Ok(b);
        }
        let Some((bytes, _)) = self.store.get(&keys::bank_key(id)).await? else {
            return Err(ServiceError::NotFound(format!("question bank of exam {id}")));
        };
        let bank = QuestionBank::from_json(&bytes, id, id.as_str()).map_err(|e| {
            tracing::error!(exam.id = %id, error = %e, "stored question bank is unreadable");
            ServiceError::Conflict(format!("The stored question bank of this exam is unreadable: {e}"))
        })?;
        let bank = Arc::new(bank);
        self.cache_bank(bank.clone());
        Ok(bank)
    }

    pub async fn create_bank(&self, bank: QuestionBank) -> Result<Arc<QuestionBank>, ServiceError> {
        store::put_json(self.store.as_ref(), &keys::bank_key(&bank.exam_id), &bank, PutMode::CreateNew).await?;
        let bank = Arc::new(bank);
        self.cache_bank(bank.clone());
        Ok(bank)
    }

    // --- published versions (written once each) ---

    pub async fn version(&self, id: &ExamId, n: u32) -> Result<Arc<PublishedVersion>, ServiceError> {
        if let Some(v) = read(&self.versions).get(&(id.clone(), n)) {
            return Ok(v);
        }
        let v = store::get_json::<PublishedVersion>(self.store.as_ref(), &keys::version_key(id, n))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {n} of exam {id}")))?;
        let v = Arc::new(v);
        self.cache_version(v.clone());
        Ok(v)
    }

    /// Published version numbers, ascending.
    pub async fn version_numbers(&self, id: &ExamId) -> Result<Vec<u32>, ServiceError> {
        let mut numbers: Vec<u32> =
            self.store.list(&keys::versions_prefix(id)).await?.iter().filter_map(|o| keys::version_of_key(id, &o.key)).collect();
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// Published version numbers; an exam published before versions existed (`published`
    /// but no version stored) gets its generated bank written as version 1 on first use.
    pub async fn published_versions(&self, id: &ExamId, published: bool, at: String) -> Result<Vec<u32>, ServiceError> {
        let mut numbers = self.version_numbers(id).await?;
        if numbers.is_empty() && published {
            let bank = self.bank(id).await?;
            let v = Draft::first((*bank).clone(), at.clone()).freeze(1, at);
            self.create_version(v).await?;
            numbers.push(1);
        }
        Ok(numbers)
    }

    pub async fn latest_version(&self, id: &ExamId, published: bool, at: String) -> Result<Option<Arc<PublishedVersion>>, ServiceError> {
        match self.published_versions(id, published, at).await?.last() {
            Some(&n) => Ok(Some(self.version(id, n).await?)),
            None => Ok(None),
        }
    }

    /// Writes a version once; [`Created::AlreadyThere`] when that number was taken meanwhile.
    pub async fn create_version(&self, v: PublishedVersion) -> Result<Created, ServiceError> {
        let created = create_new(self.store.as_ref(), &keys::version_key(&v.exam_id, v.version), &v).await?;
        if created == Created::New {
            self.cache_version(Arc::new(v));
        }
        Ok(created)
    }

    pub async fn put_publication(&self, p: &Publication) -> Result<(), ServiceError> {
        store::put_json(self.store.as_ref(), &keys::publication_key(&p.exam_id), p, PutMode::Overwrite).await?;
        Ok(())
    }

    // --- drafts ---

    pub async fn draft(&self, id: &ExamId) -> Result<Option<Draft>, ServiceError> {
        Ok(store::get_json::<Draft>(self.store.as_ref(), &keys::draft_key(id)).await?)
    }

    pub async fn put_draft(&self, d: &Draft) -> Result<(), ServiceError> {
        store::put_json(self.store.as_ref(), &keys::draft_key(&d.exam_id), d, PutMode::Overwrite).await?;
        Ok(())
    }

    pub async fn delete_draft(&self, id: &ExamId) -> Result<(), StoreError> {
        self.store.delete(&keys::draft_key(id)).await
    }

    // --- sitting settings and accommodations ---

    pub async fn settings(&self, id: &ExamId) -> Result<Option<SettingsRecord>, ServiceError> {
        Ok(store::get_json(self.store.as_ref(), &keys::settings_key(id)).await?)
    }

    pub async fn put_settings(&self, r: &SettingsRecord) -> Result<(), ServiceError> {
        store::put_json(self.store.as_ref(), &keys::settings_key(&r.exam_id), r, PutMode::Overwrite).await?;
        Ok(())
    }

    pub async fn overrides(&self, id: &ExamId) -> Result<OverridesRecord, ServiceError> {
        Ok(store::get_json(self.store.as_ref(), &keys::overrides_key(id)).await?.unwrap_or_default())
    }

    pub async fn put_overrides(&self, id: &ExamId, r: &OverridesRecord) -> Result<(), ServiceError> {
        store::put_json(self.store.as_ref(), &keys::overrides_key(id), r, PutMode::Overwrite).await?;
        Ok(())
    }

    // --- open attempts ---

    pub async fn attempt(&self, id: &ExamId, student: &Student) -> Result<Option<AttemptState>, ServiceError> {
        self.attempt_at(&keys::attempt_key(id, &student.key())).await
    }

    pub async fn attempt_at(&self, key: &str) -> Result<Option<AttemptState>, ServiceError> {
        Ok(store::get_json(self.store.as_ref(), key).await?)
    }

    /// Creates the attempt document once (two tabs opening at the same instant get one attempt).
    pub async fn create_attempt(&self, a: &AttemptState) -> Result<Created, ServiceError> {
        create_new(self.store.as_ref(), &keys::attempt_key(&a.exam_id, &a.student.key()), a).await
    }

    /// The attempt document with its stored version's tag.
    pub async fn attempt_tagged(&self, id: &ExamId, student: &Student) -> Result<Option<(AttemptState, String)>, ServiceError> {
        Ok(store::get_json_tagged(self.store.as_ref(), &keys::attempt_key(id, &student.key())).await?)
    }

    /// Replaces the attempt document if it is still the version `tag` names (on every
    /// replica: a conditional write); `Ok(false)` when it changed or is gone since.
    pub async fn replace_attempt(&self, a: &AttemptState, tag: &str) -> Result<bool, ServiceError> {
        let key = keys::attempt_key(&a.exam_id, &a.student.key());
        match store::put_json(self.store.as_ref(), &key, a, PutMode::IfMatch(tag.to_owned())).await {
            Ok(_) => Ok(true),
            Err(StoreError::Changed(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_attempt(&self, id: &ExamId, student: &Student) -> Result<(), StoreError> {
        self.store.delete(&keys::attempt_key(id, &student.key())).await
    }

    /// The open attempt documents of one exam.
    pub async fn list_attempts(&self, id: &ExamId) -> Result<Vec<ObjectInfo>, ServiceError> {
        Ok(self.store.list(&keys::attempts_prefix(id)).await?)
    }

    // --- submissions (exactly one per attempt) ---

    pub async fn submission(&self, id: &ExamId, student: &Student, attempt: u32) -> Result<Option<SubmissionRecord>, ServiceError> {
        Ok(store::get_json(self.store.as_ref(), &keys::submission_key(id, &student.key(), attempt)).await?)
    }

    pub async fn create_submission(&self, r: &SubmissionRecord, student: &Student) -> Result<Created, ServiceError> {
        create_new(self.store.as_ref(), &keys::submission_key(&r.exam_id, &student.key(), r.attempt), r).await
    }

    /// How many attempts the student has submitted.
    pub async fn submission_count(&self, id: &ExamId, student: &Student) -> Result<u32, ServiceError> {
        let n = self.store.list(&student_submissions_prefix(id, student)).await?.len();
        Ok(u32::try_from(n).unwrap_or(u32::MAX - 1))
    }

    /// One student's submissions, by attempt.
    pub async fn student_submissions(&self, id: &ExamId, student: &Student) -> Result<Vec<SubmissionRecord>, ServiceError> {
        self.read_all(&student_submissions_prefix(id, student)).await.map(|mut v| {
            v.sort_by_key(|r: &SubmissionRecord| r.attempt);
            v
        })
    }

    /// All submissions of an exam, oldest first.
    pub async fn submissions(&self, id: &ExamId) -> Result<Vec<SubmissionRecord>, ServiceError> {
        let mut out: Vec<SubmissionRecord> = self.read_all(&keys::submissions_prefix(id)).await?;
        out.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at));
        Ok(out)
    }

    async fn read_all<T: serde::de::DeserializeOwned>(&self, prefix: &str) -> Result<Vec<T>, ServiceError> {
        let mut out = Vec::new();
        for info in self.store.list(prefix).await? {
            if let Some(r) = store::get_json::<T>(self.store.as_ref(), &info.key).await? {
                out.push(r);
            }
        }
        Ok(out)
    }
}

fn student_submissions_prefix(id: &ExamId, student: &Student) -> String {
    format!("{}{}/", keys::submissions_prefix(id), student.key())
}
