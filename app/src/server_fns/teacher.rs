//! The teacher's server functions (under `/sfn/teacher/`, which the gateway refuses to anyone
//! not signed in as a teacher; each checks the identity itself as well).

use exam_domain::stats::ExamStatistics;
use exam_domain::{ExamSettings, ExamSummary, ResultsPage, SittingView, TeacherExam};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::{err, exam_id, owned, platform, refuse, teacher};

#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn list_exams() -> Result<Vec<ExamSummary>, ServerFnError> {
    platform()?.exams_of(&teacher()?.id).await.map_err(err)
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

/// One page of an exam's results, newest first, with the summary over all of them.
#[server(prefix = "/sfn/teacher", output = crate::codec::JsonResponse)]
pub async fn load_results(id: String, #[server(default)] page: Option<u32>) -> Result<ResultsPage, ServerFnError> {
    let p = platform()?;
    let id = owned(&id).await?;
    let exam = p.exam(&id).map_err(err)?;
    Ok(ResultsPage::of(exam, &p.submissions(&id).await.map_err(err)?, page.unwrap_or(1)))
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
