//! One module per page.

pub mod account;
pub mod auth;
pub mod charts;
pub mod exam_data;
pub mod home;
pub mod join;
pub mod join_code;
pub mod results;
pub mod review;
pub mod settings;
pub mod sharing;
pub mod sitting;
pub mod statistics;
pub mod student;
pub mod take;
pub mod teacher;

use exam_domain::{ExamStatus, Stage};
use leptos::prelude::*;

/// The pipeline as steps, the current one marked, in words (not only colour). `detail` continues
/// the current step's label ("Generating questions with gpt-4o-mini"); empty strings show nothing.
#[component]
pub fn StageSteps(stage: Stage, #[prop(optional)] error: Option<String>, #[prop(optional)] detail: Option<String>) -> impl IntoView {
    let error = error.filter(|e| !e.trim().is_empty());
    let detail = detail.filter(|d| !d.trim().is_empty());
    let steps = [Stage::Stored, Stage::Extracting, Stage::Generating, Stage::Ready];
    let reached = |s: Stage| match (stage, s) {
        (Stage::Published, _) => true,
        (Stage::Failed, _) => false,
        (cur, s) => cur == s || cur.supersedes(s),
    };
    view! {
        <ol class="stages" aria-label="Generation progress">
            {steps
                .into_iter()
                .map(|s| {
                    let done = reached(s);
                    let current = stage == s;
                    view! {
                        <li class:done=done class:current=current aria-current=current.then_some("step")>
                            <span class="mark" aria-hidden="true">{if done { "✓" } else { "·" }}</span>
                            {s.label()}
                            {detail.clone().filter(|_| current && s != Stage::Ready).map(|d| view! { <span class="stage-detail">" "{d}</span> })}
                            {(current && s != Stage::Ready).then_some(view! { <span class="sr-only">" (in progress)"</span> })}
                        </li>
                    }
                })
                .collect_view()}
            {(stage == Stage::Failed).then(|| view! {
                <li class="failed"><span class="mark" aria-hidden="true">"✗"</span>"Failed"</li>
            })}
        </ol>
        {error.map(|e| view! { <p class="error" role="alert"><strong>"Generation failed: "</strong>{e}</p> })}
    }
}

/// A status word with a matching style.
#[component]
pub fn StatusPill(status: ExamStatus) -> impl IntoView {
    let (class, text) = match status {
        ExamStatus::Generating => ("pill generating", "Generating"),
        ExamStatus::Draft => ("pill draft", "Draft"),
        ExamStatus::Published => ("pill published", "Published"),
        ExamStatus::Failed => ("pill failed", "Failed"),
    };
    view! { <span class=class>{text}</span> }
}
