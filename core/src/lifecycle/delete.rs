//! Deleting an exam: everything under its id goes (document, banks, text, drafts, versions,
//! settings, attempts, submissions, join records, audit log, access).
//!
//! The order makes it safe to stop at any point: a tombstone (`deletions/<exam>.json`) is
//! written first, then every replica is told to forget the exam, then the objects are removed
//! and the tombstone marked `done`. A gateway that starts finds unfinished tombstones and
//! finishes them ([`Lifecycle::resume`]); the catalog never loads a tombstoned exam, and an
//! announcement about one (a generation that was still running writes its bank late) has its
//! objects removed again ([`Lifecycle::purge`]). Deleting twice is not an error.

use exam_domain::identity::{JoinCode, TeacherId};
use exam_domain::keys::{self, ExamObjects};
use exam_domain::records::DeletionRecord;
use exam_domain::{Announcement, ExamId};

use super::Lifecycle;
use crate::error::ServiceError;
use crate::identity::audit::Scope;
use crate::store::{self, PutMode};

impl Lifecycle {
    /// Deletes the exam `by` created. Repeating it (a retried request) answers `Ok`.
    pub async fn delete_exam(&self, by: &TeacherId, id: &ExamId) -> Result<(), ServiceError> {
        let key = keys::deletion_key(id);
        if let Some(t) = store::get_json::<DeletionRecord>(self.store(), &key).await? {
            if t.by != by.as_str() {
                return Err(ServiceError::NotFound(format!("exam {id}")));
            }
            if !t.done {
                self.purge(id).await?;
            }
            return Ok(());
        }
        self.require_creator(by, id, "Only the teacher who created this exam can delete it.").await?;
        let title = self.catalog.get(id).map(|e| e.title).unwrap_or_default();
        let tombstone = DeletionRecord {
            exam_id: id.clone(),
            by: by.as_str().to_owned(),
            requested_at: self.clock.now_rfc3339(),
            join_code: self.identity.join.current(id).await?.map(|c| c.to_string()),
            done: false,
        };
        store::put_json(self.store(), &key, &tombstone, PutMode::Overwrite).await?;
        self.announcer.announce(Announcement::ExamDeleted { exam_id: id.clone(), at: tombstone.requested_at.clone() });
        // The teacher's own log: the exam's log is deleted with it.
        self.identity.audit.record(Scope::Teacher(by), "exam_deleted", Some(by), Some(id), None, &title).await;
        let removed = self.purge(id).await?;
        tracing::info!(exam.id = %id, objects = removed, "exam deleted");
        Ok(())
    }

    /// Removes every object of a tombstoned exam and marks its tombstone done; returns how many
    /// objects there were. Does nothing for an exam without a tombstone. Safe to repeat and to
    /// run on several replicas at once (removing a missing object is not an error).
    pub async fn purge(&self, id: &ExamId) -> Result<usize, ServiceError> {
        let key = keys::deletion_key(id);
        let Some(mut tombstone) = store::get_json::<DeletionRecord>(self.store(), &key).await? else { return Ok(0) };
        // The code as it is now, too: it may have been regenerated after the tombstone.
        let mut codes: Vec<JoinCode> = tombstone.join_code.as_deref().and_then(|c| JoinCode::parse(c).ok()).into_iter().collect();
        codes.extend(self.identity.join.current(id).await?);
        let mut removed = 0;
        for objects in keys::exam_objects(id) {
            match objects {
                ExamObjects::Single { key, .. } => {
                    if self.store().head(&key).await?.is_some() {
                        self.store().delete(&key).await?;
                        removed += 1;
                    }
                }
                ExamObjects::Tree { prefix, .. } => {
                    for info in self.store().list(&prefix).await? {
                        self.store().delete(&info.key).await?;
                        removed += 1;
                    }
                }
            }
        }
        for code in codes {
            self.store().delete(&keys::join_code_key(&code)).await?;
        }
        self.records.forget(id);
        self.identity.access.forget(id);
        self.identity.join.forget(id);
        if !tombstone.done {
            tombstone.done = true;
            store::put_json(self.store(), &key, &tombstone, PutMode::Overwrite).await?;
        }
        Ok(removed)
    }

    /// Finishes the deletions a restart interrupted; returns how many there were.
    pub async fn resume(&self) -> Result<usize, ServiceError> {
        let mut resumed = 0;
        for info in self.store().list(keys::DELETIONS_PREFIX).await? {
            let Some(t) = store::get_json::<DeletionRecord>(self.store(), &info.key).await? else { continue };
            if !t.done {
                tracing::info!(exam.id = %t.exam_id, "finishing an interrupted deletion");
                self.purge(&t.exam_id).await?;
                resumed += 1;
            }
        }
        Ok(resumed)
    }
}
