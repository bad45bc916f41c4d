//! Teacher accounts: email + password (Argon2id), stored in the object store so every replica
//! and both deployments share them.
//!
//! `auth/teachers/<id>.json` holds the account, `auth/emails/<sha256 of email>.json` maps an
//! email to its account and is created with `CreateNew`, so two sign-ups with one email cannot
//! both succeed. Hashing runs on the blocking pool: an Argon2id hash takes tens of milliseconds
//! of CPU and must not stall the async workers.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use exam_domain::identity::{Email, Password, Teacher, TeacherId, parse_name};
use exam_domain::keys;
use serde::{Deserialize, Serialize};

use super::secrets;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::{self, ObjectStore, PutMode, StoreError};

/// How long a replica trusts its copy of an account (name changes, removal).
const ACCOUNT_TTL: Duration = Duration::from_secs(30);

/// The stored account. `password` is a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: TeacherId,
    pub email: Email,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub created_at: String,
}

impl AccountRecord {
    fn teacher(&self) -> Teacher {
        Teacher { id: self.id.clone(), email: self.email.clone(), name: self.name.clone() }
    }
}

#[derive(Serialize, Deserialize)]
struct EmailIndex {
    teacher: TeacherId,
}

/// `auth/external/<sha256 of issuer + subject>.json`: the account an OpenID Connect identity
/// signs in to, so a changed email at the provider still finds the same account.
const EXTERNAL_PREFIX: &str = "auth/external/";

#[derive(Serialize, Deserialize)]
struct ExternalLink {
    teacher: TeacherId,
    issuer: String,
}

fn external_key(issuer: &str, subject: &str) -> String {
    // A newline cannot occur in an issuer URL, so no two (issuer, subject) pairs collide.
    format!("{EXTERNAL_PREFIX}{}.json", secrets::digest(&format!("{issuer}\n{subject}")))
}

pub struct Accounts {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    cache: RwLock<HashMap<TeacherId, (Teacher, Instant)>>,
    /// Verified against when the email is unknown, so both cases cost one hash.
    dummy: tokio::sync::OnceCell<String>,
}

fn email_key(email: &Email) -> String {
    format!("{}{}.json", keys::EMAILS_PREFIX, secrets::digest(email.as_str()))
}

fn teacher_key(id: &TeacherId) -> String {
    format!("{}{id}.json", keys::TEACHERS_PREFIX)
}

async fn hash(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| ServiceError::Unavailable(format!("password hashing stopped: {e}")))?
        .map_err(|e| ServiceError::Unavailable(format!("password hashing failed: {e}")))
}

