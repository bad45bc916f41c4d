//! Read models shared by the HTTP API, the server functions and the front end.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bank::Question;
use crate::events::{ExamStatus, Stage};
use crate::grading::GradeReport;
use crate::ids::{ExamId, OptionId, QuestionId};
use crate::versions::VersionInfo;

/// One exam in a listing (`GET /api/v1/exams`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExamSummary {
    pub id: ExamId,
    pub title: String,
    pub status: ExamStatus,
    pub stage: Stage,
    #[serde(default)]
    pub question_count: u32,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What the current stage is doing (e.g. `"with gpt-4o-mini"` while generating); shown
    /// after the stage's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_detail: Option<String>,
    #[serde(default)]
    pub submissions: u32,
}

/// The teacher's view of one exam: every question with its key and source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeacherExam {
    pub exam: ExamSummary,
    /// What the teacher reviews and edits: the draft when there is one, else the latest
    /// published version.
    pub questions: Vec<Question>,
    /// Published versions, oldest first (empty before the first publication).
    #[serde(default)]
    pub versions: Vec<VersionInfo>,
    /// Set when `questions` are unpublished (a first draft, or changes to a published exam).
    #[serde(default)]
    pub draft: Option<DraftInfo>,
    /// Changes with every edit of the questions shown. Send it back with an edit to be told
    /// (409) when another tab or teacher changed them first.
    #[serde(default)]
    pub revision: u64,
    /// Whether single questions can be regenerated (not for imported banks: no document).
    #[serde(default)]
    pub can_regenerate: bool,
}

impl TeacherExam {
    /// The version students get when they start an attempt now.
    pub fn published_version(&self) -> Option<u32> {
        self.versions.last().map(|v| v.version)
    }
}

/// The unpublished state of an exam.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftInfo {
    /// The published version the changes start from; `None` before the first publication.
    pub based_on: Option<u32>,
    pub updated_at: String,
}

/// A stored, graded submission (`submissions/<exam>/<student>/<attempt>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    pub exam_id: ExamId,
    pub student: String,
    pub attempt: u32,
    /// The exam version the attempt was opened on and graded against (1 for records written
    /// before versions existed).
    #[serde(default = "crate::versions::first_version")]
    pub version: u32,
    pub submitted_at: String,
    pub answers: BTreeMap<QuestionId, OptionId>,
    pub report: GradeReport,
}
