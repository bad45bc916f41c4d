//! Prints the repaired text of a PDF, page by page, as the generator sees it:
//! `cargo run -p exam-generator --example dump_text -- file.pdf`.

fn main() {
    let path = std::env::args().nth(1).expect("usage: dump_text FILE.pdf");
    let bytes = std::fs::read(&path).expect("read the PDF");
    let doc = exam_generator::extract_pages(&bytes).expect("extract");
    for (i, p) in doc.pages.iter().enumerate() {
        println!("=== page {}\n{p}", i + 1);
    }
}
