//! Hostile PDFs, written by code (no big binaries in the repository): decompression bombs and
//! documents with far more text than a lecture. Also used by `server/tests/it/bad_input.rs`.

#![allow(dead_code)]

use std::io::Write;

/// One text line as content-stream operators (75 bytes, 44 of them text).
pub const TEXT_LINE: &[u8] = b"BT /F1 12 Tf 72 720 Td (The quick brown fox jumps over the lazy dog.) Tj ET\n";

/// A PDF whose pages have these content streams, already encoded; `filter` names their
/// `/Filter` (`None`: stored plain).
pub fn pdf(contents: &[Vec<u8>], filter: Option<&str>) -> Vec<u8> {
    let n = contents.len();
    // Objects: 1 catalog, 2 pages, 3 font, then per page: page, content.
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    for (i, content) in contents.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        let filter = filter.map(|f| format!(" /Filter /{f}")).unwrap_or_default();
        let mut stream = format!("<< /Length {}{filter} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    out
}

/// `unit` repeated until `total` bytes, Flate-compressed as it is written (never all in memory).
pub fn deflate_repeated(unit: &[u8], total: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk: Vec<u8> = unit.iter().copied().cycle().take((1 << 20) / unit.len() * unit.len()).collect();
    let mut written = 0;
    while written < total {
        let n = chunk.len().min(total - written);
        z.write_all(&chunk[..n]).unwrap();
        written += n;
    }
    z.finish().unwrap()
}

/// The bomb: a ~0.44 MiB PDF whose one content stream inflates to 128 MiB of text
/// operators.
pub fn text_bomb() -> Vec<u8> {
    pdf(&[deflate_repeated(TEXT_LINE, 128 << 20)], Some("FlateDecode"))
}

/// The other bomb: a ~1 MiB PDF whose content stream is 1 GiB of zeros.
pub fn zeros_bomb() -> Vec<u8> {
    pdf(&[deflate_repeated(&[0], 1 << 30)], Some("FlateDecode"))
}

/// One page of `bytes` of plain (unfiltered) text operators.
pub fn text_page(bytes: usize) -> Vec<u8> {
    TEXT_LINE.iter().copied().cycle().take(bytes / TEXT_LINE.len() * TEXT_LINE.len()).collect()
}
