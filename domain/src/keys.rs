//! The object layout in the bucket. Identical in the embedded directory store and in S3.
//!
//! | prefix | written by | content |
//! |---|---|---|
//! | `exams/<exam>/<file>` | gateway (upload) | the teacher's document; parameters as user metadata |
//! | `question_bank/<exam>.json` | generator | [`crate::QuestionBank`] |
//! | `failures/<exam>.json` | generator | why generation failed |
//! | `text/<exam>.json` | generator | the extracted page text (`{"pages": [...]}`), for regenerating single questions |
//! | `publications/<exam>.json` | gateway | publication record: the latest published version |
//! | `drafts/<exam>.json` | gateway | the teacher's unpublished changes ([`crate::Draft`]) |
//! | `versions/<exam>/<version>.json` | gateway | a published version, written once ([`crate::PublishedVersion`]) |
//! | `attempts/<exam>/<student>.json` | gateway | a student's autosaved, unsubmitted answers |
//! | `submissions/<exam>/<student>/<attempt>.json` | gateway | graded submissions, exactly one per attempt, never overwritten |
//! | `settings/<exam>.json` | gateway | how the exam is sat ([`crate::records::SettingsRecord`]) |
//! | `overrides/<exam>.json` | gateway | per-student accommodations ([`crate::records::OverridesRecord`]) |
//! | `access/<exam>.json` | gateway | owner and sharers ([`crate::identity::ExamAccess`]) |
//! | `auth/teachers/<id>.json` | gateway | a teacher account (Argon2id PHC hash, never the password) |
//! | `auth/emails/<sha256 of email>.json` | gateway | email → teacher id, created once (emails are unique) |
//! | `auth/tokens/<sha256 of token>.json` | gateway | a personal access token's owner, name and expiry |
//! | `auth/sessions/<sha256 of id>.json` | gateway | a signed-in session (shared by every replica) |
//! | `auth/setup.json` | gateway | the SHA-256 of the one-time setup token while no teacher exists |
//! | `auth/invites/<sha256>.json`, `auth/invites-used/<sha256>.json` | gateway | an invitation (who, until when); its use, created once |
//! | `audit/exams/<exam>/<time>-<seq>-<rand>.json`, `audit/teachers/<id>/…` | gateway | one audit event each, never overwritten |
//! | `join/exams/<exam>.json`, `join/codes/<CODE>.json`, `join/students/<exam>/<key>.json` | gateway | the join code both ways; who joined under which name |
//! | `deletions/<exam>.json` | gateway | a deleted exam's tombstone ([`crate::records::DeletionRecord`]); kept, so late writes for it are recognised |
//!
//! Everything that belongs to one exam is listed once, in [`exam_objects`]: deletion, export
//! and import all walk that list.

use crate::ids::ExamId;

pub const UPLOADS_PREFIX: &str = "exams/";
pub const BANKS_PREFIX: &str = "question_bank/";
pub const FAILURES_PREFIX: &str = "failures/";
pub const TEXTS_PREFIX: &str = "text/";
pub const PUBLICATIONS_PREFIX: &str = "publications/";
pub const ATTEMPTS_PREFIX: &str = "attempts/";
pub const SUBMISSIONS_PREFIX: &str = "submissions/";
pub const DRAFTS_PREFIX: &str = "drafts/";
pub const VERSIONS_PREFIX: &str = "versions/";
pub const SETTINGS_PREFIX: &str = "settings/";
pub const OVERRIDES_PREFIX: &str = "overrides/";
pub const ACCESS_PREFIX: &str = "access/";
pub const TEACHERS_PREFIX: &str = "auth/teachers/";
pub const EMAILS_PREFIX: &str = "auth/emails/";
pub const TOKENS_PREFIX: &str = "auth/tokens/";
pub const SESSIONS_PREFIX: &str = "auth/sessions/";
pub const SETUP_KEY: &str = "auth/setup.json";

pub const DELETIONS_PREFIX: &str = "deletions/";
pub const AUDIT_EXAMS_PREFIX: &str = "audit/exams/";

pub const JOIN_CODES_PREFIX: &str = "join/codes/";
pub const JOIN_EXAMS_PREFIX: &str = "join/exams/";
pub const JOIN_STUDENTS_PREFIX: &str = "join/students/";

/// Which exam a join code opens: `join/codes/<CODE>.json`.
pub fn join_code_key(code: &crate::identity::JoinCode) -> String {
    format!("{JOIN_CODES_PREFIX}{code}.json")
}

/// An exam's current join code: `join/exams/<exam>.json`.
pub fn exam_code_key(exam: &ExamId) -> String {
    format!("{JOIN_EXAMS_PREFIX}{exam}.json")
}

/// A student who joined an exam (claims the name within it): `join/students/<exam>/<key>.json`.
pub fn joined_student_key(exam: &ExamId, student_key: &str) -> String {
    format!("{JOIN_STUDENTS_PREFIX}{exam}/{student_key}.json")
}

