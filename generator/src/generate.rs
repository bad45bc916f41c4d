//! The question generator: sentences and key terms -> multiple-choice (fill the blank) and
//! true/false questions, each with its source page and quote. Deterministic and offline: no
//! clock, no randomness, no hash-map iteration; positions come from an FNV-1a hash of the text.

use std::collections::{BTreeMap, HashMap, HashSet};

use exam_domain::validate::{SourceText, Validator};
use exam_domain::{AnswerOption, GenerationParams, OptionId, Question, QuestionId, QuestionKind, SourceRef};

use crate::english;
use crate::extract::Document;
use crate::filter;
use crate::text::{self, Ending, Kind, Sentence, Term};

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

struct Candidate<'a> {
    sentence: Sentence<'a>,
    lower: String,
    words: HashSet<String>,
    terms: Vec<Term>,
    score: f64,
    hash: u64,
}

struct PoolItem {
    key: String,
    text: String,
    value: Option<f64>,
    /// The words just before and after its occurrences (lower case, a few at most).
    left: Vec<String>,
    right: Vec<String>,
    /// How specific it is against general English (0..=1, see [`english::rarity`]).
    rarity: f64,
}

/// Distinct terms of one kind, in first-occurrence order; numeric kinds also sorted by value.
struct Pool {
    items: Vec<PoolItem>,
    by_value: Vec<usize>,
}

struct Analysis<'a> {
    candidates: Vec<Candidate<'a>>,
    pools: BTreeMap<Kind, Pool>,
    /// In how many sentences each (kind, key) occurs.
    df: HashMap<(Kind, String), usize>,
    /// Share of a word's occurrences right after a determiner ("the", "a", "each", …): nouns.
    noun: HashMap<String, f64>,
    /// The whole text, lower case, one sentence per line: to check that a distractor does not
    /// make a true statement found elsewhere in the document.
    doc_lower: String,
}

const DETERMINERS: &[&str] =
    &["the", "a", "an", "this", "that", "each", "every", "its", "their", "our", "your", "these", "those", "any", "no", "some", "of", "new"];

/// The lower-case word before and after the byte range `start..end` of `s`.
fn neighbours(s: &str, start: usize, end: usize) -> (Option<String>, Option<String>) {
    let left = s[..start].split(|c: char| !c.is_alphanumeric()).rfind(|w| !w.is_empty()).map(str::to_lowercase);
    let right = s[end..].split(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).map(str::to_lowercase);
    // Only direct neighbours count: nothing but a space between.
    let left = left.filter(|_| s[..start].ends_with(' ') && !s[..start].trim_end().ends_with([',', ';', ':', '(', ')']));
    let right = right.filter(|_| s[end..].starts_with(' '));
    (left, right)
}

/// How rare a term's words are in general English: the rarest word counts.
fn term_rarity(key: &str) -> f64 {
    key.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() > 1).map(english::rarity).fold(0.0, f64::max)
}

