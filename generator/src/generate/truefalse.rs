//! True/false statements: the sentence as written, or a false version of it that changes the
//! claim (a sibling term of the same kind from the document, a reversed quantifier or modal)
//! and still reads as English. [`falsify`] also makes the wrong options of the "Which of the
//! following is true of …?" questions.

use super::analysis::{
    Analysis, Candidate, DETERMINERS, PoolItem, Pos, Slot, clamp, head_word, in_aside, neighbours, ranked_terms, shares_context, slot,
};
use super::blank::{article_before, article_for};
use super::{Picks, TrueFalse};
use crate::filter;
use crate::text::{self, Kind, Term};

/// Whether the byte position `at` of `s` lies in an example ("for example, …", "such as …",
/// "e.g. …", "like …") rather than in the claim itself.
pub(super) fn in_example(s: &str, at: usize) -> bool {
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
    ("last", "first"),
    ("earliest", "latest"),
    ("will", "will not"),
    ("minimum", "maximum"),
    ("maximum", "minimum"),
    ("inside", "outside"),
    ("outside", "inside"),
    ("only", "never"),
];

/// A flip available in the sentence: (byte start, byte end, replacement).
fn flip_in(s: &str) -> Option<(usize, usize, String)> {
    let toks = text::tokens(s);
    for (k, &(a, b)) in toks.iter().enumerate() {
        let w = &s[a..b];
        let Some(&(_, to)) = FLIPS.iter().find(|(from, _)| *from == w) else { continue };
        if toks.iter().filter(|&&(x, y)| &s[x..y] == w).count() != 1 || in_example(s, a) || in_aside(s, a, b) {
            continue;
        }
        // "only" flips only where it restricts a verb phrase ("is only used", "can only").
        if w == "only" {
            continue;
        }
        // Not in a relative clause: "… constructs that expect something from which they cannot
        // obtain successive items" changes a detail of the wording, not the claim.
        let clause_start = s[..a].rfind([',', ';', '(', ':']).map_or(0, |i| i + 1);
        let clause = s[clause_start..a].to_lowercase();
        if [" which ", " that ", " who ", " whom ", " whose "].iter().any(|r| format!(" {clause}").contains(r)) {
            continue;
        }
        let prev = k.checked_sub(1).map(|p| s[toks[p].0..toks[p].1].to_lowercase());
        let next: Vec<&str> = toks[k + 1..].iter().take(2).map(|&(x, y)| &s[x..y]).collect();
        // A second negation ("must not be instances, not types") or "cannot also" reads badly.
        let negated = [" not ", "n't ", "n’t ", " never ", " no "].iter().any(|n| s.contains(n));
        let adverb_next = next
            .first()
            .is_some_and(|n| ["also", "only", "still", "even", "always", "typically", "usually", "normally", "generally"].contains(n));
        if (to.contains("not") || to == "never") && (negated || adverb_next) {
            continue;
        }
        // "will" only as a verb's auxiliary ("will execute"), not before a name.
        if w == "will" && !next.first().is_some_and(|n| n.chars().all(|ch| ch.is_lowercase())) {
            continue;
        }
        if w == "more" {
            // "more than one" → "only one"; "much more", "and more", "more." read badly flipped.
            if next == ["than", "one"] {
                return Some((a, toks[k + 2].1, "only one".to_owned()));
            }
            let after_ends = s[b..].starts_with(['.', ',', ';', ')']);
            if prev.as_deref().is_some_and(|p| ["much", "any", "and", "or", "no", "once"].contains(&p))
                || next.first() == Some(&"than")
                || after_ends
            {
                continue;
            }
        }
        return Some((a, b, to.to_owned()));
    }
    None
}

/// How a sentence is made false.
pub(super) enum Falsify {
    /// Replace the term with a sibling of its kind from the document.
    Swap(usize, usize, String, String),
    /// A claim-changing word ("always" → "never").
    Flip(usize, usize, String, String),
}

impl Falsify {
    /// The false statement, the (original, replacement) pair, and how it was made, for the
    /// teacher.
    pub(super) fn apply(&self, s: &str) -> (String, (String, String), String) {
        match self {
            Falsify::Swap(x, y, orig, alt) => {
                // "an exception" → "a statement": the article follows the new word.
                let (start, alt_text) = match article_before(s, *x) {
                    Some((art_start, art)) => (art_start, format!("{} {alt}", article_for(alt, art))),
                    None => (*x, alt.clone()),
                };
                (
                    format!("{}{}{}", &s[..start], alt_text, &s[*y..]),
                    (orig.clone(), alt.clone()),
                    format!("\"{orig}\" was swapped for \"{alt}\", another term of the same kind from the document"),
                )
            }
            Falsify::Flip(x, y, orig, to) => (
                format!("{}{}{}", &s[..*x], to, &s[*y..]),
                (orig.clone(), to.clone()),
                format!("the claim was reversed (\"{orig}\" → \"{to}\")"),
            ),
        }
    }
}

