//! Server functions the pages call. Each is a thin call into `exam_core::service::Platform`,
//! provided as context by the server.
//!
//! Teacher functions (which return answer keys) live under `/sfn/teacher/`, student functions
//! under `/sfn/student/`. The gateway refuses `/sfn/teacher/*` to anyone not signed in as a
//! teacher, and every teacher function checks the identity itself as well ([`owned`]), because
//! during SSR server functions are direct calls that no middleware sees.

use exam_domain::stats::ExamStatistics;
use exam_domain::{ExamPaper, ExamSettings, ExamSummary, ResultsPage, SittingView, StudentStatus, TeacherExam};
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

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn list_exams() -> Result<Vec<ExamSummary>, ServerFnError> {
    platform()?.exams_of(&teacher()?.id).await.map_err(err)
}

/// The teacher the top bar names: their name and email, nothing else of the identity.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SignedInTeacher {
    pub name: String,
    pub email: String,
}

/// The signed-in teacher, or `None` (students and visitors). Only what the top bar shows: the
/// whole `Identity` (a flattened, internally tagged enum) would bring its deserialiser and the
/// email's parser into every page's WebAssembly for two strings.
#[server(prefix = "/sfn/auth", output = crate::codec::JsonResponse)]
pub async fn whoami() -> Result<Option<SignedInTeacher>, ServerFnError> {
    Ok(identity().teacher().map(|t| SignedInTeacher { name: t.name.clone(), email: t.email.to_string() }))
}

/// The published exams this browser joined (newest first); none for anyone else.
#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn joined_exams() -> Result<Vec<ExamSummary>, ServerFnError> {
    let who = identity();
    Ok(platform()?.published().into_iter().filter(|e| who.student_in(&e.id).is_some()).collect())
}

/// What the exam page shows before a student has joined: a published exam's title and size,
/// and whether (and as whom) this browser joined it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExamEntry {
    pub exam_id: String,
    pub title: String,
    pub question_count: u32,
    /// The student this browser is in the exam, once joined.
    pub joined_as: Option<String>,
    /// Joining needs an OIDC sign-in (the exam's `require_sign_in`).
    pub require_sign_in: bool,
    /// This browser signed in with OIDC as a student (no name to type).
    pub signed_in: bool,
    /// A teacher is signed in here (they try exams from a private window).
    pub teacher: bool,
}

#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn load_exam_entry(id: String) -> Result<ExamEntry, ServerFnError> {
    let p = platform()?;
    let id = exam_id(&id)?;
    let exam = p.published_exam(&id).map_err(err)?;
    let who = identity();
    let settings = p.settings(&id).await.map_err(err)?;
    Ok(ExamEntry {
        exam_id: id.to_string(),
        title: exam.title,
        question_count: exam.question_count,
        joined_as: who.student_in(&id).map(|s| s.to_string()),
        require_sign_in: settings.require_sign_in,
        signed_in: matches!(who, exam_domain::identity::Identity::Student { via: exam_domain::identity::Via::Oidc, .. }),
        teacher: who.teacher().is_some(),
    })
}

