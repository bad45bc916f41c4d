//! The object-store port ([`ObjectStore`], [`PutMode`]: plain, create-only and conditional
//! writes) and the embedded directory store ([`FsStore`], in `fs`).

mod fs;

pub use fs::FsStore;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// What a store failure means for the caller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `PutMode::CreateNew` found the key taken.
    #[error("object {0} already exists")]
    AlreadyExists(String),
    /// `PutMode::IfMatch` found the object changed (or gone) since it was read.
    #[error("object {0} changed since it was read")]
    Changed(String),
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    /// The store could not be reached or failed; retrying later can help.
    #[error("object store unavailable: {0}")]
    Unavailable(String),
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Content type and user metadata (names without the `x-amz-meta-` prefix, ASCII values).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub content_type: String,
    pub user: BTreeMap<String, String>,
}

impl ObjectMeta {
    pub fn json() -> Self {
        ObjectMeta { content_type: "application/json".into(), user: BTreeMap::new() }
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        exam_domain::events::metadata_lookup(&self.user, name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    pub e_tag: String,
    pub last_modified: Option<SystemTime>,
    /// Filled by `head`/`get`/`put`; empty in listings.
    pub meta: ObjectMeta,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutMode {
    Overwrite,
    /// Fail with [`StoreError::AlreadyExists`] rather than replace: records that must never be
    /// overwritten (submissions, question banks) are written this way.
    CreateNew,
    /// Replace only the version whose [`ObjectInfo::e_tag`] (from `get` or `put`) this is, else
    /// fail with [`StoreError::Changed`] — also when the object is gone. A read-modify-write
    /// with this loses no concurrent writer's change, across processes (S3 `If-Match`; the
    /// directory store compares under its lock).
    IfMatch(String),
}

/// A bucket. Keys are `/`-separated paths from [`exam_domain::keys`].
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Writes a small object held in memory.
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError>;
    /// Writes an object from a local file without loading it into memory (uploads are
    /// spooled to disk first).
    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError>;
    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError>;
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError>;
    /// Every object whose key starts with `prefix`, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError>;
    /// Removes an object; removing a missing one is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Readiness: is the store reachable?
    async fn check(&self) -> Result<(), StoreError>;
    /// The bucket name (used in notifications).
    fn bucket(&self) -> &str;
}

/// Reads and deserialises a JSON object; `Ok(None)` when absent.
pub async fn get_json<T: serde::de::DeserializeOwned>(store: &dyn ObjectStore, key: &str) -> Result<Option<T>, StoreError> {
    match store.get(key).await? {
        None => Ok(None),
        Some((bytes, _)) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| StoreError::Unavailable(format!("{key} holds invalid JSON: {e}")))
        }
    }
}

pub async fn put_json<T: Serialize + Sync>(store: &dyn ObjectStore, key: &str, value: &T, mode: PutMode) -> Result<ObjectInfo, StoreError> {
    let body = serde_json::to_vec(value).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    store.put_bytes(key, Bytes::from(body), &ObjectMeta::json(), mode).await
}

/// [`get_json`] with the stored version's tag, for a conditional write back
/// ([`PutMode::IfMatch`]).
pub async fn get_json_tagged<T: serde::de::DeserializeOwned>(
    store: &dyn ObjectStore,
    key: &str,
) -> Result<Option<(T, String)>, StoreError> {
    match store.get(key).await? {
        None => Ok(None),
        Some((bytes, info)) => serde_json::from_slice(&bytes)
            .map(|v| Some((v, info.e_tag)))
            .map_err(|e| StoreError::Unavailable(format!("{key} holds invalid JSON: {e}"))),
    }
}
