//! The one gate every generated question passes before it is stored, whichever generator wrote
//! it (the built-in one or a language model).
//!
//! [`Validator::admit`] sorts what is wrong with a question into two kinds:
//!
//! * **Defects** ([`Defect`], returned as a [`Rejection`]): the question cannot be stored. It
//!   is malformed (empty text, fewer than 2 or more than 7 options, repeated options, not
//!   exactly one correct option, a true/false question whose options are not exactly "True"
//!   and "False"), repeats an earlier question (same text once case, punctuation and
//!   whitespace are ignored), or — when the document is known — cites no source or quotes
//!   text that does not occur in the document. A caller
//!   that can ask again (the LLM backend) does so a bounded number of times, then drops the
//!   question and tells the teacher how many were dropped.
//! * **Doubts** (human-readable strings in [`Question::flags`]): the question is stored, and
//!   the teacher sees why it deserves a second look.
//!
//! ## Matching quotes
//!
//! Quotes are compared after [`normalise`]: lower case, typographic quotes, dashes and
//! ligatures folded to ASCII, soft hyphens dropped, whitespace runs collapsed, leading and
//! trailing punctuation ignored. A quote with an ellipsis (`...` or `…`) matches when each of
//! its parts occurs on one page in order. The cited page is a hint: a quote found on another
//! page (or cited with a page the document does not have) is accepted and its page corrected.
//! Quotes are not matched across page breaks.
//!
//! ## Is the answer supported by the quote? (a lexical heuristic)
//!
//! Text is split into words (runs of letters and digits), lower-cased, reduced by a crude
//! English suffix stripper (`studies`→`study`, `machines`→`machine`, `computed`→`comput`,
//! applied to both sides alike) and English function words are dropped ("content words";
//! negations such as "not" and "never" are kept because they flip a statement).
//!
//! * Multiple choice: every content word of the correct option should occur in the quote;
//!   a distractor whose content words all occur in the quote (and that is not part of the
//!   correct answer) makes the question ambiguous; a question stem that contains its own
//!   answer gives it away.
//! * True/false: a statement marked true should have all its content words in the quote; a
//!   statement marked false should differ from the quote in at least one content word; any
//!   statement should share at least half of its content words with the quote.
//!
//! Limits, by design of a word-level check: it cannot see meaning. A paraphrase with
//! synonyms is flagged although it may be right; a false statement built by reordering the
//! quote's own words ("A caused B" from "B caused A") is flagged as possibly true; an answer
//! that needs reasoning over two sentences is flagged. It never rejects, it only flags. The
//! stop-word list and suffix rules are English; other languages keep every word, which makes
//! the check stricter, not looser.
//!
//! Pure: no IO, no clock, no randomness; compiles to wasm32.

use std::collections::HashSet;
use std::fmt;

use crate::bank::{Question, QuestionKind};

/// Why a question cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    EmptyQuestion,
    /// How many options it has (2..=7 are allowed).
    OptionCount(usize),
    /// 1-based position of the empty option.
    EmptyOption(usize),
    /// Text of an option that appears twice.
    RepeatedOption(String),
    RepeatedOptionId(String),
    /// `correct_option` names no option.
    NoCorrectOption,
    /// `correct_answer` is not the text of the correct option.
    AnswerMismatch,
    /// A true/false question whose options are not exactly "True" and "False".
    NotTrueFalse,
    /// The same question (normalised text) is already in the bank.
    Duplicate,
    NoSource,
    EmptyQuote,
    QuoteNotFound,
}

impl Defect {
    /// A short label for counting defects of one kind in a note to the teacher.
    pub fn label(&self) -> &'static str {
        match self {
            Defect::EmptyQuestion => "empty question",
            Defect::OptionCount(_) => "wrong number of options",
            Defect::EmptyOption(_) => "empty option",
            Defect::RepeatedOption(_) | Defect::RepeatedOptionId(_) => "repeated option",
            Defect::NoCorrectOption | Defect::AnswerMismatch => "no single correct option",
            Defect::NotTrueFalse => "true/false without True and False options",
            Defect::Duplicate => "duplicate question",
            Defect::NoSource | Defect::EmptyQuote => "no source quote",
            Defect::QuoteNotFound => "quote not found in the document",
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::EmptyQuestion => f.write_str("the question text is empty"),
            Defect::OptionCount(n) => write!(f, "it has {n} options; a question needs 2 to 7"),
            Defect::EmptyOption(i) => write!(f, "option {i} is empty"),
            Defect::RepeatedOption(t) => write!(f, "the option {t:?} appears twice"),
            Defect::RepeatedOptionId(id) => write!(f, "the option id {id:?} appears twice"),
            Defect::NoCorrectOption => f.write_str("the correct option is not one of the options"),
            Defect::AnswerMismatch => f.write_str("the correct answer text differs from the correct option"),
            Defect::NotTrueFalse => f.write_str("a true/false question has exactly the options \"True\" and \"False\""),
            Defect::Duplicate => f.write_str("it repeats an earlier question"),
            Defect::NoSource => f.write_str("it cites no page and quote"),
            Defect::EmptyQuote => f.write_str("its quote is empty"),
            Defect::QuoteNotFound => f.write_str("its quote does not occur in the document"),
        }
    }
}