fn analyse(sentences: Vec<Sentence<'_>>) -> Analysis<'_> {
    let known = text::known_proper(&sentences);
    let mut all_terms: Vec<Vec<Term>> = sentences.iter().map(|s| text::terms(s.text, &known)).collect();
    text::mark_surnames(&mut all_terms);

    let mut pools: BTreeMap<Kind, Pool> = BTreeMap::new();
    let mut seen: HashSet<(Kind, String)> = HashSet::new();
    let mut df: HashMap<(Kind, String), usize> = HashMap::new();
    for (s, terms) in sentences.iter().zip(&all_terms) {
        let mut in_sentence = HashSet::new();
        for t in terms {
            let id = (t.kind, t.key.clone());
            if in_sentence.insert(id.clone()) {
                *df.entry(id.clone()).or_default() += 1;
            }
            let (left, right) = neighbours(s.text, t.start, t.end);
            let pool = pools.entry(t.kind).or_insert_with(|| Pool { items: Vec::new(), by_value: Vec::new() });
            if seen.insert(id) {
                pool.items.push(PoolItem {
                    key: t.key.clone(),
                    text: s.text[t.start..t.end].to_owned(),
                    value: t.value,
                    left: Vec::new(),
                    right: Vec::new(),
                    rarity: term_rarity(&t.key),
                });
            }
            if let Some(item) = pool.items.iter_mut().rev().find(|i| i.key == t.key) {
                for (list, w) in [(&mut item.left, left), (&mut item.right, right)] {
                    if let Some(w) = w
                        && list.len() < 8
                        && !list.contains(&w)
                    {
                        list.push(w);
                    }
                }
            }
        }
    }
    let mut noun_counts: HashMap<String, (u32, u32)> = HashMap::new();
    let mut doc_lower = String::new();
    for s in &sentences {
        let lower = s.text.to_lowercase();
        let toks = text::tokens(&lower);
        for (k, &(a, b)) in toks.iter().enumerate() {
            let e = noun_counts.entry(lower[a..b].to_owned()).or_default();
            e.1 += 1;
            if k > 0 && DETERMINERS.contains(&&lower[toks[k - 1].0..toks[k - 1].1]) {
                e.0 += 1;
            }
        }
        doc_lower.push_str(&lower);
        doc_lower.push('\n');
    }
    let noun = noun_counts.into_iter().map(|(w, (d, n))| (w, f64::from(d) / f64::from(n.max(1)))).collect();
    for pool in pools.values_mut() {
        let mut idx: Vec<usize> = (0..pool.items.len()).filter(|&i| pool.items[i].value.is_some()).collect();
        idx.sort_by(|&a, &b| pool.items[a].value.partial_cmp(&pool.items[b].value).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b)));
        pool.by_value = idx;
    }

    let candidates = sentences
        .into_iter()
        .zip(all_terms)
        .filter(|(s, terms)| !terms.is_empty() && !s.text.trim_end_matches(['"', '\'', ')', '”', '’']).ends_with('?'))
        .map(|(sentence, terms)| {
            let words_n = sentence.text.split_whitespace().count();
            let mut score: f64 = terms
                .iter()
                .map(|t| t.kind.weight() + if df.get(&(t.kind, t.key.clone())).copied().unwrap_or(0) >= 2 { 0.75 } else { 0.0 })
                .sum();
            if !(8..=32).contains(&words_n) {
                score -= 1.0;
            }
            // Sentences that define or explain make better questions than asides.
            score += 1.5 * filter::explains(sentence.text);
            // "It was ..." means little without the sentence before it.
            let first = sentence.text.split_whitespace().next().unwrap_or("").to_lowercase();
            if ["it", "its", "this", "that", "these", "those", "they", "their", "he", "she", "his", "her", "such", "there"]
                .contains(&first.as_str())
            {
                score -= 3.0;
            }
            let lower = sentence.text.to_lowercase();
            let words = text::tokens(&lower).into_iter().map(|(a, b)| lower[a..b].to_owned()).collect();
            let hash = fnv(&[sentence.text.as_bytes()]);
            Candidate { sentence, lower, words, terms, score, hash }
        })
        .collect();
    Analysis { candidates, pools, df, noun, doc_lower }
}

