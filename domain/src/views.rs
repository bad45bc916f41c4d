//! Read models shared by the HTTP API, the server functions and the front end.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bank::Question;
use crate::events::{ExamStatus, Stage};
use crate::grading::GradeReport;
use crate::ids::{ExamId, OptionId, QuestionId};

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
    pub questions: Vec<Question>,
}

/// A stored, graded submission (`submissions/<exam>/<student>/<attempt>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    pub exam_id: ExamId,
    pub student: String,
    pub attempt: u32,
    pub submitted_at: String,
    pub answers: BTreeMap<QuestionId, OptionId>,
    pub report: GradeReport,
}
