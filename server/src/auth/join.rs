//! Students join an exam with its code and a display name; the identity then lives in the
//! session (`Joined`), not in the URL. Teachers see, regenerate and print (QR) the code.
//!
//! Wrong codes count as failures per client address (30 in 15 min, generous enough for a
//! class behind one NAT address, since only failures count) and per exam (200, so no address
//! pool can try codes against one exam for long).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use exam_core::service::ServiceError;
use exam_domain::identity::{Identity, JoinCode, Via};
use exam_domain::{ExamId, Student};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::routes::{Body, enc, local_path};
use super::{JOINED_KEY, Joined, OIDC_STUDENT_KEY, OidcStudentName, OwnedExam};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exams/{id}/join", post(join_exam))
        .route("/api/v1/join", post(join_by_code))
        .route("/api/v1/exams/{id}/join-code", post(regenerate))
        .route("/api/v1/exams/{id}/join-qr.svg", get(qr_code))
}

#[derive(Deserialize)]
struct JoinBody {
    code: String,
    /// Not needed by a student signed in with OIDC.
    #[serde(default)]
    name: Option<String>,
    /// Forms only: where to go once joined (a local path).
    #[serde(default)]
    next: Option<String>,
}

/// What a join answers: who the caller now is in the exam.
#[derive(Serialize)]
struct Joining {
    role: &'static str,
    exam_id: ExamId,
    student: Student,
    via: Via,
}

async fn join_exam(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::Extension(identity): axum::Extension<Identity>,
    body: Body<JoinBody>,
) -> Result<Response, AppError> {
    let id = crate::api::parse_exam_id(&id)?;
    let address = super::client_address(&s, &headers, peer.map(|c| c.0.0));
    let form = body.from_form;
    let b = body.value;
    let back = format!("/exams/{id}");
    Ok(match join(&s, &session, &identity, &address, Some(&id), &b).await {
        Ok(j) if form => Redirect::to(&local_path(b.next.as_deref(), &format!("/exams/{}", j.exam_id))).into_response(),
        Ok(j) => Json(j).into_response(),
        Err(e) if form => back_to(&back, &b, &e),
        Err(e) => e.into_response(),
    })
}

async fn join_by_code(
    State(s): State<AppState>,
    session: Session,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::Extension(identity): axum::Extension<Identity>,
    body: Body<JoinBody>,
) -> Result<Response, AppError> {
    let address = super::client_address(&s, &headers, peer.map(|c| c.0.0));
    let form = body.from_form;
    let b = body.value;
    Ok(match join(&s, &session, &identity, &address, None, &b).await {
        Ok(j) if form => Redirect::to(&local_path(b.next.as_deref(), &format!("/exams/{}", j.exam_id))).into_response(),
        Ok(j) => Json(j).into_response(),
        Err(e) if form => back_to("/join", &b, &e),
        Err(e) => e.into_response(),
    })
}

/// A join form goes back to its page with the message, the field, and what was typed.
fn back_to(page: &str, b: &JoinBody, e: &AppError) -> Response {
    let field = e.field.as_deref().map(|f| format!("&field={}", enc(f))).unwrap_or_default();
    let name = b.name.as_deref().map(|n| format!("&name={}", enc(n))).unwrap_or_default();
    Redirect::to(&format!("{page}?code={}&error={}{field}{name}", enc(&b.code), enc(&e.message))).into_response()
}

fn too_many(secs: u64) -> AppError {
    let mut e =
        AppError::new(StatusCode::TOO_MANY_REQUESTS, format!("Too many wrong join codes. Try again in {} minutes.", secs.div_ceil(60)));
    e.retry_after = Some(secs);
    e
}

