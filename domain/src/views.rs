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

/// One page of an exam's results for the teacher's results page: newest first, with the
/// summary over every submission (`load_results`). A class of 300 is 6 pages of 50 rows,
/// not one 2 MB page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsPage {
    pub exam: ExamSummary,
    pub rows: Vec<ResultRow>,
    /// 1-based, within `1..=pages`.
    pub page: u32,
    pub pages: u32,
    pub per_page: u32,
    /// Over all submissions, not only this page.
    pub submissions: u32,
    pub passed: u32,
    pub average_percent: f64,
}

/// One submission as the results table shows it (no answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    pub student: String,
    pub attempt: u32,
    pub version: u32,
    pub submitted_at: String,
    pub score: u32,
    pub total: u32,
    pub percent: f64,
    pub passed: bool,
    pub auto_submitted: bool,
}

impl ResultsPage {
    /// Rows on the results page.
    pub const PER_PAGE: u32 = 50;

    /// Page `page` (1-based, clamped into range) of `subs` (oldest first, as stored), newest first.
    pub fn of(exam: ExamSummary, subs: &[SubmissionRecord], page: u32) -> ResultsPage {
        let n = u32::try_from(subs.len()).unwrap_or(u32::MAX);
        let per_page = Self::PER_PAGE;
        let pages = n.div_ceil(per_page).max(1);
        let page = page.clamp(1, pages);
        let passed = u32::try_from(subs.iter().filter(|s| s.report.passed).count()).unwrap_or(u32::MAX);
        let average_percent = if subs.is_empty() {
            0.0
        } else {
            (subs.iter().map(|s| s.report.percent).sum::<f64>() / subs.len() as f64 * 10.0).round() / 10.0
        };
        let skip = ((page - 1) * per_page) as usize;
        let rows = subs
            .iter()
            .rev()
            .skip(skip)
            .take(per_page as usize)
            .map(|s| ResultRow {
                student: s.student.clone(),
                attempt: s.attempt,
                version: s.version,
                submitted_at: s.submitted_at.clone(),
                score: s.report.score,
                total: s.report.total,
                percent: s.report.percent,
                passed: s.report.passed,
                auto_submitted: s.auto_submitted,
            })
            .collect();
        ResultsPage { exam, rows, page, pages, per_page, submissions: n, passed, average_percent }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grading::GradeReport;

    fn sub(i: u32, percent: f64) -> SubmissionRecord {
        let passed = percent >= 50.0;
        SubmissionRecord {
            exam_id: ExamId::parse("e").unwrap(),
            student: format!("s{i}"),
            attempt: 1,
            version: 1,
            submitted_at: format!("t{i}"),
            answers: Default::default(),
            report: GradeReport { score: 0, total: 2, percent, passed, pass_mark: 50, results: Vec::new() },
            auto_submitted: false,
        }
    }

    fn exam() -> ExamSummary {
        serde_json::from_value(serde_json::json!({"id": "e", "title": "T", "status": "published", "stage": "ready", "created_at": "t"}))
            .unwrap()
    }

    #[test]
    fn a_results_page_is_newest_first_with_the_summary_over_every_submission() {
        let subs: Vec<_> = (1..=120).map(|i| sub(i, if i % 4 == 0 { 100.0 } else { 0.0 })).collect();
        let first = ResultsPage::of(exam(), &subs, 1);
        assert_eq!((first.page, first.pages, first.submissions, first.passed), (1, 3, 120, 30));
        assert_eq!(first.average_percent, 25.0);
        assert_eq!(first.rows.len(), 50);
        assert_eq!(first.rows[0].student, "s120", "newest first");
        let last = ResultsPage::of(exam(), &subs, 3);
        assert_eq!((last.rows.len(), last.rows[19].student.as_str()), (20, "s1"));
        assert_eq!(ResultsPage::of(exam(), &subs, 99).page, 3, "a page past the end is the last one");
        assert_eq!(ResultsPage::of(exam(), &subs, 0).page, 1);
        let none = ResultsPage::of(exam(), &[], 4);
        assert_eq!((none.page, none.pages, none.rows.len(), none.average_percent), (1, 1, 0, 0.0));
    }
}
