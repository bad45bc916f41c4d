//! Definition questions, from the sentences that define a term ("A namespace is a mapping from
//! names to objects."):
//! * "What is a namespace?", the options the definitions of other terms the document defines,
//!   where it defines enough of them;
//! * otherwise "Which term is defined as "a mapping from names to objects"?", the options the
//!   term and other terms of its kind from the document.

use super::analysis::{Analysis, clamp, describe};
use super::{Choice, Picks, fnv};
use crate::text::{self, Kind};

/// A defining sentence: "<article> <term> <verb> <body>."
struct Definition {
    /// The candidate sentence ([`Analysis::candidates`]).
    ci: usize,
    /// The article before the term as written ("A", "An", "The"), if any.
    article: Option<String>,
    /// Byte range of the term in the sentence.
    term: (usize, usize),
    /// "is", "are", "refers to", "means".
    verb: &'static str,
    /// The definition, from the sentence, without the final full stop.
    body: String,
}

const VERBS: &[&str] = &["is", "are", "refers to", "means"];

/// The definition `s` states, if it is one: one to three words of a term (no function words),
/// a defining verb, and a body of 3..=20 words that starts with an article (or any words after
/// "refers to"/"means") and does not contain the term.
fn parse(s: &str) -> Option<Definition> {
    let toks = text::tokens(s);
    let mut k = 0;
    let article = match toks.first().map(|&(a, b)| &s[a..b]) {
        Some(w @ ("A" | "An" | "The")) => {
            k = 1;
            Some(w.to_owned())
        }
        _ => None,
    };
    for n in 1..=3 {
        let &(ts, _) = toks.get(k)?;
        let &(_, te) = toks.get(k + n - 1)?;
        let words: Vec<&str> = toks[k..k + n].iter().map(|&(a, b)| &s[a..b]).collect();
        let plain = |w: &&str| {
            w.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_')) && !text::is_stop(&w.to_lowercase()) && w.len() >= 2
        };
        if !words.iter().all(plain) || s[ts..te].contains(['(', ',', ':', ';']) {
            return None;
        }
        // Sentence-initial capital only: a capitalised word inside the term is a heading.
        if words.iter().skip(1).any(|w| w.starts_with(char::is_uppercase)) {
            return None;
        }
        let rest = &s[te..];
        for &verb in VERBS {
            let Some(after) = rest.strip_prefix(' ').and_then(|r| r.strip_prefix(verb)).and_then(|r| r.strip_prefix(' ')) else {
                continue;
            };
            let body = after.trim_end().trim_end_matches('.');
            let body_words: Vec<&str> = body.split_whitespace().collect();
            let starts_ok = matches!(verb, "refers to" | "means") || matches!(body_words.first(), Some(&("a" | "an" | "the")));
            let term_lower = s[ts..te].to_lowercase();
            let body_lower = body.to_lowercase();
            let repeats = term_lower.split(' ').any(|w| body_lower.split(|c: char| !c.is_alphanumeric()).any(|b| b == w));
            if starts_ok && (3..=20).contains(&body_words.len()) && !repeats && !body.contains([';', ':']) && !s.contains(" not ") {
                return Some(Definition { ci: 0, article, term: (ts, te), verb, body: body.to_owned() });
            }
        }
    }
    None
}

/// Whether the definition names its subject: "The default value is …" is about the default
/// value of something the sentence before named; "The PATH is …" and "A namespace is …" stand
/// on their own. "The" needs a term specific to the document (not an everyday phrase).
fn self_contained(def: &Definition, key: &str) -> bool {
    def.article.as_deref() != Some("The") || key.split(' ').all(|w| crate::english::rarity(w) >= 0.75)
}

/// The term as the question names it: lower case unless it is a name or an identifier.
fn term_text(s: &str, (a, b): (usize, usize), sentence_start: bool) -> String {
    let t = &s[a..b];
    let first_word = t.split(' ').next().unwrap_or(t);
    let keep = !sentence_start || first_word.chars().skip(1).any(char::is_uppercase) || first_word.contains('_');
    if keep { t.to_owned() } else { t.to_lowercase() }
}

