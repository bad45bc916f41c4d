//! Review and versioning: the teacher's working copy ([`Draft`]) and the frozen versions
//! students take ([`PublishedVersion`]).
//!
//! The rules (the gateway's `Platform` enforces the storage side, these types the rest):
//!
//! * A generated (or imported) bank is the first draft. Nothing a student sees changes until the
//!   teacher publishes.
//! * Publishing freezes the draft as version `n + 1` (`versions/<exam>/<n+1>.json`, written once,
//!   never changed). Version numbers start at 1 and are consecutive. Students always get the
//!   highest published version when they *start* an attempt.
//! * Editing a published exam starts a new draft from the latest version; the published version
//!   stays what students take until the draft is published.
//! * An attempt is bound to the version that was current when it was opened: its answers are
//!   checked and graded against that version even if a newer one is published meanwhile, and the
//!   submission records the version. A submission's review (its stored report) therefore always
//!   shows the questions the student saw.
//! * Question ids are never reused within an exam: a regenerated question gets a fresh id, so an
//!   answer stored for an old question can never be graded against a different one.
//! * Editing a question clears the validator's flags and the generator's confidence on it: the
//!   teacher has looked at it (the rationale, why the sentence was chosen, stays true).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::bank::{AnswerOption, Question, QuestionBank, QuestionKind};
use crate::ids::{ExamId, OptionId, QuestionId};

/// Serde default for records written before versions existed: they belong to version 1.
pub fn first_version() -> u32 {
    1
}

/// Most questions an exam may have (imports and edits).
pub const MAX_QUESTIONS: usize = 200;
/// Longest question or option text, in characters.
pub const MAX_TEXT: usize = 2000;

/// The teacher's unpublished changes: `drafts/<exam>.json`, overwritten on every edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub exam_id: ExamId,
    /// The published version this draft was started from; `None` before the first publication.
    pub based_on: Option<u32>,
    /// Bumped by every edit. A client that sends the revision it edited gets a conflict instead
    /// of silently overwriting a change made in another tab.
    pub revision: u64,
    pub updated_at: String,
    /// The next fresh question number (`q<n>`); carried across versions so ids are never reused.
    pub next_question: u32,
    pub bank: QuestionBank,
}

/// A frozen version: `versions/<exam>/<version>.json`, written once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedVersion {
    pub exam_id: ExamId,
    pub version: u32,
    pub published_at: String,
    pub next_question: u32,
    pub bank: QuestionBank,
}

/// One line of an exam's version history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: u32,
    pub published_at: String,
    pub question_count: u32,
}

impl From<&PublishedVersion> for VersionInfo {
    fn from(v: &PublishedVersion) -> Self {
        VersionInfo {
            version: v.version,
            published_at: v.published_at.clone(),
            question_count: u32::try_from(v.bank.questions.len()).unwrap_or(u32::MAX),
        }
    }
}

/// What the teacher submits for one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionEdit {
    pub question: String,
    /// Option texts in display order. Blank entries are dropped (an edit form has empty slots).
    /// Ignored for true/false questions, whose options are always "True" and "False".
    #[serde(default)]
    pub options: Vec<String>,
    /// Index into `options` as submitted (blank slots included) of the correct answer.
    pub correct: usize,
    #[serde(default)]
    pub explanation: Option<String>,
}

/// Why an edit was refused, in words a teacher can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("there is no question {0} in this exam")]
    NoSuchQuestion(QuestionId),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("an exam needs at least one question; add or regenerate one before deleting the last")]
    LastQuestion,
}

fn invalid(field: &'static str, message: impl Into<String>) -> EditError {
    EditError::Invalid { field, message: message.into() }
}

/// `q17` → 17.
fn number_of(id: &QuestionId) -> Option<u32> {
    id.as_str().strip_prefix('q')?.parse().ok()
}

/// The first question number not used by `questions`.
pub fn next_question_number<'a>(questions: impl IntoIterator<Item = &'a Question>) -> u32 {
    questions.into_iter().filter_map(|q| number_of(&q.id)).max().unwrap_or(0).saturating_add(1)
}

const LETTERS: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];

