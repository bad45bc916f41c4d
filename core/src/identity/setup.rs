//! The first teacher. While no account exists, the gateway makes a one-time setup token
//! (128 bits), stores its digest at `auth/setup.json` and prints the setup link; whoever opens
//! it chooses the first account. Once any account exists the link is dead.

use std::sync::Arc;

use exam_domain::identity::Teacher;
use exam_domain::keys;
use serde::{Deserialize, Serialize};

use super::accounts::Accounts;
use super::secrets;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::{self, ObjectStore, PutMode, StoreError};

#[derive(Serialize, Deserialize)]
struct SetupRecord {
    digest: String,
    created_at: String,
}

/// Marker created once, by whichever setup wins (two browsers submitting at once).
const SETUP_DONE_KEY: &str = "auth/setup-done.json";

pub struct Setup {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
}

impl Setup {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        Setup { store, clock }
    }

    /// A fresh setup token when no teacher exists yet (replacing an earlier one), else `None`.
    pub async fn prepare(&self, accounts: &Accounts) -> Result<Option<String>, ServiceError> {
        if accounts.any().await? {
            let _ = self.store.delete(keys::SETUP_KEY).await;
            return Ok(None);
        }
        let token = secrets::random_base32(16);
        let record = SetupRecord { digest: secrets::digest(&token), created_at: self.clock.now_rfc3339() };
        store::put_json(self.store.as_ref(), keys::SETUP_KEY, &record, PutMode::Overwrite).await?;
        Ok(Some(token))
    }

    /// Whether `token` is the live setup token.
    pub async fn is_valid(&self, token: &str) -> Result<bool, ServiceError> {
        let Some(record) = store::get_json::<SetupRecord>(self.store.as_ref(), keys::SETUP_KEY).await? else { return Ok(false) };
        Ok(secrets::same_secret(&record.digest, &secrets::digest(token)))
    }

    /// Creates the first teacher with the setup token; the token is used up.
    pub async fn complete(
        &self,
        accounts: &Accounts,
        token: &str,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<Teacher, ServiceError> {
        let refused = || {
            ServiceError::Forbidden("This setup link is not valid any more. Sign in, or ask the first teacher for an invitation.".into())
        };
        if !self.is_valid(token).await? || accounts.any().await? {
            return Err(refused());
        }
        // Validate before using the link up, so a typo does not burn it.
        exam_domain::identity::Email::parse(email).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        exam_domain::identity::parse_name(name).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        exam_domain::identity::Password::check(password).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        match store::put_json(self.store.as_ref(), SETUP_DONE_KEY, &self.clock.now_rfc3339(), PutMode::CreateNew).await {
            Ok(_) => {}
            Err(StoreError::AlreadyExists(_)) => return Err(refused()),
            Err(e) => return Err(e.into()),
        }
        let teacher = accounts.create(email, name, password).await?;
        self.store.delete(keys::SETUP_KEY).await?;
        Ok(teacher)
    }
}
