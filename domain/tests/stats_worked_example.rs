//! `stats::analyse` against a worked example whose numbers were computed independently.
//!
//! The expected values come from a separate Python 3 script (kept outside the repository; its
//! inputs are the bank and response matrix below) that uses only the standard library:
//! `statistics.fmean`, `statistics.median`, `statistics.pstdev` (population standard
//! deviation), `statistics.correlation` (Pearson) and exact `fractions.Fraction` arithmetic
//! for the facility, KR-20 and upper-lower values. None of the Rust code is shared with it.
//!
//! The same conventions as the module documentation: item scores are 0/1, unanswered (and
//! foreign option ids, and answers to unknown questions) are wrong/ignored, variances are
//! population variances (divide by N), discrimination is the point-biserial correlation of
//! the item with the rest score (total minus the item), the upper/lower groups are the
//! `round(0.27 · N) = 3` first and last response sets of a stable ranking by total score,
//! highest first.

use std::collections::BTreeMap;

use exam_domain::stats::{ExamStatistics, HistogramBin, ItemFlag, analyse};
use exam_domain::{ExamId, OptionId, QuestionBank, QuestionId, QuestionKind};

const EPS: f64 = 1e-9;

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let a = actual.unwrap_or_else(|| panic!("{what}: expected {expected}, got None"));
    assert!((a - expected).abs() < EPS, "{what}: expected {expected}, got {a}");
}

/// Five questions: q1, q2, q5 multiple choice with four options, q3 true/false, q4 multiple
/// choice with three options.
fn bank() -> QuestionBank {
    let json = r#"{"title": "Cell biology quiz", "questions": [
        {"question": "Which organelle makes ATP?", "options": ["Ribosome", "Mitochondrion", "Golgi body", "Vacuole"], "correct_answer": "Mitochondrion"},
        {"question": "Where is DNA stored?", "options": ["Nucleus", "Cell wall", "Cytoplasm", "Lysosome"], "correct_answer": "Nucleus"},
        {"question": "Plant cells have a cell wall.", "options": ["True", "False"], "correct_answer": "True"},
        {"question": "Which process needs light?", "options": ["Respiration", "Fermentation", "Photosynthesis"], "correct_answer": "Photosynthesis"},
        {"question": "What does the Golgi body do?", "options": ["Stores water", "Digests waste", "Makes proteins", "Packages proteins"], "correct_answer": "Packages proteins"}
    ]}"#;
    QuestionBank::from_json(json.as_bytes(), &ExamId::parse("bio-1").unwrap(), "unused").unwrap()
}

/// The response matrix (keys: q1 b, q2 a, q3 true, q4 c, q5 d). `-` is no answer.
///
/// ```text
///        q1  q2  q3     q4  q5      extra     correct           total
///  s1    b   a   true   a   d                 1 1 1 0 1         4
///  s2    b   a   true   b   d                 1 1 1 0 1         4
///  s3    b   a   true   a   a                 1 1 1 0 0         3
///  s4    b   b   true   c   c                 1 0 1 1 0         3
///  s5    a   a   true   b   d       q9=a      0 1 1 0 1         3   (q9 does not exist)
///  s6    a   c   false  c   b                 0 0 0 1 0         1
///  s7    c   a   true   c   true              0 1 1 1 0         3   (q5=true: foreign option)
///  s8    d   b   -      c   c                 0 0 0 1 0         1
///  s9    a   c   false  c   -                 0 0 0 1 0         1
///  s10   c   b   false  c   a                 0 0 0 1 0         1
/// ```
///
/// q4 is answered correctly by the weaker students (negative discrimination); nobody picks
/// q2's option d (an unused distractor).
fn responses() -> Vec<BTreeMap<QuestionId, OptionId>> {
    let rows: [&[(&str, &str)]; 10] = [
        &[("q1", "b"), ("q2", "a"), ("q3", "true"), ("q4", "a"), ("q5", "d")],
        &[("q1", "b"), ("q2", "a"), ("q3", "true"), ("q4", "b"), ("q5", "d")],
        &[("q1", "b"), ("q2", "a"), ("q3", "true"), ("q4", "a"), ("q5", "a")],
        &[("q1", "b"), ("q2", "b"), ("q3", "true"), ("q4", "c"), ("q5", "c")],
        &[("q1", "a"), ("q2", "a"), ("q3", "true"), ("q4", "b"), ("q5", "d"), ("q9", "a")],
        &[("q1", "a"), ("q2", "c"), ("q3", "false"), ("q4", "c"), ("q5", "b")],
        &[("q1", "c"), ("q2", "a"), ("q3", "true"), ("q4", "c"), ("q5", "true")],
        &[("q1", "d"), ("q2", "b"), ("q4", "c"), ("q5", "c")],
        &[("q1", "a"), ("q2", "c"), ("q3", "false"), ("q4", "c")],
        &[("q1", "c"), ("q2", "b"), ("q3", "false"), ("q4", "c"), ("q5", "a")],
    ];
    rows.iter().map(|row| row.iter().map(|(q, o)| (QuestionId::parse(q).unwrap(), OptionId::parse(o).unwrap())).collect()).collect()
}

fn stats() -> ExamStatistics {
    analyse(&bank(), 3, &responses())
}