/// The student the caller is in exam `id`: 401 unless this browser joined it.
#[cfg(feature = "ssr")]
fn joined(id: &exam_domain::ExamId) -> Result<exam_domain::Student, ServerFnError> {
    identity().student_in(id).cloned().ok_or_else(|| refuse(401, "Join this exam with its code first."))
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn load_teacher_exam(id: String) -> Result<TeacherExam, ServerFnError> {
    platform()?.teacher_exam(&owned(&id).await?).await.map_err(err)
}

/// Who may work on the exam, and whether the caller may change that (only its creator).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sharing {
    pub access: exam_domain::identity::AccessView,
    pub can_share: bool,
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn load_sharing(id: String) -> Result<Sharing, ServerFnError> {
    let id = owned(&id).await?;
    let me = teacher()?;
    let access = platform()?.identity().access_view(&id).await.map_err(err)?;
    let can_share = access.owner.as_ref().is_some_and(|o| o.id == me.id);
    Ok(Sharing { access, can_share })
}

/// Shares the exam with another teacher's account (creator only); errors name the email.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn share_exam(id: String, email: String) -> Result<(), ServerFnError> {
    let id = owned(&id).await?;
    platform()?.identity().share(&id, &teacher()?.id, &email).await.map(|_| ()).map_err(err)
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn unshare_exam(id: String, teacher_id: String) -> Result<(), ServerFnError> {
    let id = owned(&id).await?;
    let with = exam_domain::identity::TeacherId::parse(&teacher_id).map_err(|_| refuse(404, "no such teacher"))?;
    platform()?.identity().unshare(&id, &teacher()?.id, &with).await.map(|_| ()).map_err(err)
}

/// A new join code for the exam; the old one stops working.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn regenerate_join_code(id: String) -> Result<String, ServerFnError> {
    let id = owned(&id).await?;
    Ok(platform()?.regenerate_join_code(&teacher()?.id, &id).await.map_err(err)?.to_string())
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn publish_exam(id: String) -> Result<ExamSummary, ServerFnError> {
    let id = owned(&id).await?;
    platform()?.publish_as(&teacher()?.id, &id).await.map_err(err)
}

#[cfg(feature = "ssr")]
fn parse_question(raw: &str) -> Result<exam_domain::QuestionId, ServerFnError> {
    exam_domain::QuestionId::parse(raw).map_err(|_| ServerFnError::new(format!("question {raw} not found")))
}

/// Saves the edit form of one question. `options` are the form's option slots in order (blank
/// ones are dropped); `correct` is the slot of the correct answer.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn save_question(
    id: String,
    question_id: String,
    revision: u64,
    question: String,
    #[server(default)] options: Vec<String>,
    #[server(default)] correct: Option<usize>,
    #[server(default)] explanation: Option<String>,
) -> Result<(), ServerFnError> {
    let Some(correct) = correct else {
        return Err(ServerFnError::new("correct: mark the correct answer"));
    };
    let edit = exam_domain::QuestionEdit { question, options, correct, explanation };
    platform()?.authoring().edit_question(&owned(&id).await?, &parse_question(&question_id)?, edit, Some(revision)).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn delete_question(id: String, question_id: String, revision: u64) -> Result<(), ServerFnError> {
    platform()?.authoring().delete_question(&owned(&id).await?, &parse_question(&question_id)?, Some(revision)).await.map_err(err)?;
    Ok(())
}

/// Moves a question to the 0-based position `to`.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn move_question(id: String, question_id: String, to: usize, revision: u64) -> Result<(), ServerFnError> {
    platform()?.authoring().move_question(&owned(&id).await?, &parse_question(&question_id)?, to, Some(revision)).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn regenerate_question(id: String, question_id: String, revision: u64) -> Result<(), ServerFnError> {
    platform()?.authoring().regenerate_question(&owned(&id).await?, &parse_question(&question_id)?, Some(revision)).await.map_err(err)?;
    Ok(())
}

/// Throws away unpublished changes to a published exam.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn discard_draft(id: String) -> Result<(), ServerFnError> {
    platform()?.authoring().discard_draft(&owned(&id).await?).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn load_exam_paper(id: String) -> Result<ExamPaper, ServerFnError> {
    let id = exam_id(&id)?;
    joined(&id)?;
    platform()?.attempts().paper(&id).await.map_err(err)
}

/// The paper of one published version: for a student whose open attempt is bound to a version
/// older than the current one.
#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn load_exam_paper_version(id: String, version: u32) -> Result<ExamPaper, ServerFnError> {
    let id = exam_id(&id)?;
    joined(&id)?;
    platform()?.attempts().paper_version(&id, version).await.map_err(err)
}

/// One page of an exam's results, newest first, with the summary over all of them.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn load_results(id: String, #[server(default)] page: Option<u32>) -> Result<ResultsPage, ServerFnError> {
    let p = platform()?;
    let id = owned(&id).await?;
    let exam = p.exam(&id).map_err(err)?;
    Ok(ResultsPage::of(exam, &p.submissions(&id).await.map_err(err)?, page.unwrap_or(1)))
}

/// A student's standing in an exam: window, attempts left, the running attempt and the results
/// the review policy allows.
#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn load_status(id: String) -> Result<StudentStatus, ServerFnError> {
    let id = exam_id(&id)?;
    let student = joined(&id)?;
    platform()?.attempts().status(&id, &student).await.map_err(err)
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn load_settings(id: String) -> Result<ExamSettings, ServerFnError> {
    platform()?.settings(&owned(&id).await?).await.map_err(err)
}

