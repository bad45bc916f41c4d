//! Which sentences an exam should never ask about, and which are good to ask about.
//!
//! [`skip_reason`] looks at one sentence; [`legal_pages`] and [`matter_pages`] at whole pages
//! (a licence appendix has sentences without a single legal word in them, "The front cover
//! must present the full title …"). Pure functions over the repaired text.

/// Why a sentence is not used for a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Skip {
    /// Licence and other legal text (GFDL, PSF licence, copyright lines).
    Legal,
    /// Tables of contents, indexes, reference lists.
    Matter,
    /// API reference boilerplate ("Returns:", "Parameters:").
    Api,
    /// A line of code, or prose made mostly of code.
    Code,
    /// RFC 2119 keyword boilerplate ("MUST", "SHALL NOT", …).
    Rfc2119,
    /// Points at material the student does not see ("the above example", "this figure").
    Deictic,
    /// Means little without the sentence before it ("It allows …", "This variable …"), speaks
    /// to the reader about the course ("Students should remember …"), or is no sentence at
    /// all: a heading run into the text ("BUGS On EBCDIC hosts …"), a title ("Groff: The GNU
    /// Implementation …"), two man-page entries run together ("… directory. -T If set, …"),
    /// a fragment without a verb ("100 dpi resolution, 75 pt document base font.").
    Context,
}

/// Words that only legal text uses much (lower case, matched as word prefixes).
const LEGAL_STRONG: &[&str] = &[
    "licens",
    "licenc",
    "copyright",
    "warrant",
    "merchantab",
    "royalt",
    "sublicens",
    "hereby",
    "herein",
    "thereof",
    "hereunder",
    "indemn",
    "liabilit",
    "liable",
    "infring",
    "invariant section",
    "transparent cop",
    "opaque cop",
    "cover texts",
    "verbatim cop",
    "all rights reserved",
    "terms and conditions",
    "free documentation",
    "general public",
    "disclaim",
    "licensee",
    "licensor",
];
/// Words legal text uses often and other text sometimes.
const LEGAL_WEAK: &[&str] = &[
    "distribut",
    "modif",
    "permission",
    "notice",
    "agreement",
    "damages",
    "copies",
    "copy of",
    "document",
    "publisher",
    "terms",
    "conditions",
    "party",
    "parties",
    "grant",
    "derivative",
    "rights",
    "jurisdiction",
];

fn legal_score(lower: &str) -> (usize, usize) {
    let strong = LEGAL_STRONG.iter().filter(|w| lower.contains(*w)).count();
    let weak = LEGAL_WEAK.iter().filter(|w| lower.contains(*w)).count();
    (strong, weak)
}

fn is_legal(s: &str) -> bool {
    legal_strength(s) >= 3
}

/// 3 or more: legal on its own; 2: legal when the page around it is.
fn legal_strength(s: &str) -> usize {
    let lower = s.to_lowercase();
    let (strong, weak) = legal_score(&lower);
    // The GFDL and similar licences write their defined terms capitalised and quoted.
    let defined_terms = ["\"Transparent\"", "\"Opaque\"", "\"Document\"", "\"Secondary Section", "\"Modified Version", " the Document"]
        .iter()
        .filter(|t| s.contains(*t))
        .count();
    if strong + defined_terms >= 1 || lower.starts_with("(c)") || lower.contains('©') { 3 } else { weak.min(3) }
}

const DEICTIC: &[&str] = &[
    "the above",
    "above example",
    "this figure",
    "the figure",
    "this diagram",
    "this table",
    "the table below",
    "the following",
    "as follows",
    "shown below",
    "shown here",
    "shown above",
    "see below",
    "see above",
    "listed below",
    "this example",
    "these examples",
    "the example above",
    "the next example",
    "in this example",
    "as discussed in",
    "as described in",
    "as mentioned in",
    "see section",
    "see chapter",
    "here is",
    "here are",
    "like this",
    "this code",
    "this output",
];

const RFC2119: &[&str] =
    &["MUST", "MUST NOT", "REQUIRED", "SHALL", "SHALL NOT", "SHOULD", "SHOULD NOT", "RECOMMENDED", "NOT RECOMMENDED", "OPTIONAL"];

