//! "What does this show / raise?" for the interactive Python examples whose output the
//! document prints (`>>> 10 * (1/0)` followed by its traceback, `>>> sum(range(4))` by `6`).
//! Only one-line inputs that stand on their own: every name in them is a builtin, a name bound
//! in the input itself, or (for an exception) a name the document never defines.

use super::analysis::{Analysis, clamp};
use super::{Choice, Picks, fnv};

/// What an input gave, as the document prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The exception class named on the traceback's last line.
    Raises(String),
    /// The value the interpreter echoed or printed (one short line).
    Shows(String),
}

/// One `>>>` input with its outcome, and the exact page text of both (for the quote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Session {
    pub(super) page: u32,
    /// Byte offset on the page, for document order.
    pub(super) at: usize,
    pub(super) input: String,
    pub(super) outcome: Outcome,
    /// The part of the page the outcome is quoted from.
    pub(super) shown: String,
}

const BUILTINS: &[&str] = &[
    "print",
    "sum",
    "range",
    "list",
    "len",
    "sorted",
    "min",
    "max",
    "abs",
    "int",
    "str",
    "float",
    "bool",
    "tuple",
    "set",
    "dict",
    "zip",
    "enumerate",
    "reversed",
    "round",
    "type",
    "divmod",
    "pow",
    "any",
    "all",
    "repr",
    "chr",
    "ord",
    "hex",
    "bin",
    "oct",
    "for",
    "in",
    "if",
    "else",
    "and",
    "or",
    "not",
    "is",
    "True",
    "False",
    "None",
];

fn is_exception_name(w: &str) -> bool {
    let w = w.trim_end_matches([':', ',', '.', ')']);
    w.len() > 5
        && w.starts_with(|c: char| c.is_ascii_uppercase())
        && w.chars().all(|c| c.is_ascii_alphanumeric())
        && ["Error", "Exception", "Warning", "Interrupt", "Iteration", "Exit"]
            .iter()
            .any(|e| w.ends_with(e) && (w.len() > e.len() || w == "Exception"))
}

/// The identifiers of a line of code, outside string literals.
fn identifiers(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut start: Option<usize> = None;
    for (i, c) in code.char_indices().chain(std::iter::once((code.len(), ' '))) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take()
            && !code[s..i].starts_with(|ch: char| ch.is_ascii_digit())
        {
            out.push(&code[s..i]);
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
    }
    out
}

/// Whether the whole input stands on its own (see the module documentation).
fn self_contained(input: &str, all_text: &str, raises: bool) -> bool {
    let ids = identifiers(input);
    ids.iter().all(|id| {
        let bound = input.contains(&format!("for {id} in "));
        let defined =
            [format!("def {id}("), format!("class {id}"), format!("{id} = "), format!("{id}=")].iter().any(|d| all_text.contains(d));
        BUILTINS.contains(id) || bound || (raises && !defined)
    })
}

/// Splits "list(range(5)) [0, 1, 2, 3, 4]" after the balanced input, when what follows
/// starts like a value.
fn split_balanced(chunk: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in chunk.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => {
                depth -= 1;
                let rest = &chunk[i + 1..];
                if depth == 0 && rest.starts_with(' ') {
                    let out = rest.trim_start();
                    let value_like = out.starts_with(['[', '(', '{', '\'', '"', '-']) || out.starts_with(|ch: char| ch.is_ascii_digit());
                    return value_like.then(|| (&chunk[..=i], out));
                }
            }
            _ => {}
        }
    }
    None
}

