//! Personal access tokens for scripts: `exm_` + 32 base32 characters (160 bits), shown once,
//! stored as `auth/tokens/<sha256>.json` with their owner, name and expiry, revocable.

use std::sync::Arc;
use std::time::Duration;

use exam_domain::identity::TeacherId;
use exam_domain::keys;
use exam_domain::sitting::{format_time, parse_time};
use serde::{Deserialize, Serialize};

use super::secrets;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::{self, ObjectStore, PutMode};

pub const TOKEN_PREFIX: &str = "exm_";
/// Longest lifetime a token can be given.
pub const MAX_DAYS: u32 = 366;

pub use exam_domain::identity::TokenInfo;

/// The stored form: [`TokenInfo`] and its owner.
#[derive(Serialize, Deserialize)]
struct TokenRecord {
    #[serde(flatten)]
    info: TokenInfo,
    teacher: TeacherId,
}

pub struct Tokens {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
}

fn key_of(secret: &str) -> String {
    format!("{}{}.json", keys::TOKENS_PREFIX, secrets::digest(secret))
}

impl Tokens {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        Tokens { store, clock }
    }

    /// A new token for `teacher`: the secret (shown once) and what is kept of it.
    pub async fn create(&self, teacher: &TeacherId, name: &str, days: u32) -> Result<(String, TokenInfo), ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(ServiceError::invalid("name", "give the token a name of 1 to 80 characters"));
        }
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(ServiceError::invalid("expires_in_days", format!("choose 1 to {MAX_DAYS} days")));
        }
        let secret = format!("{TOKEN_PREFIX}{}", secrets::random_base32(20));
        let now = self.clock.now();
        let record = TokenRecord {
            info: TokenInfo {
                id: secrets::random_hex_id()[..16].to_owned(),
                name: name.to_owned(),
                created_at: format_time(now),
                expires_at: format_time(now + Duration::from_secs(u64::from(days) * 86_400)),
            },
            teacher: teacher.clone(),
        };
        store::put_json(self.store.as_ref(), &key_of(&secret), &record, PutMode::CreateNew).await?;
        tracing::info!(teacher.id = %teacher, token.id = %record.info.id, "access token created");
        Ok((secret, record.info))
    }

    /// The owner of a live token (`None` for unknown, malformed or expired tokens).
    pub async fn resolve(&self, secret: &str) -> Result<Option<TeacherId>, ServiceError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 100 {
            return Ok(None);
        }
        let Some(record) = store::get_json::<TokenRecord>(self.store.as_ref(), &key_of(secret)).await? else { return Ok(None) };
        let live = parse_time(&record.info.expires_at).is_some_and(|t| t > self.clock.now());
        Ok(live.then_some(record.teacher))
    }

    /// `teacher`'s tokens, newest first.
    pub async fn list(&self, teacher: &TeacherId) -> Result<Vec<TokenInfo>, ServiceError> {
        Ok(self.records(teacher).await?.into_iter().map(|(_, r)| r.info).collect())
    }

    async fn records(&self, teacher: &TeacherId) -> Result<Vec<(String, TokenRecord)>, ServiceError> {
        let mut out = Vec::new();
        for info in self.store.list(keys::TOKENS_PREFIX).await? {
            if let Some(r) = store::get_json::<TokenRecord>(self.store.as_ref(), &info.key).await?
                && &r.teacher == teacher
            {
                out.push((info.key, r));
            }
        }
        out.sort_by(|a, b| b.1.info.created_at.cmp(&a.1.info.created_at));
        Ok(out)
    }

    /// Revokes one of `teacher`'s tokens (404 for someone else's).
    pub async fn revoke(&self, teacher: &TeacherId, id: &str) -> Result<(), ServiceError> {
        let Some((key, _)) = self.records(teacher).await?.into_iter().find(|(_, r)| r.info.id == id) else {
            return Err(ServiceError::NotFound(format!("token {id}")));
        };
        self.store.delete(&key).await?;
        tracing::info!(teacher.id = %teacher, token.id = %id, "access token revoked");
        Ok(())
    }
}