/// Every defect found in one question (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub defects: Vec<Defect>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.defects.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

/// The document text questions are checked against: one normalised string per page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceText {
    pages: Vec<String>,
}

impl SourceText {
    /// `pages[0]` is page 1.
    pub fn new<S: AsRef<str>>(pages: &[S]) -> Self {
        SourceText { pages: pages.iter().map(|p| normalise(p.as_ref())).collect() }
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The 1-based pages on which `quote` occurs, the cited page first when it is one of them.
    fn pages_with(&self, quote: &str, cited: u32) -> Vec<u32> {
        let parts: Vec<String> = normalise(quote)
            .split("...")
            .map(|p| p.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<u32> =
            (1..=self.pages.len() as u32).filter(|&n| contains_in_order(&self.pages[n as usize - 1], &parts)).collect();
        if let Some(i) = found.iter().position(|&p| p == cited) {
            found.swap(0, i);
        }
        found
    }
}

fn contains_in_order(haystack: &str, parts: &[String]) -> bool {
    let mut rest = haystack;
    for part in parts {
        match rest.find(part.as_str()) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Lower case; typographic quotes, dashes, ellipses and ligatures as ASCII; soft hyphens
/// dropped; whitespace runs as one space; trimmed.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let mapped: &str = match c {
            '\u{ad}' => continue,
            '‘' | '’' | '‚' | '‛' | '′' | '`' | '´' => "'",
            '“' | '”' | '„' | '‟' | '″' | '«' | '»' => "\"",
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' => "-",
            '…' => "...",
            'ﬀ' => "ff",
            'ﬁ' => "fi",
            'ﬂ' => "fl",
            'ﬃ' => "ffi",
            'ﬄ' => "ffl",
            c if c.is_whitespace() => {
                space = !out.is_empty();
                continue;
            }
            c => {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.extend(c.to_lowercase());
                continue;
            }
        };
        if space {
            out.push(' ');
            space = false;
        }
        out.push_str(mapped);
    }
    out
}

/// The key under which two question texts count as the same question: words only.
fn question_key(text: &str) -> String {
    words(&normalise(text)).collect::<Vec<_>>().join(" ")
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// English function words. Negations are deliberately absent: they flip a statement.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being",
    "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from",
    "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "itself", "just", "may", "me", "might", "more", "most", "must", "my", "of", "off", "on", "once", "only", "or", "other", "our",
    "ours", "out", "over", "own", "same", "shall", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "us", "very", "was", "we",
    "were", "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you", "your", "yours",
];

/// A crude English stemmer, applied to both sides of every comparison.
fn stem(w: &str) -> String {
    let n = w.chars().count();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    for suffix in ["ing", "ed"] {
        if n > suffix.len() + 3 && w.ends_with(suffix) {
            return w[..w.len() - suffix.len()].to_owned();
        }
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

/// Content words of `s`, stemmed, in order of appearance, without repeats.
pub fn content_words(s: &str) -> Vec<String> {
    let norm = normalise(s);
    let mut seen = HashSet::new();
    words(&norm)
        .filter(|w| !STOP_WORDS.contains(w) && (w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_digit())))
        .map(stem)
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

/// The statement of a true/false question: without a leading "True or false:" and the quotes
/// around it.
pub fn true_false_statement(question: &str) -> &str {
    let t = question.trim();
    let t = match t.get(..14) {
        Some(head) if head.eq_ignore_ascii_case("true or false:") => t[14..].trim_start(),
        _ => t,
    };
    let t = t.strip_prefix(['"', '“']).and_then(|s| s.strip_suffix(['"', '”'])).unwrap_or(t);
    t.trim()
}

fn quoted_list(ws: &[String]) -> String {
    ws.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ")
}

/// Checks questions one by one against a document and against the questions admitted before.
#[derive(Debug, Clone)]
pub struct Validator<'d> {
    source: Option<&'d SourceText>,
    seen: HashSet<String>,
}

impl<'d> Validator<'d> {
    /// `source`: the document text. Without it only the structure and duplicates are checked
    /// (for banks imported from elsewhere); with it every question must cite a quote from it.
    pub fn new(source: Option<&'d SourceText>) -> Self {
        Validator { source, seen: HashSet::new() }
    }

    /// Treats `existing` as already admitted (their texts count for the duplicate rule).
    pub fn with_existing(source: Option<&'d SourceText>, existing: &[Question]) -> Self {
        let mut v = Validator::new(source);
        v.seen.extend(existing.iter().map(|q| question_key(&q.question)));
        v
    }

    /// Checks `q` without admitting it: the defects, or the doubts to flag.
    pub fn check(&self, q: &Question) -> Result<Vec<String>, Rejection> {
        let mut defects = structural_defects(q);
        if self.seen.contains(&question_key(&q.question)) {
            defects.push(Defect::Duplicate);
        }
        if let Some(source) = self.source {
            match &q.source {
                None => defects.push(Defect::NoSource),
                Some(s) if s.quote.trim().is_empty() => defects.push(Defect::EmptyQuote),
                Some(s) if source.pages_with(&s.quote, s.page).is_empty() => defects.push(Defect::QuoteNotFound),
                Some(_) => {}
            }
        }
        if !defects.is_empty() {
            return Err(Rejection { defects });
        }
        Ok(match (&q.source, self.source) {
            (Some(s), Some(_)) => doubts(q, &s.quote),
            _ => Vec::new(),
        })
    }

    /// Checks `q`; if it can be stored, records it for the duplicate rule, corrects its page
    /// when the quote is on another page than cited, and returns it with its flags set (the
    /// validator's findings replace earlier flags).
    pub fn admit(&mut self, mut q: Question) -> Result<Question, Rejection> {
        q.flags = self.check(&q)?;
        if let (Some(source), Some(s)) = (self.source, q.source.as_mut())
            && let Some(&page) = source.pages_with(&s.quote, s.page).first()
        {
            s.page = page;
        }
        self.seen.insert(question_key(&q.question));
        Ok(q)
    }
}

fn structural_defects(q: &Question) -> Vec<Defect> {
    let mut d = Vec::new();
    if q.question.trim().is_empty() {
        d.push(Defect::EmptyQuestion);
    }
    if !(2..=7).contains(&q.options.len()) {
        d.push(Defect::OptionCount(q.options.len()));
    }
    let mut texts = HashSet::new();
    let mut ids = HashSet::new();
    for (i, o) in q.options.iter().enumerate() {
        let key = normalise(&o.text);
        if key.is_empty() {
            d.push(Defect::EmptyOption(i + 1));
        } else if !texts.insert(key) {
            d.push(Defect::RepeatedOption(o.text.trim().to_owned()));
        }
        if !ids.insert(&o.id) {
            d.push(Defect::RepeatedOptionId(o.id.to_string()));
        }
    }
    match q.options.iter().find(|o| o.id == q.correct_option) {
        None => d.push(Defect::NoCorrectOption),
        Some(o) if o.text != q.correct_answer => d.push(Defect::AnswerMismatch),
        Some(_) => {}
    }
    if q.kind == QuestionKind::TrueFalse {
        let texts: Vec<&str> = q.options.iter().map(|o| o.text.as_str()).collect();
        if texts != ["True", "False"] {
            d.push(Defect::NotTrueFalse);
        }
    }
    d
}

/// The lexical support heuristic (see the module documentation).
fn doubts(q: &Question, quote: &str) -> Vec<String> {
    let quote_words: HashSet<String> = content_words(quote).into_iter().collect();
    let missing_from_quote = |ws: &[String]| ws.iter().filter(|w| !quote_words.contains(*w)).cloned().collect::<Vec<_>>();
    let mut flags = Vec::new();
    match q.kind {
        QuestionKind::MultipleChoice => {
            let answer = content_words(&q.correct_answer);
            if answer.is_empty() {
                flags.push("The correct answer has no words that could be looked up in the quote.".to_owned());
            } else {
                let missing = missing_from_quote(&answer);
                if !missing.is_empty() {
                    flags.push(format!("The quote does not contain {} from the correct answer.", quoted_list(&missing)));
                }
                let stem_words: HashSet<String> = content_words(&q.question).into_iter().collect();
                if answer.iter().all(|w| stem_words.contains(w)) {
                    flags.push("The question itself contains the correct answer.".to_owned());
                }
            }
            let answer_set: HashSet<&String> = answer.iter().collect();
            for o in q.options.iter().filter(|o| o.id != q.correct_option) {
                let ws = content_words(&o.text);
                if !ws.is_empty() && ws.iter().all(|w| quote_words.contains(w)) && !ws.iter().all(|w| answer_set.contains(w)) {
                    flags.push(format!("The quote also supports the option \"{}\"; check that only one answer is right.", o.text.trim()));
                }
            }
        }
        QuestionKind::TrueFalse => {
            let statement = content_words(true_false_statement(&q.question));
            let missing = missing_from_quote(&statement);
            let is_true = q.options.iter().find(|o| o.id == q.correct_option).is_some_and(|o| o.text == "True");
            if statement.is_empty() {
                flags.push("The statement has no words that could be looked up in the quote.".to_owned());
            } else if 2 * (statement.len() - missing.len()) < statement.len() {
                flags.push("The statement shares few words with the quote; it may not come from this passage.".to_owned());
            } else if is_true && !missing.is_empty() {
                flags.push(format!("The statement is marked true, but the quote does not contain {}.", quoted_list(&missing)));
            } else if !is_true && missing.is_empty() {
                flags
                    .push("The statement is marked false, but every word of it is in the quote; check that it really is false.".to_owned());
            }
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{AnswerOption, QuestionBank, SourceRef};
    use crate::ids::{ExamId, OptionId, QuestionId};

    const PAGES: [&str; 2] = [
        "Charles Babbage designed the Analytical Engine in 1837.\nAda Lovelace wrote the first published program for it.",
        "The ENIAC was completed in 1945 at the University of Pennsylvania. It used vacuum tubes — about 17,468 of them.",
    ];

    fn source() -> SourceText {
        SourceText::new(&PAGES)
    }

    fn mcq(question: &str, options: &[&str], correct: usize, page: u32, quote: &str) -> Question {
        let options: Vec<AnswerOption> = options
            .iter()
            .enumerate()
            .map(|(i, t)| AnswerOption { id: OptionId::parse(["a", "b", "c", "d", "e", "f", "g", "h"][i]).unwrap(), text: (*t).to_owned() })
            .collect();
        Question {
            id: QuestionId::parse("q1").unwrap(),
            kind: QuestionKind::MultipleChoice,
            question: question.to_owned(),
            correct_answer: options[correct].text.clone(),
            correct_option: options[correct].id.clone(),
            options,
            source: Some(SourceRef { page, quote: quote.to_owned() }),
            explanation: None,
            flags: Vec::new(),
            confidence: None,
            rationale: None,
        }
    }

    fn tf(statement: &str, answer: bool, quote: &str) -> Question {
        let options = vec![
            AnswerOption { id: OptionId::parse("true").unwrap(), text: "True".into() },
            AnswerOption { id: OptionId::parse("false").unwrap(), text: "False".into() },
        ];
        let correct = usize::from(!answer);
        Question {
            id: QuestionId::parse("q2").unwrap(),
            kind: QuestionKind::TrueFalse,
            question: format!("True or false: \"{statement}\""),
            correct_answer: options[correct].text.clone(),
            correct_option: options[correct].id.clone(),
            options,
            source: Some(SourceRef { page: 1, quote: quote.to_owned() }),
            explanation: None,
            flags: Vec::new(),
            confidence: None,
            rationale: None,
        }
    }

    fn good() -> Question {
        mcq(
            "Who designed the Analytical Engine?",
            &["Ada Lovelace", "Charles Babbage", "Alan Turing", "John von Neumann"],
            1,
            1,
            "Charles Babbage designed the Analytical Engine in 1837.",
        )
    }

    fn defects(v: &Validator<'_>, q: &Question) -> Vec<Defect> {
        v.check(q).expect_err("should be rejected").defects
    }

    #[test]
    fn a_sound_question_passes_without_flags() {
        let src = source();
        let mut v = Validator::new(Some(&src));
        let q = v.admit(good()).unwrap();
        assert!(q.flags.is_empty(), "{:?}", q.flags);
    }

    #[test]
    fn option_count_must_be_two_to_seven() {
        let v = Validator::new(None);
        let mut one = good();
        one.options.truncate(1);
        one.correct_option = one.options[0].id.clone();
        one.correct_answer = one.options[0].text.clone();
        assert_eq!(defects(&v, &one), [Defect::OptionCount(1)]);
        let eight = mcq("Pick one", &["a1", "b1", "c1", "d1", "e1", "f1", "g1", "h1"], 0, 1, "x");
        assert_eq!(defects(&v, &eight), [Defect::OptionCount(8)]);
        let seven = mcq("Pick one", &["a1", "b1", "c1", "d1", "e1", "f1", "g1"], 0, 1, "x");
        assert!(v.check(&seven).is_ok());
    }

    #[test]
    fn options_must_be_distinct_and_non_empty() {
        let v = Validator::new(None);
        let q = mcq("Pick one", &["Babbage", " babbage ", "Turing"], 0, 1, "x");
        assert_eq!(defects(&v, &q), [Defect::RepeatedOption("babbage".into())]);
        let q = mcq("Pick one", &["Babbage", "  ", "Turing"], 0, 1, "x");
        assert_eq!(defects(&v, &q), [Defect::EmptyOption(2)]);
        let mut q = good();
        q.options[2].id = q.options[0].id.clone();
        assert_eq!(defects(&v, &q), [Defect::RepeatedOptionId("a".into())]);
    }

    #[test]
    fn exactly_one_option_is_correct_and_matches_the_answer_text() {
        let v = Validator::new(None);
        let mut q = good();
        q.correct_option = OptionId::parse("z").unwrap();
        assert_eq!(defects(&v, &q), [Defect::NoCorrectOption]);
        let mut q = good();
        q.correct_answer = "Alan Turing".into();
        assert_eq!(defects(&v, &q), [Defect::AnswerMismatch]);
        let mut q = good();
        q.question = " ".into();
        assert_eq!(defects(&v, &q), [Defect::EmptyQuestion]);
    }

    #[test]
    fn true_false_has_exactly_true_and_false() {
        let v = Validator::new(None);
        assert!(v.check(&tf("Babbage designed the Analytical Engine.", true, "x")).is_ok());
        let mut q = tf("Babbage designed the Analytical Engine.", true, "x");
        q.options[0].text = "Yes".into();
        q.correct_answer = "Yes".into();
        assert_eq!(defects(&v, &q), [Defect::NotTrueFalse]);
        let mut q = tf("Babbage designed the Analytical Engine.", true, "x");
        q.options.reverse();
        assert_eq!(defects(&v, &q), [Defect::NotTrueFalse]);
    }

    #[test]
    fn duplicates_are_recognised_after_normalisation() {
        let mut v = Validator::new(None);
        v.admit(good()).unwrap();
        let mut again = good();
        again.question = "  who DESIGNED the “Analytical Engine”  ".into();
        assert_eq!(v.admit(again).unwrap_err().defects, [Defect::Duplicate]);
        let existing = [good()];
        let v = Validator::with_existing(None, &existing);
        assert_eq!(defects(&v, &good()), [Defect::Duplicate]);
    }

    #[test]
    fn quotes_must_occur_in_the_document_modulo_case_quotes_and_whitespace() {
        let src = source();
        let v = Validator::new(Some(&src));
        let with_quote = |page, quote: &str| {
            let mut q = good();
            q.source = Some(SourceRef { page, quote: quote.to_owned() });
            q
        };
        // Case, whitespace, a typographic dash written as ASCII, trailing punctuation dropped.
        assert!(v.check(&with_quote(2, "it used  vacuum tubes - about 17,468 of them")).is_ok());
        assert!(v.check(&with_quote(2, "“The ENIAC was completed in 1945 … University of Pennsylvania.”")).is_ok());
        assert_eq!(defects(&v, &with_quote(1, "Babbage invented the telephone.")), [Defect::QuoteNotFound]);
        // Parts of an ellipsis quote must appear in order.
        assert_eq!(defects(&v, &with_quote(2, "University of Pennsylvania ... The ENIAC")), [Defect::QuoteNotFound]);
        assert_eq!(defects(&v, &with_quote(1, " ")), [Defect::EmptyQuote]);
        let mut none = good();
        none.source = None;
        assert_eq!(defects(&v, &none), [Defect::NoSource]);
        // Without a document, sources are not required.
        assert!(Validator::new(None).check(&none).is_ok());
    }

    #[test]
    fn a_quote_on_another_page_is_accepted_with_its_page_corrected() {
        let src = source();
        let mut v = Validator::new(Some(&src));
        for cited in [0, 2, 9] {
            let mut q = good();
            q.question = format!("{} ({cited})", q.question);
            q.source.as_mut().unwrap().page = cited;
            let q = v.admit(q).unwrap();
            assert_eq!(q.source.unwrap().page, 1);
        }
    }

    #[test]
    fn an_answer_missing_from_the_quote_is_flagged() {
        let src = source();
        let v = Validator::new(Some(&src));
        let q = mcq(
            "Who wrote the first published program?",
            &["Charles Babbage", "Grace Hopper", "Alan Turing"],
            1,
            1,
            "Ada Lovelace wrote the first published program for it.",
        );
        let flags = v.check(&q).unwrap();
        assert_eq!(flags, ["The quote does not contain \"grace\", \"hopper\" from the correct answer."]);
    }

    #[test]
    fn a_distractor_supported_by_the_quote_and_a_stem_giving_the_answer_away_are_flagged() {
        let src = source();
        let v = Validator::new(Some(&src));
        let q = mcq(
            "Who designed the Analytical Engine?",
            &["Charles Babbage", "Analytical Engine", "Alan Turing"],
            0,
            1,
            "Charles Babbage designed the Analytical Engine in 1837.",
        );
        assert_eq!(
            v.check(&q).unwrap(),
            ["The quote also supports the option \"Analytical Engine\"; check that only one answer is right."]
        );
        let q = mcq(
            "When did Charles Babbage design the Analytical Engine?",
            &["1837", "Charles Babbage", "1822"],
            1,
            1,
            "Charles Babbage designed the Analytical Engine in 1837.",
        );
        let flags = v.check(&q).unwrap();
        assert!(flags.iter().any(|f| f.contains("itself contains the correct answer")), "{flags:?}");
        assert!(flags.iter().any(|f| f.contains("\"1837\"")), "{flags:?}");
        // Plural/singular and verb forms still match.
        let q = mcq("How many were used?", &["Vacuum tube", "Relays", "Transistors"], 0, 2, "It used vacuum tubes");
        assert!(v.check(&q).unwrap().is_empty());
    }

    #[test]
    fn true_false_statements_are_checked_against_their_quote() {
        let src = source();
        let v = Validator::new(Some(&src));
        let quote = "Charles Babbage designed the Analytical Engine in 1837.";
        assert!(v.check(&tf("Charles Babbage designed the Analytical Engine in 1837.", true, quote)).unwrap().is_empty());
        assert!(v.check(&tf("Charles Babbage designed the Analytical Engine in 1901.", false, quote)).unwrap().is_empty());
        // A negated statement differs in "not" and is fine as false.
        assert!(v.check(&tf("Charles Babbage did not design the Analytical Engine.", false, quote)).unwrap().is_empty());
        let flags = v.check(&tf("Charles Babbage designed the Analytical Engine in 1901.", true, quote)).unwrap();
        assert_eq!(flags, ["The statement is marked true, but the quote does not contain \"1901\"."]);
        let flags = v.check(&tf("Charles Babbage designed the Analytical Engine in 1837.", false, quote)).unwrap();
        assert!(flags[0].contains("marked false, but every word"), "{flags:?}");
        let flags = v.check(&tf("Grace Hopper wrote the first compiler in 1952.", false, quote)).unwrap();
        assert!(flags[0].contains("shares few words"), "{flags:?}");
    }

    #[test]
    fn seed_banks_pass_the_structural_checks() {
        let seed = br#"{"mcq": [{"question": "2+2?", "options": ["A) 3", "B) 4"], "correct_answer": "B"},
                                 {"question": "Capital of France?", "options": ["Berlin", "Paris", "Rome", "Madrid"], "correct_answer": "Paris"}],
                        "tfq": [{"question": "Water is wet.", "options": ["True", "False"], "correct_answer": "True"}]}"#;
        let bank = QuestionBank::from_json(seed, &ExamId::parse("e1").unwrap(), "t").unwrap();
        let mut v = Validator::new(None);
        for q in bank.questions {
            let q = v.admit(q).unwrap();
            assert!(q.flags.is_empty());
        }
    }

    #[test]
    fn normalisation_and_content_words() {
        assert_eq!(normalise("  The “ENIAC”\u{a0}was\n– ﬁne…  "), "the \"eniac\" was - fine...");
        assert_eq!(content_words("The studies of machines were computed, not guessed."), ["study", "machine", "comput", "not", "guess"]);
        assert_eq!(true_false_statement("True or false: \"The sky is green.\""), "The sky is green.");
        assert_eq!(true_false_statement("The sky is green."), "The sky is green.");
    }
}