impl Analysis<'_> {
    /// Up to `n` other terms of `term`'s kind that do not appear in the sentence, distinct from
    /// the answer and each other (case-insensitive, neither containing the other), that `fits`
    /// accepts and that do not make a statement the document makes elsewhere. Numeric kinds
    /// take the nearest values; others the terms used in the most similar places (same word
    /// before or after, similar specificity), ties broken by a hash of sentence and term.
    fn alternatives(&self, c: &Candidate<'_>, term: &Term, n: usize, fits: &dyn Fn(&PoolItem) -> bool) -> Option<Vec<&PoolItem>> {
        let pool = self.pools.get(&term.kind)?;
        if pool.items.len() <= n {
            return None;
        }
        let mut chosen: Vec<&PoolItem> = Vec::with_capacity(n);
        for idx in visit_order(self, pool, term, c) {
            let item = &pool.items[idx];
            let ok = item.key != term.key
                && !item.key.contains(&term.key)
                && !term.key.contains(&item.key)
                && !c.lower.contains(&item.key)
                && item.key.split([' ', '-']).filter(|w| w.len() >= 3).all(|w| !c.words.contains(w))
                && chosen.iter().all(|o| !o.key.contains(&item.key) && !item.key.contains(&o.key))
                && fits(item)
                && !self.makes_true(c, term, item);
            if ok {
                chosen.push(item);
                if chosen.len() == n {
                    return Some(chosen);
                }
            }
        }
        None
    }

    /// Whether putting `item` in place of `term` gives words the document itself says
    /// (three words either side): then the distractor would be a right answer too.
    fn makes_true(&self, c: &Candidate<'_>, term: &Term, item: &PoolItem) -> bool {
        let s = c.sentence.text;
        let left: Vec<&str> = s[..term.start].split_whitespace().rev().take(3).collect();
        let right: Vec<&str> = s[term.end..].split_whitespace().take(3).collect();
        if left.is_empty() && right.is_empty() {
            return false;
        }
        let mut probe = left.iter().rev().copied().collect::<Vec<_>>().join(" ");
        if !probe.is_empty() {
            probe.push(' ');
        }
        probe.push_str(&item.text);
        if !right.is_empty() && !s[term.end..].starts_with(|ch: char| !ch.is_whitespace()) {
            probe.push(' ');
        }
        probe.push_str(&right.join(" "));
        self.doc_lower.contains(&probe.to_lowercase())
    }

    fn is_topic(&self, t: &Term) -> bool {
        self.df.get(&(t.kind, t.key.clone())).copied().unwrap_or(0) >= 2
    }

    fn noun_share(&self, key: &str) -> f64 {
        self.noun.get(key).copied().unwrap_or(0.0)
    }

    /// How good `t` is to blank or swap: facts (names, dates, figures, identifiers) first, then
    /// document-specific nouns; everyday words, adverbs and adjectives last.
    fn term_score(&self, t: &Term) -> f64 {
        let mut s = t.kind.weight() + if self.is_topic(t) { 0.3 } else { 0.0 };
        if let Kind::Word(e) = t.kind {
            let rarity = term_rarity(&t.key);
            s += 1.2 * rarity + 0.8 * self.noun_share(&t.key);
            if e == Ending::Ly {
                s -= 2.0;
            }
            if ["ful", "ous", "ive", "able", "ible", "ical", "less", "est"].iter().any(|x| t.key.ends_with(x)) {
                s -= 0.5;
            }
            if rarity == 0.0 && !self.is_topic(t) {
                s -= 0.6;
            }
        }
        s
    }
}

/// The order in which pool items are tried as alternatives to `term`: numeric kinds nearest
/// value first; others by similarity of context, then cyclically from a hash-chosen place.
fn visit_order(a: &Analysis<'_>, pool: &Pool, term: &Term, c: &Candidate<'_>) -> Vec<usize> {
    if let (true, Some(v)) = (term.kind.is_numeric(), term.value) {
        let order = &pool.by_value;
        let val = |i: usize| pool.items[i].value.unwrap_or(0.0);
        let pos = order.partition_point(|&i| val(i) < v);
        let (mut lo, mut hi) = (pos, pos);
        let mut out = Vec::with_capacity(order.len());
        loop {
            let take_hi = match (lo.checked_sub(1), order.get(hi)) {
                (Some(l), Some(&h)) => (val(h) - v).abs() <= (v - val(order[l])).abs(),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => return out,
            };
            if take_hi {
                hi += 1;
                out.push(order[hi - 1]);
            } else {
                lo -= 1;
                out.push(order[lo]);
            }
        }
    } else {
        let len = pool.items.len();
        let start = (fnv(&[c.sentence.text.as_bytes(), term.key.as_bytes()]) % len as u64) as usize;
        let (left, right) = neighbours(c.sentence.text, term.start, term.end);
        let rarity = term_rarity(&term.key);
        let noun = a.noun_share(&term.key);
        let mut scored: Vec<(f64, usize, usize)> = (0..len)
            .map(|k| {
                let idx = (start + k) % len;
                let item = &pool.items[idx];
                let mut score = 0.0;
                if left.as_ref().is_some_and(|l| item.left.contains(l)) {
                    score += 2.0;
                }
                if right.as_ref().is_some_and(|r| item.right.contains(r)) {
                    score += 2.0;
                }
                score -= (item.rarity - rarity).abs();
                if matches!(term.kind, Kind::Word(_)) {
                    score -= (a.noun_share(&item.key) - noun).abs();
                }
                (score, k, idx)
            })
            .collect();
        scored.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal).then(x.1.cmp(&y.1)));
        scored.into_iter().map(|(_, _, i)| i).collect()
    }
}

