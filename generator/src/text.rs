//! Text analysis for the generator: sentences with their page, tokens, and key terms of a kind
//! (years, numbers, names, acronyms, content words). Pure functions, no IO.

use std::collections::{BTreeMap, HashSet};

use crate::filter::{self, Skip};

/// One sentence exactly as it appears in its page's normalised text.
#[derive(Debug, Clone)]
pub(crate) struct Sentence<'a> {
    /// 1-based page number.
    pub page: u32,
    /// Position in the document (for document order).
    pub order: usize,
    pub text: &'a str,
}

const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "dr", "mr", "mrs", "ms", "prof", "st", "vs", "fig", "figs", "no", "nos", "cf", "al", "jr", "sr", "inc", "ltd", "approx",
    "ca", "dept", "univ", "vol", "pp", "ch", "sec", "eq", "eqs", "gen", "gov", "col", "lt", "capt", "mt", "resp", "viz",
];

/// Splits every page into sentences and keeps those that can carry a question:
/// 6..=40 words, starting with a capital, digit or quote, ending in `.`, `!` or `?`, and not
/// boilerplate (see [`crate::filter`]).
#[cfg(test)]
pub(crate) fn sentences(pages: &[String]) -> Vec<Sentence<'_>> {
    sentences_with_skips(pages).0
}

/// [`sentences`], and how many sentences were left out for each reason.
pub(crate) fn sentences_with_skips(pages: &[String]) -> (Vec<Sentence<'_>>, BTreeMap<Skip, usize>) {
    let per_page: Vec<Vec<&str>> =
        pages.iter().map(|page| page.split('\n').flat_map(split_paragraph).filter(|s| is_usable(s)).collect()).collect();
    let legal = filter::legal_pages(&per_page);
    let matter = filter::matter_pages(pages);
    let mut out = Vec::new();
    let mut skipped: BTreeMap<Skip, usize> = BTreeMap::new();
    for (i, page) in per_page.into_iter().enumerate() {
        let page_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for s in page {
            let reason = if legal[i] {
                Some(Skip::Legal)
            } else if matter[i] {
                Some(Skip::Matter)
            } else {
                filter::skip_reason(s)
            };
            match reason {
                Some(r) => *skipped.entry(r).or_default() += 1,
                None => out.push(Sentence { page: page_no, order: out.len(), text: s }),
            }
        }
    }
    (out, skipped)
}

const CLOSERS: &[char] = &['"', '\'', ')', ']', '”', '’'];

