//! The exporters against checked-in golden files, read by hand against Moodle's GIFT and XML
//! formats (`question/format/gift/format.php`, `question/format/xml/format.php`) and RFC 4180.
//!
//! `UPDATE_GOLDEN=1 cargo test -p exam-domain --test export_golden` rewrites the files; review
//! the diff before committing it.

use std::path::PathBuf;

use exam_domain::export::{gift, moodle_xml, results_csv};
use exam_domain::{ExamId, GradeReport, QuestionBank, SubmissionRecord};

/// Every character the formats treat specially, in question text, options, explanation and
/// source quote.
fn bank() -> QuestionBank {
    let json = r#"{
        "title": "Tricky: {braces} & <tags>",
        "questions": [
            {"question": "Which operator compares in C: a = b, a == b or a ~ b?",
             "options": ["a == b", "a = b", "a ~ b", "%50% of {them}"], "correct_answer": "a == b",
             "explanation": "Use == to compare; = assigns. See #5.",
             "source": {"page": 3, "quote": "In C, == compares: x \\ y is not an operator."}},
            {"question": "The CDATA terminator ]]> needs care, & so do <b>tags</b>.",
             "options": ["True", "False"], "correct_answer": "True",
             "source": {"page": 7, "quote": "Line one\nline two"}},
            {"question": "Is this false?", "options": ["True", "False"], "correct_answer": "False"},
            {"question": "Pick the path", "options": ["C:\\temp", "/tmp", "~/home"], "correct_answer": 1}
        ]
    }"#;
    QuestionBank::from_json(json.as_bytes(), &ExamId::parse("exam-1").unwrap(), "unused").unwrap()
}

fn submissions() -> Vec<SubmissionRecord> {
    let sub = |student: &str, attempt, version, score, total, percent, passed| SubmissionRecord {
        exam_id: ExamId::parse("exam-1").unwrap(),
        student: student.into(),
        attempt,
        version,
        submitted_at: "2026-03-01T10:00:00.000Z".into(),
        answers: Default::default(),
        report: GradeReport { score, total, percent, passed, pass_mark: 50, results: vec![] },
        auto_submitted: false,
    };
    vec![
        sub("Ada Lovelace", 1, 1, 3, 4, 75.0, true),
        sub("=HYPERLINK(\"http://evil\",\"x\")", 1, 1, 0, 4, 0.0, false),
        sub("Smith, \"Bob\"", 2, 2, 2, 3, 66.7, true),
        sub("@admin", 1, 2, 1, 3, 33.3, false),
        sub("-1+1", 1, 2, 1, 3, 33.3, false),
        sub("+Zoë", 1, 2, 3, 3, 100.0, true),
    ]
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

#[test]
fn gift_matches_golden() {
    check("tricky.gift", &gift(&bank()));
}

#[test]
fn moodle_xml_matches_golden() {
    check("tricky.xml", &moodle_xml(&bank()));
}

#[test]
fn results_csv_matches_golden() {
    check("results.csv", &results_csv(&submissions()));
}

/// Properties the golden files must keep, stated so a careless regeneration cannot hide them.
#[test]
fn the_formats_keep_their_promises() {
    let g = gift(&bank());
    // One blank line between questions, each opening with its name.
    assert_eq!(g.matches("\n\n::").count(), 4);
    assert!(g.contains("{TRUE####"), "true/false answer with general feedback: {g}");
    assert!(g.contains("::3. Is this false?::[html]Is this false?{FALSE}"));
    // The wrong answer that looks like a weight keeps its text with an explicit zero weight.
    assert!(g.contains("\t~%0%%50% of \\{them\\}\n"));
    let x = moodle_xml(&bank());
    assert_eq!(x.matches("<question type=\"multichoice\">").count(), 2);
    assert_eq!(x.matches("<question type=\"truefalse\">").count(), 2);
    assert_eq!(x.matches("<single>true</single>").count(), 2);
    assert_eq!(x.matches("fraction=\"100\"").count(), 4);
    assert!(!x.replace("]]]]><![CDATA[>", "").contains("]]>]]>"));
    let csv = results_csv(&submissions());
    assert!(csv.lines().all(|l| !l.starts_with(['=', '+', '-', '@'])));
    assert!(csv.ends_with("\r\n"));
    assert_eq!(csv.matches("\r\n").count(), 7);
}
