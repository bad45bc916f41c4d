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
    /// `left` and `right` without function words, hashed and sorted (see [`kin`]).
    pub(super) strong: (Vec<u64>, Vec<u64>),
}

/// Distinct terms of one kind, in first-occurrence order; numeric kinds also sorted by value.
pub(super) struct Pool {
    pub(super) items: Vec<PoolItem>,
    pub(super) by_value: Vec<usize>,
    /// Position of each key in `items`.
    pub(super) index: HashMap<String, usize>,
}

pub(super) struct Analysis<'a> {
    pub(super) candidates: Vec<Candidate<'a>>,
    pub(super) pools: BTreeMap<Kind, Pool>,
    /// In how many sentences each (kind, key) occurs.
    pub(super) df: HashMap<(Kind, String), usize>,
    /// How each lower-case word is used in the document (a part of speech, roughly).
    pub(super) profiles: HashMap<String, Profile>,
    /// The whole text, lower case, one sentence per line: to check that a distractor does not
    /// make a true statement found elsewhere in the document.
    pub(super) doc_lower: String,
}

/// How a word is used across the document: counts of its occurrences in telling places. No
/// tagger and no lexicon of parts of speech: the document's own usage tells a noun ("the
/// sequence", "a sequence of") from a verb ("consists of", "to prepend") or an adjective
/// ("an optional else clause", "is optional").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Profile {
    pub(super) n: u32,
    /// Right after a determiner ("the", "a", "each", …).
    pub(super) det: u32,
    /// Last word of a phrase: followed by punctuation, a function word or nothing ("the
    /// sequence of", "an exceptiongroup,"), not by another content word ("optional else").
    pub(super) head: u32,
    /// Right after a modal or a form of "do", with or without "not" ("can be", "does not
    /// strip").
    pub(super) verb: u32,
    /// Right after "to" (a verb, or a noun after the preposition: "to prepend", "to gxditview").
    pub(super) to: u32,
    /// Right after a form of "be" ("is iterable", "are unset").
    pub(super) be: u32,
}

impl Profile {
    fn add(&mut self, o: Profile) {
        self.n += o.n;
        self.det += o.det;
        self.head += o.head;
        self.verb += o.verb;
        self.to += o.to;
        self.be += o.be;
    }

    fn share(x: u32, n: u32) -> f64 {
        f64::from(x) / f64::from(n.max(1))
    }

    pub(super) fn det_share(&self) -> f64 {
        Self::share(self.det, self.n)
    }

    pub(super) fn head_share(&self) -> f64 {
        Self::share(self.head, self.n)
    }

    pub(super) fn verb_share(&self) -> f64 {
        Self::share(self.verb + self.to, self.n)
    }

    /// Used as a verb's base form: after a modal, or mostly after "to" and never after "the".
    pub(super) fn is_verb(&self) -> bool {
        self.verb >= 1 || (self.to >= 1 && self.det == 0 && self.to * 2 >= self.n)
    }
}

/// Words that start a new phrase: what follows the last word of a noun phrase ("the sequence
/// of", "an object is"). Not "else" or "finally": keywords a modifier can precede.
const PHRASE_ENDERS: &[&str] = &[
    "of", "in", "on", "at", "for", "with", "by", "from", "to", "into", "onto", "as", "about", "after", "before", "during", "over", "under",
    "between", "through", "without", "within", "and", "or", "but", "nor", "than", "that", "which", "who", "whose", "where", "when",
    "while", "if", "because", "so", "is", "are", "was", "were", "be", "been", "has", "have", "had", "can", "cannot", "may", "must", "will",
    "would", "should", "could", "might", "shall", "does", "do", "did", "the", "a", "an", "this", "these", "its", "their", "it", "they",
    "not",
];

/// Words after which a verb's base form comes (and "to", which may be a preposition).
pub(super) const VERB_LEFT: &[&str] =
    &["can", "cannot", "may", "must", "will", "would", "should", "could", "might", "shall", "does", "do", "did", "doesn't", "don't"];
/// Forms of "be", after which come participles, adjectives and predicate nouns.
pub(super) const BE: &[&str] = &["is", "are", "be", "was", "were", "been", "being", "isn't", "aren't"];