fn split_paragraph(p: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = p.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if matches!(c, '.' | '!' | '?') {
            let mut j = i + 1;
            while j < chars.len() && CLOSERS.contains(&chars[j].1) {
                j += 1;
            }
            let at_end = j == chars.len();
            let next_ok = at_end
                || (chars[j].1.is_whitespace()
                    && chars.get(j + 1).is_some_and(|&(_, n)| n.is_uppercase() || n.is_ascii_digit() || "\"“'‘(".contains(n)));
            if next_ok && !(c == '.' && is_abbreviation(&p[start..pos])) {
                let end = if at_end { p.len() } else { chars[j].0 };
                let s = p[start..end].trim();
                if !s.is_empty() {
                    out.push(s);
                }
                start = end;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    let rest = p[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Whether the word just before a full stop makes it an abbreviation, not a sentence end.
fn is_abbreviation(before: &str) -> bool {
    let word = before.rsplit(char::is_whitespace).next().unwrap_or("").trim_start_matches(['(', '"', '“']);
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    let mut letters = word.chars();
    // An initial ("J. Smith") or dotted letters ("U.S").
    match (letters.next(), letters.next()) {
        (Some(c), None) => c.is_uppercase(),
        _ => word.len() <= 6 && word.split('.').all(|part| part.chars().count() == 1),
    }
}

fn is_usable(s: &str) -> bool {
    let words = s.split_whitespace().count();
    if !(6..=40).contains(&words) {
        return false;
    }
    let core = s.trim_end_matches(CLOSERS);
    if !core.ends_with(['.', '!', '?']) {
        return false;
    }
    let Some(first) = s.chars().next() else { return false };
    if !(first.is_uppercase() || first.is_ascii_digit() || "\"“'‘(".contains(first)) {
        return false;
    }
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    letters * 2 >= s.len() && !s.contains("_____")
}

/// Byte ranges of the words of `s`: letters and digits, with internal `-`, `'`, `’`, `/`,
/// digit-internal `,` and `.` (`1,600`, `3.14`) and a trailing `%` after a digit.
pub(crate) fn tokens(s: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut j = i + 1;
        while let Some(&(_, c)) = chars.get(j) {
            if c.is_alphanumeric() {
                j += 1;
                continue;
            }
            let prev = chars[j - 1].1;
            let next = chars.get(j + 1).map(|&(_, n)| n);
            let joins = match c {
                '-' | '\'' | '’' | '/' => next.is_some_and(char::is_alphanumeric),
                '_' => next.is_some_and(|n| n.is_alphanumeric() || n == '_'),
                ',' | '.' => prev.is_ascii_digit() && next.is_some_and(|n| n.is_ascii_digit()),
                '%' => prev.is_ascii_digit(),
                _ => false,
            };
            if !joins {
                break;
            }
            j += if c == '%' { 1 } else { 2 };
            if c == '%' {
                break;
            }
        }
        let end = chars.get(j).map_or(s.len(), |&(p, _)| p);
        out.push((start, end));
        i = j;
    }
    out
}

/// How a key term can be swapped: only for another term of the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Year,
    Decade,
    Number,
    Percent,
    Acronym,
    /// Two to four capitalised words that look like a person's name.
    Person,
    /// A single capitalised word that is the last word of a [`Kind::Person`] in the document.
    Surname,
    /// Institutions, places, named things ("University of Cambridge", "Analytical Engine").
    Org,
    /// Any other single capitalised word used as a name.
    Proper,
    /// A long content word; the ending keeps options grammatically parallel.
    Word(Ending),
    /// An identifier from code: only swapped for an identifier of the same class.
    Code(CodeClass),
}

/// Classes of identifiers that make same-kind options: exception names with exception names,
/// calls with calls, constants with constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum CodeClass {
    /// `ValueError`, `StopIteration`-like names ending in Error, Exception or Warning.
    Error,
    /// `True`, `False`, `None`.
    Constant,
    /// `len()`, `abs()`.
    Call,
    /// `CamelCase` names.
    Camel,
    /// `snake_case` names.
    Snake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ending {
    Ly,
    Ing,
    Ed,
    Plural,
    Other,
}

impl Kind {
    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, Kind::Year | Kind::Decade | Kind::Number | Kind::Percent)
    }

    /// How good a blank of this kind is: names, dates and figures are facts a teacher asks for.
    pub(crate) fn weight(self) -> f64 {
        match self {
            Kind::Year | Kind::Person | Kind::Percent => 3.0,
            Kind::Acronym | Kind::Org | Kind::Surname | Kind::Decade => 2.5,
            Kind::Number | Kind::Proper => 2.0,
            Kind::Word(Ending::Other | Ending::Plural) => 1.0,
            Kind::Word(_) => 0.6,
            Kind::Code(CodeClass::Error) => 2.5,
            Kind::Code(CodeClass::Call | CodeClass::Camel) => 2.0,
            Kind::Code(_) => 1.5,
        }
    }
}

/// A key term of one sentence.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub kind: Kind,
    /// Byte range in the sentence.
    pub start: usize,
    pub end: usize,
    /// Lower-cased text: what "the same term" means.
    pub key: String,
    /// Numeric value, for numeric kinds.
    pub value: Option<f64>,
}

