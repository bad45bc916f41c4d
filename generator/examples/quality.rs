//! `make quality`: generates questions from every PDF of `quality/corpus/` and writes a report
//! to `target/quality/report.md` (and every question to `target/quality/questions.md` for a
//! teacher's review), then prints the report.
//!
//! Measures, per document: broken words against `pdftotext` (when it is installed) before and
//! after the repair pass, quotes from boilerplate (licence, legal, API reference, RFC keywords,
//! pointers at unseen material, code), near-duplicate sources, whether all options of a
//! multiple-choice question are of one kind, stems that give the answer away, false statements
//! identical to their source, validator rejections and flags, and the time to generate 20
//! questions (median of 7 runs, release build recommended).
//!
//! The checks here are deliberately independent of the generator's own filters: simple word
//! lists and shapes, so the report can disagree with the generator.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use exam_domain::validate::{SourceText, Validator, normalise};
use exam_domain::{GenerationParams, Question, QuestionKind};
use exam_generator::{Document, extract_pages, extract_pages_unrepaired, generate};

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// pdftotext's text with line-end hyphenation undone, or `None` without pdftotext.
fn oracle(pdf: &Path) -> Option<String> {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut joined = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        let next_lower = lines.peek().and_then(|n| n.trim_start().chars().next()).is_some_and(char::is_lowercase);
        if let Some(stem) = l.strip_suffix('-').filter(|s| s.ends_with(char::is_alphabetic) && next_lower) {
            joined.push_str(stem);
        } else {
            joined.push_str(l);
            joined.push('\n');
        }
    }
    // pdftotext keeps ligature characters as they are in the font; compare letters.
    Some(joined.replace('ﬁ', "fi").replace('ﬂ', "fl").replace('ﬀ', "ff").replace('ﬃ', "ffi").replace('ﬄ', "ffl"))
}

/// Share of our word tokens that pdftotext never produces (split or glued words), and examples.
fn broken(doc: &Document, oracle: &str) -> (usize, usize, Vec<String>) {
    let theirs: HashSet<String> = words(oracle).into_iter().collect();
    let ours: Vec<String> = doc.pages.iter().flat_map(|p| words(p)).collect();
    let bad: Vec<&String> = ours.iter().filter(|w| !theirs.contains(*w)).collect();
    let mut examples: Vec<String> = bad.iter().map(|w| (*w).clone()).collect::<HashSet<_>>().into_iter().collect();
    examples.sort();
    examples.truncate(8);
    (bad.len(), ours.len(), examples)
}

/// Why a quote looks like text no exam should ask about (independent word lists).
fn boilerplate(quote: &str) -> Option<&'static str> {
    let l = quote.to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| l.contains(w));
    if has(&[
        "licen",
        "copyright",
        "warrant",
        "invariant section",
        "transparent cop",
        "opaque cop",
        "royalty",
        "permission is",
        "terms and conditions",
        "all rights reserved",
        "liable",
        "hereby",
    ]) {
        return Some("licence/legal");
    }
    if has(&["returns:", "parameters:", "raises:", "return type:"]) {
        return Some("API boilerplate");
    }
    if [" MUST ", " SHALL ", " SHOULD NOT ", " MUST NOT ", " RECOMMENDED "].iter().any(|w| quote.contains(w)) {
        return Some("RFC 2119 keywords");
    }
    if has(&["the above", "this figure", "the following", "as follows", "below:", "shown here", "this example", "the example above"]) {
        return Some("points at unseen material");
    }
    if has(&[">>>", "def ", "();", "{ ", " = [", "print("]) || quote.matches(['(', ')', '=', '[', ']', '{', '}']).count() >= 4 {
        return Some("code");
    }
    if has(&["table of contents", "index", "bibliography"]) && quote.matches(char::is_numeric).count() > 6 {
        return Some("front/back matter");
    }
    None
}