/// A crude stem, to tell that "module" repeats "modules".
fn stem(w: &str) -> &str {
    for suffix in ["ies", "es", "s", "ed", "ing"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.len() >= 3
        {
            return s;
        }
    }
    w
}

/// Terms of a candidate, best to blank or swap first; each at most once in the sentence, and
/// never one whose stem the rest of the sentence repeats.
fn ranked_terms<'c>(a: &Analysis<'_>, c: &'c Candidate<'_>, used_kinds: &BTreeMap<Kind, usize>, allow_words: bool) -> Vec<&'c Term> {
    let mut ts: Vec<(f64, usize, &Term)> = c
        .terms
        .iter()
        .enumerate()
        .filter(|(_, t)| allow_words || !matches!(t.kind, Kind::Word(_)))
        .filter(|(_, t)| c.lower.matches(t.key.as_str()).count() == 1)
        .filter(|(_, t)| {
            !matches!(t.kind, Kind::Word(_)) || {
                let st = stem(&t.key);
                c.words.iter().filter(|w| *w != &t.key && stem(w) == st).count() == 0
            }
        })
        .map(|(i, t)| {
            let s = a.term_score(t) - 0.6 * used_kinds.get(&t.kind).copied().unwrap_or(0) as f64;
            (s, i, t)
        })
        .collect();
    ts.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal).then(x.1.cmp(&y.1)));
    ts.into_iter().map(|(_, _, t)| t).collect()
}

/// Whether a word takes "an": by sound, roughly (vowel letters, silent h, letter names of
/// acronyms, numbers read as "eight", "eleven", "eighteen").
fn takes_an(text: &str) -> bool {
    let t = text.trim_start_matches(|c: char| !c.is_alphanumeric());
    let first_word: String = t.chars().take_while(|c| c.is_alphanumeric()).collect();
    if first_word.len() >= 2 && first_word.chars().all(|c| c.is_ascii_uppercase()) {
        return first_word.starts_with(['A', 'E', 'F', 'H', 'I', 'L', 'M', 'N', 'O', 'R', 'S', 'X']);
    }
    let lower = first_word.to_lowercase();
    if lower.starts_with(|c: char| c.is_ascii_digit()) {
        return lower.starts_with('8') || lower == "11" || lower == "18" || lower.starts_with("11,") || lower.starts_with("18,");
    }
    if ["uni", "use", "usu", "uti", "eu", "one", "once", "ur", "ubi"].iter().any(|p| lower.starts_with(p)) {
        return false;
    }
    if ["hour", "honest", "honor", "honour", "heir"].iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    lower.starts_with(['a', 'e', 'i', 'o', 'u'])
}

/// The article "a"/"an" right before byte `start` of `s`: (its byte start, the article as
/// written).
fn article_before(s: &str, start: usize) -> Option<(usize, &str)> {
    let before = s[..start].strip_suffix(' ')?;
    let word_start = before.char_indices().rfind(|&(_, c)| !c.is_alphabetic()).map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[word_start..];
    matches!(word, "a" | "an" | "A" | "An").then_some((word_start, word))
}

/// "a"/"an" for `text`, capitalised like `like`.
fn article_for(text: &str, like: &str) -> String {
    let art = if takes_an(text) { "an" } else { "a" };
    if like.starts_with(char::is_uppercase) {
        let mut cs = art.chars();
        cs.next().map(|c| c.to_uppercase().collect::<String>() + cs.as_str()).unwrap_or_default()
    } else {
        art.to_owned()
    }
}