/// Up to `wanted` definition questions.
pub(super) fn definitions(a: &Analysis<'_>, rank: &[usize], picks: &mut Picks, wanted: usize, n_opts: usize) -> Vec<Choice> {
    if wanted == 0 {
        return Vec::new();
    }
    let mut defs: Vec<Definition> = Vec::new();
    for (ci, c) in a.candidates.iter().enumerate() {
        if let Some(d) = parse(c.sentence.text) {
            let key = c.sentence.text[d.term.0..d.term.1].to_lowercase();
            if defs.iter().all(|o| a.candidates[o.ci].sentence.text[o.term.0..o.term.1].to_lowercase() != key) {
                defs.push(Definition { ci, ..d });
            }
        }
    }
    let mut order: Vec<usize> = (0..defs.len()).collect();
    let pos = |ci: usize| rank.iter().position(|&r| r == ci).unwrap_or(usize::MAX);
    order.sort_by_key(|&d| pos(defs[d].ci));
    let mut out = Vec::new();
    for d in order {
        if out.len() == wanted {
            break;
        }
        let def = &defs[d];
        let c = &a.candidates[def.ci];
        let s = c.sentence.text;
        let Some(content) = picks.fresh(def.ci, s) else { continue };
        let term = term_text(s, def.term, def.article.is_none());
        let key = term.to_lowercase();
        if picks.used_answers.contains(&key) || !self_contained(def, &key) {
            continue;
        }
        let article = def.article.as_deref().map(str::to_lowercase);
        let named = match &article {
            Some(art) => format!("{art} {term}"),
            None => term.clone(),
        };
        let hash = fnv(&[s.as_bytes()]);
        // Other definitions of the same grammatical number, nearest in length first.
        let mut others: Vec<&Definition> = defs.iter().filter(|o| o.ci != def.ci && (o.verb == "are") == (def.verb == "are")).collect();
        others.sort_by_key(|o| (o.body.len().abs_diff(def.body.len()), fnv(&[o.body.as_bytes(), &hash.to_le_bytes()])));
        let (text, options, correct, how) = if others.len() >= n_opts - 1 {
            let correct = (hash % n_opts as u64) as usize;
            let mut options: Vec<String> = others.iter().take(n_opts - 1).map(|o| o.body.clone()).collect();
            options.insert(correct, def.body.clone());
            let verb = if def.verb == "are" { "are" } else { "is" };
            let question = match def.verb {
                "refers to" => format!("What does \"{term}\" refer to?"),
                "means" => format!("What does \"{term}\" mean?"),
                _ => format!("What {verb} {named}?"),
            };
            (question, options, correct, "the options are definitions of other terms the document defines")
        } else {
            // The term must be one of the sentence's key terms to have siblings of its kind.
            let Some(t) = c.terms.iter().find(|t| t.start == def.term.0 && t.end == def.term.1 && !matches!(t.kind, Kind::Year)) else {
                continue;
            };
            let Some(alts) = a.alternatives(c, t, n_opts - 1, &|_| true) else { continue };
            let correct = (hash % n_opts as u64) as usize;
            let lower_first = |x: &str| if matches!(t.kind, Kind::Word(_)) { x.to_lowercase() } else { x.to_owned() };
            let mut options: Vec<String> = alts.iter().map(|p| lower_first(&p.text)).collect();
            options.insert(correct, lower_first(&term));
            (
                format!("Which term does the document define as \"{}\"?", def.body),
                options,
                correct,
                "the options are the term and other terms of its kind from the document",
            )
        };
        if !picks.texts.insert(text.clone()) {
            continue;
        }
        picks.used_answers.insert(key);
        picks.take(def.ci, content);
        let rationale = format!(
            "Page {}: a sentence that defines \"{term}\" ({}); {how}.",
            c.sentence.page,
            c.terms.iter().find(|t| t.start == def.term.0).map_or_else(|| "a term of the document".to_owned(), |t| describe(a, t))
        );
        out.push(Choice {
            order: c.sentence.order,
            page: c.sentence.page,
            quote: s.to_owned(),
            text,
            options,
            correct,
            confidence: clamp(0.75),
            rationale,
            explanation: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defining_sentences_are_recognised_and_others_are_not() {
        let d = parse("A namespace is a mapping from names to objects.").unwrap();
        assert_eq!((d.article.as_deref(), &"A namespace is a mapping"[d.term.0..d.term.1], d.verb), (Some("A"), "namespace", "is"));
        assert_eq!(d.body, "a mapping from names to objects");
        let d = parse("A simple command is a sequence of optional variable assignments followed by words.").unwrap();
        assert_eq!(&"A simple command"[d.term.0..d.term.1], "simple command");
        assert_eq!(d.body, "a sequence of optional variable assignments followed by words");
        for s in [
            "It is a mapping from names to objects.",              // no term
            "The function is a function that calls the function.", // the body repeats the term
            "A method is not a function at all in this context.",  // a negation is no definition
            "Bash is intended to be a conformant implementation of the standard.",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
        // bash(1), PROMPTING: "The default value is …" of a variable the entry before names.
        let d = parse("The default value is the string that puts the terminal in standout mode.").unwrap();
        assert!(!self_contained(&d, "default value"));
        let d = parse("A namespace is a mapping from names to objects.").unwrap();
        assert!(self_contained(&d, "namespace"));
        let d = parse("The docstring is a string literal that documents the function.").unwrap();
        assert!(self_contained(&d, "docstring"));
    }
}
