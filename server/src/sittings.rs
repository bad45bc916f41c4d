//! The HTTP contract of exam sittings: settings, accommodations, the live sitting view and its
//! controls (extend, close, release), item statistics, and the student's own status.

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use exam_domain::records::OverridesRecord;
use exam_domain::sitting::{ExamSettings, StudentOverride};
use exam_domain::stats::ExamStatistics;
use exam_domain::{SittingView, Student, StudentStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::download;
use crate::auth::{ExamStudent, OwnedExam};
use crate::error::AppError;
use crate::state::AppState;

pub fn teacher_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exams/{id}/settings", get(get_settings).put(put_settings))
        .route("/api/v1/exams/{id}/overrides", get(get_overrides))
        .route("/api/v1/exams/{id}/overrides/{student}", put(put_override).delete(delete_override))
        .route("/api/v1/exams/{id}/sitting", get(sitting))
        .route("/api/v1/exams/{id}/attempts/{student}/extend", post(extend))
        .route("/api/v1/exams/{id}/close", post(close))
        .route("/api/v1/exams/{id}/release", post(release))
        .route("/api/v1/exams/{id}/statistics", get(statistics))
        .route("/api/v1/exams/{id}/statistics.csv", get(statistics_csv))
}

fn student(raw: &str) -> Result<Student, AppError> {
    Student::parse(raw).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "student", e.to_string()))
}

fn object(body: Result<Json<Value>, JsonRejection>) -> Result<Value, AppError> {
    body.map(|Json(v)| v).map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))
}

async fn get_settings(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<ExamSettings>, AppError> {
    Ok(Json(s.platform.settings(&exam.id).await?))
}

/// Fields left out keep their value; 422 names the first bad field.
async fn put_settings(
    State(s): State<AppState>,
    exam: OwnedExam,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<ExamSettings>, AppError> {
    let id = exam.id.clone();
    Ok(Json(s.platform.put_settings(&id, &object(body)?).await?))
}

async fn get_overrides(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<OverridesRecord>, AppError> {
    Ok(Json(s.platform.overrides(&exam.id).await?))
}

/// Replaces one student's accommodations: `{"extra_time_secs"?, "time_multiplier"?,
/// "opens_at"?, "closes_at"?, "attempts_allowed"?}`.
async fn put_override(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, name)): Path<(String, String)>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<OverridesRecord>, AppError> {
    let (id, who) = (exam.id.clone(), student(&name)?);
    let rules = StudentOverride::from_json(&object(body)?).map_err(exam_core::service::ServiceError::from)?;
    Ok(Json(s.platform.set_override(&id, &who, rules).await?))
}

async fn delete_override(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<OverridesRecord>, AppError> {
    let (id, who) = (exam.id.clone(), student(&name)?);
    Ok(Json(s.platform.set_override(&id, &who, StudentOverride::default()).await?))
}

async fn sitting(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<SittingView>, AppError> {
    Ok(Json(s.platform.attempts().sitting(&exam.id).await?))
}

#[derive(Deserialize)]
struct ExtendBody {
    secs: u32,
}

#[derive(Serialize)]
struct Extended {
    student: String,
    extra_time_secs: u32,
}

/// `{"secs": n}`: n more seconds for this student, at once (also for a running attempt).
async fn extend(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, name)): Path<(String, String)>,
    body: Result<Json<ExtendBody>, JsonRejection>,
) -> Result<Json<Extended>, AppError> {
    let (id, who) = (exam.id.clone(), student(&name)?);
    let Json(body) = body.map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "secs", e.body_text()))?;
    let o = s.platform.extend(&id, &who, body.secs).await?;
    Ok(Json(Extended { student: who.to_string(), extra_time_secs: o.extra_time_secs }))
}

/// Closes the exam now (`closes_at` = now); running attempts are submitted after the grace.
async fn close(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<ExamSettings>, AppError> {
    Ok(Json(s.platform.close_now(&exam.id).await?))
}

#[derive(Serialize)]
struct Released {
    released_at: String,
}

async fn release(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<Released>, AppError> {
    Ok(Json(Released { released_at: s.platform.release_results(&exam.id).await? }))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<u32>,
}

async fn statistics(State(s): State<AppState>, exam: OwnedExam, Query(q): Query<VersionQuery>) -> Result<Json<ExamStatistics>, AppError> {
    Ok(Json(s.platform.statistics(&exam.id, q.version).await?))
}

async fn statistics_csv(State(s): State<AppState>, exam: OwnedExam, Query(q): Query<VersionQuery>) -> Result<Response, AppError> {
    let stats = s.platform.statistics(&exam.id, q.version).await?;
    let title = format!("{} statistics v{}", stats.title, stats.version);
    Ok(download("text/csv; charset=utf-8; header=present", &title, "csv", exam_domain::export::statistics_csv(&stats)))
}

/// `GET /api/v1/exams/{id}/status`: the window, attempts left, the running attempt and the
/// results of the student the session joined as, as the review policy allows.
pub async fn student_status(State(s): State<AppState>, ExamStudent { id, student }: ExamStudent) -> Result<Json<StudentStatus>, AppError> {
    Ok(Json(s.platform.attempts().status(&id, &student).await?))
}
