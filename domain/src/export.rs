//! Exports: a question bank as Moodle GIFT or Moodle XML, submissions as CSV.
//!
//! * GIFT follows Moodle's own writer (`question/format/gift/format.php`): question text marked
//!   `[html]` and HTML-escaped, the reserved characters `\ ~ = # { } :` escaped with a
//!   backslash, line breaks written as `\n`, one blank line between questions; multiple choice
//!   as `{ =right ~wrong … }`, true/false as `{TRUE}` / `{FALSE}`.
//! * Moodle XML follows `question/format/xml/format.php`: `<quiz>` of `<question
//!   type="multichoice">` (`<single>true</single>`, `<answer fraction="100">` for the key) and
//!   `type="truefalse"` (answers `true` and `false`); text goes in a CDATA section whenever it
//!   contains markup characters, with `]]>` split across two sections.
//! * CSV is RFC 4180 (CRLF, quoted when needed, quotes doubled) with spreadsheet formula
//!   injection guarded: a text cell that starts with `= + - @`, a tab or a CR gets a leading `'`.
//!
//! The source page and quote travel as the general feedback, after the explanation, so the
//! teacher still sees where a question comes from once it is in Moodle.

use std::fmt::Write;

use crate::bank::{Question, QuestionBank, QuestionKind};
use crate::views::SubmissionRecord;

/// Longest question name; Moodle's names are short labels (its own limit is 255).
const NAME_CHARS: usize = 60;

/// "3. Capital of France?" (truncated), the question's name in Moodle's bank.
fn question_name(position: usize, q: &Question) -> String {
    let text: String = q.question.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = if text.chars().count() > NAME_CHARS {
        format!("{}…", text.chars().take(NAME_CHARS - 1).collect::<String>().trim_end())
    } else {
        text
    };
    format!("{position}. {short}")
}

/// Explanation and source, as one paragraph of plain text.
fn general_feedback(q: &Question) -> String {
    let mut parts = Vec::new();
    if let Some(e) = q.explanation.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        parts.push(e.to_owned());
    }
    if let Some(s) = &q.source {
        parts.push(format!("Source, page {}: “{}”", s.page, s.quote.trim()));
    }
    parts.join("\n")
}

/// `&`, `<`, `>` as entities: what HTML-formatted text needs. Quotes stay literal (they are
/// only special inside attributes), which also keeps `#` out of the output.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Moodle's `repchar`: backslash-escapes GIFT's reserved characters, newlines become `\n`.
fn gift_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '~' | '=' | '#' | '{' | '}' | ':' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for an `[html]` GIFT question: HTML-escaped, then GIFT-escaped.
fn gift_text(s: &str) -> String {
    gift_escape(&html_escape(s.trim()))
}

/// Moodle reads `~%50%…` as a 50 % answer weight. A wrong answer whose text happens to start
/// like that gets an explicit zero weight, which Moodle strips, leaving the text intact.
fn looks_like_weight(s: &str) -> bool {
    // Moodle's pattern: `^%\-*([0-9]{1,2})\.?([0-9]*)%`.
    let Some(rest) = s.strip_prefix('%') else { return false };
    let rest = rest.trim_start_matches('-');
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    match rest[digits..].chars().next() {
        Some('%') => true,
        Some('.') if digits <= 2 => rest[digits + 1..].trim_start_matches(|c: char| c.is_ascii_digit()).starts_with('%'),
        _ => false,
    }
}

/// The bank as a GIFT file, importable by Moodle's question bank ("GIFT format").
pub fn gift(bank: &QuestionBank) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "// {}", bank.title.replace(['\n', '\r'], " "));
    let _ = writeln!(out, "// {} questions, exported from Exams (exam {})", bank.questions.len(), bank.exam_id);
    out.push('\n');
    for (i, q) in bank.questions.iter().enumerate() {
        let _ = write!(out, "::{}::[html]{}", gift_escape(&question_name(i + 1, q)), gift_text(&q.question));
        let feedback = general_feedback(q);
        let feedback = if feedback.is_empty() { String::new() } else { format!("####{}", gift_text(&feedback)) };
        match q.kind {
            QuestionKind::TrueFalse => {
                let answer =
                    if q.correct_option.as_str() == "true" || q.correct_answer.eq_ignore_ascii_case("true") { "TRUE" } else { "FALSE" };
                let _ = writeln!(out, "{{{answer}{feedback}}}");
            }
            QuestionKind::MultipleChoice => {
                out.push_str("{\n");
                for o in &q.options {
                    let text = gift_text(&o.text);
                    if o.id == q.correct_option {
                        let _ = writeln!(out, "\t={text}");
                    } else if looks_like_weight(&text) {
                        let _ = writeln!(out, "\t~%0%{text}");
                    } else {
                        let _ = writeln!(out, "\t~{text}");
                    }
                }
                if !feedback.is_empty() {
                    let _ = writeln!(out, "\t{feedback}");
                }
                out.push_str("}\n");
            }
        }
        out.push('\n');
    }
    out
}

