//! What the model is told and how its reply becomes questions: chunking the document to the
//! context budget, sharing the requested counts between chunks, the prompt, the JSON Schema
//! of the reply, and a lenient reading of each item (the validator does the strict part).

use exam_domain::validate::true_false_statement;
use exam_domain::{AnswerOption, OptionId, Question, QuestionId, QuestionKind, SourceRef};
use serde_json::{Value, json};

pub const SYSTEM: &str = "You write exam questions for teachers from their lecture material. \
Every question must be answerable from the material alone and must cite the page and an exact quote that proves the answer. \
You reply with JSON only.";

/// A piece of the document that fits the model's context budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// (1-based page number, text); a long page may be split over several chunks.
    pub parts: Vec<(u32, String)>,
}

impl Chunk {
    pub fn chars(&self) -> usize {
        self.parts.iter().map(|(_, t)| t.chars().count()).sum()
    }

    pub fn pages(&self) -> impl Iterator<Item = u32> + '_ {
        self.parts.iter().map(|(p, _)| *p)
    }

    /// The excerpt as the prompt shows it: `[Page N]` before each page's text.
    pub fn excerpt(&self) -> String {
        let mut out = String::new();
        for (page, text) in &self.parts {
            out.push_str(&format!("[Page {page}]\n{text}\n\n"));
        }
        out
    }
}

/// Splits pages into chunks of at most `budget` characters of text, keeping pages whole where
/// they fit and otherwise splitting at paragraph, then sentence, then word boundaries.
pub fn chunks(pages: &[String], budget: usize) -> Vec<Chunk> {
    let budget = budget.max(200);
    let mut pieces: Vec<(u32, String)> = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for piece in split_to_fit(page.trim(), budget) {
            pieces.push((n, piece));
        }
    }
    let mut out: Vec<Chunk> = Vec::new();
    let mut current = Chunk { parts: Vec::new() };
    for (page, text) in pieces {
        if !current.parts.is_empty() && current.chars() + text.chars().count() > budget {
            out.push(std::mem::replace(&mut current, Chunk { parts: Vec::new() }));
        }
        current.parts.push((page, text));
    }
    if !current.parts.is_empty() {
        out.push(current);
    }
    out
}

fn split_to_fit(text: &str, budget: usize) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    if text.chars().count() <= budget {
        return vec![text.to_owned()];
    }
    for sep in ["\n", ". ", " "] {
        let units: Vec<&str> = text.split_inclusive(sep).collect();
        if units.len() < 2 {
            continue;
        }
        let mut out = Vec::new();
        let mut cur = String::new();
        for u in units {
            if !cur.is_empty() && cur.chars().count() + u.chars().count() > budget {
                out.push(std::mem::take(&mut cur));
            }
            cur.push_str(u);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        return out.into_iter().flat_map(|p| split_to_fit(p.trim(), budget)).collect();
    }
    // One unbreakable word longer than the budget.
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(budget).map(|c| c.iter().collect()).collect()
}

/// Shares `total` between chunks in proportion to `weights` (largest remainder; ties go to the
/// earlier chunk).
pub fn allocate(total: usize, weights: &[usize]) -> Vec<usize> {
    let sum: usize = weights.iter().sum();
    if sum == 0 || weights.is_empty() {
        return vec![0; weights.len()];
    }
    let mut shares: Vec<usize> = weights.iter().map(|w| total * w / sum).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(total * weights[i] % sum), i));
    let given: usize = shares.iter().sum();
    for &i in order.iter().take(total - given) {
        shares[i] += 1;
    }
    shares
}

/// The reply's JSON Schema (OpenAI strict mode: every property required, nothing else).
pub fn schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["questions"],
        "properties": {
            "questions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["kind", "question", "options", "answer", "page", "quote", "explanation"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["multiple_choice", "true_false"]},
                        "question": {"type": "string"},
                        "options": {"type": "array", "items": {"type": "string"}},
                        "answer": {"type": "string"},
                        "page": {"type": "integer"},
                        "quote": {"type": "string"},
                        "explanation": {"type": "string"}
                    }
                }
            }
        }
    })
}

/// What one request asks for.
pub struct Ask<'a> {
    pub chunk: &'a Chunk,
    pub mcq: usize,
    pub options: u8,
    pub true_false: usize,
    /// Question texts the new questions must not repeat.
    pub avoid: Vec<&'a str>,
    /// What was wrong with the previous reply for this chunk.
    pub feedback: &'a [String],
}

/// At most this many existing questions are listed in a prompt.
const MAX_AVOID: usize = 40;

