//! Question generation on the extracted lecture and short documents: counts, invariants,
//! determinism and notes.

mod common;

use common::{check_invariants, fixture, lecture};
use exam_domain::{GenerationParams, QuestionKind};
use exam_generator::{Document, GenerateError, extract_pages, generate};

fn params(mcq: u8, options: u8, true_false: u8) -> GenerationParams {
    GenerationParams::new(mcq, options, true_false).unwrap()
}

#[test]
fn default_request_is_met_and_every_question_is_sound() {
    let doc = lecture();
    let g = generate(&doc, params(5, 4, 3)).unwrap();
    assert_eq!(g.questions.iter().filter(|q| q.kind == QuestionKind::MultipleChoice).count(), 5);
    assert_eq!(g.questions.iter().filter(|q| q.kind == QuestionKind::TrueFalse).count(), 3);
    assert!(g.notes.is_empty(), "{:?}", g.notes);
    check_invariants(&doc, &g.questions, 4);
}

#[test]
fn the_largest_request_is_met_by_the_lecture() {
    let doc = lecture();
    let g = generate(&doc, params(20, 7, 20)).unwrap();
    assert_eq!(g.questions.len(), 40, "{:?}", g.notes);
    assert!(g.notes.is_empty(), "{:?}", g.notes);
    check_invariants(&doc, &g.questions, 7);
    // Correct options are spread over the letters, and true/false answers are mixed.
    let letters: std::collections::BTreeSet<&str> =
        g.questions.iter().filter(|q| q.kind == QuestionKind::MultipleChoice).map(|q| q.correct_option.as_str()).collect();
    assert!(letters.len() >= 4, "correct options only at {letters:?}");
    let trues = g.questions.iter().filter(|q| q.correct_option.as_str() == "true").count();
    assert!((8..=12).contains(&trues), "{trues} of 20 true/false answers are True");
    // Questions come from every page.
    let pages: std::collections::BTreeSet<u32> = g.questions.iter().map(|q| q.source.as_ref().unwrap().page).collect();
    assert_eq!(pages.len(), 3);
}

#[test]
fn two_options_and_mcq_only_or_true_false_only_work() {
    let doc = lecture();
    for p in [params(7, 2, 0), params(0, 4, 9), params(1, 3, 1)] {
        let g = generate(&doc, p).unwrap();
        assert_eq!(g.questions.len(), p.total());
        check_invariants(&doc, &g.questions, usize::from(p.options));
    }
}

#[test]
fn generation_is_deterministic() {
    let doc = lecture();
    let a = generate(&doc, params(20, 5, 20)).unwrap();
    let b = generate(&doc.clone(), params(20, 5, 20)).unwrap();
    assert_eq!(a, b);
    assert_eq!(serde_json::to_string(&a.questions).unwrap(), serde_json::to_string(&b.questions).unwrap());
}

#[test]
fn false_statements_swap_a_term_of_the_same_document() {
    let doc = lecture();
    let all_text = doc.pages.join(" ");
    let g = generate(&doc, params(0, 4, 20)).unwrap();
    let falses: Vec<_> = g.questions.iter().filter(|q| q.correct_option.as_str() == "false").collect();
    assert!(!falses.is_empty());
    for q in falses {
        let expl = q.explanation.as_deref().unwrap();
        // "(the statement has "X" where the document has "Y")"
        let parts: Vec<&str> = expl.rsplit("(the statement has \"").next().unwrap().split('"').collect();
        let (swapped, original) = (parts[0], parts[2]);
        let quote = &q.source.as_ref().unwrap().quote;
        assert!(quote.contains(original), "{expl}");
        assert!(!quote.contains(swapped), "{expl}");
        assert!(all_text.contains(swapped), "the replacement comes from the document: {expl}");
        assert!(q.question.contains(swapped), "{expl}");
    }
}

#[test]
fn a_short_document_gives_what_it_can_with_notes() {
    let doc = extract_pages(&fixture("short.pdf")).unwrap();
    assert_eq!(doc.pages.len(), 1);
    let g = generate(&doc, params(5, 4, 3)).unwrap();
    assert!(g.questions.len() < 8);
    assert!(!g.questions.is_empty());
    check_invariants(&doc, &g.questions, 4);
    let mcq = g.questions.iter().filter(|q| q.kind == QuestionKind::MultipleChoice).count();
    assert!(g.notes.iter().any(|n| n.starts_with(&format!("Generated {mcq} of 5 requested multiple-choice questions"))), "{:?}", g.notes);
}

