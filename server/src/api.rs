//! The HTTP contract under `/api/v1` (also used by scripts). Every teacher handler takes
//! [`OwnedExam`] (signed in, and the exam is theirs) or [`CurrentTeacher`]; the student routes
//! take [`ExamStudent`] (the session joined the exam, see `auth::join`).

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use exam_core::service::NewExam;
use exam_domain::{
    ExamId, ExamPaper, ExamSummary, GenerationParams, OptionId, PublishedVersion, QuestionEdit, QuestionId, SubmissionRecord, TeacherExam,
};
use serde::{Deserialize, Serialize};

use crate::auth::{CurrentTeacher, ExamStudent, OwnedExam};
use crate::error::AppError;
use crate::state::AppState;
use exam_domain::identity::Identity;

/// Routes a teacher uses: upload or import, review and edit, publish, export, results.
pub fn teacher_routes(max_upload: u64) -> Router<AppState> {
    // Allow the multipart framing on top of the file itself; the file's own size is checked
    // while streaming so an oversize upload fails early with a clear 413.
    let body_limit = usize::try_from(max_upload).unwrap_or(usize::MAX).saturating_add(256 * 1024);
    Router::new()
        .route("/api/v1/exams", get(list_exams).post(create_exam).layer(DefaultBodyLimit::max(body_limit)))
        .route("/api/v1/exams/{id}/questions", get(teacher_exam))
        .route("/api/v1/exams/{id}/questions/{question}", put(edit_question).delete(delete_question))
        .route("/api/v1/exams/{id}/questions/{question}/regenerate", post(regenerate_question))
        .route("/api/v1/exams/{id}/order", put(reorder))
        .route("/api/v1/exams/{id}/draft", axum::routing::delete(discard_draft))
        .route("/api/v1/exams/{id}/publish", post(publish))
        .route("/api/v1/exams/{id}/versions/{version}", get(version))
        .route("/api/v1/exams/{id}/export.gift", get(export_gift))
        .route("/api/v1/exams/{id}/export.xml", get(export_xml))
        .route("/api/v1/exams/{id}/submissions", get(list_submissions))
        .route("/api/v1/exams/{id}/results.csv", get(results_csv))
        .merge(crate::sittings::teacher_routes())
}

/// Routes a student uses.
pub fn student_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exams/{id}", get(paper))
        .route("/api/v1/exams/{id}/submissions", post(submit))
        .route("/api/v1/exams/{id}/status", get(crate::sittings::student_status))
        .route("/api/v1/exams/{id}/attempt", get(crate::ws::attempt))
        .route("/api/v1/live", get(crate::ws::live))
}

pub fn parse_exam_id(raw: &str) -> Result<ExamId, AppError> {
    ExamId::parse(raw).map_err(|_| AppError::new(StatusCode::NOT_FOUND, format!("exam {raw} not found")))
}

/// The signed-in teacher's exams (owned or shared with them).
async fn list_exams(State(s): State<AppState>, CurrentTeacher(t): CurrentTeacher) -> Result<Json<Vec<ExamSummary>>, AppError> {
    Ok(Json(s.platform.exams_of(&t.id).await?))
}

async fn teacher_exam(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<TeacherExam>, AppError> {
    Ok(Json(s.platform.teacher_exam(&exam.id).await?))
}

async fn publish(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<ExamSummary>, AppError> {
    Ok(Json(s.platform.publish_as(&exam.teacher.id, &exam.id).await?))
}

fn parse_question_id(raw: &str) -> Result<QuestionId, AppError> {
    QuestionId::parse(raw).map_err(|_| AppError::new(StatusCode::NOT_FOUND, format!("question {raw} not found")))
}

/// A JSON body, or a 422 that says what is wrong with it.
fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    body.map(|Json(b)| b).map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))
}

/// The revision the client edited (optional): a stale one gets 409 instead of overwriting.
#[derive(Deserialize, Default)]
struct RevisionQuery {
    revision: Option<u64>,
}

#[derive(Deserialize)]
struct EditBody {
    #[serde(flatten)]
    edit: QuestionEdit,
    revision: Option<u64>,
}

