//! Server-function argument errors are the client's: `server_fn` answers every error with
//! `500` and its `serverfnerror` header; arguments that are missing or cannot be decoded
//! (`Args|…`, `MissingArg|…`, `Deserialization|…` in its error encoding) become `400`.

use axum::body::Body;
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;

/// Error bodies are one short line; a longer one is passed on as it is.
const MAX_ERROR_BODY: usize = 64 << 10;

/// The response middleware (`axum::middleware::map_response`).
pub async fn client_errors_are_4xx(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(HeaderName::from_static(leptos::server_fn::error::SERVER_FN_ERROR_HEADER))
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::from("server function error"));
    };
    if [b"Args|".as_slice(), b"MissingArg|", b"Deserialization|"].iter().any(|p| bytes.starts_with(p)) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
