//! A store that announces its own uploads, as a bucket notification would.
//!
//! In a cluster MinIO (or another store with notifications) publishes the object-created
//! event to the uploads topic. The embedded directory store cannot, so it is wrapped in
//! [`NotifyingStore`], which publishes exactly the same MinIO-shaped JSON after every write
//! under `exams/`. The generator cannot tell the two apart, which is the point.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use exam_domain::events::{CreatedObject, S3Notification};
use exam_domain::keys::UPLOADS_PREFIX;

use crate::bus::EventBus;
use crate::store::{ObjectInfo, ObjectMeta, ObjectStore, PutMode, StoreError};

pub struct NotifyingStore {
    inner: Arc<dyn ObjectStore>,
    bus: Arc<dyn EventBus>,
    topic: String,
}

impl NotifyingStore {
    pub fn new(inner: Arc<dyn ObjectStore>, bus: Arc<dyn EventBus>, topic: impl Into<String>) -> Self {
        NotifyingStore { inner, bus, topic: topic.into() }
    }

    /// Announces an existing object again (used at start-up to resume generation of uploads
    /// whose processing was interrupted; the pipeline is idempotent).
    pub async fn renotify(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.head(key).await? {
            Some(info) => self.announce(&info).await,
            None => Ok(()),
        }
    }

    async fn announce(&self, info: &ObjectInfo) -> Result<(), StoreError> {
        if !info.key.starts_with(UPLOADS_PREFIX) {
            return Ok(());
        }
        let event = S3Notification::object_created(CreatedObject {
            bucket: self.inner.bucket().to_owned(),
            key: info.key.clone(),
            size: info.size,
            e_tag: info.e_tag.clone(),
            content_type: info.meta.content_type.clone(),
            user_metadata: info.meta.user.clone(),
            event_time: crate::now_rfc3339(),
            sequencer: info.e_tag.clone(),
        });
        let payload = serde_json::to_vec(&event).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let key = format!("{}/{}", self.inner.bucket(), info.key);
        // Like a store with a persistent notification queue (MinIO's `queue_dir`): the object
        // is stored, so the write succeeds and the notification follows when the broker can
        // take it.
        crate::bus::publish_in_background(self.bus.clone(), self.topic.clone(), key, Bytes::from(payload));
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for NotifyingStore {
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        let info = self.inner.put_bytes(key, body, meta, mode).await?;
        self.announce(&info).await?;
        Ok(info)
    }
    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        let info = self.inner.put_file(key, path, meta).await?;
        self.announce(&info).await?;
        Ok(info)
    }
    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError> {
        self.inner.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.inner.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn check(&self) -> Result<(), StoreError> {
        self.inner.check().await
    }
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
}
