//! Message contracts.
//!
//! * [`Announcement`]: what the generator and the gateway publish on the announcements topic,
//!   and — byte for byte the same JSON — what the gateway pushes to browsers on `/api/v1/live`.
//! * [`S3Notification`]: the bucket notification MinIO (and S3-compatible stores that imitate it)
//!   writes to the uploads topic when a document lands under `exams/`; the embedded store emits
//!   the same shape so both modes run one code path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::ExamId;

/// Default topic names (configurable in the deployment).
pub const UPLOADS_TOPIC: &str = "exam-uploads";
pub const ANNOUNCEMENTS_TOPIC: &str = "exam-announcements";

/// The coarse state of an exam, as the HTTP API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExamStatus {
    Generating,
    Draft,
    Published,
    Failed,
}

/// The fine-grained pipeline stage shown to the teacher while an exam is being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The document is in the store; generation has not started.
    Stored,
    Extracting,
    Generating,
    /// The question bank is written: the exam is a draft.
    Ready,
    Failed,
    Published,
}

impl Stage {
    pub fn status(self) -> ExamStatus {
        match self {
            Stage::Stored | Stage::Extracting | Stage::Generating => ExamStatus::Generating,
            Stage::Ready => ExamStatus::Draft,
            Stage::Failed => ExamStatus::Failed,
            Stage::Published => ExamStatus::Published,
        }
    }

    fn rank(self) -> u8 {
        match self {
            Stage::Stored => 1,
            Stage::Extracting => 2,
            Stage::Generating => 3,
            Stage::Ready | Stage::Failed => 4,
            Stage::Published => 5,
        }
    }

    /// Stages only move forward. Announcements are delivered at least once and, across
    /// producers, in no guaranteed order; applying them with this rule makes duplicates and
    /// late arrivals harmless.
    pub fn supersedes(self, current: Stage) -> bool {
        self.rank() > current.rank()
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Stored => "Stored",
            Stage::Extracting => "Extracting text",
            Stage::Generating => "Generating questions",
            Stage::Ready => "Ready for review",
            Stage::Failed => "Failed",
            Stage::Published => "Published",
        }
    }
}

/// A JSON text frame on the live WebSocket and a record on the announcements topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Announcement {
    ExamStatus {
        exam_id: ExamId,
        status: ExamStatus,
        stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        question_count: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
        /// What the stage is doing, continuing its label for the teacher: `"with gpt-4o-mini"`
        /// → "Generating questions with gpt-4o-mini". Belongs to `stage` only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// RFC 3339 time of the change.
        at: String,
    },
    Submission {
        exam_id: ExamId,
        student: String,
        score: u32,
        total: u32,
        percent: f64,
        passed: bool,
        attempt: u32,
        submitted_at: String,
    },
    /// The owner deleted the exam: every replica forgets it (it is not pushed to browsers).
    ExamDeleted {
        exam_id: ExamId,
        at: String,
    },
}

impl Announcement {
    pub fn stage(exam_id: ExamId, stage: Stage, at: String) -> Self {
        Announcement::ExamStatus {
            exam_id,
            status: stage.status(),
            stage,
            title: None,
            question_count: None,
            error: None,
            notes: Vec::new(),
            detail: None,
            at,
        }
    }

    /// Sets the stage detail of an `exam_status` announcement (no effect on others).
    pub fn with_detail(mut self, detail: Option<String>) -> Self {
        if let Announcement::ExamStatus { detail: d, .. } = &mut self {
            *d = detail;
        }
        self
    }

    /// Sets the title of an `exam_status` announcement (no effect on others).
    pub fn with_title(mut self, title: Option<String>) -> Self {
        if let Announcement::ExamStatus { title: t, .. } = &mut self {
            *t = title;
        }
        self
    }

    /// The exam became a draft: its bank is written.
    pub fn ready(bank: &crate::QuestionBank, at: String) -> Self {
        Announcement::ExamStatus {
            exam_id: bank.exam_id.clone(),
            status: Stage::Ready.status(),
            stage: Stage::Ready,
            title: Some(bank.title.clone()),
            question_count: u32::try_from(bank.questions.len()).ok(),
            error: None,
            notes: bank.notes.clone(),
            detail: None,
            at,
        }
    }