/// The settings form. Times arrive as the browser's `datetime-local` values; `tz_offset_minutes`
/// is the browser's `Date.getTimezoneOffset()` (minutes to add to local time to get UTC; 0, i.e.
/// UTC, when the page was not hydrated). Errors name the field (`field: message`).
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
#[allow(clippy::too_many_arguments)]
pub async fn save_settings(
    id: String,
    #[server(default)] time_limit_minutes: String,
    #[server(default)] grace_secs: String,
    #[server(default)] opens_at: String,
    #[server(default)] closes_at: String,
    #[server(default)] tz_offset_minutes: String,
    #[server(default)] attempts_allowed: String,
    #[server(default)] grade: String,
    #[server(default)] shuffle_questions: Option<String>,
    #[server(default)] shuffle_options: Option<String>,
    #[server(default)] require_sign_in: Option<String>,
    #[server(default)] review_show: String,
    #[server(default)] review_when: String,
    #[server(default)] pass_mark: String,
) -> Result<ExamSettings, ServerFnError> {
    let body = crate::settings_form::to_json(&crate::settings_form::Form {
        time_limit_minutes,
        grace_secs,
        opens_at,
        closes_at,
        tz_offset_minutes,
        attempts_allowed,
        grade,
        shuffle_questions: shuffle_questions.is_some(),
        shuffle_options: shuffle_options.is_some(),
        require_sign_in: require_sign_in.is_some(),
        review_show,
        review_when,
        pass_mark,
    })
    .map_err(|(field, message)| ServerFnError::new(format!("{field}: {message}")))?;
    platform()?.put_settings(&owned(&id).await?, &body).await.map_err(err)
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn load_sitting(id: String) -> Result<SittingView, ServerFnError> {
    platform()?.attempts().sitting(&owned(&id).await?).await.map_err(err)
}

/// Gives one student more time now (minutes).
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn extend_time(id: String, student: String, minutes: u32) -> Result<(), ServerFnError> {
    let student = exam_domain::Student::parse(&student).map_err(|e| ServerFnError::new(format!("student: {e}")))?;
    platform()?.extend(&owned(&id).await?, &student, minutes.saturating_mul(60)).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn close_exam(id: String) -> Result<(), ServerFnError> {
    platform()?.close_now(&owned(&id).await?).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn release_results(id: String) -> Result<(), ServerFnError> {
    platform()?.release_results(&owned(&id).await?).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn load_statistics(id: String, #[server(default)] version: Option<u32>) -> Result<ExamStatistics, ServerFnError> {
    platform()?.statistics(&owned(&id).await?, version).await.map_err(err)
}

/// A single-use invitation link for another teacher (absolute, on the public URL when one is
/// configured, else on the host this request came to).
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn create_invite() -> Result<String, ServerFnError> {
    let teacher = teacher()?;
    let (token, _) = platform()?.identity().create_invite(&teacher.id).await.map_err(err)?;
    Ok(format!("{}/invite?token={token}", site_base()))
}

/// The site's address for links people open elsewhere: the public URL when one is configured,
/// else the host this request came to.
#[cfg(feature = "ssr")]
fn site_base() -> String {
    match use_context::<PublicUrl>().and_then(|p| p.0) {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = use_context::<axum::http::request::Parts>()
                .and_then(|p| p.headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
                .unwrap_or_else(|| "127.0.0.1:3000".into());
            format!("http://{host}")
        }
    }
}

/// The link students open to join with `code` (`<site>/join?code=…`).
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn join_link(code: String) -> Result<String, ServerFnError> {
    teacher()?;
    let code = exam_domain::identity::JoinCode::parse(&code).map_err(|e| refuse(422, e.to_string()))?;
    Ok(format!("{}/join?code={code}", site_base()))
}

/// The signed-in teacher's access tokens (never their secrets).
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn list_tokens() -> Result<Vec<exam_domain::identity::TokenInfo>, ServerFnError> {
    platform()?.identity().tokens.list(&teacher()?.id).await.map_err(err)
}

/// A new access token; its secret is returned this once.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn create_token(name: String, #[server(default)] days: Option<u32>) -> Result<String, ServerFnError> {
    let teacher = teacher()?;
    let (secret, _) = platform()?.identity().create_token(&teacher.id, &name, days.unwrap_or(90)).await.map_err(err)?;
    Ok(secret)
}

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    platform()?.identity().revoke_token(&teacher()?.id, &id).await.map_err(err)
}

/// The signed-in teacher's own audit events (sign-ins, tokens, invitations), oldest first.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn my_activity() -> Result<Vec<exam_domain::identity::AuditEvent>, ServerFnError> {
    let teacher = teacher()?;
    platform()?.identity().audit.read(exam_core::identity::audit::Scope::Teacher(&teacher.id)).await.map_err(err)
}

/// Deletes the exam and everything under it (only its creator), then sends the browser to the
/// dashboard.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn delete_exam(id: String) -> Result<(), ServerFnError> {
    let teacher = teacher()?;
    platform()?.lifecycle().delete_exam(&teacher.id, &exam_id(&id)?).await.map_err(err)?;
    leptos_axum::redirect("/teacher?deleted=1");
    Ok(())
}

/// Provided by the server: `EXAM_PUBLIC_URL`, if set.
#[derive(Debug, Clone)]
pub struct PublicUrl(pub Option<String>);

/// Largest accepted upload in bytes.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn upload_limit() -> Result<u64, ServerFnError> {
    teacher()?;
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
