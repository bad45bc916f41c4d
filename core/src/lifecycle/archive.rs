//! One exam as one file, to move it to another installation: a gzip-compressed tar of the
//! exam's portable objects ([`ExamObjects::portable`]: the document, question bank, text,
//! draft, versions, settings, accommodations and submissions) and a `manifest.json`.
//!
//! | entry | content |
//! |---|---|
//! | `manifest.json` | `{"format": "exam-archive", "version": 1, "exam_id", "title", "exported_at", "meta"}` (`meta`: the document's content type and metadata) |
//! | `document/<file>` | the uploaded document, as stored |
//! | `question_bank.json`, `text.json`, `draft.json`, `publication.json`, `failure.json`, `settings.json`, `overrides.json` | the records of [`exam_domain::keys`] |
//! | `versions/<n>.json`, `submissions/<student>/<attempt>.json` | one per version and per submission |
//!
//! Importing gives the exam a new id (every `exam_id` field is rewritten), makes the importing
//! teacher its owner and a new join code; attempts in progress, sharing, join records and the
//! audit log stay behind. An archive is untrusted input: its size unpacked and its number of
//! entries are capped, only the names above are accepted, every record must parse as its type,
//! and nothing is written unless all of it does. The document is written last, so the
//! object-created notification it causes finds the bank already there (the generator then
//! only repeats the exam's state).

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use bytes::Bytes;
use exam_domain::identity::TeacherId;
use exam_domain::keys::{self, ExamObjects};
use exam_domain::records::{FailureRecord, OverridesRecord, Publication, SettingsRecord, SubmissionRecord};
use exam_domain::versions::{Draft, PublishedVersion};
use exam_domain::{Announcement, ExamId, ExamSummary, QuestionBank, Stage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Lifecycle;
use crate::error::ServiceError;
use crate::store::{ObjectMeta, PutMode};

pub const ARCHIVE_CONTENT_TYPE: &str = "application/gzip";
const FORMAT: &str = "exam-archive";
const VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
/// An archive may unpack to at most this much (a document and its records are far smaller).
pub const MAX_UNPACKED: u64 = 128 * 1024 * 1024;
/// And hold at most this many entries (one per submission, mostly).
pub const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    exam_id: ExamId,
    title: String,
    exported_at: String,
    /// Content type and metadata of the entries that are not JSON records (the document).
    #[serde(default)]
    meta: BTreeMap<String, ObjectMeta>,
}

/// An exported exam.
pub struct Archive {
    /// `exam-<title>.tar.gz`, safe for a `Content-Disposition` header.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::invalid("file", message)
}

impl Lifecycle {
    /// The exam as an archive (see the module documentation).
    pub async fn export(&self, id: &ExamId) -> Result<Archive, ServiceError> {
        let summary = self.catalog.get(id).ok_or_else(|| ServiceError::NotFound(format!("exam {id}")))?;
        let mut entries: Vec<(String, Bytes)> = Vec::new();
        let mut meta = BTreeMap::new();
        for objects in keys::exam_objects(id).into_iter().filter(ExamObjects::portable) {
            let found = match &objects {
                ExamObjects::Single { name, key } => vec![((*name).to_owned(), key.clone())],
                ExamObjects::Tree { name, prefix } => self
                    .store()
                    .list(prefix)
                    .await?
                    .into_iter()
                    .filter_map(|i| i.key.strip_prefix(prefix.as_str()).map(|rest| (format!("{name}/{rest}"), i.key.clone())))
                    .collect(),
            };
            for (name, key) in found {
                let Some((bytes, info)) = self.store().get(&key).await? else { continue };
                if info.meta != ObjectMeta::json() && !info.meta.content_type.is_empty() {
                    meta.insert(name.clone(), info.meta);
                }
                entries.push((name, bytes));
            }
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            exam_id: id.clone(),
            title: summary.title.clone(),
            exported_at: self.clock.now_rfc3339(),
            meta,
        };
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        let mtime = self.clock.now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let bytes = tokio::task::spawn_blocking(move || pack(&manifest, &entries, mtime))
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?
            .map_err(|e| ServiceError::Unavailable(format!("cannot write the archive: {e}")))?;
        let slug: String = summary.title.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(60).collect();
        Ok(Archive { file_name: format!("exam-{slug}.tar.gz"), bytes })
    }

