//! Shared helpers for the integration tests: fixture loading and the question invariants.

#![allow(dead_code)]

use std::collections::HashSet;

use exam_domain::{Question, QuestionKind};
use exam_generator::Document;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn lecture() -> Document {
    exam_generator::extract_pages(&fixture("lecture.pdf")).expect("the lecture PDF extracts")
}

/// Every invariant a teacher relies on, for every question; `options` is the MCQ option count.
pub fn check_invariants(doc: &Document, questions: &[Question], options: usize) {
    let mut texts = HashSet::new();
    let mut quotes = HashSet::new();
    for (i, q) in questions.iter().enumerate() {
        let ctx = format!("{q:#?}");
        assert_eq!(q.id.as_str(), format!("q{}", i + 1), "{ctx}");
        assert!(texts.insert(q.question.clone()), "duplicate question text: {ctx}");
        let src = q.source.as_ref().expect("every question has a source");
        assert!(quotes.insert(src.quote.clone()), "two questions from one sentence: {ctx}");
        let page = doc.pages.get(src.page as usize - 1).expect("source page exists");
        // An output question quotes the input and the printed result: " … " between them.
        let mut rest = page.as_str();
        for part in src.quote.split(" … ") {
            let at = rest.find(part).unwrap_or_else(|| panic!("quote not on its page: {ctx}"));
            rest = &rest[at + part.len()..];
        }
        let expl = q.explanation.as_deref().expect("explanation");
        assert!(expl.starts_with(&format!("Page {} says: \"{}\"", src.page, src.quote)), "{ctx}");

        let lower: HashSet<String> = q.options.iter().map(|o| o.text.to_lowercase()).collect();
        assert_eq!(lower.len(), q.options.len(), "duplicate options: {ctx}");
        assert!(q.options.iter().all(|o| !o.text.trim().is_empty()), "{ctx}");
        let correct: Vec<_> = q.options.iter().filter(|o| o.id == q.correct_option).collect();
        assert_eq!(correct.len(), 1, "exactly one correct option: {ctx}");
        assert_eq!(correct[0].text, q.correct_answer, "{ctx}");

        match q.kind {
            QuestionKind::MultipleChoice => {
                assert_eq!(q.options.len(), options, "{ctx}");
                let ids: Vec<&str> = q.options.iter().map(|o| o.id.as_str()).collect();
                assert_eq!(ids, ["a", "b", "c", "d", "e", "f", "g"][..options], "{ctx}");
                let quote = src.quote.to_lowercase();
                assert!(quote.contains(&q.correct_answer.to_lowercase()), "answer not in the quote: {ctx}");
                for o in q.options.iter().filter(|o| o.id != q.correct_option) {
                    assert!(!quote.contains(&o.text.to_lowercase()), "distractor appears in the quote: {ctx}");
                }
                if !q.question.contains("_____") {
                    // Definition, output and "true of X" questions: checked by kind elsewhere.
                    continue;
                }
                assert!(!q.question.to_lowercase().contains(&q.correct_answer.to_lowercase()), "the blank gives the answer away: {ctx}");
                // Filling the blank with the answer gives back the quote.
                let filled = q.question.replacen("_____", &q.correct_answer, 1);
                assert!(filled.contains(&src.quote), "{ctx}");
            }
            QuestionKind::TrueFalse => {
                let ids: Vec<(&str, &str)> = q.options.iter().map(|o| (o.id.as_str(), o.text.as_str())).collect();
                assert_eq!(ids, [("true", "True"), ("false", "False")], "{ctx}");
                let statement = q.question.strip_prefix("True or false: \"").and_then(|s| s.strip_suffix('"')).expect("statement");
                if q.correct_option.as_str() == "true" {
                    assert_eq!(statement, src.quote, "{ctx}");
                } else {
                    assert_ne!(statement, src.quote, "{ctx}");
                    assert!(statement.split_whitespace().count() > 0);
                }
            }
        }
    }
    let mcq_end = questions.iter().position(|q| q.kind == QuestionKind::TrueFalse).unwrap_or(questions.len());
    assert!(questions[mcq_end..].iter().all(|q| q.kind == QuestionKind::TrueFalse), "MCQs come first");
}
