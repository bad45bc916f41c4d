//! In-process PDF text extraction: bytes -> normalised text per page, with teacher-readable errors.
//!
//! `pdf-extract` (on top of `lopdf`) does the reading. It panics on some damaged files, so the
//! whole call runs under `catch_unwind`; servers should still prefer [`crate::extract_isolated`],
//! which also survives aborts, stack overflows and endless loops.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};

/// Text of each page, index 0 = page 1. Each page is normalised (see [`normalise_page`]):
/// paragraphs are separated by a single `'\n'`, all other whitespace is a single space; and
/// repaired (ligatures, running headers and footers, split words, citation markers, spaces
/// before punctuation: see the `repair` module).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub pages: Vec<String>,
}

/// Why a PDF gave no text. The messages are shown to teachers as they are.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExtractError {
    #[error("This file is not a PDF.")]
    NotPdf,
    #[error("The PDF is password-protected; upload an unprotected copy.")]
    Encrypted,
    #[error("The PDF contains no extractable text (is it a scan? run OCR first).")]
    NoText,
    #[error("The PDF is damaged or truncated: {0}")]
    Malformed(String),
    #[error("Reading the PDF took longer than {0} s and was stopped.")]
    Timeout(u64),
    #[error("The PDF reader failed on this file: {0}")]
    Crashed(String),
}

/// A page with fewer letters than this counts as empty (page numbers, a stray logo caption).
const MIN_LETTERS_PER_PAGE: usize = 20;

/// In-process extraction. Panics from the PDF library are caught and mapped to
/// [`ExtractError::Crashed`].
pub fn extract_pages(pdf: &[u8]) -> Result<Document, ExtractError> {
    if !looks_like_pdf(pdf) {
        return Err(ExtractError::NotPdf);
    }
    let raw = match catch_unwind(AssertUnwindSafe(|| read_pages(pdf))) {
        Ok(r) => r?,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unexpected internal error".to_owned());
            return Err(ExtractError::Crashed(msg));
        }
    };
    let pages = crate::repair::repair_document(&raw);
    let has_text = pages.iter().any(|p| p.chars().filter(|c| c.is_alphabetic()).count() >= MIN_LETTERS_PER_PAGE);
    if !has_text {
        return Err(ExtractError::NoText);
    }
    Ok(Document { pages })
}

/// [`extract_pages`] without the repair pass (only [`normalise_page`]): for measuring what the
/// repair changes (`make quality`). Not for building questions.
#[doc(hidden)]
pub fn extract_pages_unrepaired(pdf: &[u8]) -> Result<Document, ExtractError> {
    if !looks_like_pdf(pdf) {
        return Err(ExtractError::NotPdf);
    }
    let raw = catch_unwind(AssertUnwindSafe(|| read_pages(pdf))).map_err(|_| ExtractError::Crashed("panic".into()))??;
    Ok(Document { pages: raw.iter().map(|p| normalise_page(p)).collect() })
}

/// `%PDF-` within the first 1024 bytes (readers tolerate leading junk up to there).
fn looks_like_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
}

fn map_pdf_error(e: &pdf_extract::Error) -> ExtractError {
    match e {
        pdf_extract::Error::Decryption(_) => ExtractError::Encrypted,
        other => ExtractError::Malformed(other.to_string()),
    }
}

/// Raw (un-normalised) text per page.
fn read_pages(pdf: &[u8]) -> Result<Vec<String>, ExtractError> {
    let mut doc = pdf_extract::Document::load_mem(pdf).map_err(|e| map_pdf_error(&e))?;
    // An /Encrypt entry with an empty user password opens like any PDF in a viewer: do the same.
    if (doc.is_encrypted() || doc.trailer.get(b"Encrypt").is_ok()) && doc.decrypt("").is_err() {
        return Err(ExtractError::Encrypted);
    }
    let page_ids: Vec<(u32, pdf_extract::ObjectId)> = doc.get_pages().into_iter().collect();
    for &(_, id) in &page_ids {
        rewrite_quote_operators(&mut doc, id);
    }
    let page_numbers: Vec<u32> = page_ids.iter().map(|&(n, _)| n).collect();
    if page_numbers.is_empty() {
        return Err(ExtractError::Malformed("the document has no pages".into()));
    }
    let mut pages = Vec::with_capacity(page_numbers.len());
    let mut first_error = None;
    for n in page_numbers {
        let mut text = String::new();
        let result = {
            let mut out = pdf_extract::PlainTextOutput::new(&mut text);
            pdf_extract::output_doc_page(&doc, &mut out, n)
        };
        match result {
            Ok(()) => pages.push(text),
            Err(e) => {
                // One unreadable page should not cost the teacher the others.
                first_error.get_or_insert_with(|| e.to_string());
                pages.push(String::new());
            }
        }
    }
    if pages.iter().all(String::is_empty)
        && let Some(e) = first_error
    {
        return Err(ExtractError::Malformed(e));
    }
    Ok(pages)
}