    /// Imports an archive as a new exam owned by `by`; 422 (`field: "file"`) names what is
    /// wrong with an archive that does not load, and nothing is kept of it.
    pub async fn import(&self, by: &TeacherId, archive: Bytes) -> Result<ExamSummary, ServiceError> {
        let entries = tokio::task::spawn_blocking(move || unpack(&archive, MAX_UNPACKED))
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?
            .map_err(invalid)?;
        let id = crate::authoring::new_exam_id()?;
        let plan = Plan::new(&id, entries)?;
        let mut written = Vec::new();
        let result = self.write(&plan, &mut written).await;
        if let Err(e) = result {
            for key in written {
                let _ = self.store().delete(&key).await;
            }
            return Err(e);
        }
        self.identity.access.grant_owner(&id, by).await?;
        for a in &plan.announcements {
            self.announcer.announce(a.clone());
        }
        if let Some(bank) = plan.bank.clone() {
            self.records.cache_bank(std::sync::Arc::new(bank));
        }
        tracing::info!(exam.id = %id, from = %plan.manifest.exam_id, objects = plan.objects.len(), "exam imported");
        self.catalog.get(&id).ok_or_else(|| invalid("the archive holds neither a document nor a question bank"))
    }

    async fn write(&self, plan: &Plan, written: &mut Vec<String>) -> Result<(), ServiceError> {
        for (key, body, meta) in &plan.objects {
            self.store().put_bytes(key, body.clone(), meta, PutMode::CreateNew).await?;
            written.push(key.clone());
        }
        Ok(())
    }
}

/// What an archive becomes in the store: the objects to write (document last) and the
/// announcements that load the exam into every catalog.
struct Plan {
    manifest: Manifest,
    objects: Vec<(String, Bytes, ObjectMeta)>,
    bank: Option<QuestionBank>,
    announcements: Vec<Announcement>,
}