/// Whether the byte position `at` of `s` lies in an example ("for example, …", "such as …",
/// "e.g. …", "like …") rather than in the claim itself.
fn in_example(s: &str, at: usize) -> bool {
    let before = s[..at].to_lowercase();
    let clause_start = before.char_indices().rfind(|&(_, c)| matches!(c, ';' | '(' | ')' | '—' | ':')).map_or(0, |(i, c)| i + c.len_utf8());
    let clause = &before[clause_start..];
    ["for example", "for instance", "such as", "e.g.", "e. g.", "including", " like "].iter().any(|m| clause.contains(m))
}

/// Claim-changing replacements for a false statement: each puts a word into the statement
/// that the source does not have, so the statement is really different.
const FLIPS: &[(&str, &str)] = &[
    ("always", "never"),
    ("never", "always"),
    ("can", "cannot"),
    ("must", "must not"),
    ("increases", "decreases"),
    ("decreases", "increases"),
    ("increase", "decrease"),
    ("decrease", "increase"),
    ("larger", "smaller"),
    ("smaller", "larger"),
    ("faster", "slower"),
    ("slower", "faster"),
    ("higher", "lower"),
    ("lower", "higher"),
    ("mutable", "immutable"),
    ("immutable", "mutable"),
    ("more", "less"),
    ("first", "last"),
    ("minimum", "maximum"),
    ("maximum", "minimum"),
    ("inside", "outside"),
    ("outside", "inside"),
    ("only", "never"),
];

/// A flip available in the sentence: (byte start, byte end, replacement).
fn flip_in(s: &str) -> Option<(usize, usize, String)> {
    let toks = text::tokens(s);
    for &(a, b) in &toks {
        let w = &s[a..b];
        let Some(&(_, to)) = FLIPS.iter().find(|(from, _)| *from == w) else { continue };
        if toks.iter().filter(|&&(x, y)| &s[x..y] == w).count() != 1 || in_example(s, a) {
            continue;
        }
        // "only" flips only where it restricts a verb phrase ("is only used", "can only").
        if w == "only" {
            continue;
        }
        return Some((a, b, to.to_owned()));
    }
    None
}

/// The content words (longer than three letters) of a sentence, for near-duplicate checks.
fn content_set(s: &str) -> HashSet<String> {
    let lower = s.to_lowercase();
    text::tokens(&lower).into_iter().map(|(a, b)| lower[a..b].to_owned()).filter(|w| w.len() > 3).collect()
}

fn near_duplicate(a: &HashSet<String>, used: &[HashSet<String>]) -> bool {
    used.iter().any(|b| {
        let inter = a.intersection(b).count();
        let union = a.union(b).count().max(1);
        inter * 10 >= union * 6
    })
}

struct Mcq {
    order: usize,
    page: u32,
    quote: String,
    text: String,
    options: Vec<String>,
    correct: usize,
    confidence: f32,
    rationale: String,
}

enum Falsify {
    /// Replace the term with a sibling of its kind from the document.
    Swap(usize, usize, String, String),
    /// A claim-changing word ("always" → "never").
    Flip(usize, usize, String, String),
}

struct TrueFalse {
    page: u32,
    quote: String,
    statement: String,
    /// (original term, replacement) for a false statement.
    swap: Option<(String, String)>,
    confidence: f32,
    rationale: String,
}

/// How a term is described to the teacher in a rationale.
fn describe(a: &Analysis<'_>, t: &Term) -> String {
    let df = a.df.get(&(t.kind, t.key.clone())).copied().unwrap_or(0);
    let kind = match t.kind {
        Kind::Year | Kind::Decade => "a date".to_owned(),
        Kind::Number | Kind::Percent => "a figure".to_owned(),
        Kind::Acronym => "an acronym".to_owned(),
        Kind::Person | Kind::Surname => "a person's name".to_owned(),
        Kind::Org | Kind::Proper => "a name".to_owned(),
        Kind::Code(_) => "an identifier from code".to_owned(),
        Kind::Word(_) => {
            let r = term_rarity(&t.key);
            if r >= 0.75 {
                "a technical term (rare in general English)".to_owned()
            } else if r >= 0.45 {
                "a fairly specific word".to_owned()
            } else {
                "an everyday word".to_owned()
            }
        }
    };
    if df >= 2 { format!("{kind}, used in {df} sentences of the document") } else { kind }
}

