//! Text repair after extraction, so that questions read like the document.
//!
//! PDF text extractors reproduce how a page was typeset, not how it reads. This pass fixes what
//! `pdf-extract` leaves behind, measured on real PDFs (see `quality/`):
//!
//! * ligature characters (`ﬁ`, `ﬂ`, `ﬀ`, `ﬃ`, `ﬄ`, `ﬅ`, `ﬆ`) become their letters;
//! * running headers and footers (a line repeated at the top or bottom of most pages, page
//!   numbers allowed to differ) and bare page numbers are dropped;
//! * words split by kerning (`dif ferent`, `pr oject`, `R esearch`) are joined when the joined
//!   word is known (from the document itself, unsplit, or the shipped English word list) and a
//!   piece is no word on its own; two real words are joined only when the document itself
//!   spells the joined word unsplit;
//! * a word hyphenated at a line end that the line-level join could not handle (`ELE- MENT`) is
//!   joined when the joined word is known;
//! * no space before `.,;:!?` after a word, none inside `’s`, `’t`, `’re`, …;
//! * citation markers (`[12]`, `[1, 3–5]`, `[GNOME]`, `[Knuth84]`) are removed.
//!
//! The repaired text is what is stored as the page text and what questions quote, so the
//! validator finds every quote (it compares after [`exam_domain::validate::normalise`]).

use std::collections::HashMap;

use crate::english;

/// Repairs a whole document: `raw` is the extractor's text per page; the result is normalised
/// (see [`crate::normalise_page`]) and repaired text per page.
pub(crate) fn repair_document(raw: &[String]) -> Vec<String> {
    let raw: Vec<String> = raw.iter().map(|p| expand_ligatures(p)).collect();
    let stripped = strip_running_lines(&raw);
    let pages: Vec<String> = stripped.iter().map(|p| crate::extract::normalise_page(p)).collect();
    let vocab = Vocabulary::of(&pages);
    pages.iter().map(|p| repair_text(p, &vocab)).collect()
}

/// The repairs that work on normalised text (everything but ligatures and running lines).
pub(crate) fn repair_text(page: &str, vocab: &Vocabulary) -> String {
    let s = join_split_words(page, vocab);
    let s = remove_citations(&s);
    let s = tighten_punctuation(&s);
    tighten_contractions(&s)
}

pub(crate) fn expand_ligatures(s: &str) -> String {
    if !s.chars().any(|c| ('\u{fb00}'..='\u{fb06}').contains(&c)) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            'ﬀ' => out.push_str("ff"),
            'ﬁ' => out.push_str("fi"),
            'ﬂ' => out.push_str("fl"),
            'ﬃ' => out.push_str("ffi"),
            'ﬄ' => out.push_str("ffl"),
            'ﬅ' | 'ﬆ' => out.push_str("st"),
            c => out.push(c),
        }
    }
    out
}

/// The key under which a line counts as "the same" on different pages: lower case, digit runs
/// as `#`, whitespace collapsed.
fn line_key(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_digits = false;
    for w in line.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in w.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                in_digits = false;
                out.extend(c.to_lowercase());
            }
        }
        in_digits = false;
    }
    out
}

/// A line that is only a page number: `12`, `- 12 -`, `Page 12`, `12 of 40`, `Page 3 of 40`, `xii`.
fn is_page_number(line: &str) -> bool {
    let key = line_key(line);
    let key = key.trim_matches(|c: char| c == '-' || c == '–' || c == '—' || c == ' ' || c == '|');
    matches!(key, "#" | "page #" | "# of #" | "page # of #" | "# / #" | "p. #")
        || (!key.is_empty() && key.len() <= 5 && key.chars().all(|c| "ivx".contains(c)))
}

/// How many lines at the top and at the bottom of a page can be a running header or footer.
const EDGE_LINES: usize = 3;

