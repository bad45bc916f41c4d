//! Invitations: a teacher invites another with a single-use link, valid for 7 days. The link
//! carries a 128-bit token; `auth/invites/<sha256>.json` records who invited and until when.
//! Accepting creates the account and uses the invitation up (`CreateNew` on a marker, so two
//! browsers racing on one link make one account).

use std::sync::Arc;
use std::time::Duration;

use exam_domain::identity::{Email, Password, Teacher, TeacherId, parse_name};
use exam_domain::sitting::{format_time, parse_time};
use serde::{Deserialize, Serialize};

use super::accounts::Accounts;
use super::secrets;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::{self, ObjectStore, PutMode, StoreError};

pub const INVITE_DAYS: u64 = 7;
const INVITES_PREFIX: &str = "auth/invites/";
const USED_PREFIX: &str = "auth/invites-used/";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteRecord {
    pub invited_by: TeacherId,
    pub created_at: String,
    pub expires_at: String,
}

pub struct Invites {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
}

fn key(prefix: &str, token: &str) -> String {
    format!("{prefix}{}.json", secrets::digest(token))
}

fn refused() -> ServiceError {
    ServiceError::Forbidden("This invitation is not valid: it was used already or has expired. Ask for a new one.".into())
}

impl Invites {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        Invites { store, clock }
    }

    /// A new invitation from `by`: the token for the link, and when it expires.
    pub async fn create(&self, by: &TeacherId) -> Result<(String, InviteRecord), ServiceError> {
        let token = secrets::random_base32(16);
        let now = self.clock.now();
        let record = InviteRecord {
            invited_by: by.clone(),
            created_at: format_time(now),
            expires_at: format_time(now + Duration::from_secs(INVITE_DAYS * 86_400)),
        };
        store::put_json(self.store.as_ref(), &key(INVITES_PREFIX, &token), &record, PutMode::CreateNew).await?;
        tracing::info!(teacher.id = %by, "teacher invited");
        Ok((token, record))
    }

    /// The invitation behind `token`, if it is live (unused, unexpired).
    pub async fn live(&self, token: &str) -> Result<Option<InviteRecord>, ServiceError> {
        if token.len() > 64 {
            return Ok(None);
        }
        let Some(record) = store::get_json::<InviteRecord>(self.store.as_ref(), &key(INVITES_PREFIX, token)).await? else {
            return Ok(None);
        };
        if parse_time(&record.expires_at).is_none_or(|t| t <= self.clock.now()) {
            return Ok(None);
        }
        if self.store.head(&key(USED_PREFIX, token)).await?.is_some() {
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// Creates the invited teacher's account; the invitation is used up.
    pub async fn accept(&self, accounts: &Accounts, token: &str, email: &str, name: &str, password: &str) -> Result<Teacher, ServiceError> {
        self.live(token).await?.ok_or_else(refused)?;
        // Validate first, so a typo does not use the invitation up.
        Email::parse(email).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        parse_name(name).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        Password::check(password).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        if accounts.by_email(&Email::parse(email).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?).await?.is_some() {
            return Err(ServiceError::invalid("email", "an account with this email exists already; sign in instead"));
        }
        match store::put_json(self.store.as_ref(), &key(USED_PREFIX, token), &self.clock.now_rfc3339(), PutMode::CreateNew).await {
            Ok(_) => {}
            Err(StoreError::AlreadyExists(_)) => return Err(refused()),
            Err(e) => return Err(e.into()),
        }
        let teacher = accounts.create(email, name, password).await?;
        let _ = self.store.delete(&key(INVITES_PREFIX, token)).await;
        Ok(teacher)
    }
}
