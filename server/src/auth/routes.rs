//! Signing in and out, the first-teacher setup, and personal access tokens.
//!
//! The sign-in and setup routes take JSON (scripts: a JSON answer and the session cookie) or
//! an HTML form (the pages, which work without JavaScript: a redirect, with the error in the
//! query when something is wrong).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use exam_core::identity::audit::Scope;
use exam_core::service::ServiceError;
use exam_domain::identity::{Identity, Teacher};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::{CurrentTeacher, SESSION_KEY, SignedIn, unix_now};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/setup", post(setup))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .merge(super::people::routes())
        .merge(super::join::routes())
}

/// A body from a form post (`from_form`) or JSON.
pub(crate) struct Body<T> {
    pub(crate) value: T,
    pub(crate) from_form: bool,
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            let Form(value) =
                Form::<T>::from_request(req, state).await.map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))?;
            Ok(Body { value, from_form: true })
        } else {
            let Json(value) =
                Json::<T>::from_request(req, state).await.map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))?;
            Ok(Body { value, from_form: false })
        }
    }
}

/// Only paths on this site: `/teacher/exams/x`, never `//evil.example` or `https://…`.
pub(crate) fn local_path(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n']) => n.to_owned(),
        _ => fallback.to_owned(),
    }
}

pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Makes `teacher` the session's user, under a new session id (no fixation).
pub(crate) async fn start_session(session: &Session, teacher: &Teacher) -> Result<(), AppError> {
    let unavailable = |e: tower_sessions::session::Error| {
        tracing::warn!(error = %e, "cannot write the session");
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, "Sign-in is not available right now. Please try again in a moment.")
    };
    session.cycle_id().await.map_err(unavailable)?;
    let now = unix_now();
    session.insert(SESSION_KEY, SignedIn { teacher: teacher.id.clone(), at: now, seen: now }).await.map_err(unavailable)?;
    Ok(())
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

const WRONG: &str = "The email or the password is not right.";

async fn login(
    State(s): State<AppState>,
    session: Session,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body<LoginBody>,
) -> Result<Response, AppError> {
    let Body { value: b, from_form } = body;
    let address = super::client_address(&s, &headers, peer.map(|c| c.0.0));
    let account = b.email.trim().to_lowercase();
    let back = |message: &str| {
        let next = b.next.as_deref().map(|n| format!("&next={}", enc(n))).unwrap_or_default();
        Redirect::to(&format!("/login?error={}{next}", enc(message))).into_response()
    };
    if let Some(secs) = s.limiter.blocked(&address, &account) {
        tracing::warn!(client.address = %address, "sign-in refused: too many failures");
        let message = format!("Too many failed sign-ins. Try again in {} minutes.", secs.div_ceil(60));
        if from_form {
            return Ok(back(&message));
        }
        let mut r = AppError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response();
        if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(r);
    }
    let identity = s.platform.identity();
    let Some(teacher) = identity.accounts.sign_in(&b.email, &b.password).await? else {
        s.limiter.failed(&address, &account);
        // Logged for the account's owner to see, when the account exists.
        if let Ok(email) = exam_domain::identity::Email::parse(&b.email)
            && let Ok(Some(a)) = identity.accounts.by_email(&email).await
        {
            identity.audit.record(Scope::Teacher(&a.id), "sign_in_failed", None, None, Some(&address), "").await;
        }
        return Ok(if from_form { back(WRONG) } else { AppError::new(StatusCode::UNAUTHORIZED, WRONG).into_response() });
    };
    s.limiter.succeeded(&account);
    start_session(&session, &teacher).await?;
    identity.audit.record(Scope::Teacher(&teacher.id), "sign_in", Some(&teacher.id), None, Some(&address), "").await;
    if from_form {
        return Ok(Redirect::to(&local_path(b.next.as_deref(), "/teacher")).into_response());
    }
    Ok(Json(Identity::Teacher { teacher, via: exam_domain::identity::Via::Session }).into_response())
}

/// Ends the session: it is deleted from the store, so the cookie is dead on every replica.
async fn logout(State(s): State<AppState>, session: Session, headers: HeaderMap) -> Result<Response, AppError> {
    if let Ok(Some(signed_in)) = session.get::<SignedIn>(SESSION_KEY).await {
        s.platform.identity().audit.record(Scope::Teacher(&signed_in.teacher), "sign_out", Some(&signed_in.teacher), None, None, "").await;
    }
    session.flush().await.map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Cannot sign out right now: {e}")))?;
    let from_form =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    Ok(if from_form { Redirect::to("/login?signed_out=1").into_response() } else { StatusCode::NO_CONTENT.into_response() })
}

async fn me(axum::Extension(identity): axum::Extension<Identity>) -> Json<Identity> {
    Json(identity)
}

/// A new account made from a link (setup, invitation): signed in, then `201` with the identity,
/// or for a form the teacher's home.
pub(crate) async fn signed_up(session: &Session, teacher: Teacher, from_form: bool) -> Result<Response, AppError> {
    start_session(session, &teacher).await?;
    Ok(if from_form {
        Redirect::to("/teacher").into_response()
    } else {
        (StatusCode::CREATED, Json(Identity::Teacher { teacher, via: exam_domain::identity::Via::Session })).into_response()
    })
}

/// A form from a link goes back to its page with the message (and the field it is about).
pub(crate) fn back_to_form(page: &str, token: &str, e: &ServiceError) -> Response {
    let (field, message) = match e {
        ServiceError::Invalid { field, message } => (format!("&field={}", enc(field)), message.clone()),
        other => (String::new(), other.to_string()),
    };
    Redirect::to(&format!("{page}?token={}&error={}{field}", enc(token), enc(&message))).into_response()
}

/// The form of a link that creates an account (setup, invitation).
#[derive(Deserialize)]
pub(crate) struct NewAccountBody {
    pub(crate) token: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) password: String,
}

async fn setup(State(s): State<AppState>, session: Session, body: Body<NewAccountBody>) -> Result<Response, AppError> {
    let Body { value: b, from_form } = body;
    let identity = s.platform.identity();
    match identity.setup.complete(&identity.accounts, &b.token, &b.email, &b.name, &b.password).await {
        Ok(teacher) => {
            identity.audit.record(Scope::Teacher(&teacher.id), "setup", Some(&teacher.id), None, None, "the first teacher account").await;
            identity.adopt_orphans(s.platform.exams().into_iter().map(|e| e.id)).await?;
            signed_up(&session, teacher, from_form).await
        }
        Err(e) if from_form => Ok(back_to_form("/setup", &b.token, &e)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
    #[serde(default = "default_days")]
    expires_in_days: u32,
}

fn default_days() -> u32 {
    90
}

async fn create_token(State(s): State<AppState>, CurrentTeacher(t): CurrentTeacher, body: Body<NewToken>) -> Result<Response, AppError> {
    let (secret, info) = s.platform.identity().create_token(&t.id, &body.value.name, body.value.expires_in_days).await?;
    let mut v = serde_json::to_value(&info).map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    v["token"] = serde_json::Value::String(secret);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn list_tokens(State(s): State<AppState>, CurrentTeacher(t): CurrentTeacher) -> Result<Response, AppError> {
    Ok(Json(s.platform.identity().tokens.list(&t.id).await?).into_response())
}

async fn revoke_token(
    State(s): State<AppState>,
    CurrentTeacher(t): CurrentTeacher,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    s.platform.identity().revoke_token(&t.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