/// pdf-extract 0.12 ignores the text operators `'` and `"` (next line, then show text), which
/// Ghostscript's pdfwrite uses for every line after the first: without this, only the first line
/// of each text block is read. Rewrites them into the equivalent `T*`/`Tw`/`Tc` + `Tj`.
/// A page whose content cannot be decoded is left alone (the reader reports on it later).
fn rewrite_quote_operators(doc: &mut pdf_extract::Document, page_id: pdf_extract::ObjectId) {
    use pdf_extract::content::{Content, Operation};
    let Ok(content) = doc.get_and_decode_page_content(page_id) else { return };
    if !content.operations.iter().any(|op| op.operator == "'" || op.operator == "\"") {
        return;
    }
    let mut operations = Vec::with_capacity(content.operations.len() + 16);
    for op in content.operations {
        match (op.operator.as_str(), op.operands.as_slice()) {
            ("'", [text]) => {
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", vec![text.clone()]));
            }
            ("\"", [aw, ac, text]) => {
                operations.push(Operation::new("Tw", vec![aw.clone()]));
                operations.push(Operation::new("Tc", vec![ac.clone()]));
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", vec![text.clone()]));
            }
            _ => operations.push(op),
        }
    }
    if let Ok(bytes) = (Content { operations }).encode() {
        let _ = doc.change_page_content(page_id, bytes);
    }
}

/// Normalises one page of extracted text:
/// * a word hyphenated across a line break is joined (`"gen-\nerator"` -> `"generator"`) when
///   both parts are lowercase letters;
/// * a blank line, or a short line without final punctuation (a heading), ends a paragraph;
///   paragraphs are joined with a single `'\n'`;
/// * every other run of whitespace becomes one space; lines are trimmed.
pub fn normalise_page(raw: &str) -> String {
    let lines: Vec<String> = raw.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            flush(&mut paragraphs, &mut current);
            continue;
        }
        if current.is_empty() {
            current.push_str(line);
        } else if let Some(stem) = hyphen_stem(&current, line) {
            current.truncate(stem);
            current.push_str(line);
        } else {
            current.push(' ');
            current.push_str(line);
        }
        let prev_ends_block = i == 0 || lines[i - 1].is_empty() || ends_sentence(&lines[i - 1]);
        let next = lines.get(i + 1).map(String::as_str).unwrap_or("");
        let next_starts_block = next.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
        if prev_ends_block && next_starts_block && is_heading_like(line) {
            flush(&mut paragraphs, &mut current);
        }
    }
    flush(&mut paragraphs, &mut current);
    paragraphs.join("\n")
}

fn flush(paragraphs: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        paragraphs.push(std::mem::take(current));
    }
}

/// If `current` ends in `<lowercase letter>-` and `next` starts with a lowercase letter, the
/// byte length of `current` without the hyphen.
fn hyphen_stem(current: &str, next: &str) -> Option<usize> {
    let stem = current.strip_suffix('-')?;
    let before = stem.chars().next_back()?;
    let after = next.chars().next()?;
    (before.is_lowercase() && before.is_alphabetic() && after.is_lowercase() && after.is_alphabetic()).then_some(stem.len())
}

fn ends_sentence(line: &str) -> bool {
    line.trim_end_matches(['"', '\'', ')', '”', '’']).ends_with(['.', '!', '?', ':'])
}

fn is_heading_like(line: &str) -> bool {
    !line.trim_end().ends_with(['.', '!', '?', ',', ';', ':', '-']) && line.split_whitespace().count() <= 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_line_breaks_join_only_between_lowercase_letters() {
        assert_eq!(normalise_page("the gen-\nerator runs"), "the generator runs");
        assert_eq!(normalise_page("the Anglo-\nSaxon period"), "the Anglo- Saxon period");
        assert_eq!(normalise_page("pages 10-\n12 of the book"), "pages 10- 12 of the book");
    }

    #[test]
    fn whitespace_collapses_and_blank_lines_and_headings_end_paragraphs() {
        let raw = "Early  machines\nPeople used\tthe abacus for\n  thousands of years.\n\n\nNext paragraph here.";
        assert_eq!(normalise_page(raw), "Early machines\nPeople used the abacus for thousands of years.\nNext paragraph here.");
    }

    #[test]
    fn not_a_pdf_is_detected_before_parsing() {
        assert_eq!(extract_pages(b"hello, this is plain text"), Err(ExtractError::NotPdf));
        assert_eq!(extract_pages(b""), Err(ExtractError::NotPdf));
    }
}
