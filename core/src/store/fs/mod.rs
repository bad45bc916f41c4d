//! The embedded store: a directory per bucket (see [`FsStore`]).

mod tags;

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
/// the [`ObjectMeta`] (omitted for plain JSON records, whose metadata is implied). Every write
/// goes to a staging file beside its target (`.tmp-*`, never listed, not a valid key segment)
/// and is then renamed (or hard-linked, for `CreateNew`) into place, so readers never see a
/// partial object and a crash leaves either the old or the new version; a rename within one
/// directory locks that directory only, where one from a shared staging directory took the
/// file system's rename lock and two directory locks (the answers of a class contended on
/// them). Each operation runs as one blocking task, at most [`CONCURRENT_OPS`] at once: the
/// answer autosave is a hot path, one thread hand-off beats one per file-system call, and
/// 200 students answering at once no longer wake 200 threads to queue on the same directory.
///
/// Tags ([`ObjectInfo::e_tag`]): a `.json` record's is a hash of its bytes (from `get` and
/// `put`), so [`PutMode::IfMatch`] notices any change, even one within the file system's
/// timestamp granularity; other objects' (documents) are size + modification time. Listings
/// and `head` always give the size + time form. Every write's last step (the rename or link)
/// and every delete take the key's lock (one of [`COMMIT_STRIPES`], by key), under which
/// `IfMatch` compares and replaces: the directory store has one process writing it, so those
/// locks serialise all writers of a key. The comparison takes a `stat`, not a read: the tag of
/// the record's current file is known from the write that put it there, or from the last
/// comparison that read it ([`tags`]).
#[derive(Debug, Clone)]
pub struct FsStore {
    inner: Arc<FsInner>,
}

#[derive(Debug)]
struct FsInner {
    bucket: String,
    objects: PathBuf,
    meta: PathBuf,
    /// Operations running on the blocking pool.
    ops: tokio::sync::Semaphore,
    /// Held for the last step of every write and for deletes, by key (see above).
    commit: Vec<Mutex<()>>,
    tags: tags::TagCache,
}

/// File-system operations at once (the rest wait on the runtime, not as blocked threads). Two
/// on the 2-core machine it was measured on (ARCHITECTURE.md, "CPU per answer"): an upload's
/// copy into the store holds one and leaves the other to answers.
const CONCURRENT_OPS: usize = 2;

/// Staging files' names start with this: never listed, refused as a key segment.
const STAGING: &str = ".tmp-";

/// Independent keys commit in parallel (answers of different students are different keys).
const COMMIT_STRIPES: usize = 64;

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
            ops: tokio::sync::Semaphore::new(CONCURRENT_OPS),
            commit: (0..COMMIT_STRIPES).map(|_| Mutex::new(())).collect(),
            tags: tags::TagCache::default(),
        };
        for d in [&inner.objects, &inner.meta] {
            tokio::fs::create_dir_all(d).await?;
        }
        Ok(FsStore { inner: Arc::new(inner) })
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&FsInner) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        let _turn = self.inner.ops.acquire().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
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
    fn commit_lock(&self, key: &str) -> std::sync::MutexGuard<'_, ()> {
        crate::stripe(&self.commit, key).lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn paths(&self, key: &str) -> Result<(PathBuf, PathBuf), StoreError> {
        let bad = key.is_empty()
            || key.starts_with('/')
            || key.ends_with('/')
            || key.contains('\\')
            || key.contains('\0')
            || key.split('/').any(|seg| seg.is_empty() || seg == "." || seg == ".." || seg.starts_with(STAGING));
        if bad {
            return Err(StoreError::InvalidKey(key.to_owned()));
        }
        Ok((self.objects.join(key), self.meta.join(format!("{key}.json"))))
    }

    fn put(&self, key: &str, source: Source, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        use std::io::Write as _;
        let (obj, meta_path) = self.paths(key)?;
        let mut staged = staging_beside(&obj)?;
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
            let mut t = staging_beside(&meta_path)?;
            t.write_all(&serde_json::to_vec(meta).map_err(|e| StoreError::Unavailable(e.to_string()))?)?;
            Some(t)
        } else {
            None
        };
        let _commit = self.commit_lock(key);
        let (info, md) = match mode {
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
                let md = staged.as_file().metadata()?;
                (info_from(key, &md, meta.clone()), md)
            }
        };
        match tag {
            Some(tag) => {
                self.tags.put(key, &md, &tag);
                Ok(ObjectInfo { e_tag: tag, ..info })
            }
            None => Ok(info),
        }
    }

    /// Moves the staged bytes (and metadata) over whatever `obj` holds; the new file's info
    /// and metadata.
    fn replace(
        &self,
        staged: tempfile::NamedTempFile,
        meta_tmp: Option<tempfile::NamedTempFile>,
        obj: &Path,
        meta_path: &Path,
        key: &str,
        meta: &ObjectMeta,
    ) -> Result<(ObjectInfo, std::fs::Metadata), StoreError> {
        match meta_tmp {
            Some(t) => drop(t.persist(meta_path).map_err(|e| e.error)?),
            // A previous version may have had explicit metadata.
            None => drop(not_found_to_none(std::fs::remove_file(meta_path))?),
        }
        let md = staged.persist(obj).map_err(|e| e.error)?.metadata()?;
        Ok((info_from(key, &md, meta.clone()), md))
    }

    /// The tag `get` would give the object now; `None` when it is absent.
    fn current_tag(&self, key: &str, obj: &Path) -> Result<Option<String>, StoreError> {
        let Some(md) = not_found_to_none(std::fs::metadata(obj))? else { return Ok(None) };
        if !is_record(key) {
            return Ok(Some(info_from(key, &md, ObjectMeta::default()).e_tag));
        }
        if let Some(tag) = self.tags.get(key, &md) {
            return Ok(Some(tag));
        }
        let Some((bytes, md)) = not_found_to_none(read_with_metadata(obj))? else { return Ok(None) };
        let tag = content_tag(&bytes);
        self.tags.put(key, &md, &tag);
        Ok(Some(tag))
    }

    fn read_meta(&self, key: &str, meta_path: &Path) -> ObjectMeta {
        match std::fs::read(meta_path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => implied_meta(key),
        }
    }
}

/// A new staging file in `target`'s directory (made if missing).
fn staging_beside(target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = target.parent().ok_or_else(|| io::Error::other("an object path has a directory"))?;
    let builder = || tempfile::Builder::new().prefix(STAGING).tempfile_in(dir);
    match builder() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            builder()
        }
        other => other,
    }
}

/// The bytes of the file at `path` and its metadata (both of the one file opened).
fn read_with_metadata(path: &Path) -> io::Result<(Vec<u8>, std::fs::Metadata)> {
    let mut file = std::fs::File::open(path)?;
    let md = file.metadata()?;
    let mut bytes = Vec::with_capacity(usize::try_from(md.len()).unwrap_or(0));
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok((bytes, md))
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
            let Some((bytes, md)) = not_found_to_none(read_with_metadata(&obj))? else { return Ok(None) };
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
                    } else if ft.is_file() && !entry.file_name().as_encoded_bytes().starts_with(STAGING.as_bytes()) {
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
            let _commit = s.commit_lock(&key);
            s.tags.forget(&key);
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
mod tests;
