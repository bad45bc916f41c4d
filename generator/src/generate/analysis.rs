//! What every question kind shares: the candidate sentences with their key terms, the pools
//! of same-kind terms the distractors and swaps come from, and how terms are ranked.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::english;
use crate::filter;
use crate::text::{self, Ending, Kind, Sentence, Term};

use super::fnv;

pub(super) struct Candidate<'a> {
    pub(super) sentence: Sentence<'a>,
    pub(super) lower: String,
    pub(super) words: HashSet<String>,
    pub(super) terms: Vec<Term>,
    pub(super) score: f64,
    pub(super) hash: u64,
}

pub(super) struct PoolItem {
    pub(super) key: String,
    pub(super) text: String,
    pub(super) value: Option<f64>,
    /// The words just before and after its occurrences (lower case, a few at most).
    pub(super) left: Vec<String>,
    pub(super) right: Vec<String>,
    /// How specific it is against general English (0..=1, see [`english::rarity`]).
    pub(super) rarity: f64,
}

/// Distinct terms of one kind, in first-occurrence order; numeric kinds also sorted by value.
pub(super) struct Pool {
    pub(super) items: Vec<PoolItem>,
    pub(super) by_value: Vec<usize>,
}

pub(super) struct Analysis<'a> {
    pub(super) candidates: Vec<Candidate<'a>>,
    pub(super) pools: BTreeMap<Kind, Pool>,
    /// In how many sentences each (kind, key) occurs.
    pub(super) df: HashMap<(Kind, String), usize>,
    /// Share of a word's occurrences right after a determiner ("the", "a", "each", …): nouns.
    pub(super) noun: HashMap<String, f64>,
    /// The whole text, lower case, one sentence per line: to check that a distractor does not
    /// make a true statement found elsewhere in the document.
    pub(super) doc_lower: String,
}

pub(super) const DETERMINERS: &[&str] =
    &["the", "a", "an", "this", "that", "each", "every", "its", "their", "our", "your", "these", "those", "any", "no", "some", "of", "new"];

/// The lower-case word before and after the byte range `start..end` of `s`.
pub(super) fn neighbours(s: &str, start: usize, end: usize) -> (Option<String>, Option<String>) {
    let left = s[..start].split(|c: char| !c.is_alphanumeric()).rfind(|w| !w.is_empty()).map(str::to_lowercase);
    let right = s[end..].split(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).map(str::to_lowercase);
    // Only direct neighbours count: nothing but a space between.
    let left = left.filter(|_| s[..start].ends_with(' ') && !s[..start].trim_end().ends_with([',', ';', ':', '(', ')']));
    let right = right.filter(|_| s[end..].starts_with(' '));
    (left, right)
}

/// How rare a term's words are in general English: the rarest word counts.
pub(super) fn term_rarity(key: &str) -> f64 {
    key.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() > 1).map(english::rarity).fold(0.0, f64::max)
}

