//! Static assets and response compression: what makes a student's first load small.
//!
//! * `/pkg` (the site build's JS, WASM and CSS): `scripts/build-site.sh` names each by its
//!   content (`exam.<16 hex digits of its SHA-256>.wasm`, listed in `<site root>/hash.txt`,
//!   which Leptos' `HydrationScripts` and `HashedStylesheet` read) and writes a brotli (`.br`)
//!   and a gzip (`.gz`) copy beside it with `server precompress` ([`precompress`]). The copy the
//!   request's `Accept-Encoding` prefers is sent as it is, `Vary: Accept-Encoding`. Names with
//!   a hash are `Cache-Control: public, max-age=31536000, immutable`; anything else under
//!   `/pkg` is `no-cache`.
//! * Pages (`text/html`) are `Cache-Control: no-cache`: each carries a fresh CSP nonce and the
//!   asset names of the build that rendered it.
//! * Everything else that is worth it (pages, server functions' and the API's JSON, CSV, SVG)
//!   is compressed on the fly (brotli quality 5, else gzip), never a WebSocket upgrade, a body
//!   that already has a `Content-Encoding`, a range, or media that does not shrink (images,
//!   WebAssembly, which is served pre-compressed).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;

/// Hex digits of the content hash in an asset's name (`exam.<hash>.wasm`).
pub const HASH_LEN: usize = 16;

/// The file `build-site.sh` writes into the site root: `js: <hash>`, `wasm: <hash>`,
/// `css: <hash>`, one a line (cargo-leptos' format).
pub const HASH_FILE: &str = "hash.txt";

/// `Cache-Control` of an asset whose name carries its hash: the name changes with the content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Leptos' `hash_files` and `hash_file` for a site: on when the build wrote the hash file.
/// Leptos reads the file relative to the server binary, so the path is made absolute here.
pub fn hashing(site_root: &Path) -> Option<PathBuf> {
    let file = std::path::absolute(site_root.join(HASH_FILE)).ok()?;
    file.is_file().then_some(file)
}

/// The full stylesheet's address, for pages the server writes without Leptos (the sign-in
/// provider's refusals): `/pkg/exam.<hash>.css` as `HashedStylesheet` names it, or
/// `/pkg/exam.css` on a site built without hashes.
pub fn stylesheet_href(options: &leptos::config::LeptosOptions) -> String {
    let hash = options
        .hash_files
        .then(|| std::fs::read_to_string(options.hash_file.as_ref()).ok())
        .flatten()
        .and_then(|lines| lines.lines().find_map(|l| l.trim().strip_prefix("css:").map(|h| h.trim().to_owned())));
    match hash {
        Some(hash) => format!("/{}/{}.{hash}.css", options.site_pkg_dir, options.output_name),
        None => format!("/{}/{}.css", options.site_pkg_dir, options.output_name),
    }
}

/// `/pkg`, served from `<site root>/pkg` with its pre-compressed copies.
pub fn pkg_routes<S: Clone + Send + Sync + 'static>(site_root: &Path) -> Router<S> {
    let files = ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip();
    Router::new().nest_service("/pkg", tower::ServiceBuilder::new().layer(axum::middleware::from_fn(pkg_headers)).service(files))
}

/// Whether a file name carries a content hash: a dot-separated part of [`HASH_LEN`] lowercase
/// hex digits (`exam.0123456789abcdef.wasm`).
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.split('.');
    parts.next();
    parts.any(|part| part.len() == HASH_LEN && part.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

async fn pkg_headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    let ok = matches!(res.status(), StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED);
    let h = res.headers_mut();
    // Which copy was sent depends on Accept-Encoding: caches must keep them apart.
    h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if ok {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(if hashed { IMMUTABLE } else { "no-cache" }));
    }
    if ok && hashed {
        // Never revalidated (the name changes with the content), never fetched by range.
        h.remove(header::LAST_MODIFIED);
        h.remove(header::ACCEPT_RANGES);
    }
    res
}

/// Pages are revalidated on every visit (`no-cache`) unless the handler said otherwise.
pub async fn page_caching(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let html = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if html && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    res
}

/// On-the-fly compression of dynamic responses (see the module documentation).
pub fn compression() -> CompressionLayer<impl Predicate> {
    let not_an_upgrade = |status: StatusCode, _: Version, _: &HeaderMap, _: &Extensions| status != StatusCode::SWITCHING_PROTOCOLS;
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        // Brotli 5 (gzip 5): the student's exam page (23 KB) in 0.47 ms instead of quality 4's
        // (tower-http's default) 0.40 ms, 6 % smaller (2,829 B instead of 3,004 B); quality 7
        // and up cost more without shrinking it further until 11 (12 ms).
        .quality(CompressionLevel::Precise(5))
        .compress_when(DefaultPredicate::new().and(NotForContentType::const_new("application/wasm")).and(not_an_upgrade))
}

