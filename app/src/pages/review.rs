//! `/teacher/exams/:id`: live generation stages, then the review: every question with its
//! answer, source and validator flags; edit, delete, reorder and regenerate questions; publish
//! (a new version when the exam is already published); export; version history.
//!
//! Every control is a form (`ActionForm`): it works before the WASM loads (the server function
//! answers the post and redirects back here) and with the keyboard. Once hydrated, each card
//! owns its actions, so an error shows next to the question it concerns and the edit form keeps
//! what the teacher typed; after a move, focus returns to the button that was used.

use exam_domain::{ExamStatus, Question, QuestionKind, TeacherExam};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::exam_data::ExamDataCard;
use super::join_code::JoinCodeCard;
use super::sharing::SharingCard;
use super::{StageSteps, StatusPill};
use crate::live::use_live;
use crate::server_fns::{
    DeleteQuestion, DiscardDraft, MoveQuestion, PublishExam, RegenerateQuestion, SaveQuestion, load_teacher_exam, message,
};

/// Shared by the cards: bumped after every successful change, plus what to say and focus.
#[derive(Clone, Copy)]
struct ReviewCtx {
    changed: RwSignal<u64>,
    /// A sentence for the polite live region ("Question 3 moved up.").
    said: RwSignal<String>,
    /// The id of the element to focus once the list is rendered again.
    focus: RwSignal<Option<String>>,
}

#[component]
pub fn Review() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let live = use_live();
    let publish = ServerAction::<PublishExam>::new();
    let discard = ServerAction::<DiscardDraft>::new();
    let ctx = ReviewCtx { changed: RwSignal::new(0), said: RwSignal::new(String::new()), focus: RwSignal::new(None) };
    // Only frames about this exam's status refetch it: a submission (to this exam or any other)
    // must not re-render the cards and wipe what the teacher is typing.
    let status = Memo::new(move |_| live.status_frames(&id()));
    let exam = Resource::new(
        move || (id(), status.get(), publish.version().get(), discard.version().get(), ctx.changed.get()),
        |(id, ..)| load_teacher_exam(id),
    );
    view! {
        <main class="page">
            <p class="crumbs"><a href="/teacher">"← All exams"</a></p>
            <p class="sr-only" role="status" aria-live="polite">{move || ctx.said.get()}</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || exam.get().map(|r| match r {
                    Ok(t) => view! { <ReviewBody exam=t publish discard ctx /> }.into_any(),
                    Err(e) => view! { <h1>"Exam not available"</h1><p class="error" role="alert">{message(&e)}</p> }.into_any(),
                })}
            </Transition>
        </main>
    }
}