/// The reason `s` should not become a question, if any.
pub(crate) fn skip_reason(s: &str) -> Option<Skip> {
    let lower = s.to_lowercase();
    if is_legal(s) {
        return Some(Skip::Legal);
    }
    let trimmed = s.trim_start();
    if ["returns:", "return:", "parameters:", "params:", "raises:", "return type:", "arguments:", "args:", "yields:", "type:", "default:"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Some(Skip::Api);
    }
    if ["changed in version", "new in version", "deprecated since version", "availability:"].iter().any(|p| lower.starts_with(p)) {
        return Some(Skip::Api);
    }
    if is_code(trimmed) {
        return Some(Skip::Code);
    }
    let words: Vec<&str> = s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let shouting = words.iter().filter(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase())).count();
    if shouting * 3 < words.len().max(1) && RFC2119.iter().any(|k| words.contains(k)) {
        return Some(Skip::Rfc2119);
    }
    if DEICTIC.iter().any(|d| lower.contains(d)) || lower.trim_end().ends_with(':') {
        return Some(Skip::Deictic);
    }
    if needs_context(s, &lower) {
        return Some(Skip::Context);
    }
    if ["et al.", "proceedings of", "doi:", "isbn", "http://", "https://", "www.", "pp. ", "vol. "].iter().any(|m| lower.contains(m)) {
        return Some(Skip::Matter);
    }
    None
}

/// First words that refer back to the sentence before.
const BACK_REFERENCES: &[&str] = &[
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "they",
    "their",
    "them",
    "he",
    "she",
    "his",
    "her",
    "such",
    "there",
    "here",
    "similarly",
    "likewise",
    "again",
    "also",
    "otherwise",
    "actually",
    "thus",
    "hence",
    "so",
    "then",
    "instead",
    "besides",
    "doing",
    "later",
    "consequently",
    "furthermore",
    "moreover",
    "accordingly",
    "finally",
    "however",
    "looking",
    "another",
    "just",
];

/// Man-page section headings, which the text runs into the first sentence of the section
/// ("AUTHORS groff was written by …").
const MAN_HEADINGS: &[&str] = &[
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "OPTIONS",
    "AUTHORS",
    "AUTHOR",
    "BUGS",
    "FILES",
    "ENVIRONMENT",
    "EXAMPLES",
    "DIAGNOSTICS",
    "NOTES",
    "HISTORY",
    "COPYRIGHT",
    "LIMITATIONS",
    "WARNINGS",
    "USAGE",
    "CAVEATS",
];

/// Verbs an instruction starts with ("Create font description files …", "Use blank lines …"):
/// advice and man-page synopses, which are neither true nor false.
const IMPERATIVES: &[&str] = &[
    "create",
    "use",
    "set",
    "print",
    "translate",
    "convert",
    "display",
    "run",
    "specify",
    "see",
    "read",
    "write",
    "make",
    "add",
    "remove",
    "show",
    "enable",
    "disable",
    "name",
    "put",
    "define",
    "call",
    "list",
    "format",
    "generate",
    "avoid",
    "try",
    "consider",
    "remember",
    "look",
    "install",
    "type",
    "enter",
    "press",
    "select",
    "open",
    "close",
    "start",
    "stop",
    "give",
    "wrap",
    "please",
    // Man-page option entries: "Output version information of groff …", "Preprocess with …".
    "output",
    "preprocess",
    "send",
    "pass",
    "search",
    "include",
    "process",
    "suppress",
    "ignore",
    "force",
    "prepend",
    "load",
    "expand",
    "treat",
    "emulate",
    "interpret",
    "report",
    "execute",
    "exit",
    "save",
    "store",
    "mark",
];

/// Words no finite clause in a technical text goes without: auxiliaries and modals. Other
/// verbs are recognised by their ending ("-ed", or "-s" after a subject-like word).
const AUXILIARIES: &[&str] = &[
    "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "do", "does", "did", "can", "cannot", "could", "will",
    "would", "may", "might", "must", "shall", "should", "isn't", "aren't", "doesn't", "don't", "can't", "won't", "wasn't",
];

