//! `/exams`: the exams this browser joined (their status updates live), and the join form.

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::Title;

use super::join::JoinForm;
use crate::live::use_live;
use crate::server_fns::{joined_exams, message};

#[component]
pub fn ExamList() -> impl IntoView {
    let live = use_live();
    let exams = Resource::new(move || live.exams_version.get(), |_| joined_exams());
    view! {
        <Title text="Your exams" />
        <main class="page">
            <h1>"Your exams"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || exams.get().map(|r| match r {
                    Ok(list) if list.is_empty() => EitherOf3::A(view! {
                        <p class="empty" role="status">"You have not joined an exam in this browser yet. Enter the code your teacher gives you below."</p>
                    }),
                    Ok(list) => EitherOf3::B(view! {
                        <ul class="exam-list" aria-label="Exams you joined">
                            {list.into_iter().map(|e| view! {
                                <li class="card exam-row" data-exam-id=e.id.to_string()>
                                    <div class="row-head">
                                        <a class="exam-title" href=format!("/exams/{}", e.id)>{e.title.clone()}</a>
                                        <a class="button primary" href=format!("/exams/{}", e.id)>"Open"<span class="sr-only">{format!(": {}", e.title)}</span></a>
                                    </div>
                                    <p class="meta">{crate::plural(e.question_count, "question", "questions")}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }),
                    Err(e) => EitherOf3::C(view! { <p class="error" role="alert">{message(&e)}</p> }),
                })}
            </Transition>
            <section class="join-section" aria-labelledby="join-h">
                <h2 id="join-h">"Join an exam"</h2>
                <JoinForm exam=None sign_in=false needs_sign_in=false />
            </section>
        </main>
    }
}
