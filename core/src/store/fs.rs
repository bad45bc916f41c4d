//! The embedded store: a directory per bucket (see [`FsStore`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;

use super::{ObjectInfo, ObjectMeta, ObjectStore, PutMode, StoreError};

/// The embedded store: one directory per bucket.
///
/// Layout under `root`: `objects/<bucket>/<key>` holds the bytes, `meta/<bucket>/<key>.json`
/// the [`ObjectMeta`] (omitted for plain JSON records, whose metadata is implied), `tmp/`
/// staging files. Every write goes to `tmp/` and is then renamed (or hard-linked, for
/// `CreateNew`) into place, so readers never see a partial object and a crash leaves either
/// the old or the new version. Each operation runs as one blocking task: the answer autosave
/// is a hot path, and one thread hand-off beats one per file-system call.
///
/// Tags ([`ObjectInfo::e_tag`]): a `.json` record's is a hash of its bytes (from `get` and
/// `put`), so [`PutMode::IfMatch`] notices any change, even one within the file system's
/// timestamp granularity; other objects' (documents) are size + modification time. Listings
/// and `head` always give the size + time form. Every write's last step (the rename or link)
/// and every delete take one lock, under which `IfMatch` compares and replaces: the
/// directory store has one process writing it, so that lock serialises all of its writers.
#[derive(Debug, Clone)]
pub struct FsStore {
    inner: Arc<FsInner>,
}

#[derive(Debug)]
struct FsInner {
    bucket: String,
    objects: PathBuf,
    meta: PathBuf,
    tmp: PathBuf,
    /// Held for the last step of every write and for deletes (see above).
    commit: Mutex<()>,
}

enum Source {
    Bytes(Bytes),
    File(PathBuf),
}

impl FsStore {
    pub async fn open(root: impl AsRef<Path>, bucket: &str) -> Result<Self, StoreError> {
        let root = root.as_ref();
        let inner = FsInner {
            bucket: bucket.to_owned(),
            objects: root.join("objects").join(bucket),
            meta: root.join("meta").join(bucket),
            tmp: root.join("tmp"),
            commit: Mutex::new(()),
        };
        for d in [&inner.objects, &inner.meta, &inner.tmp] {
            tokio::fs::create_dir_all(d).await?;
        }
        Ok(FsStore { inner: Arc::new(inner) })
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&FsInner) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner)).await.map_err(|e| StoreError::Unavailable(e.to_string()))?
    }
}

/// Metadata every `.json` record has unless stated otherwise; not written to disk.
fn implied_meta(key: &str) -> ObjectMeta {
    if key.ends_with(".json") { ObjectMeta::json() } else { ObjectMeta::default() }
}

