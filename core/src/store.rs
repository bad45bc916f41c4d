//! The object-store port and the embedded directory store.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    Overwrite,
    /// Fail with [`StoreError::AlreadyExists`] rather than replace: records that must never be
    /// overwritten (submissions, question banks) are written this way.
    CreateNew,
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
        Some((bytes, _)) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Unavailable(format!("{key} holds invalid JSON: {e}"))),
    }
}

pub async fn put_json<T: Serialize + Sync>(store: &dyn ObjectStore, key: &str, value: &T, mode: PutMode) -> Result<ObjectInfo, StoreError> {
    let body = serde_json::to_vec_pretty(value).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    store.put_bytes(key, Bytes::from(body), &ObjectMeta::json(), mode).await
}

/// The embedded store: one directory per bucket.
///
/// Layout under `root`: `objects/<bucket>/<key>` holds the bytes, `meta/<bucket>/<key>.json`
/// the [`ObjectMeta`], `tmp/` staging files. Every write goes to `tmp/` and is then renamed
/// (or hard-linked, for `CreateNew`) into place, so readers never see a partial object and a
/// crash leaves either the old or the new version.
#[derive(Debug, Clone)]
pub struct FsStore {
    bucket: String,
    objects: PathBuf,
    meta: PathBuf,
    tmp: PathBuf,
}

impl FsStore {
    pub async fn open(root: impl AsRef<Path>, bucket: &str) -> Result<Self, StoreError> {
        let root = root.as_ref();
        let s = FsStore {
            bucket: bucket.to_owned(),
            objects: root.join("objects").join(bucket),
            meta: root.join("meta").join(bucket),
            tmp: root.join("tmp"),
        };
        for d in [&s.objects, &s.meta, &s.tmp] {
            tokio::fs::create_dir_all(d).await?;
        }
        Ok(s)
    }

    fn paths(&self, key: &str) -> Result<(PathBuf, PathBuf), StoreError> {
        let bad = key.is_empty()
            || key.starts_with('/')
            || key.ends_with('/')
            || key.contains('\\')
            || key.contains('\0')
            || key.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..");
        if bad {
            return Err(StoreError::InvalidKey(key.to_owned()));
        }
        Ok((self.objects.join(key), self.meta.join(format!("{key}.json"))))
    }

    fn staging(&self) -> Result<tempfile::TempPath, StoreError> {
        Ok(tempfile::NamedTempFile::new_in(&self.tmp)?.into_temp_path())
    }

