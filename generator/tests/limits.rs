//! Hostile PDFs cannot make the reader use unbounded memory, or give unbounded text: bombs are
//! refused unread, text is capped per page and per document, and the child process limits its
//! own memory (issue 10, item 3).

mod hostile;

use std::time::Duration;

use exam_generator::{ExtractCommand, ExtractError, MAX_DOCUMENT_TEXT_BYTES, MAX_PAGE_TEXT_BYTES, extract_isolated, extract_pages};

fn child() -> ExtractCommand {
    ExtractCommand { program: env!("CARGO_BIN_EXE_exam-extract").into(), args: vec![] }
}

fn too_large(r: Result<exam_generator::Document, ExtractError>, needle: &str) {
    match r {
        Err(e @ ExtractError::TooLarge(_)) => {
            let text = e.to_string();
            assert!(text.starts_with("The PDF is too large to read: "), "{text}");
            assert!(text.contains(needle), "{text}");
        }
        other => panic!("expected TooLarge containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn a_flate_bomb_is_refused_unread() {
    let pdf = hostile::text_bomb();
    assert!(pdf.len() < 1 << 20, "{} bytes", pdf.len());
    // In-process: it would take gigabytes if it were inflated and parsed.
    too_large(extract_pages(&pdf), "unpack to more than 4 MiB");
}

#[test]
fn an_lzw_bomb_is_refused_unread() {
    let zeros = vec![0u8; 64 << 20];
    let lzw = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8).encode(&zeros).unwrap();
    drop(zeros);
    assert!(lzw.len() < 1 << 20, "{} bytes", lzw.len());
    too_large(extract_pages(&hostile::pdf(&[lzw], Some("LZWDecode"))), "unpack to more than 4 MiB");
}

#[test]
fn a_bomb_page_costs_only_itself() {
    let good = hostile::deflate_repeated(hostile::TEXT_LINE, 4 << 10);
    let bomb = hostile::deflate_repeated(&[0], 64 << 20);
    let doc = extract_pages(&hostile::pdf(&[good, bomb], Some("FlateDecode"))).unwrap();
    assert!(doc.pages[0].contains("quick brown fox"));
    assert_eq!(doc.pages[1], "");
}

#[test]
fn text_is_capped_per_page_and_per_document() {
    // ~340 KiB of text on one page (600 KiB of operators).
    too_large(extract_pages(&hostile::pdf(&[hostile::text_page(600 << 10)], None)), "page 1 holds more than 256 KiB");
    // 20 pages of ~230 KiB each: every page is allowed, the document is not.
    let page = hostile::text_page((MAX_PAGE_TEXT_BYTES * 9 / 10) * 75 / 44);
    let pages = vec![page; MAX_DOCUMENT_TEXT_BYTES / MAX_PAGE_TEXT_BYTES + 4];
    too_large(extract_pages(&hostile::pdf(&pages, None)), "more than 4 MiB of text");
}

#[tokio::test]
async fn the_child_process_refuses_bombs_too() {
    too_large(extract_isolated(&child(), &hostile::zeros_bomb(), Duration::from_secs(60)).await, "unpack to more than");
}

/// A stream under the cap that still needs more memory than the child may use: the child's
/// own setrlimit stops it, and the parent says why.
#[tokio::test]
async fn the_child_process_cannot_use_more_memory_than_allowed() {
    let cmd = ExtractCommand::limited(env!("CARGO_BIN_EXE_exam-extract"), None, 48, Duration::from_secs(60));
    // 3.5 MiB of drawing operators: no text, ~150 MiB once parsed.
    let ops: Vec<u8> = b"100.5 200.25 m 300.125 400.5 l S\n".iter().copied().cycle().take(7 << 19).collect();
    let pdf = hostile::pdf(&[[hostile::TEXT_LINE.repeat(5), ops].concat()], None);
    too_large(extract_isolated(&cmd, &pdf, Duration::from_secs(60)).await, "of memory the PDF reader may use");
    // The same document with the default limit is read.
    let doc = extract_isolated(&child(), &pdf, Duration::from_secs(60)).await.unwrap();
    assert!(doc.pages[0].contains("quick brown fox"));
}

/// A child that writes more than any document's text is cut off and killed, not buffered.
#[tokio::test]
async fn the_childs_answer_is_read_with_a_cap() {
    let cmd = ExtractCommand { program: "yes".into(), args: vec![] };
    too_large(extract_isolated(&cmd, b"%PDF-1.4", Duration::from_secs(60)).await, "larger than the");
}