#[component]
fn ReviewBody(exam: TeacherExam, publish: ServerAction<PublishExam>, discard: ServerAction<DiscardDraft>, ctx: ReviewCtx) -> impl IntoView {
    let s = exam.exam.clone();
    let id = s.id.to_string();
    let results = format!("/teacher/exams/{id}/results");
    let student_link = format!("/exams/{id}");
    let publish_error = move || publish.value().get().and_then(|r| r.err()).map(|e| message(&e));
    let discard_error = move || discard.value().get().and_then(|r| r.err()).map(|e| message(&e));
    // Return focus after the list is rendered again (a move, a regeneration).
    Effect::new(move |_| {
        if let Some(target) = ctx.focus.get_untracked() {
            ctx.focus.set(None);
            #[cfg(feature = "hydrate")]
            if let Some(el) = document().get_element_by_id(&target) {
                use wasm_bindgen::JsCast;
                if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = target;
        }
    });
    let published = exam.published_version();
    let n_questions = exam.questions.len();
    let revision = exam.revision;
    let can_regenerate = exam.can_regenerate;
    let n_versions = exam.versions.len();
    let cards = StoredValue::new(exam.questions.clone());
    let card_exam_id = StoredValue::new(id.clone());
    let join_code = exam.join_code.clone();
    view! {
        <Title text=crate::raw_text(&format!("{} · Review", s.title)) />
        <div class="title-row">
            <h1>{s.title.clone()}</h1>
            <StatusPill status=s.status />
            {published.map(|v| view! { <span class="version-badge">{format!("Version {v}")}</span> })}
        </div>
        {match s.status {
            ExamStatus::Generating | ExamStatus::Failed => view! {
                <section class="card" aria-labelledby="progress-h">
                    <h2 id="progress-h">"Progress"</h2>
                    <StageSteps stage=s.stage error=s.error.clone().unwrap_or_default() detail=s.stage_detail.clone().unwrap_or_default() />
                    {(s.status == ExamStatus::Failed).then(|| view! {
                        <p><a href="/teacher">"Upload another document"</a></p>
                    })}
                </section>
            }.into_any(),
            ExamStatus::Draft | ExamStatus::Published => {
                let draft = exam.draft.clone();
                let pending_changes = draft.is_some();
                let publish_label = match (published, pending_changes) {
                    (None, _) => "Publish exam".to_owned(),
                    (Some(v), true) => format!("Publish version {}", v + 1),
                    (Some(_), false) => String::new(),
                };
                let state_line = match (published, &draft) {
                    (None, _) => "Draft: students cannot see it until you publish.".to_owned(),
                    (Some(v), Some(d)) => format!(
                        "Unpublished changes based on version {}. Students still get version {v} until you publish.",
                        d.based_on.unwrap_or(v)
                    ),
                    (Some(v), None) => format!("Students get version {v}. Editing a question starts version {} as a draft.", v + 1),
                };
                let (id_publish, id_discard) = (id.clone(), id.clone());
                let gift = format!("/api/v1/exams/{id}/export.gift");
                let xml = format!("/api/v1/exams/{id}/export.xml");
                view! {
                    <section class="card summary" aria-label="Summary">
                        <p>
                            {crate::plural(n_questions as u64, "question", "questions")}
                            {published.map(|_| view! {
                                " · Students join with the code below, at " <a href=student_link.clone()>{student_link.clone()}</a>
                            })}
                        </p>
                        <p class="state-line">{state_line}</p>
                        {(!s.notes.is_empty()).then(|| view! {
                            <ul class="notes" aria-label="Notes from the generator">
                                {s.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                            </ul>
                        })}
                        <div class="actions">
                            {pending_changes.then(|| view! {
                                <ActionForm action=publish>
                                    <input type="hidden" name="id" value=id_publish />
                                    <button type="submit" class="primary" disabled=move || publish.pending().get()>
                                        {move || if publish.pending().get() { "Publishing…".to_owned() } else { publish_label.clone() }}
                                    </button>
                                </ActionForm>
                            })}
                            {(pending_changes && published.is_some()).then(|| view! {
                                <ActionForm action=discard>
                                    <input type="hidden" name="id" value=id_discard />
                                    <button type="submit" disabled=move || discard.pending().get()>"Discard changes"</button>
                                </ActionForm>
                            })}
                            <a class="button" href=results>{format!("Results ({})", s.submissions)}</a>
                            <nav class="exam-links" aria-label="How the exam is sat">
                                <a class="button" href=format!("/teacher/exams/{id}/settings")>"Settings"</a>
                                <a class="button" href=format!("/teacher/exams/{id}/sitting")>"Sitting"</a>
                                <a class="button" href=format!("/teacher/exams/{id}/statistics")>"Statistics"</a>
                            </nav>
                        </div>
                        <p class="exports">
                            "Export for Moodle: "
                            <a href=gift download>{if pending_changes { "GIFT (this draft)" } else { "GIFT" }}</a>
                            " · "
                            <a href=xml download>{if pending_changes { "Moodle XML (this draft)" } else { "Moodle XML" }}</a>
                        </p>
                        {move || publish_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        {move || discard_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    </section>
                    {join_code.clone().map(|code| view! { <JoinCodeCard exam_id=id.clone() code published=published.is_some() /> })}
                    <SharingCard exam_id=id.clone() />
                    <ol class="questions" id="questions" tabindex="-1" aria-label="Questions">
                        // Keyed by state, not by position: after any change every card is new DOM.
                        // Rebuilding in place would keep what the browser holds for form fields
                        // (typed text, checked radios, open disclosures) under the new question.
                        <For
                            each=move || cards.get_value().into_iter().enumerate()
                            key=move |(i, q)| (q.id.clone(), revision, n_versions, *i)
                            children=move |(i, q)| view! {
                                <QuestionCard q position=i count=n_questions exam_id=card_exam_id.get_value() revision can_regenerate ctx />
                            }
                        />
                    </ol>
                    {(!exam.versions.is_empty()).then(|| view! {
                        <section class="card versions" aria-labelledby="versions-h">
                            <h2 id="versions-h">"Published versions"</h2>
                            <p class="hint">"Each submission is graded against the version its attempt was started on."</p>
                            <ul>
                                {exam.versions.iter().rev().map(|v| {
                                    let gift = format!("/api/v1/exams/{}/export.gift?version={}", id, v.version);
                                    let xml = format!("/api/v1/exams/{}/export.xml?version={}", id, v.version);
                                    view! {
                                        <li>
                                            <strong>{format!("Version {}", v.version)}</strong>
                                            {format!(" · published {} · {}", crate::short_time(&v.published_at), crate::plural(v.question_count, "question", "questions"))}
                                            " · "<a href=gift download aria-label=format!("Version {} as GIFT", v.version)>"GIFT"</a>
                                            " · "<a href=xml download aria-label=format!("Version {} as Moodle XML", v.version)>"XML"</a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    })}
                    // Last on the page: downloading everything, and deleting it for good.
                    <ExamDataCard exam_id=id.clone() title=s.title.clone() submissions=s.submissions />
                }.into_any()
            }
        }}
    }
}

/// Below this confidence a generated question is shown among the ones to check first.
const WEAK_CONFIDENCE: f32 = 0.5;

/// Whether a question deserves a look before the others: flagged by the validator, or
/// generated with low confidence. Weak cards are marked, not moved: the list is the exam's order,
/// which the teacher edits with the move buttons.
fn is_weak(q: &Question) -> bool {
    !q.flags.is_empty() || q.confidence.is_some_and(|c| c < WEAK_CONFIDENCE)
}

/// Reports a card action's outcome: on success bump the list, say what happened and focus
/// `focus`; returns the error message to show in the card.
fn outcome(
    value: impl Get<Value = Option<Result<(), ServerFnError>>> + Clone + Send + Sync + 'static,
    ctx: ReviewCtx,
    said: impl Fn() -> String + Send + Sync + 'static,
    focus: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> Signal<Option<String>> {
    let v = value.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = v.get() {
            ctx.said.set(said());
            ctx.focus.set(focus());
            ctx.changed.update(|n| *n += 1);
        }
    });
    Signal::derive(move || value.get().and_then(|r| r.err()).map(|e| message(&e)))
}

#[component]
fn QuestionCard(
    q: Question,
    position: usize,
    count: usize,
    exam_id: String,
    revision: u64,
    can_regenerate: bool,
    ctx: ReviewCtx,
) -> impl IntoView {
    let number = position + 1;
    let qid = q.id.to_string();
    let kind = match q.kind {
        QuestionKind::MultipleChoice => "Multiple choice",
        QuestionKind::TrueFalse => "True / false",
    };
    let save = ServerAction::<SaveQuestion>::new();
    let delete = ServerAction::<DeleteQuestion>::new();
    let up = ServerAction::<MoveQuestion>::new();
    let down = ServerAction::<MoveQuestion>::new();
    let regenerate = ServerAction::<RegenerateQuestion>::new();
    let up_id = format!("up-{qid}");
    let down_id = format!("down-{qid}");
    let regen_id = format!("regenerate-{qid}");
    let save_error = outcome(save.value(), ctx, move || format!("Question {number} saved."), || None);
    let delete_error = outcome(delete.value(), ctx, move || format!("Question {number} deleted."), || Some("questions".to_owned()));
    // After a move, focus stays on the same button of the moved card (the natural next key
    // press), or on the other one when the card reached the top or the bottom.
    let up_error = {
        let f = if position == 1 { down_id.clone() } else { up_id.clone() };
        outcome(up.value(), ctx, move || format!("Question {number} moved up to position {}.", number - 1), move || Some(f.clone()))
    };
    let down_error = {
        let f = if position + 2 == count { up_id.clone() } else { down_id.clone() };
        outcome(down.value(), ctx, move || format!("Question {number} moved down to position {}.", number + 1), move || Some(f.clone()))
    };
    let regen_error = outcome(
        regenerate.value(),
        ctx,
        move || format!("Question {number} was replaced by a new question."),
        move || Some(format!("card-{number}")),
    );
    let errors = move || {
        [save_error.get(), delete_error.get(), up_error.get(), down_error.get(), regen_error.get()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
    };
    let heading_id = format!("card-{number}");
    let correct = q.correct_option.clone();
    let flags = q.flags.clone();
    let weak = is_weak(&q);
    let confidence = q.confidence.map(|c| format!("Confidence {:.0} %", c * 100.0));
    let rationale = q.rationale.clone();
    // The fields every card form sends (a `Copy` closure: each form's children own one).
    let ids = StoredValue::new((exam_id, qid.clone()));
    let hidden = move || {
        let (exam_id, qid) = ids.get_value();
        view! {
            <input type="hidden" name="id" value=exam_id />
            <input type="hidden" name="question_id" value=qid />
            <input type="hidden" name="revision" value=revision.to_string() />
        }
    };
    view! {
        <li class="card question" class:flagged=!flags.is_empty() class:weak=weak data-question-id=qid.clone() aria-labelledby=heading_id.clone()>
            <h2 class="q-head" id=heading_id.clone() tabindex="-1">
                <span class="q-number">{format!("Question {number}")}</span>
                " "
                <span class="kind">{kind}</span>
                {confidence.map(|c| view! { " " <span class="confidence">{c}</span> })}
            </h2>
            {rationale.map(|r| view! { <p class="rationale"><strong>"Why this question: "</strong>{r}</p> })}
            {(!flags.is_empty()).then(|| view! {
                <div class="flags" role="note" aria-label="Flagged by the validator">
                    <p><strong>"⚠ Check this question:"</strong></p>
                    <ul>{flags.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
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
            {q.explanation.clone().map(|e| view! { <p class="explanation"><strong>"Explanation: "</strong>{e}</p> })}
            {q.source.clone().map(|s| view! {
                <blockquote class="source">
                    <span class="page">{format!("Page {}", s.page)}</span>
                    " “" {s.quote} "”"
                </blockquote>
            })}
            <div class="card-actions">
                <ActionForm action=up>
                    {hidden()}
                    <input type="hidden" name="to" value=position.saturating_sub(1).to_string() />
                    <button type="submit" id=up_id.clone() disabled=move || position == 0 || up.pending().get()
                        aria-label=format!("Move up question {number}")><span aria-hidden="true">"↑ "</span>"Move up"</button>
                </ActionForm>
                <ActionForm action=down>
                    {hidden()}
                    <input type="hidden" name="to" value=(position + 1).to_string() />
                    <button type="submit" id=down_id.clone() disabled=move || { position + 1 >= count || down.pending().get() }
                        aria-label=format!("Move down question {number}")><span aria-hidden="true">"↓ "</span>"Move down"</button>
                </ActionForm>
                {can_regenerate.then(|| view! {
                    <ActionForm action=regenerate>
                        {hidden()}
                        <button type="submit" id=regen_id.clone() disabled=move || regenerate.pending().get()
                            aria-label=format!("Regenerate question {number}")>
                            {move || if regenerate.pending().get() { "Regenerating…" } else { "Regenerate" }}
                        </button>
                    </ActionForm>
                })}
            </div>
            <details class="edit">
                <summary>{format!("Edit question {number}")}</summary>
                <EditForm q=q.clone() number save hidden />
                <ActionForm action=delete attr:class="delete-form">
                    {hidden()}
                    <button type="submit" class="danger" disabled=move || delete.pending().get()>{format!("Delete question {number}")}</button>
                </ActionForm>
            </details>
            {move || {
                let e = errors();
                (!e.is_empty()).then(|| view! { <p class="error" role="alert">{e.join(" ")}</p> })
            }}
        </li>
    }
}

/// Question text, option slots (up to 7 for multiple choice; empty ones are dropped), the
/// correct answer as a radio group, and an optional explanation.
#[component]
fn EditForm<H, V>(q: Question, number: usize, save: ServerAction<SaveQuestion>, hidden: H) -> impl IntoView
where
    H: Fn() -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let qid = q.id.to_string();
    let field = move |name: &str| format!("edit-{qid}-{name}");
    let correct_index = q.options.iter().position(|o| o.id == q.correct_option).unwrap_or(0);
    let slots: Vec<(usize, String)> = match q.kind {
        QuestionKind::TrueFalse => q.options.iter().map(|o| o.text.clone()).enumerate().collect(),
        QuestionKind::MultipleChoice => (0..7).map(|i| (i, q.options.get(i).map(|o| o.text.clone()).unwrap_or_default())).collect(),
    };
    let is_mcq = q.kind == QuestionKind::MultipleChoice;
    view! {
        <ActionForm action=save attr:class="edit-form">
            {hidden()}
            <div class="field">
                <label for=field("text")>{format!("Question {number} text")}</label>
                <textarea id=field("text") name="question" rows="3" required maxlength="2000">{crate::raw_text(&q.question)}</textarea>
            </div>
            <fieldset class="option-slots">
                <legend>{if is_mcq { "Options (2 to 7; leave a box empty to remove it) and the correct answer" } else { "Correct answer" }}</legend>
                {slots.into_iter().map(|(i, text)| {
                    let radio = field(&format!("correct-{i}"));
                    let input = field(&format!("option-{i}"));
                    view! {
                        <div class="slot">
                            <input type="radio" name="correct" value=i.to_string() id=radio.clone() checked=i == correct_index
                                aria-label=if is_mcq { format!("Option {} is correct", i + 1) } else { format!("{text} is correct") } />
                            {if is_mcq {
                                view! {
                                    <label class="sr-only" for=input.clone()>{format!("Option {}", i + 1)}</label>
                                    <input type="text" id=input name=format!("options[{i}]") value=text maxlength="2000" />
                                }.into_any()
                            } else {
                                view! { <label for=radio>{text}</label> }.into_any()
                            }}
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="field">
                <label for=field("explanation")>"Explanation " <span class="optional">"(optional, shown to students after they submit)"</span></label>
                <textarea id=field("explanation") name="explanation" rows="2" maxlength="2000">{crate::raw_text(q.explanation.as_deref().unwrap_or_default())}</textarea>
            </div>
            <div class="actions">
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…".to_owned() } else { format!("Save question {number}") }}
                </button>
            </div>
        </ActionForm>
    }
}
