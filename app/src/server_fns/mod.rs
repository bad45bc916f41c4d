//! Server functions the pages call. Each is a thin call into `exam_core::service::Platform`,
//! provided as context by the server.
//!
//! Teacher functions (which return answer keys) live under `/sfn/teacher/`, student functions
//! under `/sfn/student/`. The gateway refuses `/sfn/teacher/*` to anyone not signed in as a
//! teacher, and every teacher function checks the identity itself as well ([`owned`]), because
//! during SSR server functions are direct calls that no middleware sees.
//!
//! [`student`]: what a student's pages load (and the top bar's `whoami`); [`teacher`]: the rest.

mod student;
mod teacher;

pub use student::*;
pub use teacher::*;

use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn platform() -> Result<std::sync::Arc<exam_core::service::Platform>, ServerFnError> {
    use_context::<std::sync::Arc<exam_core::service::Platform>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no platform in context"))
}

#[cfg(feature = "ssr")]
fn exam_id(raw: &str) -> Result<exam_domain::ExamId, ServerFnError> {
    exam_domain::ExamId::parse(raw).map_err(|_| refuse(404, format!("exam {raw} not found")))
}

/// The caller, as the gateway's identity middleware resolved it (also during SSR, when a
/// server function is a direct call that no route guard sees).
#[cfg(feature = "ssr")]
fn identity() -> exam_domain::identity::Identity {
    use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<exam_domain::identity::Identity>().cloned())
        .unwrap_or_default()
}

/// An error answered with `status` (the HTTP API's codes: 401 not signed in, 404 not theirs).
#[cfg(feature = "ssr")]
fn refuse(status: u16, message: impl Into<String>) -> ServerFnError {
    if let (Some(res), Ok(code)) = (use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(status)) {
        res.set_status(code);
    }
    ServerFnError::new(message.into())
}

#[cfg(feature = "ssr")]
fn teacher() -> Result<exam_domain::identity::Teacher, ServerFnError> {
    identity().teacher().cloned().ok_or_else(|| refuse(401, "Sign in as a teacher to do this."))
}

/// The exam `raw`, if the signed-in teacher owns it or it was shared with them ("not found"
/// otherwise, as the HTTP API answers).
#[cfg(feature = "ssr")]
async fn owned(raw: &str) -> Result<exam_domain::ExamId, ServerFnError> {
    let teacher = teacher()?;
    let id = exam_id(raw)?;
    match platform()?.identity().access.check(&teacher.id, &id).await {
        Ok(()) => Ok(id),
        Err(exam_core::service::ServiceError::NotFound(m)) => Err(refuse(404, format!("{m} not found"))),
        Err(e) => Err(err(e)),
    }
}

/// A use-case's refusal as a server function error. "Not found" also sets the response's
/// status, so a page for an exam that does not exist (or is not the caller's) is a 404 page.
#[cfg(feature = "ssr")]
fn err(e: exam_core::service::ServiceError) -> ServerFnError {
    match e {
        exam_core::service::ServiceError::NotFound(_) => refuse(404, e.to_string()),
        exam_core::service::ServiceError::Forbidden(m) => refuse(403, m),
        other => ServerFnError::new(other.to_string()),
    }
}

/// Strips the `error running server function: ` style prefix for display.
pub fn message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}