pub(super) fn analyse(sentences: Vec<Sentence<'_>>) -> Analysis<'_> {
    let known = text::known_proper(&sentences);
    let mut all_terms: Vec<Vec<Term>> = sentences.iter().map(|s| text::terms(s.text, &known)).collect();
    text::mark_surnames(&mut all_terms);
    // A capitalised English word the document also writes in lower case is a heading word or
    // a sentence start ("Completing", "Parameter", "Sequences"), not a name.
    let lower_words: HashSet<&str> = sentences
        .iter()
        .flat_map(|s| s.text.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.starts_with(|c: char| c.is_lowercase()))
        .collect();
    let lower_stems: HashSet<&str> = lower_words.iter().map(|w| stem(w)).collect();
    for terms in &mut all_terms {
        terms.retain(|t| t.kind != Kind::Proper || !(english::is_word(&t.key) && lower_stems.contains(stem(&t.key))));
    }

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
            let words: HashSet<String> = text::tokens(&lower).into_iter().map(|(a, b)| lower[a..b].to_owned()).collect();
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
    pub(super) fn alternatives(
        &self,
        c: &Candidate<'_>,
        term: &Term,
        n: usize,
        fits: &dyn Fn(&PoolItem) -> bool,
    ) -> Option<Vec<&PoolItem>> {
        let pool = self.pools.get(&term.kind)?;
        if pool.items.len() <= n {
            return None;
        }
        let mut chosen: Vec<&PoolItem> = Vec::with_capacity(n);
        // After a determiner the answer is a noun: so must every option be.
        let (left, _) = neighbours(c.sentence.text, term.start, term.end);
        let wants_noun = matches!(term.kind, Kind::Word(_)) && left.as_deref().is_some_and(|l| DETERMINERS.contains(&l) && l != "of");
        for idx in visit_order(self, pool, term, c) {
            let item = &pool.items[idx];
            let ok = item.key != term.key
                && !item.key.contains(&term.key)
                && !term.key.contains(&item.key)
                && !c.lower.contains(&item.key)
                && item.key.split([' ', '-']).filter(|w| w.len() >= 3).all(|w| !c.words.contains(w) && !c.words.iter().any(|x| stem(x) == stem(w)))
                && (!wants_noun || self.noun_share(&item.key) >= 0.1)
                // "expansions" (a noun) with nouns, not with "exists" or "specifies".
                && (!matches!(term.kind, Kind::Word(_)) || (self.noun_share(&item.key) - self.noun_share(&term.key)).abs() <= 0.35)
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
    pub(super) fn makes_true(&self, c: &Candidate<'_>, term: &Term, item: &PoolItem) -> bool {
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

    pub(super) fn is_topic(&self, t: &Term) -> bool {
        self.df.get(&(t.kind, t.key.clone())).copied().unwrap_or(0) >= 2
    }

    pub(super) fn noun_share(&self, key: &str) -> f64 {
        self.noun.get(key).copied().unwrap_or(0.0)
    }

    /// How good `t` is to blank or swap: facts (names, dates, figures, identifiers) first, then
    /// document-specific nouns; everyday words, adverbs and adjectives last.
    pub(super) fn term_score(&self, t: &Term) -> f64 {
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
pub(super) fn visit_order(a: &Analysis<'_>, pool: &Pool, term: &Term, c: &Candidate<'_>) -> Vec<usize> {
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
                // "Difference Engine" goes with "Analytical Engine", not with "Nobel Prize".
                if matches!(term.kind, Kind::Org) && head_word(&item.key) == head_word(&term.key) {
                    score += 3.0;
                }
                if matches!(term.kind, Kind::Word(_)) {
                    score -= (a.noun_share(&item.key) - noun).abs();
                }
                (score, k, idx)
            })
            .collect();
        scored.sort_unstable_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal).then(x.1.cmp(&y.1)));
        scored.into_iter().map(|(_, _, i)| i).collect()
    }
}

/// The last word of a name: what kind of thing it names ("engine", "protocol", "labs").
pub(super) fn head_word(key: &str) -> &str {
    key.rsplit(' ').next().unwrap_or(key)
}

/// Whether `item` is used in a place `term` is used (a word other than a function word
/// before or after it): evidence that the two are things of one sort.
pub(super) fn shares_context(c: &Candidate<'_>, term: &Term, item: &PoolItem) -> bool {
    let (l, r) = neighbours(c.sentence.text, term.start, term.end);
    let strong = |w: &String| w.len() > 2 && !DETERMINERS.contains(&w.as_str()) && !text::is_stop(w);
    l.filter(strong).is_some_and(|l| item.left.contains(&l)) || r.filter(strong).is_some_and(|r| item.right.contains(&r))
}

/// A crude stem, to tell that "module" repeats "modules".
pub(super) fn stem(w: &str) -> &str {
    let mut out = w;
    for suffix in ["ies", "es", "s", "ed", "ing"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.len() >= 3
        {
            out = s;
            break;
        }
    }
    // "namespace" and "namespaces", "define" and "defined" share a stem.
    match out.strip_suffix('e') {
        Some(s) if s.len() >= 3 => s,
        _ => out,
    }
}

/// Terms of a candidate, best to blank or swap first; each at most once in the sentence, and
/// never one whose stem the rest of the sentence repeats.
pub(super) fn ranked_terms<'c>(
    a: &Analysis<'_>,
    c: &'c Candidate<'_>,
    used_kinds: &BTreeMap<Kind, usize>,
    allow_words: bool,
) -> Vec<&'c Term> {
    let mut ts: Vec<(f64, usize, &Term)> = c
        .terms
        .iter()
        .enumerate()
        .filter(|(_, t)| allow_words || !matches!(t.kind, Kind::Word(_)))
        .filter(|(_, t)| c.lower.matches(t.key.as_str()).count() == 1)
        .filter(|(_, t)| !in_aside(c.sentence.text, t.start, t.end))
        .filter(|(_, t)| !is_generic(a, t))
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