/// Files `precompress` writes copies of (the rest, images and fonts, do not shrink).
const COMPRESSIBLE: &[&str] = &["js", "mjs", "wasm", "css", "html", "svg", "json", "txt", "map"];

/// How hard [`precompress`] works: `Best` for release builds (brotli 11, gzip 9), `Fast` for
/// debug builds, whose WebAssembly is tens of MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Best,
    Fast,
}

/// Writes `<file>.br` and `<file>.gz` beside every compressible file under `dir` (recursively),
/// each only when it is smaller than the file; stale copies are removed. Returns
/// `(files, bytes, brotli bytes)`.
pub fn precompress(dir: &Path, effort: Effort) -> io::Result<(usize, u64, u64)> {
    let mut totals = (0, 0, 0);
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            let (f, b, br) = precompress(&path, effort)?;
            totals = (totals.0 + f, totals.1 + b, totals.2 + br);
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if !COMPRESSIBLE.contains(&ext) {
            continue;
        }
        let mut data = Vec::new();
        std::fs::File::open(&path)?.read_to_end(&mut data)?;
        let br = brotli_bytes(&data, effort)?;
        let gz = gzip_bytes(&data, effort)?;
        totals.0 += 1;
        totals.1 += data.len() as u64;
        totals.2 += br.len().min(data.len()) as u64;
        for (suffix, copy) in [("br", br), ("gz", gz)] {
            let mut name = path.clone().into_os_string();
            name.push(".");
            name.push(suffix);
            let target = PathBuf::from(name);
            if copy.len() < data.len() {
                std::fs::write(&target, copy)?;
            } else if target.exists() {
                std::fs::remove_file(&target)?;
            }
        }
    }
    Ok(totals)
}

fn brotli_bytes(data: &[u8], effort: Effort) -> io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: if effort == Effort::Best { 11 } else { 5 },
        lgwin: 24,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 3);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
    Ok(out)
}

fn gzip_bytes(data: &[u8], effort: Effort) -> io::Result<Vec<u8>> {
    let level = if effort == Effort::Best { flate2::Compression::best() } else { flate2::Compression::fast() };
    let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), level);
    gz.write_all(data)?;
    gz.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_written_without_leptos_link_the_hashed_stylesheet() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let hash_file = dir.path().join(HASH_FILE);
        std::fs::write(&hash_file, "js: 0123456789abcdef\nwasm: 1123456789abcdef\ncss: 2123456789abcdef\n")?;
        let hashed = leptos::config::LeptosOptions::builder()
            .output_name("exam")
            .hash_files(true)
            .hash_file(hash_file.to_string_lossy().into_owned().into())
            .site_pkg_dir("pkg")
            .build();
        assert_eq!(stylesheet_href(&hashed), "/pkg/exam.2123456789abcdef.css");
        let plain = leptos::config::LeptosOptions::builder().output_name("exam").site_pkg_dir("pkg").build();
        assert_eq!(stylesheet_href(&plain), "/pkg/exam.css");
        Ok(())
    }

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        assert!(is_hashed("/exam.0123456789abcdef.wasm"));
        assert!(is_hashed("/exam.0123456789abcdef.js"));
        assert!(!is_hashed("/exam.wasm"));
        assert!(!is_hashed("/exam.0123456789ABCDEF.css"));
        assert!(!is_hashed("/exam.0123456789abcde.css"));
        assert!(!is_hashed("/0123456789abcdef.css/x.js"));
        // The name itself is never the hash's place (`<hash>.js` is some other file).
        assert!(!is_hashed("/0123456789abcdef.js"));
    }

    #[test]
    fn copies_are_written_beside_compressible_files_and_decode_to_them() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let text = "body { color: black; }\n".repeat(200);
        std::fs::write(dir.path().join("a.css"), &text)?;
        std::fs::write(dir.path().join("tiny.js"), "1")?;
        std::fs::write(dir.path().join("b.png"), [0u8; 64])?;
        std::fs::write(dir.path().join("tiny.js.br"), "stale")?;
        let (files, _, br) = precompress(dir.path(), Effort::Fast)?;
        assert_eq!(files, 2);
        assert!(br < text.len() as u64);
        let mut back = String::new();
        brotli::Decompressor::new(std::fs::File::open(dir.path().join("a.css.br"))?, 4096).read_to_string(&mut back)?;
        assert_eq!(back, text);
        let mut back = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(dir.path().join("a.css.gz"))?).read_to_string(&mut back)?;
        assert_eq!(back, text);
        // A copy no smaller than the file is not kept (and a stale one is removed); no copies of PNGs.
        assert!(!dir.path().join("tiny.js.br").exists());
        assert!(!dir.path().join("b.png.br").exists());
        Ok(())
    }
}