async fn verify(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

impl Accounts {
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        Accounts { store, clock, cache: RwLock::default(), dummy: tokio::sync::OnceCell::new() }
    }

    /// Creates a teacher account. The email must be new (409 otherwise: whoever creates an
    /// account is already trusted, so saying so leaks nothing).
    pub async fn create(&self, email: &str, name: &str, password: &str) -> Result<Teacher, ServiceError> {
        let email = Email::parse(email).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        let name = parse_name(name).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        Password::check(password).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        let id = TeacherId::parse(&secrets::random_hex_id()).map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        let record = AccountRecord {
            id: id.clone(),
            email: email.clone(),
            name,
            password: Some(hash(password.to_owned()).await?),
            created_at: self.clock.now_rfc3339(),
        };
        store::put_json(self.store.as_ref(), &teacher_key(&id), &record, PutMode::CreateNew).await?;
        match store::put_json(self.store.as_ref(), &email_key(&email), &EmailIndex { teacher: id.clone() }, PutMode::CreateNew).await {
            Ok(_) => {}
            Err(StoreError::AlreadyExists(_)) => {
                let _ = self.store.delete(&teacher_key(&id)).await;
                return Err(ServiceError::invalid("email", "an account with this email exists already"));
            }
            Err(e) => {
                let _ = self.store.delete(&teacher_key(&id)).await;
                return Err(e.into());
            }
        }
        tracing::info!(teacher.id = %id, "teacher account created");
        Ok(record.teacher())
    }

    /// The account for this email and password, or `None` for a wrong password and an unknown
    /// email alike (same work, same answer).
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Option<Teacher>, ServiceError> {
        let record = match Email::parse(email) {
            Ok(email) => self.by_email(&email).await?,
            Err(_) => None,
        };
        let phc = match record.as_ref().and_then(|r| r.password.clone()) {
            Some(phc) => phc,
            None => self.dummy.get_or_try_init(|| hash(secrets::random_base32(16))).await?.clone(),
        };
        let ok = verify(password.to_owned(), phc).await;
        Ok(record.filter(|r| ok && r.password.is_some()).map(|r| r.teacher()))
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<AccountRecord>, ServiceError> {
        let Some(index) = store::get_json::<EmailIndex>(self.store.as_ref(), &email_key(email)).await? else { return Ok(None) };
        Ok(store::get_json::<AccountRecord>(self.store.as_ref(), &teacher_key(&index.teacher)).await?)
    }

    /// A teacher by id (cached for [`ACCOUNT_TTL`]).
    pub async fn get(&self, id: &TeacherId) -> Result<Option<Teacher>, ServiceError> {
        if let Some((t, at)) = self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id)
            && at.elapsed() < ACCOUNT_TTL
        {
            return Ok(Some(t.clone()));
        }
        let record = store::get_json::<AccountRecord>(self.store.as_ref(), &teacher_key(id)).await?;
        let teacher = record.map(|r| r.teacher());
        let mut cache = self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &teacher {
            Some(t) => cache.insert(id.clone(), (t.clone(), Instant::now())),
            None => cache.remove(id),
        };
        Ok(teacher)
    }

    /// Every account, oldest first.
    pub async fn all(&self) -> Result<Vec<AccountRecord>, ServiceError> {
        let mut out = Vec::new();
        for info in self.store.list(keys::TEACHERS_PREFIX).await? {
            if let Some(r) = store::get_json::<AccountRecord>(self.store.as_ref(), &info.key).await? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    pub async fn any(&self) -> Result<bool, ServiceError> {
        Ok(!self.store.list(keys::TEACHERS_PREFIX).await?.is_empty())
    }

    /// The account of a teacher who signed in with OpenID Connect (`issuer`, `subject`), made
    /// sure to exist: the account this identity signed in to before; else the account with
    /// this (provider-verified) email, which is then linked; else a new account without a
    /// password (a password sign-in to it fails; it can only sign in through the provider).
    pub async fn ensure_external(&self, issuer: &str, subject: &str, email: &str, name: &str) -> Result<Teacher, ServiceError> {
        let link_key = external_key(issuer, subject);
        if let Some(link) = store::get_json::<ExternalLink>(self.store.as_ref(), &link_key).await?
            && let Some(record) = store::get_json::<AccountRecord>(self.store.as_ref(), &teacher_key(&link.teacher)).await?
        {
            return Ok(record.teacher());
        }
        let email = Email::parse(email).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        let teacher = match self.by_email(&email).await? {
            Some(existing) => existing.teacher(),
            None => match self.create_external(&email, name).await {
                Ok(t) => t,
                // Another replica (or a second tab) created it in the meantime.
                Err(ServiceError::Invalid { field, .. }) if field == "email" => {
                    self.by_email(&email).await?.map(|r| r.teacher()).ok_or_else(|| ServiceError::NotFound("the account".into()))?
                }
                Err(e) => return Err(e),
            },
        };
        let link = ExternalLink { teacher: teacher.id.clone(), issuer: issuer.to_owned() };
        store::put_json(self.store.as_ref(), &link_key, &link, PutMode::Overwrite).await?;
        Ok(teacher)
    }

    async fn create_external(&self, email: &Email, name: &str) -> Result<Teacher, ServiceError> {
        // A provider's display name may be empty or odd; the email's local part stands in.
        let name = parse_name(name)
            .or_else(|_| parse_name(email.as_str().split('@').next().unwrap_or("Teacher")))
            .map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        let id = TeacherId::parse(&secrets::random_hex_id()).map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        let record = AccountRecord { id: id.clone(), email: email.clone(), name, password: None, created_at: self.clock.now_rfc3339() };
        store::put_json(self.store.as_ref(), &teacher_key(&id), &record, PutMode::CreateNew).await?;
        match store::put_json(self.store.as_ref(), &email_key(email), &EmailIndex { teacher: id.clone() }, PutMode::CreateNew).await {
            Ok(_) => {}
            Err(e) => {
                let _ = self.store.delete(&teacher_key(&id)).await;
                return Err(match e {
                    StoreError::AlreadyExists(_) => ServiceError::invalid("email", "an account with this email exists already"),
                    other => other.into(),
                });
            }
        }
        tracing::info!(teacher.id = %id, "teacher account created from an OpenID Connect sign-in");
        Ok(record.teacher())
    }

    /// `EXAM_ADMIN_EMAIL` + `EXAM_ADMIN_PASSWORD_FILE`: makes sure this account exists. An
    /// existing account is left as it is (its password is not reset), so every replica may run
    /// this at every start.
    pub async fn ensure(&self, email: &str, name: &str, password: &str) -> Result<Teacher, ServiceError> {
        let parsed = Email::parse(email).map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        if let Some(existing) = self.by_email(&parsed).await? {
            return Ok(existing.teacher());
        }
        match self.create(email, name, password).await {
            // Another replica created it in the meantime.
            Err(ServiceError::Invalid { field, .. }) if field == "email" => {
                self.by_email(&parsed).await?.map(|r| r.teacher()).ok_or_else(|| ServiceError::NotFound("the admin account".into()))
            }
            other => other,
        }
    }
}