/// Every self-contained `>>>` input with its printed outcome, in document order.
pub(super) fn sessions(pages: &[String]) -> Vec<Session> {
    let all_text = pages.join("\n");
    let mut out = Vec::new();
    for (p, page) in pages.iter().enumerate() {
        let page_no = u32::try_from(p + 1).unwrap_or(u32::MAX);
        let starts: Vec<usize> = page.match_indices(">>> ").map(|(i, _)| i + 4).collect();
        for (k, &s) in starts.iter().enumerate() {
            let end = starts.get(k + 1).map_or(page.len(), |&n| n - 4);
            let chunk = page[s..end.max(s)].trim_end().trim_end_matches(">>>").trim_end();
            if chunk.contains("...") || chunk.starts_with("raise") || chunk.starts_with(char::is_whitespace) {
                continue;
            }
            let (input, outcome, shown) = if let Some(tb) = chunk.find("Traceback (most recent call last):") {
                let input = chunk[..tb].trim();
                let tail = &chunk[tb..];
                let Some((pos, name)) = tail
                    .split_whitespace()
                    .rfind(|w| is_exception_name(w))
                    .and_then(|w| tail.rfind(w).map(|i| (i, w.trim_end_matches([':', ',', '.', ')']).to_owned())))
                else {
                    continue;
                };
                let shown = tail[pos..].lines().next().unwrap_or("").trim().to_owned();
                (input, Outcome::Raises(name), shown)
            } else {
                let (input, output) = match chunk.split_once('\n') {
                    Some((i, o)) => (i.trim(), o.trim()),
                    None => match split_balanced(chunk) {
                        Some(x) => x,
                        None => continue,
                    },
                };
                if output.is_empty() || output.contains('\n') || output.chars().count() > 40 {
                    continue;
                }
                (input, Outcome::Shows(output.to_owned()), output.to_owned())
            };
            let input = input.split(" #").next().unwrap_or(input).trim();
            let raises = matches!(outcome, Outcome::Raises(_));
            if input.is_empty() || input.contains('\n') || input.len() > 60 || !self_contained(input, &all_text, raises) {
                continue;
            }
            if let Outcome::Raises(name) = &outcome
                && input.contains(name.as_str())
            {
                continue;
            }
            out.push(Session { page: page_no, at: s, input: input.to_owned(), outcome, shown });
        }
    }
    out
}

/// Wrong values of the shape of `v`: off-by-one and neighbouring numbers, lists one element
/// short, long or reversed, the other constants.
fn wrong_values(v: &str) -> Vec<String> {
    let v = v.trim();
    if let Ok(n) = v.parse::<i64>() {
        return [n + 1, n - 1, n * 2, n + 2, n - 2].iter().filter(|&&x| x != n).map(i64::to_string).collect();
    }
    if matches!(v, "True" | "False" | "None") {
        return ["True", "False", "None"].iter().filter(|&&x| x != v).map(|s| (*s).to_owned()).collect();
    }
    if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items: Vec<&str> = inner.split(", ").collect();
        if items.len() < 2 || items.iter().any(|i| i.is_empty()) {
            return Vec::new();
        }
        let list = |xs: &[&str]| format!("[{}]", xs.join(", "));
        let mut out = vec![list(&items[..items.len() - 1]), list(&items[1..])];
        let nums: Option<Vec<i64>> = items.iter().map(|i| i.parse().ok()).collect();
        if let Some(nums) = nums {
            let step = nums[1] - nums[0];
            if nums.windows(2).all(|w| w[1] - w[0] == step) {
                let next = (nums[nums.len() - 1] + step).to_string();
                let prev = (nums[0] - step).to_string();
                let mut longer = items.clone();
                longer.push(&next);
                out.push(list(&longer));
                let mut earlier = vec![prev.as_str()];
                earlier.extend(&items[..items.len() - 1]);
                out.push(list(&earlier));
            }
        }
        let mut rev = items.clone();
        rev.reverse();
        out.push(list(&rev));
        out.dedup();
        return out.into_iter().filter(|o| o != v).collect();
    }
    Vec::new()
}

