//! The content tags of the records this process last read or wrote, so that a conditional
//! write ([`super::PutMode::IfMatch`]) compares under the lock with one `stat` instead of
//! reading and hashing the record again.
//!
//! An entry holds the tag with the file's identity when it was computed: device, inode, size
//! and modification time. It is used only while `stat` still shows that identity. Entries are
//! written only under the key's commit lock, by the write that put the file there or by a
//! comparison that read it there (never by a `get`, which does not hold the lock: a reader
//! that read an older version could put it back, and inode numbers are reused), so an entry
//! is always the key's latest version in this process.
//! The identity check is for anything else touching the directory (a restore, an operator):
//! a changed file is read and hashed again. (A file rewritten in place by someone else with
//! the same size, inode and timestamp tick would pass it; the directory store has one writer.)

use std::collections::HashMap;
use std::fs::Metadata;
use std::sync::Mutex;

/// Entries kept at most; past it the cache starts again empty (a miss costs one read).
const CAPACITY: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

impl Identity {
    #[cfg(unix)]
    fn of(md: &Metadata) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt as _;
        Some(Identity { dev: md.dev(), ino: md.ino(), size: md.size(), mtime: (md.mtime(), md.mtime_nsec()) })
    }

    /// Without inode numbers a file's identity is unknown: nothing is cached.
    #[cfg(not(unix))]
    fn of(_: &Metadata) -> Option<Identity> {
        None
    }
}

#[derive(Debug, Default)]
pub(super) struct TagCache {
    entries: Mutex<HashMap<String, (Identity, String)>>,
}

impl TagCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Identity, String)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The tag of `key`'s file as `md` describes it, if this process computed it for that file.
    pub(super) fn get(&self, key: &str, md: &Metadata) -> Option<String> {
        let id = Identity::of(md)?;
        self.entries().get(key).filter(|(known, _)| *known == id).map(|(_, tag)| tag.clone())
    }

    /// Remembers `tag` for `key`'s file as `md` describes it.
    pub(super) fn put(&self, key: &str, md: &Metadata, tag: &str) {
        let Some(id) = Identity::of(md) else { return };
        let mut entries = self.entries();
        if entries.len() >= CAPACITY && !entries.contains_key(key) {
            entries.clear();
        }
        entries.insert(key.to_owned(), (id, tag.to_owned()));
    }

    pub(super) fn forget(&self, key: &str) {
        self.entries().remove(key);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries().len()
    }
}
