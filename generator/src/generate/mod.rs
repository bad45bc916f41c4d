//! The question generator: sentences and key terms -> questions, each with its source page
//! and quote. Deterministic and offline: no clock, no randomness, no hash-map iteration;
//! positions come from an FNV-1a hash of the text.
//!
//! One module per kind of question, on what they share ([`analysis`]: candidate sentences,
//! typed key terms, pools of same-kind terms):
//! * [`definition`]: "What is a namespace?" / "Which term is defined as …?";
//! * [`output`]: "Which exception does this raise?" / "What does this show?" for the
//!   interactive examples whose output the document prints;
//! * [`truth`]: "Which of the following is true of X?" (one sentence as written, the others
//!   made false);
//! * [`blank`]: fill in the blank;
//! * [`truefalse`]: true/false statements.
//!
//! The multiple-choice count is shared: about a quarter definitions, a fifth each of output and
//! "true of X" questions where the document has material for them, fill-in-the-blank for the
//! rest and for whatever another kind could not make.

mod analysis;
mod blank;
mod definition;
mod output;
mod truefalse;
mod truth;

use std::collections::{BTreeMap, HashMap, HashSet};

use exam_domain::validate::{SourceText, Validator};
use exam_domain::{AnswerOption, GenerationParams, OptionId, Question, QuestionId, QuestionKind, SourceRef};

use crate::extract::Document;
use crate::text::{self, Kind};
use analysis::{analyse, content_set, near_duplicate};

const BLANK: &str = "_____";
const LETTERS: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];

/// The questions, MCQs first, and notes for the teacher (e.g. fewer questions than asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub questions: Vec<Question>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("The document has too little text to build any question (found {0} usable sentences).")]
    NotEnoughText(usize),
    #[error(
        "The document has {0} usable sentences, but too few names, dates, numbers or terms that can be swapped for one another to build a question."
    )]
    NoTestableTerms(usize),
    #[error("The generation parameters are out of range: {0}")]
    InvalidParams(String),
}

/// FNV-1a, 64 bit: stable across platforms and releases, unlike `DefaultHasher`.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
/// What the kinds share while one bank is built: the sentences, answers and swaps already
/// used, so no two questions come from one sentence or near-identical ones, ask for the same
/// term, or reuse the same replacement.
pub(super) struct Picks {
    used_sentence: Vec<bool>,
    used_content: Vec<HashSet<String>>,
    /// Question texts so far (exact duplicates).
    pub(super) texts: HashSet<String>,
    /// How many questions blanked or swapped a term of each kind (to vary the kinds).
    pub(super) used_kinds: BTreeMap<Kind, usize>,
    /// Keys of the terms already asked for.
    pub(super) used_answers: HashSet<String>,
    /// Keys of the terms already swapped into a false statement.
    pub(super) used_swaps: HashSet<String>,
}

impl Picks {
    fn new(candidates: usize) -> Self {
        Picks {
            used_sentence: vec![false; candidates],
            used_content: Vec::new(),
            texts: HashSet::new(),
            used_kinds: BTreeMap::new(),
            used_answers: HashSet::new(),
            used_swaps: HashSet::new(),
        }
    }

    /// The content words of candidate `ci` (whose text is `text`), if it is still free: not
    /// used, and no near-duplicate of a used one.
    pub(super) fn fresh(&self, ci: usize, text: &str) -> Option<HashSet<String>> {
        if self.used_sentence[ci] {
            return None;
        }
        let content = content_set(text);
        (!near_duplicate(&content, &self.used_content)).then_some(content)
    }

    pub(super) fn take(&mut self, ci: usize, content: HashSet<String>) {
        self.used_sentence[ci] = true;
        self.used_content.push(content);
    }
}

/// A multiple-choice question of any kind, before it gets its id.
pub(super) struct Choice {
    /// Where it comes from, for document order: (page, position of the sentence).
    pub(super) order: usize,
    pub(super) page: u32,
    pub(super) quote: String,
    pub(super) text: String,
    pub(super) options: Vec<String>,
    pub(super) correct: usize,
    pub(super) confidence: f32,
    pub(super) rationale: String,
    /// The explanation shown after grading; `None`: "Page N says: <quote>".
    pub(super) explanation: Option<String>,
}

pub(super) struct TrueFalse {
    pub(super) page: u32,
    pub(super) quote: String,
    pub(super) statement: String,
    /// (original term, replacement) for a false statement.
    pub(super) swap: Option<(String, String)>,
    pub(super) confidence: f32,
    pub(super) rationale: String,
}

