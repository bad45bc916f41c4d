//! Question banks: what the generator writes and the gateway grades against.
//!
//! Field names follow the seed system (`question`, `options`, `correct_answer`) so banks it
//! produced still load; we add stable ids, the question kind, the source page and quote and an
//! optional explanation. Loading is tolerant (seed banks have no ids, options as plain strings,
//! the answer as text or a letter); what comes out of [`QuestionBank::from_json`] is strict:
//! every question has 2..=7 distinct options and exactly one correct option id.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::ids::{ExamId, OptionId, QuestionId};
use crate::params::GenerationParams;

/// The only version of our own format so far.
pub const BANK_FORMAT: &str = "exam-bank/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    MultipleChoice,
    TrueFalse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerOption {
    pub id: OptionId,
    pub text: String,
}

/// Where in the document a question comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// 1-based page number.
    pub page: u32,
    /// The sentence the question was built from, as it appears in the document text.
    pub quote: String,
}

/// A question with its answer key. Never sent to a student before they submit.
///
/// `Eq` is implemented by hand because of [`Question::confidence`]: a confidence is a finite
/// number in 0..=1 (JSON cannot carry NaN, and generators clamp), so equality is reflexive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub kind: QuestionKind,
    pub question: String,
    pub options: Vec<AnswerOption>,
    /// Text of the correct option (the seed's field, kept for readers of the JSON).
    pub correct_answer: String,
    /// Id of the correct option: what grading compares.
    pub correct_option: OptionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Why the validator is unsure about this question (empty when it passed every check).
    /// Shown to the teacher next to the question; never sent to students.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// How sure the generator is that the question is usable as it is, 0 (weak) to 1. `None`
    /// for questions written or edited by hand and for banks from elsewhere. Teacher-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// Why the generator chose this sentence and term, in words a teacher can read.
    /// Teacher-only, like the flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

impl Eq for Question {}

impl Question {
    pub fn option_text(&self, id: &OptionId) -> Option<&str> {
        self.options.iter().find(|o| &o.id == id).map(|o| o.text.as_str())
    }
}

/// The generator's output for one uploaded document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionBank {
    pub format: String,
    pub exam_id: ExamId,
    pub title: String,
    /// Object key of the document the bank was generated from.
    #[serde(default)]
    pub source_key: String,
    /// Which generator made it (`builtin/1`, or `seed` for imported banks).
    #[serde(default)]
    pub generator: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<GenerationParams>,
    /// Things the teacher should know, e.g. "the document supports only 3 of 5 questions".
    #[serde(default)]
    pub notes: Vec<String>,
    pub questions: Vec<Question>,
}

/// Why a bank could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("no questions found")]
    Empty,
    #[error("question {index}: {message}")]
    Question { index: usize, message: String },
}

/// A student's view of one question: no answer key, no source quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperQuestion {
    pub id: QuestionId,
    pub kind: QuestionKind,
    pub question: String,
    pub options: Vec<AnswerOption>,
}

/// What a student may see of a published exam before submitting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamPaper {
    pub exam_id: ExamId,
    /// The published version this paper shows (see [`crate::versions`]).
    #[serde(default = "crate::versions::first_version")]
    pub version: u32,
    pub title: String,
    pub questions: Vec<PaperQuestion>,
}

impl QuestionBank {
    /// The key-free paper; the only projection of a bank that goes to students.
    pub fn paper(&self, version: u32) -> ExamPaper {
        ExamPaper {
            exam_id: self.exam_id.clone(),
            version,
            title: self.title.clone(),
            questions: self
                .questions
                .iter()
                .map(|q| PaperQuestion { id: q.id.clone(), kind: q.kind, question: q.question.clone(), options: q.options.clone() })
                .collect(),
        }
    }

    pub fn question(&self, id: &QuestionId) -> Option<&Question> {
        self.questions.iter().find(|q| &q.id == id)
    }