impl Plan {
    fn new(id: &ExamId, entries: Vec<(String, Vec<u8>)>) -> Result<Plan, ServiceError> {
        let mut manifest = None;
        let mut records = Vec::new();
        for (name, bytes) in entries {
            if name == MANIFEST {
                let m: Manifest =
                    serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{MANIFEST} is not an exam archive's manifest: {e}")))?;
                if m.format != FORMAT || m.version != VERSION {
                    return Err(invalid(format!("this is not an exam archive of version {VERSION} ({} {})", m.format, m.version)));
                }
                manifest = Some(m);
            } else {
                records.push((name, bytes));
            }
        }
        let manifest = manifest.ok_or_else(|| invalid(format!("this is not an exam archive: it has no {MANIFEST}")))?;
        let objects = keys::exam_objects(id);
        let mut plan = Plan { manifest, objects: Vec::new(), bank: None, announcements: Vec::new() };
        let mut document = None;
        let (mut stored, mut ready, mut failed, mut published, mut submissions) = (None, None, None, None, Vec::new());
        for (name, bytes) in records {
            let (objects_of, rest) = place(&objects, &name).ok_or_else(|| invalid(format!("{name}: not an entry of an exam archive")))?;
            let key = match objects_of {
                ExamObjects::Single { key, .. } => key.clone(),
                ExamObjects::Tree { prefix, .. } => format!("{prefix}{rest}"),
            };
            if objects_of.name() == "document" {
                let mut meta = plan.manifest.meta.get(&name).cloned().unwrap_or_default();
                meta.user.insert(keys::meta::EXAM_ID.into(), id.to_string());
                // The exported upload's trace ended long ago, on another installation.
                meta.user.retain(|k, _| exam_telemetry::from_pairs([(k.as_str(), "")]).is_empty());
                let at = meta.get(keys::meta::CREATED_AT).map(str::to_owned).unwrap_or_else(|| plan.manifest.exported_at.clone());
                stored = Some(Announcement::stage(id.clone(), Stage::Stored, at).with_title(Some(plan.manifest.title.clone())));
                document = Some((key, Bytes::from(bytes), meta));
                continue;
            }
            let mut value: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{name}: not JSON: {e}")))?;
            retarget(&mut value, id.as_str());
            let bad = |e: serde_json::Error| invalid(format!("{name}: {e}"));
            match objects_of.name() {
                "question_bank.json" => {
                    let text = serde_json::to_vec(&value).map_err(bad)?;
                    let bank = QuestionBank::from_json(&text, id, &plan.manifest.title).map_err(|e| invalid(format!("{name}: {e}")))?;
                    ready = Some(Announcement::ready(&bank, bank.created_at.clone()));
                    plan.bank = Some(bank);
                }
                "failure.json" => {
                    let f: FailureRecord = serde_json::from_value(value.clone()).map_err(bad)?;
                    failed = Some(Announcement::failed(id.clone(), f.title, f.reason, f.at));
                }
                "publication.json" => {
                    let p: Publication = serde_json::from_value(value.clone()).map_err(bad)?;
                    let mut a = Announcement::stage(id.clone(), Stage::Published, p.published_at);
                    if let Announcement::ExamStatus { question_count, .. } = &mut a {
                        *question_count = Some(p.question_count).filter(|n| *n > 0);
                    }
                    published = Some(a);
                }
                "draft.json" => drop(serde_json::from_value::<Draft>(value.clone()).map_err(bad)?),
                "versions" => drop(serde_json::from_value::<PublishedVersion>(value.clone()).map_err(bad)?),
                "settings.json" => drop(serde_json::from_value::<SettingsRecord>(value.clone()).map_err(bad)?),
                "overrides.json" => drop(serde_json::from_value::<OverridesRecord>(value.clone()).map_err(bad)?),
                "submissions" => {
                    let r: SubmissionRecord = serde_json::from_value(value.clone()).map_err(bad)?;
                    submissions.push(crate::catalog::submission_announcement(&r));
                }
                _ => {}
            }
            let body = serde_json::to_vec(&value).map_err(bad)?;
            plan.objects.push((key, Bytes::from(body), ObjectMeta::json()));
        }
        if plan.bank.is_none() && document.is_none() {
            return Err(invalid("the archive holds neither a document nor a question bank"));
        }
        // The order the catalog rebuild applies them in: the stage only moves forward.
        plan.announcements = stored.into_iter().chain(ready).chain(failed).chain(published).chain(submissions).collect();
        plan.objects.extend(document);
        Ok(plan)
    }
}

/// Which of the exam's objects an archive entry is, and the rest of its name below a tree.
/// Only portable objects, and names of safe segments (`[A-Za-z0-9._~%-]`: student keys are
/// percent-encoded; no leading dot).
fn place<'a>(objects: &'a [ExamObjects], name: &'a str) -> Option<(&'a ExamObjects, &'a str)> {
    objects.iter().filter(|o| o.portable()).find_map(|o| match o {
        ExamObjects::Single { name: n, .. } => (*n == name).then_some((o, "")),
        ExamObjects::Tree { name: n, .. } => {
            let rest = name.strip_prefix(n)?.strip_prefix('/')?;
            let safe = |s: &str| {
                !s.is_empty()
                    && !s.starts_with('.')
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '%' | '-'))
            };
            let depth = if *n == "submissions" { 2 } else { 1 };
            (rest.split('/').count() == depth && rest.split('/').all(safe)).then_some((o, rest))
        }
    })
}

/// Points every `exam_id` field, at any depth, at the imported exam.
fn retarget(value: &mut Value, id: &str) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "exam_id" && v.is_string() {
                    *v = Value::String(id.to_owned());
                } else {
                    retarget(v, id);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| retarget(v, id)),
        _ => {}
    }
}

fn pack(manifest: &[u8], entries: &[(String, Bytes)], mtime: u64) -> io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut add = |name: &str, body: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        tar.append_data(&mut header, name, body)
    };
    add(MANIFEST, manifest)?;
    for (name, body) in entries {
        add(name, body)?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

/// A reader that fails once more than `left` bytes were read: the cap on what an archive
/// unpacks to, whatever its headers claim.
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("the archive unpacks to more than {} MiB", self.cap >> 20))
        })?;
        Ok(n)
    }
}