const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "across",
    "after",
    "afterwards",
    "again",
    "against",
    "all",
    "almost",
    "along",
    "already",
    "also",
    "although",
    "always",
    "among",
    "an",
    "and",
    "another",
    "any",
    "anything",
    "are",
    "around",
    "as",
    "at",
    "be",
    "because",
    "become",
    "became",
    "becomes",
    "been",
    "before",
    "being",
    "below",
    "besides",
    "between",
    "beyond",
    "both",
    "but",
    "by",
    "can",
    "cannot",
    "could",
    "did",
    "do",
    "does",
    "during",
    "each",
    "either",
    "else",
    "enough",
    "especially",
    "even",
    "every",
    "everything",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "if",
    "in",
    "including",
    "instead",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "later",
    "less",
    "many",
    "may",
    "might",
    "more",
    "most",
    "much",
    "must",
    "nearly",
    "neither",
    "never",
    "nevertheless",
    "no",
    "nor",
    "not",
    "nothing",
    "now",
    "of",
    "often",
    "on",
    "once",
    "one",
    "only",
    "onto",
    "or",
    "other",
    "others",
    "otherwise",
    "our",
    "ourselves",
    "out",
    "over",
    "perhaps",
    "rather",
    "really",
    "same",
    "several",
    "she",
    "should",
    "similar",
    "since",
    "so",
    "some",
    "something",
    "sometimes",
    "somewhat",
    "still",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "therefore",
    "these",
    "they",
    "this",
    "those",
    "though",
    "through",
    "throughout",
    "thus",
    "to",
    "together",
    "too",
    "toward",
    "towards",
    "under",
    "unless",
    "until",
    "up",
    "upon",
    "us",
    "usually",
    "very",
    "was",
    "we",
    "were",
    "what",
    "whatever",
    "when",
    "whenever",
    "where",
    "whereas",
    "wherever",
    "whether",
    "which",
    "while",
    "who",
    "whoever",
    "whole",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "yet",
    "you",
    "your",
    "yourself",
    "early",
    "first",
    "second",
    "third",
    "today",
    "called",
    "known",
    "named",
    "described",
    "include",
    "includes",
    "included",
    "example",
    "examples",
    "number",
    "numbers",
    "people",
    "things",
    "different",
    "important",
    "following",
    "remember",
    "students",
    "student",
    "lecture",
    "chapter",
    "section",
    "figure",
    "table",
    "page",
    "something",
    "someone",
    "anyone",
    "everyone",
    "certain",
    "particular",
    "various",
    "specific",
    "generally",
    "probably",
    "possible",
    "possibly",
    "actually",
    "already",
    "another",
    "beginning",
    "finally",
    "itself",
    "little",
    "thousands",
    "hundreds",
    "millions",
    "million",
    "billion",
    "thousand",
    "hundred",
    "between",
    "researchers",
    "customers",
    "others",
    "see",
    "note",
    "notes",
    "return",
    "returns",
    "changed",
    "using",
    "passing",
];

const CONNECTORS: &[&str] = &["of", "von", "van", "de", "der", "da", "du", "la", "le", "al", "for", "y"];
const NAME_PARTICLES: &[&str] = &["von", "van", "de", "der", "da", "du", "la", "le", "al", "y"];

const ORG_HEADS: &[&str] = &[
    "university",
    "college",
    "institute",
    "institution",
    "laboratories",
    "laboratory",
    "labs",
    "lab",
    "company",
    "corporation",
    "corp",
    "inc",
    "park",
    "engine",
    "machine",
    "machines",
    "instruments",
    "semiconductor",
    "research",
    "center",
    "centre",
    "department",
    "army",
    "navy",
    "force",
    "society",
    "school",
    "office",
    "bank",
    "council",
    "agency",
    "foundation",
    "museum",
    "library",
    "prize",
    "war",
    "law",
    "web",
    "protocol",
    "computer",
    "computers",
    "calculus",
    "states",
    "kingdom",
    "union",
    "republic",
    "empire",
    "river",
    "mountains",
    "sea",
    "ocean",
    "city",
    "church",
    "party",
    "committee",
    "association",
    "academy",
    "press",
    "group",
    "system",
    "project",
    "programme",
    "program",
    "conference",
    "act",
    "treaty",
    "revolution",
    "age",
    "period",
    "theory",
    "principle",
    "effect",
    "cycle",
    "reaction",
    "equation",
    "model",
    "island",
    "islands",
    "valley",
    "county",
    "province",
    "state",
    "street",
    "hall",
    "hospital",
    "court",
    "ministry",
    "service",
    "services",
    "network",
    "language",
    "baby",
    "loom",
    "census",
];
const PLACE_STARTS: &[&str] = &[
    "new",
    "los",
    "san",
    "santa",
    "las",
    "united",
    "north",
    "south",
    "east",
    "west",
    "great",
    "saint",
    "st",
    "mount",
    "lake",
    "cape",
    "port",
    "fort",
    "central",
    "middle",
    "upper",
    "lower",
    "old",
    "royal",
    "national",
    "world",
    "international",
];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const ROMAN: &[&str] =
    &["II", "III", "IV", "VI", "VII", "VIII", "IX", "XI", "XII", "XIII", "XIV", "XV", "XX", "CD", "DC", "MC", "CM", "MD", "DM", "LX", "XL"];
