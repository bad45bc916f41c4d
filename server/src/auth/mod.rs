//! Who is asking, on every request, and what they may do.
//!
//! [`resolve`] turns a bearer token or the session cookie into an [`Identity`] in the request's
//! extensions (handlers, pages and server functions all read it from there, so a server
//! function called directly during SSR sees the same identity). [`guard`] refuses teacher
//! pages, server functions and API routes to anyone who is not a signed-in teacher; the
//! [`OwnedExam`] extractor then checks the exam is theirs. [`origin`] refuses cross-site
//! requests and sets the security headers; [`limits`] counts failed sign-ins.

pub mod join;
pub mod limits;
pub mod oidc;
pub mod origin;
pub mod people;
pub mod routes;
pub mod sessions;

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeMap;

use exam_domain::identity::{Identity, Teacher, TeacherId, Via};
use exam_domain::{ExamId, Student};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::error::AppError;
use crate::state::AppState;

/// The session's record of a sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub teacher: TeacherId,
    /// Unix seconds: the absolute expiry counts from here.
    pub at: u64,
    /// Unix seconds of the last refresh of the idle expiry.
    pub seen: u64,
}

pub const SESSION_KEY: &str = "signed_in";

/// The session's record of the exams this browser joined as a student, each with the student
/// it is in that exam (`Ada`, or `Ada (2)` when another browser had the name first).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Joined {
    pub name: String,
    pub exams: BTreeMap<ExamId, Student>,
}

pub const JOINED_KEY: &str = "joined";
/// Where an OpenID Connect sign-in puts a student who is not a teacher (see `oidc`).
pub const OIDC_STUDENT_KEY: &str = "oidc_student";

/// The parts of an OIDC student's session record this module needs.
#[derive(Debug, Clone, Deserialize)]
pub struct OidcStudentName {
    pub subject: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

impl OidcStudentName {
    /// The student a signed-in person is in every exam: their email (the name the join form
    /// always asked for), else their name with a short digest of their subject, so two people
    /// with one name stay apart and one person is the same student from any browser.
    pub fn student(&self) -> Option<Student> {
        match self.email.as_deref().map(Student::parse) {
            Some(Ok(s)) => Some(s),
            _ => {
                let tag = &exam_core::identity::secrets::digest(&self.subject)[..6];
                let base: String = self.name.chars().take(Student::MAX_CHARS - 9).collect();
                Student::parse(&format!("{} · {tag}", base.trim())).ok()
            }
        }
    }
}
/// The idle expiry is pushed forward at most this often (each push is a store write).
const SEEN_EVERY_SECS: u64 = 300;

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn unavailable() -> Response {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is not available right now (the session store is not reachable). Please try again in a moment.",
    )
    .into_response()
}

/// Resolves the caller: `Authorization: Bearer exm_…` (a personal access token) or the session
/// cookie. A bearer header that does not resolve is refused outright, so a script with a
/// revoked token hears so instead of acting anonymously.
pub async fn resolve(State(s): State<AppState>, session: Session, mut req: Request, next: Next) -> Response {
    // The built front end and the icon are the same for everyone: no session read for them.
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/healthz" {
        req.extensions_mut().insert(Identity::Anonymous);
        return next.run(req).await;
    }
    let identity = match bearer(&req) {
        Some(token) => match s.platform.identity().tokens.resolve(&token).await {
            Ok(Some(id)) => match s.platform.identity().accounts.get(&id).await {
                Ok(Some(teacher)) => Identity::Teacher { teacher, via: Via::Token },
                Ok(None) => return invalid_token(),
                Err(e) => return AppError::from(e).into_response(),
            },
            Ok(None) => return invalid_token(),
            Err(e) => return AppError::from(e).into_response(),
        },
        None => match from_session(&s, &session).await {
            Ok(identity) => identity,
            Err(response) => return response,
        },
    };
    req.extensions_mut().insert(identity);
    next.run(req).await
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn invalid_token() -> Response {
    let mut r = AppError::new(StatusCode::UNAUTHORIZED, "This access token is not valid (unknown, revoked or expired).").into_response();
    r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer error=\"invalid_token\""));
    r
}

async fn from_session(s: &AppState, session: &Session) -> Result<Identity, Response> {
    let signed_in = match session.get::<SignedIn>(SESSION_KEY).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the session");
            return Err(unavailable());
        }
    };
    let Some(mut signed_in) = signed_in else { return student_of(session).await };
    let now = unix_now();
    let max = s.settings.auth.session_max.as_secs();
    let teacher = match s.platform.identity().accounts.get(&signed_in.teacher).await {
        Ok(t) => t,
        Err(e) => return Err(AppError::from(e).into_response()),
    };
    let Some(teacher) = teacher.filter(|_| now.saturating_sub(signed_in.at) < max) else {
        // Past the absolute lifetime, or the account is gone.
        let _ = session.flush().await;
        return Ok(Identity::Anonymous);
    };
    if now.saturating_sub(signed_in.seen) >= SEEN_EVERY_SECS {
        signed_in.seen = now;
        if session.insert(SESSION_KEY, &signed_in).await.is_err() {
            return Err(unavailable());
        }
    }
    Ok(Identity::Teacher { teacher, via: Via::Session })
}

