//! "Which of the following is true of X?": X a topic term of the document (used in several
//! sentences); one option is a sentence about X as written, the others are other sentences
//! about X made false the way true/false statements are ([`super::truefalse::falsify`]).

use super::analysis::{Analysis, clamp, in_aside, term_rarity};
use super::truefalse::{Falsify, falsify};
use super::{Choice, Picks, fnv};
use crate::text::Kind;

/// Up to `wanted` "true of X" questions.
pub(super) fn true_of(a: &Analysis<'_>, rank: &[usize], picks: &mut Picks, wanted: usize, n_opts: usize) -> Vec<Choice> {
    let mut out = Vec::new();
    if wanted == 0 {
        return out;
    }
    // Topics: terms used in enough sentences, specific ones first (facts, then rare words).
    let mut topics: Vec<(Kind, String, f64)> =
        a.df.iter()
            .filter(|(_, n)| **n > n_opts)
            .filter(|((kind, key), _)| !kind.is_numeric() && key.len() >= 3)
            // A topic is a thing: a name, an identifier, or a specific noun ("namespace", not
            // "specified" or "classical").
            .filter(|((kind, key), _)| !matches!(kind, Kind::Word(_)) || (term_rarity(key) >= 0.45 && a.noun_share(key) >= 0.3))
            .map(|((kind, key), n)| {
                let weight = match kind {
                    Kind::Word(_) => term_rarity(key) * 2.0,
                    _ => kind.weight(),
                };
                (*kind, key.clone(), weight + (*n as f64).ln())
            })
            .filter(|(_, _, w)| *w >= 2.0)
            .collect();
    topics.sort_by(|x, y| y.2.partial_cmp(&x.2).unwrap_or(std::cmp::Ordering::Equal).then_with(|| x.1.cmp(&y.1)).then(x.0.cmp(&y.0)));
    // Enough to find `wanted` that work; bounded so a long document stays fast.
    topics.truncate(4 * wanted);
    for (kind, key, _) in topics {
        if out.len() == wanted {
            break;
        }
        if picks.used_answers.contains(&key) {
            continue;
        }
        // The sentences about X, best first, that are still free.
        let about: Vec<usize> = rank
            .iter()
            .copied()
            .filter(|&ci| {
                let c = &a.candidates[ci];
                c.terms.iter().any(|t| t.kind == kind && t.key == key && !in_aside(c.sentence.text, t.start, t.end))
            })
            .filter(|&ci| picks.fresh(ci, a.candidates[ci].sentence.text).is_some())
            .collect();
        let Some((&truth, rest)) = about.split_first() else { continue };
        let len = a.candidates[truth].sentence.text.len();
        let mut falses: Vec<(usize, String, String)> = Vec::new();
        // Bounded: a topic that gives no wrong options from its first sentences gives way.
        for &ci in rest.iter().take(3 * n_opts) {
            if falses.len() == n_opts - 1 {
                break;
            }
            let c = &a.candidates[ci];
            // Options of similar length, so the longest is not the answer.
            if c.sentence.text.len() * 2 < len || c.sentence.text.len() > len * 2 {
                continue;
            }
            let Some((f, _, _)) = falsify(a, c, picks) else { continue };
            // The change must not touch X itself: the option has to stay about X.
            let (start, end) = match &f {
                Falsify::Swap(x, y, ..) | Falsify::Flip(x, y, ..) => (*x, *y),
            };
            if c.terms.iter().any(|t| t.key == key && t.start < end && start < t.end) {
                continue;
            }
            let (statement, (orig, alt), _) = f.apply(c.sentence.text);
            falses.push((ci, statement, format!("\"{orig}\" → \"{alt}\" (page {})", c.sentence.page)));
        }
        if falses.len() < n_opts - 1 {
            continue;
        }
        let c = &a.candidates[truth];
        let surface =
            c.terms.iter().find(|t| t.kind == kind && t.key == key).map_or(key.clone(), |t| c.sentence.text[t.start..t.end].to_owned());
        let named = if matches!(kind, Kind::Word(_)) { format!("\"{}\"", surface.to_lowercase()) } else { surface };
        let text = format!("Which of the following is true of {named}?");
        if !picks.texts.insert(text.clone()) {
            continue;
        }
        let correct = (fnv(&[c.sentence.text.as_bytes()]) % n_opts as u64) as usize;
        let mut options: Vec<String> = falses.iter().map(|(_, st, _)| st.clone()).collect();
        options.insert(correct, c.sentence.text.to_owned());
        let changes: Vec<String> = falses.iter().map(|(_, _, how)| how.clone()).collect();
        for ci in std::iter::once(truth).chain(falses.iter().map(|(ci, _, _)| *ci)) {
            if let Some(content) = picks.fresh(ci, a.candidates[ci].sentence.text) {
                picks.take(ci, content);
            }
        }
        picks.used_answers.insert(key.clone());
        out.push(Choice {
            order: c.sentence.order,
            page: c.sentence.page,
            quote: c.sentence.text.to_owned(),
            text,
            options,
            correct,
            confidence: clamp(0.6),
            rationale: format!(
                "Page {}: {named} is a topic of the document; the right option is this sentence as written, the others are sentences about it made false.",
                c.sentence.page
            ),
            explanation: Some(format!(
                "Page {} says: \"{}\". The other options were changed from the document: {}.",
                c.sentence.page,
                c.sentence.text,
                changes.join("; ")
            )),
        });
    }
    out
}