/// The place a term fills in its sentence, from its direct neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// After "to", a modal or "not": a verb.
    Verb,
    /// After a form of "be" and ending the phrase: a predicate ("is iterable", "are unset").
    Predicate,
    /// Before another content word: a modifier ("the ___ namespace").
    Modifier,
    /// Ending its phrase ("an ___,", "the ___ of"): a noun.
    Head,
}

pub(super) const DETERMINERS: &[&str] =
    &["the", "a", "an", "this", "that", "each", "every", "its", "their", "our", "your", "these", "those", "any", "no", "some", "of", "new"];

/// Everyday adjectives of six letters or more that no suffix gives away ("a simple command").
const COMMON_ADJECTIVES: &[&str] = &[
    "simple",
    "single",
    "common",
    "current",
    "certain",
    "proper",
    "separate",
    "correct",
    "complete",
    "entire",
    "private",
    "little",
    "former",
    "latter",
    "better",
    "bigger",
    "smaller",
    "larger",
    "higher",
    "greater",
    "further",
    "actual",
    "likely",
    "unique",
    "secure",
    "stable",
    "strict",
    "nested",
    "native",
    "remote",
    "random",
    "sorted",
    "unknown",
    "hidden",
    "broken",
    "invalid",
    "visible",
    "empty",
    "normal",
    "general",
    "special",
    "standard",
    "default",
    "optional",
    "various",
    "similar",
    "different",
];

/// What the options for one term must be like (see [`Analysis::fits_slot`]).
pub(super) struct Want<'p> {
    pos: Pos,
    mine: Profile,
    slot: Slot,
    /// The term's own pool item (its neighbours across the document).
    item: Option<&'p PoolItem>,
}

/// What comes right before a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    Det,
    Verb,
    To,
    Be,
}

/// What the lower-case word `l` (and `ll`, the one before it, for "not") says of the next.
fn left_class(ll: Option<&str>, l: &str) -> Option<Left> {
    let l = if l == "not" { ll? } else { l };
    // Not "that", "this", "those": also pronouns ("exceptions that occur").
    if ["the", "a", "an", "each", "every", "its", "their", "our", "your", "these", "any", "some", "no", "his", "her", "my"].contains(&l) {
        Some(Left::Det)
    } else if VERB_LEFT.contains(&l) {
        Some(Left::Verb)
    } else if l == "to" {
        Some(Left::To)
    } else if BE.contains(&l) {
        Some(Left::Be)
    } else {
        None
    }
}

/// Every word of a lower-case sentence with what comes right before it and whether it ends
/// its phrase (see [`Profile`]).
fn usages(lower: &str) -> Vec<(&str, Option<Left>, bool)> {
    let toks = text::tokens(lower);
    let mut out = Vec::with_capacity(toks.len());
    for (k, &(a, b)) in toks.iter().enumerate() {
        let word = |p: usize| &lower[toks[p].0..toks[p].1];
        // "over to gxditview(1)": a man-page reference is a name, whatever comes before it.
        let reference = lower[b..].starts_with('(') && lower[b + 1..].starts_with(|c: char| c.is_ascii_digit());
        let left = k.checked_sub(1).filter(|&p| &lower[toks[p].1..a] == " " && !reference);
        let left = left.and_then(|p| left_class(p.checked_sub(1).map(word), word(p)));
        let head = match toks.get(k + 1) {
            Some(&(c, d)) => &lower[b..c] != " " || PHRASE_ENDERS.contains(&&lower[c..d]),
            None => true,
        };
        out.push((&lower[a..b], left, head));
    }
    out
}

/// The place the term at `start..end` of `s` fills (see [`Slot`]); `verb`: whether the term
/// is used as a verb elsewhere (then "to ___" is a verb's place, not a preposition's).
pub(super) fn slot(s: &str, start: usize, end: usize, verb: bool) -> Slot {
    let before: Vec<String> = if s[..start].ends_with(' ') && !s[..start].trim_end().ends_with([',', ';', ':', '(', ')']) {
        s[..start]
            .split_whitespace()
            .rev()
            .take(2)
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’').to_lowercase())
            .collect()
    } else {
        Vec::new()
    };
    let left = before.first().and_then(|l| left_class(before.get(1).map(String::as_str), l));
    let right_direct = s[end..].strip_prefix(' ').and_then(|r| {
        let w = r.split(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '\'' | '’'))).next().unwrap_or("").to_lowercase();
        (!w.is_empty() && !text::is_stop(&w) && !DETERMINERS.contains(&w.as_str())).then_some(w)
    });
    match left {
        Some(Left::Verb) => Slot::Verb,
        Some(Left::To) if verb => Slot::Verb,
        _ if right_direct.is_some() => Slot::Modifier,
        Some(Left::Be) => Slot::Predicate,
        _ => Slot::Head,
    }
}