/// A session without a teacher: the exams it joined and whether it signed in with OIDC.
async fn student_of(session: &Session) -> Result<Identity, Response> {
    let read = |e: tower_sessions::session::Error| {
        tracing::warn!(error = %e, "cannot read the session");
        unavailable()
    };
    let joined = session.get::<Joined>(JOINED_KEY).await.map_err(read)?;
    let oidc = session.get::<OidcStudentName>(OIDC_STUDENT_KEY).await.map_err(read)?;
    Ok(match (joined, oidc) {
        (None, None) => Identity::Anonymous,
        (joined, Some(o)) => Identity::Student { name: o.name, exams: joined.unwrap_or_default().exams, via: Via::Oidc },
        (Some(j), None) => Identity::Student { name: j.name, exams: j.exams, via: Via::Join },
    })
}

/// The client's address, for rate limits, socket limits and the audit log: the connection's
/// peer, or behind a trusted ingress (`EXAM_TRUST_FORWARDED_FOR`) the last `X-Forwarded-For` hop.
pub fn client_address(s: &AppState, headers: &axum::http::HeaderMap, peer: Option<std::net::SocketAddr>) -> String {
    if s.settings.auth.trust_forwarded_for
        && let Some(last) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.rsplit(',').next())
    {
        return last.trim().to_owned();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// [`client_address`] as an extractor.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
        Ok(ClientAddress(client_address(s, &parts.headers, peer)))
    }
}

/// The identity [`resolve`] put on the request (anonymous if it did not run).
pub fn identity(parts: &Parts) -> Identity {
    parts.extensions.get::<Identity>().cloned().unwrap_or_default()
}

fn must_sign_in() -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "Sign in as a teacher to do this.")
}

/// Teacher pages (`/teacher…`) redirect anonymous visitors to the sign-in page; teacher server
/// functions (`/sfn/teacher/…`) answer 401. The API's teacher routes are guarded by
/// [`CurrentTeacher`] and [`OwnedExam`] in each handler.
pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let teacher_page = path == "/teacher" || path.starts_with("/teacher/");
    let teacher_fn = path.starts_with("/sfn/teacher/");
    if (teacher_page || teacher_fn) && req.extensions().get::<Identity>().and_then(Identity::teacher).is_none() {
        if teacher_fn {
            return must_sign_in().into_response();
        }
        let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/teacher");
        let next_param: String = percent_encoding::utf8_percent_encode(target, percent_encoding::NON_ALPHANUMERIC).to_string();
        return Redirect::to(&format!("/login?next={next_param}")).into_response();
    }
    next.run(req).await
}

/// A signed-in teacher, or 401.
pub struct CurrentTeacher(pub Teacher);

impl<S: Send + Sync> FromRequestParts<S> for CurrentTeacher {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        identity(parts).teacher().cloned().map(CurrentTeacher).ok_or_else(must_sign_in)
    }
}

/// The `{id}` of the path, for a teacher who owns it or had it shared: 401 when not signed
/// in, 404 when it is not theirs (whether another teacher's exam exists is private).
pub struct OwnedExam {
    pub id: ExamId,
    pub teacher: Teacher,
}

impl FromRequestParts<AppState> for OwnedExam {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, AppError> {
        let CurrentTeacher(teacher) = CurrentTeacher::from_request_parts(parts, s).await?;
        let params = RawPathParams::from_request_parts(parts, s).await.map_err(|e| AppError::new(StatusCode::NOT_FOUND, e.body_text()))?;
        let raw = params.iter().find(|(k, _)| *k == "id").map(|(_, v)| v.to_owned()).unwrap_or_default();
        let id = crate::api::parse_exam_id(&raw)?;
        s.platform.identity().access.check(&teacher.id, &id).await?;
        Ok(OwnedExam { id, teacher })
    }
}

fn must_join() -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "Join this exam with its code first.")
}

/// The `{id}` of the path and the student the caller is in it: 401 for anyone who has not
/// joined it (a teacher included: teachers try their exams from another browser).
pub struct ExamStudent {
    pub id: ExamId,
    pub student: Student,
}

impl FromRequestParts<AppState> for ExamStudent {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, AppError> {
        let params = RawPathParams::from_request_parts(parts, s).await.map_err(|e| AppError::new(StatusCode::NOT_FOUND, e.body_text()))?;
        let raw = params.iter().find(|(k, _)| *k == "id").map(|(_, v)| v.to_owned()).unwrap_or_default();
        let id = crate::api::parse_exam_id(&raw)?;
        let student = identity(parts).student_in(&id).cloned().ok_or_else(must_join)?;
        Ok(ExamStudent { id, student })
    }
}
