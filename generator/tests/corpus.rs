//! Generation on real PDFs of the quality corpus (`quality/corpus/`, see `quality/SOURCES.md`):
//! the behaviour teachers depend on, checked on what real tools (Chromium, groff, enscript +
//! Ghostscript) produce.

use exam_domain::validate::{SourceText, Validator};
use exam_domain::{GenerationParams, Question, QuestionKind};
use exam_generator::{Document, extract_pages, generate};

fn corpus(name: &str) -> Document {
    let path = format!("{}/../quality/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    extract_pages(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const ALL: [&str; 7] = [
    "bash-manpage.pdf",
    "groff-manpage.pdf",
    "lecture-with-gfdl.pdf",
    "python-license.pdf",
    "python-tutorial-classes.pdf",
    "python-tutorial-controlflow.pdf",
    "python-tutorial-errors.pdf",
];

fn questions(doc: &Document) -> Vec<Question> {
    generate(doc, GenerationParams::new(10, 4, 10).unwrap()).expect("questions").questions
}

#[test]
fn kerning_splits_ligatures_and_running_headers_are_repaired() {
    let text = corpus("python-license.pdf").pages.join("\n");
    // pdf-extract writes these apart (checked against pdftotext, see `make quality`).
    for broken in ["sof tware", "pr oject", "R esearch", "cor e development", "e xamples", "merchant ability"] {
        assert!(!text.contains(broken), "{broken:?} is still split");
    }
    for joined in ["software", "project", "Research", "core development", "examples"] {
        assert!(text.contains(joined), "{joined:?} missing");
    }
    let classes = corpus("python-tutorial-classes.pdf").pages.join("\n");
    assert!(!classes.contains(['ﬁ', 'ﬂ', 'ﬀ', 'ﬃ', 'ﬄ']), "ligature characters left");
    assert!(classes.contains("defined") && classes.contains("different"));
    // No citation marker after a sentence ("the same namespace! [1]").
    assert!(!classes.contains("! [1]"));
    let groff = corpus("groff-manpage.pdf");
    assert!(groff.pages.len() >= 5);
    for (i, p) in groff.pages.iter().enumerate() {
        assert!(!p.contains("General Commands Manual"), "running header on page {}", i + 1);
    }
}

#[test]
fn no_question_comes_from_licence_text() {
    let doc = corpus("lecture-with-gfdl.pdf");
    let qs = questions(&doc);
    assert_eq!(qs.len(), 20, "the lecture part still gives every question");
    for q in &qs {
        let quote = &q.source.as_ref().unwrap().quote;
        let lower = quote.to_lowercase();
        for legal in ["licen", "invariant", "transparent", "opaque", "copies", "copyright", "warrant", "the document"] {
            assert!(!lower.contains(legal), "licence sentence chosen: {quote}");
        }
    }
    // A document that is mostly a licence gives few questions, none from the licence terms.
    let licence = questions(&corpus("python-license.pdf"));
    assert!(licence.len() < 20, "{} questions from a licence", licence.len());
    for q in &licence {
        let lower = q.source.as_ref().unwrap().quote.to_lowercase();
        assert!(!lower.contains("licen") && !lower.contains("warrant") && !lower.contains("copyright"), "{lower}");
    }
}

/// The shape of an option: number, identifier from code, name, plural word, word.
fn shape(o: &str) -> &'static str {
    let core = o.trim().trim_start_matches("a ").trim_start_matches("an ").trim_start_matches("A ").trim_start_matches("An ");
    if core.chars().all(|c| c.is_ascii_digit() || ",.%".contains(c)) {
        "number"
    } else if core.contains(['_', '(']) || (!core.contains(' ') && core.chars().skip(1).any(char::is_uppercase)) {
        "code"
    } else if core.starts_with(char::is_uppercase) {
        "name"
    } else if core.ends_with('s') && !["ss", "us", "is"].iter().any(|e| core.ends_with(e)) {
        "plural"
    } else {
        "word"
    }
}

#[test]
fn options_are_of_one_kind_and_articles_agree() {
    let mut mcqs = 0;
    for name in ALL {
        let doc = corpus(name);
        for q in questions(&doc).iter().filter(|q| q.kind == QuestionKind::MultipleChoice) {
            mcqs += 1;
            let answer = shape(&q.correct_answer);
            for o in &q.options {
                assert_eq!(
                    shape(&o.text),
                    answer,
                    "{name}: option {:?} is not like the answer {:?}: {}",
                    o.text,
                    q.correct_answer,
                    q.question
                );
            }
            let before = q.question.split("_____").next().unwrap_or("");
            let article = before.split_whitespace().next_back().unwrap_or("").to_lowercase();
            if article == "a" || article == "an" {
                for o in &q.options {
                    let vowel = o.text.starts_with(['a', 'e', 'i', 'o']);
                    assert_eq!(article == "an", vowel, "{name}: \"{article} {}\" in {}", o.text, q.question);
                }
            }
        }
    }
    assert!(mcqs >= 50, "only {mcqs} multiple-choice questions from the corpus");
}

#[test]
fn every_question_passes_the_shared_validator_and_false_statements_differ() {
    for name in ALL {
        let doc = corpus(name);
        let source = SourceText::new(&doc.pages);
        let mut validator = Validator::new(Some(&source));
        let qs = questions(&doc);
        let mut quotes = std::collections::HashSet::new();
        for q in qs {
            let quote = q.source.as_ref().unwrap().quote.clone();
            assert!(quotes.insert(quote.clone()), "{name}: two questions from one sentence");
            let c = q.confidence.expect("generated questions carry a confidence");
            assert!((0.0..=1.0).contains(&c));
            assert!(q.rationale.as_deref().is_some_and(|r| r.contains(&format!("Page {}", q.source.as_ref().unwrap().page))));
            if q.kind == QuestionKind::TrueFalse && q.correct_option.as_str() == "false" {
                let statement = exam_domain::validate::true_false_statement(&q.question);
                assert_ne!(statement, quote, "{name}");
            }
            validator.admit(q.clone()).unwrap_or_else(|r| panic!("{name}: {r}: {q:#?}"));
        }
    }
}