fn not_found_to_none<T>(r: io::Result<T>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl FsInner {
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

    fn put(&self, key: &str, source: Source, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        use std::io::Write as _;
        let (obj, meta_path) = self.paths(key)?;
        if let Some(parent) = obj.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut staged = tempfile::NamedTempFile::new_in(&self.tmp)?;
        // JSON records are written from memory: their tag is the hash of the bytes at hand.
        let tag = match source {
            Source::Bytes(b) => {
                staged.write_all(&b)?;
                is_record(key).then(|| content_tag(&b))
            }
            Source::File(p) => {
                io::copy(&mut std::fs::File::open(p)?, staged.as_file_mut())?;
                is_record(key).then(|| std::fs::read(staged.path()).map(|b| content_tag(&b))).transpose()?
            }
        };
        // Metadata before bytes: an object is visible only once its bytes are in place.
        let explicit_meta = *meta != implied_meta(key);
        let meta_tmp = if explicit_meta {
            if let Some(parent) = meta_path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut t = tempfile::NamedTempFile::new_in(&self.tmp)?;
            t.write_all(&serde_json::to_vec(meta).map_err(|e| StoreError::Unavailable(e.to_string()))?)?;
            Some(t)
        } else {
            None
        };
        let _commit = self.commit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let info = match mode {
            PutMode::IfMatch(expected) => {
                if self.current_tag(key, &obj)?.as_deref() != Some(expected.as_str()) {
                    return Err(StoreError::Changed(key.to_owned()));
                }
                self.replace(staged, meta_tmp, &obj, &meta_path, key, meta)?
            }
            PutMode::Overwrite => self.replace(staged, meta_tmp, &obj, &meta_path, key, meta)?,
            PutMode::CreateNew => {
                // hard_link fails if the target exists: an atomic create-if-absent.
                match std::fs::hard_link(staged.path(), &obj) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(StoreError::AlreadyExists(key.to_owned())),
                    Err(e) => return Err(e.into()),
                }
                if let Some(t) = meta_tmp {
                    t.persist(&meta_path).map_err(|e| e.error)?;
                }
                info_from(key, &staged.as_file().metadata()?, meta.clone())
            }
        };
        Ok(ObjectInfo { e_tag: tag.unwrap_or(info.e_tag), ..info })
    }

    /// Moves the staged bytes (and metadata) over whatever `obj` holds.
    fn replace(
        &self,
        staged: tempfile::NamedTempFile,
        meta_tmp: Option<tempfile::NamedTempFile>,
        obj: &Path,
        meta_path: &Path,
        key: &str,
        meta: &ObjectMeta,
    ) -> Result<ObjectInfo, StoreError> {
        match meta_tmp {
            Some(t) => drop(t.persist(meta_path).map_err(|e| e.error)?),
            // A previous version may have had explicit metadata.
            None => drop(not_found_to_none(std::fs::remove_file(meta_path))?),
        }
        let file = staged.persist(obj).map_err(|e| e.error)?;
        Ok(info_from(key, &file.metadata()?, meta.clone()))
    }

    /// The tag `get` would give the object now; `None` when it is absent.
    fn current_tag(&self, key: &str, obj: &Path) -> Result<Option<String>, StoreError> {
        if is_record(key) {
            return Ok(not_found_to_none(std::fs::read(obj))?.map(|b| content_tag(&b)));
        }
        Ok(not_found_to_none(std::fs::metadata(obj))?.map(|md| info_from(key, &md, ObjectMeta::default()).e_tag))
    }

    fn read_meta(&self, key: &str, meta_path: &Path) -> ObjectMeta {
        match std::fs::read(meta_path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => implied_meta(key),
        }
    }
}

/// JSON records get content tags (see [`FsStore`]).
fn is_record(key: &str) -> bool {
    key.ends_with(".json")
}

