//! Extraction from real PDFs (made by enscript/ps2pdf/gs, see fixtures/make-fixtures.sh):
//! text per page, checked against pdftotext, and every failure a teacher can meet.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{fixture, lecture};
use exam_generator::{Document, ExtractCommand, ExtractError, extract_isolated, extract_pages};

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

#[test]
fn lecture_has_its_pages_and_matches_pdftotext() {
    let doc = lecture();
    assert_eq!(doc.pages.len(), 3);
    assert!(doc.pages[0].starts_with("A Short History of Computing"));
    assert!(doc.pages[2].contains("Tim Berners-Lee proposed the World Wide Web in 1989 while working at CERN near Geneva."));
    let ours: HashSet<String> = doc.pages.iter().flat_map(|p| words(p)).collect();
    let oracle = String::from_utf8(fixture("lecture.pdftotext.txt")).unwrap();
    let theirs = words(&oracle);
    assert!(theirs.len() > 1000, "oracle has {} words", theirs.len());
    let found = theirs.iter().filter(|w| ours.contains(*w)).count();
    assert!(found * 100 >= theirs.len() * 98, "only {found} of {} pdftotext words extracted", theirs.len());
}

#[test]
fn extracted_text_is_normalised() {
    for page in lecture().pages {
        assert!(!page.contains("  "), "double space");
        assert!(!page.contains('\t') && !page.contains('\r') && !page.contains("\n\n"));
        assert_eq!(page, page.trim());
    }
}

#[test]
fn a_text_file_is_not_a_pdf() {
    assert_eq!(extract_pages(&fixture("lecture.txt")), Err(ExtractError::NotPdf));
    assert_eq!(ExtractError::NotPdf.to_string(), "This file is not a PDF.");
}

#[test]
fn a_password_protected_pdf_is_reported_as_such() {
    let err = extract_pages(&fixture("encrypted.pdf")).unwrap_err();
    assert_eq!(err, ExtractError::Encrypted);
    assert!(err.to_string().contains("password-protected"));
}

#[test]
fn a_pdf_with_only_shapes_has_no_text() {
    let err = extract_pages(&fixture("image-only.pdf")).unwrap_err();
    assert_eq!(err, ExtractError::NoText);
    assert!(err.to_string().contains("OCR"));
}

#[test]
fn a_truncated_pdf_is_malformed() {
    let pdf = fixture("lecture.pdf");
    match extract_pages(&pdf[..pdf.len() / 2]) {
        Err(ExtractError::Malformed(detail)) => assert!(!detail.is_empty()),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn random_bytes_after_a_pdf_header_are_malformed() {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    let mut x: u32 = 12345;
    bytes.extend((0..4000).map(|_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (x >> 16) as u8
    }));
    let err = extract_pages(&bytes).unwrap_err();
    assert!(matches!(err, ExtractError::Malformed(_)), "{err:?}");
    assert!(err.to_string().starts_with("The PDF is damaged or truncated: "));
}

fn child() -> ExtractCommand {
    ExtractCommand { program: env!("CARGO_BIN_EXE_exam-extract").into(), args: vec![] }
}

#[tokio::test]
async fn isolated_extraction_gives_the_same_document() {
    let pdf = fixture("lecture.pdf");
    let isolated = extract_isolated(&child(), &pdf, Duration::from_secs(60)).await.unwrap();
    assert_eq!(isolated, extract_pages(&pdf).unwrap());
}

#[tokio::test]
async fn isolated_extraction_passes_errors_through() {
    let r = extract_isolated(&child(), &fixture("encrypted.pdf"), Duration::from_secs(60)).await;
    assert_eq!(r, Err(ExtractError::Encrypted));
    let r = extract_isolated(&child(), b"just text", Duration::from_secs(60)).await;
    assert_eq!(r, Err(ExtractError::NotPdf));
}

#[tokio::test]
async fn a_reader_that_hangs_is_stopped() {
    let cmd = ExtractCommand { program: "sleep".into(), args: vec!["30".into()] };
    let err = extract_isolated(&cmd, &fixture("lecture.pdf"), Duration::from_millis(200)).await.unwrap_err();
    assert_eq!(err, ExtractError::Timeout(1));
    assert!(err.to_string().contains("took longer than"));
}

#[tokio::test]
async fn a_reader_that_fails_is_reported_as_crashed() {
    let cmd = ExtractCommand { program: "false".into(), args: vec![] };
    let err = extract_isolated(&cmd, &fixture("lecture.pdf"), Duration::from_secs(30)).await.unwrap_err();
    assert!(matches!(&err, ExtractError::Crashed(d) if d.contains("status 1")), "{err:?}");
    // The last line of stderr is the detail.
    let cmd = ExtractCommand {
        program: "sh".into(),
        args: vec!["-c".into(), "echo first >&2; echo 'thread panicked: boom' >&2; exit 101".into()],
    };
    let err = extract_isolated(&cmd, b"%PDF-1.4", Duration::from_secs(30)).await.unwrap_err();
    assert_eq!(err, ExtractError::Crashed("thread panicked: boom".into()));
    // A program that is not there.
    let cmd = ExtractCommand { program: "/nonexistent/exam-extract".into(), args: vec![] };
    assert!(matches!(extract_isolated(&cmd, b"%PDF-1.4", Duration::from_secs(30)).await, Err(ExtractError::Crashed(_))));
}

#[tokio::test]
async fn a_reader_that_answers_garbage_is_reported_as_crashed() {
    let cmd = ExtractCommand { program: "echo".into(), args: vec!["not json".into()] };
    let err = extract_isolated(&cmd, b"%PDF-1.4", Duration::from_secs(30)).await.unwrap_err();
    assert!(matches!(err, ExtractError::Crashed(_)), "{err:?}");
}

#[test]
fn errors_round_trip_through_json() {
    let r: Result<Document, ExtractError> = Err(ExtractError::Malformed("xref missing".into()));
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<Result<Document, ExtractError>>(&json).unwrap(), r);
}
