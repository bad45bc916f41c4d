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
    /// A decompression bomb, far more text than a lecture holds, or more memory than the
    /// reader may use.
    #[error("The PDF is too large to read: {0}")]
    TooLarge(String),
}

/// The most one stream of the PDF (a page's content, a form, a font) may decode to. Streams
/// that decode to more are emptied before the reader sees them, unread (a decompression bomb
/// inflates ~1000:1, and the reader's parsed operators take another 15–40× the decoded bytes).
pub const MAX_STREAM_BYTES: usize = 4 << 20;
/// The most text one page may give (a dense printed page is ~5 KB).
pub const MAX_PAGE_TEXT_BYTES: usize = 256 << 10;
/// The most text one document may give (a 500-page textbook is ~1.5 MB).
pub const MAX_DOCUMENT_TEXT_BYTES: usize = 4 << 20;

/// A page with fewer letters than this counts as empty (page numbers, a stray logo caption).
const MIN_LETTERS_PER_PAGE: usize = 20;

/// In-process extraction. Panics from the PDF library are caught and mapped to
/// [`ExtractError::Crashed`].
pub fn extract_pages(pdf: &[u8]) -> Result<Document, ExtractError> {
    if !looks_like_pdf(pdf) {
        return Err(ExtractError::NotPdf);
    }
    let (raw, emptied) = match catch_unwind(AssertUnwindSafe(|| read_pages(pdf))) {
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
        return Err(if emptied > 0 { too_large_streams(emptied) } else { ExtractError::NoText });
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
    let (raw, _) = catch_unwind(AssertUnwindSafe(|| read_pages(pdf))).map_err(|_| ExtractError::Crashed("panic".into()))??;
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

fn too_large_streams(emptied: usize) -> ExtractError {
    ExtractError::TooLarge(format!(
        "{emptied} part(s) of it unpack to more than {} MiB each, far more than a lecture's text, and were not read",
        MAX_STREAM_BYTES >> 20
    ))
}

/// Raw (un-normalised) text per page, and how many streams were emptied for decoding to more
/// than [`MAX_STREAM_BYTES`].
fn read_pages(pdf: &[u8]) -> Result<(Vec<String>, usize), ExtractError> {
    let mut doc = pdf_extract::Document::load_mem(pdf).map_err(|e| map_pdf_error(&e))?;
    // An /Encrypt entry with an empty user password opens like any PDF in a viewer: do the same.
    if (doc.is_encrypted() || doc.trailer.get(b"Encrypt").is_ok()) && doc.decrypt("").is_err() {
        return Err(ExtractError::Encrypted);
    }
    let emptied = empty_oversized_streams(&mut doc, MAX_STREAM_BYTES);
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
    let mut total = 0;
    for n in page_numbers {
        let left = MAX_DOCUMENT_TEXT_BYTES.saturating_sub(total);
        let mut text = CappedText { text: String::new(), cap: MAX_PAGE_TEXT_BYTES.min(left), exceeded: false };
        let result = {
            let mut out = pdf_extract::PlainTextOutput::new(&mut text);
            pdf_extract::output_doc_page(&doc, &mut out, n)
        };
        if text.exceeded {
            return Err(ExtractError::TooLarge(if left <= MAX_PAGE_TEXT_BYTES {
                format!("it holds more than {} MiB of text, more than a lecture", MAX_DOCUMENT_TEXT_BYTES >> 20)
            } else {
                format!("page {n} holds more than {} KiB of text, more than a printed page", MAX_PAGE_TEXT_BYTES >> 10)
            }));
        }
        total += text.text.len();
        match result {
            Ok(()) => pages.push(text.text),
            Err(e) => {
                // One unreadable page should not cost the teacher the others.
                first_error.get_or_insert_with(|| e.to_string());
                pages.push(String::new());
            }
        }
    }
    if pages.iter().all(String::is_empty) {
        if emptied > 0 {
            return Err(too_large_streams(emptied));
        }
        if let Some(e) = first_error {
            return Err(ExtractError::Malformed(e));
        }
    }
    Ok((pages, emptied))
}

/// Page text that refuses to grow past `cap` bytes: the write fails (which stops the reader
/// on that page) and `exceeded` is set.
struct CappedText {
    text: String,
    cap: usize,
    exceeded: bool,
}

impl std::fmt::Write for CappedText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.text.len() + s.len() > self.cap {
            self.exceeded = true;
            return Err(std::fmt::Error);
        }
        self.text.push_str(s);
        Ok(())
    }
}

