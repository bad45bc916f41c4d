//! One error type for handlers: maps service errors to status codes and a JSON body
//! `{"error": "...", "field": "..."}` that never carries internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use exam_core::service::ServiceError;
use serde::Serialize;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
    /// Seconds for a `Retry-After` header (rate limits).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError { status, message: message.into(), field: None, retry_after: None }
    }
    pub fn field(status: StatusCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError { status, message: message.into(), field: Some(field.into()), retry_after: None }
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(_) => AppError::new(StatusCode::NOT_FOUND, e.to_string()),
            ServiceError::Invalid { field, message } => {
                let message = format!("{field}: {message}");
                AppError::field(StatusCode::UNPROCESSABLE_ENTITY, field, message)
            }
            ServiceError::Conflict(m) => AppError::new(StatusCode::CONFLICT, m),
            ServiceError::Unavailable(m) => AppError::new(StatusCode::SERVICE_UNAVAILABLE, m),
            ServiceError::Forbidden(m) => AppError::new(StatusCode::FORBIDDEN, m),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), error = %self.message, "request failed");
        }
        let mut r = (self.status, Json(Body { error: &self.message, field: self.field.as_deref() })).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        r
    }
}