    async fn commit(&self, key: &str, staged: tempfile::TempPath, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        let (obj, meta_path) = self.paths(key)?;
        for p in [&obj, &meta_path] {
            if let Some(parent) = p.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
        }
        // Metadata first: an object is visible only once its bytes are in place.
        let meta_tmp = self.staging()?;
        tokio::fs::write(&meta_tmp, serde_json::to_vec(meta).map_err(|e| StoreError::Unavailable(e.to_string()))?).await?;
        let staged_path = staged.to_path_buf();
        match mode {
            PutMode::Overwrite => {
                tokio::fs::rename(&meta_tmp, &meta_path).await?;
                tokio::fs::rename(&staged_path, &obj).await?;
            }
            PutMode::CreateNew => {
                // hard_link fails if the target exists: an atomic create-if-absent.
                match tokio::fs::hard_link(&staged_path, &obj).await {
                    Ok(()) => tokio::fs::rename(&meta_tmp, &meta_path).await?,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(StoreError::AlreadyExists(key.to_owned())),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        drop(staged);
        drop(meta_tmp);
        self.info(key, &obj, meta.clone()).await
    }

    async fn info(&self, key: &str, obj: &Path, meta: ObjectMeta) -> Result<ObjectInfo, StoreError> {
        let md = tokio::fs::metadata(obj).await?;
        let modified = md.modified().ok();
        let stamp = modified.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
        Ok(ObjectInfo { key: key.to_owned(), size: md.len(), e_tag: format!("{:x}-{:x}", md.len(), stamp), last_modified: modified, meta })
    }

    async fn read_meta(&self, meta_path: &Path) -> ObjectMeta {
        match tokio::fs::read(meta_path).await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => ObjectMeta::default(),
        }
    }
}

fn not_found_to_none<T>(r: io::Result<T>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl ObjectStore for FsStore {
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        self.paths(key)?;
        let staged = self.staging()?;
        tokio::fs::write(&staged, &body).await?;
        self.commit(key, staged, meta, mode).await
    }

    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        self.paths(key)?;
        let staged = self.staging()?;
        tokio::fs::copy(path, &staged).await?;
        self.commit(key, staged, meta, PutMode::Overwrite).await
    }

    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError> {
        let (obj, meta_path) = self.paths(key)?;
        let Some(bytes) = not_found_to_none(tokio::fs::read(&obj).await)? else { return Ok(None) };
        let meta = self.read_meta(&meta_path).await;
        let info = self.info(key, &obj, meta).await?;
        Ok(Some((Bytes::from(bytes), info)))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let (obj, meta_path) = self.paths(key)?;
        if not_found_to_none(tokio::fs::metadata(&obj).await)?.is_none() {
            return Ok(None);
        }
        let meta = self.read_meta(&meta_path).await;
        Ok(Some(self.info(key, &obj, meta).await?))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        // Walk the directory that contains the prefix, then filter.
        let dir_part = prefix.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let start = if dir_part.is_empty() { self.objects.clone() } else { self.objects.join(dir_part) };
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            let Some(mut rd) = not_found_to_none(tokio::fs::read_dir(&dir).await)? else { continue };
            while let Some(entry) = rd.next_entry().await? {
                let path = entry.path();
                let ft = entry.file_type().await?;
                if ft.is_dir() {
                    stack.push(path);
                } else if ft.is_file() {
                    let Ok(rel) = path.strip_prefix(&self.objects) else { continue };
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) {
                        out.push(self.info(&key, &path, ObjectMeta::default()).await?);
                    }
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let (obj, meta_path) = self.paths(key)?;
        not_found_to_none(tokio::fs::remove_file(&obj).await)?;
        not_found_to_none(tokio::fs::remove_file(&meta_path).await)?;
        Ok(())
    }

    async fn check(&self) -> Result<(), StoreError> {
        tokio::fs::metadata(&self.objects).await?;
        Ok(())
    }

    fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, FsStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = FsStore::open(dir.path(), "exams").await.unwrap();
        (dir, s)
    }

    #[tokio::test]
    async fn put_get_head_list_delete() {
        let (_d, s) = store().await;
        let mut meta = ObjectMeta::json();
        meta.user.insert("n_mcq".into(), "5".into());
        s.put_bytes("exams/e1/a.pdf", Bytes::from_static(b"%PDF-1"), &meta, PutMode::Overwrite).await.unwrap();
        s.put_bytes("question_bank/e1.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
        let (bytes, info) = s.get("exams/e1/a.pdf").await.unwrap().unwrap();
        assert_eq!(&bytes[..], b"%PDF-1");
        assert_eq!(info.meta.get("N_MCQ"), Some("5"));
        assert_eq!(s.head("exams/e1/a.pdf").await.unwrap().unwrap().size, 6);
        let keys: Vec<_> = s.list("exams/").await.unwrap().into_iter().map(|i| i.key).collect();
        assert_eq!(keys, ["exams/e1/a.pdf"]);
        assert_eq!(s.list("").await.unwrap().len(), 2);
        assert_eq!(s.list("question_bank/e").await.unwrap().len(), 1);
        s.delete("exams/e1/a.pdf").await.unwrap();
        assert!(s.get("exams/e1/a.pdf").await.unwrap().is_none());
        s.delete("exams/e1/a.pdf").await.unwrap();
    }

    #[tokio::test]
    async fn create_new_never_overwrites() {
        let (_d, s) = store().await;
        s.put_bytes("submissions/e/a/0001.json", Bytes::from_static(b"1"), &ObjectMeta::json(), PutMode::CreateNew).await.unwrap();
        let err = s.put_bytes("submissions/e/a/0001.json", Bytes::from_static(b"2"), &ObjectMeta::json(), PutMode::CreateNew).await.unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists(_)));
        assert_eq!(&s.get("submissions/e/a/0001.json").await.unwrap().unwrap().0[..], b"1");
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_bucket() {
        let (_d, s) = store().await;
        for key in ["../x", "a/../../x", "/etc/passwd", "a//b", "a\\b", ""] {
            let r = s.put_bytes(key, Bytes::new(), &ObjectMeta::default(), PutMode::Overwrite).await;
            assert!(matches!(r, Err(StoreError::InvalidKey(_))), "{key}");
        }
    }

    #[tokio::test]
    async fn put_file_copies_without_consuming_the_source() {
        let (d, s) = store().await;
        let src = d.path().join("upload.pdf");
        std::fs::write(&src, b"%PDF-1.7 body").unwrap();
        let info = s.put_file("exams/e/x.pdf", &src, &ObjectMeta::default()).await.unwrap();
        assert_eq!(info.size, 13);
        assert!(src.exists());
    }
}