impl<'a> pdf_extract::ConvertToFmt for &'a mut CappedText {
    type Writer = &'a mut CappedText;
    fn convert(self) -> Self::Writer {
        self
    }
}

/// Empties every stream that decodes to more than `cap` bytes (measured with bounded decoders,
/// so a bomb is never inflated past `cap`); the count of emptied streams.
fn empty_oversized_streams(doc: &mut pdf_extract::Document, cap: usize) -> usize {
    let mut emptied = 0;
    for object in doc.objects.values_mut() {
        if let pdf_extract::Object::Stream(stream) = object
            && decoded_len_exceeds(stream, cap)
        {
            stream.set_plain_content(Vec::new());
            emptied += 1;
        }
    }
    emptied
}

/// Whether `stream` decodes to more than `cap` bytes. Decodes what lopdf decodes (Flate, LZW,
/// ASCII85, in filter order), each step stopping at `cap + 1` bytes. Predictors only shrink.
fn decoded_len_exceeds(stream: &pdf_extract::Stream, cap: usize) -> bool {
    use std::io::Read;
    if stream.content.len() > cap {
        return true;
    }
    let Ok(filters) = stream.filters() else { return false };
    let params = stream.dict.get(b"DecodeParms").and_then(pdf_extract::Object::as_dict).ok();
    let limit = cap as u64 + 1;
    let mut data: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(&stream.content);
    for filter in filters {
        let mut out = Vec::new();
        match filter {
            b"FlateDecode" => {
                // As lopdf: zlib, else raw deflate after the 2-byte header. Partial output counts.
                let _ = flate2::read::ZlibDecoder::new(&data[..]).take(limit).read_to_end(&mut out);
                if out.is_empty() && data.len() > 2 {
                    let _ = flate2::read::DeflateDecoder::new(&data[2..]).take(limit).read_to_end(&mut out);
                }
            }
            b"LZWDecode" => {
                let early_change = params
                    .and_then(|p| p.get(b"EarlyChange").ok())
                    .and_then(|p| pdf_extract::Object::as_i64(p).ok())
                    .is_none_or(|v| v != 0);
                out = lzw_bounded(&data, early_change, cap + 1);
            }
            // At most 4 bytes per input byte ("z"); the input is already bounded.
            b"ASCII85Decode" => {
                let mut dict = pdf_extract::Dictionary::new();
                dict.set("Filter", "ASCII85Decode");
                out = pdf_extract::Stream::new(dict, data.to_vec()).decompressed_content().unwrap_or_default();
            }
            // lopdf cannot decode it either: the reader will not read it.
            _ => return false,
        }
        if out.len() > cap {
            return true;
        }
        data = std::borrow::Cow::Owned(out);
    }
    false
}

/// LZW-decodes `input` as lopdf does, stopping once `limit` bytes are out.
fn lzw_bounded(input: &[u8], early_change: bool, limit: usize) -> Vec<u8> {
    use weezl::{BitOrder, LzwStatus, decode::Decoder};
    let mut decoder = if early_change { Decoder::with_tiff_size_switch(BitOrder::Msb, 8) } else { Decoder::new(BitOrder::Msb, 8) };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut input = input;
    while out.len() < limit {
        let r = decoder.decode_bytes(input, &mut buf);
        out.extend_from_slice(&buf[..r.consumed_out]);
        input = &input[r.consumed_in..];
        match r.status {
            Ok(LzwStatus::Ok) if r.consumed_in > 0 || r.consumed_out > 0 => {}
            _ => break,
        }
    }
    out
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