/// A way to make `c` false, with how good it is and the kind of term swapped. Swaps need a
/// sibling of the term's own sort: words and single names only for one used in the same
/// place elsewhere in the document, institutions and named things for one with the same
/// head ("Engine", "Protocol"); never inside an example, a cross-reference or a list, and
/// never a replacement the bank already used (`picks.used_swaps`).
pub(super) fn falsify(a: &Analysis<'_>, c: &Candidate<'_>, picks: &Picks) -> Option<(Falsify, f64, Option<Kind>)> {
    let s = c.sentence.text;
    let mut terms = ranked_terms(a, c, &picks.used_kinds, false);
    terms.extend(ranked_terms(a, c, &picks.used_kinds, true).into_iter().filter(|t| matches!(t.kind, Kind::Word(_))));
    // A word is swapped only where it is the head of its phrase and a noun ("History
    // expansions" → "History entries"): a swapped modifier or adjective ("the current terminal
    // process group" → "the current separate process group") reads as nonsense, not as a
    // claim.
    // Nor the head of a compound ("exit status" → "exit builtin", "data attributes" → "data
    // values"): the new phrase often names something real, and the statement stays true.
    // The head of a compound or of a modified noun ("exit status", "formal parameters") is
    // swapped only for a word used before the same next word, not merely after the same
    // modifier.
    let compound = |t: &Term| {
        let (left, _) = neighbours(s, t.start, t.end);
        left.is_some_and(|l| !text::is_stop(&l) && !DETERMINERS.contains(&l.as_str()))
    };
    let head_noun =
        |t: &Term| !matches!(t.kind, Kind::Word(_)) || (a.pos(&t.key) == Pos::Noun && slot(s, t.start, t.end, false) == Slot::Head);
    let swap = terms.into_iter().filter(|t| !in_example(s, t.start) && head_noun(t)).find_map(|t| {
        let fits = |item: &PoolItem| {
            !picks.used_swaps.contains(&item.key)
                && match t.kind {
                    Kind::Word(_) if compound(t) => {
                        let (_, right) = neighbours(s, t.start, t.end);
                        right.is_some_and(|r| r.len() > 2 && !text::is_stop(&r) && item.right.contains(&r))
                    }
                    Kind::Word(_) | Kind::Proper | Kind::Code(_) | Kind::Acronym => shares_context(c, t, item),
                    Kind::Org => head_word(&item.key) == head_word(&t.key) || shares_context(c, t, item),
                    _ => true,
                }
        };
        a.alternatives(c, t, 1, &fits)
            .map(|alt| (Falsify::Swap(t.start, t.end, s[t.start..t.end].to_owned(), alt[0].text.clone()), a.term_score(t), t.kind))
    });
    let flip = flip_in(s).map(|(x, y, to)| Falsify::Flip(x, y, s[x..y].to_owned(), to));
    match (swap, flip) {
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
    }
}