/// See [`Skip::Context`].
fn needs_context(s: &str, lower: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    let first = words.first().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).unwrap_or_default();
    if BACK_REFERENCES.contains(&first.as_str())
        || IMPERATIVES.contains(&first.as_str())
        || s.starts_with('(')
        || words.first().is_some_and(|w| w.ends_with(':'))
    {
        return true;
    }
    if [
        "students",
        "this lecture",
        "this course",
        "this chapter",
        "this tutorial",
        "this manual",
        "you will soon",
        "in the example",
        "in chapter",
        "we will",
        "we’ll",
        "you will",
        "now that you",
        "for more information",
        "for more details",
        "a year later",
        "look into pep",
        ", see ",
        "as you can see",
        // Where to read more, not what the subject is: "Details … can be found in the file
        // README", "You can browse it interactively with “info groff”".
        "can be found in",
        "readme",
        "mailing list",
        "bug report",
        "web site",
        "home page",
        // Points back at what was said: "slightly more complex than that", "shown anyway".
        "than that",
        "like that",
        " anyway",
    ]
    .iter()
    .any(|m| lower.contains(m))
    {
        return true;
    }
    // Openers that continue or restate the sentence before ("More exactly, if it is set …",
    // "In other words, …"), and man-page entries that need the entry's name ("If set, bash
    // matches …").
    if [
        "more exactly",
        "in other words",
        "in fact",
        "in this case",
        "in that case",
        "in both cases",
        "that is,",
        "the other ",
        "if set ",
        "if set,",
        "if unset",
        "when set",
        "if enabled",
        "if not set",
        "as a result",
        "on the other hand",
    ]
    .iter()
    .any(|m| lower.starts_with(m))
    {
        return true;
    }
    // A pronoun before anything it could stand for ("If it is set to …", "When they are …"),
    // a demonstrative inside the sentence ("Setting this option implies …", "match one of
    // these patterns"), or a one-letter name from an example ("the file f is closed").
    let plain: Vec<String> = words.iter().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect();
    if plain.iter().take(4).any(|w| ["it", "they", "them", "its", "their"].contains(&w.as_str())) {
        return true;
    }
    for (i, w) in plain.iter().enumerate().skip(1) {
        let next = plain.get(i + 1).map_or("", String::as_str);
        let noun_next = next.len() > 2 && !crate::text::is_stop(next);
        if ["this", "these", "those"].contains(&w.as_str()) && noun_next && !["way", "reason", "purpose"].contains(&next) {
            return true;
        }
        // "this should be sufficient", "such an object", "I first have to tell you": a
        // pronoun for what came before, a back reference, the author speaking.
        if (w == "this" && (AUXILIARIES.contains(&next) || next == "is"))
            || (w == "such" && ["a", "an"].contains(&next))
            || words[i].trim_matches(|c: char| !c.is_alphanumeric()) == "I"
        {
            return true;
        }
    }
    if words.windows(2).any(|p| {
        let w = p[1].trim_end_matches([',', '.', ';', ')']);
        w.len() == 1 && w.chars().all(|c| c.is_ascii_lowercase()) && w != "a" && p[0].chars().all(char::is_alphabetic)
    }) {
        return true;
    }
    if words.first().is_some_and(|w| MAN_HEADINGS.contains(w)) || s.contains('@') || s.contains('〈') {
        return true;
    }
    // A determiner before punctuation is text the PDF lost ("the, operator" for "the ,,
    // operator").
    if [" the, ", " a, ", " an, ", " the. ", " the; "].iter().any(|m| lower.contains(m)) {
        return true;
    }
    // A heading run into the text: "BUGS On EBCDIC hosts", "DESCRIPTION The groff program".
    if let [w1, w2, ..] = words.as_slice()
        && w1.len() >= 3
        && w1.chars().all(|c| c.is_ascii_uppercase())
        && w2.starts_with(char::is_uppercase)
        && crate::english::is_word(&w1.to_lowercase())
    {
        return true;
    }
    // Two entries run together: "… the current directory. -T If set, …", "… with string. string
    // undergoes …" (a full stop inside, then an option or a lower-case word).
    for (i, _) in s.match_indices(". ") {
        let before = s[..i].rsplit(' ').next().unwrap_or("");
        let after = &s[i + 2..];
        let abbreviation = before.len() <= 3 || before.contains('.') || before.chars().any(|c| c.is_ascii_digit());
        if after.starts_with('-') && after[1..].starts_with(char::is_alphanumeric) {
            return true;
        }
        // The splitter ends a sentence at ". " before a capital, digit or quote; one left
        // inside was followed by something else: "… string. string undergoes", ". @ Expands".
        if !abbreviation && !after.starts_with(char::is_uppercase) {
            return true;
        }
    }
    !has_verb(&words)
}