pub fn user_prompt(a: &Ask<'_>) -> String {
    let mut p = format!(
        "Write {} multiple-choice questions (exactly {} options each) and {} true/false statements about the excerpt below.\n\n",
        a.mcq, a.options, a.true_false
    );
    p.push_str(
        "Rules:\n\
- Use only what the excerpt states. Ask about important content (facts, terms, people, dates, causes), not about layout or page numbers.\n\
- For every item give \"page\" (from the [Page N] marker) and \"quote\": one or two complete sentences copied character for character from that page that prove the answer.\n\
- Multiple choice: \"question\" asks one thing; \"options\" are different, plausible answers of the same kind, exactly one of them correct; \"answer\" repeats the correct option's text exactly. No \"all of the above\" or \"none of the above\".\n\
- True/false: \"question\" is a statement, not a question, in the quote's own words where possible; \"options\" is []; \"answer\" is \"True\" or \"False\". Make about half of them false by changing one fact of the quote (a name, number, date or term).\n\
- \"explanation\": one sentence on why the answer is right.\n",
    );
    if !a.avoid.is_empty() {
        p.push_str("- Do not repeat or rephrase any of these existing questions:\n");
        for q in a.avoid.iter().rev().take(MAX_AVOID).rev() {
            p.push_str(&format!("  * {}\n", clip(q, 200)));
        }
    }
    if !a.feedback.is_empty() {
        p.push_str("\nYour previous answer had these problems; avoid them:\n");
        for f in a.feedback {
            p.push_str(&format!("- {f}\n"));
        }
    }
    p.push_str(
        "\nReply with JSON only, in this shape: {\"questions\": [{\"kind\": \"multiple_choice\" or \"true_false\", \"question\": \"…\", \"options\": [\"…\"], \"answer\": \"…\", \"page\": 1, \"quote\": \"…\", \"explanation\": \"…\"}]}\n\nExcerpt:\n\n",
    );
    p.push_str(&a.chunk.excerpt());
    p
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The items of a reply: `{"questions": [...]}`, a bare array, or the first array of objects
/// under any key.
pub fn items(reply: &Value) -> Option<&Vec<Value>> {
    match reply {
        Value::Array(a) => Some(a),
        Value::Object(m) => m.get("questions").and_then(Value::as_array).or_else(|| m.values().find_map(Value::as_array)),
        _ => None,
    }
}

const LETTERS: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];

fn kind_of(item: &Value) -> Option<QuestionKind> {
    let k = item["kind"].as_str().or_else(|| item["type"].as_str())?.to_ascii_lowercase().replace(['-', ' ', '/'], "_");
    match k.as_str() {
        "multiple_choice" | "mcq" | "multiplechoice" => Some(QuestionKind::MultipleChoice),
        "true_false" | "tf" | "truefalse" | "boolean" => Some(QuestionKind::TrueFalse),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        _ => None,
    }
}