/// Drops running headers/footers and page numbers from the top and bottom lines of each page.
pub(crate) fn strip_running_lines(pages: &[String]) -> Vec<String> {
    let lines: Vec<Vec<&str>> = pages.iter().map(|p| p.lines().collect()).collect();
    // The indices of the first and last few non-empty lines of each page.
    let edges: Vec<Vec<usize>> = lines
        .iter()
        .map(|ls| {
            let filled: Vec<usize> = (0..ls.len()).filter(|&i| !ls[i].trim().is_empty()).collect();
            let mut e: Vec<usize> = filled.iter().take(EDGE_LINES).copied().collect();
            e.extend(filled.iter().rev().take(EDGE_LINES).copied());
            e.sort_unstable();
            e.dedup();
            e
        })
        .collect();
    let mut pages_with: HashMap<String, usize> = HashMap::new();
    for (ls, e) in lines.iter().zip(&edges) {
        let mut keys: Vec<String> = e.iter().map(|&i| line_key(ls[i])).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            *pages_with.entry(k).or_default() += 1;
        }
    }
    let n = pages.len();
    let running = |k: &str| {
        let c = pages_with.get(k).copied().unwrap_or(0);
        // On most pages, and at least three of them (or every page of a two-page document).
        n >= 2 && c * 2 > n && (c >= 3 || c == n) && k.chars().any(char::is_alphanumeric)
    };
    lines
        .iter()
        .zip(&edges)
        .map(|(ls, e)| {
            let drop: Vec<usize> =
                e.iter().copied().filter(|&i| is_page_number(ls[i]) || (running(&line_key(ls[i])) && !is_sentence(ls[i]))).collect();
            if drop.is_empty() {
                return ls.join("\n");
            }
            ls.iter().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, l)| *l).collect::<Vec<_>>().join("\n")
        })
        .collect()
}

/// A line that reads as a sentence of the text (a repeated one is a quote or a refrain, not
/// a header): long and ending in a full stop.
fn is_sentence(line: &str) -> bool {
    line.split_whitespace().count() >= 12 && line.trim_end().ends_with('.')
}

/// The document's own words, unsplit, with their counts: the first evidence for a join.
pub(crate) struct Vocabulary {
    counts: HashMap<String, u32>,
    /// All pages, lower case, for counting how often pieces occur side by side.
    text: String,
}

impl Vocabulary {
    pub(crate) fn of<S: AsRef<str>>(pages: &[S]) -> Self {
        let mut counts = HashMap::new();
        let mut text = String::new();
        for p in pages {
            text.push_str(&p.as_ref().to_lowercase());
            text.push('\n');
            for w in p.as_ref().split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| !w.is_empty()) {
                *counts.entry(w.to_lowercase()).or_insert(0) += 1;
            }
        }
        Vocabulary { counts, text }
    }

    fn in_document(&self, lower: &str) -> bool {
        self.counts.get(lower).is_some_and(|&c| c >= 1)
    }

    fn count(&self, lower: &str) -> u32 {
        self.counts.get(lower).copied().unwrap_or(0)
    }

    /// How often `pair` ("cor e") occurs as written.
    fn pair_count(&self, pair: &str) -> u32 {
        u32::try_from(self.text.matches(pair).count()).unwrap_or(u32::MAX)
    }

    fn known(&self, lower: &str) -> bool {
        self.in_document(lower) || english::tier(lower).is_some()
    }
}

/// Letters only, and a case pattern a single word can have once its pieces are joined
/// ("R"+"esearch", "dif"+"ferent", "ELE"+"MENT"), never lower+Capital.
fn joinable(a: &str, b: &str) -> bool {
    let letters = |w: &str| !w.is_empty() && w.chars().all(char::is_alphabetic);
    if !letters(a) || !letters(b) {
        return false;
    }
    let lower = |w: &str| w.chars().all(char::is_lowercase);
    let upper = |w: &str| w.chars().all(char::is_uppercase);
    let b_lower = lower(b);
    let a_cap_start = a.chars().next().is_some_and(char::is_uppercase) && a.chars().skip(1).all(char::is_lowercase);
    ((lower(a) || a_cap_start) && b_lower) || (upper(a) && upper(b) && a.len() + b.len() >= 4)
}