#[test]
fn exam_level_numbers() {
    let s = stats();
    assert_eq!((s.exam_id.as_str(), s.version, s.title.as_str()), ("bio-1", 3, "Cell biology quiz"));
    assert_eq!((s.submissions, s.max_score), (10, 5));
    // Totals 4 4 3 3 3 1 3 1 1 1: Σy = 24, Σy² = 72.
    // mean = 24/10 = 2.4 (statistics.fmean).
    close(s.mean, 2.4, "mean");
    // sorted 1 1 1 1 3 3 3 3 4 4: (3 + 3)/2 = 3 (statistics.median).
    close(s.median, 3.0, "median");
    // σ² = 72/10 − 2.4² = 36/25, σ = 6/5 (statistics.pstdev → 1.2).
    close(s.std_dev, 1.2, "std_dev");
    // p = 2/5, 1/2, 3/5, 3/5, 3/10 → Σpq = 6/25 + 1/4 + 6/25 + 6/25 + 21/100 = 59/50;
    // KR-20 = 5/4 · (1 − (59/50)/(36/25)) = 5/4 · 13/72 = 65/288 = 0.22569444444444445.
    close(s.kr20, 0.22569444444444445, "kr20");
    assert_eq!(
        s.histogram,
        [(0, 0), (1, 4), (2, 0), (3, 4), (4, 2), (5, 0)].map(|(v, count)| HistogramBin { from: v, to: v, count }).to_vec()
    );
    let order: Vec<(&str, u32)> = s.questions.iter().map(|q| (q.question_id.as_str(), q.position)).collect();
    assert_eq!(order, [("q1", 1), ("q2", 2), ("q3", 3), ("q4", 4), ("q5", 5)]);
    assert_eq!(s.questions[2].kind, QuestionKind::TrueFalse);
}

/// Per item: `(facility, point-biserial with the rest score, upper-lower, answered, unanswered)`.
///
/// The point-biserial is `(N·Σxr − Σx·Σr) / sqrt((N·Σx² − (Σx)²)(N·Σr² − (Σr)²))`:
///
/// ```text
///        Σx  Σr  Σr²  Σxr   r                        (statistics.correlation)
///  q1    4   20  48   10    20/sqrt(24·80)   =  0.4564354645876384
///  q2    5   19  43   12    25/sqrt(25·69)   =  0.601929265428846
///  q3    6   18  38   14    32/sqrt(24·56)   =  0.8728715609439693
///  q4    6   18  58    4   −68/sqrt(24·256)  = −0.8675276172357089
///  q5    3   21  53    8    17/sqrt(21·89)   =  0.39322785175034125
/// ```
///
/// Upper-lower with n = round(0.27·10) = 3: the stable ranking by total is s1 s2 (4), s3 s4
/// s5 s7 (3), s6 s8 s9 s10 (1), so the upper group is s1 s2 s3 (the tie at 3 goes to the
/// earliest response) and the lower group s8 s9 s10 (s6 stays out). q1: (3 − 0)/3 = 1;
/// q2: (3 − 0)/3 = 1; q3: (3 − 0)/3 = 1; q4: (0 − 3)/3 = −1; q5: (2 − 0)/3 = 2/3.
#[test]
fn item_level_numbers() {
    let s = stats();
    let expected = [
        (0.4, 0.4564354645876384, 1.0, 10, 0),
        (0.5, 0.601929265428846, 1.0, 10, 0),
        (0.6, 0.8728715609439693, 1.0, 9, 1),
        (0.6, -0.8675276172357089, -1.0, 10, 0),
        (0.3, 0.39322785175034125, 0.6666666666666666, 8, 2),
    ];
    for (item, (facility, r, ul, answered, unanswered)) in s.questions.iter().zip(expected) {
        let q = item.question_id.as_str();
        close(item.facility, facility, &format!("{q} facility"));
        close(item.discrimination, r, &format!("{q} discrimination"));
        close(item.upper_lower, ul, &format!("{q} upper_lower"));
        assert_eq!((item.answered, item.unanswered), (answered, unanswered), "{q} answered/unanswered");
    }
}

#[test]
fn option_counts_and_shares() {
    let s = stats();
    let expected: [&[(&str, u32)]; 5] = [
        &[("a", 3), ("b", 4), ("c", 2), ("d", 1)],
        &[("a", 5), ("b", 3), ("c", 2), ("d", 0)],
        &[("true", 6), ("false", 3)],
        &[("a", 2), ("b", 2), ("c", 6)],
        // s7's "true" is not an option of q5 and is not counted anywhere.
        &[("a", 2), ("b", 1), ("c", 2), ("d", 3)],
    ];
    let keys = ["b", "a", "true", "c", "d"];
    for ((item, counts), key) in s.questions.iter().zip(expected).zip(keys) {
        let got: Vec<(&str, u32)> = item.options.iter().map(|o| (o.option_id.as_str(), o.chosen)).collect();
        assert_eq!(got, counts, "{}", item.question_id);
        for o in &item.options {
            assert_eq!(o.correct, o.option_id.as_str() == key, "{} {}", item.question_id, o.option_id);
            assert!((o.share - f64::from(o.chosen) / 10.0).abs() < EPS);
        }
    }
    assert_eq!(s.questions[0].options[1].text, "Mitochondrion");
}

#[test]
fn flags() {
    let s = stats();
    let flags: Vec<&[ItemFlag]> = s.questions.iter().map(|q| q.flags.as_slice()).collect();
    assert_eq!(
        flags,
        [
            &[][..],
            &[ItemFlag::UnusedDistractor { option_id: OptionId::parse("d").unwrap() }][..],
            &[][..],
            &[ItemFlag::NegativeDiscrimination][..],
            &[][..],
        ]
    );
}

#[test]
fn travels_as_json() {
    let s = stats();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["questions"][1]["flags"], serde_json::json!([{"type": "unused_distractor", "option_id": "d"}]));
    assert_eq!(json["questions"][3]["flags"], serde_json::json!([{"type": "negative_discrimination"}]));
    let back: ExamStatistics = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
}
