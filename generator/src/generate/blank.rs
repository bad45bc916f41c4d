//! Fill in the blank: one key term of a sentence blanked, the options other terms of the same
//! kind from the document, articles agreeing with every option.

use super::analysis::{Analysis, PoolItem, clamp, describe, head_word, neighbours, ranked_terms, shares_context, term_rarity};
use super::truefalse::in_example;
use super::{BLANK, Choice, Picks};
use crate::filter;
use crate::text::{Ending, Kind};

/// Up to `wanted` fill-in-the-blank questions from the best sentences (`rank`) not used yet.
pub(super) fn fill_in(a: &Analysis<'_>, rank: &[usize], picks: &mut Picks, wanted: usize, n_opts: usize) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    for &ci in rank {
        if out.len() == wanted {
            break;
        }
        let c = &a.candidates[ci];
        let Some(content) = picks.fresh(ci, c.sentence.text) else { continue };
        for t in ranked_terms(a, c, &picks.used_kinds, true) {
            // A blank in an example ("(e.g. dataclasses)") asks for the example, not the claim.
            if t.kind == Kind::Word(Ending::Ly) || picks.used_answers.contains(&t.key) || in_example(c.sentence.text, t.start) {
                continue;
            }
            let s = c.sentence.text;
            // "a"/"an" before the blank must agree with every option: prefer options that take
            // the same article; otherwise the article moves into the options.
            let article = article_before(s, t.start);
            // A single name goes only with names used in the same place ("Intel released",
            // "Microsoft released"; not "Rome"): the kind alone mixes firms, places and peoples.
            // Acronyms and institutions mix firms, labs and protocols ("IBM" with "TCP", "United
            // States" with "World Wide Web"): they too need a shared place or, for institutions,
            // the same head word ("Bell Laboratories", "Xerox Laboratories").
            let same_sort = |item: &PoolItem| match t.kind {
                Kind::Proper | Kind::Acronym => shares_context(c, t, item),
                Kind::Org => shares_context(c, t, item) || head_word(&item.key) == head_word(&t.key),
                // Environment variables with environment variables, not with man-page names:
                // "GROFF_TMPDIR" with "GROFF_ENCODING", not with "groff_diff".
                Kind::Code(_) => {
                    let upper = |x: &str| x.chars().filter(|ch| ch.is_alphabetic()).all(|ch| ch.is_uppercase());
                    upper(&item.text) == upper(&c.sentence.text[t.start..t.end])
                }
                _ => true,
            };
            let same_article =
                |item: &PoolItem| same_sort(item) && article.is_none_or(|(_, art)| takes_an(&item.text) == art.eq_ignore_ascii_case("an"));
            let (alts, article_in_options) = match a.alternatives(c, t, n_opts - 1, &same_article) {
                Some(alts) => (alts, false),
                None if article.is_some() => match a.alternatives(c, t, n_opts - 1, &same_sort) {
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
            if !picks.texts.insert(text.clone()) {
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
                describe(a, t),
                if context_hits > 0 { format!(", {context_hits} of them used in the same place elsewhere") } else { String::new() },
                if article_in_options { "; the article is part of each option so that it agrees" } else { "" }
            );
            *picks.used_kinds.entry(t.kind).or_default() += 1;
            picks.used_answers.insert(t.key.clone());
            picks.take(ci, content.clone());
            out.push(Choice {
                order: c.sentence.order,
                page: c.sentence.page,
                quote: s.to_owned(),
                text,
                options,
                correct,
                confidence,
                rationale,
                explanation: None,
            });
            break;
        }
    }
    out
}

/// Whether a word takes "an": by sound, roughly (vowel letters, silent h, letter names of
/// acronyms, numbers read as "eight", "eleven", "eighteen").
pub(super) fn takes_an(text: &str) -> bool {
    let t = text.trim_start_matches(|c: char| !c.is_alphanumeric());
    let first_word: String = t.chars().take_while(|c| c.is_alphanumeric()).collect();
    // Acronyms said as a word ("a LISP interpreter", "a NASA probe") go by their first sound.
    let said_as_word = first_word.len() >= 4 && first_word[1..3].contains(['A', 'E', 'I', 'O', 'U']);
    if first_word.len() >= 2 && first_word.chars().all(|c| c.is_ascii_uppercase()) && !said_as_word {
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
pub(super) fn article_before(s: &str, start: usize) -> Option<(usize, &str)> {
    let before = s[..start].strip_suffix(' ')?;
    let word_start = before.char_indices().rfind(|&(_, c)| !c.is_alphabetic()).map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[word_start..];
    matches!(word, "a" | "an" | "A" | "An").then_some((word_start, word))
}

/// "a"/"an" for `text`, capitalised like `like`.
pub(super) fn article_for(text: &str, like: &str) -> String {
    let art = if takes_an(text) { "an" } else { "a" };
    if like.starts_with(char::is_uppercase) {
        let mut cs = art.chars();
        cs.next().map(|c| c.to_uppercase().collect::<String>() + cs.as_str()).unwrap_or_default()
    } else {
        art.to_owned()
    }
}
