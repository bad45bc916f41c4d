//! What a student's pages load, and the top bar's `whoami`: the server functions in the student
//! bundle.

use exam_domain::{ExamPaper, ExamSummary, StudentStatus};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::{err, exam_id, identity, platform, refuse};

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

/// What the exam page shows: a published exam's title and size, whether (and as whom) this
/// browser joined it, and then its paper. One resource, so the page loads (and carries) the
/// paper once.
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
    /// The published paper (no key), once joined.
    pub paper: Option<ExamPaper>,
}

#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn load_exam_entry(id: String) -> Result<ExamEntry, ServerFnError> {
    let p = platform()?;
    let id = exam_id(&id)?;
    let exam = p.published_exam(&id).map_err(err)?;
    let who = identity();
    let settings = p.settings(&id).await.map_err(err)?;
    let joined_as = who.student_in(&id).map(|s| s.to_string());
    let paper = match joined_as {
        Some(_) => Some(p.attempts().paper(&id).await.map_err(err)?),
        None => None,
    };
    Ok(ExamEntry {
        exam_id: id.to_string(),
        title: exam.title,
        question_count: exam.question_count,
        joined_as,
        require_sign_in: settings.require_sign_in,
        signed_in: matches!(who, exam_domain::identity::Identity::Student { via: exam_domain::identity::Via::Oidc, .. }),
        teacher: who.teacher().is_some(),
        paper,
    })
}

/// The student the caller is in exam `id`: 401 unless this browser joined it.
#[cfg(feature = "ssr")]
fn joined(id: &exam_domain::ExamId) -> Result<exam_domain::Student, ServerFnError> {
    identity().student_in(id).cloned().ok_or_else(|| refuse(401, "Join this exam with its code first."))
}

/// The paper of one published version: for a student whose open attempt is bound to a version
/// older than the current one.
#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn load_exam_paper_version(id: String, version: u32) -> Result<ExamPaper, ServerFnError> {
    let id = exam_id(&id)?;
    joined(&id)?;
    platform()?.attempts().paper_version(&id, version).await.map_err(err)
}

/// A student's standing in an exam: window, attempts left, the running attempt and the results
/// the review policy allows.
#[server(prefix = "/sfn/student", output = crate::codec::JsonResponse)]
pub async fn load_status(id: String) -> Result<StudentStatus, ServerFnError> {
    let id = exam_id(&id)?;
    let student = joined(&id)?;
    platform()?.attempts().status(&id, &student).await.map_err(err)
}