/// A word's part of speech as the document uses it (see [`Analysis::pos`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pos {
    Noun,
    Verb,
    Adjective,
    /// Too little evidence: a rare word used once or twice.
    Unknown,
}

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
            let pool = pools.entry(t.kind).or_insert_with(|| Pool { items: Vec::new(), by_value: Vec::new(), index: HashMap::new() });
            if seen.insert(id) {
                pool.index.insert(t.key.clone(), pool.items.len());
                pool.items.push(PoolItem {
                    key: t.key.clone(),
                    text: s.text[t.start..t.end].to_owned(),
                    value: t.value,
                    left: Vec::new(),
                    right: Vec::new(),
                    rarity: term_rarity(&t.key),
                    strong: (Vec::new(), Vec::new()),
                });
            }
            if let Some(item) = pool.index.get(&t.key).and_then(|&i| pool.items.get_mut(i)) {
                for (list, w) in [(&mut item.left, left), (&mut item.right, right)] {
                    if let Some(w) = w
                        && list.len() < 16
                        && !list.contains(&w)
                    {
                        list.push(w);
                    }
                }
            }
        }
    }
    let mut profiles: HashMap<String, Profile> = HashMap::new();
    let mut doc_lower = String::new();
    for s in &sentences {
        let lower = s.text.to_lowercase();
        for (word, slot_left, head) in usages(&lower) {
            let e = profiles.entry(word.to_owned()).or_default();
            e.n += 1;
            match slot_left {
                Some(Left::Det) => e.det += 1,
                Some(Left::Verb) => e.verb += 1,
                Some(Left::To) => e.to += 1,
                Some(Left::Be) => e.be += 1,
                None => {}
            }
            if head {
                e.head += 1;
            }
        }
        doc_lower.push_str(&lower);
        doc_lower.push('\n');
    }
    for pool in pools.values_mut() {
        for item in &mut pool.items {
            item.strong = (strong_neighbours(&item.left), strong_neighbours(&item.right));
        }
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
    Analysis { candidates, pools, df, profiles, doc_lower }
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
        let want = self.want(c, term);
        for idx in visit_order(self, pool, term, c) {
            let item = &pool.items[idx];
            let ok = item.key != term.key
                && !item.key.contains(&term.key)
                && !term.key.contains(&item.key)
                && !c.lower.contains(&item.key)
                && item.key.split([' ', '-']).filter(|w| w.len() >= 3).all(|w| !c.words.contains(w) && !c.words.iter().any(|x| stem(x) == stem(w)))
                && (!wants_noun || self.noun_share(&item.key) >= 0.1)
                // "expansions" (a noun) with nouns, not with "exists" or "specifies".
                && self.fits_want(&want, c, term, item)
                && chosen.iter().all(|o| !o.key.contains(&item.key) && !item.key.contains(&o.key))
                && !near_synonyms(&term.key, &item.key)
                // "job control" → "job jobspec": the option repeats the word before it.
                && left.as_deref().is_none_or(|l| l.len() < 3 || !item.key.starts_with(l))
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

    /// How `key` is used in the document, a plural counted with its singular ("sequences" with
    /// "sequence", so a plural noun is known as a noun even where it never follows "the").
    pub(super) fn profile(&self, key: &str) -> Profile {
        let mut p = self.profiles.get(key).copied().unwrap_or_default();
        if let Some(base) =
            key.strip_suffix("es").filter(|b| b.ends_with(['s', 'x', 'h']) && b.len() >= 3).or_else(|| key.strip_suffix('s'))
            && !key.ends_with("ss")
            && let Some(b) = self.profiles.get(base)
        {
            p.add(*b);
        }
        p
    }

    /// The part of speech of `key` as the document uses it: a verb after modals and "to"
    /// ("occurs" with "may occur"; "consists", whose singular noun the document never uses), a
    /// noun after determiners and at the end of phrases, an adjective after determiners but
    /// before nouns, or after "is".
    pub(super) fn pos(&self, key: &str) -> Pos {
        let p = self.profile(key);
        let plural_without_singular = key.len() > 3
            && key.ends_with('s')
            && !key.ends_with("ss")
            && !key.ends_with("us")
            && !key.ends_with("is")
            && !self.profiles.contains_key(&key[..key.len() - 1]);
        // "special", "optional", "dynamic": adjectives unless plainly used as nouns ("the
        // terminal.", "a directive of").
        let adjective_like =
            ["al", "ive", "ous", "ful", "able", "ible", "ic", "less"].iter().any(|x| key.ends_with(x)) || COMMON_ADJECTIVES.contains(&key);
        // A noun ends a phrase now and then even where it mostly modifies another ("the module
        // namespace", "a module."); an adjective-looking word needs to do so plainly.
        let noun = if adjective_like { p.det >= 2 && p.head_share() >= 0.5 } else { p.det >= 1 && p.head >= 1 };
        if p.is_verb() && p.det == 0 {
            Pos::Verb
        } else if noun {
            Pos::Noun
        } else if p.det >= 1 || p.be >= 1 {
            Pos::Adjective
        } else if plural_without_singular && p.head_share() >= 0.5 {
            Pos::Verb
        } else {
            Pos::Unknown
        }
    }

    pub(super) fn noun_share(&self, key: &str) -> f64 {
        self.profile(key).det_share()
    }

    /// Whether `item` can fill the place `term` fills in `c` the way `term` does: a verb for a
    /// verb ("does not prepend", not "does not available"), a predicate for a predicate, a
    /// noun for a noun ("an exceptiongroup", not "an optional"), a modifier like the answer
    /// (an adjective with adjectives, a noun used as a modifier with nouns).
    #[cfg(test)]
    pub(super) fn fits_slot(&self, c: &Candidate<'_>, term: &Term, item: &PoolItem) -> bool {
        self.fits_want(&self.want(c, term), c, term, item)
    }

    /// What [`Analysis::fits_slot`] needs of `term`, worked out once per question.
    pub(super) fn want<'p>(&'p self, c: &Candidate<'_>, term: &Term) -> Want<'p> {
        let mine = self.profile(&term.key);
        Want {
            pos: self.pos(&term.key),
            mine,
            slot: slot(c.sentence.text, term.start, term.end, mine.is_verb()),
            item: self.pools.get(&term.kind).and_then(|p| p.index.get(&term.key).and_then(|&i| p.items.get(i))),
        }
    }

    pub(super) fn fits_want(&self, w: &Want<'_>, c: &Candidate<'_>, term: &Term, item: &PoolItem) -> bool {
        if !matches!(term.kind, Kind::Word(_)) {
            return true;
        }
        let theirs = self.profile(&item.key);
        let same_pos = match (w.pos, self.pos(&item.key)) {
            (Pos::Unknown, p) => matches!(p, Pos::Unknown | Pos::Noun),
            (p, q) => p == q,
        };
        // A word seen only after "to" ("to define") is no option for a noun ("traceback").
        let verb_hint = (theirs.verb + theirs.to) >= 1 && theirs.det == 0;
        if !same_pos || (w.pos != Pos::Verb && verb_hint) {
            return false;
        }
        let mine = w.mine;
        let slot_ok = match w.slot {
            Slot::Verb => theirs.is_verb() && theirs.det_share() < 0.3,
            Slot::Predicate => theirs.be >= 1 || matches!(term.kind, Kind::Word(Ending::Ed)),
            Slot::Head => theirs.head >= 1 && (theirs.verb_share() < 0.3 || mine.verb_share() >= 0.3),
            Slot::Modifier => {
                // A noun modifies as often as it ends a phrase; an adjective hardly ever ends one.
                if mine.head_share() >= 0.25 { theirs.head_share() >= 0.25 } else { theirs.head_share() < 0.25 }
            }
        };
        // An everyday word is an option only when the document uses it where it uses the
        // answer ("function object" and "method object") or plainly as a noun of its own:
        // "minimum" or "simple" (each used once or twice) is no option for "method".
        let plain_noun = theirs.n >= 3 && theirs.det_share() >= 0.3 && theirs.head_share() >= 0.3;
        slot_ok
            && !(item.rarity <= 0.45
                && matches!(w.pos, Pos::Noun | Pos::Adjective | Pos::Unknown)
                && !matches!(term.kind, Kind::Word(Ending::Ed | Ending::Ing))
                && !(w.pos == Pos::Noun && plain_noun)
                && w.item.is_none_or(|m| kin(m, item) == 0)
                && !shares_context(c, term, item))
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

/// How many words other than function words the document puts right before or after both
/// `key` and `item` ("object" after "method" and after "function"): evidence of one sort.
pub(super) fn kin(mine: &PoolItem, item: &PoolItem) -> usize {
    let shared = |a: &[u64], b: &[u64]| a.iter().filter(|h| b.binary_search(h).is_ok()).count();
    shared(&mine.strong.0, &item.strong.0) + shared(&mine.strong.1, &item.strong.1)
}

/// Hashes of the neighbours in `words` that are no function words, sorted (for [`kin`]).
fn strong_neighbours(words: &[String]) -> Vec<u64> {
    let mut out: Vec<u64> = words
        .iter()
        .filter(|w| w.len() > 2 && !DETERMINERS.contains(&w.as_str()) && !text::is_stop(w) && !PHRASE_ENDERS.contains(&w.as_str()))
        .map(|w| fnv(&[w.as_bytes()]))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
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
        let mine = pool.index.get(&term.key).and_then(|&i| pool.items.get(i));
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
                    score += mine.map_or(0, |m| kin(m, item)) as f64;
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
        .filter(|(_, t)| !matches!(t.kind, Kind::Word(_)) || !repeated_in(c, &t.key))
        .map(|(i, t)| {
            let s = a.term_score(t) - 0.6 * used_kinds.get(&t.kind).copied().unwrap_or(0) as f64;
            (s, i, t)
        })
        .collect();
    ts.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal).then(x.1.cmp(&y.1)));
    ts.into_iter().map(|(_, _, t)| t).collect()
}

/// Whether the rest of `c` repeats the word `key` or a part of it ("double-quoted" in "the
/// closing double quote in a double-quoted string"), so that a blank would give it away.
pub(super) fn repeated_in(c: &Candidate<'_>, key: &str) -> bool {
    let st = stem(key);
    if c.words.iter().any(|w| w != key && stem(w) == st) {
        return true;
    }
    let parts: Vec<&str> = key.split('-').filter(|p| p.len() >= 3).collect();
    parts.len() > 1 && parts.iter().any(|p| c.words.iter().any(|w| w != key && !w.contains('-') && (w == p || stem(w) == stem(p))))
}

/// Participles every technical text uses for anything ("specified", "created", "given"): no
/// concept of the document, whatever their frequency.
const GENERIC_PARTICIPLES: &[&str] = &[
    "specified",
    "created",
    "provided",
    "defined",
    "described",
    "allowed",
    "required",
    "needed",
    "obtained",
    "followed",
    "performed",
    "supported",
    "determined",
    "involved",
    "included",
    "expected",
    "intended",
    "applied",
    "produced",
    "placed",
    "considered",
    "treated",
    "affected",
    "mentioned",
    "listed",
    "discussed",
    "presented",
    "introduced",
    "explained",
    "stated",
    "written",
    "available",
    "making",
    "taking",
    "giving",
    "having",
    "getting",
    "following",
    "including",
    "according",
    "allowing",
    "creating",
    "providing",
];

/// An everyday word (the two most common English tiers) is worth asking for only when it is a
/// topic of the document: used in four sentences or more, and as a noun or a participle. Never
/// an everyday adjective ("special", "classical", "standard") or a generic participle.
fn is_generic(a: &Analysis<'_>, t: &Term) -> bool {
    let Kind::Word(ending) = t.kind else { return false };
    if GENERIC_PARTICIPLES.contains(&t.key.as_str()) {
        return true;
    }
    if term_rarity(&t.key) > 0.45 {
        return false;
    }
    let df = a.df.get(&(t.kind, t.key.clone())).copied().unwrap_or(0);
    df < 4 || (a.pos(&t.key) != Pos::Noun && !matches!(ending, Ending::Ed))
}

/// Pairs of words a technical text uses for nearly one thing: swapping one for the other
/// leaves a statement true ("keyword parameters" for "keyword arguments"), and one is no
/// wrong option for the other.
const NEAR_SYNONYMS: &[(&str, &str)] = &[
    ("argument", "parameter"),
    ("directory", "folder"),
    ("option", "flag"),
    ("option", "switch"),
    ("error", "exception"),
    ("value", "result"),
    ("routine", "function"),
    ("procedure", "function"),
    ("subroutine", "function"),
    ("attribute", "property"),
    ("characters", "letters"),
    ("start", "beginning"),
    ("begin", "start"),
    ("end", "finish"),
    ("entries", "items"),
    ("program", "application"),
    // A part and its whole: an English mathematician is a British one.
    ("english", "british"),
    ("scottish", "british"),
    ("welsh", "british"),
];

/// Whether `x` and `y` (lower case) are near-synonyms, in any inflection ("arguments",
/// "parameters").
pub(super) fn near_synonyms(x: &str, y: &str) -> bool {
    NEAR_SYNONYMS.iter().any(|&(p, q)| (stem(x) == stem(p) && stem(y) == stem(q)) || (stem(x) == stem(q) && stem(y) == stem(p)))
}

/// Whether the term at `start..end` of `s` is no claim of the sentence: inside a
/// cross-reference ("(see SHELL BUILTIN COMMANDS below)", "see groff_font(5)"), a bare item
/// of a long list ("…, FUNCNAME, GROUPS, HISTCMD, …"), or part of an escape ("\C-r").
pub(super) fn in_aside(s: &str, start: usize, end: usize) -> bool {
    let before = &s[..start];
    if before.ends_with('\\') || before.ends_with(['-', '/', '.', '@']) {
        return true;
    }
    // Part of an option's name or argument: "-o default option", "the -p option".
    if before.split_whitespace().rev().take(2).any(|w| w.starts_with('-') && w[1..].starts_with(char::is_alphabetic)) {
        return true;
    }
    // A man-page reference: "documented in groff_diff(7)", "see gxditview(1)".
    let after = &s[end..];
    if after.starts_with('(') && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
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
        // A man-page reference and an option's own words (groff(1), bash(1)).
        assert!(aside("The groff extensions to the classical troff language are documented in groff_diff(7).", "groff_diff"));
        let s = "If the -o default option was supplied to complete when the compspec was defined, readline’s default completion will be performed.";
        assert!(aside(s, "option") && !aside(s, "compspec"));
        assert!(!aside("In 1642 the French mathematician Blaise Pascal built an adding machine.", "French"));
    }

    fn analysis(texts: &[&'static str]) -> Analysis<'static> {
        analyse(texts.iter().enumerate().map(|(order, &text)| Sentence { page: 1, order, text }).collect())
    }

    fn term<'c>(c: &'c Candidate<'_>, key: &str) -> &'c Term {
        c.terms.iter().find(|t| t.key == key).unwrap()
    }

    fn item<'p>(a: &'p Analysis<'_>, kind: Kind, key: &str) -> &'p PoolItem {
        let pool = &a.pools[&kind];
        &pool.items[pool.index[key]]
    }

    /// python-tutorial-errors: "an optional" (an adjective) was an option for "an
    /// exceptiongroup"; a noun still is one for a noun.
    #[test]
    fn a_noun_gets_nouns_as_options_not_adjectives() {
        let a = analysis(&[
            "For example, when collecting exceptions into an exceptiongroup, we may want to add context information for the individual errors.",
            "The try … except statement has an optional else clause, which, when present, must follow all except clauses.",
            "The try statement has another optional clause which is intended to define clean-up actions that must be executed under all circumstances.",
            "Nested exception groups are wrapped in an exceptiongroup of their own.",
            "Even if a statement or expression is syntactically correct, it may cause an error when an attempt is made to execute it.",
            "Some objects define standard clean-up actions to be undertaken when the object is no longer needed.",
        ]);
        assert_eq!(a.pos("optional"), Pos::Adjective);
        assert_eq!(a.pos("exceptiongroup"), Pos::Noun);
        assert_eq!(a.pos("attempt"), Pos::Noun);
        let other = Kind::Word(Ending::Other);
        let c = &a.candidates[0];
        assert!(!a.fits_slot(c, term(c, "exceptiongroup"), item(&a, other, "optional")));
        // "an attempt is made": a noun's place, where the noun "exceptiongroup" fits.
        let c = &a.candidates[4];
        assert!(a.fits_slot(c, term(c, "attempt"), item(&a, other, "exceptiongroup")));
        assert!(!a.fits_slot(c, term(c, "attempt"), item(&a, other, "optional")));
    }

    /// bash(1): "consists" (a verb) was swapped for "sequences" (a noun), and python-tutorial
    /// -errors' "occurs" for "instances".
    #[test]
    fn verbs_and_plural_nouns_are_told_apart_by_their_use() {
        let a = analysis(&[
            "The environment inherited by any executed command consists of the shell’s initial environment, whose values may be modified in the shell.",
            "A pipeline is a sequence of one or more commands separated by one of the control operators | or |&.",
            "A list is a sequence of one or more pipelines separated by one of the operators ;, &, &&, or ||.",
            "If no exception occurs, the except clause is skipped and execution of the try statement is finished.",
            "Many standard modules define their own exceptions to report errors that may occur in functions they define.",
            "The builtin ExceptionGroup wraps a list of exception instances so that they can be raised together.",
            "The variable is bound to an instance of the exception which typically has an args attribute.",
        ]);
        assert_eq!(a.pos("consists"), Pos::Verb, "no \"a consist\" anywhere: a verb's -s form");
        assert_eq!(a.pos("sequences"), Pos::Noun, "\"a sequence\" makes the plural a noun");
        assert_eq!(a.pos("occurs"), Pos::Verb, "\"may occur\"");
        assert_eq!(a.pos("instances"), Pos::Noun, "\"an instance\"");
    }

    /// groff(1): "does not ___" asked for a verb with "present", "available" and the program
    /// "gxditview" ("over to gxditview(1)") among the options.
    #[test]
    fn a_verb_gets_verbs_as_options() {
        let a = analysis(&[
            "The option must be specified with the necessary preceding minus sign(s) ‘-’ or ‘--’ because groff does not prepend any dashes before passing it to the postprocessor.",
            "Note that groff does not prepend ‘-’ (a minus sign) to arg before passing it to the spooler program.",
            "The printing spooler behavior is carried over to gxditview(1) by determining an argument for the -printCommand option of gxditview(1).",
            "A new preprocessor not available in classical troff is preconv(1) which converts various input encodings to something groff can understand.",
            "Combined with the many existing free conversion tools it is possible to format documents.",
            "The groff program can format documents in many output formats.",
        ]);
        let c = &a.candidates[0];
        let t = term(c, "prepend");
        let other = Kind::Word(Ending::Other);
        assert_eq!(slot(c.sentence.text, t.start, t.end, true), Slot::Verb);
        assert!(!a.fits_slot(c, t, item(&a, other, "gxditview")));
        assert!(!a.fits_slot(c, t, item(&a, other, "available")));
        assert!(a.fits_slot(c, t, item(&a, other, "understand")));
    }

    #[test]
    fn near_synonyms_are_never_options_or_swaps_for_each_other() {
        // python-tutorial-controlflow: "keyword parameters" for "keyword arguments" left the
        // statement true.
        assert!(near_synonyms("arguments", "parameters") && near_synonyms("parameter", "argument"));
        assert!(near_synonyms("english", "british"));
        assert!(!near_synonyms("arguments", "attributes") && !near_synonyms("french", "british"));
    }

    #[test]
    fn a_blank_whose_part_the_sentence_repeats_is_no_blank() {
        // bash(1): "the closing double quote in a _____ string" gave "double-quoted" away.
        let a = analysis(&[
            "Only backslash (\\) and single quotes can quote the history expansion character, but the history expansion character is also treated as quoted if it immediately precedes the closing double quote in a double-quoted string.",
            "Enclosing characters in double quotes preserves the literal value of all characters within the quotes.",
        ]);
        let c = &a.candidates[0];
        assert!(repeated_in(c, "double-quoted"));
        assert!(!repeated_in(c, "closing"));
    }

    #[test]
    fn stems_join_singular_plural_and_verb_forms() {
        assert_eq!(stem("namespaces"), stem("namespace"));
        assert_eq!(stem("defined"), stem("define"));
        assert_ne!(stem("module"), stem("method"));
    }
}