/// `PUT /api/v1/exams/{id}/questions/{question}`: `{"question", "options": [...], "correct": <index>, "explanation"?, "revision"?}`.
async fn edit_question(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, question)): Path<(String, String)>,
    body: Result<Json<EditBody>, JsonRejection>,
) -> Result<Json<TeacherExam>, AppError> {
    let (id, question) = (exam.id.clone(), parse_question_id(&question)?);
    let body = json_body(body)?;
    Ok(Json(s.platform.authoring().edit_question(&id, &question, body.edit, body.revision).await?))
}

async fn delete_question(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, question)): Path<(String, String)>,
    Query(q): Query<RevisionQuery>,
) -> Result<Json<TeacherExam>, AppError> {
    let (id, question) = (exam.id.clone(), parse_question_id(&question)?);
    Ok(Json(s.platform.authoring().delete_question(&id, &question, q.revision).await?))
}

async fn regenerate_question(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, question)): Path<(String, String)>,
    Query(q): Query<RevisionQuery>,
) -> Result<Json<TeacherExam>, AppError> {
    let (id, question) = (exam.id.clone(), parse_question_id(&question)?);
    Ok(Json(s.platform.authoring().regenerate_question(&id, &question, q.revision).await?))
}

#[derive(Deserialize)]
struct OrderBody {
    order: Vec<String>,
    revision: Option<u64>,
}