/// Drops characters XML 1.0 cannot carry at all (most C0 controls), even in CDATA.
fn xml_chars(s: &str) -> String {
    s.chars().filter(|&c| matches!(c, '\t' | '\n' | '\r') || !(c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}')).collect()
}

/// Moodle's `xml_escape`: text with markup characters goes in CDATA (split around `]]>`).
fn xml_text(raw: &str) -> String {
    let raw = xml_chars(raw);
    if raw.contains(['<', '>', '&', '"', '\'']) { format!("<![CDATA[{}]]>", raw.replace("]]>", "]]]]><![CDATA[>")) } else { raw }
}

/// HTML for a `format="html"` field: escaped text, line breaks kept.
fn html_paragraph(s: &str) -> String {
    format!("<p>{}</p>", html_escape(s.trim()).replace('\n', "<br>"))
}

/// The bank as Moodle XML, importable by Moodle's question bank ("Moodle XML format").
pub fn moodle_xml(bank: &QuestionBank) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n");
    let _ = writeln!(out, "<!-- {} -->", xml_chars(&bank.title).replace("--", "- -"));
    for (i, q) in bank.questions.iter().enumerate() {
        let kind = match q.kind {
            QuestionKind::MultipleChoice => "multichoice",
            QuestionKind::TrueFalse => "truefalse",
        };
        let feedback = general_feedback(q);
        let _ = writeln!(out, "  <question type=\"{kind}\">");
        let _ = writeln!(out, "    <name>\n      <text>{}</text>\n    </name>", xml_text(&question_name(i + 1, q)));
        let _ = writeln!(
            out,
            "    <questiontext format=\"html\">\n      <text>{}</text>\n    </questiontext>",
            xml_text(&html_paragraph(&q.question))
        );
        let feedback_html = if feedback.is_empty() { String::new() } else { html_paragraph(&feedback) };
        let _ =
            writeln!(out, "    <generalfeedback format=\"html\">\n      <text>{}</text>\n    </generalfeedback>", xml_text(&feedback_html));
        out.push_str("    <defaultgrade>1</defaultgrade>\n    <penalty>0</penalty>\n    <hidden>0</hidden>\n");
        match q.kind {
            QuestionKind::MultipleChoice => {
                out.push_str(
                    "    <single>true</single>\n    <shuffleanswers>true</shuffleanswers>\n    <answernumbering>abc</answernumbering>\n",
                );
                for o in &q.options {
                    let fraction = if o.id == q.correct_option { 100 } else { 0 };
                    let _ = writeln!(
                        out,
                        "    <answer fraction=\"{fraction}\" format=\"html\">\n      <text>{}</text>\n      <feedback format=\"html\">\n        <text></text>\n      </feedback>\n    </answer>",
                        xml_text(&html_escape(o.text.trim()))
                    );
                }
            }
            QuestionKind::TrueFalse => {
                let true_is_correct = q.correct_option.as_str() == "true" || q.correct_answer.eq_ignore_ascii_case("true");
                for (text, correct) in [("true", true_is_correct), ("false", !true_is_correct)] {
                    let fraction = if correct { 100 } else { 0 };
                    let _ = writeln!(
                        out,
                        "    <answer fraction=\"{fraction}\" format=\"moodle_auto_format\">\n      <text>{text}</text>\n      <feedback format=\"html\">\n        <text></text>\n      </feedback>\n    </answer>"
                    );
                }
            }
        }
        out.push_str("  </question>\n");
    }
    out.push_str("</quiz>\n");
    out
}

