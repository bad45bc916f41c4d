//! Identity and access, without HTTP: teacher accounts ([`accounts`]), the first-teacher setup
//! link ([`setup`]), personal access tokens ([`tokens`]), exam ownership ([`access`]) and the
//! secrets they are built from ([`secrets`]). Sessions and cookies are the gateway's.

pub mod access;
pub mod accounts;
pub mod secrets;
pub mod setup;
pub mod tokens;

use std::sync::Arc;

use exam_domain::ExamId;
use exam_domain::identity::TeacherId;

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::ObjectStore;

/// The identity use-cases, wired to one store and clock.
pub struct IdentityService {
    pub accounts: accounts::Accounts,
    pub setup: setup::Setup,
    pub tokens: tokens::Tokens,
    pub access: Arc<access::AccessRules>,
}

impl IdentityService {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        IdentityService {
            accounts: accounts::Accounts::new(store.clone(), clock.clone()),
            setup: setup::Setup::new(store.clone(), clock.clone()),
            tokens: tokens::Tokens::new(store.clone(), clock),
            access: Arc::new(access::AccessRules::new(store)),
        }
    }

    /// Exams from before owners existed go to the first teacher (the oldest account), so
    /// nothing made earlier becomes unreachable. Returns how many were adopted.
    pub async fn adopt_orphans(&self, exams: impl IntoIterator<Item = ExamId>) -> Result<usize, ServiceError> {
        let Some(first) = self.accounts.all().await?.into_iter().next().map(|a| a.id) else { return Ok(0) };
        let mut adopted = 0;
        for exam in exams {
            if self.access.get(&exam).await?.is_none() && self.access.grant_owner(&exam, &first).await? {
                adopted += 1;
            }
        }
        if adopted > 0 {
            tracing::info!(teacher.id = %first, exams = adopted, "exams without an owner given to the first teacher");
        }
        Ok(adopted)
    }

    /// The first teacher's id, if any account exists.
    pub async fn first_teacher(&self) -> Result<Option<TeacherId>, ServiceError> {
        Ok(self.accounts.all().await?.into_iter().next().map(|a| a.id))
    }
}