const COUNT_CONTEXT: &[&str] =
    &["page", "pages", "figure", "fig", "chapter", "section", "table", "lecture", "step", "part", "unit", "week", "no"];

pub(crate) fn is_stop(lower: &str) -> bool {
    STOP_WORDS.contains(&lower)
}

fn is_capitalised(w: &str) -> bool {
    let mut cs = w.chars();
    cs.next().is_some_and(char::is_uppercase)
        && w.chars().any(char::is_lowercase)
        && w.chars().all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'))
}

fn is_acronym(w: &str) -> bool {
    (2..=6).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_uppercase()) && !ROMAN.contains(&w)
}

/// The class of an identifier from code, `after` being the text that follows it.
fn code_class(w: &str, after: &str) -> Option<CodeClass> {
    if !w.chars().all(|c| c.is_alphanumeric() || c == '_') || w.len() < 2 {
        return None;
    }
    if after.starts_with("()") {
        return Some(CodeClass::Call);
    }
    if matches!(w, "True" | "False" | "None") {
        return Some(CodeClass::Constant);
    }
    if w.contains('_') && w.chars().any(char::is_alphabetic) {
        return Some(CodeClass::Snake);
    }
    let mut chars = w.chars();
    let starts_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    // "McNulty", "MacArthur" are names.
    let name_prefix = (w.starts_with("Mc") || w.starts_with("Mac")) && w.chars().skip(1).filter(|c| c.is_ascii_uppercase()).count() == 1;
    let camel =
        starts_upper && !name_prefix && w.chars().any(|c| c.is_ascii_lowercase()) && w.chars().skip(1).any(|c| c.is_ascii_uppercase());
    if camel || (starts_upper && ["Error", "Exception", "Warning"].iter().any(|e| w.ends_with(e)) && w.len() > 7) {
        return Some(if ["Error", "Exception", "Warning"].iter().any(|e| w.ends_with(e)) { CodeClass::Error } else { CodeClass::Camel });
    }
    None
}

/// Capitalised words seen away from the start of a sentence: these are names even at the start.
pub(crate) fn known_proper(sentences: &[Sentence<'_>]) -> HashSet<String> {
    let mut set = HashSet::new();
    for s in sentences {
        for &(a, b) in tokens(s.text).iter().skip(1) {
            let w = strip_possessive(&s.text[a..b]);
            if is_capitalised(w) {
                set.insert(w.to_lowercase());
            }
        }
    }
    set
}

fn strip_possessive(w: &str) -> &str {
    w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).unwrap_or(w)
}

fn parse_number(w: &str) -> Option<f64> {
    let w = w.strip_suffix('%').unwrap_or(w);
    if !w.bytes().all(|b| b.is_ascii_digit() || b == b',' || b == b'.') || !w.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if w.contains(',') {
        // Thousands separators only: 1,600 or 17,500.
        let mut groups = w.split(',');
        let first = groups.next()?;
        if first.is_empty() || first.len() > 3 || !groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
    }
    w.replace(',', "").parse().ok()
}

fn ending(lower: &str) -> Ending {
    if lower.ends_with("ly") {
        Ending::Ly
    } else if lower.strip_suffix("ing").is_some_and(|s| {
        (s.len() >= 4 && crate::english::is_word(s))
            || crate::english::is_word(&format!("{s}e"))
            || (s.len() >= 3 && s.as_bytes()[s.len() - 1] == s.as_bytes()[s.len() - 2])
    }) {
        // "printing", "making", "running"; not "string" or "docstring".
        Ending::Ing
    } else if lower.ends_with("ed") {
        Ending::Ed
    } else if lower.ends_with('s') && !["ss", "us", "is"].iter().any(|e| lower.ends_with(e)) {
        Ending::Plural
    } else {
        Ending::Other
    }
}