/// Up to `wanted` true/false questions: only sentences that could be falsified, so "has no
/// swappable term" never gives the answer away. Pairs of consecutive questions get one true
/// and one false.
pub(super) fn true_false(a: &Analysis<'_>, rank: &[usize], picks: &mut Picks, wanted: usize) -> Vec<TrueFalse> {
    let mut chosen: Vec<(usize, Falsify, f64)> = Vec::new();
    for &ci in rank {
        if chosen.len() == wanted {
            break;
        }
        let c = &a.candidates[ci];
        let Some(content) = picks.fresh(ci, c.sentence.text) else { continue };
        if let Some((f, score, kind)) = falsify(a, c, picks) {
            if let Falsify::Swap(.., alt) = &f {
                picks.used_swaps.insert(alt.to_lowercase());
            }
            picks.take(ci, content);
            if let Some(k) = kind {
                *picks.used_kinds.entry(k).or_default() += 1;
            }
            chosen.push((ci, f, score));
        }
    }
    chosen.sort_by_key(|(ci, _, _)| a.candidates[*ci].sentence.order);
    let mut out: Vec<TrueFalse> = Vec::new();
    for k in 0..chosen.len() {
        let (ci, ref f, score) = chosen[k];
        let c = &a.candidates[ci];
        let s = c.sentence.text;
        let pair_first = chosen[k - k % 2].0;
        let first_is_true = a.candidates[pair_first].hash & 1 == 0;
        let is_true = (k % 2 == 0) == first_is_true;
        let (statement, swap, how) = if is_true {
            (s.to_owned(), None, "the statement is the sentence as written".to_owned())
        } else {
            let (statement, pair, how) = f.apply(s);
            (statement, Some(pair), how)
        };
        let text = format!("True or false: \"{statement}\"");
        if !picks.texts.insert(text) {
            continue;
        }
        let explains = filter::explains(s);
        let confidence = clamp(0.4 + 0.2 * explains + 0.08 * score.min(3.0) + if is_true { 0.0 } else { 0.05 });
        let rationale = format!(
            "Page {}: {}; {how}.",
            c.sentence.page,
            if explains >= 0.5 { "a sentence that defines or explains" } else { "a sentence with a checkable fact" }
        );
        out.push(TrueFalse { page: c.sentence.page, quote: s.to_owned(), statement, swap, confidence, rationale });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_keeps_the_article_in_agreement_and_flips_read_as_english() {
        let s = "When an exception is created in order to be raised, it is initialised.";
        let at = s.find("exception").unwrap();
        let f = Falsify::Swap(at, at + "exception".len(), "exception".into(), "statement".into());
        assert_eq!(f.apply(s).0, "When a statement is created in order to be raised, it is initialised.");
        let s = "A try statement may have more than one except clause, to specify handlers.";
        let (x, y, to) = flip_in(s).unwrap();
        assert_eq!(format!("{}{to}{}", &s[..x], &s[y..]), "A try statement may have only one except clause, to specify handlers.");
        // "much more" has no believable opposite: the flip is "can" → "cannot".
        let s = "Details on repository access and much more can be found in the file README.";
        assert_eq!(flip_in(s).map(|(x, y, to)| (&s[x..y], to)), Some(("can", "cannot".to_owned())));
        // A flip inside an example or a cross-reference leaves the claim as it was.
        assert!(flip_in("Programs may name their own exceptions (see Classes for more about classes).").is_none());
        assert!(flip_in("Some types are containers, for example lists that can grow.").is_none());
        // python-tutorial-controlflow: a flip inside a relative clause changes a detail of the
        // wording ("from which they cannot obtain"); one in the main clause changes the claim.
        let s = "We say such an object is iterable, that is, suitable as a target for functions and constructs that expect something from which they can obtain successive items until the supply is exhausted.";
        assert!(flip_in(s).is_none());
        let s = "Small anonymous functions can be created with the lambda keyword.";
        assert_eq!(flip_in(s).map(|(x, y, to)| (&s[x..y], to)), Some(("can", "cannot".to_owned())));
        // python-tutorial-errors: "last" has its opposite too.
        let s = "The last line of the error message indicates what happened.";
        assert_eq!(flip_in(s).map(|(x, y, to)| (&s[x..y], to)), Some(("last", "first".to_owned())));
    }

    fn analysis(texts: &[&'static str]) -> Analysis<'static> {
        super::super::analysis::analyse(
            texts.iter().enumerate().map(|(order, &text)| crate::text::Sentence { page: 1, order, text }).collect(),
        )
    }

    /// bash(1): "returning its exit status" became "returning its exit builtin", a thing the
    /// manual names, so no claim at all; the head of a compound is only swapped for a word
    /// used before the same next word.
    #[test]
    fn the_head_of_a_compound_is_not_swapped_for_a_word_after_the_same_modifier() {
        let a = analysis(&[
            "If the -x option is supplied, jobs replaces any jobspec found in command or args with the corresponding process group ID, and executes command passing it args, returning its exit status.",
            "When an interactive login shell exits, or a non-interactive login shell executes the exit builtin command, bash reads and executes commands from the file.",
            "The return status of a pipeline is the exit status of the last command, unless the pipefail option is enabled.",
            "If the name is neither a shell function nor a builtin, and contains no slashes, bash searches each element of the PATH for a directory containing an executable file by that name.",
            "If there were no command substitutions, the command exits with a status of zero.",
            "If a command is not found, the child process created to execute it returns a status of 127.",
        ]);
        let picks = Picks::new(a.candidates.len());
        let made = falsify(&a, &a.candidates[0], &picks).map(|(f, _, _)| f.apply(a.candidates[0].sentence.text).1);
        assert_ne!(made, Some(("status".to_owned(), "builtin".to_owned())));
    }
}
