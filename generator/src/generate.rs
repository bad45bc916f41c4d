//! The question generator: sentences and key terms -> multiple-choice (fill the blank) and
//! true/false questions, each with its source page and quote. Deterministic and offline: no
//! clock, no randomness, no hash-map iteration; positions come from an FNV-1a hash of the text.

use std::collections::{BTreeMap, HashMap, HashSet};

use exam_domain::{AnswerOption, GenerationParams, OptionId, Question, QuestionId, QuestionKind, SourceRef};

use crate::extract::Document;
use crate::text::{self, Kind, Sentence, Term};

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
            if seen.insert(id) {
                let pool = pools.entry(t.kind).or_insert_with(|| Pool { items: Vec::new(), by_value: Vec::new() });
                pool.items.push(PoolItem { key: t.key.clone(), text: s.text[t.start..t.end].to_owned(), value: t.value });
            }
        }
    }
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
    Analysis { candidates, pools, df }
}

impl Analysis<'_> {
    /// Up to `n` other terms of `term`'s kind that do not appear in the sentence, distinct from
    /// the answer and each other (case-insensitive, neither containing the other). Numeric kinds
    /// take the nearest values; others start at a hash-chosen place in the pool.
    fn alternatives(&self, c: &Candidate<'_>, term: &Term, n: usize) -> Option<Vec<&PoolItem>> {
        let pool = self.pools.get(&term.kind)?;
        if pool.items.len() <= n {
            return None;
        }
        let mut chosen: Vec<&PoolItem> = Vec::with_capacity(n);
        for idx in visit_order(pool, term, c) {
            let item = &pool.items[idx];
            let ok = item.key != term.key
                && !item.key.contains(&term.key)
                && !term.key.contains(&item.key)
                && !c.lower.contains(&item.key)
                && item.key.split([' ', '-']).filter(|w| w.len() >= 3).all(|w| !c.words.contains(w))
                && chosen.iter().all(|o| !o.key.contains(&item.key) && !item.key.contains(&o.key));
            if ok {
                chosen.push(item);
                if chosen.len() == n {
                    return Some(chosen);
                }
            }
        }
        None
    }

    fn is_topic(&self, t: &Term) -> bool {
        self.df.get(&(t.kind, t.key.clone())).copied().unwrap_or(0) >= 2
    }
}

/// The order in which pool items are tried as alternatives to `term`: numeric kinds nearest
/// value first; others cyclically from a place chosen by a hash of sentence and term.
fn visit_order<'p>(pool: &'p Pool, term: &Term, c: &Candidate<'_>) -> Box<dyn Iterator<Item = usize> + 'p> {
    if let (true, Some(v)) = (term.kind.is_numeric(), term.value) {
        let order = &pool.by_value;
        let val = move |i: usize| pool.items[i].value.unwrap_or(0.0);
        let pos = order.partition_point(|&i| val(i) < v);
        let (mut lo, mut hi) = (pos, pos);
        Box::new(std::iter::from_fn(move || {
            let take_hi = match (lo.checked_sub(1), order.get(hi)) {
                (Some(l), Some(&h)) => (val(h) - v).abs() <= (v - val(order[l])).abs(),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => return None,
            };
            if take_hi {
                hi += 1;
                Some(order[hi - 1])
            } else {
                lo -= 1;
                Some(order[lo])
            }
        }))
    } else {
        let len = pool.items.len();
        let start = (fnv(&[c.sentence.text.as_bytes(), term.key.as_bytes()]) % len as u64) as usize;
        Box::new((0..len).map(move |k| (start + k) % len))
    }
}

/// Terms of a candidate, best to blank or swap first; each at most once in the sentence.
fn ranked_terms<'c>(a: &Analysis<'_>, c: &'c Candidate<'_>, used_kinds: &BTreeMap<Kind, usize>, allow_words: bool) -> Vec<&'c Term> {
    let mut ts: Vec<(f64, usize, &Term)> = c
        .terms
        .iter()
        .enumerate()
        .filter(|(_, t)| allow_words || !matches!(t.kind, Kind::Word(_)))
        .filter(|(_, t)| c.lower.matches(t.key.as_str()).count() == 1)
        .map(|(i, t)| {
            let s = t.kind.weight() + if a.is_topic(t) { 0.3 } else { 0.0 } - 0.6 * used_kinds.get(&t.kind).copied().unwrap_or(0) as f64;
            (s, i, t)
        })
        .collect();
    ts.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal).then(x.1.cmp(&y.1)));
    ts.into_iter().map(|(_, _, t)| t).collect()
}