pub fn access_key(exam: &ExamId) -> String {
    format!("{ACCESS_PREFIX}{exam}.json")
}

/// User-metadata names on an uploaded document (the counts keep the seed's names).
pub mod meta {
    pub const EXAM_ID: &str = "exam-id";
    /// Percent-encoded UTF-8 (metadata travels in HTTP headers).
    pub const TITLE: &str = "title";
    /// Percent-encoded UTF-8 original file name.
    pub const FILENAME: &str = "filename";
    pub const CREATED_AT: &str = "created-at";
    pub const MCQ: &str = "n_mcq";
    pub const OPTIONS: &str = "n_mcq_options";
    pub const TRUE_FALSE: &str = "n_tfq";
}

/// Longest file-name part we keep in a key.
const MAX_NAME: usize = 100;

/// A file name made safe for an object key: path components dropped, anything outside
/// `[A-Za-z0-9._-]` replaced by `_`, no leading dots, at most 100 bytes, never empty.
/// The original name is kept (percent-encoded) in metadata for display.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out: String = base.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    out = out.trim_start_matches('.').to_owned();
    if out.len() > MAX_NAME {
        // Keep the extension.
        let ext = out.rfind('.').map(|i| out[i..].to_owned()).filter(|e| e.len() <= 10).unwrap_or_default();
        out.truncate(MAX_NAME - ext.len());
        out.push_str(&ext);
    }
    if out.is_empty() || out.chars().all(|c| c == '_' || c == '.') {
        out = "document.pdf".to_owned();
    }
    out
}

pub fn upload_key(exam: &ExamId, file_name: &str) -> String {
    format!("{UPLOADS_PREFIX}{exam}/{}", safe_file_name(file_name))
}

/// `exams/<exam>/<file>` → the exam id.
pub fn exam_of_upload_key(key: &str) -> Option<ExamId> {
    let rest = key.strip_prefix(UPLOADS_PREFIX)?;
    let (id, file) = rest.split_once('/')?;
    if file.is_empty() || file.contains('/') {
        return None;
    }
    ExamId::parse(id).ok()
}

pub fn bank_key(exam: &ExamId) -> String {
    format!("{BANKS_PREFIX}{exam}.json")
}

pub fn failure_key(exam: &ExamId) -> String {
    format!("{FAILURES_PREFIX}{exam}.json")
}

/// The document's extracted text, stored next to its bank.
pub fn text_key(exam: &ExamId) -> String {
    format!("{TEXTS_PREFIX}{exam}.json")
}

pub fn publication_key(exam: &ExamId) -> String {
    format!("{PUBLICATIONS_PREFIX}{exam}.json")
}

pub fn attempt_key(exam: &ExamId, student_key: &str) -> String {
    format!("{ATTEMPTS_PREFIX}{exam}/{student_key}.json")
}

pub fn submissions_prefix(exam: &ExamId) -> String {
    format!("{SUBMISSIONS_PREFIX}{exam}/")
}

pub fn submission_key(exam: &ExamId, student_key: &str, attempt: u32) -> String {
    format!("{SUBMISSIONS_PREFIX}{exam}/{student_key}/{attempt:04}.json")
}

pub fn settings_key(exam: &ExamId) -> String {
    format!("{SETTINGS_PREFIX}{exam}.json")
}

pub fn overrides_key(exam: &ExamId) -> String {
    format!("{OVERRIDES_PREFIX}{exam}.json")
}

/// `attempts/<exam>/` : the open attempts of one exam.
pub fn attempts_prefix(exam: &ExamId) -> String {
    format!("{ATTEMPTS_PREFIX}{exam}/")
}

pub fn draft_key(exam: &ExamId) -> String {
    format!("{DRAFTS_PREFIX}{exam}.json")
}

pub fn versions_prefix(exam: &ExamId) -> String {
    format!("{VERSIONS_PREFIX}{exam}/")
}

/// Zero-padded so keys sort by version.
pub fn version_key(exam: &ExamId, version: u32) -> String {
    format!("{VERSIONS_PREFIX}{exam}/{version:06}.json")
}

/// `versions/<exam>/<version>.json` → the version number.
pub fn version_of_key(exam: &ExamId, key: &str) -> Option<u32> {
    key.strip_prefix(&versions_prefix(exam))?.strip_suffix(".json")?.parse().ok()
}

pub fn deletion_key(exam: &ExamId) -> String {
    format!("{DELETIONS_PREFIX}{exam}.json")
}

/// Objects of one exam: a single key, or every key under a prefix. `name` is where the object
/// sits in an exam archive (a single key's file name; a prefix's directory, the rest of the
/// key below it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExamObjects {
    Single { name: &'static str, key: String },
    Tree { name: &'static str, prefix: String },
}

impl ExamObjects {
    /// Whether an archive carries these objects to another installation. Attempts in
    /// progress, who may work on the exam, its join records and its audit log belong to this
    /// installation; deleting an exam removes them too.
    pub fn portable(&self) -> bool {
        !matches!(self.name(), "attempts" | "access.json" | "join.json" | "joined" | "audit")
    }

    pub fn name(&self) -> &'static str {
        match self {
            ExamObjects::Single { name, .. } | ExamObjects::Tree { name, .. } => name,
        }
    }
}