/// Up to `wanted` output questions.
pub(super) fn outputs(a: &Analysis<'_>, pages: &[String], picks: &mut Picks, wanted: usize, n_opts: usize) -> Vec<Choice> {
    if wanted == 0 || !pages.iter().any(|p| p.contains(">>> ")) {
        return Vec::new();
    }
    let found = sessions(pages);
    // The exception names the document mentions, in order of first mention.
    let mut exceptions: Vec<String> = Vec::new();
    for w in pages.iter().flat_map(|p| p.split(|c: char| !c.is_ascii_alphanumeric())) {
        if is_exception_name(w) && !exceptions.iter().any(|e| e == w) {
            exceptions.push(w.to_owned());
        }
    }
    let _ = a;
    let mut out = Vec::new();
    for s in found {
        if out.len() == wanted {
            break;
        }
        let quote = format!("{} … {}", s.input, s.shown);
        let quote_lower = quote.to_lowercase();
        let hash = fnv(&[quote.as_bytes()]);
        let (answer, mut wrong, text, what) = match &s.outcome {
            Outcome::Raises(name) => {
                let mut others: Vec<String> =
                    exceptions.iter().filter(|e| *e != name && !quote_lower.contains(&e.to_lowercase())).cloned().collect();
                others.sort_by_key(|e| fnv(&[e.as_bytes(), &hash.to_le_bytes()]));
                (
                    name.clone(),
                    others,
                    format!("Which exception does this raise at Python's interactive prompt?\n>>> {}", s.input),
                    "the exception named in the traceback the document prints",
                )
            }
            Outcome::Shows(value) => (
                value.clone(),
                wrong_values(value),
                format!("What does Python's interactive prompt show for this input?\n>>> {}", s.input),
                "the output the document prints",
            ),
        };
        // A wrong option the quote itself contains would look supported by the source.
        wrong.retain(|w| !quote_lower.split(|c: char| !c.is_alphanumeric() && c != '-').any(|t| t == w.to_lowercase()));
        if wrong.len() < n_opts - 1 || !picks.texts.insert(text.clone()) {
            continue;
        }
        let correct = (hash % n_opts as u64) as usize;
        let mut options: Vec<String> = wrong.into_iter().take(n_opts - 1).collect();
        options.insert(correct, answer);
        out.push(Choice {
            order: s.at,
            page: s.page,
            quote,
            text,
            options,
            correct,
            confidence: clamp(0.7),
            rationale: format!("Page {}: an interactive example whose result the document shows; the answer is {what}.", s.page),
            explanation: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(p: &str) -> Vec<String> {
        vec![p.to_owned()]
    }

    #[test]
    fn inputs_with_their_printed_outcome_are_found() {
        let p = pages(
            ">>> 10 * (1/0)\nTraceback (most recent call last): File \"<stdin>\", line 1, in <module>\nZeroDivisionError: division by zero >>> '2' + 2 Traceback (most recent call last): File \"<stdin>\", line 1, in <module>\nTypeError: can only concatenate str (not \"int\") to str >>>\n>>> sum(range(4)) # 0 + 1 + 2 + 3\n6 >>>\n>>> list(range(-10, -100, -30)) [-10, -40, -70] >>>",
        );
        let got: Vec<(String, Outcome)> = sessions(&p).into_iter().map(|s| (s.input, s.outcome)).collect();
        assert_eq!(
            got,
            vec![
                ("10 * (1/0)".to_owned(), Outcome::Raises("ZeroDivisionError".into())),
                ("'2' + 2".to_owned(), Outcome::Raises("TypeError".into())),
                ("sum(range(4))".to_owned(), Outcome::Shows("6".into())),
                ("list(range(-10, -100, -30))".to_owned(), Outcome::Shows("[-10, -40, -70]".into())),
            ]
        );
    }

    #[test]
    fn inputs_that_need_code_from_elsewhere_are_left_out() {
        // `fib` is defined earlier in the document: its output depends on code not shown.
        let p = pages(
            "def fib(n): pass\n>>> fib(10)\n0 1 1 2 3 5 8\n>>> raise NameError('HiThere')\nTraceback (most recent call last): File \"<stdin>\", line 1\nNameError: HiThere",
        );
        assert!(sessions(&p).is_empty());
    }

    #[test]
    fn wrong_values_keep_the_shape_of_the_answer() {
        assert_eq!(wrong_values("6"), ["7", "5", "12", "8", "4"]);
        assert_eq!(
            wrong_values("[-10, -40, -70]"),
            ["[-10, -40]", "[-40, -70]", "[-10, -40, -70, -100]", "[20, -10, -40]", "[-70, -40, -10]"]
        );
        assert_eq!(wrong_values("True"), ["False", "None"]);
        assert!(wrong_values("'a string'").is_empty());
    }
}
