//! Sessions in the object store, so they survive a restart and work on every replica:
//! `auth/sessions/<sha256 of the session id>.json` (the id itself, which is the cookie, is
//! never stored). A short in-memory cache saves a store read per request; a session deleted
//! on one replica (sign-out) is gone on the others within [`CACHE_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use exam_core::identity::secrets;
use exam_core::store::{self, ObjectStore, PutMode, StoreError};
use exam_domain::keys;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// Recently read or written sessions (`None`: known not to exist), with when.
type Cache = HashMap<Id, (Option<Record>, Instant)>;

#[derive(Clone)]
pub struct StoreSessions {
    store: Arc<dyn ObjectStore>,
    cache: Arc<RwLock<Cache>>,
}

impl std::fmt::Debug for StoreSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreSessions")
    }
}

fn key(id: &Id) -> String {
    format!("{}{}.json", keys::SESSIONS_PREFIX, secrets::digest(&id.to_string()))
}

fn backend(e: StoreError) -> Error {
    Error::Backend(e.to_string())
}

fn live(r: &Record) -> bool {
    r.expiry_date > time::OffsetDateTime::now_utc()
}

impl StoreSessions {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        StoreSessions { store, cache: Arc::default() }
    }

    fn remember(&self, id: Id, record: Option<Record>) {
        let mut cache = self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        cache.insert(id, (record, Instant::now()));
    }

    /// Deletes expired sessions (run now and then by one task per replica).
    pub async fn delete_expired(&self) -> std::result::Result<usize, StoreError> {
        let mut deleted = 0;
        for info in self.store.list(keys::SESSIONS_PREFIX).await? {
            if let Ok(Some(r)) = store::get_json::<Record>(self.store.as_ref(), &info.key).await
                && !live(&r)
            {
                self.store.delete(&info.key).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

#[async_trait]
impl SessionStore for StoreSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are random 128-bit numbers; a collision gets a fresh id rather than someone
        // else's session.
        loop {
            match store::put_json(self.store.as_ref(), &key(&record.id), &*record, PutMode::CreateNew).await {
                Ok(_) => break,
                Err(StoreError::AlreadyExists(_)) => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
        self.remember(record.id, Some(record.clone()));
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        store::put_json(self.store.as_ref(), &key(&record.id), record, PutMode::Overwrite).await.map_err(backend)?;
        self.remember(record.id, Some(record.clone()));
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        if let Some((r, at)) = self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(r.clone().filter(live));
        }
        let record = store::get_json::<Record>(self.store.as_ref(), &key(id)).await.map_err(backend)?;
        self.remember(*id, record.clone());
        Ok(record.filter(live))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store.delete(&key(id)).await.map_err(backend)?;
        self.remember(*id, None);
        Ok(())
    }
}
