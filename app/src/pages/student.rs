//! `/exams`: published exams, appearing live.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::live::use_live;
use crate::server_fns::{message, published_exams};

#[component]
pub fn ExamList() -> impl IntoView {
    let live = use_live();
    let exams = Resource::new(move || live.exams_version.get(), |_| published_exams());
    view! {
        <Title text="Exams to take" />
        <main class="page">
            <h1>"Exams to take"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || exams.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty" role="status">"No exam is published yet. This list updates by itself."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="exam-list" aria-label="Published exams">
                            {list.into_iter().map(|e| view! {
                                <li class="card exam-row" data-exam-id=e.id.to_string()>
                                    <div class="row-head">
                                        <a class="exam-title" href=format!("/exams/{}", e.id)>{e.title.clone()}</a>
                                        <a class="button primary" href=format!("/exams/{}", e.id)>"Take exam"<span class="sr-only">{format!(": {}", e.title)}</span></a>
                                    </div>
                                    <p class="meta">{crate::plural(e.question_count, "question", "questions")}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{message(&e)}</p> }.into_any(),
                })}
            </Transition>
        </main>
    }
}