    /// Loads our format or the seed's (a list of `{question, options, correct_answer}`,
    /// bare or under any top-level keys such as `questions`, `mcq`, `tfq`).
    /// `exam_id` and `title` fill in what a seed bank does not carry.
    pub fn from_json(bytes: &[u8], exam_id: &ExamId, title: &str) -> Result<Self, BankError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| BankError::Json(e.to_string()))?;
        let mut bank = RawBank::from_value(value)?;
        if bank.questions.is_empty() {
            return Err(BankError::Empty);
        }
        let mut seen_ids = HashSet::new();
        let mut questions = Vec::with_capacity(bank.questions.len());
        for (index, raw) in bank.questions.drain(..).enumerate() {
            let q = raw.normalise(index).map_err(|message| BankError::Question { index: index + 1, message })?;
            if !seen_ids.insert(q.id.clone()) {
                return Err(BankError::Question { index: index + 1, message: format!("duplicate question id {}", q.id) });
            }
            questions.push(q);
        }
        Ok(QuestionBank {
            format: BANK_FORMAT.to_owned(),
            exam_id: bank.exam_id.unwrap_or_else(|| exam_id.clone()),
            title: bank.title.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| title.to_owned()),
            source_key: bank.source_key.unwrap_or_default(),
            generator: bank.generator.unwrap_or_else(|| "seed".to_owned()),
            created_at: bank.created_at.unwrap_or_default(),
            requested: bank.requested,
            notes: bank.notes,
            questions,
        })
    }
}

struct RawBank {
    exam_id: Option<ExamId>,
    title: Option<String>,
    source_key: Option<String>,
    generator: Option<String>,
    created_at: Option<String>,
    requested: Option<GenerationParams>,
    notes: Vec<String>,
    questions: Vec<RawQuestion>,
}