impl Draft {
    /// The first draft: a freshly generated or imported bank.
    pub fn first(bank: QuestionBank, at: String) -> Self {
        let next_question = next_question_number(&bank.questions);
        Draft { exam_id: bank.exam_id.clone(), based_on: None, revision: 0, updated_at: at, next_question, bank }
    }

    /// A new draft that starts from a published version.
    pub fn from_version(v: &PublishedVersion, at: String) -> Self {
        Draft {
            exam_id: v.exam_id.clone(),
            based_on: Some(v.version),
            revision: 0,
            updated_at: at,
            next_question: v.next_question.max(next_question_number(&v.bank.questions)),
            bank: v.bank.clone(),
        }
    }

    /// Freezes the draft as `version`.
    pub fn freeze(&self, version: u32, at: String) -> PublishedVersion {
        PublishedVersion {
            exam_id: self.exam_id.clone(),
            version,
            published_at: at,
            next_question: self.next_question,
            bank: self.bank.clone(),
        }
    }

    fn index_of(&self, id: &QuestionId) -> Result<usize, EditError> {
        self.bank.questions.iter().position(|q| &q.id == id).ok_or_else(|| EditError::NoSuchQuestion(id.clone()))
    }

    fn touched(&mut self, at: String) {
        self.revision += 1;
        self.updated_at = at;
    }

    /// Replaces a question's text, options and correct answer. Existing options keep their ids
    /// (by position); added options get unused letters. Clears the question's flags and confidence.
    pub fn edit_question(&mut self, id: &QuestionId, edit: QuestionEdit, at: String) -> Result<(), EditError> {
        let i = self.index_of(id)?;
        let q = &self.bank.questions[i];
        let text = edit.question.trim();
        if text.is_empty() {
            return Err(invalid("question", "the question text must not be empty"));
        }
        if text.chars().count() > MAX_TEXT {
            return Err(invalid("question", format!("must be at most {MAX_TEXT} characters")));
        }
        let (options, correct) = match q.kind {
            QuestionKind::TrueFalse => {
                if edit.correct > 1 {
                    return Err(invalid("correct", "choose True or False"));
                }
                (q.options.clone(), edit.correct)
            }
            QuestionKind::MultipleChoice => {
                // Map the submitted slots (blanks included) to the kept options.
                let mut kept: Vec<(usize, String)> = Vec::new();
                for (slot, t) in edit.options.iter().enumerate() {
                    let t = t.trim();
                    if t.is_empty() {
                        continue;
                    }
                    if t.chars().count() > MAX_TEXT {
                        return Err(invalid("options", format!("option {} must be at most {MAX_TEXT} characters", kept.len() + 1)));
                    }
                    kept.push((slot, t.to_owned()));
                }
                if !(2..=7).contains(&kept.len()) {
                    return Err(invalid("options", format!("a multiple-choice question needs 2 to 7 options, not {}", kept.len())));
                }
                let mut seen = HashSet::new();
                for (_, t) in &kept {
                    if !seen.insert(t.to_lowercase()) {
                        return Err(invalid("options", format!("the option “{t}” appears twice")));
                    }
                }
                let correct = kept
                    .iter()
                    .position(|(slot, _)| *slot == edit.correct)
                    .ok_or_else(|| invalid("correct", "mark one of the filled-in options as the correct answer"))?;
                // Keep ids by position; fresh letters for the rest.
                let mut used: HashSet<OptionId> = HashSet::new();
                let mut options = Vec::with_capacity(kept.len());
                for (pos, (_, text)) in kept.into_iter().enumerate() {
                    let id = match q.options.get(pos) {
                        Some(o) if !used.contains(&o.id) => o.id.clone(),
                        _ => LETTERS
                            .iter()
                            .filter_map(|l| OptionId::parse(l).ok())
                            .find(|l| !used.contains(l) && !q.options.iter().skip(pos).any(|o| &o.id == l))
                            .ok_or_else(|| invalid("options", "too many options"))?,
                    };
                    used.insert(id.clone());
                    options.push(AnswerOption { id, text });
                }
                (options, correct)
            }
        };
        let q = &mut self.bank.questions[i];
        q.question = text.to_owned();
        q.correct_option = options[correct].id.clone();
        q.correct_answer = options[correct].text.clone();
        q.options = options;
        q.explanation = edit.explanation.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
        q.flags.clear();
        q.confidence = None;
        self.touched(at);
        Ok(())
    }

