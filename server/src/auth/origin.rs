//! Cross-site request refusal and the security headers.
//!
//! The model is Go 1.25's `CrossOriginProtection`: a state-changing request (any method but
//! GET, HEAD, OPTIONS) and every WebSocket upgrade is refused with 403 when the browser says it
//! is cross-site (`Sec-Fetch-Site` other than `same-origin` or `none`) or, from browsers that
//! do not send that header, when its `Origin` is not ours. Requests with neither header do not
//! come from a browser (scripts, curl) and pass; they authenticate with a bearer token.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// Whether a request with these headers came from another site.
pub fn cross_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    let origin = origin.to_ascii_lowercase();
    match public_origin {
        Some(public) => origin != public,
        // No public URL configured: the origin's host must be the host the request was sent to.
        None => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
            let origin_host = origin.split_once("://").map(|(_, h)| h.to_owned());
            host.is_none() || origin_host != host
        }
    }
}

pub async fn refuse_cross_site(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let upgrade = req.headers().contains_key(header::UPGRADE);
    if (changes_state || upgrade) && cross_site(req.headers(), s.settings.auth.public_origin().as_deref()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
        return AppError::new(StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(req).await
}

/// `X-Content-Type-Options`, `Referrer-Policy`, HSTS over https, and on everything but the
/// site's scripts, stylesheets and WebAssembly, `X-Frame-Options` and a
/// Content-Security-Policy for responses that have none yet (pages set theirs, with the
/// hydration script's nonce, while rendering: see [`page_policy`]).
pub async fn security_headers(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if s.settings.auth.https() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    // Both govern documents (and workers, which these scripts are not); with `nosniff` a
    // script, stylesheet or WebAssembly module is never rendered as one. Left off the three
    // assets of a first load: 150 B of headers each.
    if !is_subresource(h) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
                ),
            );
        }
    }
    res
}

/// Whether a response is a script, a stylesheet or WebAssembly (by its `Content-Type`).
fn is_subresource(h: &HeaderMap) -> bool {
    let kind = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let kind = kind.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    matches!(kind.as_str(), "text/javascript" | "application/javascript" | "text/css" | "application/wasm")
}

/// The policy of a rendered page: scripts only from us or carrying this response's nonce
/// (Leptos puts it on the hydration and resource scripts), WebAssembly allowed to compile.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn browsers_from_other_sites_are_refused_and_scripts_pass() {
        assert!(!cross_site(&headers(&[]), None), "no browser headers: a script");
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")]), None));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "none")]), None), "typed into the address bar");
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")]), None));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")]), None), "a sibling subdomain is another site");
        let ours = Some("https://exams.school.example");
        assert!(!cross_site(&headers(&[("origin", "https://exams.school.example")]), ours));
        assert!(cross_site(&headers(&[("origin", "https://evil.example")]), ours));
        assert!(cross_site(&headers(&[("origin", "http://exams.school.example")]), ours), "scheme matters");
        assert!(!cross_site(&headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]), None));
        assert!(cross_site(&headers(&[("origin", "http://evil.example"), ("host", "127.0.0.1:3000")]), None));
        assert!(cross_site(&headers(&[("origin", "null"), ("host", "127.0.0.1:3000")]), None));
    }

    #[test]
    fn only_scripts_styles_and_webassembly_go_without_the_document_headers() {
        for kind in ["text/javascript", "application/javascript; charset=utf-8", "text/css", "application/wasm"] {
            assert!(is_subresource(&headers(&[("content-type", kind)])), "{kind}");
        }
        for kind in ["text/html; charset=utf-8", "image/svg+xml", "application/json", "text/plain", "application/pdf"] {
            assert!(!is_subresource(&headers(&[("content-type", kind)])), "{kind}");
        }
        assert!(!is_subresource(&headers(&[])), "no type: a document, as far as we know");
    }
}