/// Whether the pieces `parts` of one word, written apart, should be joined.
fn should_join(parts: &[&str], vocab: &Vocabulary) -> bool {
    let joined: String = parts.concat().to_lowercase();
    if joined.chars().count() < 4 || parts.iter().all(|p| p.chars().count() == 1) || parts.iter().all(|p| p.chars().count() < 3) {
        return false;
    }
    if !vocab.known(&joined) {
        return false;
    }
    let lowers: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
    // A short rare word ("cor", "pr") is more likely a fragment than a word.
    let word = |p: &str| english::is_word(p) && (p.len() > 3 || english::tier(p).is_some_and(|t| t <= 2));
    let fragments: Vec<&String> = lowers.iter().filter(|p| !word(p)).collect();
    if !fragments.is_empty() {
        // A stray letter next to a real word is a variable or a list ("a b c are"), not a split.
        // A short "fragment" the document uses on its own again and again is a name of its
        // own ("str and", "to pic" in a groff manual), unless the document writes the join.
        let pair = lowers.join(" ");
        let standalone = fragments.iter().any(|p| (2..=4).contains(&p.chars().count()) && vocab.count(p) >= vocab.pair_count(&pair) + 2);
        return fragments.iter().any(|p| p.chars().count() > 1) && (!standalone || vocab.in_document(&joined));
    }
    // Two real words ("merchant ability"): only when the document spells them as one word, and
    // neither is a short word that starts or ends phrases ("in to", "a part").
    vocab.in_document(&joined) && lowers.iter().all(|p| p.len() >= 4) && parts.len() == 2
}

/// Joins kerning splits and hyphenations left at line ends (`ELE- MENT`).
fn join_split_words(s: &str, vocab: &Vocabulary) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    if words.len() < 2 {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let sep = |out: &mut String| {
            if !out.is_empty() {
                out.push(' ');
            }
        };
        // `ELE- MENT` / `Proce- dure`: a trailing hyphen, then the rest of the word.
        if let (Some(stem), Some(next)) = (w.strip_suffix('-'), words.get(i + 1)) {
            let (last_line, first_line) = (stem.rsplit('\n').next().unwrap_or(stem), next.split('\n').next().unwrap_or(next));
            let core_next = first_line.trim_end_matches(|c: char| !c.is_alphanumeric());
            let lead = stem.len() - last_line.len();
            let letters = |x: &str| !x.is_empty() && x.chars().all(char::is_alphabetic);
            if letters(last_line)
                && letters(core_next)
                && !first_line.contains('\n')
                && joinable(last_line, core_next)
                && vocab.known(&format!("{last_line}{core_next}").to_lowercase())
            {
                sep(&mut out);
                out.push_str(&stem[..lead]);
                out.push_str(last_line);
                out.push_str(next);
                i += 2;
                continue;
            }
        }
        // Kerning: up to three pieces, longest first. Pieces carry no punctuation except before
        // the first ("(dif ferent") and after the last one ("pr oject:"); a paragraph break may
        // come before the first piece or after the last.
        let mut joined = false;
        for k in [3usize, 2] {
            if i + k > words.len() {
                continue;
            }
            let pieces = &words[i..i + k];
            if pieces[1..k - 1].iter().any(|p| p.contains('\n')) {
                continue;
            }
            let (head, first) = match pieces[0].rfind('\n') {
                Some(n) => pieces[0].split_at(n + 1),
                None => ("", pieces[0]),
            };
            let (last, tail) = match pieces[k - 1].find('\n') {
                Some(n) => pieces[k - 1].split_at(n),
                None => (pieces[k - 1], ""),
            };
            let last_core = last.trim_end_matches(|c: char| !c.is_alphanumeric());
            let trail = &last[last_core.len()..];
            let first_core = first.trim_start_matches(|c: char| "(\"“‘'".contains(c));
            let lead = &first[..first.len() - first_core.len()];
            let mut cores: Vec<&str> = Vec::with_capacity(k);
            cores.push(first_core);
            cores.extend(&pieces[1..k - 1]);
            cores.push(last_core);
            if cores.windows(2).all(|w| joinable(w[0], w[1])) && should_join(&cores, vocab) {
                sep(&mut out);
                out.push_str(head);
                out.push_str(lead);
                for c in &cores {
                    out.push_str(c);
                }
                out.push_str(trail);
                out.push_str(tail);
                i += k;
                joined = true;
                break;
            }
        }
        if joined {
            continue;
        }
        sep(&mut out);
        out.push_str(w);
        i += 1;
    }
    out
}

