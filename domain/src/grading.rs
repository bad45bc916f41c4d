//! Grading: runs on the server only, compares option ids.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bank::{QuestionBank, QuestionKind, SourceRef};
use crate::ids::{OptionId, QuestionId};

/// The percentage at or above which an attempt passes (default 50).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassMark(u8);

impl PassMark {
    pub fn new(percent: u8) -> Option<Self> {
        (percent <= 100).then_some(Self(percent))
    }
    pub fn percent(self) -> u8 {
        self.0
    }
}

impl Default for PassMark {
    fn default() -> Self {
        Self(50)
    }
}

/// One question's outcome, shown to the student after submitting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub question_id: QuestionId,
    pub kind: QuestionKind,
    pub question: String,
    /// `None` when the student left the question unanswered.
    pub chosen: Option<OptionId>,
    pub chosen_text: Option<String>,
    pub correct: OptionId,
    pub correct_text: String,
    pub is_correct: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeReport {
    pub score: u32,
    pub total: u32,
    /// Rounded to one decimal.
    pub percent: f64,
    pub passed: bool,
    pub pass_mark: u8,
    /// Each question's outcome. Empty in a stored [`crate::SubmissionRecord`] (records are
    /// compact: the answers and the score); rebuilt from the answers and the immutable
    /// published version the attempt was graded against when a review needs it
    /// ([`GradeReport::compact`], [`regrade_results`]). Records stored before carry it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<QuestionResult>,
}

impl GradeReport {
    /// The score without the per-question outcomes: what a submission record stores.
    pub fn compact(&self) -> GradeReport {
        GradeReport {
            score: self.score,
            total: self.total,
            percent: self.percent,
            passed: self.passed,
            pass_mark: self.pass_mark,
            results: Vec::new(),
        }
    }
}

/// The per-question outcomes of `answers` on `bank` (the version they were graded against):
/// what a compact record leaves out. The same function as [`grade`] computes, so a review
/// rebuilt later shows exactly what grading saw.
pub fn regrade_results(bank: &QuestionBank, answers: &BTreeMap<QuestionId, OptionId>) -> Vec<QuestionResult> {
    grade(bank, answers, PassMark::default()).results
}

/// Grades `answers` against the bank. Answers to unknown questions, and option ids that do
/// not belong to their question, count as unanswered.
pub fn grade(bank: &QuestionBank, answers: &BTreeMap<QuestionId, OptionId>, pass_mark: PassMark) -> GradeReport {
    let results: Vec<QuestionResult> = bank
        .questions
        .iter()
        .map(|q| {
            let chosen = answers.get(&q.id).filter(|o| q.option_text(o).is_some()).cloned();
            let chosen_text = chosen.as_ref().and_then(|o| q.option_text(o)).map(str::to_owned);
            QuestionResult {
                question_id: q.id.clone(),
                kind: q.kind,
                question: q.question.clone(),
                is_correct: chosen.as_ref() == Some(&q.correct_option),
                chosen,
                chosen_text,
                correct: q.correct_option.clone(),
                correct_text: q.correct_answer.clone(),
                source: q.source.clone(),
                explanation: q.explanation.clone(),
            }
        })
        .collect();
    let total = u32::try_from(results.len()).unwrap_or(u32::MAX);
    let score = u32::try_from(results.iter().filter(|r| r.is_correct).count()).unwrap_or(u32::MAX);
    let percent = if total == 0 { 0.0 } else { (f64::from(score) * 1000.0 / f64::from(total)).round() / 10.0 };
    let passed = total > 0 && u64::from(score) * 100 >= u64::from(pass_mark.percent()) * u64::from(total);
    GradeReport { score, total, percent, passed, pass_mark: pass_mark.percent(), results }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ExamId;

    fn bank() -> QuestionBank {
        let json = br#"[
            {"question": "a?", "options": ["x", "y", "z"], "correct_answer": "y"},
            {"question": "b?", "options": ["True", "False"], "correct_answer": "True"},
            {"question": "c?", "options": ["p", "q"], "correct_answer": "p"}
        ]"#;
        QuestionBank::from_json(json, &ExamId::parse("e").unwrap(), "t").unwrap()
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<QuestionId, OptionId> {
        pairs.iter().map(|(q, o)| (QuestionId::parse(q).unwrap(), OptionId::parse(o).unwrap())).collect()
    }

    #[test]
    fn counts_correct_option_ids() {
        let r = grade(&bank(), &answers(&[("q1", "b"), ("q2", "false"), ("q3", "a")]), PassMark::default());
        assert_eq!((r.score, r.total), (2, 3));
        assert_eq!(r.percent, 66.7);
        assert!(r.passed);
        assert_eq!(r.results[1].chosen_text.as_deref(), Some("False"));
        assert_eq!(r.results[1].correct_text, "True");
        assert!(!r.results[1].is_correct);
    }

    #[test]
    fn a_compact_report_keeps_the_score_and_the_outcomes_are_rebuilt_from_the_answers() {
        let given = answers(&[("q1", "b"), ("q2", "false")]);
        let full = grade(&bank(), &given, PassMark::new(60).unwrap());
        let compact = full.compact();
        assert!(compact.results.is_empty());
        assert_eq!((compact.score, compact.total, compact.passed, compact.pass_mark), (1, 3, false, 60));
        let stored = serde_json::to_string(&compact).unwrap();
        assert!(!stored.contains("results") && !stored.contains("a?"), "{stored}");
        assert_eq!(regrade_results(&bank(), &given), full.results);
    }

    #[test]
    fn unanswered_and_foreign_option_ids_score_nothing() {
        // "true" belongs to q2, not q1; q9 does not exist.
        let r = grade(&bank(), &answers(&[("q1", "true"), ("q9", "a")]), PassMark::default());
        assert_eq!(r.score, 0);
        assert_eq!(r.results[0].chosen, None);
        assert!(!r.passed);
    }

    #[test]
    fn the_pass_mark_is_inclusive_and_configurable() {
        let one_of_two = {
            let mut b = bank();
            b.questions.truncate(2);
            b
        };
        let half = answers(&[("q1", "b")]);
        assert!(grade(&one_of_two, &half, PassMark::new(50).unwrap()).passed);
        assert!(!grade(&one_of_two, &half, PassMark::new(51).unwrap()).passed);
        assert!(PassMark::new(101).is_none());
    }
}