fn has_verb(words: &[&str]) -> bool {
    let clean: Vec<&str> = words.iter().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')).collect();
    let is = |w: &str, list: &[&str]| list.iter().any(|x| x.eq_ignore_ascii_case(w));
    clean.iter().enumerate().any(|(i, w)| {
        let prev = i.checked_sub(1).map(|p| clean[p]);
        let after_determiner = prev.is_some_and(|p| is(p, &["the", "a", "an", "this", "each", "every", "its", "their"]));
        let prev_noun_like = prev.is_some_and(|p| {
            (!p.ends_with('s') || p.ends_with("ss"))
                && !crate::text::is_stop(&p.to_lowercase())
                && words[i - 1].chars().all(char::is_alphanumeric)
        });
        is(w, AUXILIARIES)
            || (i > 0 && w.len() > 4 && w.ends_with("ed") && !after_determiner)
            || (i > 0
                && i + 1 < clean.len()
                && w.len() > 3
                && w.ends_with('s')
                && !w.ends_with("ss")
                && !w.eq_ignore_ascii_case("ones")
                && !after_determiner
                && prev_noun_like)
    })
}

/// Code, or prose that is mostly code: a prompt, keywords at the start, many operators, or more
/// identifiers (`snake_case`, `dotted.names`, `calls()`) than plain words.
fn is_code(s: &str) -> bool {
    if s.starts_with(">>>") || s.starts_with("...") || s.starts_with('$') || s.starts_with('#') || s.contains(">>> ") {
        return true;
    }
    let first = s.split_whitespace().next().unwrap_or("");
    if [
        "def", "class", "import", "from", "return", "for", "while", "if", "elif", "else:", "try:", "except", "print(", "raise", "with",
        "lambda",
    ]
    .iter()
    .any(|k| first == *k || (k.ends_with('(') && first.starts_with(k)))
        && (s.contains(':') || s.contains('(') || s.contains('='))
        && !s.trim_end().ends_with('.')
    {
        return true;
    }
    let symbols = s.chars().filter(|c| "=(){}[];<>|\\".contains(*c)).count();
    let tokens: Vec<&str> = s.split_whitespace().collect();
    let identifiers = tokens
        .iter()
        .filter(|t| {
            let t = t.trim_matches(|c: char| ",.;:!?\"'“”‘’".contains(c));
            t.contains('_') || t.contains("()") || (t.contains('.') && t.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '_'))
        })
        .count();
    symbols * 6 > tokens.len() || identifiers * 3 > tokens.len() || s.contains(" = ") && symbols >= 2
}

/// Pages that are mostly legal text: a licence appendix. `sentences[i]` are the candidate
/// sentences of page `i`.
pub(crate) fn legal_pages(sentences: &[Vec<&str>]) -> Vec<bool> {
    sentences
        .iter()
        .map(|ss| {
            let legal = ss.iter().filter(|s| legal_strength(s) >= 2).count();
            !ss.is_empty() && legal * 4 >= ss.len() && legal >= 2
        })
        .collect()
}

/// Pages of front and back matter, known by their first paragraph ("Contents", "Index",
/// "References", "Bibliography").
pub(crate) fn matter_pages(pages: &[String]) -> Vec<bool> {
    pages
        .iter()
        .map(|p| {
            let first = p.split('\n').next().unwrap_or("").trim().trim_end_matches(':').to_lowercase();
            let first = first.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
            matches!(first, "contents" | "table of contents" | "index" | "references" | "bibliography" | "works cited" | "list of figures")
        })
        .collect()
}

