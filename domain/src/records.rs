//! The records the platform stores, one type per object kind of [`crate::keys`]. Everything
//! here is written as JSON; fields added later carry serde defaults so older records still load.
//!
//! | record | key | written |
//! |---|---|---|
//! | [`FailureRecord`] | `failures/<exam>.json` | once, by the generator |
//! | [`Publication`] | `publications/<exam>.json` | overwritten at each publication |
//! | [`AttemptState`] | `attempts/<exam>/<student>.json` | created when an attempt opens, overwritten per answer, deleted at submission |
//! | [`SubmissionRecord`] | `submissions/<exam>/<student>/<attempt>.json` | once (`CreateNew`): exactly one per attempt |
//! | [`SettingsRecord`] | `settings/<exam>.json` | overwritten by the teacher (settings, close, release) |
//! | [`OverridesRecord`] | `overrides/<exam>.json` | overwritten by the teacher (accommodations, extensions) |
//! | [`DeletionRecord`] | `deletions/<exam>.json` | when the owner deletes the exam; `done` once everything else is gone |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::grading::GradeReport;
use crate::ids::{ExamId, OptionId, QuestionId, Student};
use crate::sitting::{ExamSettings, StudentOverride};

/// Written to `failures/<exam>.json` when generation fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub exam_id: ExamId,
    pub title: String,
    pub reason: String,
    pub at: String,
}

/// `publications/<exam>.json`: which version students get. Records written before versions
/// existed have no `version` (they mean version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub exam_id: ExamId,
    #[serde(default = "crate::versions::first_version")]
    pub version: u32,
    pub published_at: String,
    #[serde(default)]
    pub question_count: u32,
}

/// An unsubmitted attempt, `attempts/<exam>/<student>.json`. Created when the attempt opens
/// (so its clock starts then, whatever the browser does), overwritten with every answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptState {
    pub exam_id: ExamId,
    pub student: Student,
    /// The number this attempt will have when submitted (1 for a first attempt).
    pub attempt: u32,
    /// The exam version the attempt was opened on; it is graded against this version even if
    /// a newer one is published before it is submitted.
    #[serde(default = "crate::versions::first_version")]
    pub version: u32,
    pub answers: BTreeMap<QuestionId, OptionId>,
    pub started_at: String,
    pub updated_at: String,
    /// The exam's time limit when the attempt opened: an attempt keeps the limit it started
    /// with (accommodations, extensions and the close time still apply at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_secs: Option<u32>,
    /// The grace period when the attempt opened: answers sent up to this long after the
    /// deadline (in flight when time ran out) are still accepted.
    #[serde(default = "crate::sitting::default_grace")]
    pub grace_secs: u32,
    /// The deadline as computed when the attempt opened (informational; the effective deadline
    /// is recomputed from the current window and accommodations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// The order the student sees; empty means the canonical order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub question_order: Vec<QuestionId>,
    /// Option order per question, for questions whose options are shuffled.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub option_order: BTreeMap<QuestionId, Vec<OptionId>>,
    /// Set (by a conditional write) when a submit has begun: from then on no answer is
    /// accepted, so every answer acknowledged before is in what is graded, whichever replica
    /// saved it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sealed: bool,
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
    /// Submitted by the server (time limit or close time reached), not by the student.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_submitted: bool,
}

/// `settings/<exam>.json`: how the exam is sat, and the teacher's sitting actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsRecord {
    pub exam_id: ExamId,
    pub settings: ExamSettings,
    pub updated_at: String,
    /// When the teacher released results (`review.when = "on_release"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
}

/// `overrides/<exam>.json`: per-student accommodations, keyed by [`Student::key`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverridesRecord {
    #[serde(default)]
    pub students: BTreeMap<String, OverrideEntry>,
    #[serde(default)]
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideEntry {
    /// The name as the teacher (or the student) typed it, for display.
    pub student: String,
    #[serde(flatten)]
    pub rules: StudentOverride,
}

impl OverridesRecord {
    pub fn get(&self, student: &Student) -> Option<&StudentOverride> {
        self.students.get(&student.key()).map(|e| &e.rules)
    }
}

/// `deletions/<exam>.json`: the exam was deleted. Written before anything is removed and kept
/// afterwards (it holds no personal data), so a deletion that stopped halfway is finished on
/// the next start and a question bank written late by a generation still running is removed
/// rather than bringing the exam back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionRecord {
    pub exam_id: ExamId,
    /// The teacher id of who deleted it.
    pub by: String,
    pub requested_at: String,
    /// The join code the exam had: its `join/codes/<CODE>.json` is removed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_code: Option<String>,
    /// Every object of the exam is gone.
    #[serde(default)]
    pub done: bool,
}