fn unpack(archive: &[u8], cap: u64) -> Result<Vec<(String, Vec<u8>)>, String> {
    let why = |e: io::Error| format!("this is not a readable exam archive (.tar.gz): {e}");
    let reader = Capped { inner: flate2::read::GzDecoder::new(archive), left: cap, cap };
    let mut tar = tar::Archive::new(reader);
    let mut out = Vec::new();
    for entry in tar.entries().map_err(why)? {
        let mut entry = entry.map_err(why)?;
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => continue,
            other => return Err(format!("the archive holds a {other:?} entry; only files are accepted")),
        }
        let name = String::from_utf8(entry.path_bytes().into_owned()).map_err(|_| "an entry's name is not UTF-8".to_owned())?;
        let mut body = Vec::new();
        entry.read_to_end(&mut body).map_err(why)?;
        out.push((name.trim_start_matches("./").to_owned(), body));
        if out.len() > MAX_ENTRIES {
            return Err(format!("the archive has more than {MAX_ENTRIES} entries"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_names_of_safe_segments_are_placed() {
        let id = ExamId::parse("new").unwrap();
        let objects = keys::exam_objects(&id);
        let key = |name: &str| {
            place(&objects, name).map(|(o, rest)| match o {
                ExamObjects::Single { key, .. } => key.clone(),
                ExamObjects::Tree { prefix, .. } => format!("{prefix}{rest}"),
            })
        };
        assert_eq!(key("question_bank.json").as_deref(), Some("question_bank/new.json"));
        assert_eq!(key("versions/000002.json").as_deref(), Some("versions/new/000002.json"));
        assert_eq!(key("submissions/ada/0001.json").as_deref(), Some("submissions/new/ada/0001.json"));
        assert_eq!(key("document/lecture.pdf").as_deref(), Some("exams/new/lecture.pdf"));
        for hostile in [
            "../question_bank.json",
            "versions/../../auth/teachers/x.json",
            "versions/a/b.json",
            "submissions/ada.json",
            "submissions/../x/0001.json",
            "document/.hidden",
            "access.json",
            "attempts/ada.json",
            "audit/x.json",
            "auth/setup.json",
            "/etc/passwd",
        ] {
            assert_eq!(key(hostile), None, "{hostile} must not be placed");
        }
    }

    #[test]
    fn exam_ids_are_rewritten_at_any_depth_and_nothing_else() {
        let mut v = serde_json::json!({"exam_id": "old", "bank": {"exam_id": "old", "title": "old"}, "list": [{"exam_id": "old"}]});
        retarget(&mut v, "new");
        assert_eq!(v, serde_json::json!({"exam_id": "new", "bank": {"exam_id": "new", "title": "old"}, "list": [{"exam_id": "new"}]}));
    }

    #[test]
    fn a_pack_unpacks_to_the_same_entries_and_a_bomb_is_refused() {
        let entries = vec![
            ("question_bank.json".to_owned(), Bytes::from_static(b"{}")),
            (format!("submissions/{}/0001.json", "a".repeat(200)), Bytes::from_static(b"[]")),
        ];
        let packed = pack(b"{\"m\":1}", &entries, 0).unwrap();
        let back = unpack(&packed, MAX_UNPACKED).unwrap();
        assert_eq!(back[0], (MANIFEST.to_owned(), b"{\"m\":1}".to_vec()));
        assert_eq!(back[1].0, "question_bank.json");
        assert_eq!(back[2].0, entries[1].0, "long names survive");

        let cap = 4 << 20;
        let zeros = vec![("document/x.pdf".to_owned(), Bytes::from(vec![0u8; cap as usize + 1024]))];
        let bomb = pack(b"{}", &zeros, 0).unwrap();
        assert!(bomb.len() < 64 * 1024, "zeros compress well");
        assert!(unpack(&bomb, cap).unwrap_err().contains("unpacks to more than 4 MiB"));
        assert!(unpack(&bomb, cap * 2).is_ok());
        assert!(unpack(b"not a gzip", cap).unwrap_err().contains("not a readable exam archive"));
    }
}