/// Removes citation markers with the space before them: `[12]`, `[1, 2]`, `[3–5]`, `[GNOME]`,
/// `[RFC2119]`, `[Knuth84]`. Brackets after `=`, `(`, `,` or at a paragraph start are code or
/// lists and stay.
fn remove_citations(s: &str) -> String {
    if !s.contains('[') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find(" [") {
        let after = &rest[open + 2..];
        let Some(close) = after.find(']') else { break };
        let inner = &after[..close];
        let before = rest[..open].chars().next_back();
        let follows = after[close + 1..].chars().next();
        let prev_ok = before.is_some_and(|c| c.is_alphanumeric() || ".,;:!?)\"”’".contains(c));
        let next_ok = follows.is_none_or(|c| c.is_whitespace() || ".,;:!?)".contains(c));
        if prev_ok && next_ok && is_citation(inner) {
            out.push_str(&rest[..open]);
            rest = &after[close + 1..];
        } else {
            out.push_str(&rest[..open + 2]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn is_citation(inner: &str) -> bool {
    if inner.is_empty() || inner.len() > 24 {
        return false;
    }
    let numeric = inner.chars().all(|c| c.is_ascii_digit() || ", –-".contains(c)) && inner.starts_with(|c: char| c.is_ascii_digit());
    let word = inner.chars().all(|c| c.is_alphanumeric() || "+._-".contains(c));
    let uppers = inner.chars().filter(char::is_ascii_uppercase).count();
    let key = word && inner.starts_with(|c: char| c.is_ascii_uppercase()) && uppers >= 2 && inner.len() >= 2;
    // Author and year: Knuth84, Smith1999a.
    let digits = inner.chars().filter(char::is_ascii_digit).count();
    let author_year = word
        && inner.starts_with(|c: char| c.is_ascii_uppercase())
        && (2..=4).contains(&digits)
        && inner.trim_end_matches(|c: char| c.is_ascii_lowercase()).ends_with(|c: char| c.is_ascii_digit());
    numeric || key || author_year
}

/// `word .` → `word.`, for `.,;:!?` followed by a space or the end, except in spaced ellipses
/// (`. . .`).
fn tighten_punctuation(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' '
            && let (Some(&prev), Some(&p)) = (i.checked_sub(1).and_then(|j| chars.get(j)), chars.get(i + 1))
            && ".,;:!?".contains(p)
            && (prev.is_alphanumeric() || ")]\"”’".contains(prev))
        {
            let after = chars.get(i + 2).copied();
            let ellipsis = p == '.' && chars.get(i + 3) == Some(&'.');
            if after.is_none_or(|a| a == ' ' || a == '\n') && !ellipsis {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `Python ’s` / `Python’ s` → `Python’s` (also `'` and the contractions `t re ll ve d m`).
fn tighten_contractions(s: &str) -> String {
    if !s.contains(['’', '\'']) {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    let is_suffix_at = |j: usize| -> Option<usize> {
        for suf in ["s", "t", "re", "ll", "ve", "d", "m"] {
            let n = suf.len();
            let matches = suf.chars().enumerate().all(|(k, c)| chars.get(j + k) == Some(&c));
            let ends = chars.get(j + n).is_none_or(|c| !c.is_alphanumeric());
            if matches && ends {
                return Some(n);
            }
        }
        None
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_letter = i.checked_sub(1).and_then(|j| chars.get(j)).is_some_and(|p| p.is_alphabetic());
        // "word ’s"
        if c == ' '
            && prev_letter
            && chars.get(i + 1).is_some_and(|&q| q == '’' || q == '\'')
            && is_suffix_at(i + 2).is_some()
            && !chars.get(i + 3).is_some_and(|&x| x == '\'' || x == '’')
        {
            i += 1;
            continue;
        }
        // "word’ s"
        if (c == '’' || c == '\'') && prev_letter && chars.get(i + 1) == Some(&' ') && is_suffix_at(i + 2).is_some() {
            out.push(c);
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repair(text: &str, context: &str) -> String {
        let vocab = Vocabulary::of(&[text, context]);
        repair_text(text, &vocab)
    }

    #[test]
    fn ligatures_become_letters() {
        assert_eq!(expand_ligatures("deﬁne the ﬂow, eﬀect, eﬃcient, baﬄe"), "define the flow, effect, efficient, baffle");
    }

    #[test]
    fn kerning_splits_are_joined_when_the_word_is_known() {
        assert_eq!(repair("Two dif ferent modules.", ""), "Two different modules.");
        assert_eq!(
            repair("The Python cor e development team of the SoX pr oject:", ""),
            "The Python core development team of the SoX project:"
        );
        assert_eq!(repair("Starting with 3.8.6, e xamples and recipes.", ""), "Starting with 3.8.6, examples and recipes.");
        assert_eq!(repair("National R esearch Initiatives", ""), "National Research Initiatives");
        // Three pieces.
        assert_eq!(repair("the con fig uration file", ""), "the configuration file");
        // A short piece the document uses on its own is a name, not a fragment.
        assert_eq!(repair("Preprocess with pic and tbl; pass it to pic .", "pic pic pic"), "Preprocess with pic and tbl; pass it to pic.");
        assert_eq!(repair("a str and a bytes object", "str str str"), "a str and a bytes object");
        // A split repeated in the document is still a split.
        assert_eq!(repair("the Python cor e team", "cor e developers, the cor e team"), "the Python core team");
    }

    #[test]
    fn two_real_words_are_joined_only_when_the_document_writes_them_as_one() {
        assert_eq!(repair("without merchant ability or fitness", ""), "without merchant ability or fitness");
        assert_eq!(
            repair("without merchant ability or fitness", "MERCHANTABILITY and merchantability"),
            "without merchantability or fitness"
        );
        // Short words that make phrases stay apart even so.
        assert_eq!(repair("log in to the server, a part of it", "into apart"), "log in to the server, a part of it");
    }

    #[test]
    fn real_text_is_not_joined() {
        for s in [
            "The value of x is in y and a b c are letters.",
            "Lowercase then Capital: the Python language.",
            "It is a test of the system.",
            "print(a, b) returns 42 and i j k stay.",
        ] {
            assert_eq!(repair(s, ""), s);
        }
    }

    #[test]
    fn line_end_hyphens_left_by_the_line_join_are_joined() {
        assert_eq!(repair("THE ELE- MENT NAME", "element"), "THE ELEMENT NAME");
        assert_eq!(repair("pre- and post-processing, pages 10- 12", ""), "pre- and post-processing, pages 10- 12");
    }

    #[test]
    fn no_space_before_punctuation_or_inside_possessives() {
        assert_eq!(repair("the classical roff . This section ; and : yes !", ""), "the classical roff. This section; and: yes!");
        assert_eq!(repair("[ file . . .] stays", ""), "[ file . . .] stays");
        assert_eq!(repair("GNOME ’s desktop and Python’ s classes, don ’t", ""), "GNOME’s desktop and Python’s classes, don’t");
        assert_eq!(repair("the 's' flag and 'spam' stay", ""), "the 's' flag and 'spam' stay");
    }

    #[test]
    fn citation_markers_are_removed() {
        assert_eq!(
            repair("as shown before [12]. Next [1, 3–5], and [GNOME] said so [Knuth84].", ""),
            "as shown before. Next, and said so."
        );
        // Code and lists keep their brackets.
        for s in ["x = [1, 2] is a list", "print([1]) and a[i]", "[1] first item", "see [the manual] here"] {
            assert_eq!(repair(s, ""), s);
        }
    }

    #[test]
    fn running_headers_footers_and_page_numbers_are_dropped() {
        let bodies = ["Options come first.\nThen files.", "Macros are read.", "Output goes to\nthe device.", "See also troff."];
        let pages: Vec<String> = bodies
            .iter()
            .enumerate()
            .map(|(n, b)| format!("GROFF(1) General Commands Manual GROFF(1)\n{b}\ngroff 1.22.4 14 March 2021 {}", n + 1))
            .collect();
        assert_eq!(strip_running_lines(&pages), bodies);
        let numbered = vec!["Intro\nText one.\n1".to_owned(), "Text two.\n- 2 -".to_owned(), "Page 3 of 3\nText three.".to_owned()];
        assert_eq!(strip_running_lines(&numbered), ["Intro\nText one.", "Text two.", "Text three."]);
        // A line that occurs on one page only stays.
        let once = vec!["Title\nA.".to_owned(), "Other\nB.".to_owned(), "Third\nC.".to_owned()];
        assert_eq!(strip_running_lines(&once), once);
    }
}