/// The shape class of an option: what all options of one question should share.
fn shape(o: &str) -> String {
    let t = o.trim();
    let w: Vec<&str> = t.split_whitespace().collect();
    let first = w.first().copied().unwrap_or("");
    let article = if w.len() > 1 && matches!(first.to_lowercase().as_str(), "a" | "an" | "the") { "article+" } else { "" };
    let core = if article.is_empty() { t.to_owned() } else { w[1..].join(" ") };
    let kind = if core.chars().all(|c| c.is_ascii_digit() || ",.%".contains(c)) {
        "number"
    } else if core.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        "quantity"
    } else if core.contains(['_', '(', '.']) || core.chars().skip(1).any(|c| c.is_uppercase()) && !core.contains(' ') {
        "code"
    } else if core.chars().next().is_some_and(char::is_uppercase) {
        "name"
    } else {
        "word"
    };
    let plural = if kind == "word" && core.ends_with('s') && !core.ends_with("ss") { "/plural" } else { "" };
    let multi = if core.split_whitespace().count() > 1 && kind != "name" { "/multi" } else { "" };
    format!("{article}{kind}{plural}{multi}")
}

fn article_mismatch(q: &Question) -> bool {
    let Some(pos) = q.question.find("_____") else { return false };
    let before: Vec<&str> = q.question[..pos].split_whitespace().collect();
    let Some(art) = before.last().map(|w| w.to_lowercase()) else { return false };
    if art != "a" && art != "an" {
        return false;
    }
    q.options.iter().any(|o| {
        let vowel = o.text.trim().chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
        (art == "a") == vowel
    })
}

/// The kind of a generated question, from the wording of its stem.
fn question_kind(q: &Question) -> &'static str {
    let t = q.question.as_str();
    if q.kind == QuestionKind::TrueFalse {
        "true/false"
    } else if t.starts_with("Complete the statement") {
        "blank"
    } else if t.starts_with("Which of the following is true of") {
        "true of X"
    } else if t.starts_with("Which exception does") || t.starts_with("What does Python's interactive prompt") {
        "output"
    } else if t.starts_with("What ") || t.starts_with("Which term") {
        "definition"
    } else {
        "other"
    }
}

fn content(s: &str) -> HashSet<String> {
    words(s).into_iter().filter(|w| w.len() > 3).collect()
}

#[derive(Default)]
struct Row {
    name: String,
    pages: usize,
    words: usize,
    broken_before: Option<(usize, usize)>,
    broken_after: Option<(usize, usize)>,
    broken_examples: Vec<String>,
    extract_ms: f64,
    generate_ms: f64,
    generate_first_ms: f64,
    questions: usize,
    mcq: usize,
    boiler: BTreeMap<&'static str, usize>,
    near_dupes: usize,
    kinds_agree: usize,
    giveaways: usize,
    tf_false: usize,
    false_identical: usize,
    articles_bad: usize,
    rejected: usize,
    flagged: usize,
    pages_used: usize,
    error: Option<String>,
    confidence: Vec<f32>,
    kinds: BTreeMap<&'static str, usize>,
}