/// An everyday word (the two most common English tiers) is worth asking for only when it is a
/// topic of the document: used in four sentences or more, and as a noun or a participle.
fn is_generic(a: &Analysis<'_>, t: &Term) -> bool {
    let Kind::Word(ending) = t.kind else { return false };
    if term_rarity(&t.key) > 0.45 {
        return false;
    }
    let df = a.df.get(&(t.kind, t.key.clone())).copied().unwrap_or(0);
    df < 4 || (a.noun_share(&t.key) < 0.2 && !matches!(ending, Ending::Ed))
}

/// Whether the term at `start..end` of `s` is no claim of the sentence: inside a
/// cross-reference ("(see SHELL BUILTIN COMMANDS below)", "see groff_font(5)"), a bare item
/// of a long list ("…, FUNCNAME, GROUPS, HISTCMD, …"), or part of an escape ("\C-r").
pub(super) fn in_aside(s: &str, start: usize, end: usize) -> bool {
    let before = &s[..start];
    if before.ends_with('\\') || before.ends_with(['-', '/', '.']) {
        return true;
    }
    let clause_start = before.rfind(['(', ';', ',']).map_or(0, |i| i + 1);
    let clause = before[clause_start..].trim_start().to_lowercase();
    if clause.starts_with("see ")
        || clause.starts_with("cf. ")
        || clause.contains(" see ")
        || clause.contains(" above ")
        || clause.contains(" below ")
    {
        return true;
    }
    // An item of a long list: "If any of BASH_ALIASES, BASH_ARGV0, BASH_CMDS, …".
    if s.matches(',').count() >= 4
        && (s[end..].starts_with(',') || before.ends_with(", ") || before.ends_with(" or ") || before.ends_with(" and "))
    {
        return true;
    }
    if s.matches(',').count() >= 3 {
        let seg_start = before.rfind(',').map_or(0, |i| i + 1);
        let seg_end = s[end..].find([',', '.', ';']).map_or(s.len(), |i| end + i);
        let seg = s[seg_start..seg_end].trim();
        let seg = ["or ", "and ", "including ", "such as "].iter().fold(seg, |x, p| x.strip_prefix(p).unwrap_or(x));
        if seg == &s[start..end] {
            return true;
        }
    }
    false
}

/// The content words (longer than three letters) of a sentence, for near-duplicate checks.
pub(super) fn content_set(s: &str) -> HashSet<String> {
    let lower = s.to_lowercase();
    text::tokens(&lower).into_iter().map(|(a, b)| lower[a..b].to_owned()).filter(|w| w.len() > 3).collect()
}

pub(super) fn near_duplicate(a: &HashSet<String>, used: &[HashSet<String>]) -> bool {
    used.iter().any(|b| {
        let inter = a.intersection(b).count();
        let union = a.union(b).count().max(1);
        inter * 10 >= union * 6
    })
}
/// How a term is described to the teacher in a rationale.
pub(super) fn describe(a: &Analysis<'_>, t: &Term) -> String {
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

pub(super) fn clamp(c: f64) -> f32 {
    c.clamp(0.05, 0.95) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aside(s: &str, term: &str) -> bool {
        let start = s.find(term).unwrap();
        in_aside(s, start, start + term.len())
    }

    #[test]
    fn cross_references_list_items_and_escapes_are_no_claim_to_ask_about() {
        let s = "When completion is attempted (see SHELL BUILTIN COMMANDS below), the programmable completion facilities are invoked.";
        assert!(aside(s, "SHELL"));
        assert!(!aside(s, "programmable"));
        let list =
            "If any of BASH_ALIASES, BASH_ARGV0, BASH_CMDS, FUNCNAME, GROUPS, or SRANDOM are unset, they lose their special properties.";
        assert!(aside(list, "BASH_ALIASES") && aside(list, "GROUPS") && aside(list, "SRANDOM"));
        assert!(!aside(list, "special"));
        assert!(aside("Each binding must be a separate argument, as in \\C-x\\C-r here.", "C-r"));
        assert!(!aside("In 1642 the French mathematician Blaise Pascal built an adding machine.", "French"));
    }

    #[test]
    fn stems_join_singular_plural_and_verb_forms() {
        assert_eq!(stem("namespaces"), stem("namespace"));
        assert_eq!(stem("defined"), stem("define"));
        assert_ne!(stem("module"), stem("method"));
    }
}