/// `PUT /api/v1/exams/{id}/order`: `{"order": ["q3", "q1", ...], "revision"?}`, every question once.
async fn reorder(
    State(s): State<AppState>,
    exam: OwnedExam,
    body: Result<Json<OrderBody>, JsonRejection>,
) -> Result<Json<TeacherExam>, AppError> {
    let id = exam.id.clone();
    let body = json_body(body)?;
    let order = body
        .order
        .iter()
        .map(|q| QuestionId::parse(q).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "order", format!("order: {q:?}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(s.platform.authoring().reorder(&id, &order, body.revision).await?))
}

async fn discard_draft(State(s): State<AppState>, exam: OwnedExam) -> Result<Json<TeacherExam>, AppError> {
    Ok(Json(s.platform.authoring().discard_draft(&exam.id).await?))
}

async fn version(
    State(s): State<AppState>,
    exam: OwnedExam,
    Path((_, version)): Path<(String, String)>,
) -> Result<Json<PublishedVersion>, AppError> {
    let id = exam.id.clone();
    let n = version.parse::<u32>().map_err(|_| AppError::new(StatusCode::NOT_FOUND, format!("version {version} not found")))?;
    Ok(Json((*s.platform.version(&id, n).await?).clone()))
}

/// `?version=<n>` exports a published version; without it, what the teacher is reviewing.
#[derive(Deserialize)]
struct ExportQuery {
    version: Option<u32>,
}

/// A download: the content type, and a file name made from the exam title.
pub(crate) fn download(content_type: &'static str, title: &str, extension: &str, body: String) -> Response {
    let stem = exam_domain::keys::safe_file_name(title);
    let stem = stem.trim_end_matches(".pdf");
    let disposition = format!("attachment; filename=\"{stem}.{extension}\"");
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

async fn export_gift(State(s): State<AppState>, exam: OwnedExam, Query(q): Query<ExportQuery>) -> Result<Response, AppError> {
    let bank = s.platform.authoring().export_bank(&exam.id, q.version).await?;
    Ok(download("text/plain; charset=utf-8", &bank.title, "gift.txt", exam_domain::export::gift(&bank)))
}

async fn export_xml(State(s): State<AppState>, exam: OwnedExam, Query(q): Query<ExportQuery>) -> Result<Response, AppError> {
    let bank = s.platform.authoring().export_bank(&exam.id, q.version).await?;
    Ok(download("application/xml; charset=utf-8", &bank.title, "moodle.xml", exam_domain::export::moodle_xml(&bank)))
}

async fn results_csv(State(s): State<AppState>, exam: OwnedExam) -> Result<Response, AppError> {
    let id = exam.id.clone();
    let exam = s.platform.exam(&id)?;
    let subs = s.platform.submissions(&id).await?;
    Ok(download(
        "text/csv; charset=utf-8; header=present",
        &format!("{} results", exam.title),
        "csv",
        exam_domain::export::results_csv(&subs),
    ))
}

/// `?offset=&limit=`: a slice of the submissions (oldest first); without them, all.
#[derive(Deserialize)]
struct SliceQuery {
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

/// The stored submissions (compact records), the number of all of them in `x-total-count`.
async fn list_submissions(
    State(s): State<AppState>,
    exam: OwnedExam,
    Query(q): Query<SliceQuery>,
) -> Result<([(&'static str, String); 1], Json<Vec<SubmissionRecord>>), AppError> {
    let subs = s.platform.submissions(&exam.id).await?;
    let total = subs.len();
    let slice = subs.into_iter().skip(q.offset).take(q.limit.unwrap_or(usize::MAX)).collect();
    Ok(([("x-total-count", total.to_string())], Json(slice)))
}

/// The student view of the paper: for a student who joined the exam, or a teacher who may
/// work on it (401 for anyone else).
async fn paper(
    State(s): State<AppState>,
    Path(id): Path<String>,
    axum::Extension(who): axum::Extension<Identity>,
) -> Result<Json<ExamPaper>, AppError> {
    let id = parse_exam_id(&id)?;
    match who.teacher() {
        Some(t) => s.platform.identity().access.check(&t.id, &id).await?,
        None if who.student_in(&id).is_some() => {}
        None => return Err(AppError::new(StatusCode::UNAUTHORIZED, "Join this exam with its code first.")),
    }
    Ok(Json(s.platform.attempts().paper(&id).await?))
}

#[derive(Deserialize)]
struct SubmitBody {
    /// Ignored: the student is the one the session joined the exam as.
    #[serde(default, rename = "student")]
    _student: Option<serde_json::Value>,
    #[serde(default)]
    answers: BTreeMap<String, String>,
}

async fn submit(
    State(s): State<AppState>,
    ExamStudent { id, student }: ExamStudent,
    body: Result<Json<SubmitBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<exam_domain::StudentReport>, AppError> {
    let Json(body) = body.map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))?;
    let mut answers = BTreeMap::new();
    for (q, o) in body.answers {
        let q = QuestionId::parse(&q).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "answers", format!("{q:?}: {e}")))?;
        let o = OptionId::parse(&o).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "answers", format!("{o:?}: {e}")))?;
        answers.insert(q, o);
    }
    let done = s.platform.attempts().submit_answers(&id, student, answers).await?;
    // What the review policy lets the student see now (see `StudentReport`).
    Ok(Json(done.report))
}

#[derive(Serialize)]
struct Created {
    id: ExamId,
    title: String,
    status: exam_domain::ExamStatus,
}

/// Longest text field we accept in the upload form.
const MAX_FIELD: usize = 1024;
/// A PDF's `%PDF-` header must appear within its first 1024 bytes.
const PDF_SNIFF: usize = 1024;

/// `POST /api/v1/exams` (multipart: `file`, `mcq`, `options`, `true_false`, optional `title`).
///
/// The file is streamed to a spool file on disk while its size and PDF signature are checked,
/// so an oversize or non-PDF upload is refused without buffering it. Only when every field is
/// valid is the document handed to the store (whose notification starts generation).
async fn create_exam(
    State(s): State<AppState>,
    CurrentTeacher(teacher): CurrentTeacher,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let max = s.settings.max_upload_bytes;
    let too_large = || {
        AppError::field(StatusCode::PAYLOAD_TOO_LARGE, "file", format!("The file is larger than the {} MiB limit.", max / (1024 * 1024)))
    };
    if let Some(len) = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
        && len > max + 256 * 1024
    {
        return Err(too_large());
    }
    let mut multipart = multipart.map_err(not_multipart)?;
    let multipart_err = |e| upload_error(e, too_large);

    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    // The spooled file, its name, its size and whether it is a PDF (else a JSON question bank).
    let mut file: Option<(tempfile::TempPath, String, u64, bool)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_err)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("document.pdf").to_owned();
            let spool = tempfile::NamedTempFile::new_in(&s.settings.spool_dir)
                .map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Cannot buffer the upload: {e}")))?;
            let (std_file, path) = spool.into_parts();
            let mut out = tokio::fs::File::from_std(std_file);
            let mut size: u64 = 0;
            let mut head: Vec<u8> = Vec::with_capacity(PDF_SNIFF);
            while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
                size += chunk.len() as u64;
                if size > max {
                    return Err(too_large());
                }
                if head.len() < PDF_SNIFF {
                    let take = (PDF_SNIFF - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                    if head.len() >= PDF_SNIFF && !looks_like_pdf(&head) && !looks_like_json(&head) {
                        return Err(not_pdf());
                    }
                }
                tokio::io::AsyncWriteExt::write_all(&mut out, &chunk)
                    .await
                    .map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Cannot buffer the upload: {e}")))?;
            }
            tokio::io::AsyncWriteExt::flush(&mut out).await.map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
            if size == 0 {
                return Err(AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "file", "The file is empty."));
            }
            if !looks_like_pdf(&head) && !looks_like_json(&head) {
                return Err(not_pdf());
            }
            file = Some((path, file_name, size, looks_like_pdf(&head)));
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
                value.extend_from_slice(&chunk);
                if value.len() > MAX_FIELD {
                    return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{name}: too long")));
                }
            }
            fields.insert(name, String::from_utf8_lossy(&value).into_owned());
        }
    }
    let Some((path, file_name, size, is_pdf)) = file else {
        return Err(AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "file", "Choose a PDF file to upload."));
    };
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("text/html"));
    if !is_pdf {
        // A question bank: a draft exam straight away, no generation.
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Cannot read the upload: {e}")))?;
        drop(path);
        tracing::info!(file.name = %file_name, file.bytes = size, "question bank received");
        let summary = s.platform.authoring().import_exam(&teacher.id, fields.remove("title"), &file_name, &bytes).await?;
        if wants_html {
            return Ok(Redirect::to(&format!("/teacher/exams/{}", summary.id)).into_response());
        }
        return Ok((StatusCode::CREATED, Json(Created { id: summary.id, title: summary.title, status: summary.status })).into_response());
    }
    let params = GenerationParams::parse(
        fields.get("mcq").map(String::as_str),
        fields.get("options").map(String::as_str),
        fields.get("true_false").map(String::as_str),
    )
    .map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, e.field, e.to_string()))?;
    tracing::info!(file.name = %file_name, file.bytes = size, ?params, "upload received");
    let summary = s
        .platform
        .authoring()
        .create_exam(NewExam { owner: teacher.id.clone(), title: fields.remove("title"), file_name, params, file: path.to_path_buf() })
        .await?;
    drop(path);
    // A plain HTML form post (no JavaScript) lands on the exam's page instead of raw JSON.
    if wants_html {
        return Ok(Redirect::to(&format!("/teacher/exams/{}", summary.id)).into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(Created { id: summary.id, title: summary.title, status: summary.status })).into_response())
}

/// A request that is not `multipart/form-data`.
pub(crate) fn not_multipart(e: axum::extract::multipart::MultipartRejection) -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, format!("Expected a multipart/form-data upload: {}", e.body_text()))
}

/// A multipart stream that broke off: over the body limit (`too_large`), or malformed.
pub(crate) fn upload_error(e: axum::extract::multipart::MultipartError, too_large: impl Fn() -> AppError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        AppError::new(StatusCode::BAD_REQUEST, format!("The upload was interrupted or malformed: {}", e.body_text()))
    }
}

fn looks_like_pdf(head: &[u8]) -> bool {
    head.windows(5).any(|w| w == b"%PDF-")
}

/// A question bank in JSON: an object or array, after an optional byte-order mark and space.
fn looks_like_json(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    matches!(head.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

fn not_pdf() -> AppError {
    AppError::field(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "file",
        "This file is not a PDF (nor a question bank in JSON). Upload a .pdf document, or a .json question bank to import.",
    )
}