    pub fn delete_question(&mut self, id: &QuestionId, at: String) -> Result<(), EditError> {
        let i = self.index_of(id)?;
        if self.bank.questions.len() == 1 {
            return Err(EditError::LastQuestion);
        }
        self.bank.questions.remove(i);
        self.touched(at);
        Ok(())
    }

    /// Moves a question to `to` (0-based; past the end means last).
    pub fn move_question(&mut self, id: &QuestionId, to: usize, at: String) -> Result<(), EditError> {
        let i = self.index_of(id)?;
        let q = self.bank.questions.remove(i);
        let to = to.min(self.bank.questions.len());
        self.bank.questions.insert(to, q);
        self.touched(at);
        Ok(())
    }

    /// Puts the questions in `order`, which must name every question exactly once.
    pub fn reorder(&mut self, order: &[QuestionId], at: String) -> Result<(), EditError> {
        let mut seen = HashSet::new();
        if order.len() != self.bank.questions.len() || !order.iter().all(|id| seen.insert(id.clone())) {
            return Err(invalid("order", "list every question of the exam exactly once"));
        }
        let mut reordered = Vec::with_capacity(order.len());
        for id in order {
            reordered.push(self.bank.questions[self.index_of(id)?].clone());
        }
        self.bank.questions = reordered;
        self.touched(at);
        Ok(())
    }

    /// A question id never used in this exam before.
    pub fn fresh_question_id(&mut self) -> QuestionId {
        loop {
            let n = self.next_question;
            self.next_question = self.next_question.saturating_add(1);
            if let Ok(id) = QuestionId::parse(&format!("q{n}"))
                && self.bank.question(&id).is_none()
            {
                return id;
            }
        }
    }