fn clamp(c: f64) -> f32 {
    c.clamp(0.05, 0.95) as f32
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
    if usable == 0 {
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

    let mut used_sentence = vec![false; a.candidates.len()];
    let mut used_content: Vec<HashSet<String>> = Vec::new();
    let mut texts: HashSet<String> = HashSet::new();
    let mut used_kinds: BTreeMap<Kind, usize> = BTreeMap::new();

    // Multiple choice: blank one term, the options are terms of the same kind.
    let wanted_mcq = usize::from(params.mcq);
    let n_opts = usize::from(params.options);
    let mut mcqs: Vec<Mcq> = Vec::new();
    for &ci in &rank {
        if mcqs.len() == wanted_mcq {
            break;
        }
        let c = &a.candidates[ci];
        let content = content_set(c.sentence.text);
        if near_duplicate(&content, &used_content) {
            continue;
        }
        for t in ranked_terms(&a, c, &used_kinds, true) {
            if t.kind == Kind::Word(Ending::Ly) {
                continue;
            }
            let s = c.sentence.text;
            // "a"/"an" before the blank must agree with every option: prefer options that take
            // the same article; otherwise the article moves into the options.
            let article = article_before(s, t.start);
            let same_article = |item: &PoolItem| article.is_none_or(|(_, art)| takes_an(&item.text) == art.eq_ignore_ascii_case("an"));
            let (alts, article_in_options) = match a.alternatives(c, t, n_opts - 1, &same_article) {
                Some(alts) => (alts, false),
                None if article.is_some() => match a.alternatives(c, t, n_opts - 1, &|_| true) {
                    Some(alts) => (alts, true),
                    None => continue,
                },
                None => continue,
            };
            let (blank_start, answer, others): (usize, String, Vec<String>) = match article.filter(|_| article_in_options) {
                Some((art_start, art)) => {
                    let answer = s[art_start..t.end].to_owned();
                    let others = alts.iter().map(|p| format!("{} {}", article_for(&p.text, art), p.text)).collect();
                    (art_start, answer, others)
                }
                None => (t.start, s[t.start..t.end].to_owned(), alts.iter().map(|p| p.text.clone()).collect()),
            };
            let blanked = format!("{}{}{}", &s[..blank_start], BLANK, &s[t.end..]);
            if blanked.to_lowercase().contains(&t.key) {
                continue;
            }
            let text = format!("Complete the statement: \"{blanked}\"");
            if !texts.insert(text.clone()) {
                continue;
            }
            let correct = (c.hash % n_opts as u64) as usize;
            let mut options = others;
            options.insert(correct, answer);
            let explains = filter::explains(s);
            let context_hits = alts
                .iter()
                .filter(|p| {
                    let (l, r) = neighbours(s, t.start, t.end);
                    l.is_some_and(|l| p.left.contains(&l)) || r.is_some_and(|r| p.right.contains(&r))
                })
                .count();
            let rarity = if matches!(t.kind, Kind::Word(_)) { term_rarity(&t.key) } else { 0.8 };
            let confidence = clamp(
                0.3 + 0.2 * explains
                    + 0.25 * rarity
                    + if a.is_topic(t) { 0.1 } else { 0.0 }
                    + 0.15 * context_hits as f64 / alts.len().max(1) as f64
                    - if matches!(t.kind, Kind::Word(Ending::Ed | Ending::Ing)) { 0.15 } else { 0.0 },
            );
            let why_sentence = if explains >= 0.5 { "a sentence that defines or explains" } else { "a sentence with a checkable fact" };
            let rationale = format!(
                "Page {}: {why_sentence}. Blanked \"{}\": {}. Options: other terms of the same kind from the document{}{}.",
                c.sentence.page,
                &s[t.start..t.end],
                describe(&a, t),
                if context_hits > 0 { format!(", {context_hits} of them used in the same place elsewhere") } else { String::new() },
                if article_in_options { "; the article is part of each option so that it agrees" } else { "" }
            );
            *used_kinds.entry(t.kind).or_default() += 1;
            used_sentence[ci] = true;
            used_content.push(content.clone());
            mcqs.push(Mcq {
                order: c.sentence.order,
                page: c.sentence.page,
                quote: s.to_owned(),
                text,
                options,
                correct,
                confidence,
                rationale,
            });
            break;
        }
    }

    // Questions follow the document, not the ranking.
    mcqs.sort_by_key(|q| q.order);

    // True/false: only sentences that could be falsified, so "has no swappable term" never
    // gives the answer away. Pairs of consecutive questions get one true and one false.
    let wanted_tf = usize::from(params.true_false);
    let mut picks: Vec<(usize, Falsify, f64)> = Vec::new();
    for &ci in &rank {
        if picks.len() == wanted_tf {
            break;
        }
        if used_sentence[ci] {
            continue;
        }
        let c = &a.candidates[ci];
        let content = content_set(c.sentence.text);
        if near_duplicate(&content, &used_content) {
            continue;
        }
        let s = c.sentence.text;
        let mut terms = ranked_terms(&a, c, &used_kinds, false);
        terms.extend(ranked_terms(&a, c, &used_kinds, true).into_iter().filter(|t| matches!(t.kind, Kind::Word(_))));
        let swap = terms.into_iter().filter(|t| !in_example(s, t.start)).find_map(|t| {
            a.alternatives(c, t, 1, &|_| true)
                .map(|alt| (Falsify::Swap(t.start, t.end, s[t.start..t.end].to_owned(), alt[0].text.clone()), a.term_score(t), t.kind))
        });
        let flip = flip_in(s).map(|(x, y, to)| Falsify::Flip(x, y, s[x..y].to_owned(), to));
        let choice = match (swap, flip) {
            (Some((sw, score, kind)), Some(fl)) => {
                if c.hash.is_multiple_of(3) || matches!(kind, Kind::Word(_)) {
                    Some((fl, 2.0, None))
                } else {
                    Some((sw, score, Some(kind)))
                }
            }
            (Some((sw, score, kind)), None) => Some((sw, score, Some(kind))),
            (None, Some(fl)) => Some((fl, 2.0, None)),
            (None, None) => None,
        };
        if let Some((f, score, kind)) = choice {
            used_sentence[ci] = true;
            used_content.push(content);
            if let Some(k) = kind {
                *used_kinds.entry(k).or_default() += 1;
            }
            picks.push((ci, f, score));
        }
    }
    picks.sort_by_key(|(ci, _, _)| a.candidates[*ci].sentence.order);
    let mut tfs: Vec<TrueFalse> = Vec::new();
    for k in 0..picks.len() {
        let (ci, ref f, score) = picks[k];
        let c = &a.candidates[ci];
        let s = c.sentence.text;
        let pair_first = picks[k - k % 2].0;
        let first_is_true = a.candidates[pair_first].hash & 1 == 0;
        let is_true = (k % 2 == 0) == first_is_true;
        let (statement, swap, how) = match (is_true, f) {
            (true, _) => (s.to_owned(), None, "the statement is the sentence as written".to_owned()),
            (false, Falsify::Swap(x, y, orig, alt)) => (
                format!("{}{}{}", &s[..*x], alt, &s[*y..]),
                Some((orig.clone(), alt.clone())),
                format!("\"{orig}\" was swapped for \"{alt}\", another term of the same kind from the document"),
            ),
            (false, Falsify::Flip(x, y, orig, to)) => (
                format!("{}{}{}", &s[..*x], to, &s[*y..]),
                Some((orig.clone(), to.clone())),
                format!("the claim was reversed (\"{orig}\" → \"{to}\")"),
            ),
        };
        let text = format!("True or false: \"{statement}\"");
        if !texts.insert(text) {
            continue;
        }
        let explains = filter::explains(s);
        let confidence = clamp(0.4 + 0.2 * explains + 0.08 * score.min(3.0) + if is_true { 0.0 } else { 0.05 });
        let rationale = format!(
            "Page {}: {}; {how}.",
            c.sentence.page,
            if explains >= 0.5 { "a sentence that defines or explains" } else { "a sentence with a checkable fact" }
        );
        tfs.push(TrueFalse { page: c.sentence.page, quote: s.to_owned(), statement, swap, confidence, rationale });
    }

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
            explanation: Some(format!("Page {} says: \"{}\"", q.page, q.quote)),
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