/// Everything stored under an exam's id (the join code's own record, `join/codes/<CODE>.json`,
/// is named by the code, which `join/exams/<exam>.json` holds). The uploaded document comes
/// first: an exam whose deletion stopped halfway no longer loads as an exam on restart.
pub fn exam_objects(exam: &ExamId) -> Vec<ExamObjects> {
    use ExamObjects::{Single, Tree};
    vec![
        Tree { name: "document", prefix: format!("{UPLOADS_PREFIX}{exam}/") },
        Single { name: "question_bank.json", key: bank_key(exam) },
        Single { name: "failure.json", key: failure_key(exam) },
        Single { name: "text.json", key: text_key(exam) },
        Single { name: "draft.json", key: draft_key(exam) },
        Single { name: "publication.json", key: publication_key(exam) },
        Tree { name: "versions", prefix: versions_prefix(exam) },
        Single { name: "settings.json", key: settings_key(exam) },
        Single { name: "overrides.json", key: overrides_key(exam) },
        Tree { name: "submissions", prefix: submissions_prefix(exam) },
        Tree { name: "attempts", prefix: attempts_prefix(exam) },
        Tree { name: "joined", prefix: format!("{JOIN_STUDENTS_PREFIX}{exam}/") },
        Tree { name: "audit", prefix: format!("{AUDIT_EXAMS_PREFIX}{exam}/") },
        Single { name: "join.json", key: exam_code_key(exam) },
        Single { name: "access.json", key: access_key(exam) },
    ]
}

/// `<prefix><exam>.json` → the exam id.
pub fn exam_of_json_key(prefix: &str, key: &str) -> Option<ExamId> {
    ExamId::parse(key.strip_prefix(prefix)?.strip_suffix(".json")?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exam_scoped_key_is_in_exam_objects() {
        let id = ExamId::parse("e1").unwrap();
        let objects = exam_objects(&id);
        let covers = |key: &str| {
            objects.iter().any(|o| match o {
                ExamObjects::Single { key: k, .. } => k == key,
                ExamObjects::Tree { prefix, .. } => key.starts_with(prefix.as_str()),
            })
        };
        for key in [
            upload_key(&id, "a.pdf"),
            bank_key(&id),
            failure_key(&id),
            text_key(&id),
            publication_key(&id),
            draft_key(&id),
            version_key(&id, 3),
            attempt_key(&id, "ada"),
            submission_key(&id, "ada", 1),
            settings_key(&id),
            overrides_key(&id),
            access_key(&id),
            exam_code_key(&id),
            joined_student_key(&id, "ada"),
            format!("{AUDIT_EXAMS_PREFIX}e1/2026-x.json"),
        ] {
            assert!(covers(&key), "{key} is not deleted or exported with its exam");
        }
        // Another exam whose id starts with this one's is not covered.
        assert!(!covers(&bank_key(&ExamId::parse("e10").unwrap())));
        assert!(!covers(&submission_key(&ExamId::parse("e10").unwrap(), "ada", 1)));
        let names: Vec<&str> = objects.iter().map(ExamObjects::name).collect();
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len(), "archive names must be unique");
    }

    #[test]
    fn file_names_cannot_escape_or_break_keys() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(safe_file_name("Lecture 3 – Über.pdf"), "Lecture_3____ber.pdf");
        assert_eq!(safe_file_name(".hidden.pdf"), "hidden.pdf");
        assert_eq!(safe_file_name("../"), "document.pdf");
        assert_eq!(safe_file_name("日本語"), "document.pdf");
        let long = format!("{}.pdf", "a".repeat(300));
        let s = safe_file_name(&long);
        assert_eq!(s.len(), 100);
        assert!(s.ends_with(".pdf"));
    }

    #[test]
    fn keys_round_trip_to_their_exam() {
        let e = ExamId::parse("abc").unwrap();
        assert_eq!(exam_of_upload_key(&upload_key(&e, "../x y.pdf")), Some(e.clone()));
        assert_eq!(upload_key(&e, "../x y.pdf"), "exams/abc/x_y.pdf");
        assert_eq!(exam_of_upload_key("exams/abc/"), None);
        assert_eq!(exam_of_upload_key("exams/abc/d/e.pdf"), None);
        assert_eq!(exam_of_upload_key("other/abc/e.pdf"), None);
        assert_eq!(exam_of_json_key(BANKS_PREFIX, &bank_key(&e)), Some(e.clone()));
        assert_eq!(text_key(&e), "text/abc.json");
        assert_eq!(submission_key(&e, "ada", 3), "submissions/abc/ada/0003.json");
        assert_eq!(version_key(&e, 12), "versions/abc/000012.json");
        assert_eq!(version_of_key(&e, &version_key(&e, 12)), Some(12));
        assert_eq!(version_of_key(&e, "versions/abd/000012.json"), None);
    }
}