impl RawBank {
    fn from_value(value: serde_json::Value) -> Result<Self, BankError> {
        use serde_json::Value;
        let json_err = |e: serde_json::Error| BankError::Json(e.to_string());
        let mut out = RawBank {
            exam_id: None,
            title: None,
            source_key: None,
            generator: None,
            created_at: None,
            requested: None,
            notes: Vec::new(),
            questions: Vec::new(),
        };
        match value {
            Value::Array(items) => {
                for item in items {
                    out.questions.push(serde_json::from_value(item).map_err(json_err)?);
                }
            }
            Value::Object(mut map) => {
                let take_str = |map: &mut serde_json::Map<String, Value>, k: &str| match map.remove(k) {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                out.exam_id = take_str(&mut map, "exam_id").and_then(|s| ExamId::parse(&s).ok());
                out.title = take_str(&mut map, "title");
                out.source_key = take_str(&mut map, "source_key");
                out.generator = take_str(&mut map, "generator");
                out.created_at = take_str(&mut map, "created_at");
                out.requested = map.remove("requested").and_then(|v| serde_json::from_value(v).ok());
                if let Some(notes) = map.remove("notes") {
                    out.notes = serde_json::from_value(notes).unwrap_or_default();
                }
                // `questions` first, then any other array of question-shaped objects, in key order
                // (serde_json's map is sorted), so seed banks split into `mcq`/`tfq` load too.
                let mut arrays: Vec<Value> = map.remove("questions").into_iter().collect();
                arrays.extend(
                    map.into_iter()
                        .map(|(_, v)| v)
                        .filter(|v| v.as_array().is_some_and(|a| a.first().is_some_and(|f| f.get("question").is_some()))),
                );
                for arr in arrays {
                    let Value::Array(items) = arr else { continue };
                    for item in items {
                        out.questions.push(serde_json::from_value(item).map_err(json_err)?);
                    }
                }
            }
            _ => return Err(BankError::Json("expected a JSON object or array".into())),
        }
        Ok(out)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawOption {
    Text(String),
    Full { id: Option<String>, text: String },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAnswer {
    Text(String),
    Index(u64),
    Bool(bool),
}

#[derive(Deserialize)]
struct RawQuestion {
    id: Option<String>,
    kind: Option<QuestionKind>,
    question: String,
    options: Vec<RawOption>,
    correct_answer: Option<RawAnswer>,
    correct_option: Option<String>,
    source: Option<SourceRef>,
    explanation: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    confidence: Option<f32>,
    #[serde(default)]
    rationale: Option<String>,
}

const LETTERS: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];

fn is_true_false(texts: &[String]) -> bool {
    texts.len() == 2 && texts[0].eq_ignore_ascii_case("true") && texts[1].eq_ignore_ascii_case("false")
}

impl RawQuestion {
    fn normalise(self, index: usize) -> Result<Question, String> {
        let question = self.question.trim().to_owned();
        if question.is_empty() {
            return Err("empty question text".into());
        }
        let n = self.options.len();
        if !(2..=7).contains(&n) {
            return Err(format!("needs 2 to 7 options, has {n}"));
        }
        let texts: Vec<String> = self
            .options
            .iter()
            .map(|o| match o {
                RawOption::Text(t) | RawOption::Full { text: t, .. } => strip_letter_prefix(t.trim()).to_owned(),
            })
            .collect();
        let kind = self.kind.unwrap_or(if is_true_false(&texts) { QuestionKind::TrueFalse } else { QuestionKind::MultipleChoice });
        let mut options = Vec::with_capacity(n);
        let mut seen = HashSet::new();
        for (i, (raw, text)) in self.options.into_iter().zip(texts).enumerate() {
            if text.is_empty() {
                return Err(format!("option {} is empty", i + 1));
            }
            if !seen.insert(text.to_lowercase()) {
                return Err(format!("option {text:?} appears twice"));
            }
            let id = match (raw, kind) {
                (RawOption::Full { id: Some(id), .. }, _) => id,
                (_, QuestionKind::TrueFalse) => text.to_lowercase(),
                _ => LETTERS[i].to_owned(),
            };
            let id = OptionId::parse(&id).map_err(|e| e.to_string())?;
            options.push(AnswerOption { id, text });
        }
        if kind == QuestionKind::TrueFalse && !is_true_false(&options.iter().map(|o| o.text.clone()).collect::<Vec<_>>()) {
            return Err("a true/false question has exactly the options \"True\" and \"False\"".into());
        }
        let by_id = self.correct_option.and_then(|c| options.iter().position(|o| o.id.as_str() == c));
        let by_answer = self.correct_answer.and_then(|a| match a {
            RawAnswer::Text(t) => {
                let t = t.trim();
                options
                    .iter()
                    .position(|o| o.text.eq_ignore_ascii_case(t) || o.text.eq_ignore_ascii_case(strip_letter_prefix(t)))
                    .or_else(|| letter_index(t).filter(|&i| i < options.len()))
            }
            RawAnswer::Index(i) => usize::try_from(i).ok().filter(|&i| i < options.len()),
            RawAnswer::Bool(b) => options.iter().position(|o| o.text.eq_ignore_ascii_case(if b { "true" } else { "false" })),
        });
        let correct = by_id.or(by_answer).ok_or("the correct answer does not match any option")?;
        let id = match self.id {
            Some(id) => QuestionId::parse(&id).map_err(|e| e.to_string())?,
            None => QuestionId::parse(&format!("q{}", index + 1)).map_err(|e| e.to_string())?,
        };
        Ok(Question {
            id,
            kind,
            question,
            correct_answer: options[correct].text.clone(),
            correct_option: options[correct].id.clone(),
            options,
            source: self.source,
            explanation: self.explanation.filter(|e| !e.trim().is_empty()),
            flags: self.flags,
            confidence: self.confidence.filter(|c| c.is_finite()).map(|c| c.clamp(0.0, 1.0)),
            rationale: self.rationale.filter(|r| !r.trim().is_empty()),
        })
    }
}

/// `"B"`, `"b)"`, `"B."` → 1.
fn letter_index(t: &str) -> Option<usize> {
    let t = t.trim_end_matches([')', '.', ':']).trim();
    let mut chars = t.chars();
    let c = chars.next()?.to_ascii_lowercase();
    if chars.next().is_some() {
        return None;
    }
    LETTERS.iter().position(|l| l.starts_with(c))
}

/// `"A) Paris"` / `"a. Paris"` → `"Paris"`; anything else unchanged.
fn strip_letter_prefix(t: &str) -> &str {
    let b = t.as_bytes();
    if b.len() > 3 && b[0].is_ascii_alphabetic() && matches!(b[1], b')' | b'.') && b[2] == b' ' && letter_index(&t[..1]).is_some() {
        t[3..].trim_start()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ExamId {
        ExamId::parse("e1").unwrap()
    }

    #[test]
    fn loads_the_seed_format_with_text_answers() {
        let seed = br#"[
            {"question": "Capital of France?", "options": ["Berlin", "Paris", "Rome", "Madrid"], "correct_answer": "Paris"},
            {"question": "The sky is green.", "options": ["True", "False"], "correct_answer": "False"}
        ]"#;
        let bank = QuestionBank::from_json(seed, &id(), "Geo").unwrap();
        assert_eq!(bank.title, "Geo");
        assert_eq!(bank.generator, "seed");
        let q1 = &bank.questions[0];
        assert_eq!((q1.id.as_str(), q1.kind), ("q1", QuestionKind::MultipleChoice));
        assert_eq!(q1.correct_option.as_str(), "b");
        assert_eq!(q1.correct_answer, "Paris");
        let q2 = &bank.questions[1];
        assert_eq!(q2.kind, QuestionKind::TrueFalse);
        assert_eq!(q2.correct_option.as_str(), "false");
    }

    #[test]
    fn loads_seed_banks_split_by_kind_and_letter_answers() {
        let seed = br#"{"mcq": [{"question": "2+2?", "options": ["A) 3", "B) 4"], "correct_answer": "B"}],
                        "tfq": [{"question": "Water is wet.", "options": ["True", "False"], "correct_answer": "True"}]}"#;
        let bank = QuestionBank::from_json(seed, &id(), "t").unwrap();
        assert_eq!(bank.questions.len(), 2);
        assert_eq!(bank.questions[0].options[1].text, "4");
        assert_eq!(bank.questions[0].correct_option.as_str(), "b");
        assert_eq!(bank.questions[1].correct_option.as_str(), "true");
        // Ids are positional across the whole bank, so they stay unique.
        assert_eq!(bank.questions[1].id.as_str(), "q2");
    }

    #[test]
    fn our_own_format_round_trips() {
        let seed = br#"[{"question": "2+2?", "options": ["3", "4"], "correct_answer": "4", "source": {"page": 2, "quote": "2+2 is 4."}}]"#;
        let bank = QuestionBank::from_json(seed, &id(), "t").unwrap();
        let json = serde_json::to_vec(&bank).unwrap();
        assert_eq!(QuestionBank::from_json(&json, &id(), "other").unwrap(), bank);
    }

    #[test]
    fn confidence_and_rationale_are_optional_and_round_trip() {
        let old = br#"[{"question": "2+2?", "options": ["3", "4"], "correct_answer": "4"}]"#;
        let bank = QuestionBank::from_json(old, &id(), "t").unwrap();
        assert_eq!((bank.questions[0].confidence, bank.questions[0].rationale.as_deref()), (None, None));
        let json = serde_json::to_string(&bank).unwrap();
        assert!(!json.contains("confidence") && !json.contains("rationale"), "{json}");

        let new = br#"[{"question": "2+2?", "options": ["3", "4"], "correct_answer": "4", "confidence": 1.7, "rationale": "a sum"}]"#;
        let bank = QuestionBank::from_json(new, &id(), "t").unwrap();
        assert_eq!(bank.questions[0].confidence, Some(1.0), "clamped to 0..=1");
        assert_eq!(bank.questions[0].rationale.as_deref(), Some("a sum"));
        let json = serde_json::to_vec(&bank).unwrap();
        assert_eq!(QuestionBank::from_json(&json, &id(), "t").unwrap(), bank);
    }

    #[test]
    fn refuses_ambiguous_or_broken_questions() {
        let cases: [(&[u8], &str); 5] = [
            (br#"[{"question": "x", "options": ["a"], "correct_answer": "a"}]"#, "2 to 7"),
            (br#"[{"question": "x", "options": ["a", "A"], "correct_answer": "a"}]"#, "twice"),
            (br#"[{"question": "x", "options": ["a", "b"], "correct_answer": "z"}]"#, "does not match"),
            (br#"[{"question": " ", "options": ["a", "b"], "correct_answer": "a"}]"#, "empty"),
            (br#"[{"question": "x", "kind": "true_false", "options": ["Yes", "No"], "correct_answer": "Yes"}]"#, "True"),
        ];
        for (json, needle) in cases {
            let err = QuestionBank::from_json(json, &id(), "t").unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
        assert_eq!(QuestionBank::from_json(b"[]", &id(), "t").unwrap_err(), BankError::Empty);
        assert!(matches!(QuestionBank::from_json(b"{", &id(), "t").unwrap_err(), BankError::Json(_)));
    }

    #[test]
    fn the_paper_carries_no_answer_key() {
        let seed = br#"[{"question": "2+2?", "options": ["3", "4"], "correct_answer": "4", "explanation": "arithmetic", "source": {"page": 1, "quote": "two and two make four"}, "confidence": 0.25, "rationale": "weak sentence"}]"#;
        let bank = QuestionBank::from_json(seed, &id(), "t").unwrap();
        let json = serde_json::to_string(&bank.paper(1)).unwrap();
        for leak in ["correct", "explanation", "source", "quote", "arithmetic", "confidence", "rationale", "weak"] {
            assert!(!json.contains(leak), "{json} leaks {leak}");
        }
    }
}