/// Builds questions from `doc`. Same input, same output, byte for byte.
pub fn generate(doc: &Document, params: GenerationParams) -> Result<Generated, GenerateError> {
    let params =
        GenerationParams::new(params.mcq, params.options, params.true_false).map_err(|e| GenerateError::InvalidParams(e.to_string()))?;
    let (mut sentences, _skipped) = text::sentences_with_skips(&doc.pages);
    // A sentence repeated (running headers, a slide shown twice) is one source, not several.
    let mut seen = HashSet::new();
    sentences.retain(|s| seen.insert(s.text));
    let usable = sentences.len();
    if usable == 0 && output::sessions(&doc.pages).is_empty() {
        return Err(GenerateError::NotEnoughText(0));
    }
    let a = analyse(sentences);
    // Best sentences first, spread over the pages: each earlier pick from the same page costs.
    let mut rank: Vec<usize> = (0..a.candidates.len()).collect();
    rank.sort_by(|&x, &y| a.candidates[y].score.partial_cmp(&a.candidates[x].score).unwrap_or(std::cmp::Ordering::Equal).then(x.cmp(&y)));
    let mut per_page: HashMap<u32, usize> = HashMap::new();
    let mut spread: Vec<(f64, usize)> = rank
        .iter()
        .map(|&ci| {
            let n = per_page.entry(a.candidates[ci].sentence.page).or_default();
            *n += 1;
            (a.candidates[ci].score - 1.2 * (*n - 1) as f64, ci)
        })
        .collect();
    spread.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal).then(x.1.cmp(&y.1)));
    let rank: Vec<usize> = spread.into_iter().map(|(_, ci)| ci).collect();

    let mut picks = Picks::new(a.candidates.len());
    let wanted_mcq = usize::from(params.mcq);
    let wanted_tf = usize::from(params.true_false);
    let n_opts = usize::from(params.options);
    let share = |div: usize, min_total: usize| if wanted_mcq >= min_total { (wanted_mcq / div).max(1) } else { 0 };
    let mut mcqs: Vec<Choice> = Vec::new();
    mcqs.extend(definition::definitions(&a, &rank, &mut picks, share(4, 2), n_opts));
    mcqs.extend(output::outputs(&a, &doc.pages, &mut picks, share(5, 3), n_opts));
    // "True of X" takes a sentence per option: only where the document has plenty to spare.
    if a.candidates.len() >= 3 * (wanted_mcq + wanted_tf) {
        mcqs.extend(truth::true_of(&a, &rank, &mut picks, share(5, 3), n_opts));
    }
    let rest = wanted_mcq.saturating_sub(mcqs.len());
    mcqs.extend(blank::fill_in(&a, &rank, &mut picks, rest, n_opts));
    // Questions follow the document, not the ranking.
    mcqs.sort_by_key(|q| (q.page, q.order));

    let tfs = truefalse::true_false(&a, &rank, &mut picks, wanted_tf);

    let mut notes = Vec::new();
    if mcqs.len() < wanted_mcq {
        notes.push(format!(
            "Generated {} of {} requested multiple-choice questions: the document has too few distinct terms of the same kind for {} options per question.",
            mcqs.len(),
            wanted_mcq,
            n_opts
        ));
    }
    if tfs.len() < wanted_tf {
        notes.push(format!(
            "Generated {} of {} requested true/false questions: the document has too few sentences with a name, date, number or term that can be swapped for another.",
            tfs.len(),
            wanted_tf
        ));
    }
    if mcqs.is_empty() && tfs.is_empty() {
        return Err(if a.candidates.is_empty() { GenerateError::NotEnoughText(usable) } else { GenerateError::NoTestableTerms(usable) });
    }

    let mut questions = Vec::with_capacity(mcqs.len() + tfs.len());
    let id = |n: usize| QuestionId::parse(&format!("q{n}")).expect("q<number> is a valid id");
    let opt = |s: &str| OptionId::parse(s).expect("a..g, true and false are valid ids");
    for q in mcqs {
        let options: Vec<AnswerOption> =
            q.options.iter().enumerate().map(|(i, t)| AnswerOption { id: opt(LETTERS[i]), text: t.clone() }).collect();
        questions.push(Question {
            id: id(questions.len() + 1),
            kind: QuestionKind::MultipleChoice,
            question: q.text,
            correct_answer: options[q.correct].text.clone(),
            correct_option: options[q.correct].id.clone(),
            options,
            explanation: Some(q.explanation.unwrap_or_else(|| format!("Page {} says: \"{}\"", q.page, q.quote))),
            flags: Vec::new(),
            source: Some(SourceRef { page: q.page, quote: q.quote }),
            confidence: Some(q.confidence),
            rationale: Some(q.rationale),
        });
    }
    for q in tfs {
        let options = vec![AnswerOption { id: opt("true"), text: "True".into() }, AnswerOption { id: opt("false"), text: "False".into() }];
        let correct = usize::from(q.swap.is_some());
        let explanation = match &q.swap {
            None => format!("Page {} says: \"{}\"", q.page, q.quote),
            Some((orig, alt)) => {
                format!("Page {} says: \"{}\" (the statement has \"{alt}\" where the document has \"{orig}\").", q.page, q.quote)
            }
        };
        questions.push(Question {
            id: id(questions.len() + 1),
            kind: QuestionKind::TrueFalse,
            question: format!("True or false: \"{}\"", q.statement),
            correct_answer: options[correct].text.clone(),
            correct_option: options[correct].id.clone(),
            options,
            explanation: Some(explanation),
            flags: Vec::new(),
            source: Some(SourceRef { page: q.page, quote: q.quote }),
            confidence: Some(q.confidence),
            rationale: Some(q.rationale),
        });
    }
    // The shared validator's doubts lower the confidence (the gate that stores the bank sets
    // the flags themselves).
    let source = SourceText::new(&doc.pages);
    let validator = Validator::new(Some(&source));
    for q in &mut questions {
        if let Ok(doubts) = validator.check(q)
            && !doubts.is_empty()
        {
            q.confidence = q.confidence.map(|c| (c * 0.5).max(0.05));
            if let Some(r) = q.rationale.as_mut() {
                r.push_str(" The validator doubts it: ");
                r.push_str(&doubts.join(" "));
            }
        }
    }
    Ok(Generated { questions, notes })
}