    /// Puts a regenerated question in place of `id`, under a fresh id.
    pub fn replace_question(&mut self, id: &QuestionId, mut with: Question, at: String) -> Result<QuestionId, EditError> {
        let i = self.index_of(id)?;
        with.id = self.fresh_question_id();
        let new_id = with.id.clone();
        self.bank.questions[i] = with;
        self.touched(at);
        Ok(new_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank() -> QuestionBank {
        let json = br#"[
            {"question": "Capital of France?", "options": ["Paris", "Rome", "Oslo"], "correct_answer": "Paris",
             "flags": ["answer may be ambiguous"], "confidence": 0.3},
            {"question": "The sky is green.", "options": ["True", "False"], "correct_answer": "False"},
            {"question": "2 + 2?", "options": ["3", "4"], "correct_answer": "4"}
        ]"#;
        QuestionBank::from_json(json, &ExamId::parse("e1").unwrap(), "t").unwrap()
    }

    fn qid(s: &str) -> QuestionId {
        QuestionId::parse(s).unwrap()
    }

    fn ids(d: &Draft) -> Vec<&str> {
        d.bank.questions.iter().map(|q| q.id.as_str()).collect()
    }

    fn edit(question: &str, options: &[&str], correct: usize) -> QuestionEdit {
        QuestionEdit { question: question.into(), options: options.iter().map(|s| s.to_string()).collect(), correct, explanation: None }
    }

    #[test]
    fn editing_keeps_option_ids_by_position_adds_fresh_letters_and_clears_flags() {
        let mut d = Draft::first(bank(), "t0".into());
        assert_eq!(d.bank.questions[0].confidence, Some(0.3));
        // Slot 1 left blank (an empty form field), two options added.
        d.edit_question(&qid("q1"), edit(" Capital of Italy? ", &["Paris", "", "Rome", "Berlin", "Madrid"], 2), "t1".into()).unwrap();
        let q = &d.bank.questions[0];
        assert_eq!(q.question, "Capital of Italy?");
        let opts: Vec<(&str, &str)> = q.options.iter().map(|o| (o.id.as_str(), o.text.as_str())).collect();
        assert_eq!(opts, [("a", "Paris"), ("b", "Rome"), ("c", "Berlin"), ("d", "Madrid")]);
        assert_eq!((q.correct_option.as_str(), q.correct_answer.as_str()), ("b", "Rome"));
        assert!(q.flags.is_empty());
        assert_eq!(q.confidence, None);
        assert_eq!((d.revision, d.updated_at.as_str()), (1, "t1"));
    }

    #[test]
    fn edits_that_would_make_a_bad_question_are_refused_and_change_nothing() {
        let mut d = Draft::first(bank(), "t0".into());
        let before = d.clone();
        let cases = [
            (edit("  ", &["a", "b"], 0), "question"),
            (edit("x?", &["only one", "", " "], 0), "options"),
            (edit("x?", &["Same", "same"], 0), "options"),
            (edit("x?", &["a", "", "c"], 1), "correct"),
            (edit("x?", &["1", "2", "3", "4", "5", "6", "7", "8"], 0), "options"),
        ];
        for (e, field) in cases {
            match d.edit_question(&qid("q1"), e.clone(), "t1".into()) {
                Err(EditError::Invalid { field: f, .. }) => assert_eq!(f, field, "{e:?}"),
                other => panic!("{e:?} gave {other:?}"),
            }
        }
        assert_eq!(d, before);
        assert_eq!(d.edit_question(&qid("q9"), edit("x", &["a", "b"], 0), "t".into()), Err(EditError::NoSuchQuestion(qid("q9"))));
    }

    #[test]
    fn true_false_questions_keep_their_options_and_only_flip_the_answer() {
        let mut d = Draft::first(bank(), "t0".into());
        d.edit_question(&qid("q2"), edit("The sky is blue.", &["ignored", "x", "y"], 0), "t1".into()).unwrap();
        let q = &d.bank.questions[1];
        assert_eq!(q.options.iter().map(|o| o.text.as_str()).collect::<Vec<_>>(), ["True", "False"]);
        assert_eq!(q.correct_option.as_str(), "true");
        assert!(d.edit_question(&qid("q2"), edit("x", &[], 2), "t2".into()).is_err());
    }

    #[test]
    fn delete_move_and_reorder() {
        let mut d = Draft::first(bank(), "t0".into());
        d.move_question(&qid("q3"), 0, "t1".into()).unwrap();
        assert_eq!(ids(&d), ["q3", "q1", "q2"]);
        d.move_question(&qid("q3"), 99, "t2".into()).unwrap();
        assert_eq!(ids(&d), ["q1", "q2", "q3"]);
        d.reorder(&[qid("q2"), qid("q3"), qid("q1")], "t3".into()).unwrap();
        assert_eq!(ids(&d), ["q2", "q3", "q1"]);
        assert!(d.reorder(&[qid("q2"), qid("q2"), qid("q1")], "t".into()).is_err());
        assert!(d.reorder(&[qid("q2"), qid("q3")], "t".into()).is_err());
        d.delete_question(&qid("q3"), "t4".into()).unwrap();
        d.delete_question(&qid("q1"), "t5".into()).unwrap();
        assert_eq!(d.delete_question(&qid("q2"), "t6".into()), Err(EditError::LastQuestion));
        assert_eq!(ids(&d), ["q2"]);
        assert_eq!(d.revision, 5);
    }

    #[test]
    fn question_ids_are_never_reused_across_versions() {
        let mut d = Draft::first(bank(), "t0".into());
        d.delete_question(&qid("q3"), "t1".into()).unwrap();
        let v1 = d.freeze(1, "p1".into());
        assert_eq!(v1.version, 1);
        // A new draft from v1 must not hand out q3 again although v1 no longer contains it.
        let mut d2 = Draft::from_version(&v1, "t2".into());
        assert_eq!(d2.based_on, Some(1));
        assert_eq!(d2.revision, 0);
        let replacement = d2.bank.questions[0].clone();
        let new_id = d2.replace_question(&qid("q1"), replacement, "t3".into()).unwrap();
        assert_eq!(new_id.as_str(), "q4");
        assert_eq!(ids(&d2), ["q4", "q2"]);
        // The frozen version is untouched by edits to the new draft.
        assert_eq!(v1.bank.questions.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), ["q1", "q2"]);
    }
}