    /// Generation failed for `reason`.
    pub fn failed(exam_id: ExamId, title: String, reason: String, at: String) -> Self {
        Announcement::ExamStatus {
            exam_id,
            status: Stage::Failed.status(),
            stage: Stage::Failed,
            title: Some(title),
            question_count: None,
            error: Some(reason),
            notes: Vec::new(),
            detail: None,
            at,
        }
    }

    pub fn exam_id(&self) -> &ExamId {
        match self {
            Announcement::ExamStatus { exam_id, .. }
            | Announcement::Submission { exam_id, .. }
            | Announcement::ExamDeleted { exam_id, .. } => exam_id,
        }
    }

    /// Kafka message key: all messages of one exam go to one partition, in order.
    pub fn key(&self) -> &str {
        self.exam_id().as_str()
    }
}

/// MinIO's bucket notification record value (`{"EventName", "Key", "Records": [...]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Notification {
    #[serde(rename = "EventName", default)]
    pub event_name: String,
    /// `<bucket>/<decoded object key>`.
    #[serde(rename = "Key", default)]
    pub key: String,
    #[serde(rename = "Records")]
    pub records: Vec<S3Record>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Record {
    #[serde(default)]
    pub event_version: String,
    #[serde(default)]
    pub event_source: String,
    #[serde(default)]
    pub aws_region: String,
    #[serde(default)]
    pub event_time: String,
    pub event_name: String,
    pub s3: S3Entity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Entity {
    #[serde(default)]
    pub s3_schema_version: String,
    #[serde(default)]
    pub configuration_id: String,
    pub bucket: S3Bucket,
    pub object: S3Object,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Bucket {
    pub name: String,
    #[serde(default)]
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Object {
    /// URL-encoded with form rules (Go's `url.QueryEscape`): use [`S3Object::decoded_key`].
    pub key: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, rename = "eTag")]
    pub e_tag: String,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub user_metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub version_id: String,
    #[serde(default)]
    pub sequencer: String,
}

/// Event names that create content (`mc event add --event put` also fires on tagging,
/// retention and legal hold, which change no bytes).
const CONTENT_EVENTS: [&str; 4] =
    ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload"];

impl S3Record {
    pub fn creates_content(&self) -> bool {
        CONTENT_EVENTS.contains(&self.event_name.as_str())
    }
}

impl S3Object {
    /// The object key with form-style URL encoding undone (`+` → space, `%XX` → byte).
    pub fn decoded_key(&self) -> Result<String, std::str::Utf8Error> {
        let plus_decoded = self.key.replace('+', " ");
        percent_encoding::percent_decode_str(&plus_decoded).decode_utf8().map(|s| s.into_owned())
    }

    /// A user-metadata value by name, matched case-insensitively, with or without the
    /// `X-Amz-Meta-` prefix MinIO sometimes keeps.
    pub fn metadata(&self, name: &str) -> Option<&str> {
        metadata_lookup(&self.user_metadata, name)
    }
}

/// Case-insensitive user-metadata lookup tolerant of the `x-amz-meta-` prefix.
pub fn metadata_lookup<'a>(meta: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    meta.iter()
        .find(|(k, _)| {
            let k = k.to_ascii_lowercase();
            let k = k.strip_prefix("x-amz-meta-").unwrap_or(&k);
            k.eq_ignore_ascii_case(name)
        })
        .map(|(_, v)| v.as_str())
}

/// Go's `url.QueryEscape`: what MinIO applies to `s3.object.key`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What the store knows about a freshly written object, for building a notification.
#[derive(Debug, Clone, Default)]
pub struct CreatedObject {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub e_tag: String,
    pub content_type: String,
    pub user_metadata: BTreeMap<String, String>,
    pub event_time: String,
    pub sequencer: String,
}

