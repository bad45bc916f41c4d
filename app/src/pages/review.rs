//! `/teacher/exams/:id`: live generation stages, then every question with its answer and
//! source, and the publish button.

use exam_domain::{ExamStatus, Question, QuestionKind, TeacherExam};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{StageSteps, StatusPill};
use crate::live::use_live;
use crate::server_fns::{PublishExam, load_teacher_exam, message};

#[component]
pub fn Review() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let live = use_live();
    let publish = ServerAction::<PublishExam>::new();
    let exam = Resource::new(move || (id(), live.exams_version.get(), publish.version().get()), |(id, _, _)| load_teacher_exam(id));
    view! {
        <main class="page">
            <p class="crumbs"><a href="/teacher">"← All exams"</a></p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || exam.get().map(|r| match r {
                    Ok(t) => view! { <ReviewBody exam=t publish=publish /> }.into_any(),
                    Err(e) => view! { <h1>"Exam not available"</h1><p class="error" role="alert">{message(&e)}</p> }.into_any(),
                })}
            </Transition>
        </main>
    }
}

#[component]
fn ReviewBody(exam: TeacherExam, publish: ServerAction<PublishExam>) -> impl IntoView {
    let s = exam.exam;
    let id = s.id.to_string();
    let results = format!("/teacher/exams/{id}/results");
    let student_link = format!("/exams/{id}");
    let publish_error = move || publish.value().get().and_then(|r| r.err()).map(|e| message(&e));
    view! {
        <Title text=format!("{} · Review", s.title) />
        <div class="title-row">
            <h1>{s.title.clone()}</h1>
            <StatusPill status=s.status />
        </div>
        {match s.status {
            ExamStatus::Generating | ExamStatus::Failed => view! {
                <section class="card" aria-labelledby="progress-h">
                    <h2 id="progress-h">"Progress"</h2>
                    <StageSteps stage=s.stage error=s.error.clone().unwrap_or_default() />
                    {(s.status == ExamStatus::Failed).then(|| view! {
                        <p><a href="/teacher">"Upload another document"</a></p>
                    })}
                </section>
            }.into_any(),
            ExamStatus::Draft | ExamStatus::Published => view! {
                <section class="card summary" aria-label="Summary">
                    <p>{crate::plural(exam.questions.len() as u64, "question", "questions")}
                        {(s.status == ExamStatus::Published).then(|| view! {
                            " · Published: students can take it at " <a href=student_link.clone()>{student_link.clone()}</a>
                        })}
                    </p>
                    {(!s.notes.is_empty()).then(|| view! {
                        <ul class="notes" aria-label="Notes from the generator">
                            {s.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                        </ul>
                    })}
                    <div class="actions">
                        {(s.status == ExamStatus::Draft).then(|| view! {
                            <ActionForm action=publish>
                                <input type="hidden" name="id" value=id.clone() />
                                <button type="submit" class="primary" disabled=move || publish.pending().get()>
                                    {move || if publish.pending().get() { "Publishing…" } else { "Publish exam" }}
                                </button>
                            </ActionForm>
                        })}
                        <a class="button" href=results>{format!("Results ({})", s.submissions)}</a>
                    </div>
                    {move || publish_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                </section>
                <ol class="questions">
                    {exam.questions.into_iter().map(|q| view! { <QuestionCard q /> }).collect_view()}
                </ol>
            }.into_any(),
        }}
    }
}

#[component]
fn QuestionCard(q: Question) -> impl IntoView {
    let kind = match q.kind {
        QuestionKind::MultipleChoice => "Multiple choice",
        QuestionKind::TrueFalse => "True / false",
    };
    let correct = q.correct_option.clone();
    view! {
        <li class="card question" data-question-id=q.id.to_string()>
            <p class="kind">{kind}</p>
            <p class="prompt">{q.question.clone()}</p>
            <ul class="options review">
                {q.options.iter().map(|o| {
                    let is_correct = o.id == correct;
                    view! {
                        <li class:correct=is_correct>
                            {o.text.clone()}
                            {is_correct.then_some(view! { <strong class="tag">" ✓ correct answer"</strong> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {q.source.map(|s| view! {
                <blockquote class="source">
                    <span class="page">{format!("Page {}", s.page)}</span>
                    " “" {s.quote} "”"
                </blockquote>
            })}
        </li>
    }
}