/// 128 bits of the SHA-256 of `bytes`, in hex.
fn content_tag(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn info_from(key: &str, md: &std::fs::Metadata, meta: ObjectMeta) -> ObjectInfo {
    let modified = md.modified().ok();
    let stamp = modified.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
    ObjectInfo { key: key.to_owned(), size: md.len(), e_tag: format!("{:x}-{:x}", md.len(), stamp), last_modified: modified, meta }
}

#[async_trait]
impl ObjectStore for FsStore {
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        let (key, meta) = (key.to_owned(), meta.clone());
        self.run(move |s| s.put(&key, Source::Bytes(body), &meta, mode)).await
    }

    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        let (key, meta, path) = (key.to_owned(), meta.clone(), path.to_path_buf());
        self.run(move |s| s.put(&key, Source::File(path), &meta, PutMode::Overwrite)).await
    }

    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError> {
        let key = key.to_owned();
        self.run(move |s| {
            let (obj, meta_path) = s.paths(&key)?;
            let Some(mut file) = not_found_to_none(std::fs::File::open(&obj))? else { return Ok(None) };
            let md = file.metadata()?;
            let mut bytes = Vec::with_capacity(usize::try_from(md.len()).unwrap_or(0));
            io::Read::read_to_end(&mut file, &mut bytes)?;
            let meta = s.read_meta(&key, &meta_path);
            let mut info = info_from(&key, &md, meta);
            if is_record(&key) {
                info.e_tag = content_tag(&bytes);
            }
            Ok(Some((Bytes::from(bytes), info)))
        })
        .await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let key = key.to_owned();
        self.run(move |s| {
            let (obj, meta_path) = s.paths(&key)?;
            let Some(md) = not_found_to_none(std::fs::metadata(&obj))? else { return Ok(None) };
            Ok(Some(info_from(&key, &md, s.read_meta(&key, &meta_path))))
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let prefix = prefix.to_owned();
        self.run(move |s| {
            // Walk the directory that contains the prefix, then filter.
            let dir_part = prefix.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            let start = if dir_part.is_empty() { s.objects.clone() } else { s.objects.join(dir_part) };
            let mut out = Vec::new();
            let mut stack = vec![start];
            while let Some(dir) = stack.pop() {
                let Some(rd) = not_found_to_none(std::fs::read_dir(&dir))? else { continue };
                for entry in rd {
                    let entry = entry?;
                    let path = entry.path();
                    let ft = entry.file_type()?;
                    if ft.is_dir() {
                        stack.push(path);
                    } else if ft.is_file() {
                        let Ok(rel) = path.strip_prefix(&s.objects) else { continue };
                        let key = rel.to_string_lossy().replace('\\', "/");
                        if key.starts_with(&prefix) {
                            out.push(info_from(&key, &entry.metadata()?, ObjectMeta::default()));
                        }
                    }
                }
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |s| {
            let (obj, meta_path) = s.paths(&key)?;
            let _commit = s.commit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            not_found_to_none(std::fs::remove_file(&obj))?;
            not_found_to_none(std::fs::remove_file(&meta_path))?;
            Ok(())
        })
        .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        tokio::fs::metadata(&self.inner.objects).await?;
        Ok(())
    }

    fn bucket(&self) -> &str {
        &self.inner.bucket
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
    async fn json_records_need_no_metadata_file_but_keep_explicit_metadata() {
        let (d, s) = store().await;
        s.put_bytes("attempts/e/a.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
        assert!(!d.path().join("meta/exams/attempts/e/a.json.json").exists());
        assert_eq!(s.head("attempts/e/a.json").await.unwrap().unwrap().meta, ObjectMeta::json());
        let mut tagged = ObjectMeta::json();
        tagged.user.insert("x".into(), "1".into());
        s.put_bytes("attempts/e/a.json", Bytes::from_static(b"{}"), &tagged, PutMode::Overwrite).await.unwrap();
        assert_eq!(s.head("attempts/e/a.json").await.unwrap().unwrap().meta, tagged);
        // Rewriting without it drops the stale metadata.
        s.put_bytes("attempts/e/a.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
        assert_eq!(s.head("attempts/e/a.json").await.unwrap().unwrap().meta, ObjectMeta::json());
    }

    #[tokio::test]
    async fn create_new_never_overwrites() {
        let (_d, s) = store().await;
        s.put_bytes("submissions/e/a/0001.json", Bytes::from_static(b"1"), &ObjectMeta::json(), PutMode::CreateNew).await.unwrap();
        let err =
            s.put_bytes("submissions/e/a/0001.json", Bytes::from_static(b"2"), &ObjectMeta::json(), PutMode::CreateNew).await.unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists(_)));
        assert_eq!(&s.get("submissions/e/a/0001.json").await.unwrap().unwrap().0[..], b"1");
    }

    #[tokio::test]
    async fn if_match_replaces_only_the_version_that_was_read() {
        let (_d, s) = store().await;
        let key = "attempts/e/ada.json";
        let first = s.put_bytes(key, Bytes::from_static(b"{\"a\":1}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
        let (_, read) = s.get(key).await.unwrap().unwrap();
        assert_eq!(read.e_tag, first.e_tag, "get and put agree on the tag");
        // Same size, written within the same timestamp tick: still a different tag.
        let second =
            s.put_bytes(key, Bytes::from_static(b"{\"a\":2}"), &ObjectMeta::json(), PutMode::IfMatch(read.e_tag.clone())).await.unwrap();
        assert_ne!(second.e_tag, read.e_tag);
        let stale = s.put_bytes(key, Bytes::from_static(b"{\"a\":3}"), &ObjectMeta::json(), PutMode::IfMatch(read.e_tag)).await;
        assert!(matches!(stale, Err(StoreError::Changed(_))), "{stale:?}");
        assert_eq!(&s.get(key).await.unwrap().unwrap().0[..], b"{\"a\":2}");
        s.delete(key).await.unwrap();
        let gone = s.put_bytes(key, Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::IfMatch(second.e_tag)).await;
        assert!(matches!(gone, Err(StoreError::Changed(_))), "a deleted object is not recreated: {gone:?}");
        assert!(s.get(key).await.unwrap().is_none());
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