/// The key terms of one sentence (before surnames are told apart; see [`mark_surnames`]).
pub(crate) fn terms(sentence: &str, known: &HashSet<String>) -> Vec<Term> {
    let toks = tokens(sentence);
    let words: Vec<&str> = toks.iter().map(|&(a, b)| &sentence[a..b]).collect();
    let caps = words.iter().filter(|w| is_acronym(w)).count();
    let shouting = caps * 2 > words.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (a, b) = toks[i];
        let w = words[i];
        let lower = w.to_lowercase();
        let push = |out: &mut Vec<Term>, kind, start, end, value| {
            out.push(Term { kind, start, end, key: sentence[start..end].to_lowercase(), value });
        };
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            let prev = i.checked_sub(1).map(|p| words[p].to_lowercase());
            let next = words.get(i + 1).map(|n| n.to_lowercase());
            let counting = prev.as_deref().is_some_and(|p| COUNT_CONTEXT.contains(&p));
            let day = next.as_deref().is_some_and(|n| MONTHS.contains(&n));
            let decade = w.len() == 5 && w.ends_with("0s") && w[..4].bytes().all(|b| b.is_ascii_digit());
            if decade {
                push(&mut out, Kind::Decade, a, b, w[..4].parse().ok());
            } else if let Some(v) = parse_number(w).filter(|_| !counting && !day) {
                let kind = if w.ends_with('%') {
                    Some(Kind::Percent)
                } else if w.len() == 4 && !w.contains([',', '.']) && (1000.0..=2099.0).contains(&v) {
                    Some(Kind::Year)
                } else if v >= 10.0 {
                    Some(Kind::Number)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    push(&mut out, kind, a, b, Some(v));
                }
            }
            i += 1;
        } else if let Some(class) =
            code_class(w, &sentence[b..]).filter(|_| !sentence[..a].ends_with('_') && !sentence[b..].starts_with('_'))
        {
            let end = if class == CodeClass::Call { b + 2 } else { b };
            push(&mut out, Kind::Code(class), a, end, None);
            i += 1;
        } else if is_acronym(w) {
            if !shouting {
                push(&mut out, Kind::Acronym, a, b, None);
            }
            i += 1;
        } else if is_capitalised(w) {
            // A run of capitalised words, possibly joined by connectors ("University of Cambridge").
            let mut run = vec![i];
            let mut j = i;
            while strip_possessive(words[j]).len() == words[j].len() {
                let gap = |x: usize| &sentence[toks[x - 1].1..toks[x].0] == " ";
                if j + 1 < toks.len() && gap(j + 1) && is_capitalised(words[j + 1]) {
                    j += 1;
                    run.push(j);
                } else if j + 2 < toks.len()
                    && gap(j + 1)
                    && gap(j + 2)
                    && CONNECTORS.contains(&words[j + 1])
                    && is_capitalised(words[j + 2])
                {
                    run.push(j + 1);
                    run.push(j + 2);
                    j += 2;
                } else {
                    break;
                }
            }
            let next_i = j + 1;
            // Sentence-initial: drop a leading common word ("The", "In"); a lone first word
            // must be known as a name from elsewhere.
            if run[0] == 0 && is_stop(&words[0].to_lowercase()) {
                run.remove(0);
                while run.first().is_some_and(|&k| CONNECTORS.contains(&words[k])) {
                    run.remove(0);
                }
            }
            let keep = match run.as_slice() {
                [] => false,
                [only] => {
                    let l = strip_possessive(words[*only]).to_lowercase();
                    (*only != 0 || known.contains(&l)) && !MONTHS.contains(&l.as_str()) && !is_stop(&l)
                }
                _ => true,
            };
            if keep {
                let first = run[0];
                let last = *run.last().unwrap_or(&first);
                let start = toks[first].0;
                let end = toks[last].0 + strip_possessive(words[last]).len();
                let lowers: Vec<String> = run.iter().map(|&k| words[k].to_lowercase()).collect();
                let last_lower = strip_possessive(&lowers[lowers.len() - 1]).to_owned();
                let kind = if run.len() == 1 {
                    Kind::Proper
                } else if run.len() <= 4
                    && !ORG_HEADS.contains(&last_lower.as_str())
                    && !PLACE_STARTS.contains(&lowers[0].as_str())
                    && lowers.iter().all(|l| !CONNECTORS.contains(&l.as_str()) || NAME_PARTICLES.contains(&l.as_str()))
                    // "Release Derived", "Year Owner", "Electronic Numerical Integrator": a
                    // heading's or a thing's words, not a name ("Tommy Flowers", "Alan Turing").
                    && !lowers.iter().all(|l| crate::english::is_word(strip_possessive(l)))
                {
                    Kind::Person
                } else {
                    Kind::Org
                };
                push(&mut out, kind, start, end, None);
            }
            i = next_i;
        } else {
            let letters = w.chars().filter(|c| c.is_alphabetic()).count();
            if letters >= 6 && w.chars().all(|c| c.is_lowercase() || c == '-') && !w.contains("--") && !is_stop(&lower) {
                push(&mut out, Kind::Word(ending(&lower)), a, b, None);
            }
            i += 1;
        }
    }
    out
}