fn replace(sentence: &str, t: &Term, with: &str) -> String {
    format!("{}{}{}", &sentence[..t.start], with, &sentence[t.end..])
}

struct Mcq {
    order: usize,
    page: u32,
    quote: String,
    text: String,
    options: Vec<String>,
    correct: usize,
}

struct TrueFalse {
    page: u32,
    quote: String,
    statement: String,
    /// (original term, replacement) for a false statement.
    swap: Option<(String, String)>,
}

/// Builds questions from `doc`. Same input, same output, byte for byte.
pub fn generate(doc: &Document, params: GenerationParams) -> Result<Generated, GenerateError> {
    let params =
        GenerationParams::new(params.mcq, params.options, params.true_false).map_err(|e| GenerateError::InvalidParams(e.to_string()))?;
    let mut sentences = text::sentences(&doc.pages);
    // A sentence repeated (running headers, a slide shown twice) is one source, not several.
    let mut seen = HashSet::new();
    sentences.retain(|s| seen.insert(s.text));
    let usable = sentences.len();
    if usable == 0 {
        return Err(GenerateError::NotEnoughText(0));
    }
    let a = analyse(sentences);
    let mut rank: Vec<usize> = (0..a.candidates.len()).collect();
    rank.sort_by(|&x, &y| a.candidates[y].score.partial_cmp(&a.candidates[x].score).unwrap_or(std::cmp::Ordering::Equal).then(x.cmp(&y)));

    let mut used_sentence = vec![false; a.candidates.len()];
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
        for t in ranked_terms(&a, c, &used_kinds, true) {
            let blanked = replace(c.sentence.text, t, BLANK);
            if blanked.to_lowercase().contains(&t.key) {
                continue;
            }
            let Some(alts) = a.alternatives(c, t, n_opts - 1) else { continue };
            let text = format!("Complete the statement: \"{blanked}\"");
            if !texts.insert(text.clone()) {
                continue;
            }
            let correct = (c.hash % n_opts as u64) as usize;
            let mut options: Vec<String> = alts.iter().map(|p| p.text.clone()).collect();
            options.insert(correct, c.sentence.text[t.start..t.end].to_owned());
            *used_kinds.entry(t.kind).or_default() += 1;
            used_sentence[ci] = true;
            mcqs.push(Mcq { order: c.sentence.order, page: c.sentence.page, quote: c.sentence.text.to_owned(), text, options, correct });
            break;
        }
    }

    // Questions follow the document, not the ranking.
    mcqs.sort_by_key(|q| q.order);

    // True/false: only sentences that could be falsified, so "has no swappable term" never
    // gives the answer away. Pairs of consecutive questions get one true and one false.
    let wanted_tf = usize::from(params.true_false);
    let mut picks: Vec<(usize, &Term, &PoolItem)> = Vec::new();
    for &ci in &rank {
        if picks.len() == wanted_tf {
            break;
        }
        if used_sentence[ci] {
            continue;
        }
        let c = &a.candidates[ci];
        let mut terms = ranked_terms(&a, c, &used_kinds, false);
        terms.extend(ranked_terms(&a, c, &used_kinds, true).into_iter().filter(|t| matches!(t.kind, Kind::Word(_))));
        for t in terms {
            if let Some(alt) = a.alternatives(c, t, 1) {
                used_sentence[ci] = true;
                *used_kinds.entry(t.kind).or_default() += 1;
                picks.push((ci, t, alt[0]));
                break;
            }
        }
    }
    picks.sort_by_key(|&(ci, _, _)| a.candidates[ci].sentence.order);
    let mut tfs: Vec<TrueFalse> = Vec::new();
    for (k, &(ci, t, alt)) in picks.iter().enumerate() {
        let c = &a.candidates[ci];
        let pair_first = picks[k - k % 2].0;
        let first_is_true = a.candidates[pair_first].hash & 1 == 0;
        let is_true = (k % 2 == 0) == first_is_true;
        let (statement, swap) = if is_true {
            (c.sentence.text.to_owned(), None)
        } else {
            let original = c.sentence.text[t.start..t.end].to_owned();
            (replace(c.sentence.text, t, &alt.text), Some((original, alt.text.clone())))
        };
        let text = format!("True or false: \"{statement}\"");
        if !texts.insert(text) {
            continue;
        }
        tfs.push(TrueFalse { page: c.sentence.page, quote: c.sentence.text.to_owned(), statement, swap });
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
        });
    }
    Ok(Generated { questions, notes })
}
