//! Read models shared by the HTTP API, the server functions and the front end.

use serde::{Deserialize, Serialize};

use crate::bank::Question;
use crate::events::{ExamStatus, Stage};
use crate::ids::ExamId;
use crate::sitting::{ExamSettings, StudentReport, WindowState};
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
    /// The code students join with (teacher views only: never in a student-facing response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_code: Option<String>,
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
    /// The code students join with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_code: Option<String>,
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

pub use crate::records::SubmissionRecord;

/// A student's standing in one exam: the window, attempts, the attempt in progress and what
/// the review policy lets them see of their submissions (`GET /api/v1/exams/{id}/status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentStatus {
    pub exam_id: ExamId,
    pub title: String,
    /// The version a new attempt would open on.
    pub version: u32,
    pub question_count: u32,
    pub window: WindowState,
    /// The time limit of a new attempt for this student (accommodations included), seconds.
    pub time_limit_secs: Option<u32>,
    /// `None`: unlimited.
    pub attempts_allowed: Option<u32>,
    pub attempts_used: u32,
    pub attempts_left: Option<u32>,
    /// Whether a new attempt can be started now (window open, attempts left, none running).
    pub can_start: bool,
    pub in_progress: Option<InProgress>,
    /// One per submitted attempt, oldest first, as the review policy allows now.
    pub results: Vec<StudentReport>,
    /// The attempt whose grade counts (grade policy), once results are visible.
    pub kept_attempt: Option<u32>,
    pub server_time: String,
}

/// An attempt that has been opened and not yet submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InProgress {
    pub student: String,
    pub attempt: u32,
    pub version: u32,
    pub started_at: String,
    pub deadline: Option<String>,
    /// Seconds until the deadline (negative: in the grace period); `None` without a deadline.
    pub seconds_left: Option<i64>,
    pub answered: u32,
}

/// The teacher's live view of a sitting (`GET /api/v1/exams/{id}/sitting`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SittingView {
    pub exam_id: ExamId,
    pub title: String,
    pub settings: ExamSettings,
    /// The window for students without accommodations.
    pub window: WindowState,
    pub released_at: Option<String>,
    pub results_visible: bool,
    pub in_progress: Vec<InProgress>,
    /// Students with at least one submission, and submissions in all.
    pub students_submitted: u32,
    pub submissions: u32,
    pub question_count: u32,
    pub server_time: String,
}