#[test]
fn no_usable_text_is_an_error_a_teacher_can_read() {
    let doc = Document { pages: vec!["Title page".into(), "Chapter 1\nContents".into()] };
    let err = generate(&doc, params(5, 4, 3)).unwrap_err();
    assert!(matches!(err, GenerateError::NotEnoughText(0)));
    assert_eq!(err.to_string(), "The document has too little text to build any question (found 0 usable sentences).");

    // Sentences, but nothing that can be swapped for something else of its kind.
    let doc = Document { pages: vec!["This is a plain sentence with nothing much in it. It has some words that are short.".into()] };
    assert!(generate(&doc, params(5, 4, 3)).is_err());
}

#[test]
fn out_of_range_params_are_refused() {
    let doc = lecture();
    let bad = GenerationParams { mcq: 5, options: 8, true_false: 0 };
    assert!(matches!(generate(&doc, bad), Err(GenerateError::InvalidParams(_))));
}

#[test]
fn a_long_document_is_handled() {
    // 100 pages: the lecture repeated with page-specific years so sentences differ.
    let base = lecture();
    let pages: Vec<String> = (0..100)
        .map(|i| {
            format!("{} In {} the department held review meeting number {} on computing history.", base.pages[i % 3], 1900 + i, i + 10)
        })
        .collect();
    let doc = Document { pages };
    let g = generate(&doc, params(20, 7, 20)).unwrap();
    assert_eq!(g.questions.len(), 40);
    check_invariants(&doc, &g.questions, 7);
}

#[test]
fn every_question_passes_the_shared_validator_without_doubts() {
    use exam_domain::validate::{SourceText, Validator};
    for (doc, p) in
        [(lecture(), params(20, 7, 20)), (lecture(), params(3, 2, 5)), (extract_pages(&fixture("short.pdf")).unwrap(), params(5, 4, 3))]
    {
        let source = SourceText::new(&doc.pages);
        let mut validator = Validator::new(Some(&source));
        let Ok(g) = generate(&doc, p) else { continue };
        for q in g.questions {
            let admitted = validator.admit(q.clone()).unwrap_or_else(|r| panic!("{r}: {q:#?}"));
            assert!(admitted.flags.is_empty(), "{:?}: {q:#?}", admitted.flags);
            assert_eq!(admitted, q, "the validator changes nothing in a sound question");
        }
    }
}

#[test]
fn a_glossary_gives_definition_questions_whose_wrong_options_define_other_terms() {
    let glossary = [
        ("namespace", "a mapping from names to objects in a running program"),
        ("scope", "a textual region of a program where a name is directly accessible"),
        ("module", "a file containing definitions and statements of the language"),
        ("decorator", "a function returning another function, applied with the at sign"),
        ("generator", "a function which returns an iterator over the values it yields"),
    ];
    let mut page = String::new();
    for (term, body) in glossary {
        page.push_str(&format!("A {term} is {body}.\n"));
    }
    page.push_str("Programs in the language are read by the interpreter from files written by programmers in 1991.\n");
    page.push_str("The interpreter executes statements one after another until the program ends or raises an error.\n");
    let doc = Document { pages: vec![page] };
    let g = generate(&doc, params(4, 4, 0)).unwrap();
    let defs: Vec<_> = g.questions.iter().filter(|q| q.question.starts_with("What is a ")).collect();
    assert!(!defs.is_empty(), "{:#?}", g.questions);
    for q in defs {
        let term = q.question.trim_start_matches("What is a ").trim_end_matches('?');
        let body = glossary.iter().find(|(t, _)| *t == term).map(|(_, b)| *b).expect("a term of the glossary");
        assert_eq!(q.correct_answer, body);
        for o in q.options.iter().filter(|o| o.id != q.correct_option) {
            assert!(glossary.iter().any(|(t, b)| *t != term && *b == o.text), "{:?} is no other definition", o.text);
        }
    }
    check_invariants(&doc, &g.questions, 4);
}