impl S3Notification {
    /// The notification MinIO would send for a `PutObject`.
    pub fn object_created(o: CreatedObject) -> Self {
        let event_name = "s3:ObjectCreated:Put".to_owned();
        S3Notification {
            event_name: event_name.clone(),
            key: format!("{}/{}", o.bucket, o.key),
            records: vec![S3Record {
                event_version: "2.0".into(),
                event_source: "minio:s3".into(),
                aws_region: String::new(),
                event_time: o.event_time,
                event_name,
                s3: S3Entity {
                    s3_schema_version: "1.0".into(),
                    configuration_id: "Config".into(),
                    bucket: S3Bucket { arn: format!("arn:aws:s3:::{}", o.bucket), name: o.bucket },
                    object: S3Object {
                        key: query_escape(&o.key),
                        size: o.size,
                        e_tag: o.e_tag,
                        content_type: o.content_type,
                        user_metadata: o.user_metadata,
                        version_id: String::new(),
                        sequencer: o.sequencer,
                    },
                },
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as MinIO writes it (shape from minio/minio's event package).
    const MINIO: &str = r#"{"EventName":"s3:ObjectCreated:Put","Key":"exams/exams/abc/lecture notes+1.pdf","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-01T10:00:00.000Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"minio"},"requestParameters":{"sourceIPAddress":"10.0.0.1"},"responseElements":{"x-amz-request-id":"1"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"exams","ownerIdentity":{"principalId":"minio"},"arn":"arn:aws:s3:::exams"},"object":{"key":"exams%2Fabc%2Flecture+notes%2B1.pdf","size":1024,"eTag":"d41d8","contentType":"application/pdf","userMetadata":{"X-Amz-Meta-N_mcq":"5","content-type":"application/pdf"},"sequencer":"17A"}},"source":{"host":"10.0.0.1","port":"","userAgent":"MinIO"}}]}"#;

    #[test]
    fn parses_minio_notifications_and_decodes_keys() {
        let n: S3Notification = serde_json::from_str(MINIO).unwrap();
        let r = &n.records[0];
        assert!(r.creates_content());
        assert_eq!(r.s3.object.decoded_key().unwrap(), "exams/abc/lecture notes+1.pdf");
        assert_eq!(r.s3.object.metadata("n_mcq"), Some("5"));
        assert_eq!(r.s3.object.metadata("N_MCQ"), Some("5"));
        assert_eq!(r.s3.object.metadata("n_tfq"), None);
    }

    #[test]
    fn tagging_events_do_not_count_as_content() {
        let n: S3Notification = serde_json::from_str(&MINIO.replace("s3:ObjectCreated:Put", "s3:ObjectCreated:PutTagging")).unwrap();
        assert!(!n.records[0].creates_content());
    }

    #[test]
    fn our_notifications_encode_keys_like_minio() {
        let n = S3Notification::object_created(CreatedObject {
            bucket: "exams".into(),
            key: "exams/abc/Vorlesung Über+1.pdf".into(),
            ..Default::default()
        });
        let o = &n.records[0].s3.object;
        assert_eq!(o.key, "exams%2Fabc%2FVorlesung+%C3%9Cber%2B1.pdf");
        assert_eq!(o.decoded_key().unwrap(), "exams/abc/Vorlesung Über+1.pdf");
        assert_eq!(n.key, "exams/exams/abc/Vorlesung Über+1.pdf");
        let back: S3Notification = serde_json::from_slice(&serde_json::to_vec(&n).unwrap()).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn stages_only_move_forward() {
        assert!(Stage::Extracting.supersedes(Stage::Stored));
        assert!(!Stage::Stored.supersedes(Stage::Ready));
        assert!(!Stage::Ready.supersedes(Stage::Ready));
        assert!(!Stage::Failed.supersedes(Stage::Ready));
        assert!(Stage::Published.supersedes(Stage::Ready));
    }

    #[test]
    fn announcements_have_the_documented_wire_shape() {
        let a = Announcement::stage(ExamId::parse("e1").unwrap(), Stage::Ready, "t".into());
        let v: serde_json::Value = serde_json::to_value(&a).unwrap();
        assert_eq!(v["type"], "exam_status");
        assert_eq!(v["exam_id"], "e1");
        assert_eq!(v["status"], "draft");
        assert_eq!(v["stage"], "ready");
        assert!(v.get("detail").is_none());
        let a = Announcement::stage(ExamId::parse("e1").unwrap(), Stage::Generating, "t".into()).with_detail(Some("with m".into()));
        let v: serde_json::Value = serde_json::to_value(&a).unwrap();
        assert_eq!(v["detail"], "with m");
        // Announcements from producers without the field still parse.
        let old: Announcement =
            serde_json::from_str(r#"{"type":"exam_status","exam_id":"e1","status":"generating","stage":"generating","at":"t"}"#).unwrap();
        assert_eq!(old, Announcement::stage(ExamId::parse("e1").unwrap(), Stage::Generating, "t".into()));
    }
}
