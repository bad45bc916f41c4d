//! Teachers and their exams: invitations, sharing and the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use exam_core::identity::audit::{AuditEvent, Scope};
use exam_domain::identity::{AccessView, TeacherId};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::routes::{Body, NewAccountBody, back_to_form, signed_up};
use super::{CurrentTeacher, OwnedExam};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/invites", post(invite))
        .route("/api/v1/auth/accept-invite", post(accept_invite))
        .route("/api/v1/audit", get(my_audit))
        .route("/api/v1/exams/{id}/access", get(access))
        .route("/api/v1/exams/{id}/share", post(share))
        .route("/api/v1/exams/{id}/share/{teacher}", delete(unshare))
        .route("/api/v1/exams/{id}/audit", get(exam_audit))
}

#[derive(Serialize)]
struct Invitation {
    link: String,
    expires_at: String,
}

/// The link a new teacher opens: on the public URL when one is configured.
pub fn invite_link(s: &AppState, token: &str) -> String {
    let base = s.settings.auth.public_url.clone().unwrap_or_default();
    format!("{base}/invite?token={token}")
}

async fn invite(State(s): State<AppState>, CurrentTeacher(t): CurrentTeacher) -> Result<Response, AppError> {
    let (token, record) = s.platform.identity().create_invite(&t.id).await?;
    Ok((StatusCode::CREATED, Json(Invitation { link: invite_link(&s, &token), expires_at: record.expires_at })).into_response())
}

async fn accept_invite(State(s): State<AppState>, session: Session, body: Body<NewAccountBody>) -> Result<Response, AppError> {
    let Body { value: b, from_form } = body;
    let identity = s.platform.identity();
    match identity.invites.accept(&identity.accounts, &b.token, &b.email, &b.name, &b.password).await {
        Ok(teacher) => {
            identity.audit.record(Scope::Teacher(&teacher.id), "joined", Some(&teacher.id), None, None, "accepted an invitation").await;
            signed_up(&session, teacher, from_form).await
        }
        Err(e) if from_form => Ok(back_to_form("/invite", &b.token, &e)),
        Err(e) => Err(e.into()),
    }
}

async fn access(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<AccessView>, AppError> {
    Ok(Json(s.platform.identity().access_view(&exam.id).await?))
}

#[derive(Deserialize)]
struct ShareBody {
    email: String,
}

async fn share(State(s): State<AppState>, exam: OwnedExam, body: Body<ShareBody>) -> Result<Json<AccessView>, AppError> {
    s.platform.identity().share(&exam.id, &exam.teacher.id, &body.value.email).await?;
    Ok(Json(s.platform.identity().access_view(&exam.id).await?))
}

async fn unshare(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, teacher)): Path<(String, String)>,
) -> Result<Json<AccessView>, AppError> {
    let with = TeacherId::parse(&teacher).map_err(|_| AppError::new(StatusCode::NOT_FOUND, format!("teacher {teacher} not found")))?;
    s.platform.identity().unshare(&exam.id, &exam.teacher.id, &with).await?;
    Ok(Json(s.platform.identity().access_view(&exam.id).await?))
}

async fn exam_audit(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<Vec<AuditEvent>>, AppError> {
    Ok(Json(s.platform.identity().audit.read(Scope::Exam(&exam.id)).await?))
}

async fn my_audit(State(s): State<AppState>, CurrentTeacher(t): CurrentTeacher) -> Result<Json<Vec<AuditEvent>>, AppError> {
    Ok(Json(s.platform.identity().audit.read(Scope::Teacher(&t.id)).await?))
}