/// How much a sentence explains: definitions ("X is a …", "X refers to …", "called X") score
/// highest. Between 0 and 1.
pub(crate) fn explains(s: &str) -> f64 {
    let lower = s.to_lowercase();
    let mut score: f64 = 0.0;
    for (pattern, w) in [
        (" is a ", 0.6),
        (" is an ", 0.6),
        (" are a ", 0.5),
        (" is the ", 0.4),
        (" are the ", 0.35),
        (" refers to ", 0.7),
        (" is called ", 0.7),
        (" are called ", 0.7),
        (" is known as ", 0.7),
        (" means ", 0.6),
        (" is defined as ", 0.8),
        (" consists of ", 0.5),
        (" is used to ", 0.5),
        (" are used to ", 0.5),
        (" allows ", 0.3),
        (" because ", 0.3),
        (" so that ", 0.3),
    ] {
        if lower.contains(pattern) {
            score = score.max(w);
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_text_is_skipped() {
        for s in [
            "You may copy and distribute the Document in any medium, either commercially or noncommercially, provided that this License is preserved.",
            "The \"Invariant Sections\" are certain Secondary Sections whose titles are designated as being those of Invariant Sections.",
            "A \"Transparent\" copy of the Document means a machine-readable copy, represented in a format whose specification is available.",
            "Copyright 2001-2023 Python Software Foundation; All Rights Reserved.",
            "PSF MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED.",
        ] {
            assert_eq!(skip_reason(s), Some(Skip::Legal), "{s}");
        }
    }

    #[test]
    fn boilerplate_code_rfc_keywords_and_pointers_are_skipped() {
        assert_eq!(skip_reason("Returns: the number of items in the container as an integer."), Some(Skip::Api));
        assert_eq!(skip_reason(">>> print(spam) returns the value stored in the variable."), Some(Skip::Code));
        assert_eq!(skip_reason("def scope_test(): def do_local(): spam = \"local spam\""), Some(Skip::Code));
        assert_eq!(skip_reason("The client MUST send a Host header field in every request message."), Some(Skip::Rfc2119));
        assert_eq!(skip_reason("The above example would work even if the subclass introduced an identifier."), Some(Skip::Deictic));
        assert_eq!(skip_reason("This figure shows the layers of the protocol stack in a typical network."), Some(Skip::Deictic));
        assert_eq!(skip_reason("Smith et al. described the method in the Proceedings of the ACM conference."), Some(Skip::Matter));
    }

    #[test]
    fn sentences_that_need_the_one_before_or_are_no_sentence_are_skipped() {
        for s in [
            "It allows one to specify the preprocessors by command-line options.",
            "This variable determines the collation order used when sorting the results.",
            "Students should remember the key figures and the decades in which their ideas appeared.",
            "BUGS On EBCDIC hosts (e.g., OS/390 Unix), output devices ascii and latin1 aren’t available.",
            "Groff: The GNU Implementation of troff, by Trent A. Fisher and Werner Lemberg, is the primary groff manual.",
            "By default, bash follows the logical chain of directories. -T If set, any traps on DEBUG are inherited by shell functions.",
            "Parameter is expanded and the longest match is replaced with string. string undergoes tilde expansion.",
            "100 dpi resolution, 75 pt document base font for the output device.",
            "(On the other hand, the Python implementation, written in C, can completely hide implementation details.)",
            "Create font description files for TeX DVI device.",
            "For more information about chaining mechanics, see Built-in Exceptions.",
            "For more on the try statement and exceptions, see Handling Exceptions.",
            "Doing so, the sometimes tedious piping mechanism of classical roff cannot be avoided.",
            "Exceptions come in different types: the types in the example are ZeroDivisionError and NameError.",
            "If IFS is null, the parameters are joined without separators. @ Expands to the positional parameters.",
            "Consequently, one may use filenames with tildes in assignments to PATH, MAILPATH, and CDPATH.",
        ] {
            assert_eq!(skip_reason(s), Some(Skip::Context), "{s}");
        }
    }

    /// The second review's unusable sentences (`quality/REVIEW.md`), as the corpus has them.
    #[test]
    fn sentences_that_point_back_restate_or_lead_elsewhere_are_skipped() {
        for s in [
            // groff(1): a pronoun for the option named before, a discourse opener, pointers.
            "More exactly, if it is set to prefix xxx then groff as a wrapper program internally calls xxxtroff instead of troff.",
            "You can browse it interactively with “info groff”.",
            "Setting this option implies groff’s command-line option -k (this is, groff actually always calls preconv).",
            "Details on repository access and much more can be found in the file README at the top directory of the groff source package.",
            "The other man pages can be shown anyway by adding the section number as argument before the man page name.",
            "Combined with the many existing free conversion tools this should be sufficient to convert a troff document into virtually any existing data format.",
            "Please refer to preconv’s manual page for its behaviour if no -K (or -D) option is specified.",
            "Output version information of groff and of all programs that are run by it; that is, the given command line is parsed in the usual way, passing -v to all subprograms.",
            "AUTHORS groff was written by James Clark 〈jjc@jclark.com〉.",
            // groff(1), ENVIRONMENT: an entry's description without its variable, and no verb.
            "A list of directories in which to search for the devname directory in addition to the default ones.",
            // bash(1): an option's entry without the option; text the PDF lost (",," operator).
            "If set, bash matches patterns in a case-insensitive fashion when performing matching while executing case or [[ conditional commands.",
            "The ˆ operator converts lowercase letters matching pattern to uppercase; the, operator converts matching uppercase letters to lowercase.",
            // The Python tutorial: restating, the author speaking, a name from an unseen example.
            "In other words, the names of positional-only parameters can be used in **kwds without ambiguity.",
            "In fact, it is slightly more complex than that; the method resolution order changes dynamically to support cooperative calls to super().",
            "Before introducing classes, I first have to tell you something about Python’s scope rules.",
            "We say such an object is iterable, that is, suitable as a target for functions and constructs that expect something from which they can obtain successive items until the supply is exhausted.",
            "Another place pass can be used is as a place-holder for a function or conditional body when you are working on new code, allowing you to keep thinking at a more abstract level.",
            "After the statement is executed, the file f is always closed, even if a problem was encountered while processing the lines.",
        ] {
            assert_eq!(skip_reason(s), Some(Skip::Context), "{s}");
        }
        // The same documents' plain statements stay.
        for s in [
            "The grog(1) program can be used for guessing the correct groff command line to format a file.",
            "Macro packages can be included by option -m.",
            "A try statement may have more than one except clause, to specify handlers for different exceptions.",
            "The except clause may specify a variable after the exception name.",
            "If a finally clause is present, the finally clause will execute as the last task before the try statement completes.",
            "When matching a pathname, the slash character must always be matched explicitly by a slash in the pattern.",
        ] {
            assert_eq!(skip_reason(s), None, "{s}");
        }
    }

    #[test]
    fn ordinary_prose_is_kept_and_definitions_score_high() {
        for s in [
            "A namespace is a mapping from names to objects.",
            "In 1936 the British mathematician Alan Turing published a paper describing an abstract device.",
            "The Analytical Engine had a memory called the store and a processing unit called the mill.",
            "The return statement returns with a value from a function.",
            "The transistor was invented at Bell Laboratories in 1947 by John Bardeen, Walter Brattain and William Shockley.",
            "Bash performs the expansion by executing command in a subshell environment, e.g. in a pipeline.",
            "Steve Wozniak and Steve Jobs founded Apple in 1976.",
        ] {
            assert_eq!(skip_reason(s), None, "{s}");
        }
        assert!(explains("A namespace is a mapping from names to objects.") > explains("Babbage was born in London."));
    }

    #[test]
    fn licence_pages_and_matter_pages_are_recognised() {
        let page = vec![
            "The front cover must present the full title with all words of the title equally prominent and visible.",
            "You may add other material on the covers in addition.",
            "If you publish or distribute Opaque copies of the Document numbering more than 100, you must include a Transparent copy.",
            "You may not use technical measures to obstruct or control the reading or further copying of the copies you make or distribute.",
        ];
        let prose = vec!["The abacus was used by merchants in Mesopotamia.", "Pascal built a mechanical adding machine."];
        assert_eq!(legal_pages(&[page, prose]), [true, false]);
        let pages = vec!["Contents\n1. Introduction 3".to_owned(), "Introduction\nText.".to_owned(), "Index\nabs(), 12".to_owned()];
        assert_eq!(matter_pages(&pages), [true, false, true]);
    }
}
