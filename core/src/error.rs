//! What a use-case can answer instead of a result, in words a user can act on. The HTTP layer
//! maps kinds to status codes.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The request conflicts with the exam's state (stale revision, closed window, attempts
    /// used up, time up); retrying the same request will not help.
    #[error("{0}")]
    Conflict(String),
    /// The caller is known but may not do this (a student on a teacher route, a used-up link).
    #[error("{0}")]
    Forbidden(String),
    /// A dependency is down; nothing was lost, the user may retry.
    #[error("{0}")]
    Unavailable(String),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), message: message.into() }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "object store failure");
        ServiceError::Unavailable("The document store is not reachable right now. Nothing was lost; please try again in a moment.".into())
    }
}

impl From<exam_domain::sitting::FieldError> for ServiceError {
    fn from(e: exam_domain::sitting::FieldError) -> Self {
        ServiceError::Invalid { field: e.field, message: e.message }
    }
}