/// One CSV cell: quoted when it holds a comma, quote or line break; text that a spreadsheet
/// would run as a formula gets a leading `'`.
fn csv_cell(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

fn csv_row(out: &mut String, cells: &[String]) {
    out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
}

/// Submissions as CSV, one row per submission, in the order given.
pub fn results_csv(subs: &[SubmissionRecord]) -> String {
    let mut out = String::new();
    let header = ["student", "attempt", "version", "submitted_at", "score", "total", "percent", "passed"];
    csv_row(&mut out, &header.map(str::to_owned));
    for s in subs {
        csv_row(
            &mut out,
            &[
                s.student.clone(),
                s.attempt.to_string(),
                s.version.to_string(),
                s.submitted_at.clone(),
                s.report.score.to_string(),
                s.report.total.to_string(),
                format!("{:.1}", s.report.percent),
                if s.report.passed { "yes" } else { "no" }.to_owned(),
            ],
        );
    }
    out
}

/// Item statistics as CSV, one row per question in the bank's order, after a header row:
/// `position,question_id,question,facility,discrimination,upper_lower,answered,unanswered,flags,option_counts`.
///
/// * `facility`, `discrimination` (corrected item–total point-biserial) and `upper_lower` are
///   written with 3 decimals and left empty when undefined (`None`). These number cells are
///   our own formatting of an `f64` and are written as plain numbers, so a negative
///   discrimination stays a number a spreadsheet can sort (the formula guard is for text).
/// * `flags`: the flags' snake_case names joined by `;`, an unused distractor with its option
///   id: `negative_discrimination;unused_distractor:c`.
/// * `option_counts`: one compact column rather than one column per option (questions have 2
///   to 7 options): `option_id=count` joined by `;`, the key marked with `*` after its id, e.g.
///   `a=2;b*=5;c=0;d=3`.
///
/// Text cells (question id, question, flags, option counts) go through the same RFC 4180
/// quoting and formula-injection guard as [`results_csv`].
pub fn statistics_csv(stats: &crate::stats::ExamStatistics) -> String {
    use crate::stats::ItemFlag;
    fn number(v: Option<f64>) -> String {
        v.filter(|v| v.is_finite()).map(|v| format!("{v:.3}")).unwrap_or_default()
    }
    let mut out = String::new();
    let header = [
        "position",
        "question_id",
        "question",
        "facility",
        "discrimination",
        "upper_lower",
        "answered",
        "unanswered",
        "flags",
        "option_counts",
    ];
    csv_row(&mut out, &header.map(str::to_owned));
    for q in &stats.questions {
        let flags: Vec<String> = q
            .flags
            .iter()
            .map(|f| match f {
                ItemFlag::NegativeDiscrimination => "negative_discrimination".to_owned(),
                ItemFlag::UnusedDistractor { option_id } => format!("unused_distractor:{option_id}"),
            })
            .collect();
        let counts: Vec<String> =
            q.options.iter().map(|o| format!("{}{}={}", o.option_id, if o.correct { "*" } else { "" }, o.chosen)).collect();
        let cells = [
            q.position.to_string(),
            csv_cell(q.question_id.as_str()),
            csv_cell(&q.question),
            number(q.facility),
            number(q.discrimination),
            number(q.upper_lower),
            q.answered.to_string(),
            q.unanswered.to_string(),
            csv_cell(&flags.join(";")),
            csv_cell(&counts.join(";")),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gift_escapes_every_reserved_character() {
        assert_eq!(gift_escape(r"a~b=c#d{e}f:g\h"), r"a\~b\=c\#d\{e\}f\:g\\h");
        assert_eq!(gift_escape("two\r\nlines"), r"two\nlines");
        assert_eq!(gift_text("x < y & z"), "x &lt; y &amp; z");
    }

    #[test]
    fn weights_are_recognised_like_moodle_does() {
        assert!(looks_like_weight("%50%half"));
        assert!(looks_like_weight("%-5%x"));
        assert!(looks_like_weight("%33.3%x"));
        assert!(looks_like_weight("%100%x"));
        assert!(!looks_like_weight("%123.4%x"));
        assert!(!looks_like_weight("50%"));
        assert!(!looks_like_weight("%a%"));
    }

    #[test]
    fn csv_quotes_and_guards_cells() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn xml_text_uses_cdata_only_when_needed_and_splits_its_terminator() {
        assert_eq!(xml_text("plain"), "plain");
        assert_eq!(xml_text("<p>a</p>"), "<![CDATA[<p>a</p>]]>");
        assert_eq!(xml_text("a]]>b<"), "<![CDATA[a]]]]><![CDATA[>b<]]>");
        assert_eq!(xml_text("bell\u{7}"), "bell");
    }

    #[test]
    fn statistics_csv_has_a_header_row_and_guards_text_cells() {
        use crate::ids::{ExamId, OptionId, QuestionId};
        use crate::stats::{ExamStatistics, ItemFlag, ItemStatistics, OptionStatistics};
        let option = |id: &str, correct, chosen, share| OptionStatistics {
            option_id: OptionId::parse(id).unwrap(),
            text: id.to_uppercase(),
            correct,
            chosen,
            share,
        };
        let item = |position, question: &str, discrimination, flags| ItemStatistics {
            question_id: QuestionId::parse(&format!("q{position}")).unwrap(),
            position,
            question: question.to_owned(),
            kind: QuestionKind::MultipleChoice,
            answered: 3,
            unanswered: 1,
            facility: Some(0.5),
            discrimination,
            upper_lower: Some(-1.0 / 3.0),
            options: vec![option("a", false, 1, 0.25), option("b", true, 2, 0.5), option("c", false, 0, 0.0)],
            flags,
        };
        let stats = ExamStatistics {
            exam_id: ExamId::parse("e").unwrap(),
            version: 2,
            title: "t".into(),
            submissions: 4,
            max_score: 2,
            mean: Some(1.0),
            median: Some(1.0),
            std_dev: Some(0.5),
            kr20: None,
            histogram: vec![],
            questions: vec![
                item(
                    1,
                    "=HYPERLINK(\"x\"), or not?",
                    Some(-0.25),
                    vec![ItemFlag::NegativeDiscrimination, ItemFlag::UnusedDistractor { option_id: OptionId::parse("c").unwrap() }],
                ),
                item(2, "Plain", None, vec![]),
            ],
        };
        let csv = statistics_csv(&stats);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "position,question_id,question,facility,discrimination,upper_lower,answered,unanswered,flags,option_counts",
                "1,q1,\"'=HYPERLINK(\"\"x\"\"), or not?\",0.500,-0.250,-0.333,3,1,negative_discrimination;unused_distractor:c,a=1;b*=2;c=0",
                "2,q2,Plain,0.500,,-0.333,3,1,,a=1;b*=2;c=0",
                "",
            ]
        );
    }
}
