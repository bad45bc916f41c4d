//! Server functions the pages call. Each is a thin call into `exam_core::service::Platform`,
//! provided as context by the server.
//!
//! Teacher functions (which return answer keys) live under `/sfn/teacher/`, student functions
//! under `/sfn/student/`: an authentication layer protects `/sfn/teacher/*` together with the
//! teacher routes of the HTTP API.

use exam_domain::{ExamPaper, ExamSummary, SubmissionRecord, TeacherExam};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn platform() -> Result<std::sync::Arc<exam_core::service::Platform>, ServerFnError> {
    use_context::<std::sync::Arc<exam_core::service::Platform>>()
        .ok_or_else(|| ServerFnError::new("server misconfigured: no platform in context"))
}

#[cfg(feature = "ssr")]
fn exam_id(raw: &str) -> Result<exam_domain::ExamId, ServerFnError> {
    exam_domain::ExamId::parse(raw).map_err(|_| ServerFnError::new(format!("exam {raw} not found")))
}

#[cfg(feature = "ssr")]
fn err(e: exam_core::service::ServiceError) -> ServerFnError {
    ServerFnError::new(e.to_string())
}

#[server(prefix = "/sfn/teacher")]
pub async fn list_exams() -> Result<Vec<ExamSummary>, ServerFnError> {
    Ok(platform()?.exams())
}

#[server(prefix = "/sfn/student")]
pub async fn published_exams() -> Result<Vec<ExamSummary>, ServerFnError> {
    Ok(platform()?.published())
}

#[server(prefix = "/sfn/teacher")]
pub async fn load_teacher_exam(id: String) -> Result<TeacherExam, ServerFnError> {
    platform()?.teacher_exam(&exam_id(&id)?).await.map_err(err)
}

#[server(prefix = "/sfn/teacher")]
pub async fn publish_exam(id: String) -> Result<ExamSummary, ServerFnError> {
    platform()?.publish(&exam_id(&id)?).await.map_err(err)
}

#[server(prefix = "/sfn/student")]
pub async fn load_exam_paper(id: String) -> Result<ExamPaper, ServerFnError> {
    platform()?.paper(&exam_id(&id)?).await.map_err(err)
}

#[server(prefix = "/sfn/teacher")]
pub async fn load_submissions(id: String) -> Result<(ExamSummary, Vec<SubmissionRecord>), ServerFnError> {
    let p = platform()?;
    let id = exam_id(&id)?;
    let exam = p.exam(&id).map_err(err)?;
    Ok((exam, p.submissions(&id).await.map_err(err)?))
}

/// Largest accepted upload in bytes.
#[server(prefix = "/sfn/teacher")]
pub async fn upload_limit() -> Result<u64, ServerFnError> {
    use_context::<UploadLimitContext>().map(|l| l.0).ok_or_else(|| ServerFnError::new("no upload limit in context"))
}

/// Provided by the server: the upload size limit in bytes.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimitContext(pub u64);

/// Strips the `error running server function: ` style prefix for display.
pub fn message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}
