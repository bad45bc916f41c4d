//! How common an English word is, from the SCOWL word lists shipped in `data/`
//! (`english-tiers.txt`, licence in `data/LICENSE-SCOWL`).
//!
//! SCOWL orders its lists by how common their words are; we ship three sizes as tiers:
//! 1 = the most common words and their forms (size 35), 2 = common (size 50), 3 = less common
//! (size 70). A word in none of them is rare in general English: a technical term, a name, or
//! a fragment of a word the PDF split apart. Lookups are case-insensitive for lower-case input
//! only; callers lower-case first.

use std::collections::HashMap;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/english-tiers.txt");

fn table() -> &'static HashMap<&'static str, u8> {
    static TABLE: OnceLock<HashMap<&'static str, u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::with_capacity(120_000);
        let mut tier = 0u8;
        for line in DATA.lines() {
            if let Some(t) = line.strip_prefix('@') {
                tier = t.parse().unwrap_or(3);
            } else if !line.is_empty() && !line.starts_with('#') {
                map.insert(line, tier);
            }
        }
        map
    })
}

/// The commonness tier of a lower-case word: `Some(1)` (very common) to `Some(3)`, or `None`
/// when the word is not in the shipped lists.
pub(crate) fn tier(lower: &str) -> Option<u8> {
    table().get(lower).copied()
}

/// Whether `lower` is an English word on its own. Single letters other than "a" and "i" are
/// listed by SCOWL but are not words in running text.
pub(crate) fn is_word(lower: &str) -> bool {
    match lower.len() {
        0 => false,
        1 => lower == "a" || lower == "i",
        _ => tier(lower).is_some(),
    }
}

/// How specific a word is against general English, 0 (everyday) to 1 (not in the lists).
/// A plural or inflected form counts as common when its base form is.
pub(crate) fn rarity(lower: &str) -> f64 {
    let t = tier(lower).or_else(|| base_forms(lower).iter().filter_map(|b| tier(b)).min());
    match t {
        Some(1) => 0.0,
        Some(2) => 0.45,
        Some(_) => 0.75,
        None => 1.0,
    }
}

fn base_forms(w: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (suffix, repl) in [("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")] {
        if let Some(stem) = w.strip_suffix(suffix)
            && stem.len() >= 3
        {
            out.push(format!("{stem}{repl}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_tell_everyday_from_technical_words() {
        assert_eq!(tier("different"), Some(1));
        assert_eq!(tier("the"), Some(1));
        assert!(tier("reckoner").is_some_and(|t| t >= 2));
        assert_eq!(tier("ferent"), None);
        assert!(is_word("a") && !is_word("e") && !is_word("sof") && is_word("software"));
        assert!(rarity("house") < rarity("namespace"));
        assert_eq!(rarity("houses"), rarity("house"), "plurals count as their base form");
    }
}
