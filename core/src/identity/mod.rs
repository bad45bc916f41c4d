//! Identity and access, without HTTP: teacher accounts ([`accounts`]), the first-teacher setup
//! link ([`setup`]), invitations ([`invites`]), personal access tokens ([`tokens`]), exam
//! ownership and sharing ([`access`]), join codes and the students who joined ([`join`]), the
//! audit log ([`audit`]) and the secrets they are built from ([`secrets`]). Sessions and
//! cookies are the gateway's.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod invites;
pub mod join;
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
    pub invites: invites::Invites,
    pub audit: audit::Audit,
    pub join: join::JoinCodes,
}

impl IdentityService {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        IdentityService {
            accounts: accounts::Accounts::new(store.clone(), clock.clone()),
            setup: setup::Setup::new(store.clone(), clock.clone()),
            tokens: tokens::Tokens::new(store.clone(), clock.clone()),
            invites: invites::Invites::new(store.clone(), clock.clone()),
            join: join::JoinCodes::new(store.clone(), clock.clone()),
            audit: audit::Audit::new(store.clone(), clock),
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

    /// Who may work on `exam`, with names ("not found" for an exam without an owner record).
    pub async fn access_view(&self, exam: &ExamId) -> Result<exam_domain::identity::AccessView, ServiceError> {
        let access = self.access.get(exam).await?.ok_or_else(|| ServiceError::NotFound(format!("exam {exam}")))?;
        let owner = self.accounts.get(&access.owner).await?;
        let mut shared_with = Vec::new();
        for t in &access.shared_with {
            if let Some(t) = self.accounts.get(t).await? {
                shared_with.push(t);
            }
        }
        Ok(exam_domain::identity::AccessView { owner, shared_with })
    }

    /// Shares `exam` with the teacher whose account is `email` (owner only), audited.
    pub async fn share(&self, exam: &ExamId, by: &TeacherId, email: &str) -> Result<exam_domain::identity::ExamAccess, ServiceError> {
        let email = exam_domain::identity::Email::parse(email).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        let Some(with) = self.accounts.by_email(&email).await? else {
            return Err(ServiceError::invalid("email", "no teacher has an account with this email; invite them first"));
        };
        let access = self.access.share(exam, by, &with.id).await?;
        self.audit.record(audit::Scope::Exam(exam), "share", Some(by), Some(exam), None, &format!("with {}", with.id)).await;
        Ok(access)
    }

    /// Stops sharing `exam` with `with` (owner only), audited.
    pub async fn unshare(
        &self,
        exam: &ExamId,
        by: &TeacherId,
        with: &TeacherId,
    ) -> Result<exam_domain::identity::ExamAccess, ServiceError> {
        let access = self.access.unshare(exam, by, with).await?;
        self.audit.record(audit::Scope::Exam(exam), "unshare", Some(by), Some(exam), None, &format!("with {with}")).await;
        Ok(access)
    }

    /// A personal access token for `by` (see [`tokens::Tokens::create`]), audited.
    pub async fn create_token(&self, by: &TeacherId, name: &str, days: u32) -> Result<(String, tokens::TokenInfo), ServiceError> {
        let (secret, info) = self.tokens.create(by, name, days).await?;
        self.audit.record(audit::Scope::Teacher(by), "token_created", Some(by), None, None, &format!("{} ({})", info.name, info.id)).await;
        Ok((secret, info))
    }

    /// Revokes one of `by`'s tokens, audited.
    pub async fn revoke_token(&self, by: &TeacherId, id: &str) -> Result<(), ServiceError> {
        self.tokens.revoke(by, id).await?;
        self.audit.record(audit::Scope::Teacher(by), "token_revoked", Some(by), None, None, id).await;
        Ok(())
    }

    /// An invitation from `by` (see [`invites::Invites::create`]), audited.
    pub async fn create_invite(&self, by: &TeacherId) -> Result<(String, invites::InviteRecord), ServiceError> {
        let (token, record) = self.invites.create(by).await?;
        self.audit.record(audit::Scope::Teacher(by), "invited", Some(by), None, None, &format!("expires {}", record.expires_at)).await;
        Ok((token, record))
    }
}