/// Reads one reply item into a question (temporary id `m<n>`); `Err` says what is missing in
/// words that go back to the model. `options` is how many a multiple-choice question must have.
pub fn to_question(item: &Value, n: usize, options: u8) -> Result<Question, String> {
    let question = item["question"].as_str().map(str::trim).filter(|q| !q.is_empty()).ok_or("an item has no \"question\"")?;
    let raw_options: Vec<String> = item["options"].as_array().map(|a| a.iter().filter_map(text).collect()).unwrap_or_default();
    let is_tf_options = raw_options.is_empty()
        || (raw_options.len() == 2 && raw_options[0].eq_ignore_ascii_case("true") && raw_options[1].eq_ignore_ascii_case("false"));
    let kind = kind_of(item).unwrap_or(if is_tf_options { QuestionKind::TrueFalse } else { QuestionKind::MultipleChoice });
    let answer = text(&item["answer"]).or_else(|| text(&item["correct_answer"])).ok_or("an item has no \"answer\"")?;
    let (question_text, options_out, correct) = match kind {
        QuestionKind::TrueFalse => {
            let correct = match answer.to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" => 0,
                "false" | "f" | "no" => 1,
                _ => {
                    return Err(format!(
                        "the true/false statement {:?} has the answer {answer:?} instead of \"True\" or \"False\"",
                        clip(question, 60)
                    ));
                }
            };
            let opts = vec![
                AnswerOption { id: OptionId::parse("true").expect("valid id"), text: "True".into() },
                AnswerOption { id: OptionId::parse("false").expect("valid id"), text: "False".into() },
            ];
            (format!("True or false: \"{}\"", true_false_statement(question)), opts, correct)
        }
        QuestionKind::MultipleChoice => {
            if raw_options.len() != usize::from(options) {
                return Err(format!("the question {:?} has {} options instead of {options}", clip(question, 60), raw_options.len()));
            }
            let opts: Vec<AnswerOption> = raw_options
                .iter()
                .enumerate()
                .map(|(i, t)| AnswerOption { id: OptionId::parse(LETTERS[i]).expect("valid id"), text: t.clone() })
                .collect();
            let correct = opts
                .iter()
                .position(|o| o.text == answer)
                .or_else(|| opts.iter().position(|o| o.text.eq_ignore_ascii_case(&answer)))
                .or_else(|| {
                    // "B", "b)", or a 0-based index.
                    let a = answer.trim_end_matches([')', '.', ':']);
                    LETTERS.iter().position(|l| l.eq_ignore_ascii_case(a)).or_else(|| a.parse::<usize>().ok()).filter(|&i| i < opts.len())
                })
                .ok_or_else(|| format!("the answer {answer:?} of {:?} is not one of its options", clip(question, 60)))?;
            (question.to_owned(), opts, correct)
        }
    };
    let page = item["page"].as_u64().or_else(|| item["page"].as_str().and_then(|s| s.trim().parse().ok())).unwrap_or(0);
    let source = item["quote"]
        .as_str()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|quote| SourceRef { page: u32::try_from(page).unwrap_or(0), quote: quote.to_owned() });
    Ok(Question {
        id: QuestionId::parse(&format!("m{n}")).expect("valid id"),
        kind,
        question: question_text,
        correct_answer: options_out[correct].text.clone(),
        correct_option: options_out[correct].id.clone(),
        options: options_out,
        source,
        explanation: item["explanation"].as_str().map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned),
        flags: Vec::new(),
        confidence: None,
        rationale: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_packed_into_chunks_within_the_budget() {
        let pages: Vec<String> = vec!["a".repeat(300), "b".repeat(300), "c".repeat(900), String::new(), "d".repeat(100)];
        let cs = chunks(&pages, 700);
        assert!(cs.iter().all(|c| c.chars() <= 700), "{:?}", cs.iter().map(Chunk::chars).collect::<Vec<_>>());
        assert_eq!(cs[0].pages().collect::<Vec<_>>(), [1, 2]);
        // Page 3 is longer than the budget and is cut; nothing is lost, the empty page is skipped.
        assert_eq!(cs.iter().map(Chunk::chars).sum::<usize>(), 1600);
        assert!(cs.iter().all(|c| c.pages().all(|p| p != 4)));
        let sentences = "One sentence here. ".repeat(100);
        let cs = chunks(&[sentences], 200);
        assert!(cs.len() > 5 && cs.iter().all(|c| c.chars() <= 200 && c.parts[0].1.ends_with('.')));
    }

    #[test]
    fn counts_are_shared_in_proportion_and_sum_up() {
        assert_eq!(allocate(5, &[100, 100, 100]), [2, 2, 1]);
        assert_eq!(allocate(3, &[1000, 10]), [3, 0]);
        assert_eq!(allocate(0, &[1, 2]), [0, 0]);
        assert_eq!(allocate(20, &[7, 3, 5, 1]).iter().sum::<usize>(), 20);
    }

    #[test]
    fn reply_items_are_read_leniently() {
        let mcq = json!({"kind": "multiple_choice", "question": "Who?", "options": ["Ada", "Alan", "Grace"], "answer": "alan", "page": "2", "quote": "Alan did it.", "explanation": "x"});
        let q = to_question(&mcq, 1, 3).unwrap();
        assert_eq!((q.kind, q.correct_option.as_str(), q.correct_answer.as_str()), (QuestionKind::MultipleChoice, "b", "Alan"));
        assert_eq!(q.source, Some(SourceRef { page: 2, quote: "Alan did it.".into() }));
        let by_letter = json!({"question": "Who?", "options": ["Ada", "Alan", "Grace"], "answer": "C)", "quote": "q"});
        assert_eq!(to_question(&by_letter, 1, 3).unwrap().correct_option.as_str(), "c");
        let tf = json!({"kind": "true_false", "question": "True or false: \"Ada wrote a program.\"", "options": [], "answer": false, "page": 1, "quote": "q"});
        let q = to_question(&tf, 2, 4).unwrap();
        assert_eq!((q.question.as_str(), q.correct_option.as_str()), ("True or false: \"Ada wrote a program.\"", "false"));
        assert!(
            to_question(&json!({"question": "Who?", "options": ["Ada", "Alan"], "answer": "Zed"}), 1, 2)
                .unwrap_err()
                .contains("not one of")
        );
        assert!(
            to_question(&json!({"question": "Who?", "options": ["Ada", "Alan"], "answer": "Ada"}), 1, 4)
                .unwrap_err()
                .contains("2 options instead of 4")
        );
        assert!(to_question(&json!({"kind": "true_false", "question": "S.", "answer": "maybe"}), 1, 4).is_err());
        assert!(items(&json!({"questions": [1]})).is_some() && items(&json!([1])).is_some() && items(&json!({"mcq": [1]})).is_some());
    }
}