/// Re-labels single names that are the last word of a person's name somewhere in the document.
pub(crate) fn mark_surnames(all: &mut [Vec<Term>]) {
    let mut surnames = HashSet::new();
    for t in all.iter().flatten().filter(|t| t.kind == Kind::Person) {
        if let Some(last) = t.key.split(' ').next_back() {
            surnames.insert(last.to_owned());
        }
    }
    for t in all.iter_mut().flatten() {
        if t.kind == Kind::Proper && surnames.contains(&t.key) {
            t.kind = Kind::Surname;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(p: &str) -> Vec<&str> {
        split_paragraph(p)
    }

    #[test]
    fn sentences_survive_abbreviations_initials_and_decimals() {
        let p = "Pi is about 3.14 in most uses, e.g. in schools. Dr. Smith and J. R. Jones agreed on it. It works!";
        assert_eq!(
            split(p),
            vec!["Pi is about 3.14 in most uses, e.g. in schools.", "Dr. Smith and J. R. Jones agreed on it.", "It works!"]
        );
    }

    #[test]
    fn headings_and_fragments_are_not_usable() {
        let pages = vec!["Introduction to Cells\nA cell is the basic unit of all known living organisms. Too short.".to_owned()];
        let s = sentences(&pages);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].text, "A cell is the basic unit of all known living organisms.");
        assert_eq!(s[0].page, 1);
    }

    fn kinds(s: &str) -> Vec<(String, Kind)> {
        let known: HashSet<String> = ["turing".to_owned()].into();
        terms(s, &known).into_iter().map(|t| (s[t.start..t.end].to_owned(), t.kind)).collect()
    }

    #[test]
    fn terms_get_kinds() {
        let got =
            kinds("In 1936 the mathematician Alan Turing at the University of Cambridge described 17,500 machines, 40% of IBM designs.");
        assert_eq!(
            got,
            vec![
                ("1936".into(), Kind::Year),
                ("mathematician".into(), Kind::Word(Ending::Other)),
                ("Alan Turing".into(), Kind::Person),
                ("University of Cambridge".into(), Kind::Org),
                ("17,500".into(), Kind::Number),
                ("machines".into(), Kind::Word(Ending::Plural)),
                ("40%".into(), Kind::Percent),
                ("IBM".into(), Kind::Acronym),
                ("designs".into(), Kind::Word(Ending::Plural)),
            ]
        );
    }

    #[test]
    fn sentence_initial_common_words_and_days_are_not_names() {
        let got = kinds("Transistors replaced valves on 21 June 1948, and Turing's design followed.");
        assert_eq!(
            got,
            vec![
                ("replaced".into(), Kind::Word(Ending::Ed)),
                ("valves".into(), Kind::Word(Ending::Plural)),
                ("1948".into(), Kind::Year),
                ("Turing".into(), Kind::Proper),
                ("design".into(), Kind::Word(Ending::Other)),
                ("followed".into(), Kind::Word(Ending::Ed)),
            ]
        );
    }

    #[test]
    fn everyday_words_in_capitals_are_no_persons_name() {
        // python-license: "Marek Majkowski" was swapped for the heading words "Release Derived".
        let known = HashSet::new();
        let kind = |s: &str, name: &str| terms(s, &known).into_iter().find(|t| &s[t.start..t.end] == name).map(|t| t.kind);
        let s = "The table below lists the Release Derived from each version and the Year Owner of its copyright.";
        assert_ne!(kind(s, "Release Derived"), Some(Kind::Person));
        assert_ne!(kind(s, "Year Owner"), Some(Kind::Person));
        let s = "The file contains Marek Majkowski’ implementation of the algorithm by Dan Bernstein.";
        assert_eq!(kind(s, "Marek Majkowski"), Some(Kind::Person));
        assert_eq!(kind(s, "Dan Bernstein"), Some(Kind::Person));
    }

    #[test]
    fn only_verb_forms_count_as_ing_words() {
        assert_eq!(ending("printing"), Ending::Ing);
        assert_eq!(ending("running"), Ending::Ing);
        assert_eq!(ending("docstring"), Ending::Other, "a docstring is no -ing form");
        assert_eq!(ending("string"), Ending::Other);
    }
}
