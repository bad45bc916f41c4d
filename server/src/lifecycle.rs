//! The HTTP contract of an exam's data lifecycle (see `exam_core::lifecycle`): delete an exam,
//! erase a student's data, export an exam as an archive and import one.

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use bytes::Bytes;
use exam_core::lifecycle::{ARCHIVE_CONTENT_TYPE, Erasure};
use exam_domain::Student;
use serde::{Deserialize, Serialize};

use crate::api::parse_exam_id;
use crate::auth::{CurrentTeacher, OwnedExam};
use crate::error::AppError;
use crate::state::AppState;

/// Room for an archive's records on top of its document.
const RECORDS_ALLOWANCE: u64 = 16 * 1024 * 1024;

pub fn teacher_routes(max_upload: u64) -> Router<AppState> {
    let limit = max_upload.saturating_add(RECORDS_ALLOWANCE);
    Router::new()
        .route("/api/v1/exams/{id}", delete(delete_exam))
        .route("/api/v1/exams/{id}/students/{student}", delete(erase_student))
        .route("/api/v1/erasures", post(erase_everywhere))
        .route("/api/v1/exams/{id}/export.tar.gz", get(export))
        .route(
            "/api/v1/exams/import",
            post(import).layer(DefaultBodyLimit::max(usize::try_from(limit.saturating_add(256 * 1024)).unwrap_or(usize::MAX))),
        )
}

/// `DELETE /api/v1/exams/{id}`: only the teacher who created it; `204`, also when repeated.
/// Not [`OwnedExam`]: a repeated request finds the access record already gone.
async fn delete_exam(State(s): State<AppState>, CurrentTeacher(t): CurrentTeacher, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    let id = parse_exam_id(&id)?;
    s.platform.lifecycle().delete_exam(&t.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn student(raw: &str) -> Result<Student, AppError> {
    Student::parse(raw).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "student", e.to_string()))
}

/// `DELETE /api/v1/exams/{id}/students/{student}` → what was erased.
async fn erase_student(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Erasure>, AppError> {
    Ok(Json(s.platform.lifecycle().erase_student(&exam.teacher.id, &exam.id, &student(&name)?).await?))
}

#[derive(Deserialize)]
struct EraseBody {
    student: String,
}

#[derive(Serialize)]
struct Erasures {
    student: String,
    exams: Vec<Erasure>,
}

/// `POST /api/v1/erasures` `{"student"}`: the student's data in every exam the caller created.
async fn erase_everywhere(
    State(s): State<AppState>,
    CurrentTeacher(t): CurrentTeacher,
    body: Result<Json<EraseBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Erasures>, AppError> {
    let Json(body) = body.map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))?;
    let who = student(&body.student)?;
    let exams = s.platform.lifecycle().erase_everywhere(&t.id, &who).await?;
    Ok(Json(Erasures { student: who.as_str().to_owned(), exams }))
}

/// `GET /api/v1/exams/{id}/export.tar.gz`: the exam as one archive.
async fn export(State(s): State<AppState>, exam: OwnedExam) -> Result<Response, AppError> {
    let archive = s.platform.lifecycle().export(&exam.id).await?;
    let mut r = (StatusCode::OK, archive.bytes).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ARCHIVE_CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", archive.file_name)) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Serialize)]
struct Imported {
    id: exam_domain::ExamId,
    title: String,
    status: exam_domain::ExamStatus,
}

/// `POST /api/v1/exams/import`, multipart `file` (an archive from `export.tar.gz`) → `201`. A
/// browser's form post lands on the new exam's page, or back on the dashboard with the reason.
async fn import(
    State(s): State<AppState>,
    CurrentTeacher(t): CurrentTeacher,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("text/html"));
    let result = read_archive(&s, multipart).await;
    let imported = match result {
        Ok(bytes) => s.platform.lifecycle().import(&t.id, bytes).await.map_err(AppError::from),
        Err(e) => Err(e),
    };
    match imported {
        Ok(e) if wants_html => Ok(Redirect::to(&format!("/teacher/exams/{}", e.id)).into_response()),
        Ok(e) => Ok((StatusCode::CREATED, Json(Imported { id: e.id, title: e.title, status: e.status })).into_response()),
        Err(e) if wants_html => {
            let why = percent_encoding::utf8_percent_encode(&e.message, percent_encoding::NON_ALPHANUMERIC);
            Ok(Redirect::to(&format!("/teacher?import_error={why}")).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn read_archive(s: &AppState, multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>) -> Result<Bytes, AppError> {
    let max = s.settings.max_upload_bytes.saturating_add(RECORDS_ALLOWANCE);
    let too_large = || {
        AppError::field(StatusCode::PAYLOAD_TOO_LARGE, "file", format!("The archive is larger than the {} MiB limit.", max / (1024 * 1024)))
    };
    let mut multipart = multipart.map_err(crate::api::not_multipart)?;
    let malformed = |e| crate::api::upload_error(e, too_large);
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > max {
                return Err(too_large());
            }
        }
        if bytes.is_empty() {
            return Err(AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "file", "The file is empty."));
        }
        return Ok(Bytes::from(bytes));
    }
    Err(AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "file", "Choose an exam archive (.tar.gz) to import."))
}