async fn join(
    s: &AppState,
    session: &Session,
    identity: &Identity,
    address: &str,
    exam: Option<&ExamId>,
    b: &JoinBody,
) -> Result<Joining, AppError> {
    if identity.teacher().is_some() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "You are signed in as a teacher here. To try the exam as a student, open it in a private window.",
        ));
    }
    let limit_key = format!("join:{}", exam.map(ExamId::as_str).unwrap_or("*"));
    if let Some(secs) = s.join_limiter.blocked(address, &limit_key) {
        tracing::warn!(client.address = %address, "join refused: too many wrong codes");
        return Err(too_many(secs));
    }
    let code = JoinCode::parse(&b.code).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "code", e.to_string()))?;
    let platform = &s.platform;
    let found = match exam {
        Some(id) => platform.published_exam(id).map(|_| id.clone()),
        None => platform.exam_for_code(&code).await,
    };
    let id = match found {
        Ok(id) => id,
        Err(e @ ServiceError::Forbidden(_)) => {
            s.join_limiter.failed(address, &limit_key);
            return Err(with_field(e.into(), "code"));
        }
        Err(e) => return Err(e.into()),
    };
    let unavailable = |e: tower_sessions::session::Error| {
        tracing::warn!(error = %e, "cannot use the session");
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, "Joining is not available right now. Please try again in a moment.")
    };
    let oidc = session.get::<OidcStudentName>(OIDC_STUDENT_KEY).await.map_err(unavailable)?;
    let mut joined = session.get::<Joined>(JOINED_KEY).await.map_err(unavailable)?.unwrap_or_default();
    let settings = platform.settings(&id).await?;
    let (student, via) = match oidc.as_ref().and_then(OidcStudentName::student) {
        Some(me) => {
            check_code(s, address, &limit_key, platform.identity().join.is_code_of(&id, &code).await?)?;
            platform.identity().join.enrol(&id, &me, "oidc").await?;
            joined.name = oidc.map(|o| o.name).unwrap_or_default();
            (me, Via::Oidc)
        }
        None if settings.require_sign_in => {
            return Err(AppError::new(StatusCode::FORBIDDEN, "This exam needs you to sign in with your school account first."));
        }
        None => {
            let raw = b.name.as_deref().unwrap_or_default();
            let wanted = Student::parse(raw).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "name", e.to_string()))?;
            let same = joined.exams.get(&id).filter(|had| had.key() == wanted.key() || *had == &wanted).cloned();
            let student = match same {
                // The same browser joining again with its name: the same student (resume).
                Some(had) => {
                    check_code(s, address, &limit_key, platform.identity().join.is_code_of(&id, &code).await?)?;
                    had
                }
                None => match platform.join(&id, &code, &wanted).await {
                    Ok(st) => st,
                    Err(e @ ServiceError::Forbidden(_)) => {
                        s.join_limiter.failed(address, &limit_key);
                        return Err(with_field(e.into(), "code"));
                    }
                    Err(e) => return Err(e.into()),
                },
            };
            joined.name = wanted.as_str().to_owned();
            (student, Via::Join)
        }
    };
    joined.exams.insert(id.clone(), student.clone());
    // A new session id whenever what the session may do grows (no fixation).
    session.cycle_id().await.map_err(unavailable)?;
    session.insert(JOINED_KEY, &joined).await.map_err(unavailable)?;
    tracing::info!(exam.id = %id, via = ?via, "student joined");
    Ok(Joining { role: "student", exam_id: id, student, via })
}

fn check_code(s: &AppState, address: &str, limit_key: &str, right: bool) -> Result<(), AppError> {
    if right {
        return Ok(());
    }
    s.join_limiter.failed(address, limit_key);
    Err(AppError::field(StatusCode::FORBIDDEN, "code", "This join code is not right for this exam. Check it with your teacher."))
}

fn with_field(e: AppError, field: &str) -> AppError {
    AppError { field: Some(field.to_owned()), ..e }
}

#[derive(Serialize)]
struct NewCode {
    join_code: String,
}

async fn regenerate(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<NewCode>, AppError> {
    let code = s.platform.regenerate_join_code(&exam.teacher.id, &exam.id).await?;
    Ok(Json(NewCode { join_code: code.to_string() }))
}

/// The join link as a QR code, for the projector: SVG, drawn on the server.
async fn qr_code(State(s): State<AppState>, exam: OwnedExam, headers: HeaderMap) -> Result<Response, AppError> {
    let code = s.platform.identity().join.code_of(&exam.id).await?;
    let link = join_link(&s, &headers, &code);
    let svg = qr_svg(&link).ok_or_else(|| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot draw the QR code"))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "private, no-store")], svg).into_response())
}

/// `<public URL>/join?code=…`: the link students open (the request's own host when no public
/// URL is configured).
pub fn join_link(s: &AppState, headers: &HeaderMap, code: &JoinCode) -> String {
    let base = s.settings.auth.public_url.clone().unwrap_or_else(|| {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:3000");
        format!("http://{host}")
    });
    format!("{}/join?code={code}", base.trim_end_matches('/'))
}

fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}
