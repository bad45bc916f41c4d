//! An exam's data over its whole life, after the sitting: deleting an exam ([`delete`]),
//! erasing one student's data on request ([`erase`]), and carrying an exam to another
//! installation as one archive ([`archive`]). Deletion and archives walk the same list of what
//! belongs to an exam, [`exam_domain::keys::exam_objects`], so a record kind added there is
//! deleted and exported (or, if not portable, left behind) without another change here;
//! erasure names the per-student records it touches (attempt, submissions, join record,
//! accommodations).

pub mod archive;
pub mod delete;
pub mod erase;

use std::sync::Arc;

use exam_domain::ExamId;
use exam_domain::identity::TeacherId;

use crate::announce::Announcer;
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::identity::IdentityService;
use crate::records::Records;
use crate::rules::Rules;
use crate::store::ObjectStore;

pub use archive::{ARCHIVE_CONTENT_TYPE, Archive};
pub use erase::Erasure;

pub struct Lifecycle {
    records: Arc<Records>,
    catalog: Arc<Catalog>,
    announcer: Arc<Announcer>,
    identity: Arc<IdentityService>,
    rules: Arc<Rules>,
    clock: Arc<dyn Clock>,
}

impl Lifecycle {
    pub fn new(
        records: Arc<Records>,
        catalog: Arc<Catalog>,
        announcer: Arc<Announcer>,
        identity: Arc<IdentityService>,
        rules: Arc<Rules>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Lifecycle { records, catalog, announcer, identity, rules, clock }
    }

    fn store(&self) -> &dyn ObjectStore {
        self.records.store().as_ref()
    }

    /// `Ok` for the teacher who created the exam; `Forbidden` (with `why`) for a teacher it is
    /// shared with; "not found" for anyone else, as everywhere.
    async fn require_creator(&self, by: &TeacherId, id: &ExamId, why: &str) -> Result<(), ServiceError> {
        match self.identity.access.get(id).await? {
            Some(a) if &a.owner == by => Ok(()),
            Some(a) if a.allows(by) => Err(ServiceError::Forbidden(why.to_owned())),
            _ => Err(ServiceError::NotFound(format!("exam {id}"))),
        }
    }
}