/// The speed target: 20 questions (10 + 10) from a 40-page document, the first 40
/// pages of the longest PDF of the corpus; median of 11 runs.
fn forty_pages(files: &[PathBuf]) -> Option<String> {
    let docs: Vec<(String, Document)> = files
        .iter()
        .filter_map(|p| Some((p.file_name()?.to_string_lossy().into_owned(), extract_pages(&std::fs::read(p).ok()?).ok()?)))
        .collect();
    let (name, doc) = docs.into_iter().max_by_key(|(_, d)| d.pages.len())?;
    if doc.pages.len() < 40 {
        return None;
    }
    let doc = Document { pages: doc.pages[..40].to_vec() };
    let params = GenerationParams::new(10, 4, 10).expect("valid parameters");
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..11 {
        let t = Instant::now();
        n = generate(&doc, params).map_or(0, |g| g.questions.len());
        times.push(t.elapsed());
    }
    let fastest = times.iter().min().map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    Some(format!(
        "**Speed**: {n} questions from the first 40 pages of {name} ({} words) in {:.1} ms (median of 11 runs, fastest {fastest:.1} ms{}; target < 100 ms).",
        doc.pages.iter().map(|p| p.split_whitespace().count()).sum::<usize>(),
        median(times),
        if cfg!(debug_assertions) { ", DEBUG build" } else { ", release build" }
    ))
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = std::env::var_os("QUALITY_CORPUS").map(PathBuf::from).unwrap_or_else(|| root.join("quality/corpus"));
    let out_dir = std::env::var_os("QUALITY_OUT").map(PathBuf::from).unwrap_or_else(|| root.join("target/quality"));
    std::fs::create_dir_all(&out_dir).expect("create the report directory");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    let params = GenerationParams::new(10, 4, 10).expect("valid parameters");
    let have_oracle = Command::new("pdftotext").arg("-v").output().is_ok();
    let mut rows = Vec::new();
    let mut dump = String::from("# Generated questions (10 multiple choice with 4 options + 10 true/false per document)\n\n");
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).expect("read the PDF");
        let mut row = Row { name: name.clone(), ..Row::default() };
        let t = Instant::now();
        let doc = match extract_pages(&bytes) {
            Ok(d) => d,
            Err(e) => {
                row.error = Some(e.to_string());
                rows.push(row);
                continue;
            }
        };
        row.extract_ms = t.elapsed().as_secs_f64() * 1000.0;
        row.pages = doc.pages.len();
        row.words = doc.pages.iter().map(|p| p.split_whitespace().count()).sum();
        if have_oracle && let Some(text) = oracle(path) {
            if let Ok(raw) = extract_pages_unrepaired(&bytes) {
                let (b, n, _) = broken(&raw, &text);
                row.broken_before = Some((b, n));
            }
            let (b, n, ex) = broken(&doc, &text);
            row.broken_after = Some((b, n));
            row.broken_examples = ex;
        }
        let t = Instant::now();
        let first = generate(&doc, params);
        row.generate_first_ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut times = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let _ = generate(&doc, params);
            times.push(t.elapsed());
        }
        row.generate_ms = median(times);
        let g = match first {
            Ok(g) => g,
            Err(e) => {
                row.error = Some(e.to_string());
                rows.push(row);
                continue;
            }
        };
        let source = SourceText::new(&doc.pages);
        let mut validator = Validator::new(Some(&source));
        let _ = writeln!(dump, "## {name}\n");
        for n in &g.notes {
            let _ = writeln!(dump, "> note: {n}\n");
        }
        let mut quotes: Vec<HashSet<String>> = Vec::new();
        let mut pages_used = HashSet::new();
        for q in &g.questions {
            row.questions += 1;
            let quote = q.source.as_ref().map(|s| s.quote.clone()).unwrap_or_default();
            pages_used.insert(q.source.as_ref().map(|s| s.page).unwrap_or(0));
            if let Some(c) = q.confidence {
                row.confidence.push(c);
            }
            let qkind = question_kind(q);
            *row.kinds.entry(qkind).or_default() += 1;
            // An output question quotes code on purpose.
            if let Some(kind) = boilerplate(&quote).filter(|k| !(qkind == "output" && *k == "code")) {
                *row.boiler.entry(kind).or_default() += 1;
            }
            let words_q = content(&quote);
            if quotes.iter().any(|o| {
                let inter = o.intersection(&words_q).count();
                let union = o.union(&words_q).count().max(1);
                inter * 10 >= union * 6
            }) {
                row.near_dupes += 1;
            }
            quotes.push(words_q);
            match validator.admit(q.clone()) {
                Err(_) => row.rejected += 1,
                Ok(a) if !a.flags.is_empty() => row.flagged += 1,
                Ok(_) => {}
            }
            match q.kind {
                QuestionKind::MultipleChoice => {
                    row.mcq += 1;
                    let shapes: HashSet<String> = q.options.iter().map(|o| shape(&o.text)).collect();
                    if shapes.len() == 1 {
                        row.kinds_agree += 1;
                    }
                    let stem = normalise(&q.question);
                    let answer = normalise(&q.correct_answer);
                    let answer_words: Vec<String> = words(&answer).into_iter().filter(|w| w.len() > 3).collect();
                    if !answer_words.is_empty() && answer_words.iter().all(|w| words(&stem).contains(w)) {
                        row.giveaways += 1;
                    }
                    if article_mismatch(q) {
                        row.articles_bad += 1;
                    }
                }
                QuestionKind::TrueFalse => {
                    if q.correct_option.as_str() == "false" {
                        row.tf_false += 1;
                        let statement = exam_domain::validate::true_false_statement(&q.question);
                        if normalise(statement) == normalise(&quote) {
                            row.false_identical += 1;
                        }
                    }
                }
            }
            let _ = writeln!(
                dump,
                "**{}** ({}, confidence {}) {}",
                q.id,
                question_kind(q),
                q.confidence.map_or("-".into(), |c| format!("{c:.2}")),
                q.question
            );
            for o in &q.options {
                let mark = if o.id == q.correct_option { " ✓" } else { "" };
                let _ = writeln!(dump, "- {}{mark}", o.text);
            }
            let _ = writeln!(dump, "\n  source p.{}: {}", q.source.as_ref().map_or(0, |s| s.page), quote);
            if let Some(r) = &q.rationale {
                let _ = writeln!(dump, "  why: {r}");
            }
            let _ = writeln!(dump);
        }
        row.pages_used = pages_used.len();
        rows.push(row);
    }

    let mut r = String::from("# Question quality report\n\n");
    let _ = writeln!(
        r,
        "Corpus: `{}` ({} PDFs). Each document: extraction, then 20 questions (10 multiple choice with 4 options, 10 true/false). \
         Times are wall-clock on this machine{}; generation is the median of 7 runs after a first run.\n",
        corpus.display(),
        files.len(),
        if cfg!(debug_assertions) { " in a DEBUG build (run `make quality` for release numbers)" } else { " (release build)" }
    );
    r.push_str("| document | pages | words | broken words before → after repair (vs pdftotext) | boilerplate quotes | near-dup. | options of one kind | stem giveaways | article mismatch | false = source | rejected / flagged | pages used | mean confidence | extract ms | generate ms (first) |\n");
    r.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let pct = |x: Option<(usize, usize)>| x.map_or("n/a".to_owned(), |(b, n)| format!("{:.2} % ({b})", 100.0 * b as f64 / n.max(1) as f64));
    let mut totals = (0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    for row in &rows {
        if let Some(e) = &row.error {
            let _ = writeln!(r, "| {} | {} | {} | | | | | | | | | | | | error: {e} |", row.name, row.pages, row.words);
            continue;
        }
        let boiler = if row.boiler.is_empty() {
            "0".to_owned()
        } else {
            row.boiler.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        };
        let mean = if row.confidence.is_empty() { f32::NAN } else { row.confidence.iter().sum::<f32>() / row.confidence.len() as f32 };
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} → {} | {} | {} | {}/{} | {} | {} | {}/{} | {} / {} | {} | {:.2} | {:.0} | {:.1} ({:.1}) |",
            row.name,
            row.pages,
            row.words,
            pct(row.broken_before),
            pct(row.broken_after),
            boiler,
            row.near_dupes,
            row.kinds_agree,
            row.mcq,
            row.giveaways,
            row.articles_bad,
            row.false_identical,
            row.tf_false,
            row.rejected,
            row.flagged,
            row.pages_used,
            mean,
            row.extract_ms,
            row.generate_ms,
            row.generate_first_ms
        );
        totals.0 += row.questions;
        totals.1 += row.boiler.values().sum::<usize>();
        totals.2 += row.near_dupes;
        totals.3 += row.kinds_agree;
        totals.4 += row.mcq;
        totals.5 += row.giveaways + row.articles_bad;
        totals.6 += row.false_identical;
        totals.7 += row.rejected;
        totals.8 += row.flagged;
    }
    let _ = writeln!(
        r,
        "\n**Totals**: {} questions; {} from boilerplate; {} near-duplicate sources; {}/{} multiple-choice questions with options of one kind; {} stem giveaways or article mismatches; {} false statements identical to their source; {} rejected and {} flagged by the shared validator.\n",
        totals.0, totals.1, totals.2, totals.3, totals.4, totals.5, totals.6, totals.7, totals.8
    );
    for row in rows.iter().filter(|r| r.error.is_none()) {
        let kinds: Vec<String> = row.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(r, "- {}: {}", row.name, kinds.join(", "));
    }
    r.push('\n');
    if let Some(t) = forty_pages(&files) {
        let _ = writeln!(r, "{t}\n");
    }
    for row in rows.iter().filter(|r| !r.broken_examples.is_empty()) {
        let _ = writeln!(r, "- {}: words pdftotext does not have: {}", row.name, row.broken_examples.join(", "));
    }
    let _ = writeln!(r, "\nEvery question is in `{}`.", out_dir.join("questions.md").display());
    std::fs::write(out_dir.join("report.md"), &r).expect("write the report");
    std::fs::write(out_dir.join("questions.md"), &dump).expect("write the questions");
    print!("{r}");
}
